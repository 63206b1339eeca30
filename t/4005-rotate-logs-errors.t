#!/bin/bash
# rotate-logs when things go wrong: a file-size limit or a full disk while
# compressing (exit 74, every byte kept), a folder it may not write (74),
# files it must not touch, a held lock (75), and its own options.
. "$(dirname "$0")/lib.sh"

today=$(date +%Y%m%d)
mkdir -p logs state
cat >env.local <<EOF
AUTODEPLOY_LOG_DIR=$TRASH/logs
AUTODEPLOY_STATE_DIR=$TRASH/state
EOF

test_expect_success 'a file-size limit that fails the .gz write: exit 74, no .gz, every byte kept' '
	head -c 300000 /dev/urandom >orig &&
	cp orig logs/big.log &&
	# Random bytes do not compress: the .gz is larger than the plain
	# rotated copy, so a limit just above the copy fails only the .gz.
	prefix=$(( (300000 - 1) / $(stat -c %o logs/big.log) * $(stat -c %o logs/big.log) )) &&
	test_must_fail 74 prlimit --fsize=$((prefix + 16)) rotate-logs --config env.local --force 2>err &&
	test_grep "File too large" err &&
	test_grep "kept uncompressed" err &&
	! ls logs | grep -q "\.gz" &&
	! ls -a logs | grep -q "\.tmp$" &&
	cat logs/big.log-$today logs/big.log >got &&
	cmp orig got
'

test_expect_success 'the next run compresses the left-over rotated copy' '
	rotate-logs --config env.local 2>err &&
	test_grep "left over" err &&
	test -f logs/big.log-$today.gz &&
	! test -f logs/big.log-$today &&
	gzip -t logs/big.log-$today.gz &&
	(zcat logs/big.log-$today.gz && cat logs/big.log) >got &&
	cmp orig got
'

