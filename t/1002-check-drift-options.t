#!/bin/bash
# check-drift: command line, configuration, several checkouts, the lock,
# the log, --condition and the interrupted-deploy journal.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

test_expect_success 'setup: a compose checkout and three extra checkouts, all up to date' '
	for r in stack zeta alpha mid; do
		make_remote "$r" 2 &&
		clone_remote "$r" "$r" || exit 1
	done &&
	write_config "$TRASH/stack"
'

test_expect_success 'an unknown option is a one-line error, exit 64' '
	test_must_fail 64 drift --json --bogus >out 2>err &&
	test ! -s out &&
	test "$(wc -l <err)" -eq 1 &&
	test_grep bogus err
'

test_expect_success 'a stray argument is a one-line error, exit 64' '
	test_must_fail 64 drift --json stray-word >out 2>err &&
	test ! -s out &&
	test "$(wc -l <err)" -eq 1 &&
	test_grep stray-word err
'

test_expect_success '--help lists the options of check-drift and exits 0' '
	check-drift --help >out 2>err &&
	for o in --json --no-fetch --condition --wait --config --verbose --quiet; do
		test_grep "$o" out || exit 1
	done
'

test_expect_success 'the config is also found through AUTODEPLOY_CONFIG' '
	AUTODEPLOY_CONFIG=$CONFIG check-drift --json >out 2>err &&
	json_check out &&
	json_is 0 decision up-to-date
'

test_expect_success 'a syntax error in the config is exit 78, naming the file and line' '
	{
		echo "AUTODEPLOY_COMPOSE_DIR=$TRASH/stack"
		echo "AUTODEPLOY_LOG_DIR=$LOG_DIR"
		echo "AUTODEPLOY_STATE_DIR=\$(rm -rf $TRASH/stack)"
	} >bad.env &&
	test_must_fail 78 check-drift --config bad.env --json >out 2>err &&
	test_grep "bad.env:3" err &&
	test -d stack/.git
'

test_expect_success 'an unterminated quote is exit 78, naming its line' '
	printf "# a comment\nAUTODEPLOY_COMPOSE_DIR=\"%s\n" "$TRASH/stack" >quote.env &&
	test_must_fail 78 check-drift --config quote.env --json >out 2>err &&
	test_grep "quote.env:2" err
'

test_expect_success 'a malformed AUTODEPLOY_TRACK is exit 78, naming the line' '
	write_config "$TRASH/stack" &&
	config_add AUTODEPLOY_TRACK sometimes &&
	test_must_fail 78 drift --json >out 2>err &&
	test_grep "env.local:5" err &&
	test_grep AUTODEPLOY_TRACK err
'

test_expect_success 'a config without AUTODEPLOY_COMPOSE_DIR is exit 78' '
	{
		echo "AUTODEPLOY_LOG_DIR=$LOG_DIR"
		echo "AUTODEPLOY_STATE_DIR=$STATE_DIR"
	} >nocompose.env &&
	test_must_fail 78 check-drift --config nocompose.env --json >out 2>err &&
	test_grep AUTODEPLOY_COMPOSE_DIR err
'

test_expect_success 'a config file that does not exist is exit 78' '
	test_must_fail 78 check-drift --config "$TRASH/no-such.env" --json >out 2>err &&
	test_grep no-such.env err
'

test_expect_success 'extra repos are reported after the compose dir, in the configured order' '
	{
		echo "AUTODEPLOY_COMPOSE_DIR=$TRASH/stack"
		echo "AUTODEPLOY_EXTRA_REPOS=\""
		echo "    $TRASH/zeta"
		echo "    $TRASH/alpha   $TRASH/mid"
		echo "\""
		echo "AUTODEPLOY_LOG_DIR=$LOG_DIR"
		echo "AUTODEPLOY_STATE_DIR=$STATE_DIR"
	} >"$CONFIG" &&
	drift_json 0 &&
	json_len_is 4 &&
	for r in stack zeta alpha mid; do
		(cd "$r" && pwd -P) || exit 1
	done >expect &&
	json paths out >actual &&
	test_cmp expect actual &&
	json list out decision >decisions &&
	printf "up-to-date\nup-to-date\nup-to-date\nup-to-date\n" >expect &&
	test_cmp expect decisions
'

test_expect_success 'one checkout due among several: that one is deploy, exit 1' '
	new=$(dev_push alpha) &&
	drift_json 1 &&
	json list out decision >decisions &&
	printf "up-to-date\nup-to-date\ndeploy\nup-to-date\n" >expect &&
	test_cmp expect decisions &&
	json_path_is "$TRASH/alpha" remote_commit "$new"
'

test_expect_success 'more checkouts than run in parallel: each reported once, in order, with its own decision' '
	extras= &&
	: >expect &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
		clone_remote stack "many$i" &&
		extras="$extras $TRASH/many$i" || exit 1
		if [ $((i % 3)) -eq 0 ]; then
			git -C "many$i" reset -q --hard HEAD~1 &&
			echo deploy >>expect
		else
			echo up-to-date >>expect
		fi
	done &&
	write_config "$TRASH/many1" "${extras# $TRASH/many1 }" &&
	drift_json 1 &&
	json_len_is 14 &&
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14; do
		(cd "many$i" && pwd -P) || exit 1
	done >expect.paths &&
	json paths out >actual.paths &&
	test_cmp expect.paths actual.paths &&
	json list out decision >decisions &&
	test_cmp expect decisions
