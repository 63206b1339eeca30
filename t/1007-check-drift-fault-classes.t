#!/bin/bash
# Whose fault a failed fetch is decides the exit code: a full or read-only
# file system under the checkout is a local I/O error (74, as a full disk
# is everywhere else), not "remote unreachable" (69); a remote that cannot
# be reached still is 69.  Real file systems: a 16 MiB ext4 image, and a
# read-only bind mount of the checkout.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

if ! LOOP_FS_SIZE=16M loop_fs ext4 "$TRASH/small" -F 2>why; then
	test_skip_or_fail 'a fetch that fills the checkout'\''s file system: 74, not 69' "$(cat why)"
	test_done
	exit
fi

test_expect_success 'setup: a checkout on a small file system, a push too big for it' '
	make_remote stack 1 >/dev/null &&
	git clone -q "$TRASH/stack.git" "$TRASH/small/compose" &&
	write_standin &&
	write_config "$TRASH/small/compose" &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
	config_add AUTODEPLOY_STRATEGY restart &&
	dev=$(dev_clone stack) &&
	head -c 30M /dev/urandom >"$dev/big.bin" &&
	git -C "$dev" add big.bin && git -C "$dev" commit -q -m big &&
	git -C "$dev" push -q origin HEAD:main
'

test_expect_success 'a fetch that fills the checkout'\''s file system: 74 with the reason, not 69' '
	test_must_fail 74 check-drift --config "$CONFIG" 2>err &&
	test_grep "No space left on device" err &&
	test_grep "result=74" err &&
	fresh_record &&
	rd 74 &&
	no_calls stop start
'

test_expect_success 'a fetch into a read-only checkout: 74' '
	dev=$(dev_clone stack) &&
	git -C "$dev" rm -q big.bin && git -C "$dev" commit -q -m small &&
	git -C "$dev" push -q origin HEAD:main &&
	git -C "$TRASH/small/compose" gc -q --prune=now &&
	mount --bind "$TRASH/small/compose" "$TRASH/small/compose" &&
	mount -o remount,ro,bind "$TRASH/small/compose" &&
	rc=0 &&
	{ test_must_fail 74 check-drift --config "$CONFIG" 2>err || rc=1; } &&
	umount "$TRASH/small/compose" &&
	test $rc = 0 &&
	test_grep "Read-only file system" err
'

test_expect_success 'a remote that is not there is still 69' '
	mv "$TRASH/stack.git" "$TRASH/stack-away.git" &&
	rc=0 &&
	{ test_must_fail 69 check-drift --config "$CONFIG" 2>err || rc=1; } &&
	mv "$TRASH/stack-away.git" "$TRASH/stack.git" &&
	test $rc = 0
'

test_done
