#!/bin/bash
# AUTODEPLOY_STRATEGY=bluegreen (SPEC.md "blue/green") against a real
# Docker engine and Debian's docker-compose (t/dockerd), in birdhouse's
# shape: an nginx proxy (Debian's nginx-light, in an image made offline)
# with a static proxy_pass to the service name on the compose network,
# and a `web` service with a compose healthcheck.  A client probes through
# the proxy while releases deploy: none of its requests may fail.  The
# proxy gives up connecting after 1 s (proxy_connect_timeout) and tries
# the other container, as run-deploy(1) recommends: a request sent to the
# old container's address in the instant it leaves the network would
# otherwise wait for nginx's default 60 s.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-docker.sh"

docker_require nginx

PROJECT=adb$$
CHECKOUT=$TRASH/$PROJECT
at_exit "cd '$CHECKOUT' && docker-compose down -t 1"

# release VERSION HEALTHY: a commit of proxy_stack (t/lib-docker.sh).
release() {
	_dev=$(dev_clone stack) &&
	proxy_stack "$_dev" "$1" "$2" &&
	dev_publish stack "release $1" >/dev/null
}

# (busybox 1.35's wget crashes with -T: timeout(1) bounds each request)
served() { timeout 5 busybox wget -q -O - "http://127.0.0.1:$PORT/" 2>/dev/null || echo down; }
# proxy_master: the host pid of the proxy's nginx master.
proxy_master() {
	docker top "$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" \
		--filter "label=com.docker.compose.service=proxy")" | awk "/nginx: master/ { print \$2 }"
}
web_containers() {
	docker ps -a -q --filter "label=com.docker.compose.project=$PROJECT" \
		--filter "label=com.docker.compose.service=web" | wc -l
}

test_expect_success 'setup: a remote holding v1, its checkout running under compose behind the proxy' '
	git init -q --bare stack.git &&
	git clone -q "$(remote_url stack)" dev-stack 2>/dev/null &&
	proxy_stack dev-stack v1 yes &&
	dev_publish stack "release v1" >/dev/null &&
	git clone -q "$(remote_url stack)" "$CHECKOUT" &&
	{ (cd "$CHECKOUT" && docker-compose up -d) >up.log 2>&1 || { cat up.log; false; }; } &&
	for i in $(seq 1 100); do [ "$(served)" = v1 ] && break; sleep 0.1; done &&
	is "served" "$(served)" v1 &&
	write_config "$CHECKOUT" &&
	config_add AUTODEPLOY_PREPARE_COMMAND "docker-compose config -q" &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 30 &&
	config_add AUTODEPLOY_STRATEGY bluegreen &&
	config_add AUTODEPLOY_BLUEGREEN_SERVICES web &&
	config_add AUTODEPLOY_BLUEGREEN_PROXY proxy &&
	config_add AUTODEPLOY_BLUEGREEN_DRAIN 1
'

test_expect_success 'three changed releases in a row: 0 failed requests through the proxy, one web container' '
	probe_start &&
	for v in v2 v3 v4; do
		release $v yes &&
		rd 0 &&
		test_grep "bluegreen: .web. replaced with no outage" err &&
		test_grep "switching: reloading the proxy .proxy." err &&
		is "served" "$(served)" $v &&
		is "web containers" "$(web_containers)" 1 || { probe_stop; return 1; }
	done &&
	probe_stop &&
	test_grep v4 probe &&
	is "failed requests" "$(grep -c fail probe)" 0
'

