#!/bin/bash
# run-deploy and the conditional trigger: a checkout whose new tree holds an
# executable autodeploy/conditional-trigger that says no (exit 1) is
# pull-only — fast-forwarded without stopping or starting the stack; when
# another checkout is a real deploy, the stack is restarted once for all.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

TRIGGER=autodeploy/conditional-trigger

# trigger_says NAME CODE: push a trigger exiting CODE to remote NAME.
trigger_says() {
	_dev=$(dev_clone "$1") &&
	mkdir -p "$_dev/autodeploy" &&
	printf '#!/bin/sh\nexit %s\n' "$2" >"$_dev/$TRIGGER" &&
	chmod 755 "$_dev/$TRIGGER" &&
	dev_publish "$1" "trigger says $2"
}

test_expect_success 'setup: three checkouts, a stand-in stack' '
	deploy_setup no &&
	save_heads v1
'

test_expect_success 'a push whose trigger says no: --if-drift moves the checkout, exit 0' '
	new=$(trigger_says stack 1) &&
	fresh_record &&
	rd 0 --if-drift &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$new" &&
	test -x compose/$TRIGGER &&
	test -z "$(git -C compose status --porcelain)"
'

test_expect_success 'pull-only: no stop, no start, no health check; the stack kept running' '
	no_calls stop start healthcheck &&
	stack_is running &&
	no_journal &&
	set -- $(saved v1) &&
	is "extras" "$(git -C extra1 rev-parse HEAD) $(git -C extra2 rev-parse HEAD)" "$2 $3"
'

test_expect_success 'last-deploy.json records the pull-only decision' '
	is "result" "$(last_json result)" 0 &&
	is "decision" "$(last_json checkout 0 decision)" pull-only &&
	is "new commit" "$(last_json checkout 0 new_commit)" "$(git -C compose rev-parse HEAD)"
'

test_expect_success 'a plain run moves a pull-only checkout the same way (no restart)' '
	new=$(dev_push stack) &&
	fresh_record &&
	rd 0 &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$new" &&
	no_calls stop start healthcheck
'

test_expect_success 'pull-only in one checkout and a deploy in another: one restart, both moved' '
	save_heads before &&
	pull=$(dev_push stack) &&
	deploy=$(dev_push ex1) &&
	fresh_record &&
	rd 0 --if-drift &&
	set -- $(saved before) &&
	is "checkouts" "$(heads)" "$pull $deploy $3" &&
	is "stops" "$(count_calls stop stop)" 1 &&
	is "starts" "$(count_calls start start)" 1 &&
	is "stop saw" "$(call_heads stop stop)" "$1 $2 $3" &&
	is "start saw" "$(call_heads start start)" "$pull $deploy $3" &&
	stack_is running
'

test_expect_success 'a trigger that says yes again: a real deploy' '
	new=$(trigger_says stack 0) &&
	fresh_record &&
	rd 0 --if-drift &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$new" &&
	is "stops" "$(count_calls stop stop)" 1 &&
	is "starts" "$(count_calls start start)" 1
'

test_expect_success '--force with only a pull-only change restarts the stack' '
	trigger_says stack 1 >/dev/null &&
	fresh_record &&
	rd 0 --force &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$(git -C stack.git rev-parse main)" &&
	is "stops" "$(count_calls stop stop)" 1 &&
	is "starts" "$(count_calls start start)" 1
'

test_done
