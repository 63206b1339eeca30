#!/bin/bash
# The engine's own health counts (SPEC.md "Health from the engine"),
# against a real Docker engine and Debian's docker-compose (t/dockerd): a
# release whose compose healthcheck fails, or whose container exits at
# once, is a failed start and is rolled back, with no health command and
# with one, under recreate and restart; the rollback's and the recovery's
# starts are checked too; AUTODEPLOY_ENGINE_HEALTH=no trusts `up -d`.
# Which container runs which release is read from its labels.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-docker.sh"

docker_require

PROJECT=adh$$
CHECKOUT=$TRASH/$PROJECT
at_exit "cd '$CHECKOUT' && docker-compose down -t 1"

# write_stack DIR VERSION KIND: the compose file of VERSION, whose `web`
# is KIND: healthy (its healthcheck passes), unhealthy (it fails, saying
# why), exits (the command exits 3 at once, no healthcheck) or plain (no
# healthcheck, runs).  `idle` never changes.
write_stack() {
	_hc= &&
	case $3 in
	healthy) _cmd='["/bin/sleep", "1000000"]' _hc="echo fine" ;;
	unhealthy) _cmd='["/bin/sleep", "1000000"]' _hc="echo no database at db:5432; exit 1" ;;
	exits) _cmd='["/bin/sh", "-c", "echo cannot read config; exit 3"]' ;;
	plain) _cmd='["/bin/sleep", "1000000"]' ;;
	esac &&
	{
		cat <<-EOF &&
		version: "2.4"
		services:
		  web:
		    image: $IMAGE
		    network_mode: none
		    init: true
		    command: $_cmd
		    labels:
		      autodeploy.version: "$2"
		EOF
		if [ -n "$_hc" ]; then
			cat <<-EOF
			    healthcheck:
			      test: ["CMD", "/bin/sh", "-c", "$_hc"]
			      interval: 1s
			      timeout: 5s
			      retries: 2
			EOF
		fi &&
		cat <<-EOF
		  idle:
		    image: $IMAGE
		    network_mode: none
		    init: true
		    command: ["/bin/sleep", "1000000"]
		    labels:
		      autodeploy.version: "idle"
		EOF
	} >"$1/docker-compose.yml"
}

# release VERSION KIND: commit that version to the remote.
release() {
	_dev=$(dev_clone stack) &&
	write_stack "$_dev" "$1" "$2" &&
	dev_publish stack "release $1" >/dev/null
}

