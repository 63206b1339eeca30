#!/bin/bash
# run-deploy and a notify command that leaves something running behind it:
# the deploy's result is not held up by it, and the next run is not blocked
# (the lock is not inherited by the operator's commands).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# The sleeps left behind are ended with the script (keeping its status).
_kill_children() {
	for p in $(cat "$TRASH"/child-* 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
}
trap '_st=$?; _kill_children; (exit $_st); _t_cleanup' EXIT

test_expect_success 'setup: three checkouts, a notify command that leaves a sleep behind' '
	deploy_setup no &&
	config_add AUTODEPLOY_NOTIFY_COMMAND "sleep 30 </dev/null >/dev/null 2>&1 & echo \$! >>$TRASH/child-1" &&
	push_all
'

test_expect_success 'the deploy ends (0) while the left-over process still runs' '
	rd 0 &&
	test -s child-1 &&
	kill -0 "$(head -n 1 child-1)" &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_expect_success 'the next run is not blocked by it: the lock was not inherited (0, not 75)' '
	kill -0 "$(head -n 1 child-1)" &&
	rd 0 --if-drift &&
	dev_push ex1 >/dev/null &&
	fresh_record &&
	rd 0 --if-drift &&
	is "stops" "$(count_calls stop)" 1
'

test_expect_success 'a left-over process holding stdout and stderr does not hold the deploy up' '
	config_add AUTODEPLOY_NOTIFY_COMMAND "sleep 30 & echo \$! >>$TRASH/child-2" &&
	dev_push ex2 >/dev/null &&
	rd 0 &&
	test -s child-2 &&
	kill -0 "$(head -n 1 child-2)"
'

test_expect_success 'a notify command that hangs is killed after AUTODEPLOY_NOTIFY_TIMEOUT; the result stands' '
	config_add AUTODEPLOY_NOTIFY_TIMEOUT 1 &&
	config_add AUTODEPLOY_NOTIFY_COMMAND "echo \$\$ >$TRASH/child-3; exec sleep 1000" &&
	dev_push ex1 >/dev/null &&
	rd 0 &&
	test -s child-3 &&
	! kill -0 "$(cat child-3)" 2>/dev/null &&
	grep -q "notify: .* did not finish within 1 s and was killed" err
'

test_done
