#!/bin/bash
# run-deploy with AUTODEPLOY_PRESET=birdhouse on the hosts birdhouse-deploy
# left behind: a 1.x-2.3 host has only pavics-compose.sh (deploy.sh falls
# back to it) and names its log folder PAVICS_LOG_DIR; the wrapper reads
# the env.local in use through BIRDHOUSE_LOCAL_ENV (no birdhouse/env.local
# symlink here); a compose dir that is not there is a configuration error
# (78, naming the key and its line) before anything is tried.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

# The wrapper is a stand-in committed in the repository, as birdhouse's
# is: each call appends "NAME ARGS | cwd=DIR | BIRDHOUSE_LOCAL_ENV=VALUE".
WRAPPER_CALLS=$TRASH/wrapper-calls
export WRAPPER_CALLS
BH_CONFIG=$TRASH/config/env.local

# wrapper NAME: the stand-in at dev-bh/birdhouse/NAME.
wrapper() {
	cat >"$TRASH/dev-bh/birdhouse/$1" <<-\EOF &&
	#!/bin/sh
	# stand-in for birdhouse's compose wrapper: says how it was called
	echo "$(basename "$0") $* | cwd=$(pwd -P) | BIRDHOUSE_LOCAL_ENV=${BIRDHOUSE_LOCAL_ENV-unset}" >>"$WRAPPER_CALLS"
	EOF
	chmod 755 "$TRASH/dev-bh/birdhouse/$1"
}

# bh_config COMPOSE_DIR: the host's env.local (in its own folder, as a
# config repository keeps it), with the names a 2.3 host uses.
bh_config() {
	mkdir -p "$TRASH/config" &&
	{
		echo "# env.local of a birdhouse-deploy 2.3 host"
		echo "AUTODEPLOY_PRESET=birdhouse"
		echo "export PAVICS_FQDN=host.example.invalid"
		echo "BIRDHOUSE_AUTODEPLOY_COMPOSE_DIR=$1"
		echo "export AUTODEPLOY_EXTRA_REPOS=\"$TRASH/extra\""
		echo "export PAVICS_LOG_DIR=$TRASH/pavics-logs"
		echo "AUTODEPLOY_STATE_DIR=$STATE_DIR"
		if [ "$(id -u)" != 0 ]; then
			echo "AUTODEPLOY_TRIGGER_USER=$(id -u)"
		fi
	} >"$BH_CONFIG"
}

# bh_rd CODE [OPTIONS...]: run-deploy with the host's env.local.
bh_rd() {
	_want=$1
	shift
	test_must_fail "$_want" run-deploy --config "$BH_CONFIG" "$@" >out 2>err ||
	{ cat err >&2; return 1; }
}

calls_are() {
	sed "s/ | .*//" "$WRAPPER_CALLS" >calls &&
	printf "%s\n" "$@" >expect &&
	test_cmp expect calls
}

test_expect_success 'setup: a 2.3 host (birdhouse/ with pavics-compose.sh), an extra repository, env.local elsewhere' '
	make_remote bh 1 &&
	dev_clone bh >/dev/null &&
	mkdir -p dev-bh/birdhouse &&
	echo "services: {}" >dev-bh/birdhouse/docker-compose.yml &&
	wrapper pavics-compose.sh &&
	dev_publish bh "birdhouse-deploy 2.3" >/dev/null &&
	clone_remote bh compose &&
	make_remote extra 1 &&
	clone_remote extra extra &&
	bh_config "$TRASH/compose/birdhouse"
'

test_expect_success 'a 2.3 host deploys through pavics-compose.sh (stop, then up -d, in the compose dir): exit 0' '
	dev_push bh >/dev/null &&
	bh_rd 0 &&
	calls_are "pavics-compose.sh stop" "pavics-compose.sh up -d" &&
	test_grep " | cwd=$(cd compose/birdhouse && pwd -P) | " "$WRAPPER_CALLS" &&
	test "$(git -C compose rev-parse HEAD)" = "$(git -C bh.git rev-parse main)"
