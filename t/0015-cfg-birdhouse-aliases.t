#!/bin/bash
# A birdhouse-deploy host keeps its env.local: BIRDHOUSE_AUTODEPLOY_* and
# BIRDHOUSE_LOG_DIR (PAVICS_LOG_DIR before 2.4) are read as aliases of
# our AUTODEPLOY_* keys; when two names are set to different values ours
# win (then birdhouse's newer one), with a warning that names both lines;
# a malformed alias is refused naming its own line.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

test_expect_success 'setup: two checkouts' '
	make_remote stack 1 && clone_remote stack compose &&
	make_remote extra 1 && clone_remote extra extra
'

test_expect_success 'BIRDHOUSE_AUTODEPLOY_EXTRA_REPOS and BIRDHOUSE_LOG_DIR are used when ours are unset' '
	cat >env.local <<-EOF &&
	AUTODEPLOY_COMPOSE_DIR=$TRASH/compose
	AUTODEPLOY_STATE_DIR=$TRASH/state
	export BIRDHOUSE_LOG_DIR=$TRASH/bh-logs
	export BIRDHOUSE_AUTODEPLOY_EXTRA_REPOS="$TRASH/extra"
	EOF
	check-drift --config env.local --json >out 2>err &&
	json_len_is 2 &&
	json_is 1 path "$TRASH/extra" &&
	test_grep "check-drift" bh-logs/autodeploy.log &&
	test_grep ! "differ" err
'

test_expect_success 'both set and different: ours win, a warning names both lines' '
	cat >env.local <<-EOF &&
	AUTODEPLOY_COMPOSE_DIR=$TRASH/compose
	AUTODEPLOY_STATE_DIR=$TRASH/state
	AUTODEPLOY_LOG_DIR=$TRASH/our-logs
	BIRDHOUSE_LOG_DIR=$TRASH/bh-logs
	BIRDHOUSE_AUTODEPLOY_EXTRA_REPOS="$TRASH/extra"
	AUTODEPLOY_EXTRA_REPOS=
	EOF
	check-drift --config env.local --json >out 2>err &&
	test_grep "env.local:3: AUTODEPLOY_LOG_DIR and .*env.local:4: BIRDHOUSE_LOG_DIR differ: AUTODEPLOY_LOG_DIR is used" err &&
	test_grep "env.local:6: AUTODEPLOY_EXTRA_REPOS and .*env.local:5: BIRDHOUSE_AUTODEPLOY_EXTRA_REPOS differ" err &&
	test -f our-logs/autodeploy.log &&
	json_len_is 1
'

test_expect_success 'both set to the same value: no warning' '
	cat >env.local <<-EOF &&
	AUTODEPLOY_COMPOSE_DIR=$TRASH/compose
	AUTODEPLOY_STATE_DIR=$TRASH/state
	AUTODEPLOY_LOG_DIR=$TRASH/our-logs
	BIRDHOUSE_LOG_DIR=$TRASH/our-logs
	EOF
	check-drift --config env.local >out 2>err &&
	test_grep ! "differ" err
'

test_expect_success 'PAVICS_LOG_DIR (1.x-2.3) is read when neither newer name is set; BIRDHOUSE_LOG_DIR wins over it, with a warning' '
	cat >env.local <<-EOF &&
	AUTODEPLOY_COMPOSE_DIR=$TRASH/compose
	AUTODEPLOY_STATE_DIR=$TRASH/state
	export PAVICS_LOG_DIR=$TRASH/pavics-logs
	EOF
	check-drift --config env.local >out 2>err &&
	test_grep "check-drift" pavics-logs/autodeploy.log &&
	echo "export BIRDHOUSE_LOG_DIR=$TRASH/bh-logs" >>env.local &&
	mkdir -p bh-logs && : >bh-logs/autodeploy.log &&
	check-drift --config env.local >out 2>err &&
	test_grep "env.local:4: BIRDHOUSE_LOG_DIR and .*env.local:3: PAVICS_LOG_DIR differ: BIRDHOUSE_LOG_DIR is used" err &&
	test_grep "check-drift" bh-logs/autodeploy.log
'

test_expect_success 'a malformed alias is refused (78) naming its own file, line and name' '
	cat >env.local <<-EOF &&
	AUTODEPLOY_COMPOSE_DIR=$TRASH/compose
	AUTODEPLOY_STATE_DIR=$TRASH/state

	BIRDHOUSE_AUTODEPLOY_TRACK=sideways
	EOF
	test_must_fail 78 check-drift --config env.local >out 2>err &&
	test_grep "env.local:4: BIRDHOUSE_AUTODEPLOY_TRACK: .sideways. is not a track mode" err
'

test_expect_success 'a malformed notebook source under its alias is refused (78) naming the alias and its line' '
	cat >env.local <<-EOF &&
	AUTODEPLOY_STATE_DIR=$TRASH/state
	AUTODEPLOY_LOG_DIR=$TRASH/logs
	AUTODEPLOY_NOTEBOOK_DIR=$TRASH/notebooks
	BIRDHOUSE_AUTODEPLOY_NOTEBOOK_SOURCES="file://$TRASH/stack#:../etc"
	EOF
	test_must_fail 78 deploy-notebooks --config env.local >out 2>err &&
	test_grep "env.local:4: BIRDHOUSE_AUTODEPLOY_NOTEBOOK_SOURCES: .*subdir .\.\./etc." err
'

test_done
