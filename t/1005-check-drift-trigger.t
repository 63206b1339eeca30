#!/bin/bash
# check-drift and the conditional trigger: autodeploy/conditional-trigger
# in the remote's new tree (relative to the configured folder first, then
# at the top) is run whatever its mode, as a program when it has a shebang,
# else through /bin/sh; as AUTODEPLOY_TRIGGER_USER (nobody when we are
# root: t/1008), cwd = /, a minimal environment,
# GIT_CHANGED_FILES as `git diff --name-status`, AUTODEPLOY_CHANGED_PATHS
# the paths; its output goes to the log.  Exit 0 means deploy, anything
# else pull-only.  Both are work that is due (exit 1).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

TRIGGER=autodeploy/conditional-trigger

# The trigger runs as nobody (when we are root): it records into a folder
# that everyone may write, reached through a scratch folder it may cross.
OUT=$TRASH/outbox
mkdir -p "$OUT" && chmod 1777 "$OUT" && chmod 711 "$TRASH" || exit 1

# write_trigger DIR CODE: a trigger in the work tree DIR that records what
# it was given (outside every checkout) and exits CODE.
write_trigger() {
	mkdir -p "$1/autodeploy" &&
	cat >"$1/$TRIGGER" <<EOF &&
#!/bin/sh
printf '%s\n' "\$AUTODEPLOY_CHANGED_PATHS" >"$OUT/trigger-changed"
printf '%s\n' "\$GIT_CHANGED_FILES" >"$OUT/trigger-status"
pwd -P >"$OUT/trigger-cwd"
env >"$OUT/trigger-env"
echo "said by the trigger"
exit $2
EOF
	chmod 755 "$1/$TRIGGER"
}

# changed_is PATH...: the trigger was run and got exactly these paths.
changed_is() {
	if [ ! -e "$OUT/trigger-changed" ]; then
		echo "error: the trigger was not run" >&2
		return 1
	fi
	printf '%s\n' "$@" | sort >"$TRASH/changed.expect"
	grep -v '^$' "$OUT/trigger-changed" | sort >"$TRASH/changed.actual"
	test_cmp "$TRASH/changed.expect" "$TRASH/changed.actual"
}

not_run() {
	if [ -e "$OUT/trigger-changed" ]; then
		echo "error: the trigger was run" >&2
		return 1
	fi
}

ODD='odd name;$(touch pwned).txt'

test_expect_success 'setup: a remote whose tree holds a trigger that says yes, and a clone' '
	make_remote trig 2 &&
	dev=$(dev_clone trig) &&
	write_trigger "$dev" 0 &&
	dev_publish trig "add the trigger" >/dev/null &&
	test "$(git -C trig.git ls-tree main "$TRIGGER" | cut -c1-6)" = 100755 &&
	clone_remote trig site &&
	write_config "$TRASH/site"
'

test_expect_success 'nothing moved: the trigger is not run, up-to-date (exit 0)' '
	rm -f outbox/trigger-changed &&
	drift_json 0 &&
	json_is 0 decision up-to-date &&
	not_run
'

test_expect_success 'the trigger says yes (exit 0): deploy (exit 1), and it got the changed paths' '
	dev=$(dev_clone trig) &&
	mkdir -p "$dev/docs" "$dev/src" &&
	echo readme >"$dev/docs/readme.md" &&
	echo "int main;" >"$dev/src/app.c" &&
	echo odd >"$dev/$ODD" &&
	new=$(dev_publish trig "three files") &&
	rm -f outbox/trigger-changed outbox/trigger-cwd &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 remote_commit "$new" &&
	changed_is docs/readme.md src/app.c "$ODD" &&
	printf "A\t%s\n" "$ODD" docs/readme.md src/app.c | sort >status.expect &&
	grep -v "^\$" outbox/trigger-status | sort >status.actual &&
	test_cmp status.expect status.actual
'

test_expect_success 'its output is in the log, not on stdout (--json stays JSON), its environment minimal' '
	test_grep "autodeploy/conditional-trigger: said by the trigger" err &&
	test_grep "autodeploy/conditional-trigger: said by the trigger" "$LOG_DIR/autodeploy.log" &&
	test_grep ! "said by" out &&
	SECRET_OF_THE_RUNNER=x drift_json 1 &&
	test_grep ! SECRET_OF_THE_RUNNER outbox/trigger-env &&
	test_grep "^PATH=" outbox/trigger-env &&
	test_grep "^AUTODEPLOY_NEW_COMMIT=" outbox/trigger-env &&
	test_grep "^HOME=/\$" outbox/trigger-env
'

test_expect_success 'the trigger runs in / (the checkout may be closed to its user), with no shell between' '
	test "$(cat outbox/trigger-cwd)" = / &&
	test ! -e pwned &&
	test ! -e site/pwned &&
	test -z "$(git -C site status --porcelain)"
'

test_expect_success 'the trigger says no (exit 1): pull-only, still due (exit 1)' '
	git -C site pull -q &&
	dev=$(dev_clone trig) &&
	write_trigger "$dev" 1 &&
	echo notes >"$dev/notes.txt" &&
	new=$(dev_publish trig "trigger says no") &&
	rm -f outbox/trigger-changed &&
	drift_json 1 &&
	json_is 0 decision pull-only &&
	rm -f outbox/trigger-changed &&
	drift_json 1 --no-fetch &&
	json_is 0 decision deploy &&
	test_grep "conditional trigger, if any, was not run (--no-fetch)" out &&
	not_run &&
	test_must_fail 0 run-deploy --config "$CONFIG" --dry-run >dry 2>err &&
	test_grep "was not run (--dry-run)" err &&
	not_run &&
	drift_json 1 &&
	json_is 0 decision pull-only &&
	json_is 0 remote_commit "$new" &&
	changed_is "$TRIGGER" notes.txt &&
	test_must_fail 0 drift --condition >/dev/null 2>&1
