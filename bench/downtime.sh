#!/bin/sh
# bench/downtime.sh WORKDIR BUILD RUNS: case 6 of bench/run.sh.  What a
# user of the stack sees during a deploy, with a real Docker engine
# (t/dockerd): a client probes two services every 20 ms while a commit
# that changes one of them is deployed, three ways, one after the other:
#   birdhouse  the cron-era script: fetch, stop, pull, up -d (baseline-deploy.sh)
#   restart    run-deploy, AUTODEPLOY_STRATEGY=restart (stop, move, start)
#   recreate   run-deploy, the default (prepare, move, up -d)
# Prints Markdown: failed requests and the longest outage of the changed
# and the unchanged service, and the time from the push until the new
# version serves.  Every service runs with `init: true` (busybox httpd as
# PID 1 ignores SIGTERM, so a stop would always take compose's 10 s).
#
# Then the birdhouse shape (SPEC.md "blue/green"): a `web` service with a
# compose healthcheck behind an nginx proxy (Debian's nginx, in an image
# made offline: t/dockerd nginx-image) whose proxy_pass names the
# service; a client probes THROUGH THE PROXY every 20 ms while DEPLOYS
# changed releases of web deploy one after the other, then one release
# whose healthcheck never passes; for bluegreen, recreate and restart in
# the same run.  A failed request in a bluegreen row fails the bench
# (bench_fail: bench/run.sh exits 1).
set -eu
W=$1 BUILD=$2 RUNS=$3 DEPLOYS=${4:-20}
BUILD=$(cd "$BUILD" && pwd)
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
RES=$W/res
mkdir -p "$RES"
. "$BENCH_DIR/lib.sh"

echo "## 6. Downtime of a deploy, real engine: run-deploy (restart, recreate) vs the birdhouse way"
echo
if [ "$(id -u)" != 0 ] || ! command -v dockerd >/dev/null 2>&1; then
	echo "skipped: needs root and Debian's docker.io, docker-compose and busybox-static"
	exit 0
