#!/bin/bash
# run-deploy killed with SIGKILL at each step of a deploy (the test-only
# AUTODEPLOY_TEST_KILL_AT): the journal is on disk, and the next
# `run-deploy --if-drift` recovers from it — the stack ends up started, on a
# consistent set of commits (all old or all new), with no journal left.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# consistent OLD NEW: the checkouts are all on OLD or all on NEW, and the
# last start the stand-in saw (in any phase) succeeded on exactly those.
consistent() {
	_now=$(heads) || return 1
	if [ "$_now" != "$1" ] && [ "$_now" != "$2" ]; then
		echo "error: the checkouts are on a mixed set of commits:" >&2
		echo "  now: $_now" >&2
		echo "  old: $1" >&2
		echo "  new: $2" >&2
		return 1
	fi
	awk '$1 == "start" { line = $0 } END { print line }' "$RECORD" >"$TRASH/last-start"
	read -r _role _phase _rc _journal _h0 _h1 _h2 <"$TRASH/last-start"
	is "last start rc" "${_rc:-none}" 0 &&
	is "last start saw" "${_h0:-} ${_h1:-} ${_h2:-}" "$_now"
}

# last_phase_ok: the last thing the stand-in did was a successful start or
# health check (the stack was left up).
last_phase_ok() {
	tail -n 1 "$RECORD" >"$TRASH/last-call"
	read -r _role _phase _rc _rest <"$TRASH/last-call"
	case "$_role:$_rc" in
	start:0 | healthcheck:0) ;;
	*) echo "error: the last call was: $(cat "$TRASH/last-call")" >&2; cat "$RECORD" >&2; return 1 ;;
	esac
}

test_expect_success 'setup: three checkouts, a stand-in stack (no pre-deploy, no notify)' '
	deploy_setup no
'

# kill_case POINT EXPECTED-HEADS-AT-KILL EXPECTED-STACK-AT-KILL
#   EXPECTED-HEADS is a pattern over "o" (old) and "n" (new) per checkout.
kill_case() {
	K=$1 AT=$2 STATE=$3

	test_expect_success "$K: a push to all three remotes" '
		save_heads old-$K &&
		push_all &&
		remote_heads >new-$K
	'

	test_expect_success "$K: run-deploy is killed there (SIGKILL, 137)" '
		fresh_record &&
		{ AUTODEPLOY_TEST_KILL_AT=$K test_must_fail 137 run-deploy --config "$CONFIG" >out 2>err ||
		  { cat out err; false; }; }
	'

	test_expect_success "$K: the journal is on disk, the stack $STATE, checkouts $AT" '
		test -f "$JOURNAL" &&
		stack_is $STATE &&
		set -- $(saved old-$K) && o0=$1 o1=$2 o2=$3 &&
		set -- $(saved new-$K) && n0=$1 n1=$2 n2=$3 &&
		want= &&
		for i in 0 1 2; do
			case ${AT:$i:1} in o) eval "c=\$o$i" ;; n) eval "c=\$n$i" ;; esac
			want="$want $c"
		done &&
		is "checkouts" "$(heads)" "${want# }"
	'

	test_expect_success "$K: the next run-deploy --if-drift exits 0 and leaves no journal" '
		fresh_record &&
		rd 0 --if-drift &&
		no_journal
	'

	test_expect_success "$K: it restored the old commits and started them first" '
		is "recover-start calls" "$(count_calls start recover-start)" 1 &&
		is "recover-start saw" "$(call_heads start recover-start first)" "$(saved old-$K)"
	'

	test_expect_success "$K: the stack is started, on a consistent set of commits" '
		stack_is running &&
		last_phase_ok &&
		consistent "$(saved old-$K)" "$(saved new-$K)" &&
		for c in $CHECKOUTS; do
			test -z "$(git -C "$c" status --porcelain)" || {
				echo "error: $c is not clean" >&2; git -C "$c" status >&2; exit 1; }
		done
	'

	test_expect_success "$K: one more --if-drift run has nothing left to do" '
		rd 0 --if-drift &&
		is "checkouts" "$(heads)" "$(remote_heads)" &&
		no_journal &&
		stack_is running
	'
}

kill_case after-stop ooo stopped
kill_case after-checkout-0 noo stopped
kill_case after-checkout-1 nno stopped
kill_case after-checkout-2 nnn stopped
kill_case after-start nnn running

test_expect_success 'check-drift counts an interrupted deploy as due even when nothing is behind' '
	push_all &&
	fresh_record &&
	AUTODEPLOY_TEST_KILL_AT=after-start test_must_fail 137 run-deploy --config "$CONFIG" >out 2>err &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	test_must_fail 1 check-drift --config "$CONFIG" >out 2>err &&
	rd 0 --if-drift &&
	no_journal &&
	stack_is running &&
	test_must_fail 0 check-drift --config "$CONFIG" >out 2>err
'

test_expect_success 'a plain run (no --if-drift) recovers the same way' '
	push_all &&
	remote_heads >new-plain &&
	AUTODEPLOY_TEST_KILL_AT=after-stop test_must_fail 137 run-deploy --config "$CONFIG" >out 2>err &&
	stack_is stopped &&
	fresh_record &&
	rd 0 &&
	no_journal &&
	stack_is running &&
	is "recover-start calls" "$(count_calls start recover-start)" 1 &&
	is "checkouts" "$(heads)" "$(saved new-plain)"
'

test_done
