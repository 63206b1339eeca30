#!/bin/bash
# run-deploy when the new commits do not come up: a start that fails or a
# health check that never passes is rolled back to the old commits, started
# again (exit 2); when the rollback's own start fails too, exit 3 with the
# journal kept, and the next run recovers.  The notify command hears the
# result each time, and a failing notify command changes nothing.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# rolled_back OLD: exit 2 happened; the checkouts are back on OLD, the
# stack was started again on OLD and is running, no journal left.
rolled_back() {
	is "checkouts" "$(heads)" "$1" &&
	is "rollback-start saw" "$(call_heads start rollback-start)" "$1" &&
	is "rollback-start rc" "$(call_field start rollback-start 3)" 0 &&
	stack_is running &&
	no_journal &&
	for c in $CHECKOUTS; do
		test -z "$(git -C "$c" status --porcelain)" || {
			echo "error: $c is not clean:" >&2; git -C "$c" status >&2; return 1; }
		test "$(git -C "$c" rev-parse main)" = "$(git -C "$c" rev-parse HEAD)" || return 1
	done
}

# phases: the phases of the recorded calls, in order, repeats folded.
phases() { awk '{ print $2 }' "$RECORD" | uniq | tr '\n' ' '; }

test_expect_success 'setup: three checkouts, a stand-in stack' '
	deploy_setup &&
	save_heads v1
'

test_expect_success 'a push whose start fails: exit 2' '
	dev=$(dev_clone stack) &&
	echo "start will fail" >"$dev/broken-start" &&
	dev_publish stack "break the start" >/dev/null &&
	dev_push ex1 >/dev/null &&
	fresh_record &&
	rd 2
'

test_expect_success 'start was tried on the new commits and failed' '
	set -- $(saved v1) &&
	is "start saw" "$(call_heads start start)" "$(git -C stack.git rev-parse main) $(git -C ex1.git rev-parse main) $3" &&
	is "start rc" "$(call_field start start 3)" 1
'

test_expect_success 'then the old commits were checked out and started again' '
	rolled_back "$(saved v1)"
'

test_expect_success 'the phases ran in order, the rollback after the failed start' '
	phases >got &&
	case "$(cat got)" in
	"pre-deploy stop start "*"rollback-start "*notify" ") ;;
	*) echo "error: phases: $(cat got)" >&2; cat "$RECORD" >&2; exit 1 ;;
	esac &&
	test_grep ! "^healthcheck healthcheck " "$RECORD"
'

test_expect_success 'notify saw AUTODEPLOY_RESULT=2, last-deploy.json says 2' '
	test_grep "^AUTODEPLOY_RESULT=2$" env-notify &&
	test_grep "^AUTODEPLOY_RESULT_TEXT=." env-notify &&
	is "result" "$(last_json result)" 2
'

test_expect_success 'the upstream fix (broken-start removed) deploys on the next run' '
	dev=$(dev_clone stack) &&
	git -C "$dev" rm -q broken-start &&
	dev_publish stack "fix the start" >/dev/null &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	stack_is running &&
	test_grep "^AUTODEPLOY_RESULT=0$" env-notify &&
	save_heads v2
'

test_expect_success 'a push that breaks the health check: exit 2' '
	dev=$(dev_clone stack) &&
	echo "health check will fail" >"$dev/broken" &&
	dev_publish stack "break the health check" >/dev/null &&
	fresh_record &&
	rd 2
'

test_expect_success 'start succeeded on the new commits, the health check failed on them' '
	set -- $(saved v2) &&
	new="$(git -C stack.git rev-parse main) $2 $3" &&
	is "start saw" "$(call_heads start start)" "$new" &&
	is "start rc" "$(call_field start start 3)" 0 &&
	is "healthcheck saw" "$(call_heads healthcheck healthcheck)" "$new" &&
	is "healthcheck rc" "$(call_field healthcheck healthcheck 3)" 1
'

test_expect_success 'then the old commits were started again and their health check passed' '
	rolled_back "$(saved v2)" &&
	is "rollback-healthcheck saw" "$(call_heads healthcheck rollback-healthcheck)" "$(saved v2)" &&
	is "rollback-healthcheck rc" "$(call_field healthcheck rollback-healthcheck 3)" 0 &&
	test_grep "^AUTODEPLOY_RESULT=2$" env-notify &&
	is "result" "$(last_json result)" 2
'

