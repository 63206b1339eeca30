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

docker_setup || docker_skip "${DOCKER_REASON:-no Docker engine}: run as root with docker.io, docker-compose and busybox-static installed"

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

# The wrapper of every stack command: counts its calls in $SW/calls; at
# the one numbered in $SW/kill-call it signals the topmost run-deploy
# (as t/lib-sweep.sh's stand-in) before ("pre") or after ("post")
# running the real command.
test_expect_success 'setup: a remote holding v0, its checkout running under compose, the wrapper' '
	mkdir -p "$SW" bin &&
	cat >bin/wrap <<-EOF &&
	#!/bin/sh
	n=0 at= mode=
	read -r n <"$SW/calls" 2>/dev/null
	n=\$((n + 1))
	echo \$n >"$SW/calls"
	read -r at <"$SW/kill-call" 2>/dev/null
	[ "\$n" = "\$at" ] && read -r mode <"$SW/kill-mode"
	signal_top() {
		p=\$\$ top=
		while [ "\$p" -gt 1 ]; do
			read -r comm <"/proc/\$p/comm"
			[ "\$comm" = run-deploy ] && top=\$p
			read -r _pid _comm _state p _rest <"/proc/\$p/stat"
		done
		echo "\$mode \$*" >"$SW/signalled"
		kill -\$(cat "$SW/signal") \$top
	}
	[ "\$mode" = pre ] && signal_top "\$@"
	"\$@"
	rc=\$?
	[ "\$mode" = post ] && signal_top "\$@"
	exit \$rc
	EOF
	chmod +x bin/wrap &&
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

# point SIGNAL POINT: one kill point (a step boundary or file count of
# AUTODEPLOY_TEST_KILL_AT, or call-N-pre/post: the wrapper's Nth call).
point() {
	sweep_sampled || return 0
	POINTS=$((POINTS + 1))
	P_SIG=$1 P_AT=$2 P_V=v$POINTS
	export P_SIG P_AT P_V
	test_expect_success "$STRATEGY, SIG$P_SIG at $P_AT: the next run leaves the stack running on the new commit, one more has nothing to do" '
		release $P_V &&
		echo "$P_SIG" >"$SW/signal" &&
		rm -f "$SW/signalled" &&
		: >"$SW/calls" &&
		at= &&
		case $P_AT in
		call-*) n=${P_AT#call-} && echo "${n#*-}" >"$SW/kill-mode" && echo "${n%-*}" >"$SW/kill-call" ;;
		*) at=$P_AT ;;
		esac &&
		rc=0 &&
		{ AUTODEPLOY_TEST_KILL_AT=$at AUTODEPLOY_TEST_KILL_SIGNAL=$P_SIG \
			run-deploy --config "$CONFIG" --if-drift >out 2>err || rc=$?; } &&
		: >"$SW/kill-call" &&
		if [ "$P_SIG" = KILL ]; then
			is "killed run-deploy exit" "$rc" 137
		else
			{ test -e "$SW/signalled" || test_grep "killing myself\|interrupted by signal" err; }
		fi &&
		rd 0 --if-drift &&
		running_on $P_V &&
		rd 0 --if-drift &&
		test_grep "nothing is due" err &&
		running_on $P_V
	'
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
