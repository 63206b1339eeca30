#!/bin/bash
# AUTODEPLOY_STRATEGY=recreate (the default): the new commits are prepared
# (AUTODEPLOY_PREPARE_COMMAND, by default the compose pull) in a staged
# copy while the stack still runs; a failure there touches nothing; then
# the checkouts move with the stack running and the start command
# recreates what changed; a rollback moves back and starts again, never
# stopping anything.  The default commands are `docker compose` when the
# v2 plugin answers, else `docker-compose`.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

test_expect_success 'setup: three checkouts, a stand-in stack, no strategy set' '
	deploy_setup no &&
	DEPLOY_STRATEGY= deploy_config no &&
	test_grep ! STRATEGY "$CONFIG" &&
	cat >bin/prepare <<-EOF &&
	#!/bin/sh
	# what the staged copy holds, from where it runs
	pwd -P >"$TRASH/prepare-cwd"
	cat file.txt >"$TRASH/prepare-saw"
	cat "\$AUTODEPLOY_STAGED_CHECKOUT_1/file.txt" >"$TRASH/prepare-saw-extra1"
	exec "$STANDIN" prepare
	EOF
	chmod +x bin/prepare &&
	config_add AUTODEPLOY_PREPARE_COMMAND "$TRASH/bin/prepare"
'

test_expect_success 'recreate: prepare runs on the new commits in a staged copy, then move and start, no stop' '
	save_heads before &&
	push_all &&
	fresh_record &&
	rd 0 &&
	record_is prepare:prepare:0 start:start:0 healthcheck:healthcheck:0 &&
	is "prepare ran in" "$(cat prepare-cwd)" "$(cd "$STATE_DIR" && pwd -P)/stage$(cd "$TRASH" && pwd -P)/compose" &&
	is "prepare saw" "$(cat prepare-saw)" "$(git -C stack.git show main:file.txt)" &&
	is "prepare saw in extra1" "$(cat prepare-saw-extra1)" "$(git -C ex1.git show main:file.txt)" &&
	is "prepare saw the checkouts at" "$(call_heads prepare prepare)" "$(saved before)" &&
	is "start saw" "$(call_heads start start)" "$(remote_heads)" &&
	test ! -e "$STATE_DIR/stage" &&
	stack_is running &&
	no_journal
'

test_expect_success 'recreate: a failing prepare touches nothing: exit 2, nothing stopped, moved or started' '
	save_heads before &&
	push_all &&
	touch fail-prepare &&
	fresh_record &&
	rd 2 &&
	rm fail-prepare &&
	record_is prepare:prepare:1 &&
	test_grep "preparing the new commits failed: nothing was stopped or moved" err &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	test ! -e "$STATE_DIR/stage" &&
	stack_is running &&
	no_journal
'

test_expect_success 'recreate: a start that fails is rolled back by moving back and starting, never stopping' '
	dev=$(dev_clone stack) &&
	echo "start will fail" >"$dev/broken-start" &&
	dev_publish stack "break the start" >/dev/null &&
	fresh_record &&
	rd 2 &&
	no_calls stop &&
	record_is prepare:prepare:0 start:start:1 start:rollback-start:0 healthcheck:rollback-healthcheck:0 &&
	is "rollback-start saw" "$(call_heads start rollback-start)" "$(saved before)" &&
	test_must_be_empty status-rollback-start &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	stack_is running &&
	no_journal
'

test_expect_success 'recreate: a configured checkout that is missing is skipped; the others deploy' '
	sed -i "s|^AUTODEPLOY_EXTRA_REPOS=\"|AUTODEPLOY_EXTRA_REPOS=\"$TRASH/not-cloned-yet |" "$CONFIG" &&
	dev=$(dev_clone stack) &&
	git -C "$dev" rm -q broken-start &&
	dev_publish stack "fix" >/dev/null &&
	fresh_record &&
	rd 0 &&
	test_grep "not-cloned-yet.: skipped" err &&
	record_is prepare:prepare:0 start:start:0 healthcheck:healthcheck:0 &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$(git -C stack.git rev-parse main)" &&
	sed -i "s|$TRASH/not-cloned-yet ||" "$CONFIG"
'

test_expect_success 'restart: stop, move, start; prepare never runs' '
	dev_push stack >/dev/null &&
	config_add AUTODEPLOY_STRATEGY restart &&
	fresh_record &&
	rd 0 &&
	record_is stop:stop:0 start:start:0 healthcheck:healthcheck:0
