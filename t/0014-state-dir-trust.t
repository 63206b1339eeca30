#!/bin/bash
# AUTODEPLOY_STATE_DIR holds the lock, the journal and the trigger, and the
# programs run as root: a state folder that someone else can replace or
# write is refused (78, saying what to fix) before anything is created in
# it: a symlink planted in its place, a folder of another user, a folder
# others can write.  AUTODEPLOY_LOG_DIR gets the same check, and no log or
# lock file is ever opened through a planted symlink or hard link.
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

test_expect_success 'a LOG_DIR that is a symlink is refused (78), nothing written where it points' '
	mv "$LOG_DIR" real-log &&
	mkdir -p victim-log &&
	ln -s "$TRASH/victim-log" "$LOG_DIR" &&
	test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "AUTODEPLOY_LOG_DIR .* is a symbolic link: make it a real folder" err &&
	test_must_fail 78 run-deploy --config "$CONFIG" --dry-run >out 2>err &&
	test_must_fail 78 deploy-notebooks --config "$CONFIG" >out 2>err &&
	test_must_fail 78 rotate-logs --config "$CONFIG" >out 2>err &&
	test -z "$(ls -A victim-log)" &&
	rm "$LOG_DIR" && mv real-log "$LOG_DIR"
'

test_expect_success 'a LOG_DIR others can write is refused (78) with the chmod to run' '
	chmod 0775 "$LOG_DIR" &&
	test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "AUTODEPLOY_LOG_DIR .* can be written by others (mode 0775): chmod go-w" err &&
	chmod 0755 "$LOG_DIR" &&
	{ check-drift --config "$CONFIG" >out 2>err || { cat err; false; }; }
'

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'a LOG_DIR of another user is refused (78) with the chown to run' '
		chown 1000 "$LOG_DIR" &&
		test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
		test_grep "AUTODEPLOY_LOG_DIR .* belongs to uid 1000: give it to uid 0" err &&
		chown 0 "$LOG_DIR" &&
		{ check-drift --config "$CONFIG" >out 2>err || { cat err; false; }; }
	'
else
	test_skip_or_fail 'a LOG_DIR of another user is refused' 'needs root to give the folder away'
fi

# plant_log NAME: LOG_DIR/NAME is a symlink to ./victim.txt, a file that must
# stay as it is.
plant_log() {
	echo "keep me" >victim.txt &&
	rm -f "$LOG_DIR/$1" &&
	ln -s "$TRASH/victim.txt" "$LOG_DIR/$1"
}

test_expect_success 'a symlink planted at every log name is never followed: the run logs to stderr and says why' '
	plant_log autodeploy.log &&
	{ check-drift --config "$CONFIG" >out 2>err || { cat err; false; }; } &&
	test_grep "autodeploy.log.: it is a symbolic link: remove it" err &&
	run-deploy --config "$CONFIG" --dry-run >out 2>err &&
	test_grep "autodeploy.log.: it is a symbolic link" err &&
	plant_log notebookdeploy.log &&
	deploy-notebooks --config "$CONFIG" >out 2>err &&
	test_grep "notebookdeploy.log.: it is a symbolic link" err &&
	plant_log rotate-logs.log &&
	rotate-logs --config "$CONFIG" >out 2>err &&
	test_grep "rotate-logs.log.: it is a symbolic link" err &&
	test "$(cat victim.txt)" = "keep me" &&
	rm -f "$LOG_DIR"/*.log
'

test_expect_success 'a hard link planted as a log is not appended to' '
	echo "keep me" >victim.txt &&
	ln "$TRASH/victim.txt" "$LOG_DIR/autodeploy.log" &&
	{ check-drift --config "$CONFIG" >out 2>err || { cat err; false; }; } &&
	test_grep "autodeploy.log.: not a plain file of its own" err &&
	test "$(cat victim.txt)" = "keep me" &&
	rm -f "$LOG_DIR/autodeploy.log"
'

# plant_lock NAME: STATE_DIR/NAME is a symlink to ./victim.txt.
plant_lock() {
	echo "keep me" >victim.txt &&
	rm -f "$STATE_DIR/$1" &&
	ln -s "$TRASH/victim.txt" "$STATE_DIR/$1"
}

test_expect_success 'a symlink planted at every lock name is refused (74), its target neither truncated nor locked' '
	plant_lock lock &&
	test_must_fail 74 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "lock .*lock. is a symbolic link: remove it" err &&
	test_must_fail 74 run-deploy --config "$CONFIG" >out 2>err &&
	test_grep "is a symbolic link" err &&
	plant_lock notebooks.lock &&
	cp "$CONFIG" nb.env &&
	echo "AUTODEPLOY_NOTEBOOK_SOURCES=file://$TRASH/stack.git" >>nb.env &&
	echo "AUTODEPLOY_NOTEBOOK_DIR=$TRASH/notebooks" >>nb.env &&
	test_must_fail 74 deploy-notebooks --config nb.env >out 2>err &&
	test_grep "notebooks.lock. is a symbolic link" err &&
	plant_lock rotate-logs.lock &&
	test_must_fail 74 rotate-logs --config "$CONFIG" --force >out 2>err &&
	test_grep "rotate-logs.lock. is a symbolic link" err &&
	test "$(cat victim.txt)" = "keep me" &&
	rm -f "$STATE_DIR"/*lock
'

test_expect_success 'a hard link planted as the lock is refused (74) and not truncated' '
	echo "keep me" >victim.txt &&
	ln "$TRASH/victim.txt" "$STATE_DIR/lock" &&
	test_must_fail 74 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "is not a plain file of its own" err &&
	test "$(cat victim.txt)" = "keep me" &&
	rm -f "$STATE_DIR/lock"
'

test_done
