#!/bin/bash
# rotate-logs against what others do to the logs meanwhile, on real ext4
# images (loop-mounted): a log truncated and rewritten between the copy and
# the cut, ext4's bigalloc clusters, a writer without O_APPEND (holes),
# owners, future-dated and planted rotated names, a run killed half-way,
# names that repeat when DST ends, a held lock.
. "$(dirname "$0")/lib.sh"

today=$(date +%Y%m%d)

# use_logs DIR [KEY=VALUE...]: env.local rotating DIR (emptied).
use_logs() {
	LOGS=$1
	shift
	rm -rf "$LOGS" && mkdir -p "$LOGS" "$TRASH/state" &&
	{
		echo "AUTODEPLOY_LOG_DIR=$LOGS"
		echo "AUTODEPLOY_STATE_DIR=$TRASH/state"
		for kv in "$@"; do echo "$kv"; done
	} >"$TRASH/env.local"
}

# stopped PID: wait (at most 20 s) until PID is stopped by a signal.
stopped() {
	i=0
	while [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" != T ]; do
		i=$((i + 1))
		[ $i -lt 400 ] || { echo "error: pid $1 never stopped" >&2; return 1; }
		sleep 0.05
	done
}

# rewrite_during_cut CONTENT-COMMAND: rotate app.log, and while
# rotate-logs stands between its copy and its cut, truncate the log and
# write CONTENT-COMMAND's output into it.
rewrite_during_cut() {
	AUTODEPLOY_TEST_STOP_AT=before-cut rotate-logs --config "$TRASH/env.local" --force 2>err &
	pid=$!
	stopped $pid && "$@" >"$LOGS/app.log" && kill -CONT $pid && wait $pid
}

EXT4=$TRASH/ext4 BIG=$TRASH/bigalloc
if loop_fs ext4 "$EXT4" -F 2>why; then
	HAVE_EXT4=1
else
	HAVE_EXT4=
	test_skip_or_fail 'ext4 image for the rotation tests' "$(cat why)"
fi

if [ -n "$HAVE_EXT4" ]; then
	# left_whole CONTENT-COMMAND...: rewriting app.log with that content
	# during the cut leaves it exactly so, with a warning and no rotated file.
	left_whole() {
		use_logs "$EXT4/logs" &&
		seq 1 100000 >"$LOGS/app.log" &&
		rewrite_during_cut "$@" &&
		test_grep "truncated or rewritten while it was being rotated" err &&
		"$@" >want && cmp want "$LOGS/app.log" &&
		test -z "$(ls -A "$LOGS" | grep -v "^app.log$" | grep -v "^rotate-logs.log")"
	}

	test_expect_success 'a log truncated and rewritten shorter before the cut is left whole' '
		left_whole seq 1 10
	'

	test_expect_success 'a log rewritten longer than the copied prefix before the cut is left whole' '
		left_whole seq 500001 700000
	'

	test_expect_success 'a writer without O_APPEND: the hole after a cut is not copied as NULs' '
		use_logs "$EXT4/logs" &&
		exec 3>"$LOGS/app.log" &&
		seq 1 100000 >&3 &&
		rotate-logs --config "$TRASH/env.local" --force 2>err &&
		# The writer still writes at its old offset: a hole the size of
		# the cut opens in the live file.
		seq 100001 200000 >&3 &&
		exec 3>&- &&
		rotate-logs --config "$TRASH/env.local" --force 2>>err &&
		test_grep ! "may be lost" err &&
		# the plain-date name is the first of its day
		zcat "$LOGS/app.log-$today.gz" $(ls "$LOGS" | grep "^app.log-$today-" | sed "s|^|$LOGS/|") >rotated &&
		test $(ls "$LOGS" | grep -c "^app.log-") = 2 &&
		nuls=$(tr -cd "\000" <rotated | wc -c) &&
		echo "# NULs in the rotated files: $nuls" &&
		# only the zeros that share a block with data remain
		test "$nuls" -lt 8192 &&
		cat rotated "$LOGS/app.log" | tr -d "\000" >got &&
		seq 1 200000 >want && cmp want got
	'

	test_expect_success 'rotated files keep the log'\''s owner and mode (compressed or not)' '
		use_logs "$EXT4/logs" &&
		seq 1 100000 >"$LOGS/app.log" && seq 1 100000 >"$LOGS/plain.log" &&
		chown nobody:nogroup "$LOGS/app.log" "$LOGS/plain.log" &&
		chmod 0640 "$LOGS/app.log" && chmod 0604 "$LOGS/plain.log" &&
		rotate-logs --config "$TRASH/env.local" --force 2>err &&
		test "$(stat -c "%U:%G %a" "$LOGS/app.log-$today.gz")" = "nobody:nogroup 640" &&
		use_logs "$EXT4/logs" AUTODEPLOY_ROTATE_COMPRESS=no &&
		seq 1 100000 >"$LOGS/plain.log" &&
		chown nobody:nogroup "$LOGS/plain.log" && chmod 0604 "$LOGS/plain.log" &&
		rotate-logs --config "$TRASH/env.local" --force 2>err &&
		test "$(stat -c "%U:%G %a" "$LOGS/plain.log-$today")" = "nobody:nogroup 604"
	'
fi

if loop_fs ext4 "$BIG" -F -O bigalloc -C 65536 2>why; then
	test_expect_success 'ext4 with 64 KiB clusters (bigalloc): cut at a cluster boundary, nothing lost' '
		use_logs "$BIG/logs" &&
		seq 1 100000 >orig && cp orig "$LOGS/app.log" &&
		rotate-logs --config "$TRASH/env.local" --force 2>err &&
		test_grep ! "may be lost" err &&
		zcat "$LOGS/app.log-$today.gz" >rotated &&
		test $(($(stat -c %s rotated) % 65536)) = 0 &&
		cat rotated "$LOGS/app.log" >got && cmp orig got
	'
else
	test_skip_or_fail 'ext4 with 64 KiB clusters (bigalloc): cut at a cluster boundary, nothing lost' \
		"$(cat why)"
fi

# The rest does not need a collapsing file system.
test_expect_success 'a rotated name dated in the future: the log is due, and that name counts as the oldest' '
	use_logs "$TRASH/logs" AUTODEPLOY_ROTATE_KEEP=1 &&
	echo old | gzip >"$LOGS/app.log-20990101.gz" &&
	seq 1 120000 >"$LOGS/app.log" &&
	rotate-logs --config "$TRASH/env.local" 2>err &&
	test_grep "app.log-20990101.gz. is dated in the future" err &&
	test -f "$LOGS/app.log-$today.gz" &&
	test ! -e "$LOGS/app.log-20990101.gz"
'

test_expect_success 'a planted symlink with a rotated name is skipped with a warning, its target untouched' '
	use_logs "$TRASH/logs" AUTODEPLOY_ROTATE_KEEP=1 &&
	echo secret >victim && cp victim victim.orig &&
	ln -s "$TRASH/victim" "$LOGS/app.log-20200101" &&
	ln -s "$TRASH/victim" "$LOGS/app.log-20200102.gz" &&
	seq 1 10000 >"$LOGS/app.log" &&
	rotate-logs --config "$TRASH/env.local" --force 2>err &&
	test_grep "skipping .app.log-20200101.: a rotated name that is not a regular file" err &&
	test -L "$LOGS/app.log-20200101" && test -L "$LOGS/app.log-20200102.gz" &&
	cmp victim.orig victim && test ! -e victim.gz &&
	test -f "$LOGS/app.log-$today.gz"
'

test_expect_success 'temporary copies left by a killed run are removed under the lock; other hidden files stay' '
	use_logs "$TRASH/logs" &&
	head -c 100000 /dev/zero >"$LOGS/.app.log-20200101.1234abcd.tmp" &&
	head -c 100000 /dev/zero >"$LOGS/.app.log-20200101.gz.deadbeef.tmp" &&
	echo mine >"$LOGS/.notes.tmp" && echo mine >"$LOGS/.app.log.deadbeef.tmp" &&
	echo mine >"$LOGS/.app.log-20200101.nothex00.tmp" &&
	rotate-logs --config "$TRASH/env.local" --dry-run >out 2>err &&
	test_grep "would remove .\.app.log-20200101.1234abcd.tmp." out &&
	test -f "$LOGS/.app.log-20200101.1234abcd.tmp" &&
	rotate-logs --config "$TRASH/env.local" 2>err &&
	test_grep "removed .\.app.log-20200101.gz.deadbeef.tmp. (100000 bytes), left by an interrupted run" err &&
	ls -A "$LOGS" | grep -v "^rotate-logs.log" | sort >got &&
	printf "%s\n" .app.log-20200101.nothex00.tmp .app.log.deadbeef.tmp .notes.tmp >want &&
	test_cmp want got
'

test_expect_success 'DST fall-back: of two names of one day, the newer by time kept, not the later by name' '
	use_logs "$TRASH/logs" AUTODEPLOY_ROTATE_KEEP=2 &&
	# 02:30 CEST, then 02:10 CET 40 minutes later (Europe/Paris, 2026-10-25)
	echo first | gzip >"$LOGS/app.log-20261025-023000.gz" &&
	touch -d "2026-10-25 00:30:00 UTC" "$LOGS/app.log-20261025-023000.gz" &&
	echo second | gzip >"$LOGS/app.log-20261025-021000.gz" &&
	touch -d "2026-10-25 01:10:00 UTC" "$LOGS/app.log-20261025-021000.gz" &&
	seq 1 10000 >"$LOGS/app.log" &&
	rotate-logs --config "$TRASH/env.local" --force 2>err &&
	ls "$LOGS" | grep -v "^rotate-logs.log" | sort >got &&
	printf "%s\n" app.log app.log-20261025-021000.gz app.log-$today.gz >want &&
	test_cmp want got
'

test_expect_success 'a held lock: exit 75, and the message does not suggest --wait (which rotate-logs has not)' '
	use_logs "$TRASH/logs" &&
	test_must_fail 75 flock "$TRASH/state/rotate-logs.lock" rotate-logs --config "$TRASH/env.local" 2>err &&
	test_grep "try again later, when it has finished" err &&
	test_grep ! -- "--wait" err
'

test_done
