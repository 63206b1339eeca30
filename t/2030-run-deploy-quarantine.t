#!/bin/bash
# Quarantine (SPEC.md "Exact and final"): a deploy that touched the stack
# and failed quarantines its target commits; `run-deploy --if-drift`
# leaves them (exit 0, one warning naming them and the way out) until a
# newer commit arrives or `run-deploy --retry`; check-drift says
# `quarantined` (exit 0).  A failed prepare or pre-deploy does not
# quarantine, nor does an interrupted run, until the third in a row.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

M=$TRASH/metrics.prom
Q=$STATE_DIR/quarantine

# break_health: a commit on the stack whose health check fails.
break_health() {
	dev=$(dev_clone stack) &&
	echo "the health check fails" >"$dev/broken" &&
	dev_publish stack "break the health check" >/dev/null
}

fix_health() {
	dev=$(dev_clone stack) &&
	git -C "$dev" rm -q broken &&
	dev_publish stack "fix the health check" >/dev/null
}

test_expect_success 'setup: three checkouts, a stand-in stack, a metrics file' '
	deploy_setup &&
	config_add AUTODEPLOY_METRICS_FILE "$M" &&
	save_heads v1
'

test_expect_success 'run 1: the health check fails, rolled back (2), the target quarantined' '
	break_health &&
	remote_heads >bad &&
	fresh_record &&
	rd 2 --if-drift &&
	is "checkouts" "$(heads)" "$(saved v1)" &&
	test_grep "quarantined" err &&
	test -f "$Q" &&
	is "quarantined" "$(metrics get "$M" autodeploy_quarantined)" 1
'

test_expect_success 'run 1: the notify command hears of the quarantine' '
	test_grep "^AUTODEPLOY_QUARANTINED=1$" env-notify &&
	test_grep "^AUTODEPLOY_RESULT=2$" env-notify
'

test_expect_success 'runs 2 and 3: --if-drift leaves it: no stop, no start, no notify, exit 0' '
	for run in 2 3; do
		fresh_record &&
		rd 0 --if-drift &&
		record_empty &&
		is "checkouts" "$(heads)" "$(saved v1)" &&
		stack_is running || return 1
	done
'

test_expect_success 'each such run warns once, naming the commits and the way out' '
	is "warnings" "$(grep -c ": warning: " err)" 1 &&
	bad=$(cut -d" " -f1 bad) &&
	test_grep "warning: nothing deployed: quarantined: .*compose.@${bad%"${bad#????????????}"}" err &&
	test_grep "run-deploy --retry" err &&
	test_grep "newer commit" err
'

test_expect_success 'the metrics still say quarantined' '
	metrics check "$M" &&
	metrics described "$M" autodeploy_quarantined &&
	is "quarantined" "$(metrics get "$M" autodeploy_quarantined)" 1
'

test_expect_success 'check-drift reports the checkout as quarantined, exit 0' '
	test_must_fail 0 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "warning: .*/compose.: quarantined: the deploy of" err
'

test_expect_success 'check-drift --json: decision quarantined, exit 0' '
	test_must_fail 0 check-drift --config "$CONFIG" --json >json 2>err &&
	python3 -c "
import json, sys
d = json.load(open(\"json\"))
sys.exit(0 if [o[\"decision\"] for o in d] == [\"quarantined\", \"up-to-date\", \"up-to-date\"] else d)
"
'

test_expect_success 'run-deploy --retry tries it once more: stop, start, rollback (2), quarantined again' '
	fresh_record &&
	rd 2 --retry &&
	is "stop calls" "$(count_calls stop stop)" 1 &&
	is "start calls" "$(count_calls start start)" 1 &&
	is "checkouts" "$(heads)" "$(saved v1)" &&
	fresh_record &&
	rd 0 --if-drift &&
	record_empty
'

test_expect_success 'a newer commit on another checkout lifts it: the next run deploys (and fails again)' '
	dev_push ex2 >/dev/null &&
	fresh_record &&
	rd 2 --if-drift &&
	is "stop calls" "$(count_calls stop stop)" 1 &&
	fresh_record &&
	rd 0 --if-drift &&
	record_empty
'

test_expect_success 'a fix deploys (0) and the quarantine is gone' '
	fix_health &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	test ! -e "$Q" &&
	is "quarantined" "$(metrics get "$M" autodeploy_quarantined)" 0 &&
	test_grep ! "AUTODEPLOY_QUARANTINED" env-notify
'

test_expect_success 'a failed prepare (nothing touched) does not quarantine: the next run tries again' '
	DEPLOY_STRATEGY=recreate deploy_config &&
	config_add AUTODEPLOY_METRICS_FILE "$M" &&
	save_heads v2 &&
	push_all &&
	touch fail-prepare &&
	fresh_record &&
	rd 2 --if-drift &&
	no_calls start &&
	test ! -e "$Q" &&
	rm fail-prepare &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_expect_success 'a failed pre-deploy (nothing touched) does not quarantine' '
	push_all &&
	touch fail-pre-deploy &&
	rd 2 --if-drift &&
	test ! -e "$Q" &&
	rm fail-pre-deploy &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_expect_success 'killed twice in the downtime window: recovered, and tried again each time' '
	deploy_config &&
	save_heads v3 &&
	push_all &&
	for run in 1 2; do
		AUTODEPLOY_TEST_KILL_AT=after-stop test_must_fail 137 run-deploy --config "$CONFIG" --if-drift >out 2>err &&
		test ! -e "$Q" || return 1
	done
'

test_expect_success 'the third kill in a row at that target quarantines it, once recovered' '
	AUTODEPLOY_TEST_KILL_AT=after-stop test_must_fail 137 run-deploy --config "$CONFIG" --if-drift >out 2>err &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(saved v3)" &&
	is "stop calls" "$(count_calls stop stop)" 0 &&
	is "recover-start calls" "$(count_calls start recover-start)" 1 &&
	test -f "$Q" &&
	test_grep "quarantined" err &&
	rd 0 --retry &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	test ! -e "$Q"
'

test_expect_success 'SIGTERM in the health check twice is not a quarantine; the third time is' '
	cat >bin/slow-health <<-EOF &&
	#!/bin/sh
	echo \$\$ >"$TRASH/health-pid"
	"$STANDIN" healthcheck || exit 1
	[ -e "$TRASH/slow" ] && sleep 30
	exit 0
	EOF
	chmod +x bin/slow-health &&
	config_add AUTODEPLOY_HEALTHCHECK_COMMAND "$TRASH/bin/slow-health" &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 60 &&
	push_all &&
	touch slow &&
	for run in 1 2 3; do
		rm -f health-pid &&
		{ run-deploy --config "$CONFIG" --if-drift >out 2>err & pid=$!; } &&
		while ! test -s health-pid; do sleep 0.1; done &&
		kill -TERM $pid &&
		{ wait $pid; rc=$?; } &&
		is "exit" "$rc" 2 &&
		if [ $run -lt 3 ]; then test ! -e "$Q" && test_grep "interrupted attempt $run of 3" err; else test -f "$Q"; fi || return 1
	done &&
	rm slow
'

test_done
