#!/bin/bash
# run-deploy refuses or stops early, always before the stack is stopped:
# --dry-run (prints the plan, changes nothing), an unclean or diverged
# checkout (78), a local change that the new commit would overwrite (78,
# the change kept), an unreachable remote (69), a failing pre-deploy
# command (2), a submodule in a new commit (65).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# nothing_touched OLD-HEADS: no stand-in ran, the checkouts are where they
# were, no journal, the stack still running.
nothing_touched() {
	record_empty &&
	is "checkouts" "$(heads)" "$1" &&
	no_journal &&
	stack_is running
}

test_expect_success 'setup: three checkouts, a push to the compose remote and to extra1' '
	deploy_setup no &&
	save_heads v1 &&
	dev=$(dev_clone stack) &&
	mkdir -p "$dev/conf" &&
	echo "image: app:2" >"$dev/conf/compose.yml" &&
	echo "developer change" >"$dev/file.txt" &&
	dev_publish stack "two files" >/dev/null &&
	dev_push ex1 >/dev/null &&
	remote_heads >v2
'

test_expect_success '--dry-run exits 0 and changes nothing' '
	fresh_record &&
	rd 0 --dry-run &&
	nothing_touched "$(saved v1)" &&
	for c in $CHECKOUTS; do
		test -z "$(git -C "$c" status --porcelain)" || exit 1
	done
'

test_expect_success '--dry-run prints each moving checkout: PATH: OLD -> NEW (N files changed)' '
	set -- $(saved v1) && o0=$1 o1=$2 &&
	set -- $(saved v2) && n0=$1 n1=$2 &&
	o0=${o0:0:7} o1=${o1:0:7} n0=${n0:0:7} n1=${n1:0:7} &&
	{ grep -E "^$TRASH/compose: $o0[0-9a-f]* -> $n0[0-9a-f]* \(2 files? changed\)" out &&
	  grep -E "^$TRASH/extra1: $o1[0-9a-f]* -> $n1[0-9a-f]* \(1 files? changed\)" out ||
	  { cat out; false; }; }
'

test_expect_success '--dry-run lists the changed files, indented' '
	{ grep -E "^[[:space:]]+(. )?conf/compose.yml$" out &&
	  grep -E "^[[:space:]]+(. )?file.txt$" out ||
	  { cat out; false; }; }
'

test_expect_success '--dry-run shows the commands that would run' '
	test_grep "$STANDIN stop" out &&
	test_grep "$STANDIN start" out &&
	test_grep "$STANDIN healthcheck" out
'

test_expect_success '--dry-run --if-drift with nothing due prints no plan and runs nothing' '
	clone_remote stack quiet &&
	write_config "$TRASH/quiet" &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	fresh_record &&
	rd 0 --dry-run --if-drift &&
	record_empty &&
	test_grep ! "$TRASH/quiet: " out
'

test_expect_success '--if-drift: an unclean checkout that is not behind is not due (0, nothing run)' '
	deploy_config no &&
	clone_remote ex2 solo &&
	write_config "$TRASH/solo" &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
	echo "operator edit" >>solo/file.txt &&
	fresh_record &&
	rd 0 --if-drift &&
	record_empty &&
	test "$(tail -n 1 solo/file.txt)" = "operator edit"
'

test_expect_success 'an unclean checkout (a modified tracked file): 78, nothing stopped' '
	deploy_config no &&
	echo "operator edit" >>extra2/file.txt &&
	fresh_record &&
	rd 78 &&
	nothing_touched "$(saved v1)" &&
	test_grep "$TRASH/extra2" err
'

test_expect_success 'the refusal tells the operator what to do about it' '
	{ grep -Ei "commit|stash|discard|revert|reset|restore|clean up|remove" err ||
	  { cat err; false; }; }
'

test_expect_success 'an untracked file is unclean too: 78, nothing stopped, the file kept' '
	git -C extra2 checkout -q -- file.txt &&
	echo "notes" >extra2/untracked.txt &&
	fresh_record &&
	rd 78 &&
	nothing_touched "$(saved v1)" &&
	test "$(cat extra2/untracked.txt)" = notes &&
	rm extra2/untracked.txt
'

test_expect_success '--if-drift refuses the same way (78), nothing stopped' '
	echo "operator edit" >>compose/file.txt &&
	fresh_record &&
	rd 78 --if-drift &&
	nothing_touched "$(saved v1)"
'

test_expect_success 'a local change to a file the new commit also changes is never overwritten' '
	test "$(tail -n 1 compose/file.txt)" = "operator edit" &&
	! git -C compose diff --quiet HEAD -- file.txt &&
	! git -C stack.git diff --quiet "$(git -C compose rev-parse HEAD)" main -- file.txt &&
	fresh_record &&
	rd 78 &&
	nothing_touched "$(saved v1)" &&
	test "$(tail -n 1 compose/file.txt)" = "operator edit" &&
	git -C compose checkout -q -- file.txt
'