test_expect_success 'a failing notify command does not change a rollback result (still 2)' '
	touch fail-notify &&
	fresh_record &&
	rd 2 --retry &&
	is "notify rc" "$(call_field notify notify 3)" 1 &&
	rolled_back "$(saved v2)" &&
	is "result" "$(last_json result)" 2 &&
	rm fail-notify
'

test_expect_success 'setup: upstream fixed and deployed' '
	dev=$(dev_clone stack) &&
	git -C "$dev" rm -q broken &&
	dev_publish stack "fix the health check" >/dev/null &&
	rd 0 &&
	save_heads v3 &&
	stack_is running
'

test_expect_success 'a failing notify command does not change a success (still 0)' '
	dev_push ex2 >/dev/null &&
	touch fail-notify &&
	fresh_record &&
	rd 0 &&
	is "notify rc" "$(call_field notify notify 3)" 1 &&
	test_grep "^AUTODEPLOY_RESULT=0$" env-notify &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	is "result" "$(last_json result)" 0 &&
	no_journal &&
	rm fail-notify &&
	save_heads v4
'

test_expect_success 'start fails on every commit: the rollback fails too, exit 3' '
	push_all &&
	remote_heads >v5 &&
	touch fail-start &&
	fresh_record &&
	rd 3 &&
	is "rollback-start rc" "$(call_field start rollback-start 3)" 1 &&
	stack_is failed
'

test_expect_success 'exit 3 keeps the journal; the checkouts were put back on the old commits' '
	test -f "$JOURNAL" &&
	is "rollback-start saw" "$(call_heads start rollback-start)" "$(saved v4)" &&
	is "checkouts" "$(heads)" "$(saved v4)" &&
	test_grep "^AUTODEPLOY_RESULT=3$" env-notify &&
	is "result" "$(last_json result)" 3
'

test_expect_success 'check-drift reports the interrupted deploy as due (exit 1)' '
	test_must_fail 1 check-drift --config "$CONFIG" >/dev/null 2>&1
'

test_expect_success 'while start still fails, every run retries the recovery and exits 3' '
	fresh_record &&
	rd 3 --if-drift &&
	is "recover-start calls" "$(count_calls start recover-start)" 1 &&
	is "recover-start saw" "$(call_heads start recover-start)" "$(saved v4)" &&
	no_calls stop &&
	test -f "$JOURNAL" &&
	stack_is failed
'

test_expect_success 'with start fixed, the next --if-drift run recovers and leaves the quarantined commits: 0' '
	rm fail-start &&
	fresh_record &&
	rd 0 --if-drift &&
	is "recover-start rc" "$(call_field start recover-start 3)" 0 &&
	is "recover-start saw" "$(call_heads start recover-start)" "$(saved v4)" &&
	no_journal &&
	stack_is running &&
	is "checkouts" "$(heads)" "$(saved v4)" &&
	test_grep "nothing deployed: quarantined" err
'

test_expect_success 'then --retry deploys them: 0' '
	fresh_record &&
	rd 0 --retry &&
	stack_is running &&
	is "checkouts" "$(heads)" "$(saved v5)" &&
	is "start saw" "$(call_heads start start)" "$(saved v5)" &&
	is "result" "$(last_json result)" 0
'

test_expect_success 'a local change made while the stack is stopped is never overwritten: 2' '
	cat >bin/stop-and-edit <<-EOF &&
	#!/bin/sh
	echo "edited during the downtime" >>"$TRASH/extra1/file.txt"
	exec "$STANDIN" stop
	EOF
	chmod +x bin/stop-and-edit &&
	config_add AUTODEPLOY_STOP_COMMAND "$TRASH/bin/stop-and-edit" &&
	save_heads before &&
	push_all &&
	fresh_record &&
	rd 2 &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	is "the last line of extra1/file.txt" "$(tail -n 1 extra1/file.txt)" "edited during the downtime" &&
	stack_is running &&
	is "rollback-start saw" "$(call_heads start rollback-start)" "$(saved before)" &&
	no_journal
'

test_expect_success 'AUTODEPLOY_ROLLBACK=no: a failed start is not rolled back, exit 3' '
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	git -C extra1 checkout -q -- file.txt &&
	rd 0 &&
	config_add AUTODEPLOY_ROLLBACK no &&
	dev=$(dev_clone stack) &&
	echo "start will fail" >"$dev/broken-start" &&
	dev_publish stack "break the start again" >/dev/null &&
	fresh_record &&
	rd 3 &&
	no_calls healthcheck &&
	test "$(count_calls start rollback-start)" -eq 0 &&
	test "$(git -C compose rev-parse HEAD)" = "$(git -C stack.git rev-parse main)"
'

test_done
