# t/lib-docker.sh — a real Docker engine for the tests, sourced after
# t/lib.sh:
#   . "$T_DIR/lib-docker.sh"
#   docker_require [nginx]            sets DOCKER_HOST, IMAGE, PORT, or skips
#
# Uses the engine .ci/run started (AUTODEPLOY_DOCKER_HOST) when it
# answers, else starts a private one under /tmp for this script (as root)
# and stops it at the end.  Without root or docker.io the script skips,
# and in CI (CI=true) that is a failure: CI always has the engine.

IMAGE=autodeploy-busybox:1
# a port of this script's own, so that scripts run in parallel never meet
PORT=$((20000 + $$ % 20000))
export IMAGE PORT

docker_setup() {
	if [ -n "${AUTODEPLOY_DOCKER_HOST:-}" ] &&
	   DOCKER_HOST=$AUTODEPLOY_DOCKER_HOST docker version >/dev/null 2>&1; then
		DOCKER_HOST=$AUTODEPLOY_DOCKER_HOST
	else
		# short: the engine's sockets live below it (108-byte limit)
		_dk=$(mktemp -d /tmp/adk.XXXXXX) || return 1
		at_exit "'$SRC_DIR/t/dockerd' stop '$_dk'"
		_line=$("$SRC_DIR/t/dockerd" start "$_dk") || { DOCKER_REASON="cannot start dockerd"; return 1; }
		DOCKER_HOST=${_line#DOCKER_HOST=}
	fi
	export DOCKER_HOST
	"$SRC_DIR/t/dockerd" image
}

# docker_require [nginx]: the engine (docker_setup), and with "nginx" the
# nginx image (t/dockerd nginx-image), or the script skips saying what to
# install (a failure in CI, docker_skip).
docker_require() {
	docker_setup ||
		docker_skip "${DOCKER_REASON:-no Docker engine}: run as root with docker.io, docker-compose and busybox-static installed"
	[ "${1:-}" != nginx ] || "$SRC_DIR/t/dockerd" nginx-image ||
		docker_skip "no nginx image: apt-get install nginx-light"
}

# docker_skip REASON: the whole script skips, or fails in CI.
docker_skip() {
	if [ "${CI:-}" = true ]; then
		echo "1..1"
		echo "not ok 1 - the real engine is required in CI: $1"
		exit 1
	fi
	skip_all "$1"
}

# web_version: what the service on $PORT serves at /, or "down".
web_version() {
	busybox wget -q -O - "http://127.0.0.1:$PORT/" 2>/dev/null || echo down
}

# running_label PROJECT: the autodeploy.version label of each running
# container of the compose project, one per line.
running_label() {
	docker ps --filter "label=com.docker.compose.project=$1" \
		--format '{{.Label "autodeploy.version"}}' | sort
}

# forget_kept PROJECT: remove what run-deploy kept of the project's images
# (the autodeploy-keep-PROJECT-* containers, the autodeploy/keep:PROJECT-*
# tags): the engine outlives the script, and may be shared.
forget_kept() {
	docker ps -aq --filter "name=^autodeploy-keep-$1-" | xargs -r docker rm -f >/dev/null
	docker image ls autodeploy/keep --format '{{.Repository}}:{{.Tag}}' |
		grep ":$1-" | xargs -r docker image rm >/dev/null
}

# nginx_conf FILE LOCATION...: an nginx.conf for Debian's nginx in the
# image `t/dockerd nginx-image` makes (no root needed, logs to stderr),
# serving on port 80 with the given `location` lines.  Each proxy_pass
# should give up connecting after 1 s (proxy_connect_timeout) and try the
# next address: a request sent to an old container's address in the
# instant it leaves the network would otherwise wait nginx's default 60 s.
nginx_conf() {
	_f=$1
	shift
	{
		printf '%s\n' "worker_processes 1;" "pid /tmp/nginx.pid;" "error_log stderr;" \
			"events { worker_connections 256; }" "http {" "    access_log off;"
		for _t in client_body proxy fastcgi uwsgi scgi; do
			printf '    %s_temp_path /tmp/%s;\n' "$_t" "${_t#client_}"
		done
		printf '%s\n' "    server {" "        listen 80;"
		for _l in "$@"; do
			printf '        %s\n' "$_l"
		done
		printf '%s\n' "    }" "}"
	} >"$_f"
}

# proxy_stack DIR VERSION HEALTHY: birdhouse's shape in DIR (compose file
# and proxy.conf): `web` serves VERSION at / and, when HEALTHY is yes,
# "ok" at /health, which its compose healthcheck fetches; an nginx `proxy`
# on $PORT with a static proxy_pass to the service name.  web stops as a
# production server does (run-deploy(1), "bluegreen"): on SIGTERM it closes
# its listening socket (the proxy then tries the other container) and
# finishes the answers it is sending.  busybox httpd alone would die with
# them: its forked handlers are killed when the container's init exits,
# cutting an answer whose header has gone out, which no proxy can retry
# (1 request of 14,445 over 20 deploys, bench/RESULTS.md case 6).
proxy_stack() {
	if [ "$3" = yes ]; then _h="echo ok >/tmp/www/health && "; else _h=; fi &&
	cat >"$1/docker-compose.yml" <<-EOF &&
	version: "2.4"
	services:
	  web:
	    image: $IMAGE
	    init: true
	    command: ["/bin/sh", "-c", "mkdir -p /tmp/www && echo $2 >/tmp/www/index.html && ${_h}{ httpd -f -p 80 -h /tmp/www & p=\$\$!; trap 'kill \$\$p; sleep 0.2; exit 0' TERM; wait \$\$p; }"]
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
	nginx_conf "$1/proxy.conf" "location / { proxy_pass http://web:80; proxy_connect_timeout 1s; }"
}

# probe_start [PATH] / probe_stop: a client of http://127.0.0.1:$PORT/PATH
# every 20 ms; each answer, or "fail", is one line of ./probe.  (busybox
# 1.35's wget crashes with -T: timeout(1) bounds each request.)
probe_start() {
	rm -f probe probe.stop &&
	(
		while [ ! -e probe.stop ]; do
			timeout 5 busybox wget -q -O - "http://127.0.0.1:$PORT/${1:-}" 2>/dev/null || echo fail
			sleep 0.02
		done
	) >probe &
	_probe=$! &&
	at_exit "touch '$TRASH/probe.stop'"
}
probe_stop() {
	touch probe.stop &&
	wait $_probe &&
	echo "probe: $(wc -l <probe) requests, $(grep -c fail probe) failed" >&2
}

# write_counting_wrap: $TRASH/bin/wrap, the wrapper a sweep on the engine
# puts around every stack command: it counts its calls in $SW/calls; at
# the one numbered in $SW/kill-call it sends the signal in $SW/signal to
# the topmost run-deploy before ("pre" in $SW/kill-mode) or after ("post")
# running the real command, and leaves $SW/signalled.
write_counting_wrap() {
	mkdir -p "$SW" "$TRASH/bin" &&
	{ echo "#!/bin/sh" && kill_call_sh && cat <<-EOF; } >"$TRASH/bin/wrap" &&
	[ "\$mode" = pre ] && signal_top "\$mode \$*"
	"\$@"
	rc=\$?
	[ "\$mode" = post ] && signal_top "\$mode \$*"
	exit \$rc
	EOF
	chmod +x "$TRASH/bin/wrap"
}

# engine_point SIGNAL POINT CHECK WHAT LEAVES: one point of a kill sweep
# on the engine, one test: a new release (the script's `release`), then
# run-deploy --if-drift killed by SIGNAL at POINT (a step boundary or file
# count of AUTODEPLOY_TEST_KILL_AT, or call-N-pre/post: the counting
# wrapper's Nth call); the next --if-drift run must leave what `CHECK
# VERSION` asserts, and one more must have nothing to do.  WHAT and
# LEAVES name the test.  Counts POINTS; sampled under check-asan.
engine_point() {
	sweep_sampled || return 0
	POINTS=$((POINTS + 1))
	P_SIG=$1 P_AT=$2 P_CHECK=$3 P_V=v$POINTS
	export P_SIG P_AT P_CHECK P_V
	test_expect_success "$4, SIG$P_SIG at $P_AT: the next run leaves $5, one more has nothing to do" '
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
		$P_CHECK $P_V &&
		rd 0 --if-drift &&
		test_grep "nothing is due" err &&
		$P_CHECK $P_V
	'
}
