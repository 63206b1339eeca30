#!/bin/bash
# No orphans, deadlines and signals: a killed run's command dies with it
# (and what it started is killed by the next run before it starts the
# stack), every stack command has AUTODEPLOY_COMMAND_TIMEOUT, SIGTERM
# takes the rollback path; AUTODEPLOY_ROLLBACK=no keeps the stack running
# ("start only"); the service starts itself again for a push that arrived
# while it ran (run-deploy --requeue, with a systemctl that records calls:
# the decision only; t/2019 runs it under a real systemd).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# wait_for FILE: up to 20 s for FILE to appear.
wait_for() {
	for _i in $(seq 1 200); do
		[ -e "$1" ] && return 0
		sleep 0.1
	done
	echo "error: $1 never appeared" >&2
	return 1
}

# last_call_is ROLE:PHASE:RC: the stand-in's last call.
last_call_is() {
	is "the last call" "$(tail -n 1 "$RECORD" | awk '{ print $1 ":" $2 ":" $3 }')" "$1"
}

test_expect_success 'setup: three checkouts, a stand-in stack' '
	deploy_setup no
'

test_expect_success 'a killed run-deploy: the stop command it was running dies with it' '
	cat >bin/slow-stop <<-EOF &&
	#!/bin/sh
	touch "$TRASH/stop-began"
	sleep 2
	exec "$STANDIN" stop
	EOF
	chmod +x bin/slow-stop &&
	config_add AUTODEPLOY_STOP_COMMAND "$TRASH/bin/slow-stop" &&
	push_all &&
	fresh_record &&
	{ run-deploy --config "$CONFIG" >out 2>err & } &&
	pid=$! &&
	wait_for stop-began &&
	kill -KILL $pid &&
	{ wait $pid || :; } &&
	sleep 3 &&
	no_calls stop &&
	stack_is running
'

test_expect_success 'what the stop command started in the background dies with it too' '
	rm -f stop-began &&
	cat >bin/slow-stop <<-EOF &&
	#!/bin/sh
	touch "$TRASH/stop-began"
	( sleep 2; "$STANDIN" stop ) &
	wait
	EOF
	fresh_record &&
	{ run-deploy --config "$CONFIG" >out 2>err & } &&
	pid=$! &&
	wait_for stop-began &&
	kill -KILL $pid &&
	{ wait $pid || :; } &&
	sleep 3 &&
	no_calls stop &&
	stack_is running
'

test_expect_success 'a process group a killed run recorded is killed by the next run before it recovers' '
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	{ python3 -c "import os, time; os.setpgid(0, 0); open(\"group-ready\", \"w\"); time.sleep(60)" & } &&
	pid=$! &&
	wait_for group-ready &&
	echo $pid >"$STATE_DIR/children" &&
	fresh_record &&
	rd 0 &&
	{ wait $pid; rc=$?; } &&
	is "the orphan was ended by" "$rc" 137 &&
	test_grep "killed what was left of an interrupted run.s command (process group $pid)" err &&
	test ! -e "$STATE_DIR/children" &&
	is "the first call" "$(head -n 1 "$RECORD" | cut -d" " -f1-2)" "start recover-start" &&
	last_call_is healthcheck:healthcheck:0 &&
	stack_is running &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_expect_success 'a stop that hangs is ended after AUTODEPLOY_COMMAND_TIMEOUT: exit 2, the stack started again' '
	config_add AUTODEPLOY_STOP_COMMAND "sleep 60" &&
	config_add AUTODEPLOY_COMMAND_TIMEOUT 1 &&
	save_heads before &&
	push_all &&
	fresh_record &&
	rd 2 &&
	test_grep "stop: .sleep 60. did not finish within 1 s and was killed" err &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	last_call_is healthcheck:rollback-healthcheck:0 &&
	stack_is running &&
	no_journal
'

test_expect_success 'a start that hangs is ended too, and the old commits are started again: exit 2 (--retry: the stop that hung quarantined them)' '
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	cat >bin/hang-once <<-EOF &&
	#!/bin/sh
	if [ -e "$TRASH/hang" ]; then rm "$TRASH/hang"; sleep 60; fi
	exec "$STANDIN" start
	EOF
	chmod +x bin/hang-once &&
	config_add AUTODEPLOY_START_COMMAND "$TRASH/bin/hang-once" &&
	touch hang &&
	fresh_record &&
	rd 2 --retry &&
	test_grep "start: .*did not finish within 1 s" err &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	is "rollback-start saw" "$(call_heads start rollback-start)" "$(saved before)" &&
	stack_is running &&
	no_journal
