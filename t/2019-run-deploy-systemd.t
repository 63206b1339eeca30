#!/bin/bash
# The units under a real systemd: a Debian root booted with its own PID 1
# (systemd-nspawn --boot), the programs installed with `make install`,
# install-units and install-units --hook run in it as an operator would,
# a stand-in stack whose steps record what they do and take as long as
# asked.  Through the real path unit and hook: a push that arrives during
# a run is deployed right after it, a run killed by systemd is recovered
# right after it, `systemctl stop` rolls back, and a failing release is
# not run over and over.  The timer never fires during the test: whatever
# deploys does so through ExecStopPost= (run-deploy --requeue).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-nspawn.sh"

[ -z "${AUTODEPLOY_SANITIZED:-}" ] ||
	skip_all 'the programs are installed into a Debian root: make check runs this test'
if [ "$(id -u)" != 0 ]; then
	test_skip_or_fail 'pushes during a run and killed runs are deployed and recovered under a real systemd' \
		'booting a container with systemd-nspawn needs root'
	test_done
	exit
fi
sh "$SRC_DIR/.ci/deps" fleet >deps.log 2>&1 || cat deps.log >&2

R=$TRASH/root
# one container per run of this script: tests run in parallel
M=adk-sd-$$
nspawn_stop_at_exit "$M"
LOG=$R/var/log/autodeploy
STATE=$R/var/lib/autodeploy

# c CMD...: CMD in the booted container.
c() { in_container "$M" "$@"; }

# wait_until WHAT CMD...: up to 90 s for CMD to succeed.
wait_until() {
	_what=$1
	shift
	_i=0
	until "$@"; do
		_i=$((_i + 1))
		[ $_i -lt 450 ] || { echo "error: never: $_what" >&2; show; return 1; }
		sleep 0.2
	done
}

# show: what the container did, for a failing test.
show() {
	c systemctl status --no-pager autodeploy.service autodeploy.path >&2 || :
	c journalctl --no-pager -n 40 -u autodeploy.service >&2 || :
	tail -n 20 "$LOG/stack.log" >&2 || :
}

# idle: autodeploy.service is not running and no job of it is queued.
idle() {
	_s=$(c systemctl show -p ActiveState -p Job autodeploy.service) &&
	case $_s in
	*ActiveState=inactive* | *ActiveState=failed*) ;;
	*) return 1 ;;
	esac &&
	! printf '%s\n' "$_s" | grep -q '^Job=[0-9]'
}

# at: the version the checkout holds.
at() { cat "$R/srv/stack/version"; }

# deployed V: the checkout at V, the stack running V, the service idle.
deployed() {
	[ "$(at)" = "$1" ] && [ "$(cat "$LOG/stack.state")" = "running $1" ] && idle
}

# began STEP: the stand-in stack began STEP since its record was last
# emptied (a stop runs in the old version's checkout, a start in the new).
began() { grep -q "^$1-begin " "$LOG/stack.log"; }

# push V: a commit setting version V, pushed inside the container (the
# hook runs there, as the pushing user's would on the host).
push() { c push-version "$1" >/dev/null 2>&1; }

# runs: how many runs run-deploy logged.
runs() { grep -c 'run-deploy\[[0-9]*\]: info: start: START_TIME=' "$LOG/autodeploy.log"; }

# is WHAT GOT WANT
is() {
	[ "$2" = "$3" ] || { echo "error: $1 is '$2', expected '$3'" >&2; return 1; }
}

# slow STEP SECONDS: the stand-in's STEP takes that long (0: no delay).
slow() { echo "$2" >"$R/etc/stack-delay-$1"; }

