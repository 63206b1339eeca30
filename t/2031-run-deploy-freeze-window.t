#!/bin/bash
# Freeze and deploy window (SPEC.md "Exact and final"): while frozen,
# `run-deploy --if-drift` defers (exit 0, decision frozen) and a manual
# run refuses with 75 naming the reason unless --force; outside
# AUTODEPLOY_DEPLOY_WINDOW --if-drift defers (decision deferred).  A push
# that waited is deployed by the next eligible run.  The windows are built
# from `date`: one holds this hour and the next, the other neither.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

F=$STATE_DIR/freeze
H=$((10#$(date +%H)))
IN="* $H,$(((H + 1) % 24)) * * *"
OUT="* $(((H + 12) % 24)) * * *"

# decisions FILE: the decisions in check-drift --json output, one line.
decisions() {
	python3 -c "import json, sys; print(' '.join(o['decision'] for o in json.load(open(sys.argv[1]))))" "$1"
}

test_expect_success 'setup: three checkouts, a stand-in stack' '
	deploy_setup
'

test_expect_success '--freeze REASON: exit 0, the reason in STATE_DIR' '
	rd 0 --freeze "release week" &&
	test_grep "^release week$" "$F" &&
	record_empty
'

test_expect_success 'a freeze needs a reason on one line (64); --freeze with --unfreeze is 64' '
	rd 64 --freeze "" &&
	rd 64 --freeze "a" --unfreeze &&
	test_grep "^release week$" "$F"
'

test_expect_success '--freeze and --unfreeze take the lock: 75 while a run holds it, nothing changed' '
	hold_lock 60 &&
	code=0 &&
	{ run-deploy --config "$CONFIG" --unfreeze >out 2>err || code=$?; } &&
	release_lock &&
	is "exit" $code 75 &&
	test_grep "^release week$" "$F"
'

test_expect_success 'frozen: a push, then --if-drift defers: nothing runs, exit 0' '
	push_all &&
	save_heads before &&
	fresh_record &&
	rd 0 --if-drift &&
	record_empty &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	test_grep "frozen: release week" err
'

test_expect_success 'frozen: check-drift says frozen, exit 0 (text and --json)' '
	test_must_fail 0 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "/compose.: frozen: release week" err &&
	test_must_fail 0 check-drift --config "$CONFIG" --json >json 2>err &&
	is "decisions" "$(decisions json)" "frozen frozen frozen"
'

test_expect_success 'frozen: a manual run refuses with 75, naming the reason and the ways out' '
	fresh_record &&
	rd 75 &&
	record_empty &&
	test_grep "error: refusing to deploy: frozen: release week" err &&
	test_grep "unfreeze" err &&
	test_grep "deploy anyway with .-force" err &&
	is "checkouts" "$(heads)" "$(saved before)"
'

test_expect_success 'frozen: --dry-run says the same (75) and lists nothing' '
	rd 75 --dry-run &&
	test_grep ! "would run" out
'

test_expect_success 'frozen: a manual run with --force deploys' '
	fresh_record &&
	rd 0 --force &&
	is "stop calls" "$(count_calls stop stop)" 1 &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_expect_success '--unfreeze: the push that arrived while frozen is deployed by the next --if-drift run' '
	push_all &&
	rd 0 --if-drift &&
	test_grep "frozen" err &&
	rd 0 --unfreeze &&
	test ! -e "$F" &&
	test_must_fail 1 check-drift --config "$CONFIG" >out 2>err &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	is "start calls" "$(count_calls start start)" 1
'

test_expect_success 'a window that is not cron syntax is refused (78, file:line) by both programs' '
	cp "$CONFIG" good.env &&
	config_add AUTODEPLOY_DEPLOY_WINDOW "9-17 weekdays" &&
	rd 78 --if-drift &&
	test_grep "AUTODEPLOY_DEPLOY_WINDOW" err &&
	test_grep "env.local:[0-9]" err &&
	test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
	cp good.env "$CONFIG"
'

test_expect_success "outside the window ($OUT): --if-drift defers, exit 0; check-drift says deferred" '
	config_add AUTODEPLOY_DEPLOY_WINDOW "$OUT" &&
	push_all &&
	save_heads before &&
	fresh_record &&
	rd 0 --if-drift &&
	record_empty &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	test_grep "deferred: outside AUTODEPLOY_DEPLOY_WINDOW" err &&
	test_must_fail 0 check-drift --config "$CONFIG" --json >json 2>err &&
	is "decisions" "$(decisions json)" "deferred deferred deferred"
'

test_expect_success 'outside the window a manual run deploys (the window is for the timer)' '
	push_all &&
	fresh_record &&
	rd 0 &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_expect_success "inside the window ($IN): the push that waited is deployed by --if-drift" '
	push_all &&
	rd 0 --if-drift &&
	test_grep "deferred" err &&
	config_add AUTODEPLOY_DEPLOY_WINDOW "$IN" &&
	test_must_fail 1 check-drift --config "$CONFIG" >out 2>err &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	is "start calls" "$(count_calls start start)" 1
'

test_expect_success 'install-units: the timer also fires when the window opens' '
	config_add AUTODEPLOY_DEPLOY_WINDOW "* 9-16 * * 1-5" &&
	install-units --config "$CONFIG" --root "$TRASH/root" --only autodeploy --dry-run >units 2>err &&
	test_grep "^OnCalendar=Mon,Tue,Wed,Thu,Fri \*-\*-\* 9:0:00$" units &&
	config_add AUTODEPLOY_DEPLOY_WINDOW "30-59 8 * * *" &&
	install-units --config "$CONFIG" --root "$TRASH/root" --only autodeploy --dry-run >units 2>err &&
	test_grep "^OnCalendar=\*-\*-\* 8:30:00$" units
'

test_done