fi
D=$W/dt
mkdir -p "$D"
DK=$(mktemp -d /tmp/adk-bench.XXXXXX)
trap 'cd /; for p in "$D"/*/stack; do [ -d "$p" ] && (cd "$p" && docker-compose down -t 1 >/dev/null 2>&1); done; sh "$ROOT/t/dockerd" stop "$DK"' EXIT
line=$(sh "$ROOT/t/dockerd" start "$DK")
export DOCKER_HOST=${line#DOCKER_HOST=}
sh "$ROOT/t/dockerd" image
IMAGE=autodeploy-busybox:1
P1=18481 P2=18482

# stack DIR VERSION: the compose file and the pages of VERSION.
stack() {
	mkdir -p "$1/www" "$1/static"
	cat >"$1/docker-compose.yml" <<EOF
version: "2.4"
services:
  web:
    image: $IMAGE
    network_mode: host
    init: true
    command: ["/bin/httpd", "-f", "-p", "127.0.0.1:$P1", "-h", "/www"]
    volumes:
      - ./www:/www:ro
    labels:
      autodeploy.version: "$2"
  static:
    image: $IMAGE
    network_mode: host
    init: true
    command: ["/bin/httpd", "-f", "-p", "127.0.0.1:$P2", "-h", "/static"]
    volumes:
      - ./static:/static:ro
EOF
	echo "$2" >"$1/www/index.html"
	echo static >"$1/static/index.html"
}

served() { python3 -c 'import sys, urllib.request as u
try: print(u.build_opener(u.ProxyHandler({})).open("http://127.0.0.1:%s/" % sys.argv[1], timeout=1).read().decode().strip())
except Exception: print("down")' "$1"; }

wait_served() { # PORT BODY
	i=0
	while [ "$(served "$1")" != "$2" ]; do
		i=$((i + 1)); [ $i -lt 300 ] || { echo "bench: $2 never served on $1" >&2; exit 1; }
		sleep 0.1
	done
}

ms() { python3 -c 'import time; print(int(time.monotonic() * 1000))'; }

# dt_env R WAY PORT TIMEOUT: R/env.local for a deploy of R/stack with
# strategy WAY, healthy once 127.0.0.1:PORT answers (within TIMEOUT s).
dt_env() {
	cat >"$1/env.local" <<EOF
AUTODEPLOY_COMPOSE_DIR=$1/stack
AUTODEPLOY_STATE_DIR=$1/state
AUTODEPLOY_LOG_DIR=$1/log
AUTODEPLOY_STRATEGY=$2
AUTODEPLOY_PREPARE_COMMAND="docker-compose config -q"
AUTODEPLOY_HEALTHCHECK_COMMAND="busybox wget -q -O /dev/null http://127.0.0.1:$3/"
AUTODEPLOY_HEALTHCHECK_INTERVAL=1
AUTODEPLOY_HEALTHCHECK_TIMEOUT=$4
EOF
}

# one WAY RUN: a fresh remote and checkout at v1 running, then probe while
# v2 is pushed and deployed; appends "WAY p1-fail p1-outage p2-fail
# p2-outage push-to-served deploy-wall rc" to $D/results.
one() {
	way=$1 run=$2 v=$1-$2
	R=$D/$way-$run
	rm -rf "$R"
	mkdir -p "$R"
	git init -q --bare -b main "$R/stack.git"
	git clone -q "$R/stack.git" "$R/dev" 2>/dev/null
	stack "$R/dev" v1
	git -C "$R/dev" add -A && git -C "$R/dev" commit -qm v1 && git -C "$R/dev" push -q origin HEAD:main
	git clone -q "$R/stack.git" "$R/stack"
	(cd "$R/stack" && docker-compose up -d >/dev/null 2>&1)
	wait_served $P1 v1
	wait_served $P2 static
	dt_env "$R" "$way" $P1 30
	python3 "$BENCH_DIR/probe.py" "$R/stop-probe" "$v" $P1 $P2 >"$R/probe" &
	probe=$!
	sleep 1
	stack "$R/dev" "$v"
	git -C "$R/dev" commit -qam "$v"
	t_push=$(ms)
	git -C "$R/dev" push -q origin HEAD:main
	rc=0
	case $way in
	birdhouse) (cd "$R/stack" && sh "$BENCH_DIR/baseline-deploy.sh" "docker-compose stop" "docker-compose up -d" "$R/stack") >"$R/out" 2>&1 || rc=$? ;;
	*) "$BUILD/bin/run-deploy" --config "$R/env.local" --quiet >"$R/out" 2>&1 || rc=$? ;;
	esac
	t_done=$(ms)
	wait_served $P1 "$v"
	sleep 1
	touch "$R/stop-probe"
	wait $probe
	# the probe started 1 s before the push: its first sight of v2 is
	# relative to its own start
	t_probe0=$((t_push - 1000))
	awk -v way="$way" -v push="$t_push" -v p0="$t_probe0" -v wall=$((t_done - t_push)) -v rc=$rc '
		NR == 1 { f1 = $3; o1 = $4; seen = p0 + $5 - push }
		NR == 2 { f2 = $3; o2 = $4 }
		END { print way, f1, o1, f2, o2, seen, wall, rc }' "$R/probe" >>"$D/results"
	(cd "$R/stack" && docker-compose down -t 1 >/dev/null 2>&1)
}

: >"$D/results"
r=1
while [ $r -le "$RUNS" ]; do
	for way in birdhouse restart recreate; do one $way $r; done
	r=$((r + 1))
done

# RUNS 0: the proxy part alone (sh bench/downtime.sh W BUILD 0 DEPLOYS)
[ "$RUNS" -gt 0 ] && {
echo "A client probes both services every 20 ms (GET /, 1 s timeout) from 1 s before the push"
echo "until 1 s after the new version serves; the deploy starts right after the push, as the path"
echo "unit would start it.  \`web\` changes (label and page: compose recreates it), \`static\` does"
echo "not.  Medians of $RUNS run(s) each, all ways in the same run, on this machine."
echo
echo "| way | web: failed requests | web: longest outage | static: failed requests | static: longest outage | push → new version served | deploy command wall | exit |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for way in birdhouse restart recreate; do
	awk -v way="$way" '$1 == way' "$D/results" | python3 -c '
import statistics, sys
rows = [list(map(int, l.split()[1:])) for l in sys.stdin if l.strip()]
m = [int(statistics.median(c)) for c in zip(*rows)]
name = {"birdhouse": "birdhouse way (stop; pull; up -d)", "restart": "run-deploy, restart",
        "recreate": "run-deploy, recreate (default)"}[sys.argv[1]]
print("| %s | %d | %d ms | %d | %d ms | %d ms | %d ms | %d |" % (name, m[0], m[1], m[2], m[3], m[4], m[5], m[6]))
' "$way"
done
}