# nginx -s reload only signals the proxy's master: until the master has
# loaded its configuration again (the engine's DNS is slow under load)
# the old workers route to the old container alone.  The master is held
# (SIGSTOP) through the switch and let go 5 s after it began: a deploy
# that drained and stopped the old container counting from the signal
# would leave the proxy nowhere to send requests in between.
# let_go_later PID: SIGCONT to PID 5 s after run-deploy logged its first
# switch (or after two minutes).
let_go_later() {
	for i in $(seq 1 1200); do grep -q "switching: reloading" err 2>/dev/null && break; sleep 0.1; done
	sleep 5
	kill -CONT "$1"
}
test_expect_success 'a proxy that reloads late (its master held for 5 s at the switch): the old container serves until it has, 0 failed' '
	master=$(proxy_master) &&
	test -n "$master" &&
	at_exit "kill -CONT $master" &&
	release v-late yes &&
	rm -f err &&
	probe_start &&
	kill -STOP "$master" &&
	{ let_go_later "$master" & } &&
	held=$! &&
	rd 0 &&
	wait $held &&
	probe_stop &&
	test_grep "bluegreen: .web. replaced with no outage" err &&
	is "served" "$(served)" v-late &&
	is "web containers" "$(web_containers)" 1 &&
	is "failed requests" "$(grep -c fail probe)" 0
'

test_expect_success 'a later plain up -d changes nothing: compose sees its own state' '
	before=$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" | sort) &&
	(cd "$CHECKOUT" && docker-compose up -d) >up.log 2>&1 &&
	test_grep ! "Recreating\|Creating\|Starting\|Stopping\|Removing" up.log &&
	is "containers" "$(docker ps -q --filter "label=com.docker.compose.project=$PROJECT" | sort)" "$before" &&
	is "web containers" "$(web_containers)" 1
'

test_expect_success 'a release whose new container never turns healthy: exit 2, removed, the old one serves, 0 failed' '
	good=$(git -C "$CHECKOUT" rev-parse HEAD) &&
	probe_start &&
	release v5 no &&
	rd 2 &&
	probe_stop &&
	test_grep "start: service .web. (container .*) is not healthy\|start: service .web. (container .*) is unhealthy" err &&
	test_grep "the new container was removed; the old one was never stopped" err &&
	test_grep ! "stopping the old container" err &&
	is "served" "$(served)" v-late &&
	is "web containers" "$(web_containers)" 1 &&
	is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$good" &&
	is "failed requests" "$(grep -c fail probe)" 0
'

# A proxy that never reloads (its master held through the whole run, as
# one whose new configuration does not load): the switch gives up after
# the health timeout (setup's 30 s: the new container must still turn
# healthy within it on a busy machine) and the release fails like an
# unhealthy one, the old container never stopped.  The old workers go on
# serving it meanwhile.
test_expect_success 'a proxy that never reloads: exit 2 after the health timeout, the new container removed, the old one serves, 0 failed' '
	master=$(proxy_master) &&
	test -n "$master" &&
	at_exit "kill -CONT $master" &&
	release v-stuck yes &&
	probe_start &&
	kill -STOP "$master" &&
	rc=0 &&
	{ run-deploy --config "$CONFIG" >out 2>err || rc=$?; } &&
	kill -CONT "$master" &&
	probe_stop &&
	is "exit" "$rc" 2 &&
	test_grep "started no new nginx worker within 30 s of its reload" err &&
	test_grep "the new container was removed; the old one was never stopped" err &&
	test_grep ! "stopping the old container" err &&
	is "served" "$(served)" v-late &&
	is "web containers" "$(web_containers)" 1 &&
	is "failed requests" "$(grep -c fail probe)" 0
'

test_expect_success 'a listed service without a compose healthcheck is refused before anything stops (78)' '
	config_add AUTODEPLOY_BLUEGREEN_SERVICES "web proxy" &&
	release v6 yes &&
	rd 78 &&
	test_grep "AUTODEPLOY_BLUEGREEN_SERVICES: .proxy. has no compose healthcheck" err &&
	is "served" "$(served)" v-late &&
	config_add AUTODEPLOY_BLUEGREEN_SERVICES web
'

for point in bluegreen-scaled bluegreen-drained bluegreen-removed; do
	test_expect_success "killed at $point: the next run recovers to one web container, then deploys" '
		release "v-$point" yes &&
		AUTODEPLOY_TEST_KILL_AT=$point rd 137 &&
		test -e "$STATE_DIR/bluegreen.journal" &&
		rd 0 &&
		test_grep "recovered: the stack runs again" err &&
		test ! -e "$STATE_DIR/bluegreen.journal" &&
		is "served" "$(served)" "v-$point" &&
		is "web containers" "$(web_containers)" 1
	'
done

test_done