running() { running_label $PROJECT | tr "\n" " "; }
head_is() { is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$1"; }

test_expect_success 'setup: a remote holding v1 (healthy), its checkout running under compose' '
	git init -q --bare stack.git &&
	git clone -q "$(remote_url stack)" dev-stack 2>/dev/null &&
	write_stack dev-stack v1 healthy &&
	test_grep "test: \[\"CMD\", \"/bin/sh\", \"-c\", \"echo fine\"\]" dev-stack/docker-compose.yml &&
	dev_publish stack "release v1" >/dev/null &&
	git clone -q "$(remote_url stack)" "$CHECKOUT" &&
	{ (cd "$CHECKOUT" && docker-compose up -d) >up.log 2>&1 || { cat up.log; false; }; } &&
	is "running" "$(running)" "idle v1 " &&
	write_config "$CHECKOUT" &&
	config_add AUTODEPLOY_PREPARE_COMMAND "docker-compose config -q" &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 30
'

test_expect_success 'recreate, no health command: a release whose healthcheck fails is rolled back (2), v1 runs' '
	good=$(git -C "$CHECKOUT" rev-parse HEAD) &&
	release v2 unhealthy &&
	rd 2 &&
	test_grep "start: service .web. (container .*) is unhealthy" err &&
	test_grep "last health output: no database at db:5432" err &&
	test_grep "rolled back: the old commits are running" err &&
	test_grep "rollback-start: the engine reports 1 started container(s) running and healthy" err &&
	is "running" "$(running)" "idle v1 " &&
	head_is "$good"
'

test_expect_success 'recreate: a release whose container exits at once is rolled back (2), v1 runs' '
	good=$(git -C "$CHECKOUT" rev-parse HEAD) &&
	release v3 exits &&
	rd 2 &&
	test_grep "start: service .web. (container .*) is not running (state exited, exit code 3)" err &&
	is "running" "$(running)" "idle v1 " &&
	head_is "$good"
'

test_expect_success 'recreate: a healthy release deploys (0); the unchanged service is not waited for' '
	release v4 healthy &&
	rd 0 &&
	test_grep "^.*start: the engine reports 1 started container(s) running and healthy" err &&
	is "running" "$(running)" "idle v4 " &&
	head_is "$(git -C stack.git rev-parse main)"
'

test_expect_success 'a service without a healthcheck that stays up deploys (0), seen running twice' '
	release v5 plain &&
	rd 0 &&
	test_grep "start: the engine reports 1 started container(s) running and healthy" err &&
	is "running" "$(running)" "idle v5 "
'

test_expect_success 'restart, with a health command that passes: an unhealthy release is rolled back (2); every restarted container is waited for' '
	good=$(git -C "$CHECKOUT" rev-parse HEAD) &&
	config_add AUTODEPLOY_STRATEGY restart &&
	config_add AUTODEPLOY_HEALTHCHECK_COMMAND true &&
	config_add AUTODEPLOY_HEALTHCHECK_INTERVAL 1 &&
	release v6 unhealthy &&
	rd 2 &&
	test_grep "start: service .web. (container .*) is unhealthy" err &&
	test_grep ! "^.* healthcheck: running .true." err &&
	test_grep "rollback-start: the engine reports 2 started container(s) running and healthy" err &&
	test_grep "rollback-healthcheck: running .true." err &&
	is "running" "$(running)" "idle v5 " &&
	head_is "$good"
'

test_expect_success 'AUTODEPLOY_ENGINE_HEALTH=no: the unhealthy release deploys (0), as before' '
	config_add AUTODEPLOY_STRATEGY recreate &&
	config_add AUTODEPLOY_ENGINE_HEALTH no &&
	release v7 unhealthy &&
	rd 0 &&
	test_grep ! "the engine" err &&
	is "running" "$(running)" "idle v7 " &&
	head_is "$(git -C stack.git rev-parse main)"
'

test_expect_success 'the rollback start is checked too: back on the unhealthy v7, the rollback fails (3)' '
	config_add AUTODEPLOY_ENGINE_HEALTH yes &&
	release v8 exits &&
	rd 3 &&
	test_grep "start: service .web. (container .*) is not running" err &&
	test_grep "rollback-start: service .web. (container .*) is unhealthy" err &&
	test_grep "rollback failed" err &&
	test -e "$STATE_DIR/deploy.journal"
'

test_expect_success 'with the check off, the recovery trusts the start: recovered, on v7' '
	config_add AUTODEPLOY_ENGINE_HEALTH no &&
	rd 0 &&
	test_grep "recovered: the stack runs again" err &&
	is "running" "$(running)" "idle v7 " &&
	test ! -e "$STATE_DIR/deploy.journal"
'

test_expect_success 'the recovery start is checked too: killed while stopped (restart), the stack comes back on the unhealthy v7 (3)' '
	config_add AUTODEPLOY_ENGINE_HEALTH yes &&
	config_add AUTODEPLOY_STRATEGY restart &&
	release v9 healthy &&
	AUTODEPLOY_TEST_KILL_AT=after-stop rd 137 &&
	is "running" "$(running)" "" &&
	rd 3 &&
	test_grep "recover-start: service .web. (container .*) is unhealthy" err &&
	test_grep "recovery failed" err &&
	test -e "$STATE_DIR/deploy.journal"
'

test_expect_success 'with the check off again, the next run recovers and deploys the healthy v9 (0)' '
	config_add AUTODEPLOY_ENGINE_HEALTH no &&
	rd 0 &&
	test_grep "recovered: the stack runs again" err &&
	is "running" "$(running)" "idle v9 " &&
	head_is "$(git -C stack.git rev-parse main)"
'

test_done