# ------------------------------------------------ behind the stack's proxy

echo
echo "### 6. Behind the stack's proxy (birdhouse's shape): bluegreen vs recreate and restart"
echo
if ! sh "$ROOT/t/dockerd" nginx-image; then
	echo "skipped: needs Debian's nginx-light (t/dockerd nginx-image)"
	exit 0
fi
P3=18483

# bg_stack DIR VERSION HEALTHY: the tests' stack in birdhouse's shape
# (proxy_stack, t/lib-docker.sh), its proxy on port P3.  web serves
# VERSION and, when HEALTHY is yes, the /health its compose healthcheck
# fetches; the proxy passes to "web", re-resolved at each reload; a
# connection to a vanished address gives up after 1 s and tries the next
# (run-deploy(1), "bluegreen").
. "$ROOT/t/lib-docker.sh"
PORT=$P3
bg_stack() { proxy_stack "$@"; }

# bg_release R VERSION HEALTHY: commit and push a release of web.
bg_release() {
	bg_stack "$1/dev" "$2" "$3"
	git -C "$1/dev" add -A && git -C "$1/dev" commit -qm "$2" && git -C "$1/dev" push -q origin HEAD:main
}

# bg_way WAY: the stack at v0, 5 s of probing with nothing deployed (the
# idle window), DEPLOYS changed releases, then one that never turns
# healthy; each deploy's span is a window of $R/windows.  Appends
# "WAY deploys-ok failing-release-exit" to $D/bg-results.
bg_way() {
	way=$1
	R=$D/bg-$way
	rm -rf "$R"
	mkdir -p "$R"
	git init -q --bare -b main "$R/stack.git"
	git clone -q "$R/stack.git" "$R/dev" 2>/dev/null
	bg_release "$R" v0 yes
	git clone -q "$R/stack.git" "$R/stack"
	(cd "$R/stack" && docker-compose up -d >/dev/null 2>&1)
	wait_served $P3 v0
	dt_env "$R" "$way" $P3 20
	cat >>"$R/env.local" <<EOF
AUTODEPLOY_BLUEGREEN_SERVICES=web
AUTODEPLOY_BLUEGREEN_PROXY=proxy
AUTODEPLOY_BLUEGREEN_DRAIN=1
EOF
	python3 "$BENCH_DIR/latency.py" "$R/stop-probe" $P3 "$R/probe" &
	probe=$!
	t=$(ms)
	sleep 5
	echo "idle $t $(ms)" >"$R/windows"
	ok=0 i=1
	while [ $i -le "$DEPLOYS" ]; do
		bg_release "$R" "$way-$i" yes
		t=$(ms)
		rc=0
		"$BUILD/bin/run-deploy" --config "$R/env.local" --quiet >>"$R/out" 2>&1 || rc=$?
		echo "deploys $t $(ms)" >>"$R/windows"
		[ $rc = 0 ] && [ "$(served $P3)" = "$way-$i" ] && ok=$((ok + 1))
		i=$((i + 1))
	done
	bg_release "$R" "$way-bad" no
	t=$(ms)
	frc=0
	"$BUILD/bin/run-deploy" --config "$R/env.local" --quiet >>"$R/out" 2>&1 || frc=$?
	# the failing release's window runs until the old version serves
	# again (restart and recreate roll back and start it anew)
	wait_served $P3 "$way-$DEPLOYS"
	echo "failing $t $(ms)" >>"$R/windows"
	sleep 1
	touch "$R/stop-probe"
	wait $probe
	python3 "$BENCH_DIR/switch-windows.py" "$R/probe" "$R/windows" 1000 >>"$R/windows"
	python3 "$BENCH_DIR/latency-sum.py" "$R/probe" "$R/windows" | sed "s/^/$way /" >>"$D/bg-sums"
	echo "$way $ok $frc" >>"$D/bg-results"
	(cd "$R/stack" && docker-compose down -t 1 >/dev/null 2>&1)
}

