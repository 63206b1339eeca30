#!/bin/sh
# bench/run.sh — autodeploy against the shell and cron way, side by side.
# Run through `make bench` (or: AUTODEPLOY_BUILD=$PWD/build sh bench/run.sh).
# QUICK=1 in the environment: smaller sizes and fewer runs (under a minute).
# BENCH_CASES="1 2 3 4 5 6 7" picks cases (6: downtime, real engine, as root; 7: verified commits); BENCH_SSH=no skips the ssh rows.
# Everything is built in a temporary folder ($W below), removed at the end.
# The output is Markdown: bench/RESULTS.md is one run of it.
set -eu

BENCH_DIR=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$BENCH_DIR")
BUILD=${AUTODEPLOY_BUILD:-$ROOT/build}
QUICK=${QUICK:-}
CASES=${BENCH_CASES:-1 2 3 4 5 6 7}
BENCH_SSH=${BENCH_SSH:-yes}

for p in bin/check-drift bin/run-deploy bin/rotate-logs bin/deploy-notebooks hooks/post-receive; do
	[ -x "$BUILD/$p" ] || { echo "bench: $BUILD/$p is missing: run make programs" >&2; exit 1; }
done
for c in git python3 cc logrotate gzip; do
	command -v "$c" >/dev/null 2>&1 || [ -x "/usr/sbin/$c" ] ||
		{ echo "bench: $c is missing (make bench installs what it needs)" >&2; exit 1; }
done
LOGROTATE=$(command -v logrotate || echo /usr/sbin/logrotate)

if [ -n "$QUICK" ]; then
	DT_RUNS=1 DT_DEPLOYS=5
	RUNS=3 BIG_RUNS=2 HIST=200 REPOS="1 10" SSH_REPOS="1" SSH_RUNS=3
	BIG_MIB=16 MANY_N=10 MANY_MIB=1 NOTEBOOKS=100 HOOK_RUNS=10 ONE_CORE=${BENCH_ONE_CORE:-yes} SIGNED=20
else
	DT_RUNS=3 DT_DEPLOYS=20
	RUNS=5 BIG_RUNS=2 HIST=1000 REPOS="1 10 50" SSH_REPOS="1 10" SSH_RUNS=3
	BIG_MIB=1024 MANY_N=100 MANY_MIB=10 NOTEBOOKS=500 HOOK_RUNS=30 ONE_CORE=${BENCH_ONE_CORE:-no} SIGNED=100
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/autodeploy-bench.XXXXXX")
RES=$W/res
SSHD_PID_FILE=$W/sshd/sshd.pid
cleanup() {
	[ -s "$SSHD_PID_FILE" ] && kill "$(cat "$SSHD_PID_FILE")" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$RES" "$W/home"
: >"$RES/summary"

# A clean, private environment: no user or system git config, no proxy.
export HOME=$W/home GIT_CONFIG_NOSYSTEM=1 LC_ALL=C
export GIT_AUTHOR_NAME=bench GIT_AUTHOR_EMAIL=bench@example.invalid
export GIT_COMMITTER_NAME=bench GIT_COMMITTER_EMAIL=bench@example.invalid
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY AUTODEPLOY_CONFIG GIT_DIR
git config --global init.defaultBranch main
git config --global advice.detachedHead false

cc -O2 -o "$W/runone" "$BENCH_DIR/runone.c"
export RUNONE=$W/runone MEASURE_OUT=$W/last.out

. "$BENCH_DIR/lib.sh"

# ---------------------------------------------------------------- fixtures

# history BARE N: a bare repository whose main holds N commits over 20
# files (git fast-import: a thousand commits in a fraction of a second).
history() {
	git init -q --bare "$1"
	awk -v n="$2" 'BEGIN {
		for (i = 1; i <= n; i++) {
			printf "commit refs/heads/main\nmark :%d\n", i
			printf "committer bench <bench@example.invalid> %d +0000\n", 1700000000 + 60 * i
			printf "data <<EOT\nchange %d\nEOT\n", i
			if (i > 1)
				printf "from :%d\n", i - 1
			printf "M 100644 inline src/file%02d.txt\ndata <<EOT\n", i % 20
			for (j = 0; j < 20; j++)
				printf "line %d of change %d\n", j, i
			printf "EOT\n\n"
		}
	}' | git -C "$1" fast-import --quiet
}