'

# many_services N: a `docker-compose` and a `docker` (in ./many) for a
# project of N running services, each bind-mounting the compose checkout;
# the services that `up --force-recreate` is asked for go to ./recreated,
# one line each.
many_services() {
	mkdir -p many &&
	cat >many/docker-compose <<-EOF &&
	#!/bin/sh
	case "\$1" in
	ps) seq 1 $1 | sed "s/^/c/" ;;
	up) shift 4; for s; do echo "\$s"; done >>"$TRASH/recreated" ;;
	esac
	EOF
	cat >many/docker <<-EOF &&
	#!/bin/sh
	# no compose plugin: the CLI is docker-compose
	[ "\$1" = inspect ] || exit 1
	shift
	sep="["
	for id; do
		printf '%s{"Id":"%s","Config":{"Labels":{"com.docker.compose.service":"svc-%s"}},' "\$sep" "\$id" "\$id"
		printf '"Mounts":[{"Type":"bind","Source":"%s"}]}' "$(cd compose && pwd -P)"
		sep=,
	done
	echo "]"
	EOF
	chmod +x many/docker-compose many/docker
}

test_expect_success 'recreate: every service that bind-mounts a changed file is recreated, however many (300)' '
	config_add AUTODEPLOY_STRATEGY recreate &&
	many_services 300 &&
	dev_push stack >/dev/null &&
	: >recreated &&
	PATH=$TRASH/many:$PATH rd 0 &&
	is "services recreated" "$(wc -l <recreated)" 300 &&
	is "the last one" "$(tail -n 1 recreated)" svc-c300 &&
	test_grep "recreating .svc-c300.: its bind-mounted" err
'

test_expect_success 'a strategy that does not exist is a config error naming file and line (78)' '
	config_add AUTODEPLOY_STRATEGY rolling &&
	test_must_fail 78 run-deploy --config "$CONFIG" >out 2>err &&
	test_grep "env.local:[0-9]*: AUTODEPLOY_STRATEGY: .rolling. is not a strategy (expected recreate, restart or bluegreen)" err &&
	config_add AUTODEPLOY_STRATEGY recreate
'

# fake_docker PLUGIN: a `docker` whose `compose version` answers when
# PLUGIN is yes (the v2 plugin) and fails otherwise, as on a host with
# Debian's docker.io and docker-compose.
fake_docker() {
	mkdir -p fake &&
	cat >fake/docker <<-EOF &&
	#!/bin/sh
	[ "\$1 \$2" = "compose version" ] && [ "$1" = yes ] && exit 0
	echo "docker: '\$1' is not a docker command." >&2
	exit 1
	EOF
	chmod +x fake/docker
}

test_expect_success 'default commands: docker-compose when the compose plugin does not answer' '
	write_config "$TRASH/compose" &&
	dev_push stack >/dev/null &&
	fake_docker no &&
	PATH=$TRASH/fake:$PATH rd 0 --dry-run &&
	test_grep "^[0-9]*\. prepare: would run: docker-compose pull (in a staged checkout of the new commits)$" out &&
	test_grep "^[0-9]*\. start: would run: docker-compose up -d$" out
'

test_expect_success 'default commands: docker compose when the plugin answers; the operator'"'"'s own are kept' '
	fake_docker yes &&
	config_add AUTODEPLOY_STRATEGY restart &&
	PATH=$TRASH/fake:$PATH rd 0 --dry-run &&
	test_grep "^[0-9]*\. stop: would run: docker compose stop$" out &&
	test_grep "^[0-9]*\. start: would run: docker compose up -d$" out &&
	config_add AUTODEPLOY_START_COMMAND "my-start" &&
	PATH=$TRASH/fake:$PATH rd 0 --dry-run &&
	test_grep "^[0-9]*\. start: would run: my-start$" out &&
	test_grep "^[0-9]*\. stop: would run: docker compose stop$" out
'

test_expect_success '--dry-run escapes file names from the repository: no forged plan line' '
	dev=$(dev_clone stack) &&
	printf x >"$dev/$(printf "z\n9. stop: would run: docker compose down -v")" &&
	dev_publish stack "a hostile file name" >/dev/null &&
	rd 0 --dry-run &&
	test_grep "^    z\\\\n9\. stop: would run: docker compose down -v$" out &&
	test_grep ! "^9\. stop: would run: docker compose down" out
