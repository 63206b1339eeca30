#!/bin/bash
# A birdhouse host's layout: the compose dir is a folder inside its
# repository (<repo>/birdhouse) and the checkout belongs to the operator
# (uid 1000) while the job runs as root.  Both are checked and deployed,
# the commands run in the configured folder, and the staged copy of the
# recreate strategy keeps the same layout.  `missing` is kept for a folder
# that truly is in no work tree.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

test_expect_success 'setup: a repository whose compose file is in birdhouse/, its checkout' '
	deploy_setup no &&
	dev=$(dev_clone stack) &&
	mkdir -p "$dev/birdhouse" &&
	echo "services: {}" >"$dev/birdhouse/docker-compose.yml" &&
	dev_publish stack "the birdhouse layout" >/dev/null &&
	git -C compose pull -q &&
	write_config "$TRASH/compose/birdhouse" &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
	config_add AUTODEPLOY_PREPARE_COMMAND "$STANDIN prepare"
'

test_expect_success 'check-drift: a folder inside a work tree is that checkout (up-to-date, then deploy)' '
	drift_json 0 &&
	json_is 0 decision up-to-date &&
	dev_push stack birdhouse/docker-compose.yml >/dev/null &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 path "$TRASH/compose/birdhouse"
'

test_expect_success 'run-deploy moves the whole checkout; prepare and start run in the configured folder' '
	rd 0 &&
	is "checkout" "$(git -C compose rev-parse HEAD)" "$(git -C stack.git rev-parse main)" &&
	is "start ran in" "$(cat cwd-start)" "$(cd compose/birdhouse && pwd -P)" &&
	is "prepare ran in" "$(cat cwd-prepare)" "$(cd "$STATE_DIR" && pwd -P)/stage$(cd "$TRASH" && pwd -P)/compose/birdhouse" &&
	test_grep "^AUTODEPLOY_STAGED_CHECKOUT_0=$STATE_DIR/stage$(cd "$TRASH" && pwd -P)/compose/birdhouse$" env-prepare
'

if [ "$(id -u)" = 0 ]; then
	test_expect_success 'a checkout owned by another user (uid 1000) is checked and deployed as root' '
		chown -R 1000:1000 compose &&
		git config --global --add safe.directory "*" &&
		dev_push stack >/dev/null &&
		drift_json 1 &&
		json_is 0 decision deploy &&
		rd 0 &&
		is "checkout" "$(git -C compose rev-parse HEAD)" "$(git -C stack.git rev-parse main)"
	'
else
	test_skip_or_fail 'a checkout owned by another user is deployed' 'needs root to give the checkout to uid 1000'
fi

test_expect_success 'AUTODEPLOY_PRESET=birdhouse restarts; the log has the markers birdhouse'"'"'s docs tell operators to watch' '
	: >"$LOG_DIR/autodeploy.log" &&
	config_add AUTODEPLOY_PRESET birdhouse &&
	dev_push stack >/dev/null &&
	rd 0 &&
	test_grep "triggerdeploy START_TIME=20" "$LOG_DIR/autodeploy.log" &&
	test_grep "triggerdeploy finished START_TIME=20" "$LOG_DIR/autodeploy.log" &&
	test_grep "triggerdeploy finished   END_TIME=20" "$LOG_DIR/autodeploy.log" &&
	test_grep "stop: running" err
'

test_expect_success 'a folder in no work tree is missing, and the reason says what was found' '
	mkdir -p plain &&
	write_config "$TRASH/plain" &&
	drift_json 0 &&
	json_is 0 decision missing &&
	test_grep "is a folder but not inside a git work tree" err
'

test_done
