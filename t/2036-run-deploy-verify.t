#!/bin/bash
# run-deploy with AUTODEPLOY_VERIFY (SPEC.md "Verified commits"): commits
# no allowed key signed are refused before anything stops: exit 65, the
# commit, the signer (or "unsigned") and the reason named, the notify
# command told, autodeploy_unverified 1, no checkout moved.  A signed one
# deploys as usual.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-sign.sh"

M=$TRASH/metrics.prom

# push_as WHO NAME: a commit on NAME's main, signed by WHO (none:
# unsigned), pushed; prints its id.
push_as() {
	_dev=$(dev_clone "$2") &&
	echo "$1 $RANDOM" >>"$_dev/file.txt" &&
	git -C "$_dev" add file.txt &&
	if [ "$1" = none ]; then
		git -C "$_dev" commit -q -m "by nobody"
	else
		sign_as "$1" "$_dev" commit -q -S -m "by $1"
	fi &&
	git -C "$_dev" push -q origin HEAD:refs/heads/main &&
	git -C "$_dev" rev-parse HEAD
}

test_expect_success 'setup: three checkouts, a stand-in stack, AUTODEPLOY_VERIFY=tip' '
	sign_keys &&
	deploy_setup &&
	config_add AUTODEPLOY_METRICS_FILE "$M" &&
	config_add AUTODEPLOY_VERIFY tip &&
	config_add AUTODEPLOY_ALLOWED_SIGNERS "$ALLOWED" &&
	save_heads v1
'

test_expect_success 'an unsigned commit: exit 65 before anything stops, commit and "unsigned" named' '
	c=$(push_as none stack) &&
	is "git verify-commit" "$(git_verdict "$TRASH/dev-stack" commit "$c")" bad &&
	fresh_record &&
	rd 65 --if-drift &&
	record_is "notify:notify:0" &&
	stack_is running &&
	is "checkouts" "$(heads)" "$(saved v1)" &&
	clean_at "$TRASH/compose" "$(echo $(saved v1) | cut -d" " -f1)" &&
	no_journal &&
	test_grep "unverified: commit $(echo "$c" | cut -c1-12): unsigned" err &&
	test_grep "nothing was stopped" err
'

test_expect_success 'the notify command and the metrics say so' '
	test_grep "^AUTODEPLOY_UNVERIFIED=1$" env-notify &&
	test_grep "^AUTODEPLOY_RESULT=65$" env-notify &&
	test_grep "^AUTODEPLOY_UNVERIFIED_REASON=.*commit $(git -C "$TRASH/stack.git" rev-parse --short=12 main): unsigned" env-notify &&
	is "autodeploy_unverified" "$(metrics get "$M" autodeploy_unverified)" 1 &&
	is "autodeploy_last_result" "$(metrics get "$M" autodeploy_last_result)" 65
'

test_expect_success 'a manual run and --dry-run refuse it too; nothing is stopped' '
	fresh_record &&
	rd 65 &&
	no_calls stop start pre-deploy prepare &&
	fresh_record &&
	rd 65 --dry-run &&
	record_empty &&
	is "checkouts" "$(heads)" "$(saved v1)"
'

test_expect_success 'an unknown key on an extra checkout holds the whole stack, naming the signer' '
	c=$(push_as alice stack) &&
	e=$(push_as eve ex1) &&
	is "git verify-commit" "$(git_verdict "$TRASH/dev-ex1" commit "$e")" bad &&
	fresh_record &&
	rd 65 --if-drift &&
	no_calls stop start pre-deploy prepare &&
	is "checkouts" "$(heads)" "$(saved v1)" &&
	test_grep "extra1.: unverified: commit $(echo "$e" | cut -c1-12) signed by .SHA256:.*: unknown key" err
'

test_expect_success 'signed commits everywhere deploy: stop, move, start; autodeploy_unverified 0' '
	c=$(push_as alice stack) &&
	e=$(push_as alice ex1) &&
	is "git verify-commit" "$(git_verdict "$TRASH/dev-ex1" commit "$e")" good &&
	fresh_record &&
	rd 0 --if-drift &&
	is "stop calls" "$(count_calls stop)" 1 &&
	is "start calls" "$(count_calls start)" 1 &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	is "autodeploy_unverified" "$(metrics get "$M" autodeploy_unverified)" 0
'

test_expect_success 'all: a signed tip on top of an unsigned commit is refused, the middle one named' '
	config_add AUTODEPLOY_VERIFY all &&
	save_heads v2 &&
	middle=$(push_as none stack) &&
	push_as alice stack >/dev/null &&
	fresh_record &&
	rd 65 --if-drift &&
	no_calls stop start pre-deploy prepare &&
	is "checkouts" "$(heads)" "$(saved v2)" &&
	test_grep "commit $(echo "$middle" | cut -c1-12): unsigned" err
'

test_expect_success 'the tip level deploys the same range (only the tip counts)' '
	config_add AUTODEPLOY_VERIFY tip &&
	fresh_record &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_done
