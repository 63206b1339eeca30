#!/bin/bash
# Every program runs valgrind-clean through its main path: no invalid read
# or write, no use of uninitialised memory, no definite leak.  The one leak
# inside Debian's libgit2 1.5 is suppressed in t/valgrind.supp.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

command -v valgrind >/dev/null 2>&1 || skip_all 'valgrind is not installed'
# valgrind and AddressSanitizer cannot share a process: make check-asan
# has its own checker.
[ -z "${AUTODEPLOY_SANITIZED:-}" ] || skip_all 'the programs are built with sanitizers (make check-asan)'

vg() { # vg NAME ARGS...: run a program under memcheck; errors fail
	_name=$1
	shift
	valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99 \
		--suppressions="$T_DIR/valgrind.supp" --log-file="$TRASH/vg-$_name.%p" "$@"
}

# vg_clean NAME: no error report was written ("--PID--" lines are
# valgrind's own notes, e.g. that it does not know pidfd_open, which
# lib/proc.c then does without).
vg_clean() {
	for f in "$TRASH"/vg-$1.*; do
		if grep -v "^--[0-9]*--" "$f" | grep -q .; then cat "$f" >&2; return 1; fi
	done
}

test_expect_success 'setup: a remote that moved, notebooks, a log to rotate' '
	make_remote stack 3 &&
	clone_remote stack compose &&
	dev_push stack >/dev/null &&
	write_config "$TRASH/compose" &&
	config_add AUTODEPLOY_STOP_COMMAND true &&
	config_add AUTODEPLOY_START_COMMAND true &&
	config_add AUTODEPLOY_PREPARE_COMMAND true &&
	config_add AUTODEPLOY_HEALTHCHECK_COMMAND true &&
	config_add AUTODEPLOY_METRICS_FILE "$TRASH/metrics.prom" &&
	git init -q nb && mkdir nb/sub &&
	echo "{}" >nb/sub/a.ipynb &&
	git -C nb add . && git -C nb commit -qm nb &&
	config_add AUTODEPLOY_NOTEBOOK_SOURCES "file://$TRASH/nb#main:sub" &&
	config_add AUTODEPLOY_NOTEBOOK_DIR "$TRASH/hub/notebooks" &&
	mkdir -p "$LOG_DIR" && seq 1 20000 >"$LOG_DIR/app.log"
'

test_expect_success 'check-drift --json (a deploy is due)' '
	test_must_fail 1 vg check-drift check-drift --config "$CONFIG" --json --quiet >/dev/null &&
	vg_clean check-drift
'

test_expect_success 'run-deploy --dry-run, then a real deploy' '
	vg run-deploy run-deploy --config "$CONFIG" --dry-run --quiet >/dev/null &&
	vg run-deploy run-deploy --config "$CONFIG" --quiet &&
	vg_clean run-deploy
'

test_expect_success 'deploy-notebooks publishes' '
	vg deploy-notebooks deploy-notebooks --config "$CONFIG" --quiet &&
	test -e "$TRASH/hub/notebooks/a.ipynb" &&
	vg_clean deploy-notebooks
'

test_expect_success 'rotate-logs --force rotates and compresses' '
	vg rotate-logs rotate-logs --config "$CONFIG" --force --quiet &&
	ls "$LOG_DIR"/app.log-*.gz &&
	vg_clean rotate-logs
'

test_expect_success 'install-units --dry-run writes the units it would install' '
	vg install-units install-units --config "$CONFIG" --root "$TRASH/root" --dry-run --quiet >/dev/null &&
	vg_clean install-units
'

test_expect_success 'the post-receive hook reads its input and triggers' '
	git init -q --bare hooked.git &&
	git -C hooked.git config autodeploy.trigger "$TRASH/trigger" &&
	: >trigger &&
	git -C hooked.git config autodeploy.refs refs/heads/main &&
	old=0000000000000000000000000000000000000000 &&
	new=$(git -C compose rev-parse HEAD) &&
	echo "$old $new refs/heads/main" >in &&
	(cd hooked.git && GIT_DIR=. vg post-receive post-receive <../in) &&
	test -s trigger &&
	vg_clean post-receive
'

test_done