'

test_expect_success 'PAVICS_LOG_DIR is where autodeploy.log goes' '
	test_grep "triggerdeploy finished START_TIME=" pavics-logs/autodeploy.log &&
	test_grep "stop: running .\./pavics-compose\.sh stop." pavics-logs/autodeploy.log
'

test_expect_success 'the wrapper is given BIRDHOUSE_LOCAL_ENV: the env.local in use, absolute even for a relative --config' '
	: >"$WRAPPER_CALLS" &&
	(cd config && run-deploy --config env.local --force >../out 2>../err) &&
	test_grep "^pavics-compose.sh stop | .* | BIRDHOUSE_LOCAL_ENV=$(cd config && pwd -P)/env.local$" "$WRAPPER_CALLS" &&
	test_grep "^pavics-compose.sh up -d | .* | BIRDHOUSE_LOCAL_ENV=$(cd config && pwd -P)/env.local$" "$WRAPPER_CALLS"
'

test_expect_success 'a BIRDHOUSE_LOCAL_ENV the operator gives run-deploy is kept, as deploy.sh keeps it' '
	: >"$WRAPPER_CALLS" &&
	BIRDHOUSE_LOCAL_ENV=/srv/birdhouse-env.local bh_rd 0 --force &&
	test_grep "^pavics-compose.sh up -d | .* | BIRDHOUSE_LOCAL_ENV=/srv/birdhouse-env.local$" "$WRAPPER_CALLS"
'

test_expect_success 'upgraded to 2.4 (both wrappers): that deploy still uses pavics-compose.sh, the next ones birdhouse-compose.sh' '
	wrapper birdhouse-compose.sh &&
	dev_publish bh "birdhouse-deploy 2.4" >/dev/null &&
	: >"$WRAPPER_CALLS" &&
	bh_rd 0 &&
	calls_are "pavics-compose.sh stop" "pavics-compose.sh up -d" &&
	: >"$WRAPPER_CALLS" &&
	dev_push bh >/dev/null &&
	bh_rd 0 &&
	calls_are "birdhouse-compose.sh stop" "birdhouse-compose.sh up -d"
'

test_expect_success 'a compose dir that does not exist: 78 naming the key and its line, before anything, no journal' '
	bh_config "$TRASH/gone/birdhouse" &&
	: >"$WRAPPER_CALLS" &&
	bh_rd 78 --if-drift &&
	test_grep "env.local:4: BIRDHOUSE_AUTODEPLOY_COMPOSE_DIR: .$TRASH/gone/birdhouse. does not exist" err &&
	test_must_be_empty "$WRAPPER_CALLS" &&
	test ! -e "$STATE_DIR/deploy.journal"
'

test_expect_success 'the same with an extra repository due: 78, nothing stopped, no journal, and again on the next run' '
	dev_push extra >/dev/null &&
	bh_rd 78 &&
	test_grep "env.local:4: BIRDHOUSE_AUTODEPLOY_COMPOSE_DIR: .* does not exist" err &&
	test_must_be_empty "$WRAPPER_CALLS" &&
	test ! -e "$STATE_DIR/deploy.journal" &&
	test "$(git -C extra rev-parse HEAD)" != "$(git -C extra.git rev-parse main)" &&
	bh_rd 78 --if-drift &&
	test ! -e "$STATE_DIR/deploy.journal"
'

test_expect_success 'a compose dir that is a file: 78, saying so' '
	echo not a folder >not-a-folder &&
	bh_config "$TRASH/not-a-folder" &&
	bh_rd 78 --dry-run &&
	test_grep "env.local:4: BIRDHOUSE_AUTODEPLOY_COMPOSE_DIR: .* is not a folder" err &&
	test_must_be_empty "$WRAPPER_CALLS"
'

test_done