'

test_expect_success '--version prints the program name and exits 0' '
	check-drift --version >out 2>err &&
	test_grep check-drift out
'

test_expect_success '--condition: exit 0 when a deploy is due' '
	write_config "$TRASH/stack" "$TRASH/zeta $TRASH/alpha $TRASH/mid" &&
	test_must_fail 0 drift --condition >out 2>err
'

test_expect_success '--condition: exit 1 when nothing is due' '
	git -C alpha pull -q &&
	drift_json 0 &&
	test_must_fail 1 drift --condition >out 2>err
'

test_expect_success '--condition: a bad command line is a failure (255), not a quiet skip' '
	test_must_fail 255 check-drift --condition --no-such-option >out 2>err &&
	test_must_fail 255 check-drift --bogus --condition >out 2>err &&
	test_must_fail 255 check-drift --condition stray >out 2>err
'

test_expect_success '--condition: exit 255 on a configuration error' '
	test_must_fail 255 check-drift --config bad.env --condition >out 2>err
'

test_expect_success 'a missing extra checkout is skipped: the others are still checked' '
	write_config "$TRASH/stack" "$TRASH/zeta $TRASH/gone $TRASH/mid" &&
	new=$(dev_push mid) &&
	drift_json 1 &&
	json list out decision >decisions &&
	printf "up-to-date\nup-to-date\nmissing\ndeploy\n" >expect &&
	test_cmp expect decisions &&
	git -C mid pull -q
'

test_expect_success 'the log gets a start line and an end line with the result' '
	write_config "$TRASH/stack" &&
	rm -rf "$LOG_DIR" &&
	drift_json 0 &&
	test -s "$LOG_FILE" &&
	re="^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[^ ]* check-drift\[[0-9]+\]: (info|warning|error): ." &&
	if grep -Ev "$re" "$LOG_FILE"; then echo "malformed log lines above" >&2; exit 1; fi &&
	head -n 1 "$LOG_FILE" | grep -E ": info: start" &&
	tail -n 1 "$LOG_FILE" | grep -E ": (info|warning|error): end: .*result=0" &&
	pid1=$(head -n 1 "$LOG_FILE" | sed -E "s/.*check-drift\[([0-9]+)\].*/\1/") &&
	pid2=$(tail -n 1 "$LOG_FILE" | sed -E "s/.*check-drift\[([0-9]+)\].*/\1/") &&
	test "$pid1" = "$pid2"
'

test_expect_success 'a second run appends to the log; a due run ends with result=1' '
	lines=$(wc -l <"$LOG_FILE") &&
	dev_push stack >/dev/null &&
	drift_json 1 &&
	test "$(wc -l <"$LOG_FILE")" -gt "$lines" &&
	test "$(grep -c ": info: start" "$LOG_FILE")" -eq 2 &&
	tail -n 1 "$LOG_FILE" | grep -E ": (info|warning|error): end: .*result=1" &&
	git -C stack pull -q
'

test_expect_success '--quiet keeps info lines off stderr; the log file still gets them' '
	lines=$(wc -l <"$LOG_FILE") &&
	drift_json 0 --quiet &&
	test_grep ! ": info: " err &&
	test "$(wc -l <"$LOG_FILE")" -gt "$lines"
'

test_expect_success 'log lines are echoed to stderr without --quiet' '
	drift_json 0 &&
	test_grep "check-drift\[[0-9]*\]: info: start" err
'

test_expect_success 'an unfinished deploy journal is due: exit 1, decision interrupted' '
	mkdir -p "$STATE_DIR" &&
	echo "journal of a killed deploy" >"$STATE_DIR/deploy.journal" &&
	lines=$(wc -l <"$LOG_FILE") &&
	drift_json 1 &&
	json list out decision >decisions &&
	grep -x interrupted decisions &&
	grep -x up-to-date decisions &&
	test "$(grep -c . decisions)" -eq 2 &&
	tail -n +$((lines + 1)) "$LOG_FILE" | grep interrupted &&
	test_must_fail 0 drift --condition >/dev/null 2>&1 &&
	test -e "$STATE_DIR/deploy.journal"
'

test_expect_success 'with the journal gone, nothing is due again' '
	rm -f "$STATE_DIR/deploy.journal" &&
	drift_json 0 &&
	json_len_is 1
'

test_expect_success 'a held lock makes check-drift exit 75' '
	hold_lock 30 &&
	code=0 &&
	{ drift --json >out 2>err || code=$?; } &&
	release_lock &&
	{ test "$code" -eq 75 || { echo "exit $code, expected 75" >&2; cat err >&2; false; }; }
'

test_expect_success 'a lock still held after --wait is exit 75' '
	hold_lock 30 &&
	code=0 &&
	{ drift --json --wait 1 >out 2>err || code=$?; } &&
	release_lock &&
	{ test "$code" -eq 75 || { echo "exit $code, expected 75" >&2; cat err >&2; false; }; }
'

test_expect_success '--wait: a lock released during the wait is taken and the run goes on' '
	hold_lock 1 &&
	code=0 &&
	{ drift --json --wait 5 >out 2>err || code=$?; } &&
	release_lock &&
	{ test "$code" -eq 0 || { echo "exit $code, expected 0" >&2; cat err >&2; false; }; } &&
	json_check out &&
	json_is 0 decision up-to-date
'

test_done
