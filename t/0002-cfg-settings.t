#!/bin/sh
exec "${AUTODEPLOY_BUILD:-$(dirname "$0")/../build}/t/unit/settings" "$(dirname "$0")/../share/env.local.example"