# push_one BARE: one more commit on BARE's main; prints the old tip.
push_one() {
	git -C "$1" rev-parse main
	printf 'commit refs/heads/main\ncommitter bench <bench@example.invalid> 1800000000 +0000\ndata <<EOT\nmoved\nEOT\nfrom refs/heads/main^0\nM 100644 inline moved.txt\ndata <<EOT\nmoved %s\nEOT\n\n' "$1" |
		git -C "$1" fast-import --quiet
}

# env_file FILE COMPOSE [EXTRA...]: an env.local for those checkouts.
env_file() {
	_f=$1 _c=$2
	shift 2
	{
		echo "AUTODEPLOY_COMPOSE_DIR=$_c"
		echo "AUTODEPLOY_EXTRA_REPOS=\"$*\""
		echo "AUTODEPLOY_LOG_DIR=$W/log"
		echo "AUTODEPLOY_STATE_DIR=$W/state"
	} >"$_f"
}

# ------------------------------------------------------------------ header

echo "# autodeploy benchmarks"
echo
sh "$BENCH_DIR/machine.sh" "$W"
echo
if [ -n "$QUICK" ]; then _mode="QUICK (smaller sizes, fewer runs)"; else _mode=full; fi
echo "Mode: $_mode. Each command runs once untimed"
echo "(warm-up; not for the large rotate-logs cases) and then the number of runs shown; wall and CPU"
echo "are medians, CPU is user+system including child processes, peak RSS is the largest ru_maxrss of"
echo "any run (the command or any child it waited for; bench/runone.c, wait4). Commands are shown with"
echo "\$W for the temporary folder and \$AUTODEPLOY_BUILD for the build folder. Ratios are"
echo "shell way / autodeploy: above 1x means autodeploy is faster."

# ------------------------------------------------- case 1: check-drift

case1_round() { # TRANSPORT N: nothing moved, then one repo moved
	_t=$1 _n=$2 _tid=$(echo "$1" | tr -cd a-z) _runs=$RUNS
	[ "$_t" = ssh ] && _runs=$SSH_RUNS
	set --
	_i=1
	while [ "$_i" -le "$_n" ]; do set -- "$@" "$W/c1/c$_i"; _i=$((_i + 1)); done
	env_file "$W/c1/env.$_n" "$@"
	[ "$_t" = ssh ] && cat "$W/c1/env.ssh" >>"$W/c1/env.$_n"

	echo
	echo "### 1. check-drift vs the shell loop: $_n repo(s) over $_t, nothing moved"
	echo
	show_cmd "$BUILD/bin/check-drift" --config "$W/c1/env.$_n"
	show_cmd sh "$BENCH_DIR/baseline-trigger.sh" "$@"
	_before=$(store_objects "$@")
	table_head
	measure "1-$_tid-$_n-ours" check-drift --runs "$_runs" -- "$BUILD/bin/check-drift" --config "$W/c1/env.$_n"
	_mid=$(store_objects "$@")
	measure "1-$_tid-$_n-shell" "shell loop" --runs "$_runs" -- sh "$BENCH_DIR/baseline-trigger.sh" "$@"
	_after=$(store_objects "$@")
	compare "check-drift, $_n repo(s), $_t, nothing moved" "1-$_tid-$_n-ours" "1-$_tid-$_n-shell"
	_objs=$(echo "$_before $_mid $_after" | awk '{
		printf "check-drift %d objects, %d bytes; shell loop %d objects, %d bytes", $3 - $1, $4 - $2, $5 - $3, $6 - $4 }')
	echo
	echo "objects/bytes added to the checkouts' object stores over all runs (warm-up included):"
	echo "$_objs"
	case $_objs in "check-drift 0 objects, 0 bytes"*) ;; *) echo "**check-drift added objects although nothing moved**"; bench_fail "case 1: objects added" ;; esac

	# one repo moved: c1 is put back to its pristine copy before every run,
	# so every run has to notice and fetch the new commit again
	_old=$(push_one "$W/c1/r1.git")
	_prep="rm -rf '$W/c1/c1' && cp -a '$W/c1/c1.pristine' '$W/c1/c1'"
	echo
	echo "### 1. check-drift vs the shell loop: $_n repo(s) over $_t, one moved"
	echo
	echo "(before each run, untimed: the moved checkout is restored from a copy, so each run fetches the new commit)"
	table_head
	measure "1m-$_tid-$_n-ours" check-drift --runs "$_runs" --ok 1 --prep "$_prep" -- \
		"$BUILD/bin/check-drift" --config "$W/c1/env.$_n"
	measure "1m-$_tid-$_n-shell" "shell loop" --runs "$_runs" --ok 1 --prep "$_prep" -- \
		sh "$BENCH_DIR/baseline-trigger.sh" "$@"
	compare "check-drift, $_n repo(s), $_t, one moved" "1m-$_tid-$_n-ours" "1m-$_tid-$_n-shell"
	git -C "$W/c1/r1.git" update-ref refs/heads/main "$_old"
	rm -rf "$W/c1/c1" && cp -a "$W/c1/c1.pristine" "$W/c1/c1"
}