: >"$D/bg-results"
: >"$D/bg-sums"
load0=$(cut -d' ' -f1-3 /proc/loadavg)
for way in bluegreen recreate restart; do bg_way $way; done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

echo "The stack of t/2039: \`web\` (busybox httpd, compose healthcheck every 1 s) behind \`proxy\`"
echo "(nginx, \`proxy_pass http://web:80\`, \`proxy_connect_timeout 1s\`), the proxy's port published."
echo "A client GETs / through the proxy every 20 ms, one request at a time (5 s timeout: a slow"
echo "answer counts as latency), for 5 s with nothing deployed (idle), then during $DEPLOYS deploys"
echo "in a row of a release that changes \`web\`, then during one release whose healthcheck never"
echo "passes (until the old version serves again).  bluegreen: AUTODEPLOY_BLUEGREEN_SERVICES=web,"
echo "_PROXY=proxy, _DRAIN=1.  Latency: of the requests that succeeded.  The switch: in each deploy,"
echo "from the last answer of the old version and the first of the new (whichever is first) to the"
echo "other, 1 s more on each side (bench/switch-windows.py); \"added\" is a window's p100 minus"
echo "the idle p100.  Load average before: $load0; after: $load1."
echo
echo "| way | deploys ok | failed requests | longest outage | idle p50 / p100 | deploys p50 / p99 / p100 | added p100, whole deploy | switch p99 / p100 | added p100, switch | failing release: exit, failed requests, longest outage |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
for way in bluegreen recreate restart; do
	# WAY WINDOW requests failed outage p50 p99 p100 (bench/latency-sum.py)
	set -- $(awk -v w=$way '$1 == w && $2 == "idle"' "$D/bg-sums")
	i50=$6 i100=$8
	set -- $(awk -v w=$way '$1 == w && $2 == "failing"' "$D/bg-sums")
	ffail=$4 fout=$5
	set -- $(awk -v w=$way '$1 == w' "$D/bg-results")
	dok=$2 frc=$3
	# (the dashes fill the row when no deploy changed what was served:
	# switch-windows.py then printed no window)
	set -- $(awk -v w=$way '$1 == w && $2 == "switch"' "$D/bg-sums") - - - - - - - -
	s99=$7 s100=$8
	sadded=$(awk -v a="$s100" -v b="$i100" 'BEGIN { printf "%.1f", a - b }')
	set -- $(awk -v w=$way '$1 == w && $2 == "deploys"' "$D/bg-sums")
	added=$(awk -v a="$8" -v b="$i100" 'BEGIN { printf "%.1f", a - b }')
	echo "| $way | $dok / $DEPLOYS | $4 | $5 ms | $i50 / $i100 ms | $6 / $7 / $8 ms | $added ms | $s99 / $s100 ms | $sadded ms | $frc, $ffail, $fout ms |"
	if [ $way = bluegreen ]; then
		bg_fail=$4 bg_ffail=$ffail bg_added=$sadded bg_ok=$dok bg_frc=$frc
	else
		eval "${way}_fail=$4"
	fi
done
echo
echo "failed requests over the $DEPLOYS deploys, recreate / bluegreen: $recreate_fail / $bg_fail;" \
	"restart / bluegreen: $restart_fail / $bg_fail (goal: bluegreen 0; p100 the switch adds < 50 ms: $bg_added ms)"
if [ "$bg_fail" != 0 ] || [ "$bg_ffail" != 0 ] || [ "$bg_ok" != "$DEPLOYS" ] || [ "$bg_frc" != 2 ]; then
	echo
	echo "**failed**: bluegreen must deploy every release with 0 failed requests and refuse the failing one (exit 2) with 0"
	bench_fail "case 6, bluegreen behind the proxy"
fi
