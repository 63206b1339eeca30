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
set -eu
W=$1 BUILD=$2 RUNS=$3
BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")

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
	cat >"$R/env.local" <<EOF
AUTODEPLOY_COMPOSE_DIR=$R/stack
AUTODEPLOY_STATE_DIR=$R/state
AUTODEPLOY_LOG_DIR=$R/log
AUTODEPLOY_STRATEGY=$way
AUTODEPLOY_PREPARE_COMMAND="docker-compose config -q"
AUTODEPLOY_HEALTHCHECK_COMMAND="busybox wget -q -O /dev/null http://127.0.0.1:$P1/"
AUTODEPLOY_HEALTHCHECK_INTERVAL=1
AUTODEPLOY_HEALTHCHECK_TIMEOUT=30
EOF
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
