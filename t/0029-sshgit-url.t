#!/bin/sh
exec "${AUTODEPLOY_BUILD:-$(dirname "$0")/../build}/t/unit/sshgit"
