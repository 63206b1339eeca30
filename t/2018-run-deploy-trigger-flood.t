#!/bin/bash
# The pushing user may write the trigger file (group-writable, in the state
# folder) as much as it likes: on a state folder's file system that this
# fills up, run-deploy empties the oversized trigger before it needs the
# room for its journal, and deploys.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# 16 MiB of room, to fill through the trigger
if ! LOOP_FS_SIZE=16M loop_fs ext4 "$TRASH/small" -F 2>why; then
	test_skip_or_fail 'a trigger that filled the state folder is emptied, and the deploy goes on' "$(cat why)"
	test_done
	exit
fi
STATE_DIR=$TRASH/small/state

test_expect_success 'setup: three checkouts, a stand-in stack, the state folder on a small file system' '
	deploy_setup no &&
	mkdir -p "$STATE_DIR" && chmod 755 "$STATE_DIR" &&
	save_heads v1
'

test_expect_success 'a trigger that filled the state folder is emptied, and the deploy goes on' '
	push_all &&
	: >"$STATE_DIR/trigger" && chmod 660 "$STATE_DIR/trigger" &&
	{ head -c 40M /dev/zero >"$STATE_DIR/trigger" 2>/dev/null || :; } &&
	test "$(df --output=avail "$TRASH/small" | tail -1)" -lt 64 &&
	rd 0 &&
	test_grep "trigger. held [0-9]* bytes, more than a trigger ever needs (4096): emptied" err &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	test_must_fail 1 test -s "$STATE_DIR/trigger" &&
	no_journal
'

test_expect_success 'a trigger as the hook writes it is left alone' '
	printf "refs/heads/main %s\n" "$(git -C "$TRASH/stack.git" rev-parse main)" >"$STATE_DIR/trigger" &&
	cp "$STATE_DIR/trigger" want &&
	rd 0 &&
	test_cmp want "$STATE_DIR/trigger"
'

test_done
