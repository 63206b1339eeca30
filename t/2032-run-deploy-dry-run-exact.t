#!/bin/bash
# One plan, printed and executed (SPEC.md "Exact and final"): the plan
# holds the ordered steps and their undo, with the options (--no-restart,
# --force, --retry) and the strategy applied once; --dry-run prints that
# list, and a run executes it.  For every strategy and option combination
# the steps a run logs ("step N of T: NAME") are the steps --dry-run
# numbered, and the commands the stand-in recorded (role and phase) are
# the commands listed; a failing start runs exactly the undo entries
# printed for the steps it reached.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# listed [UPTO]: "ROLE PHASE" of each stand-in command in ./out, in the
# order printed: the steps (up to step UPTO, when given), then the undo
# entries whose step (from step M) was reached (M <= UPTO; none without
# UPTO), up to a "keep" reached, which ends the undo; then the notify
# command.
listed() {
	awk -v s="$STANDIN" -v upto="${1:-}" '
		/^on a failure/ { undo = 1; next }
		/^[0-9]+\. / { step = $1 + 0 }
		/^  from step [0-9]+:/ { from = $3 + 0; if (kept) undo = 2 }
		/^  from step [0-9]+: keep:/ { if (upto != "" && from <= upto) kept = 1 }
		{
			i = index($0, ": would run: ")
			if (!i) next
			n = split(substr($0, 1, i - 1), w, " ")
			cmd = substr($0, i + 13)
			if (index(cmd, s " ") != 1) next
			split(substr(cmd, length(s) + 2), r, " ")
			if ($0 ~ /^notify: /)
				print r[1], w[n]
			else if (!undo && (upto == "" || step <= upto))
				print r[1], w[n]
			else if (undo == 1 && upto != "" && from <= upto)
				print r[1], w[n]
		}' out
}

# called: "ROLE PHASE" of each stand-in call, in order; a health check
# retried until it gives up counts once.
called() {
	awk '{ print $1, $2 }' "$RECORD" | uniq
}

# steps_listed [UPTO]: "N NAME" of each step --dry-run numbered (up to
# UPTO), then "undo NAME" of each undo entry reached.
steps_listed() {
	awk -v upto="${1:-}" '
		/^on a failure/ { undo = 1; next }
		!undo && /^[0-9]+\. / { n = $1 + 0; if (upto == "" || n <= upto) { sub(":", "", $2); print n, $2 } }
		undo && !kept && /^  from step [0-9]+:/ {
			if (upto != "" && $3 + 0 <= upto) { sub(":", "", $4); print "undo", $4; kept = $4 == "keep" }
		}' out
}

# steps_run: the same, from what the run logged.
steps_run() {
	sed -n -e 's/.*step \([0-9]*\) of [0-9]*: \([a-z-]*\)$/\1 \2/p' \
	       -e 's/.*undo of step [0-9]*: \([a-z-]*\)$/undo \1/p' err
}

# start_step: the number --dry-run gave the start.
start_step() {
	sed -n 's/^\([0-9]*\)\. start: .*/\1/p' out
}

# same UPTO: the dry run (./out kept as dry) and the run (./err) agree.
same() {
	listed "${1:-}" >listed &&
	called >called &&
	test_cmp listed called &&
	steps_listed "${1:-}" >steps.listed &&
	steps_run >steps.run &&
	test_cmp steps.listed steps.run
}

# dry_then_run CODE OPTS...: --dry-run (nothing called), then the run,
# which must exit CODE; ./out is the dry run's, ./err the run's.
dry_then_run() {
	_code=$1
	shift
	fresh_record &&
	rd 0 --dry-run "$@" &&
	record_empty &&
	cp out dry &&
	rd "$_code" "$@" &&
	cp dry out
}

test_expect_success 'setup: three checkouts, a stand-in stack with every command' '
	deploy_setup
'

