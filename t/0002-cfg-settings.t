#!/bin/sh
src=$(dirname "$0")/..
exec "${AUTODEPLOY_BUILD:-$src/build}/t/unit/settings" "$src/share/env.local.example" "$src/share/man/man5/env.local.5"
