#!/bin/bash
# AUTODEPLOY_STATE_DIR holds the lock, the journal and the trigger, and the
# programs run as root: a state folder that someone else can replace or
# write is refused (78, saying what to fix) before anything is created in
# it: a symlink planted in its place, a folder of another user, a folder
# others can write.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

test_expect_success 'setup: a checkout, its config' '
	make_remote stack 1 &&
	clone_remote stack compose &&
	write_config "$TRASH/compose" &&
	{ check-drift --config "$CONFIG" >out 2>err || { cat err; false; }; }
'

test_expect_success 'a STATE_DIR that is a symlink is refused (78), nothing created where it points' '
	mv "$STATE_DIR" real-state &&
	mkdir victim &&
	ln -s "$TRASH/victim" "$STATE_DIR" &&
	test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "AUTODEPLOY_STATE_DIR .* is a symbolic link: make it a real folder" err &&
	test_must_fail 78 run-deploy --config "$CONFIG" >out 2>err &&
	test_grep "is a symbolic link" err &&
	test -z "$(ls -A victim)" &&
	rm "$STATE_DIR" && mv real-state "$STATE_DIR"
'

test_expect_success 'a STATE_DIR others can write is refused (78) with the chmod to run' '
	chmod 0777 "$STATE_DIR" &&
	test_must_fail 78 run-deploy --config "$CONFIG" >out 2>err &&
	test_grep "can be written by others (mode 0777): chmod go-w" err &&
	test_must_fail 78 rotate-logs --config "$CONFIG" >out 2>err &&
	test_grep "can be written by others" err &&
	chmod 0755 "$STATE_DIR" &&
	{ check-drift --config "$CONFIG" >out 2>err || { cat err; false; }; }
'

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'a STATE_DIR of another user is refused (78) with the chown to run' '
		chown 1000 "$STATE_DIR" &&
		test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
		test_grep "belongs to uid 1000: give it to uid 0" err &&
		chown 0 "$STATE_DIR" &&
		{ check-drift --config "$CONFIG" >out 2>err || { cat err; false; }; }
	'
else
	test_skip_or_fail 'a STATE_DIR of another user is refused' 'needs root to give the folder away'
fi

test_expect_success 'a missing STATE_DIR is still created (0755)' '
	rm -rf "$STATE_DIR" &&
	check-drift --config "$CONFIG" >/dev/null 2>&1 &&
	is_mode=$(stat -c %a "$STATE_DIR") &&
	test "$is_mode" = 755
'

test_done