for strategy in restart recreate bluegreen; do
	for opts in "" "--no-restart" "--force" "--force --no-restart" "--retry" "--force --retry"; do
		test_expect_success "strategy $strategy, options '$opts': the run executes the steps --dry-run lists" '
			DEPLOY_STRATEGY=$strategy deploy_config &&
			push_all &&
			dry_then_run 0 $opts &&
			same &&
			is "checkouts" "$(heads)" "$(remote_heads)"
		'
	done
	test_expect_success "strategy $strategy, --force with nothing moved: the run executes the steps --dry-run lists" '
		dry_then_run 0 --force &&
		same &&
		test_grep "^start start$" listed &&
		test_grep "^[0-9]*\. move: nothing moves$" out
	'
	test_expect_success "strategy $strategy: a failing health check runs exactly the undo printed for the start" '
		dev=$(dev_clone stack) &&
		echo x >"$dev/broken" &&
		dev_publish stack "breaks the health check" >/dev/null &&
		save_heads before &&
		dry_then_run 2 &&
		n=$(start_step) &&
		test -n "$n" &&
		same "$n" &&
		test_grep "^healthcheck healthcheck$" called &&
		test_grep "^start rollback-start$" called &&
		is "checkouts" "$(heads)" "$(saved before)" &&
		no_journal
	'
	# the broken commit is quarantined: a fixed one follows it
	test_expect_success "strategy $strategy: --retry of the quarantined commit: the same steps and undo" '
		dry_then_run 2 --retry &&
		same "$(start_step)" &&
		dev=$(dev_clone stack) &&
		git -C "$dev" rm -q broken &&
		dev_publish stack "fixes the health check" >/dev/null &&
		rd 0 &&
		is "checkouts" "$(heads)" "$(remote_heads)"
	'
done

test_expect_success 'restart: a failing stop runs the undo printed for the stop (the start on the old commits)' '
	DEPLOY_STRATEGY=restart deploy_config &&
	push_all &&
	save_heads before &&
	touch "$TRASH/fail-stop" &&
	dry_then_run 2 &&
	rm "$TRASH/fail-stop" &&
	n=$(sed -n "s/^\([0-9]*\)\. stop: .*/\1/p" out) &&
	same "$n" &&
	test_grep "^start rollback-start$" called &&
	test_grep ! "rollback-stop" called &&
	is "checkouts" "$(heads)" "$(saved before)"
'

test_expect_success 'the undo is printed once, each entry with the step it undoes from' '
	DEPLOY_STRATEGY=restart deploy_config &&
	rd 0 --dry-run --retry &&
	stop=$(sed -n "s/^\([0-9]*\)\. stop: .*/\1/p" out) &&
	start=$(start_step) &&
	test_grep "^  from step $start: rollback-stop: would run: $STANDIN stop$" out &&
	test_grep "^  from step $stop: restore: the touched checkouts back at their old commits, the recorded images tagged back$" out &&
	test_grep "^  from step $stop: rollback-start: would run: $STANDIN start$" out &&
	test_grep "^    rollback-healthcheck: would run: $STANDIN healthcheck (every 1 s, up to 5 s)$" out &&
	test_grep "^  from step $stop: forget: the journal removed (exit 2, rolled back)$" out
'

test_expect_success '--no-restart lists neither stop, start nor health check (the bug of issue 20)' '
	DEPLOY_STRATEGY=restart deploy_config &&
	push_all &&
	rd 0 --dry-run --no-restart &&
	test_grep "^no restart (--no-restart)$" out &&
	test_grep ! "$STANDIN stop" out &&
	test_grep ! "$STANDIN start" out &&
	test_grep ! "$STANDIN healthcheck" out
'

test_expect_success 'AUTODEPLOY_ROLLBACK=no: a failing health check keeps the new commits, as printed (exit 3)' '
	DEPLOY_STRATEGY=recreate deploy_config &&
	config_add AUTODEPLOY_ROLLBACK no &&
	dev=$(dev_clone stack) &&
	echo x >"$dev/broken" &&
	dev_publish stack "breaks the health check" >/dev/null &&
	dry_then_run 3 --retry &&
	n=$(start_step) &&
	test_grep "^  from step $n: keep: the new commits stay" out &&
	same "$n" &&
	test_grep ! "rollback-start" called &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_done
