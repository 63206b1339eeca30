#!/bin/bash
# run-deploy and AUTODEPLOY_METRICS_FILE: valid Prometheus text format
# (node_exporter's textfile collector), rewritten after every run with the
# last run, the last success (kept across failed runs), the result, the
# duration and each checkout's behind count; no temporary file left over.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

M=$TRASH/metrics/autodeploy.prom
GAUGES="autodeploy_last_run_timestamp_seconds autodeploy_last_result autodeploy_deploy_duration_seconds autodeploy_checkout_behind_commits"

# described NAME: the metric has a HELP line and is a gauge.
described() { metrics described "$M" "$@"; }

# only_metrics_file: nothing but the metrics file in its folder.
only_metrics_file() {
	is "files in $(dirname "$M")" "$(ls -A "$(dirname "$M")")" "$(basename "$M")"
}

# behind_labels: the path labels of autodeploy_checkout_behind_commits.
behind_paths() {
	metrics labels "$M" autodeploy_checkout_behind_commits |
	sed -n 's/^path="\(.*\)"$/\1/p' | while read -r p; do realpath "$p"; done | sort
}

test_expect_success 'setup: three checkouts, a metrics folder, a pre-deploy that fails' '
	deploy_setup &&
	mkdir metrics &&
	config_add AUTODEPLOY_METRICS_FILE "$M" &&
	push_all &&
	touch fail-pre-deploy
'

test_expect_success 'a failed run (pre-deploy, exit 2) writes a valid metrics file' '
	rd 2 &&
	test -f "$M" &&
	metrics check "$M" &&
	only_metrics_file
'

test_expect_success 'it has every gauge with HELP and TYPE, the result 2, no success yet' '
	described $GAUGES &&
	is "last_result" "$(metrics get "$M" autodeploy_last_result)" 2 &&
	test_must_fail 1 metrics get "$M" autodeploy_last_success_timestamp_seconds 2>/dev/null
'

test_expect_success 'one behind count per checkout, labelled with its path' '
	for c in $CHECKOUTS; do realpath "$c"; done | sort >paths.expect &&
	behind_paths >paths.actual &&
	test_cmp paths.expect paths.actual &&
	metrics samples "$M" autodeploy_checkout_behind_commits >samples &&
	is "samples" "$(wc -l <samples)" 3 &&
	{ cut -f 2 samples | grep -Ev "^[0-9]+$" >bad || true; } &&
	test ! -s bad
'

test_expect_success 'a successful deploy: result 0, a success time, the run time of this run' '
	rm fail-pre-deploy &&
	before=$(date +%s) &&
	rd 0 &&
	after=$(date +%s) &&
	metrics check "$M" &&
	only_metrics_file &&
	is "last_result" "$(metrics get "$M" autodeploy_last_result)" 0 &&
	described autodeploy_last_success_timestamp_seconds &&
	run=$(metrics get "$M" autodeploy_last_run_timestamp_seconds) &&
	ok=$(metrics get "$M" autodeploy_last_success_timestamp_seconds) &&
	run=${run%.*} ok=${ok%.*} &&
	test "$run" -ge $((before - 1)) && test "$run" -le $((after + 1)) &&
	test "$ok" -ge $((before - 1)) && test "$ok" -le $((after + 1)) &&
	d=$(metrics get "$M" autodeploy_deploy_duration_seconds) &&
	python3 -c "import sys; sys.exit(not (0 <= float(sys.argv[1]) <= $((after - before + 1))))" "$d" &&
	echo "$ok" >success-time
'

test_expect_success 'the success time is kept across a failed run; the result becomes 2' '
	dev=$(dev_clone stack) &&
	echo broken >"$dev/broken" &&
	dev_publish stack "break the health check" >/dev/null &&
	rd 2 &&
	metrics check "$M" &&
	only_metrics_file &&
	is "last_result" "$(metrics get "$M" autodeploy_last_result)" 2 &&
	ok=$(metrics get "$M" autodeploy_last_success_timestamp_seconds) &&
	is "last success" "${ok%.*}" "$(cat success-time)"
'

test_expect_success 'after the rollback the compose dir counts 1 commit behind' '
	p=$(metrics labels "$M" autodeploy_checkout_behind_commits | grep "compose\"$") &&
	v=$(metrics get "$M" autodeploy_checkout_behind_commits "$p") &&
	is "compose behind" "$v" 1
'

test_expect_success 'a refused run (unclean, 78) rewrites the metrics too' '
	echo edit >>extra1/file.txt &&
	rd 78 &&
	metrics check "$M" &&
	is "last_result" "$(metrics get "$M" autodeploy_last_result)" 78 &&
	ok=$(metrics get "$M" autodeploy_last_success_timestamp_seconds) &&
	is "last success" "${ok%.*}" "$(cat success-time)" &&
	git -C extra1 checkout -q -- file.txt
'

test_expect_success 'a checkout path with a double quote is escaped in its label' '
	git clone -q "$(remote_url ex1)" "$TRASH/odd\"dir" &&
	write_config "$TRASH/compose" &&
	config_add AUTODEPLOY_EXTRA_REPOS "$TRASH/odd\"dir" &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
	config_add AUTODEPLOY_METRICS_FILE "$M" &&
	code=0 &&
	{ run-deploy --config "$CONFIG" >out 2>err || code=$?; } &&
	metrics check "$M" &&
	metrics labels "$M" autodeploy_checkout_behind_commits >labels &&
	{ grep -F "odd\\\"dir\"" labels || { cat "$M" out err; false; }; }
'

test_done