test_expect_success 'no room at all for the .gz of a left-over copy: exit 74, the copy kept as is' '
	rm -f logs/* && seq 1 50000 >orig && cp orig logs/full.log &&
	# A plain rotated copy from an interrupted run; with a size limit of
	# 0 nothing can be written, so compressing it fails at once.
	cp orig logs/full.log-20200101 &&
	# (stderr through a pipe: under the limit no file can be written)
	{ prlimit --fsize=0 rotate-logs --config env.local 2>&1 >/dev/null; echo $? >code; } | cat >err &&
	test "$(cat code)" = 74 &&
	test_grep "File too large" err &&
	! test -f logs/full.log-20200101.gz &&
	! ls -a logs | grep -q "\.tmp$" &&
	cmp orig logs/full.log-20200101 &&
	cmp orig logs/full.log
'

# As root, permission bits do not stop the program: run it as nobody.  As
# a normal user, a folder without the w bit does.
if [ "$(id -u)" = 0 ]; then
	if command -v setpriv >/dev/null; then
		AS_OTHER="setpriv --reuid=$(id -u nobody) --regid=$(id -g nobody) --clear-groups"
	else
		AS_OTHER=
	fi
else
	AS_OTHER=" "
fi
if [ -z "$AS_OTHER" ]; then
	test_skip 'a log folder it may not write: exit 74, clear message, nothing touched' \
		'running as root without setpriv: no way to be denied'
else
	test_expect_success 'a log folder it may not write: exit 74, clear message, nothing touched' '
		chmod 755 "$TRASH" &&
		mkdir -p ro/logs && mkdir -p ro/state &&
		# the state folder is the running user'"'"'s own (a shared one is refused)
		if [ "$(id -u)" = 0 ]; then chown nobody ro/state; fi &&
		seq 1 50000 >ro/logs/app.log && chmod 644 ro/logs/app.log && cp ro/logs/app.log want &&
		if [ "$(id -u)" = 0 ]; then chmod 755 ro ro/logs; else chmod 555 ro/logs; fi &&
		printf "AUTODEPLOY_LOG_DIR=%s\nAUTODEPLOY_STATE_DIR=%s\n" "$TRASH/ro/logs" "$TRASH/ro/state" >ro/env &&
		chmod 644 ro/env &&
		test_must_fail 74 $AS_OTHER rotate-logs --config "$TRASH/ro/env" --force 2>err &&
		test_grep "cannot rotate the logs in .*ro/logs.*Permission denied" err &&
		test "$(ls ro/logs)" = app.log &&
		cmp want ro/logs/app.log
	'
fi

test_expect_success 'symlinks, hard-linked and non-regular *.log are skipped with a warning' '
	rm -rf logs && mkdir logs &&
	seq 1 50000 >outside && cp outside outside.orig &&
	ln -s "$TRASH/outside" logs/link.log &&
	seq 1 50000 >logs/hard.log && ln logs/hard.log hardlink-elsewhere &&
	mkfifo logs/fifo.log && mkdir logs/dir.log &&
	rotate-logs --config env.local --force 2>err &&
	test_grep "skipping .link.log.: a symbolic link" err &&
	test_grep "skipping .hard.log.: it has several hard links" err &&
	test_grep "skipping .fifo.log.: not a regular file" err &&
	test_grep "skipping .dir.log.: not a regular file" err &&
	! ls logs | grep -Eq "^(link|hard|fifo|dir)\.log-" &&
	cmp outside outside.orig
'

test_expect_success 'two runs at once: the second finds the lock held and exits 75' '
	rm -rf logs && mkdir logs && seq 1 50000 >logs/a.log &&
	flock state/rotate-logs.lock sh -c "! rotate-logs --config env.local --force 2>err; echo \$? >code" &&
	test "$(cat code)" = 0 &&
	test_must_fail 75 flock state/rotate-logs.lock rotate-logs --config env.local --force &&
	! ls logs | grep -q "^a.log-"
'

test_expect_success '--dry-run says what it would do and changes nothing, not even its own log' '
	rm -rf logs state && mkdir logs state && seq 1 50000 >logs/a.log && : >logs/empty.log &&
	(cd logs && find . -printf "%p %s %T@\n" | sort) >before &&
	rotate-logs --config env.local --dry-run --force >out 2>err &&
	test_grep "would rotate .a.log. .* to .a.log-$today.gz." out &&
	test_grep ! "empty.log" out &&
	(cd logs && find . -printf "%p %s %T@\n" | sort) >after &&
	test_cmp before after &&
	! test -e state/rotate-logs.lock
'

test_expect_success 'an empty log is never rotated, even with --force' '
	rotate-logs --config env.local --force &&
	! ls logs | grep -q "^empty.log-"
'

test_expect_success 'same day: -HHMMSS; same second: -HHMMSS-2; names never end in .log' '
	rm -rf logs && mkdir logs &&
	seq 1 50000 >logs/a.log &&
	rotate-logs --config env.local --force &&
	test -f logs/a.log-$today.gz &&
	echo AUTODEPLOY_ROTATE_KEEP=100 >>env.local &&
	seq 1 50000 >>logs/a.log &&
	rotate-logs --config env.local --force &&
	ls logs | grep -Eq "^a.log-$today-[0-9]{6}\.gz$" &&
	# Claim the next few seconds so the next run lands in a taken one.
	now=$(date +%s) &&
	for s in 0 1 2 3 4 5; do : >logs/a.log-$(date -d @$((now + s)) +%Y%m%d-%H%M%S).gz; done &&
	seq 1 50000 >>logs/a.log &&
	rotate-logs --config env.local --force &&
	sed -i /KEEP/d env.local &&
	ls logs | grep -Eq "^a.log-$today-[0-9]{6}-2\.gz$" &&
	test -f logs/a.log-$today.gz &&
	{ ! ls logs | grep "^a.log-" | grep -q "\.log$" || { ls logs; false; }; }
'

test_expect_success 'keep count: the oldest rotated files go first' '
	rm -rf logs && mkdir logs && seq 1 50000 >logs/a.log &&
	for d in 20200101 20200201 20200301; do echo $d | gzip >logs/a.log-$d.gz; done &&
	echo AUTODEPLOY_ROTATE_KEEP=2 >>env.local &&
	rotate-logs --config env.local --force 2>err &&
	sed -i /KEEP/d env.local &&
	test "$(ls logs | grep ^a.log-)" = "$(printf "a.log-20200301.gz\na.log-$today.gz")" &&
	test_grep "removed .a.log-20200101.gz." err
'

test_expect_success 'compression off: the rotated file stays plain' '
	rm -rf logs && mkdir logs && seq 1 50000 >logs/a.log && cp logs/a.log orig &&
	echo AUTODEPLOY_ROTATE_COMPRESS=no >>env.local &&
	rotate-logs --config env.local --force &&
	sed -i /COMPRESS/d env.local &&
	test -f logs/a.log-$today && cat logs/a.log-$today logs/a.log >got && cmp orig got
'

test_expect_success 'bad configuration: exit 78; bad option or argument: exit 64' '
	echo "AUTODEPLOY_ROTATE_PERIOD=hourly" >bad.env &&
	test_must_fail 78 rotate-logs --config bad.env 2>err &&
	test_grep "AUTODEPLOY_ROTATE_PERIOD" err &&
	test_must_fail 64 rotate-logs --config env.local --frobnicate &&
	test_must_fail 64 rotate-logs --config env.local stray
'

test_expect_success 'the run is logged to rotate-logs.log with start and end lines' '
	test_grep "rotate-logs\[[0-9]*\]: info: start:" logs/rotate-logs.log &&
	test_grep "rotate-logs\[[0-9]*\]: info: end: .*result=0" logs/rotate-logs.log
'

test_done