'

test_expect_success 'recreate: a commit that turns a file into a folder of the same name stages and deploys (0)' '
	DEPLOY_STRATEGY= deploy_config no &&
	dev=$(dev_clone stack) &&
	echo "a file" >"$dev/swap" &&
	dev_publish stack "swap is a file" >/dev/null &&
	rd 0 &&
	git -C "$dev" rm -q swap &&
	mkdir "$dev/swap" &&
	echo "now in a folder" >"$dev/swap/inside" &&
	dev_publish stack "swap is a folder" >/dev/null &&
	fresh_record &&
	rd 0 &&
	record_is prepare:prepare:0 start:start:0 healthcheck:healthcheck:0 &&
	is "swap/inside" "$(cat compose/swap/inside)" "now in a folder" &&
	git -C "$dev" rm -q -r swap &&
	echo "a file again" >"$dev/swap" &&
	dev_publish stack "swap is a file again" >/dev/null &&
	rd 0 &&
	is "swap" "$(cat compose/swap)" "a file again"
'

test_expect_success 'setup: two folders of one work tree (a/stack) and a work tree of the same name (b/stack)' '
	make_remote mono 1 &&
	dev=$(dev_clone mono) &&
	mkdir "$dev/birdhouse" "$dev/other" &&
	echo compose >"$dev/birdhouse/what" &&
	echo other >"$dev/other/what" &&
	dev_publish mono "two folders" >/dev/null &&
	mkdir a b &&
	clone_remote mono a/stack &&
	clone_remote ex1 b/stack &&
	CHECKOUTS="$TRASH/a/stack $TRASH/b/stack" &&
	write_standin &&
	write_config "$TRASH/a/stack/birdhouse" "$TRASH/a/stack/other $TRASH/b/stack" &&
	cat >bin/prepare <<-EOF &&
	#!/bin/sh
	{ pwd -P; cat what; cat "\$AUTODEPLOY_STAGED_CHECKOUT_1/what"; cat "\$AUTODEPLOY_STAGED_CHECKOUT_2/file.txt"; } >"$TRASH/prepare-saw"
	exec "$STANDIN" prepare
	EOF
	chmod +x bin/prepare &&
	config_add AUTODEPLOY_PREPARE_COMMAND "$TRASH/bin/prepare" &&
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
	rd 0
'

test_expect_success 'recreate: staged copies are keyed by the full work-tree path: no collision, each folder maps inside its copy (0)' '
	dev=$(dev_clone mono) &&
	echo compose2 >"$dev/birdhouse/what" &&
	echo other2 >"$dev/other/what" &&
	dev_publish mono "both folders change" >/dev/null &&
	dev_push ex1 >/dev/null &&
	fresh_record &&
	rd 0 &&
	top=$(cd "$STATE_DIR" && pwd -P)/stage$(cd "$TRASH" && pwd -P) &&
	printf "%s\n" "$top/a/stack/birdhouse" compose2 other2 "$(git -C ex1.git show main:file.txt)" >prepare-want &&
	test_cmp prepare-want prepare-saw &&
	is "a/stack" "$(git -C a/stack rev-parse HEAD)" "$(git -C mono.git rev-parse main)" &&
	is "b/stack" "$(git -C b/stack rev-parse HEAD)" "$(git -C ex1.git rev-parse main)"
'

# remote_opens CONFIG: how many times check-drift opened the remote mono.git
# (its HEAD file) while it fetched: once per fetch, however libgit2 reads it.
remote_opens() {
	strace -f -qq -e trace=openat -o strace.out check-drift --config "$1" >/dev/null 2>&1
	grep -c "mono.git/HEAD\"" strace.out
}

if command -v strace >/dev/null; then
	test_expect_success 'two folders of one work tree are fetched once: the remote is read as often as for one folder' '
		dev_push mono >/dev/null &&
		sed "/^AUTODEPLOY_EXTRA_REPOS=/d" "$CONFIG" >one.env &&
		one=$(remote_opens one.env) &&
		dev_push mono >/dev/null &&
		two=$(remote_opens "$CONFIG") &&
		test "$one" -gt 0 &&
		is "remote reads with two folders" "$two" "$one"
	'
else
	test_skip_or_fail 'two folders of one work tree are fetched once' 'needs strace'
fi

test_done