'

test_expect_success 'SIGTERM during the start: the start is ended, the old commits put back and started: exit 2' '
	config_add AUTODEPLOY_COMMAND_TIMEOUT 900 &&
	cat >bin/hang-once <<-EOF &&
	#!/bin/sh
	if [ -e "$TRASH/hang" ]; then rm "$TRASH/hang"; touch "$TRASH/start-began"; sleep 60; fi
	exec "$STANDIN" start
	EOF
	touch hang &&
	rm -f start-began &&
	fresh_record &&
	{ run-deploy --config "$CONFIG" --retry >out 2>err & } &&
	pid=$! &&
	wait_for start-began &&
	kill -TERM $pid &&
	{ wait $pid; rc=$?; } &&
	is "exit code" "$rc" 2 &&
	test_grep "interrupted by signal 15" err &&
	test_grep "was ended: run-deploy was asked to stop" err &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	last_call_is healthcheck:rollback-healthcheck:0 &&
	stack_is running &&
	no_journal &&
	! pgrep -f "sleep 60" >/dev/null
'

test_expect_success 'SIGHUP during the start (the operator'"'"'s ssh session dropped) is a SIGTERM: rolled back, exit 2' '
	touch hang &&
	rm -f start-began &&
	fresh_record &&
	{ run-deploy --config "$CONFIG" --retry >out 2>err & } &&
	pid=$! &&
	wait_for start-began &&
	kill -HUP $pid &&
	{ wait $pid; rc=$?; } &&
	is "exit code" "$rc" 2 &&
	test_grep "interrupted by signal 1$" err &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	last_call_is healthcheck:rollback-healthcheck:0 &&
	stack_is running &&
	no_journal
'

test_expect_success 'SIGPIPE in the downtime window (`run-deploy | sed ...q` gone) is a SIGTERM: rolled back, exit 2' '
	cat >bin/slow-stop <<-EOF &&
	#!/bin/sh
	sleep 1
	exec "$STANDIN" stop
	EOF
	config_add AUTODEPLOY_STOP_COMMAND "$TRASH/bin/slow-stop" &&
	fresh_record &&
	run-deploy --config "$CONFIG" --retry 2>&1 | sed "/stop: running/q" >sed-out &&
	echo "${PIPESTATUS[0]}" >rc &&
	is "exit code" "$(cat rc)" 2 &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	last_call_is healthcheck:rollback-healthcheck:0 &&
	stack_is running &&
	no_journal &&
	test_grep "interrupted by signal 13$" "$LOG_FILE"
'

test_expect_success 'a stop under `timeout` (its own process group) dies with a killed run-deploy' '
	cat >bin/slow-stop <<-EOF &&
	#!/bin/sh
	touch "$TRASH/stop-began"
	sleep 2
	exec "$STANDIN" stop
	EOF
	config_add AUTODEPLOY_STOP_COMMAND "timeout 600 $TRASH/bin/slow-stop" &&
	rm -f stop-began &&
	fresh_record &&
	{ run-deploy --config "$CONFIG" --retry >out 2>err & } &&
	pid=$! &&
	wait_for stop-began &&
	kill -KILL $pid &&
	{ wait $pid || :; } &&
	sleep 3 &&
	no_calls stop &&
	stack_is running &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	rd 0 --retry &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_expect_success 'a stop under `setsid` (its own session) that hangs is ended at its deadline: exit 2, nothing left' '
	cat >bin/hang-stop <<-EOF &&
	#!/bin/sh
	echo \$\$ >"$TRASH/hang-pid"
	exec sleep 3571
	EOF
	chmod +x bin/hang-stop &&
	config_add AUTODEPLOY_STOP_COMMAND "setsid $TRASH/bin/hang-stop" &&
	config_add AUTODEPLOY_COMMAND_TIMEOUT 1 &&
	save_heads before &&
	push_all &&
	fresh_record &&
	rd 2 --retry &&
	test_grep "did not finish within 1 s and was killed" err &&
	sleep 1 &&
	{ ! kill -0 "$(cat hang-pid)" 2>/dev/null || { kill "$(cat hang-pid)"; false; }; } &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	stack_is running &&
	no_journal &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	config_add AUTODEPLOY_COMMAND_TIMEOUT 900 &&
	rd 0 --retry
'

