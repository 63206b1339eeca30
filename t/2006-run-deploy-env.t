#!/bin/bash
# run-deploy and the operator's commands: each runs under /bin/sh -c in the
# compose dir with the deploy's facts in its environment (checkouts, old and
# new commit of each, phase, result for notify); text from the repositories
# (commit messages, branch names, file names) never reaches a shell.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# A branch name that is a valid ref and a command substitution.
W='x$(touch${IFS}pwned-branch)'

# env_is PHASE KEY VALUE: what the command of PHASE had in its environment.
env_is() {
	if [ ! -f "$TRASH/env-$1" ]; then
		echo "error: no command ran in phase $1" >&2
		return 1
	fi
	_got=$(sed -n "s/^$2=//p" "$TRASH/env-$1")
	is "$2 in phase $1" "$_got" "$3"
}

no_pwned() {
	find "$TRASH" -name "pwned*" >"$TRASH/.found"
	if [ -s "$TRASH/.found" ]; then
		echo "error: a shell ran text from a repository:" >&2
		cat "$TRASH/.found" >&2
		return 1
	fi
}

test_expect_success 'setup: three checkouts, every command a stand-in, a push to all three' '
	deploy_setup &&
	save_heads v1 &&
	push_all &&
	remote_heads >v2 &&
	rm -f env-* cwd-* &&
	rd 0
'

test_expect_success 'every phase of a deploy ran a command (pre-deploy to notify)' '
	for p in pre-deploy stop start healthcheck notify; do
		test -f "env-$p" || { echo "error: no env-$p" >&2; ls >&2; exit 1; }
		env_is $p AUTODEPLOY_PHASE $p || exit 1
	done
'

test_expect_success 'each command got AUTODEPLOY_CHECKOUTS and AUTODEPLOY_CHECKOUT_<i>' '
	for p in pre-deploy stop start healthcheck notify; do
		env_is $p AUTODEPLOY_CHECKOUTS 3 &&
		is "checkout 0" "$(realpath "$(sed -n "s/^AUTODEPLOY_CHECKOUT_0=//p" env-$p)")" "$(realpath compose)" &&
		is "checkout 1" "$(realpath "$(sed -n "s/^AUTODEPLOY_CHECKOUT_1=//p" env-$p)")" "$(realpath extra1)" &&
		is "checkout 2" "$(realpath "$(sed -n "s/^AUTODEPLOY_CHECKOUT_2=//p" env-$p)")" "$(realpath extra2)" || exit 1
	done
'

test_expect_success 'each command got AUTODEPLOY_OLD_COMMIT_<i> and AUTODEPLOY_NEW_COMMIT_<i>' '
	set -- $(saved v1) && o0=$1 o1=$2 o2=$3 &&
	set -- $(saved v2) && n0=$1 n1=$2 n2=$3 &&
	for p in pre-deploy stop start healthcheck notify; do
		env_is $p AUTODEPLOY_OLD_COMMIT_0 $o0 &&
		env_is $p AUTODEPLOY_OLD_COMMIT_1 $o1 &&
		env_is $p AUTODEPLOY_OLD_COMMIT_2 $o2 &&
		env_is $p AUTODEPLOY_NEW_COMMIT_0 $n0 &&
		env_is $p AUTODEPLOY_NEW_COMMIT_1 $n1 &&
		env_is $p AUTODEPLOY_NEW_COMMIT_2 $n2 || exit 1
	done
'

test_expect_success 'notify got AUTODEPLOY_RESULT=0 and a text for it' '
	env_is notify AUTODEPLOY_RESULT 0 &&
	test_grep "^AUTODEPLOY_RESULT_TEXT=." env-notify
'

test_expect_success 'every command ran in the compose dir' '
	for p in pre-deploy stop start healthcheck notify; do
		is "cwd of $p" "$(cat cwd-$p)" "$(cd compose && pwd -P)" || exit 1
	done
'

test_expect_success 'the commands run under /bin/sh -c: pipes, redirections and $VARS work' '
	config_add AUTODEPLOY_NOTIFY_COMMAND "echo \"\$AUTODEPLOY_RESULT \$AUTODEPLOY_NEW_COMMIT_0\" | tr a-f A-F >>$TRASH/notify-log; $STANDIN notify" &&
	new=$(dev_push stack) &&
	rd 0 &&
	is "notify-log" "$(cat notify-log)" "0 $(echo $new | tr a-f A-F)"
'

test_expect_success 'setup: hostile commit messages, file names and a branch name' '
	dev=$(dev_clone stack) &&
	echo x >"$dev/\$(touch pwned-file).txt" &&
	echo y >"$dev/\`touch pwned-file2\`.txt" &&
	git -C "$dev" add -A &&
	git -C "$dev" commit -q -m "\$(touch pwned-message) \`touch pwned-message2\`; touch pwned-message3" &&
	git -C "$dev" push -q origin HEAD:refs/heads/main &&
	dev=$(dev_clone ex2) &&
	git -C "$dev" push -q origin "HEAD:refs/heads/$W" &&
	git -C extra2 fetch -q origin &&
	git -C extra2 checkout -q -b "$W" --track "origin/$W" &&
	test "$(git -C extra2 symbolic-ref --short HEAD)" = "$W" &&
	git -C "$dev" checkout -q -b "$W" --track "origin/$W" &&
	echo z >>"$dev/file.txt" &&
	git -C "$dev" commit -q -a -m "on \$(touch pwned-message4)" &&
	git -C "$dev" push -q origin "HEAD:refs/heads/$W" &&
	no_pwned
'

test_expect_success 'with the shell commands using them: --dry-run runs nothing from the repositories' '
	config_add AUTODEPLOY_STOP_COMMAND "echo \"\$AUTODEPLOY_NEW_COMMIT_2\" >/dev/null; $STANDIN stop" &&
	rd 0 --dry-run &&
	no_pwned
'

test_expect_success 'the deploy moves extra2 along its odd branch, and nothing was interpolated' '
	fresh_record &&
	rd 0 &&
	is "extra2" "$(git -C extra2 rev-parse HEAD)" "$(git -C ex2.git rev-parse "refs/heads/$W")" &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$(git -C stack.git rev-parse main)" &&
	test "$(git -C extra2 symbolic-ref --short HEAD)" = "$W" &&
	test -f "compose/\$(touch pwned-file).txt" &&
	no_pwned
'

test_expect_success 'the deploy facts in the environment are plain ids, not the hostile text' '
	env_is stop AUTODEPLOY_NEW_COMMIT_2 "$(git -C ex2.git rev-parse "refs/heads/$W")" &&
	env_is notify AUTODEPLOY_RESULT 0 &&
	no_pwned
'

test_done
