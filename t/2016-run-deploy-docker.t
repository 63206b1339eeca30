#!/bin/bash
# The deploy cycle against a real Docker engine and Debian's docker-compose
# (t/dockerd): a compose stack of two busybox services, one serving the
# commit's version over HTTP, one idle.  Deploy with the default strategy
# (recreate: the unchanged service keeps running untouched), a failed
# health check rolled back, a run killed with the stack stopped recovered
# by the next run.  Which container runs which commit is read from the
# containers' labels and from what the service serves.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-docker.sh"

docker_require

PROJECT=adt$$
CHECKOUT=$TRASH/$PROJECT
at_exit "cd '$CHECKOUT' && docker-compose down -t 1; forget_kept $PROJECT"

# write_stack DIR VERSION HEALTHY [PAGE]: the stack's files for VERSION;
# the health URL exists only when HEALTHY is yes.  The service `conf`
# reads conf/page.html (default "page1") once, at its start, and serves
# that copy on $PORT + 1: as a web server reads its config.
write_stack() {
	mkdir -p "$1/www" &&
	cat >"$1/docker-compose.yml" <<-EOF &&
	version: "2.4"
	services:
	  web:
	    image: $IMAGE
	    network_mode: host
	    init: true
	    command: ["/bin/httpd", "-f", "-p", "127.0.0.1:$PORT", "-h", "/www"]
	    volumes:
	      - ./www:/www:ro
	    labels:
	      autodeploy.version: "$2"
	  idle:
	    image: $IMAGE
	    network_mode: host
	    init: true
	    command: ["/bin/sleep", "1000000"]
	    labels:
	      autodeploy.version: "idle"
	  conf:
	    image: $IMAGE
	    network_mode: host
	    init: true
	    command: ["/bin/sh", "-c", "cat /conf/page.html >/tmp/index.html && exec httpd -f -p 127.0.0.1:$((PORT + 1)) -h /tmp"]
	    volumes:
	      - ./conf:/conf:ro
	    labels:
	      autodeploy.version: "conf"
	EOF
	mkdir -p "$1/conf" &&
	echo "${4:-page1}" >"$1/conf/page.html" &&
	echo "$2" >"$1/www/index.html" &&
	if [ "$3" = yes ]; then echo ok >"$1/www/health"; else rm -f "$1/www/health"; fi
}

# release VERSION HEALTHY [PAGE]: commit that version to the remote.
release() {
	_dev=$(dev_clone stack) &&
	write_stack "$_dev" "$1" "$2" "${3:-}" &&
	dev_publish stack "release $1" >/dev/null
}

# started_at SERVICE: when the service's container last started (and its id).
started_at() {
	docker inspect --format '{{.Id}} {{.State.StartedAt}}' "$(docker ps -q \
		--filter "label=com.docker.compose.project=$PROJECT" \
		--filter "label=com.docker.compose.service=$1")"
}

rd() {
	_want=$1
	shift
	if ! test_must_fail "$_want" run-deploy --config "$CONFIG" "$@" >out 2>err; then
		cat out err >&2
		return 1
	fi
}

test_expect_success 'setup: a remote holding v1, its checkout running under compose' '
	git init -q --bare stack.git &&
	git clone -q "$(remote_url stack)" dev-stack 2>/dev/null &&
	write_stack dev-stack v1 yes &&
	dev_publish stack "release v1" >/dev/null &&
	git clone -q "$(remote_url stack)" "$CHECKOUT" &&
	{ (cd "$CHECKOUT" && docker-compose up -d) >up.log 2>&1 || { cat up.log; false; }; } &&
	for i in $(seq 1 100); do [ "$(web_version)" = v1 ] && break; sleep 0.1; done &&
	is "served" "$(web_version)" v1 &&
	write_config "$CHECKOUT" &&
	config_add AUTODEPLOY_PREPARE_COMMAND "docker-compose config -q" &&
	config_add AUTODEPLOY_HEALTHCHECK_COMMAND "busybox wget -q -O /dev/null http://127.0.0.1:$PORT/health" &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 20 &&
	config_add AUTODEPLOY_HEALTHCHECK_INTERVAL 1
'

test_expect_success 'recreate (default): v2 deploys, the changed service is recreated, the idle one untouched' '
	idle_before=$(started_at idle) &&
	release v2 yes &&
	rd 0 --if-drift &&
	test_grep "start: running .docker-compose up -d." err &&
	test_grep "prepare: running .docker-compose config -q." err &&
	test_grep ! "stop: running" err &&
	is "served" "$(web_version)" v2 &&
	is "running" "$(running_label $PROJECT | tr "\n" " ")" "conf idle v2 " &&
	is "the idle container" "$(started_at idle)" "$idle_before" &&
	is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$(git -C stack.git rev-parse main)"
'

test_expect_success 'a release that fails its health check is rolled back: exit 2, v2 serves again' '
	good=$(git -C "$CHECKOUT" rev-parse HEAD) &&
	release v3 no &&
	rd 2 &&
	test_grep "rolled back: the old commits are running" err &&
	is "served" "$(web_version)" v2 &&
	is "running" "$(running_label $PROJECT | tr "\n" " ")" "conf idle v2 " &&
	is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$good" &&
	test -z "$(git -C "$CHECKOUT" status --porcelain)"
'

conf_page() { busybox wget -q -O - "http://127.0.0.1:$((PORT + 1))/" 2>/dev/null || echo down; }

test_expect_success 'recreate: only a file that a service bind-mounts changed: that service is recreated, the others untouched' '
	is "conf serves" "$(conf_page)" page1 &&
	web_before=$(started_at web) &&
	conf_before=$(started_at conf) &&
	release v2 yes page2 &&
	rd 0 &&
	test_grep "recreating .conf.: its bind-mounted .*/conf/page.html. changed" err &&
	is "conf serves" "$(conf_page)" page2 &&
	test "$(started_at conf)" != "$conf_before" &&
	is "the web container" "$(started_at web)" "$web_before" &&
	is "served" "$(web_version)" v2
'

test_expect_success 'recreate: killed after the start of a bind-mounted change; the recovery puts page2 back and recreates conf' '
	release v2 yes page3 &&
	AUTODEPLOY_TEST_KILL_AT=after-start rd 137 &&
	is "conf serves" "$(conf_page)" page3 &&
	rd 0 --if-drift &&
	test_grep "recover-start: recreating .conf.: its bind-mounted .*/conf/page.html. changed" err &&
	test_grep "recovered: the stack runs again" err &&
	is "conf serves" "$(conf_page)" page3 &&
	is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$(git -C stack.git rev-parse main)"
'

test_expect_success 'restart: a run killed while the stack is stopped leaves it down; check-drift says so' '
	config_add AUTODEPLOY_STRATEGY restart &&
	release v4 yes &&
	AUTODEPLOY_TEST_KILL_AT=after-stop rd 137 &&
	is "running" "$(running_label $PROJECT)" "" &&
	is "served" "$(web_version)" down &&
	test_must_fail 1 check-drift --config "$CONFIG" >/dev/null 2>&1
'

test_expect_success 'the next run recovers the stack, then deploys v4: 0, both services running' '
	rd 0 --if-drift &&
	test_grep "recovered: the stack runs again" err &&
	is "served" "$(web_version)" v4 &&
	is "running" "$(running_label $PROJECT | tr "\n" " ")" "conf idle v4 " &&
	is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$(git -C stack.git rev-parse main)" &&
	test ! -e "$STATE_DIR/deploy.journal"
'

test_done
