#!/bin/sh
# bench/baseline-hook.sh: a post-receive hook in shell, for comparison with
# hooks/post-receive: reads the trigger file and the watched ref from the
# repository's git config, and touches the trigger for a matching update.
set -f
trigger=$(git config autodeploy.trigger) || exit 78
refs=$(git config autodeploy.refs) || exit 78
while read -r old new ref; do
	case $new in 0000000000000000000000000000000000000000) continue ;; esac
	for want in $refs; do
		case $ref in $want)
			echo "$ref $new" >"$trigger"
			echo "autodeploy: deploy of ${ref#refs/heads/} queued" >&2
			;;
		esac
	done
done
