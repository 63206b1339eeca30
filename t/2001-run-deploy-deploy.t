#!/bin/bash
# run-deploy: a full deploy of the compose dir and two extra repos — the
# order of the commands, what each one saw checked out, the journal only
# while the deploy runs, last-deploy.json, the log; then the runs that have
# nothing to move (--if-drift, a plain run, --force) and --no-restart.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

test_expect_success 'setup: three checkouts up to date, a stand-in stack' '
	deploy_setup &&
	save_heads v1 &&
	test "$(saved v1)" = "$(remote_heads)"
'

test_expect_success 'a push to all three remotes' '
	push_all &&
	test "$(remote_heads)" != "$(saved v1)" &&
	remote_heads >v2
'

test_expect_success 'run-deploy deploys it: exit 0, every checkout on the new commit' '
	fresh_record &&
	rd 0 &&
	is "checkouts" "$(heads)" "$(saved v2)"
'

test_expect_success 'the commands ran in order: pre-deploy, stop, start, healthcheck, notify' '
	record_is pre-deploy:pre-deploy:0 stop:stop:0 start:start:0 \
		healthcheck:healthcheck:0 notify:notify:0
'

test_expect_success 'pre-deploy and stop saw the old commits of all three checkouts' '
	is "pre-deploy saw" "$(call_heads pre-deploy pre-deploy)" "$(saved v1)" &&
	is "stop saw" "$(call_heads stop stop)" "$(saved v1)"
'

test_expect_success 'start, the health check and notify saw the new commits of all three' '
	is "start saw" "$(call_heads start start)" "$(saved v2)" &&
	is "healthcheck saw" "$(call_heads healthcheck healthcheck)" "$(saved v2)" &&
	is "notify saw" "$(call_heads notify notify)" "$(saved v2)"
'

test_expect_success 'the journal existed from stop to health check, not before or after' '
	is "journal at pre-deploy" "$(call_field pre-deploy pre-deploy 4)" 0 &&
	is "journal at stop" "$(call_field stop stop 4)" 1 &&
	is "journal at start" "$(call_field start start 4)" 1 &&
	no_journal
'

test_expect_success 'the stack is running and the checkouts are clean, on their branch' '
	stack_is running &&
	for c in $CHECKOUTS; do
		test -z "$(git -C "$c" status --porcelain)" &&
		test "$(git -C "$c" symbolic-ref HEAD)" = refs/heads/main &&
		test "$(git -C "$c" rev-parse main)" = "$(git -C "$c" rev-parse origin/main)" || exit 1
	done
'

test_expect_success 'the working trees hold the new content (index and files updated)' '
	for r in stack ex1 ex2; do
		dev=$TRASH/dev-$r
		case $r in stack) c=compose ;; ex1) c=extra1 ;; ex2) c=extra2 ;; esac
		test_cmp "$dev/file.txt" "$TRASH/$c/file.txt" || exit 1
	done
'

test_expect_success 'last-deploy.json: result 0 and old/new commit of every checkout' '
	is result "$(last_json result)" 0 &&
	test -n "$(last_json result_text)" &&
	test -n "$(last_json start_time)" &&
	test -n "$(last_json end_time)" &&
	is "checkout count" "$(last_json count)" 3 &&
	set -- $(saved v1) &&
	is old0 "$(last_json checkout 0 old_commit)" "$1" &&
	is old1 "$(last_json checkout 1 old_commit)" "$2" &&
	is old2 "$(last_json checkout 2 old_commit)" "$3" &&
	set -- $(saved v2) &&
	is new0 "$(last_json checkout 0 new_commit)" "$1" &&
	is new1 "$(last_json checkout 1 new_commit)" "$2" &&
	is new2 "$(last_json checkout 2 new_commit)" "$3" &&
	is path0 "$(realpath "$(last_json checkout 0 path)")" "$(realpath compose)" &&
	is path2 "$(realpath "$(last_json checkout 2 path)")" "$(realpath extra2)"
'

test_expect_success 'the log has a start line and an end line with the result' '
	test -f "$LOG_FILE" &&
	test "$(grep -c "run-deploy\[[0-9]*\]: " "$LOG_FILE")" -ge 2 &&
	grep "run-deploy\[[0-9]*\]: " "$LOG_FILE" | tail -n 1 >last-line &&
	test_grep "END_TIME=" last-line &&
	test_grep "result=0" last-line &&
	pid=$(sed -n "s/.*run-deploy\[\([0-9]*\)\]: .*/\1/p" last-line) &&
	grep "run-deploy\[$pid\]: " "$LOG_FILE" | head -n 1 | grep -q "START_TIME="
'

test_expect_success '--if-drift with nothing due: exit 0, no command run, nothing moved' '
	fresh_record &&
	rd 0 --if-drift &&
	record_empty &&
	is "checkouts" "$(heads)" "$(saved v2)" &&
	no_journal
'

test_expect_success 'a plain run with nothing behind exits 0 without stopping the stack' '
	fresh_record &&
	rd 0 &&
	no_calls stop start healthcheck &&
	stack_is running &&
	is "checkouts" "$(heads)" "$(saved v2)"
'

test_expect_success '--force with nothing moved still stops and starts the stack' '
	fresh_record &&
	rd 0 --force &&
	is "stops" "$(count_calls stop stop)" 1 &&
	is "starts" "$(count_calls start start)" 1 &&
	is "stop saw" "$(call_heads stop stop)" "$(saved v2)" &&
	is "start saw" "$(call_heads start start)" "$(saved v2)" &&
	stack_is running &&
	is "checkouts" "$(heads)" "$(saved v2)" &&
	no_journal
'

test_expect_success '--no-restart moves the checkouts without stop, start or health check' '
	push_all &&
	remote_heads >v3 &&
	fresh_record &&
	rd 0 --no-restart &&
	is "checkouts" "$(heads)" "$(saved v3)" &&
	no_calls stop start healthcheck &&
	stack_is running &&
	no_journal
'

test_expect_success 'after --no-restart nothing is due any more' '
	fresh_record &&
	rd 0 --if-drift &&
	no_calls stop start healthcheck
'

test_expect_success 'only one extra repo behind: stop saw it old, start saw it new, the others untouched' '
	save_heads before &&
	new=$(dev_push ex2) &&
	fresh_record &&
	rd 0 --if-drift &&
	set -- $(saved before) &&
	is "stop saw" "$(call_heads stop stop)" "$1 $2 $3" &&
	is "start saw" "$(call_heads start start)" "$1 $2 $new" &&
	is "checkouts" "$(heads)" "$1 $2 $new"
'

test_expect_success 'several commits behind: fast-forwarded to the tip in one deploy' '
	dev_push stack >/dev/null &&
	dev_push stack >/dev/null &&
	tip=$(dev_push stack) &&
	fresh_record &&
	rd 0 --if-drift &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$tip" &&
	is "stops" "$(count_calls stop)" 1 &&
	is "starts" "$(count_calls start)" 1
'

test_expect_success 'a new file and a deleted file arrive in the working tree' '
	dev=$(dev_clone ex1) &&
	echo added >"$dev/added.txt" &&
	git -C "$dev" rm -q file.txt &&
	dev_publish ex1 "add one, delete one" >/dev/null &&
	rd 0 --if-drift &&
	test "$(cat extra1/added.txt)" = added &&
	test ! -e extra1/file.txt &&
	test -z "$(git -C extra1 status --porcelain)"
'

test_expect_success 'an unknown option is exit 64 and runs nothing' '
	fresh_record &&
	rd 64 --bogus &&
	record_empty
'

test_done
