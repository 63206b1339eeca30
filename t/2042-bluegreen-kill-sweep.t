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

docker_setup || docker_skip "${DOCKER_REASON:-no Docker engine}: run as root with docker.io, docker-compose and busybox-static installed"
"$SRC_DIR/t/dockerd" nginx-image || docker_skip "no nginx image: apt-get install nginx-light"

PROJECT=adg$$
CHECKOUT=$TRASH/$PROJECT
SW=$TRASH/sweep
POINTS=0
at_exit "cd '$CHECKOUT' && docker-compose down -t 1"

# write_stack DIR VERSION: t/2039's stack (web healthy from the start).
write_stack() {
	cat >"$1/docker-compose.yml" <<-EOF &&
	version: "2.4"
	services:
	  web:
	    image: $IMAGE
	    init: true
	    command: ["/bin/sh", "-c", "mkdir -p /tmp/www && echo $2 >/tmp/www/index.html && echo ok >/tmp/www/health && exec httpd -f -p 80 -h /tmp/www"]
	    healthcheck:
	      test: ["CMD", "/bin/wget", "-q", "-O", "/dev/null", "http://127.0.0.1/health"]
	      interval: 1s
	      timeout: 2s
	      retries: 2
	    labels:
	      autodeploy.version: "$2"
	  proxy:
	    image: autodeploy-nginx:1
	    command: ["/usr/sbin/nginx", "-g", "daemon off;"]
	    depends_on: [web]
	    volumes:
	      - ./proxy.conf:/etc/nginx/nginx.conf:ro
	    ports:
	      - "127.0.0.1:$PORT:80"
	    labels:
	      autodeploy.version: "proxy"
	EOF
	cat >"$1/proxy.conf" <<-EOF
	worker_processes 1;
	pid /tmp/nginx.pid;
	error_log stderr;
	events { worker_connections 256; }
	http {
	    access_log off;
	    client_body_temp_path /tmp/body;
	    proxy_temp_path /tmp/proxy;
	    fastcgi_temp_path /tmp/fastcgi;
	    uwsgi_temp_path /tmp/uwsgi;
	    scgi_temp_path /tmp/scgi;
	    server {
	        listen 80;
	        location / {
	            proxy_pass http://web:80;
	            proxy_connect_timeout 1s;
	        }
	    }
	}
	EOF
}

release() {
	_dev=$(dev_clone stack) &&
	write_stack "$_dev" "$1" &&
	dev_publish stack "release $1" >/dev/null
}

web_ids() {
	docker ps -a -q --filter "label=com.docker.compose.project=$PROJECT" \
		--filter "label=com.docker.compose.service=web"
}

# The wrapper of every command of the config: t/2035's (counts its calls
# in $SW/calls; at the one in $SW/kill-call it signals the topmost
# run-deploy before or after running the real command).
test_expect_success 'setup: a remote holding v0, its checkout running behind the proxy, the wrapper' '
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

# point SIGNAL POINT: killed at POINT (AUTODEPLOY_TEST_KILL_AT, or
# call-N-pre/post: the wrapper's Nth call).
point() {
	sweep_sampled || return 0
	POINTS=$((POINTS + 1))
	P_SIG=$1 P_AT=$2 P_V=v$POINTS
	export P_SIG P_AT P_V
	test_expect_success "bluegreen, SIG$P_SIG at $P_AT: the next run leaves one web container on the new commit, one more has nothing to do" '
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
			{ test -e "$SW/signalled" || test_grep "killing myself" err; }
		fi &&
		rd 0 --if-drift &&
		one_web $P_V &&
		rd 0 --if-drift &&
		test_grep "nothing is due" err &&
		one_web $P_V
	'
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
