#!/bin/sh
# A path in env.local is resolved by every program as written: a relative
# one would depend on the folder the program starts in (a run from / and
# one from /root would take two locks and deploy one checkout at once).
# Every path key is refused when relative, by every program, with 78
# naming env.local's line, before anything is created.
. "$(dirname "$0")/lib.sh"

# config KEY VALUE: env.local with KEY on line 1, then absolute paths for
# the other keys (not for KEY, nor for the name KEY is an alias of).
config() {
	skip=$1
	[ "$1" != BIRDHOUSE_LOG_DIR ] || skip=AUTODEPLOY_LOG_DIR
	mkdir -p "$TRASH/stack" &&
	{
		echo "$1=\"$2\""
		for kv in AUTODEPLOY_COMPOSE_DIR=$TRASH/stack AUTODEPLOY_LOG_DIR=$TRASH/log \
			AUTODEPLOY_STATE_DIR=$TRASH/state AUTODEPLOY_DEPLOY_KEY_ROOT_DIR=$TRASH/keys \
			AUTODEPLOY_KNOWN_HOSTS=$TRASH/known_hosts; do
			[ "${kv%%=*}" = "$skip" ] || echo "$kv"
		done
	} >env.local
}

mkdir -p run-here

for key in AUTODEPLOY_COMPOSE_DIR AUTODEPLOY_STATE_DIR AUTODEPLOY_LOG_DIR AUTODEPLOY_METRICS_FILE \
	AUTODEPLOY_SELF_UPDATE AUTODEPLOY_NOTEBOOK_DIR AUTODEPLOY_DEPLOY_KEY_ROOT_DIR \
	AUTODEPLOY_KNOWN_HOSTS BIRDHOUSE_LOG_DIR; do
	test_expect_success "$key=relative/path: every program refuses it (78, env.local:1), nothing created" '
		config "$key" relative/path &&
		for prog in check-drift run-deploy deploy-notebooks rotate-logs; do
			(cd run-here && test_must_fail 78 "$prog" --config "$TRASH/env.local" >../out 2>../err) &&
			test_grep "env.local:1: $key: .relative/path. is a relative path: write it from /" err ||
			return 1
		done &&
		(cd run-here && test_must_fail 78 install-units --config "$TRASH/env.local" --root "$TRASH/root" \
			>../out 2>../err) &&
		test_grep "env.local:1: $key: .relative/path. is a relative path" err &&
		test -z "$(ls -A run-here)" &&
		test ! -e "$TRASH/state" &&
		test ! -e "$TRASH/root"
	'
done

test_expect_success 'a list of paths is refused for its one relative entry, naming it' '
	config AUTODEPLOY_EXTRA_REPOS "$TRASH/a ../b" &&
	test_must_fail 78 check-drift --config env.local >out 2>err &&
	test_grep "env.local:1: AUTODEPLOY_EXTRA_REPOS: .\.\./b. is a relative path" err
'

test_expect_success 'absolute paths, and unset ones (their defaults), are accepted' '
	config AUTODEPLOY_METRICS_FILE "$TRASH/metrics.prom" &&
	git init -q "$TRASH/stack" &&
	code=0 &&
	{ check-drift --config env.local --no-fetch >out 2>err || code=$?; } &&
	test_grep ! "relative path" err &&
	test "$code" != 78
'

test_done
