#!/bin/sh
# bench/baseline-deploy.sh STOP START CHECKOUT...: the shell way run-deploy
# replaces, after the cron-era deploy script: fetch every checkout, stop
# the stack, fast-forward every checkout, start the stack (STOP and START
# run with /bin/sh -c in the first checkout, as the compose commands did).
# No journal, no rollback, no lock, no health check loop.
set -e
stop=$1 start=$2
shift 2
for repo in "$@"; do
	git -C "$repo" fetch --prune --all --quiet
done
(cd "$1" && /bin/sh -c "$stop")
for repo in "$@"; do
	git -C "$repo" merge --ff-only --quiet '@{upstream}'
done
(cd "$1" && /bin/sh -c "$start")
