#!/bin/bash
# The kill-point sweep with the real engine (issue 21, item 4; t/2028 and
# t/2040 sweep with stand-ins): a compose stack of three busybox services
# (t/dockerd's offline image, as in t/2016), run-deploy killed at every
# step boundary, inside the checkout writes and at every call of the
# stop, start and health-check commands (a wrapper counts the calls and
# signals the topmost run-deploy before or after running the real
# command), for both strategies, by SIGKILL and by SIGTERM.  After each
# point the next run must leave the stack running on the new commit (the
# service serves it, every container carries its label), the checkout
# clean at it, no journal; and one more run has nothing to do.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-docker.sh"

docker_require

PROJECT=adk$$
CHECKOUT=$TRASH/$PROJECT
SW=$TRASH/sweep
POINTS=0
at_exit "cd '$CHECKOUT' && docker-compose down -t 1"

# write_stack DIR VERSION: the stack's files for VERSION; the move
# between two versions writes 13 files.
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
	      autodeploy.version: "$2"
	EOF
	echo "$2" >"$1/www/index.html" &&
	echo ok >"$1/www/health" &&
	for i in $(seq 1 11); do echo "$2 page $i" >"$1/www/p$i.html" || return 1; done
}

release() {
	_dev=$(dev_clone stack) &&
	write_stack "$_dev" "$1" &&
	dev_publish stack "release $1" >/dev/null
}

# The wrapper of every stack command: t/lib-docker.sh's
# write_counting_wrap (it signals as t/lib-sweep.sh's stand-in does).
test_expect_success 'setup: a remote holding v0, its checkout running under compose, the wrapper' '
	write_counting_wrap &&
	git init -q --bare stack.git &&
	git clone -q "$(remote_url stack)" dev-stack 2>/dev/null &&
	write_stack dev-stack v0 &&
	dev_publish stack "release v0" >/dev/null &&
	git clone -q "$(remote_url stack)" "$CHECKOUT" &&
	{ (cd "$CHECKOUT" && docker-compose up -d) >up.log 2>&1 || { cat up.log; false; }; } &&
	for i in $(seq 1 100); do [ "$(web_version)" = v0 ] && break; sleep 0.1; done &&
	is "served" "$(web_version)" v0
'

# config STRATEGY: every command through the wrapper.
config() {
	write_config "$CHECKOUT" &&
	config_add AUTODEPLOY_STRATEGY "$1" &&
	config_add AUTODEPLOY_STOP_COMMAND "$TRASH/bin/wrap docker-compose stop" &&
	config_add AUTODEPLOY_START_COMMAND "$TRASH/bin/wrap docker-compose up -d" &&
	config_add AUTODEPLOY_PREPARE_COMMAND "$TRASH/bin/wrap docker-compose config -q" &&
	config_add AUTODEPLOY_HEALTHCHECK_COMMAND "$TRASH/bin/wrap busybox wget -q -O /dev/null http://127.0.0.1:$PORT/health" &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 30 &&
	config_add AUTODEPLOY_HEALTHCHECK_INTERVAL 1
}

# running_on VERSION: the checkout clean at the remote's main, which is
# VERSION; web serves it; both containers run, labelled with it.
running_on() {
	is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$(git -C stack.git rev-parse main)" &&
	git -C "$CHECKOUT" status --porcelain --ignored >status &&
	test_must_be_empty status &&
	test ! -e "$STATE_DIR/deploy.journal" &&
	is "served" "$(web_version)" "$1" &&
	is "running" "$(running_label $PROJECT | tr "\n" " ")" "$1 $1 "
}

# point SIGNAL POINT: one kill point (engine_point, t/lib-docker.sh).
point() {
	engine_point "$1" "$2" running_on "$STRATEGY" "the stack running on the new commit"
}

rd() {
	_want=$1
	shift
	if ! test_must_fail "$_want" run-deploy --config "$CONFIG" "$@" >out 2>err; then
		cat out err >&2
		return 1
	fi
}

for STRATEGY in restart recreate; do
	test_expect_success "setup: strategy $STRATEGY" '
		config $STRATEGY
	'
	if [ $STRATEGY = restart ]; then
		boundaries="after-journal after-stop touched-0 checkout-file-1 checkout-file-7 checkout-file-13 after-checkout-0 after-start"
		# stop, start, healthcheck
		calls="call-1-pre call-1-post call-2-pre call-2-post call-3-pre call-3-post"
	else
		boundaries="after-journal touched-0 checkout-file-1 checkout-file-7 checkout-file-13 after-checkout-0 after-start"
		# prepare, start, healthcheck
		calls="call-1-pre call-1-post call-2-pre call-2-post call-3-pre call-3-post"
	fi
	for p in $boundaries $calls; do
		point KILL $p
	done
	for p in touched-0 checkout-file-7 call-2-pre; do
		point TERM $p
	done
done

floor=$((30 / SWEEP_EVERY))
echo "# $POINTS kill points (every ${SWEEP_EVERY}th of the sweep)"
test_expect_success "at least $floor kill points were swept ($POINTS)" '
	test "$POINTS" -ge $floor
'
test_done
