# t/lib-docker.sh — a real Docker engine for the tests, sourced after
# t/lib.sh:
#   . "$T_DIR/lib-docker.sh"
#   docker_setup || skip_all "..."     sets DOCKER_HOST, IMAGE, PORT
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
