#!/bin/sh
# bench/baseline-trigger.sh CHECKOUT...: the shell way check-drift replaces,
# written for the benchmarks after what the cron-era trigger script did:
# one checkout after the other, `git fetch --prune --all`, then
# `git rev-list --count` both ways against the upstream, and compare.
# Exit status as check-drift's: 0 nothing due, 1 a deploy is due,
# 69 a fetch failed and nothing else was due.
# (It does less than check-drift: no clean-tree check, no conditional
# trigger, no parallelism, no JSON.)
due=0
failed=0
for repo in "$@"; do
	if ! git -C "$repo" fetch --prune --all --quiet; then
		echo "$repo: fetch failed" >&2
		failed=1
		continue
	fi
	behind=$(git -C "$repo" rev-list --count 'HEAD..@{upstream}') || { failed=1; continue; }
	ahead=$(git -C "$repo" rev-list --count '@{upstream}..HEAD') || { failed=1; continue; }
	if [ "$behind" -gt 0 ] && [ "$ahead" -eq 0 ]; then
		echo "$repo: $behind behind: deploy"
		due=1
	elif [ "$behind" -gt 0 ]; then
		echo "$repo: $behind behind, $ahead ahead: diverged"
	else
		echo "$repo: up to date"
	fi
done
[ "$due" -eq 1 ] && exit 1
[ "$failed" -eq 1 ] && exit 69
exit 0
