#!/bin/bash
# The kill-point sweep of AUTODEPLOY_STRATEGY=bluegreen on the real engine
# (SPEC.md "blue/green": "a kill at any step recovers to exactly one
# container of the service, on a known commit"), in t/2039's birdhouse
# shape: an nginx proxy with a static proxy_pass to `web`, which has a
# compose healthcheck.  run-deploy is killed at every step of the
# switch: the three kill points of lib/bluegreen.c (bluegreen-scaled,
# -drained, -removed) and before and after each of the two switches (the
# switch command goes through t/2035's counting wrapper, so the kill can
# fall between the old container's stop and the second switch), by
# SIGKILL and by SIGTERM; and at the deploy's own boundaries by SIGKILL.
# After each point the next --if-drift run must leave exactly one web
# container, running and labelled with the new commit's version, served
# through the proxy, the checkout clean at the new commit, no journal of
# either kind; and one more run has nothing to do.  (Its own script: with
# t/2035's 33 points one script would run over eight minutes.)
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-docker.sh"

docker_require nginx

PROJECT=adg$$
CHECKOUT=$TRASH/$PROJECT
SW=$TRASH/sweep
POINTS=0
at_exit "cd '$CHECKOUT' && docker-compose down -t 1"


release() {
	_dev=$(dev_clone stack) &&
	proxy_stack "$_dev" "$1" yes &&
	dev_publish stack "release $1" >/dev/null
}

web_ids() {
	docker ps -a -q --filter "label=com.docker.compose.project=$PROJECT" \
		--filter "label=com.docker.compose.service=web"
}

# The wrapper of every command of the config: write_counting_wrap
# (t/lib-docker.sh), as t/2035's.
test_expect_success 'setup: a remote holding v0, its checkout running behind the proxy, the wrapper' '
	write_counting_wrap &&
	git init -q --bare stack.git &&
	git clone -q "$(remote_url stack)" dev-stack 2>/dev/null &&
	proxy_stack dev-stack v0 yes &&
	dev_publish stack "release v0" >/dev/null &&
	git clone -q "$(remote_url stack)" "$CHECKOUT" &&
	{ (cd "$CHECKOUT" && docker-compose up -d) >up.log 2>&1 || { cat up.log; false; }; } &&
	for i in $(seq 1 100); do [ "$(web_version)" = v0 ] && break; sleep 0.1; done &&
	is "served" "$(web_version)" v0 &&
	write_config "$CHECKOUT" &&
	config_add AUTODEPLOY_STRATEGY bluegreen &&
	config_add AUTODEPLOY_BLUEGREEN_SERVICES web &&
	config_add AUTODEPLOY_BLUEGREEN_PROXY proxy &&
	config_add AUTODEPLOY_BLUEGREEN_DRAIN 1 &&
	config_add AUTODEPLOY_BLUEGREEN_SWITCH_COMMAND "$TRASH/bin/wrap docker-compose exec -T proxy nginx -s reload" &&
	config_add AUTODEPLOY_START_COMMAND "$TRASH/bin/wrap docker-compose up -d" &&
	config_add AUTODEPLOY_PREPARE_COMMAND "$TRASH/bin/wrap docker-compose config -q" &&
	config_add AUTODEPLOY_HEALTHCHECK_COMMAND "$TRASH/bin/wrap busybox wget -q -O /dev/null http://127.0.0.1:$PORT/health" &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 30 &&
	config_add AUTODEPLOY_HEALTHCHECK_INTERVAL 1
'

# The calls a bluegreen deploy makes through the wrapper, in order:
# 1 prepare, 2 the first switch (the new container is healthy), 3 the
# second (the old one is stopped), 4 start (`up -d` for the rest),
# 5 the health command.
test_expect_success 'an undisturbed deploy: five wrapped calls, one web container on v-plain' '
	release v-plain &&
	: >"$SW/calls" &&
	rd 0 &&
	test_grep "bluegreen: .web. replaced with no outage" err &&
	is "calls" "$(cat "$SW/calls")" 5 &&
	is "served" "$(web_version)" v-plain &&
	is "web containers" "$(web_ids | wc -l)" 1
'

# one_web VERSION: the state every point must end in.
one_web() {
	is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$(git -C stack.git rev-parse main)" &&
	git -C "$CHECKOUT" status --porcelain --ignored >status &&
	test_must_be_empty status &&
	test ! -e "$STATE_DIR/deploy.journal" &&
	test ! -e "$STATE_DIR/bluegreen.journal" &&
	is "web containers" "$(web_ids | wc -l)" 1 &&
	is "web state and version" \
		"$(docker inspect -f "{{.State.Status}} {{index .Config.Labels \"autodeploy.version\"}}" $(web_ids))" \
		"running $1" &&
	is "served" "$(web_version)" "$1"
}

# point SIGNAL POINT: killed at POINT (engine_point, t/lib-docker.sh).
point() {
	engine_point "$1" "$2" one_web bluegreen "one web container on the new commit"
}

# the switch: its kill points and the wrapped switches around them
bluegreen_points="bluegreen-scaled call-2-pre call-2-post bluegreen-drained call-3-pre call-3-post bluegreen-removed"
for p in $bluegreen_points; do
	point KILL $p
	point TERM $p
done
# the deploy around it
for p in after-journal checkout-file-1 after-checkout-0 call-1-pre call-4-pre call-4-post call-5-post after-start; do
	point KILL $p
done

floor=$((22 / SWEEP_EVERY))
echo "# $POINTS kill points (every ${SWEEP_EVERY}th of the sweep)"
test_expect_success "at least $floor kill points were swept ($POINTS)" '
	test "$POINTS" -ge $floor
'
test_done
