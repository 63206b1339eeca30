#!/bin/bash
# run-deploy and the lock it shares with check-drift: busy is exit 75 with
# nothing done, --wait waits for the holder, and 20 runs started at once
# deploy exactly once.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

test_expect_success 'setup: three checkouts, a push to two remotes' '
	deploy_setup no &&
	save_heads v1 &&
	dev_push stack >/dev/null &&
	dev_push ex2 >/dev/null &&
	remote_heads >v2
'

test_expect_success 'lock held by another process: exit 75, nothing stopped or moved' '
	hold_lock 60 &&
	fresh_record &&
	code=0 &&
	{ run-deploy --config "$CONFIG" >out 2>err || code=$?; } &&
	release_lock &&
	is "exit" $code 75 &&
	record_empty &&
	is "checkouts" "$(heads)" "$(saved v1)" &&
	no_journal &&
	stack_is running
'

test_expect_success 'the busy run says why' '
	{ grep -Ei "lock|busy|another|running" err || { cat err; false; }; }
'

test_expect_success '--if-drift with the lock held: 75 as well' '
	hold_lock 60 &&
	fresh_record &&
	code=0 &&
	{ run-deploy --config "$CONFIG" --if-drift >out 2>err || code=$?; } &&
	release_lock &&
	is "exit" $code 75 &&
	record_empty
'

test_expect_success '--wait N: waits while the lock is held, deploys once it is free' '
	hold_lock 60 &&
	fresh_record &&
	{ run-deploy --config "$CONFIG" --wait 60 >out 2>err & } &&
	waiter=$! &&
	sleep 1 &&
	{ record_empty || { release_lock; false; }; } &&
	{ kill -0 $waiter || { release_lock; false; }; } &&
	release_lock &&
	code=0 &&
	{ wait $waiter || code=$?; } &&
	{ is "exit" $code 0 || { cat out err; false; }; } &&
	is "checkouts" "$(heads)" "$(saved v2)" &&
	is "stops" "$(count_calls stop stop)" 1 &&
	is "starts" "$(count_calls start start)" 1 &&
	stack_is running
'

test_expect_success '--wait 1 with the holder staying: gives up with 75' '
	dev_push ex1 >/dev/null &&
	hold_lock 60 &&
	fresh_record &&
	code=0 &&
	{ run-deploy --config "$CONFIG" --wait 1 >out 2>err || code=$?; } &&
	release_lock &&
	is "exit" $code 75 &&
	record_empty
'

test_expect_success '20 concurrent run-deploy --if-drift --wait 60: exactly one deploy' '
	push_all &&
	remote_heads >v3 &&
	save_heads before &&
	fresh_record &&
	pids= &&
	for i in $(seq 1 20); do
		run-deploy --config "$CONFIG" --if-drift --wait 60 >out.$i 2>err.$i &
		pids="$pids $!"
	done &&
	bad=0 &&
	for p in $pids; do
		wait $p || bad=$((bad + 1))
	done &&
	is "runs that failed" $bad 0 &&
	is "stops" "$(count_calls stop)" 1 &&
	is "starts" "$(count_calls start)" 1 &&
	is "checkouts" "$(heads)" "$(saved v3)" &&
	is "stop saw" "$(call_heads stop stop)" "$(saved before)" &&
	{ is "start saw" "$(call_heads start start)" "$(saved v3)" ||
	  { cat "$RECORD" err.*; false; }; }
'

test_expect_success 'after the concurrent runs: stack running, no journal, nothing due' '
	stack_is running &&
	no_journal &&
	fresh_record &&
	rd 0 --if-drift &&
	record_empty
'

test_done