test_expect_success 'setup: a Debian root with the programs, a bare repository, a checkout and a stand-in stack' '
	nspawn_base &&
	nspawn_unpack "$R" &&
	{ env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -s -C "$SRC_DIR" BUILD="$BUILD_DIR" install DESTDIR="$R" PREFIX=/usr \
		>install.log 2>&1 || { cat install.log; false; }; } &&
	test -x "$R/usr/bin/run-deploy" &&
	cat >"$R/usr/local/bin/stack" <<-\EOF &&
	#!/bin/sh
	# stack STEP: records "STEP-begin V", waits /etc/stack-delay-STEP
	# seconds, records "STEP V"; the health check fails for the versions
	# listed in /etc/bad-versions.
	log=/var/log/autodeploy
	v=$(cat /srv/stack/version)
	echo "$1-begin $v" >>$log/stack.log
	sleep "$(cat /etc/stack-delay-$1 2>/dev/null || echo 0)"
	case $1 in
	stop) echo stopped >$log/stack.state ;;
	start) echo "running $v" >$log/stack.state ;;
	health) ! grep -qx "$v" /etc/bad-versions 2>/dev/null || { echo "health-failed $v" >>$log/stack.log; exit 1; } ;;
	esac
	echo "$1 $v" >>$log/stack.log
	EOF
	cat >"$R/usr/local/bin/push-version" <<-\EOF &&
	#!/bin/sh
	cd /root/dev && echo "$1" >version && git commit -q -a -m "version $1" && git push -q origin HEAD:main
	EOF
	chmod 755 "$R/usr/local/bin/stack" "$R/usr/local/bin/push-version" &&
	printf "[user]\n\tname = Pusher\n\temail = pusher@example.invalid\n" >"$R/root/.gitconfig" &&
	git init -q --bare "$R/srv/stack.git" &&
	git clone -q "$R/srv/stack.git" "$R/root/dev" 2>/dev/null &&
	echo 1 >"$R/root/dev/version" && git -C "$R/root/dev" add version &&
	git -C "$R/root/dev" commit -q -m one && git -C "$R/root/dev" push -q origin HEAD:main &&
	git -C "$R/root/dev" remote set-url origin /srv/stack.git &&
	git clone -q "$R/srv/stack.git" "$R/srv/stack" &&
	git -C "$R/srv/stack" remote set-url origin /srv/stack.git &&
	mkdir -p "$R/etc/autodeploy" "$LOG" &&
	echo "running 1" >"$LOG/stack.state" &&
	# the timer: 29 February, 04:30, never during the test
	cat >"$R/etc/autodeploy/env.local" <<-\EOF &&
	AUTODEPLOY_COMPOSE_DIR=/srv/stack
	AUTODEPLOY_STATE_DIR=/var/lib/autodeploy
	AUTODEPLOY_LOG_DIR=/var/log/autodeploy
	AUTODEPLOY_STRATEGY=restart
	AUTODEPLOY_ENGINE_HEALTH=no
	AUTODEPLOY_STOP_COMMAND="stack stop"
	AUTODEPLOY_START_COMMAND="stack start"
	AUTODEPLOY_HEALTHCHECK_COMMAND="stack health"
	AUTODEPLOY_HEALTHCHECK_TIMEOUT=1
	AUTODEPLOY_HEALTHCHECK_INTERVAL=1
	AUTODEPLOY_PLATFORM_FREQUENCY="30 4 29 2 *"
	EOF
	nspawn_boot "$R" "$M" --private-network &&
	nspawn_wait_booted "$M"
'

test_expect_success 'install-units and install-units --hook, run inside: the path unit and the timer are active' '
	{ c install-units >iu.out 2>&1 || { cat iu.out; false; }; } &&
	{ c install-units --hook /srv/stack.git >hook.out 2>&1 || { cat hook.out; false; }; } &&
	test "$(c systemctl is-active autodeploy.path autodeploy.timer)" = "$(printf "active\nactive")" &&
	c systemctl show -p TimersCalendar autodeploy.timer | grep -q "OnCalendar=\*-02-29 04:30:00" &&
	grep -qx "ExecStopPost=/usr/bin/run-deploy --requeue" "$R/etc/systemd/system/autodeploy.service" &&
	# The tests below start the service far more often than most hosts
	# (a kill a second after each start, then its recovery), as a burst
	# of pushes would: the unit as installed must not hit a start limit,
	# which would fail autodeploy.path too and lose every later push.
	grep -qx "StartLimitIntervalSec=0" "$R/etc/systemd/system/autodeploy.service"
'