'

test_expect_success 'the trigger of the new tree is the one run, not the local one' '
	test "$(tail -n 1 site/$TRIGGER)" = "exit 0" &&
	json_is 0 decision pull-only
'

test_expect_success 'a trigger removed by the new commit is not run: deploy' '
	git -C site pull -q &&
	dev=$(dev_clone trig) &&
	git -C "$dev" rm -q "$TRIGGER" &&
	dev_publish trig "no more trigger" >/dev/null &&
	rm -f outbox/trigger-changed &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	not_run
'

test_expect_success 'a trigger that only the new tree holds is run' '
	make_remote fresh 2 &&
	clone_remote fresh fresh &&
	dev=$(dev_clone fresh) &&
	write_trigger "$dev" 1 &&
	echo x >"$dev/x.txt" &&
	dev_publish fresh "first trigger" >/dev/null &&
	test ! -e fresh/$TRIGGER &&
	write_config "$TRASH/fresh" &&
	rm -f outbox/trigger-changed &&
	drift_json 1 &&
	json_is 0 decision pull-only &&
	changed_is "$TRIGGER" x.txt
'

test_expect_success 'a trigger that is not executable (100644) is run all the same (upstream chmods it)' '
	git -C fresh pull -q &&
	dev=$(dev_clone fresh) &&
	chmod 644 "$dev/$TRIGGER" &&
	echo y >"$dev/y.txt" &&
	dev_publish fresh "trigger not executable" >/dev/null &&
	test "$(git -C fresh.git ls-tree main "$TRIGGER" | cut -c1-6)" = 100644 &&
	rm -f outbox/trigger-changed &&
	drift_json 1 &&
	json_is 0 decision pull-only &&
	changed_is "$TRIGGER" y.txt
'

test_expect_success 'a trigger without a shebang (upstream sample) runs through sh' '
	git -C fresh pull -q &&
	dev=$(dev_clone fresh) &&
	printf "echo sh ran me >\"%s/sh-ran\"\nexit 0\n" "$OUT" >"$dev/$TRIGGER" &&
	echo z >"$dev/z.txt" &&
	dev_publish fresh "trigger without shebang" >/dev/null &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	test "$(cat outbox/sh-ran)" = "sh ran me"
'

test_expect_success 'a trigger of mode 755 without a shebang runs through sh too' '
	git -C fresh pull -q &&
	dev=$(dev_clone fresh) &&
	printf "echo sh ran the 755 one >\"%s/sh-ran\"\nexit 1\n" "$OUT" >"$dev/$TRIGGER" &&
	chmod 755 "$dev/$TRIGGER" &&
	echo u >"$dev/u.txt" &&
	dev_publish fresh "755 without shebang" >/dev/null &&
	test "$(git -C fresh.git ls-tree main "$TRIGGER" | cut -c1-6)" = 100755 &&
	drift_json 1 &&
	json_is 0 decision pull-only &&
	test "$(cat outbox/sh-ran)" = "sh ran the 755 one"
'

test_expect_success 'the configured folder is inside the repository: its own trigger first' '
	git -C fresh pull -q &&
	dev=$(dev_clone fresh) &&
	mkdir -p "$dev/birdhouse" &&
	write_trigger "$dev/birdhouse" 1 &&
	echo w >"$dev/w.txt" &&
	dev_publish fresh "a trigger in birdhouse/" >/dev/null &&
	git -C fresh pull -q &&
	echo v >"$dev/v.txt" &&
	dev_publish fresh "one more" >/dev/null &&
	write_config "$TRASH/fresh/birdhouse" &&
	rm -f outbox/trigger-changed &&
	drift_json 1 &&
	json_is 0 decision pull-only &&
	test_grep "birdhouse/autodeploy/conditional-trigger exited 1" err &&
	changed_is v.txt &&
	test "$(cat outbox/trigger-cwd)" = /
'

test_expect_success 'a rename is R100 in GIT_CHANGED_FILES and in the log, as git diff --name-status says' '
	git -C fresh pull -q &&
	dev=$(dev_clone fresh) &&
	write_trigger "$dev/birdhouse" 0 &&
	seq 1 40 >"$dev/long.txt" &&
	dev_publish fresh "a long file" >/dev/null &&
	git -C fresh pull -q &&
	git -C "$dev" mv x.txt moved.txt &&
	git -C "$dev" mv long.txt long-moved.txt &&
	echo 41 >>"$dev/long-moved.txt" &&
	echo more >>"$dev/w.txt" &&
	dev_publish fresh "renames" >/dev/null &&
	git -C fresh fetch -q &&
	git -C fresh diff --name-status HEAD origin/main >status.expect &&
	test_grep "^R100	x.txt	moved.txt\$" status.expect &&
	test_grep "^R0[0-9][0-9]	long.txt	long-moved.txt\$" status.expect &&
	rm -f outbox/trigger-status &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	grep -v "^\$" outbox/trigger-status >status.actual &&
	# an edited rename'"'"'s score is libgit2'"'"'s estimate, which may differ from
	# git'"'"'s by a point (git counts bytes): only R100 is exact
	sed "s/^R0[0-9][0-9]/R0xx/" status.expect >status.expect.n &&
	sed "s/^R0[0-9][0-9]/R0xx/" status.actual >status.actual.n &&
	test_cmp status.expect.n status.actual.n &&
	# the log escapes the tabs
	grep -F "GIT_CHANGED_FILES: R100\\tx.txt\\tmoved.txt" "$LOG_DIR/autodeploy.log"
'

test_done