test_expect_success 'AUTODEPLOY_ROLLBACK=no: a failed start keeps the new commits and a start-only journal: exit 3' '
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
	rd 0 --retry &&
	config_add AUTODEPLOY_ROLLBACK no &&
	dev=$(dev_clone stack) &&
	echo "start will fail" >"$dev/broken-start" &&
	dev_publish stack "break the start" >/dev/null &&
	fresh_record &&
	rd 3 --retry &&
	test "$(count_calls start rollback-start)" -eq 0 &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$(git -C stack.git rev-parse main)" &&
	test_grep "^state start-only$" "$JOURNAL" &&
	test_must_fail 1 check-drift --config "$CONFIG" >/dev/null 2>&1
'

test_expect_success 'every next run starts the stack as it is and reports 3 while the start fails' '
	fresh_record &&
	rd 3 --retry &&
	record_is start:recover-start:1 &&
	test_grep "kept until a deploy succeeds" err &&
	test_grep "^state start-only$" "$JOURNAL"
'

test_expect_success 'the push that fixes it is deployed from there: 0, the journal gone' '
	dev=$(dev_clone stack) &&
	git -C "$dev" rm -q broken-start &&
	dev_publish stack "fix the start" >/dev/null &&
	fresh_record &&
	rd 0 --retry &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	last_call_is healthcheck:healthcheck:0 &&
	stack_is running &&
	no_journal
'

test_expect_success 'AUTODEPLOY_ROLLBACK=no: a start that fails once, then works: the next run starts it, 0' '
	dev_push stack >/dev/null &&
	touch fail-start &&
	rd 3 --retry &&
	rm fail-start &&
	fresh_record &&
	rd 0 --retry &&
	record_is start:recover-start:0 healthcheck:recover-healthcheck:0 &&
	stack_is running &&
	no_journal
'

test_expect_success 'setup: a systemctl that records its calls' '
	mkdir -p fakebin &&
	cat >fakebin/systemctl <<-EOF &&
	#!/bin/sh
	echo "\$*" >>"$TRASH/systemctl-calls"
	EOF
	chmod +x fakebin/systemctl
'

test_expect_success '--requeue: nothing arrived during the run: systemctl is not called' '
	: >"$STATE_DIR/trigger" &&
	PATH=$TRASH/fakebin:$PATH SERVICE_RESULT=success rd 0 --requeue &&
	test ! -e systemctl-calls
'

test_expect_success '--requeue: a push wrote the trigger during the run: the service starts once more' '
	echo "refs/heads/main 0123" >"$STATE_DIR/trigger" &&
	PATH=$TRASH/fakebin:$PATH SERVICE_RESULT=success rd 0 --requeue &&
	is "systemctl calls" "$(cat systemctl-calls)" "--no-block --job-mode=fail restart autodeploy.service" &&
	test_grep "a push arrived while the deploy ran" err
'

test_expect_success '--requeue: systemctl failing is an error (74) that says what failed' '
	rm systemctl-calls &&
	mkdir -p brokenbin && printf "#!/bin/sh\nexit 1\n" >brokenbin/systemctl && chmod +x brokenbin/systemctl &&
	echo "refs/heads/main 0123" >"$STATE_DIR/trigger" &&
	PATH=$TRASH/brokenbin:$PATH SERVICE_RESULT=success rd 74 --requeue &&
	test_grep "cannot start autodeploy.service again: systemctl failed" err &&
	: >"$STATE_DIR/trigger" && touch systemctl-calls
'

test_expect_success '--requeue: a run killed with its journal left: started again at once to recover' '
	rm systemctl-calls && : >"$STATE_DIR/trigger" &&
	dev_push stack >/dev/null &&
	AUTODEPLOY_TEST_KILL_AT=after-stop rd 137 --retry &&
	PATH=$TRASH/fakebin:$PATH SERVICE_RESULT=signal rd 0 --requeue &&
	is "systemctl calls" "$(cat systemctl-calls)" "--no-block --job-mode=fail restart autodeploy.service" &&
	test_grep "SERVICE_RESULT=signal" err
'

test_expect_success '--requeue: a run ended by its timeout or a core dump, journal left: started again too' '
	for result in timeout core-dump; do
		rm systemctl-calls &&
		PATH=$TRASH/fakebin:$PATH SERVICE_RESULT=$result rd 0 --requeue &&
		is "systemctl calls" "$(cat systemctl-calls)" "--no-block --job-mode=fail restart autodeploy.service" &&
		test_grep "SERVICE_RESULT=$result" err || return 1
	done
'

test_expect_success '--requeue: a run that failed on its own is not retried at once (no loop)' '
	rm systemctl-calls &&
	PATH=$TRASH/fakebin:$PATH SERVICE_RESULT=exit-code rd 0 --requeue &&
	test ! -e systemctl-calls &&
	rd 0 --retry &&
	no_journal
'

test_done