test_expect_success 'a push is deployed through the hook and the path unit' '
	push 2 &&
	wait_until "version 2 deployed" deployed 2 &&
	test ! -e "$STATE/deploy.journal"
'

test_expect_success 'a push during a slow start is deployed right after the run, five rounds in a row' '
	slow start 3 &&
	for r in 1 2 3 4 5; do
		: >"$LOG/stack.log" &&
		push ${r}a &&
		wait_until "the start of ${r}a" began start &&
		push ${r}b &&
		wait_until "${r}b deployed after ${r}a" deployed ${r}b &&
		grep -qx "health ${r}a" "$LOG/stack.log" &&
		grep -qx "health ${r}b" "$LOG/stack.log" || return 1
	done &&
	slow start 0
'

for step in stop start health; do
	test_expect_success "a run killed (SIGKILL) during its $step is recovered at once: stack started, no journal" '
		slow $step 4 &&
		: >"$LOG/stack.log" &&
		push kill-$step &&
		wait_until "the $step of kill-$step" began $step &&
		c systemctl kill -s KILL autodeploy.service &&
		slow $step 0 &&
		wait_until "kill-$step deployed after the kill" deployed kill-$step &&
		test ! -e "$STATE/deploy.journal" &&
		grep -x "start kill-$step" "$LOG/stack.log"
	'
done

test_expect_success 'systemctl stop during a deploy rolls back: the old version runs, the service stays stopped' '
	slow start 4 &&
	: >"$LOG/stack.log" &&
	push stopped &&
	wait_until "the start of version stopped" began start &&
	c systemctl stop autodeploy.service &&
	slow start 0 &&
	wait_until "the rollback to kill-health" deployed kill-health &&
	test ! -e "$STATE/deploy.journal" &&
	test "$(tail -n 1 "$LOG/stack.log")" = "health kill-health"
'

test_expect_success 'systemctl stop wins over a push that arrived during the run: not started again' '
	slow start 4 &&
	: >"$LOG/stack.log" &&
	n=$(runs) &&
	push stop-a &&
	wait_until "the start of version stop-a" began start &&
	push stop-b &&
	c systemctl stop autodeploy.service &&
	slow start 0 &&
	wait_until "the rollback to kill-health" deployed kill-health &&
	sleep 3 &&
	idle &&
	is "runs since the push" $(( $(runs) - n )) 1 &&
	c journalctl --no-pager -u autodeploy.service -n 30 >stop.journal &&
	test_grep "cannot start autodeploy.service again" stop.journal
'

test_expect_success 'a failing release is rolled back, and the service is not run again' '
	echo bad >"$R/etc/bad-versions" &&
	: >"$LOG/stack.log" &&
	n=$(runs) &&
	push bad &&
	wait_until "the rollback from bad" deployed kill-health &&
	grep -qx "health-failed bad" "$LOG/stack.log" &&
	sleep 3 &&
	idle &&
	is "runs since the push" $(( $(runs) - n )) 1 &&
	is "starts of the bad version" "$(grep -cx "start-begin bad" "$LOG/stack.log")" 1
'

test_expect_success 'a run that fails on its own and keeps its journal (rollback failed too, 3) is not run again and again' '
	printf "worse\nkill-health\n" >"$R/etc/bad-versions" &&
	: >"$LOG/stack.log" &&
	n=$(runs) &&
	push worse &&
	wait_until "the failed rollback from worse" grep -qx "health-failed kill-health" "$LOG/stack.log" &&
	wait_until "the run to end" idle &&
	test -e "$STATE/deploy.journal" &&
	is "the service" "$(c systemctl is-failed autodeploy.service || :)" failed &&
	sleep 3 &&
	idle &&
	is "runs since the push" $(( $(runs) - n )) 1 &&
	rm "$R/etc/bad-versions" &&
	c systemctl start autodeploy.service &&
	wait_until "the recovery" deployed "$(at)" &&
	test ! -e "$STATE/deploy.journal"
'

test_expect_success 'after every push, kill and requeue above, the path unit still watches: one more push deploys' '
	test "$(c systemctl is-active autodeploy.path)" = active &&
	push last &&
	wait_until "last deployed" deployed last
'

test_done
