#!/bin/sh
# make demo: the whole autodeploy cycle on this machine, in a temporary
# folder, with no docker: a bare "remote", a checkout, and a stand-in
# compose command that says what it is asked to do.
set -eu
B=${AUTODEPLOY_BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
PATH="$B/bin:$PATH"
D=$(mktemp -d "${TMPDIR:-/tmp}/autodeploy-demo.XXXXXX")
# published notebooks are read-only folders: make them writable to remove them
trap 'chmod -R u+w "$D" 2>/dev/null; rm -rf "$D"' EXIT
export HOME="$D/home" GIT_CONFIG_NOSYSTEM=1
export GIT_AUTHOR_NAME=Dev GIT_AUTHOR_EMAIL=dev@example.invalid
export GIT_COMMITTER_NAME=Dev GIT_COMMITTER_EMAIL=dev@example.invalid
mkdir -p "$HOME"
git config --global init.defaultBranch main
git config --global advice.detachedHead false

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; set +e; "$@"; rc=$?; set -e; say "(exit $rc)"; return 0; }

step "A git remote and the host's checkout of the stack"
git init -q --bare "$D/remote/stack.git"
git clone -q "$D/remote/stack.git" "$D/dev" 2>/dev/null
printf 'services:\n  web:\n    image: nginx:1.25\n' > "$D/dev/docker-compose.yml"
echo ok > "$D/dev/health"
git -C "$D/dev" add . && git -C "$D/dev" commit -qm "first version"
git -C "$D/dev" push -q origin main
git clone -q "$D/remote/stack.git" "$D/srv/stack"
say "remote:   $D/remote/stack.git"
say "checkout: $D/srv/stack (what the host runs)"

# The stand-in for docker compose: prints what it is asked and which
# image the checked-out compose file names.
cat > "$D/compose" <<'SH'
#!/bin/sh
img=$(sed -n 's/.*image: //p' docker-compose.yml)
echo "   [compose] $1 (compose file says $img)"
SH
cat > "$D/healthcheck" <<'SH'
#!/bin/sh
if [ "$(cat health)" = ok ]; then echo "   [health] ok"; exit 0; fi
echo "   [health] FAILING: $(cat health)"; exit 1
SH
chmod +x "$D/compose" "$D/healthcheck"

cat > "$D/env.local" <<EOF2
# the one file that drives everything (see env.local(5))
AUTODEPLOY_COMPOSE_DIR=$D/srv/stack
AUTODEPLOY_STOP_COMMAND="$D/compose stop"
AUTODEPLOY_START_COMMAND="$D/compose up"
AUTODEPLOY_PREPARE_COMMAND="$D/compose pull"
AUTODEPLOY_HEALTHCHECK_COMMAND=$D/healthcheck
AUTODEPLOY_HEALTHCHECK_TIMEOUT=3
AUTODEPLOY_HEALTHCHECK_INTERVAL=1
AUTODEPLOY_NOTIFY_COMMAND='echo "   [notify] result \$AUTODEPLOY_RESULT: \$AUTODEPLOY_RESULT_TEXT"'
AUTODEPLOY_LOG_DIR=$D/log
AUTODEPLOY_STATE_DIR=$D/state
AUTODEPLOY_METRICS_FILE=$D/state/autodeploy.prom
AUTODEPLOY_NOTEBOOK_SOURCES="file://$D/remote/tutorials.git#main:notebooks"
AUTODEPLOY_NOTEBOOK_DIR=$D/jupyterhub/tutorial-notebooks
EOF2
export AUTODEPLOY_CONFIG="$D/env.local"
say "config:   $AUTODEPLOY_CONFIG"

step "Nothing moved upstream: check-drift says so (exit 0), and fetched nothing"
run check-drift --quiet --json

step "The bare repository gets the post-receive hook: a push only asks for a look"
run install-units --quiet --hook "$D/remote/stack.git"
say "hook settings: $(git -C "$D/remote/stack.git" config --get-regexp '^autodeploy' | tr '\n' ' ')"

step "A developer merges a change: nginx 1.25 -> 1.27"
sed -i 's/1.25/1.27/' "$D/dev/docker-compose.yml"
git -C "$D/dev" commit -qam "nginx 1.27" && git -C "$D/dev" push -q origin main 2>&1 | sed 's/^/   [git push] /'
say "the trigger file systemd's autodeploy.path watches now holds: $(cat "$D/state/trigger" 2>/dev/null)"
run check-drift --quiet

step "The timer fires: run-deploy pulls the new images from a staged copy, fast-forwards, recreates, checks health"
run run-deploy --if-drift --quiet
say "the checkout is now at: $(git -C "$D/srv/stack" log --oneline -1)"

step "A bad change lands: the health check will fail"
echo "database unreachable" > "$D/dev/health"
sed -i 's/1.27/1.28-broken/' "$D/dev/docker-compose.yml"
git -C "$D/dev" commit -qam "broken release" && git -C "$D/dev" push -q origin main
run run-deploy --if-drift --quiet
say "exit 2 = rolled back: the checkout is back at: $(git -C "$D/srv/stack" log --oneline -1)"

step "What the log and the metrics say"
tail -n 4 "$D/log/autodeploy.log" | sed 's/^/   /'
grep -v '^#' "$D/state/autodeploy.prom" | sed 's/^/   /'

if command -v deploy-notebooks >/dev/null 2>&1; then
	step "Tutorial notebooks are published into JupyterHub, read-only, in one swap"
	git init -q --bare "$D/remote/tutorials.git"
	git clone -q "$D/remote/tutorials.git" "$D/nb" 2>/dev/null
	mkdir -p "$D/nb/notebooks/intro"
	echo '{"cells": []}' > "$D/nb/notebooks/intro/hello.ipynb"
	echo '{"cells": []}' > "$D/nb/notebooks/climate.ipynb"
	echo 'not a notebook' > "$D/nb/notebooks/README.md"
	git -C "$D/nb" add . && git -C "$D/nb" commit -qm notebooks && git -C "$D/nb" push -q origin main
	run deploy-notebooks --quiet
	(cd "$D/jupyterhub" && find tutorial-notebooks -exec ls -ld {} + | awk '{print "   " $1, $NF}')
fi

if command -v rotate-logs >/dev/null 2>&1; then
	step "Logs are rotated and compressed, logrotate-style, losing nothing"
	run rotate-logs --force --quiet
	ls "$D/log" | sed 's/^/   /'
	say "(a log smaller than one file-system block waits until it grows: see rotate-logs(1))"
fi

step "Done: see README.md for installing it for real (install-units writes the systemd timers)"