test_expect_success 'a diverged checkout (a local commit, and behind): 78, nothing stopped' '
	local_commit extra1 &&
	save_heads diverged &&
	fresh_record &&
	rd 78 &&
	nothing_touched "$(saved diverged)" &&
	test_grep "$TRASH/extra1" err &&
	test -n "$(git -C extra1 log --oneline origin/main..HEAD)"
'

test_expect_success 'once the local commit is gone, the same run deploys' '
	git -C extra1 reset -q --hard HEAD^ &&
	fresh_record &&
	rd 0 &&
	is "checkouts" "$(heads)" "$(saved v2)" &&
	is "stops" "$(count_calls stop)" 1 &&
	stack_is running
'

test_expect_success 'an ignored local file that the new commit adds is not overwritten' '
	dev=$(dev_clone stack) &&
	echo "local.conf" >"$dev/.gitignore" &&
	dev_publish stack "ignore local.conf" >/dev/null &&
	rd 0 &&
	echo "operator secret" >compose/local.conf &&
	test -z "$(git -C compose status --porcelain)" &&
	save_heads before &&
	dev=$(dev_clone stack) &&
	echo "upstream default" >"$dev/local.conf" &&
	git -C "$dev" add -f local.conf &&
	dev_publish stack "track local.conf" >/dev/null &&
	fresh_record &&
	code=0 &&
	{ run-deploy --config "$CONFIG" >out 2>err || code=$?; } &&
	cat out err &&
	case $code in
	78) record_empty ;;
	2) test "$(cat "$STACK_STATE")" = running && no_journal ;;
	*) echo "error: exit $code, expected 78 (refused) or 2 (rolled back)" >&2; exit 1 ;;
	esac &&
	is "local.conf" "$(cat compose/local.conf)" "operator secret" &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	stack_is running
'

test_expect_success 'that checkout is refused before anything runs: 78, no stand-in called, the file named' '
	fresh_record &&
	rd 78 &&
	record_empty &&
	test_grep "local.conf" err &&
	test_grep "nothing was stopped: move or commit the local files named above" err &&
	is "local.conf" "$(cat compose/local.conf)" "operator secret"
'

test_expect_success 'setup: a fresh pre-deploy stand-in, the ignored file gone' '
	rm -f compose/local.conf &&
	{ git -C compose checkout -q HEAD -- local.conf 2>/dev/null || true; } &&
	rd 0 &&
	deploy_config &&
	save_heads v3 &&
	dev_push stack >/dev/null &&
	dev_push ex2 >/dev/null &&
	remote_heads >v4
'

test_expect_success 'a failing pre-deploy command: exit 2, nothing stopped or moved' '
	touch fail-pre-deploy &&
	fresh_record &&
	rd 2 &&
	no_calls stop start healthcheck &&
	is "pre-deploy rc" "$(call_field pre-deploy pre-deploy 3)" 1 &&
	is "checkouts" "$(heads)" "$(saved v3)" &&
	no_journal &&
	stack_is running
'

test_expect_success 'the notify command still hears about it (AUTODEPLOY_RESULT=2)' '
	test_grep "^AUTODEPLOY_RESULT=2$" env-notify &&
	is "result" "$(last_json result)" 2
'

test_expect_success 'with the pre-deploy command fixed, the deploy goes through' '
	rm fail-pre-deploy &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(saved v4)" &&
	record_is pre-deploy:pre-deploy:0 stop:stop:0 start:start:0 \
		healthcheck:healthcheck:0 notify:notify:0
'

test_expect_success 'an unreachable remote (moved away): exit 69, nothing stopped or moved' '
	save_heads v5 &&
	dev_push stack >/dev/null &&
	dev_push ex1 >/dev/null &&
	mv ex1.git ex1-away.git &&
	fresh_record &&
	rd 69 &&
	no_calls pre-deploy stop start healthcheck &&
	is "checkouts" "$(heads)" "$(saved v5)" &&
	no_journal &&
	stack_is running
'

test_expect_success '--if-drift with the remote unreachable: 69 as well, nothing stopped' '
	fresh_record &&
	rd 69 --if-drift &&
	no_calls pre-deploy stop start healthcheck &&
	is "checkouts" "$(heads)" "$(saved v5)"
'

test_expect_success 'with the remote back, both checkouts are deployed' '
	mv ex1-away.git ex1.git &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	is "stops" "$(count_calls stop)" 1
'

test_expect_success 'a commit that holds a submodule: refused (65) before any stop, naming it' '
	save_heads v6 &&
	dev=$(dev_clone stack) &&
	git -C "$dev" update-index --add --cacheinfo "160000,$(git -C "$TRASH/ex1.git" rev-parse main),vendor/lib" &&
	git -C "$dev" commit -q -m "vendor/lib as a submodule" &&
	git -C "$dev" push -q origin HEAD:main &&
	test_must_fail 65 check-drift --config "$CONFIG" 2>err &&
	test_grep "vendor/lib.: a submodule: autodeploy does not deploy submodules" err &&
	fresh_record &&
	rd 65 --if-drift &&
	no_calls pre-deploy stop start healthcheck &&
	is "checkouts" "$(heads)" "$(saved v6)" &&
	test_grep "vendor its files" err
'

test_done