# set_urls PREFIX N: point checkouts c1..cN at PREFIX/rI.git
set_urls() {
	_i=1
	while [ "$_i" -le "$2" ]; do
		git -C "$W/c1/c$_i" remote set-url origin "$1/r$_i.git"
		_i=$((_i + 1))
	done
	git -C "$W/c1/c1.pristine" remote set-url origin "$1/r1.git"
}

start_sshd() { # prints nothing; fails saying why in $W/sshd/why
	_d=$W/sshd
	mkdir -p "$_d"
	[ -x /usr/sbin/sshd ] || { echo "/usr/sbin/sshd is not installed" >"$_d/why"; return 1; }
	[ "$(id -u)" -eq 0 ] || { echo "sshd needs root to start sessions" >"$_d/why"; return 1; }
	command -v ssh >/dev/null || { echo "ssh is not installed" >"$_d/why"; return 1; }
	ssh-keygen -q -t ed25519 -N '' -C bench-host -f "$_d/host" || return 1
	ssh-keygen -q -t ed25519 -N '' -C bench-user -f "$_d/user" || return 1
	cp "$_d/user.pub" "$_d/authorized_keys"
	# sshd runs each session's command through root's login shell, which
	# reads ~/.bashrc: on a development machine that may be seconds of
	# pyenv/cargo setup per session, paid by both sides alike and by no
	# git host; an empty HOME keeps the rows about the clients
	mkdir -p "$_d/home"
	mkdir -p "$_d/keys" && cp "$_d/user" "$_d/keys/id_rsa_git_ssh_read_only" && chmod 600 "$_d/keys/"*
	[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
	SSHD_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$_d/config" <<-CONF
	ListenAddress 127.0.0.1
	Port $SSHD_PORT
	HostKey $_d/host
	PidFile $_d/sshd.pid
	AuthorizedKeysFile $_d/authorized_keys
	PermitRootLogin prohibit-password
	PasswordAuthentication no
	KbdInteractiveAuthentication no
	UsePAM no
	StrictModes no
	MaxStartups 100
	SetEnv HOME=$_d/home
	CONF
	/usr/sbin/sshd -f "$_d/config" -E "$_d/log" || { echo "sshd did not start" >"$_d/why"; return 1; }
	_k=0
	until [ -s "$_d/sshd.pid" ] && python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$SSHD_PORT" 2>/dev/null; do
		_k=$((_k + 1))
		[ "$_k" -lt 100 ] || { echo "sshd did not answer: $(tail -n 2 "$_d/log")" >"$_d/why"; return 1; }
		sleep 0.05
	done
	echo "[127.0.0.1]:$SSHD_PORT $(cut -d' ' -f1,2 "$_d/host.pub")" >"$_d/known_hosts"
	{
		echo "AUTODEPLOY_DEPLOY_KEY_ROOT_DIR=$_d/keys"
		echo "AUTODEPLOY_KNOWN_HOSTS=$_d/known_hosts"
	} >"$W/c1/env.ssh"
	export GIT_SSH_COMMAND="ssh -i $_d/user -o IdentitiesOnly=yes -o BatchMode=yes -o UserKnownHostsFile=$_d/known_hosts -o StrictHostKeyChecking=yes"
}

case1() {
	echo
	echo "## 1. check-drift vs the shell loop"
	echo
	echo "Each checkout follows main of its own bare remote holding $HIST commits (20 files, git"
	echo "fast-import). The shell loop (bench/baseline-trigger.sh) is what the cron-era trigger did:"
	echo "for each checkout in turn, git fetch --prune --all, git rev-list --count both ways, compare."
	echo "check-drift also checks that every checkout is clean and looks at checkouts in parallel."
	mkdir -p "$W/c1"
	_max=0
	for _n in $REPOS $SSH_REPOS; do [ "$_n" -gt "$_max" ] && _max=$_n; done
	history "$W/c1/r1.git" "$HIST"
	git clone -q "file://$W/c1/r1.git" "$W/c1/c1"
	_i=2
	while [ "$_i" -le "$_max" ]; do
		cp -a "$W/c1/r1.git" "$W/c1/r$_i.git"
		cp -a "$W/c1/c1" "$W/c1/c$_i"
		_i=$((_i + 1))
	done
	cp -a "$W/c1/c1" "$W/c1/c1.pristine"
	set_urls "file://$W/c1" "$_max"
	for _n in $REPOS; do case1_round file:// "$_n"; done
	if [ "$BENCH_SSH" = no ]; then
		echo
		echo "(ssh rows skipped: BENCH_SSH=no)"
	elif start_sshd; then
		set_urls "ssh://root@127.0.0.1:$SSHD_PORT$W/c1" "$_max"
		for _n in $SSH_REPOS; do case1_round ssh "$_n"; done
		kill "$(cat "$SSHD_PID_FILE")" 2>/dev/null || :
		rm -f "$SSHD_PID_FILE"
		unset GIT_SSH_COMMAND
	else
		echo
		echo "(ssh rows skipped: $(cat "$W/sshd/why" 2>/dev/null || echo "sshd could not start"))"
	fi
	rm -rf "$W/c1" "$W/log" "$W/state"
}

# ------------------------------------------------- case 2: rotate-logs

case2_round() { # NAME COUNT MIB
	_name=$1 _count=$2 _mib=$3
	_src=$W/r2/src
	rm -rf "$_src" && mkdir -p "$_src"
	_i=1
	while [ "$_i" -le "$_count" ]; do
		# each file a different slice of the base text
		_skip=$(( (_i * 7) % (BASE_MIB > _mib ? BASE_MIB - _mib + 1 : 1) ))
		if [ "$_mib" -le "$BASE_MIB" ]; then
			dd if="$W/r2/base.log" of="$_src/app$_i.log" bs=1M skip="$_skip" count="$_mib" status=none
		else
			_k=0
			while [ "$_k" -lt "$((_mib / BASE_MIB))" ]; do cat "$W/r2/base.log"; _k=$((_k + 1)); done >"$_src/app$_i.log"
		fi
		_i=$((_i + 1))
	done
	cat >"$W/r2/env.local" <<-EOF
	AUTODEPLOY_LOG_DIR=$W/r2/ours
	AUTODEPLOY_STATE_DIR=$W/r2/state
	AUTODEPLOY_ROTATE_KEEP=6
	AUTODEPLOY_ROTATE_PERIOD=weekly
	AUTODEPLOY_ROTATE_MINSIZE=500k
	AUTODEPLOY_ROTATE_COMPRESS=yes
	AUTODEPLOY_ROTATE_COMPRESS_LEVEL=6
	EOF
	cat >"$W/r2/logrotate.conf" <<-EOF
	$W/r2/theirs/*.log {
	  rotate 6
	  weekly
	  minsize 500k
	  copytruncate
	  compress
	  compresscmd /bin/gzip
	  compressoptions -6
	  dateext
	  missingok
	  notifempty
	}
	EOF
	_ours="rm -rf '$W/r2/ours' '$W/r2/state' && cp -a '$_src' '$W/r2/ours' && sync"
	_theirs="rm -rf '$W/r2/theirs' '$W/r2/lr.state' && cp -a '$_src' '$W/r2/theirs' && sync"
	echo
	echo "### 2. rotate-logs vs logrotate + gzip: $_name"
	echo
	echo "(before each run, untimed: a fresh copy of the logs, then sync; gzip level 6 on both sides)"
	echo
	show_cmd "$BUILD/bin/rotate-logs" --config "$W/r2/env.local" --force --quiet
	show_cmd "$LOGROTATE" -f -s "$W/r2/lr.state" "$W/r2/logrotate.conf"
	[ "$ONE_CORE" = yes ] && show_cmd taskset -c 0 "$BUILD/bin/rotate-logs" --config "$W/r2/env.local" --force --quiet
	table_head
	measure "2-$_name-ours" "rotate-logs" --runs "$BIG_RUNS" --warmup 0 --prep "$_ours" -- \
		"$BUILD/bin/rotate-logs" --config "$W/r2/env.local" --force --quiet
	_zo=$(cat "$W"/r2/ours/*.gz | wc -c)
	measure "2-$_name-shell" "logrotate + gzip -6" --runs "$BIG_RUNS" --warmup 0 --prep "$_theirs" -- \
		"$LOGROTATE" -f -s "$W/r2/lr.state" "$W/r2/logrotate.conf"
	_zt=$(cat "$W"/r2/theirs/*.gz | wc -c)
	rm -rf "$W/r2/theirs"
	if [ "$ONE_CORE" = yes ]; then
		measure "2-$_name-one" "rotate-logs on one core (taskset -c 0)" --runs "$BIG_RUNS" --warmup 0 --prep "$_ours" -- \
			taskset -c 0 "$BUILD/bin/rotate-logs" --config "$W/r2/env.local" --force --quiet
	fi
	compare "rotate-logs, $_name" "2-$_name-ours" "2-$_name-shell"
	if [ "$ONE_CORE" = yes ]; then
		echo "ratio (logrotate / rotate-logs on one core): wall $(fmt_ratio "$(cut -d' ' -f1 "$RES/2-$_name-shell")" "$(cut -d' ' -f1 "$RES/2-$_name-one")")"
	fi
	_raw=$(cat "$_src"/*.log | wc -c)
	echo
	echo "compressed size: rotate-logs $_zo bytes, logrotate + gzip $_zt bytes (input $_raw bytes; ours/theirs $(fmt_ratio "$_zo" "$_zt"))"
	rm -rf "$W/r2/ours" "$W/r2/theirs" "$W/r2/state" "$_src"
}

case2() {
	echo
	echo "## 2. rotate-logs vs logrotate + gzip"
	echo
	echo "The logrotate side is Debian's logrotate with the old snippet's policy (copytruncate,"
	echo "compress, dateext, rotate 6), forced with -f as rotate-logs is with --force. rotate-logs"
	echo "deflates blocks on every core and fsyncs what it writes (logrotate does not); the one-core"
	echo "row (BENCH_ONE_CORE=yes; on by default with QUICK) shows it on equal hardware. Log text from bench/genlog.py (timestamps, varied words)."
	mkdir -p "$W/r2"
	BASE_MIB=64
	[ "$BIG_MIB" -lt 64 ] && BASE_MIB=$BIG_MIB
	python3 "$BENCH_DIR/genlog.py" "$BASE_MIB" "$W/r2/base.log"
	echo
	echo "free space in \$W before: $(df -h "$W" | awk 'NR == 2 { print $4 }')"
	case2_round "1 file of $BIG_MIB MiB" 1 "$BIG_MIB"
	case2_round "$MANY_N files of $MANY_MIB MiB" "$MANY_N" "$MANY_MIB"
	rm -rf "$W/r2"
}

# -------------------------------------------- case 3: deploy-notebooks

case3() {
	echo
	echo "## 3. deploy-notebooks vs git clone --depth 1 + cp"
	echo
	echo "One source repository (file://) with $NOTEBOOKS notebooks of 2-20 KiB in 10 folders under"
	echo "notebooks/, beside other files. The shell way (bench/baseline-notebooks.sh) is the old cron"
	echo "job: shallow clone, copy every *.ipynb, remove the clone — every time."
	mkdir -p "$W/n3"
	git init -q --bare "$W/n3/nb.git"
	awk -v n="$NOTEBOOKS" 'BEGIN {
		srand(3)
		printf "commit refs/heads/main\ncommitter bench <bench@example.invalid> 1700000000 +0000\ndata <<EOT\nnotebooks\nEOT\n"
		for (i = 1; i <= n; i++) {
			printf "M 100644 inline notebooks/topic%02d/nb%04d.ipynb\ndata <<EOT\n", i % 10, i
			printf "{\n \"cells\": [\n"
			cells = 2 + int(rand() * 20)
			for (c = 0; c < cells; c++)
				printf "  {\"cell_type\": \"code\", \"source\": [\"x%d = compute(%d, %d)\\n\", \"plot(x%d)\\n\"], \"outputs\": [{\"text\": \"%f\"}]},\n", c, i, c, c, rand()
			printf "  {\"cell_type\": \"markdown\", \"source\": [\"# notebook %d\"]}\n ],\n \"nbformat\": 4\n}\nEOT\n", i
		}
		for (i = 1; i <= 50; i++)
			printf "M 100644 inline data/file%02d.csv\ndata <<EOT\na,b\n%d,%d\nEOT\n", i, i, i * i
		printf "M 100644 inline README.md\ndata <<EOT\ntutorials\nEOT\n\n"
	}' | git -C "$W/n3/nb.git" fast-import --quiet
	{
		echo "AUTODEPLOY_NOTEBOOK_SOURCES=\"file://$W/n3/nb.git#main:notebooks\""
		echo "AUTODEPLOY_NOTEBOOK_DIR=$W/n3/hub/tutorial-notebooks"
		echo "AUTODEPLOY_LOG_DIR=$W/n3/log"
		echo "AUTODEPLOY_STATE_DIR=$W/n3/state"
	} >"$W/n3/env.local"
	_ours="rm -rf '$W/n3/hub' '$W/n3/state'"
	_theirs="rm -rf '$W/n3/shell-hub'"
	echo
	show_cmd "$BUILD/bin/deploy-notebooks" --config "$W/n3/env.local" --quiet
	show_cmd sh "$BENCH_DIR/baseline-notebooks.sh" "file://$W/n3/nb.git" notebooks "$W/n3/shell-hub/tutorial-notebooks"
	echo
	echo "### 3. first publish (destination and cache removed before each run)"
	table_head
	measure 3-first-ours deploy-notebooks --runs "$RUNS" --prep "$_ours" -- \
		"$BUILD/bin/deploy-notebooks" --config "$W/n3/env.local" --quiet
	measure 3-first-shell "clone + cp" --runs "$RUNS" --prep "$_theirs" -- \
		sh "$BENCH_DIR/baseline-notebooks.sh" "file://$W/n3/nb.git" notebooks "$W/n3/shell-hub/tutorial-notebooks"
	compare "deploy-notebooks, $NOTEBOOKS notebooks, first publish" 3-first-ours 3-first-shell
	_a=$(find "$W/n3/hub/tutorial-notebooks" -name '*.ipynb' | wc -l)
	_b=$(find "$W/n3/shell-hub/tutorial-notebooks" -name '*.ipynb' | wc -l)
	echo
	echo "notebooks published: deploy-notebooks $_a, clone + cp $_b"
	echo
	echo "### 3. unchanged re-run (nothing moved since the last run)"
	table_head
	measure 3-again-ours deploy-notebooks --runs "$RUNS" -- \
		"$BUILD/bin/deploy-notebooks" --config "$W/n3/env.local" --quiet
	measure 3-again-shell "clone + cp" --runs "$RUNS" -- \
		sh "$BENCH_DIR/baseline-notebooks.sh" "file://$W/n3/nb.git" notebooks "$W/n3/shell-hub/tutorial-notebooks"
	compare "deploy-notebooks, $NOTEBOOKS notebooks, unchanged re-run" 3-again-ours 3-again-shell
	rm -rf "$W/n3"
}

# ------------------------------------------------- case 4: run-deploy

case4() {
	echo
	echo "## 4. run-deploy overhead"
	echo
	echo "10 checkouts of $HIST-commit histories over file://; one new commit on each remote; the"
	echo "restart strategy (the shell way's order: stop, move, start) with stop and start commands"
	echo "\`true\`, no health check. Before each run, untimed, every checkout is"
	echo "restored from a copy taken before the push and the state folder is removed, so every run"
	echo "fetches, journals, stops, fast-forwards 10 checkouts and starts. The shell way"
	echo "(bench/baseline-deploy.sh) is the old deploy script: fetch, stop, git merge --ff-only, start,"
	echo "with no journal, lock, refusal checks or rollback."
	mkdir -p "$W/d4"
	history "$W/d4/r1.git" "$HIST"
	git clone -q "file://$W/d4/r1.git" "$W/d4/p1"
	set --
	for _i in 1 2 3 4 5 6 7 8 9 10; do
		[ "$_i" -eq 1 ] || cp -a "$W/d4/r1.git" "$W/d4/r$_i.git"
		[ "$_i" -eq 1 ] || cp -a "$W/d4/p1" "$W/d4/p$_i"
		git -C "$W/d4/p$_i" remote set-url origin "file://$W/d4/r$_i.git"
		set -- "$@" "$W/d4/c$_i"
	done
	for _i in 1 2 3 4 5 6 7 8 9 10; do push_one "$W/d4/r$_i.git" >/dev/null; done
	env_file "$W/d4/env.local" "$@"
	{
		echo "AUTODEPLOY_STRATEGY=restart"
		echo "AUTODEPLOY_STOP_COMMAND=true"
		echo "AUTODEPLOY_START_COMMAND=true"
		echo "AUTODEPLOY_LOG_DIR=$W/d4/log"
		echo "AUTODEPLOY_STATE_DIR=$W/d4/state"
	} >>"$W/d4/env.local"
	_prep="rm -rf '$W/d4/state'; for i in 1 2 3 4 5 6 7 8 9 10; do rm -rf '$W/d4'/c\$i && cp -a '$W/d4'/p\$i '$W/d4'/c\$i || exit 1; done"
	echo
	show_cmd "$BUILD/bin/run-deploy" --config "$W/d4/env.local" --quiet
	show_cmd sh "$BENCH_DIR/baseline-deploy.sh" true true "$@"
	table_head
	measure 4-ours run-deploy --runs "$RUNS" --prep "$_prep" -- \
		"$BUILD/bin/run-deploy" --config "$W/d4/env.local" --quiet
	measure 4-shell "shell deploy" --runs "$RUNS" --prep "$_prep" -- \
		sh "$BENCH_DIR/baseline-deploy.sh" true true "$@"
	measure 4-standin "the two stand-ins alone: sh -c true, twice" --runs "$RUNS" -- \
		sh -c 'sh -c true; sh -c true'
	compare "run-deploy, 10 checkouts, one commit each" 4-ours 4-shell
	_moved=0
	for _c in "$@"; do
		[ "$(git -C "$_c" rev-parse HEAD)" = "$(git -C "$_c" rev-parse '@{upstream}')" ] && _moved=$((_moved + 1))
	done
	echo
	echo "after the last run, $_moved of 10 checkouts are at their remote's tip."
	[ "$_moved" -eq 10 ] || bench_fail "case 4: $_moved of 10 checkouts moved"
	echo "time in autodeploy itself (run-deploy wall minus the stand-ins): $(awk -v a="$(cut -d' ' -f1 "$RES/4-ours")" -v b="$(cut -d' ' -f1 "$RES/4-standin")" 'BEGIN { printf "%.1f ms", (a - b) * 1000 }')"
	rm -rf "$W/d4"
}

# ------------------------------------------------ case 5: post-receive

case5() {
	echo
	echo "## 5. post-receive: from the hook starting to the trigger file written"
	echo
	echo "The hook binary runs as git runs it, in a bare repository whose git config holds"
	echo "autodeploy.trigger and autodeploy.refs (as install-units --hook writes them), with one"
	echo "update of refs/heads/main on stdin; it returns once the trigger is written, so its wall time"
	echo "bounds the delay. The shell row is the same hook written in sh (bench/baseline-hook.sh)."
	mkdir -p "$W/h5/state"
	git init -q --bare "$W/h5/repo.git"
	git -C "$W/h5/repo.git" config autodeploy.trigger "$W/h5/state/trigger"
	git -C "$W/h5/repo.git" config autodeploy.refs refs/heads/main
	echo "1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d ffffffffffffffffffffffffffffffffffffffff refs/heads/main" >"$W/h5/stdin"
	echo
	show_cmd "cd $W/h5/repo.git && GIT_DIR=. $BUILD/hooks/post-receive <$W/h5/stdin"
	show_cmd "cd $W/h5/repo.git && GIT_DIR=. sh $BENCH_DIR/baseline-hook.sh <$W/h5/stdin"
	table_head
	GIT_DIR=. measure 5-ours post-receive --runs "$HOOK_RUNS" --warmup 2 --stdin "$W/h5/stdin" \
		--cwd "$W/h5/repo.git" --prep ": >'$W/h5/state/trigger'" -- "$BUILD/hooks/post-receive"
	_ok=no
	grep -q "refs/heads/main ffff" "$W/h5/state/trigger" 2>/dev/null && _ok=yes
	GIT_DIR=. measure 5-shell "shell hook" --runs "$HOOK_RUNS" --warmup 2 --stdin "$W/h5/stdin" \
		--cwd "$W/h5/repo.git" --prep ": >'$W/h5/state/trigger'" -- sh "$BENCH_DIR/baseline-hook.sh"
	compare "post-receive hook" 5-ours 5-shell
	echo
	echo "trigger written by the hook: $_ok"
	rm -rf "$W/h5"
}

# ------------------------------------------- case 7: verified commits

# case7_ms ID: the median wall of a measured ID, in ms.
case7_ms() { awk '{ printf "%.3f", $1 * 1000 }' "$RES/$1"; }
# case7_per FIELD ID [BASE]: field 1 (wall) or 2 (CPU) of ID, less BASE's,
# per signed commit.
case7_per() {
	awk -v f="$1" -v n="$SIGNED" -v b="${3:+$RES/$3}" '
		{ v = $f } END { if (b != "") { getline l < b; split(l, x, " "); v -= x[f] }; printf "%.1f ms", v * 1000 / n }' "$RES/$2"
}

case7() {
	echo
	echo "## 7. Verified commits: time per commit verified (SSH)"
	echo
	echo "One checkout $SIGNED commits behind, each signed with an ed25519 key (git commit -S,"
	echo "gpg.format=ssh), already fetched; check-drift --no-fetch with AUTODEPLOY_VERIFY=no, tip"
	echo "(the tip alone) and all (every one of the $SIGNED). The cost per verified commit is"
	echo "(all - no) / $SIGNED: ssh-keygen -Y find-principals and -Y verify, as git runs them (find-principals"
	echo "once per key: its principals are tried first on that key's next signatures). The git row is"
	echo "git verify-commit on the same commits with the same allowed_signers: the reference."
	_d=$W/v7
	mkdir -p "$_d"
	ssh-keygen -q -t ed25519 -N '' -C bench -f "$_d/key"
	echo "bench@example.invalid namespaces=\"git\" $(cat "$_d/key.pub")" >"$_d/allowed"
	history "$_d/r.git" 1
	git clone -q "file://$_d/r.git" "$_d/dev"
	git clone -q "file://$_d/r.git" "$_d/site"
	_i=0
	while [ "$_i" -lt "$SIGNED" ]; do
		git -C "$_d/dev" -c gpg.format=ssh -c user.signingkey="$_d/key" commit -q -S --allow-empty -m "signed $_i"
		_i=$((_i + 1))
	done
	git -C "$_d/dev" push -q origin main
	git -C "$_d/site" fetch -q origin
	for _l in no tip all; do
		env_file "$_d/env.$_l" "$_d/site"
		{
			echo "AUTODEPLOY_VERIFY=$_l"
			echo "AUTODEPLOY_ALLOWED_SIGNERS=$_d/allowed"
		} >>"$_d/env.$_l"
	done
	echo
	show_cmd "$BUILD/bin/check-drift" --config "$_d/env.all" --no-fetch --quiet
	table_head
	for _l in no tip all; do
		measure "7-$_l" "check-drift, AUTODEPLOY_VERIFY=$_l" --runs "$RUNS" --ok 1 -- \
			"$BUILD/bin/check-drift" --config "$_d/env.$_l" --no-fetch --quiet
	done
	measure 7-git "git verify-commit, the same $SIGNED commits" --runs "$RUNS" -- \
		git -C "$_d/site" -c gpg.ssh.allowedSignersFile="$_d/allowed" verify-commit \
		$(git -C "$_d/site" rev-list HEAD..origin/main)
	if grep -q failed "$RES/7-no" "$RES/7-all" "$RES/7-git"; then
		bench_fail "case 7"
	else
		echo
		echo "per verified commit: autodeploy $(case7_per 1 7-all 7-no), git verify-commit $(case7_per 1 7-git);"
		echo "CPU per verified commit: autodeploy $(case7_per 2 7-all 7-no), git verify-commit $(case7_per 2 7-git);"
		echo "the tip alone adds $(awk -v a="$(case7_ms 7-tip)" -v b="$(case7_ms 7-no)" 'BEGIN { printf "%.1f ms", a - b }') to a run."
	fi
	rm -rf "$_d"
}

# -------------------------------------------------------------------- run

_t0=$(date +%s)
for c in $CASES; do
	case $c in
	1) case1 ;; 2) case2 ;; 3) case3 ;; 4) case4 ;; 5) case5 ;;
	6) sh "$BENCH_DIR/downtime.sh" "$W" "$BUILD" "$DT_RUNS" "$DT_DEPLOYS" ;;
	7) case7 ;;
	*) echo "bench: no case $c" >&2; exit 64 ;;
	esac
done

echo
echo "## Summary"
echo
echo "| case | autodeploy wall | shell way wall | ratio | autodeploy CPU | shell way CPU | autodeploy peak RSS | shell way peak RSS |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
cat "$RES/summary"
echo
echo "Benchmarks took $(( $(date +%s) - _t0 )) s."
if [ -s "$RES/failed" ]; then
	echo "bench: failed: $(paste -sd, "$RES/failed")" >&2
	exit 1
fi
