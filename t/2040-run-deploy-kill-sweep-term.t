#!/bin/bash
# The kill-point sweep of t/2028 with SIGTERM (what systemd sends first;
# SIGHUP, SIGINT and SIGPIPE are handled as it is, and SIGHUP is swept
# too at the step boundaries and commands): at every
# journaled step boundary, inside the checkout writes, and at every call
# of every stack command, before and after its work, for both
# strategies.  A SIGTERM takes the rollback path (exit 2, nothing
# quarantined) or, after the last step, lets the deploy end (0); either
# way the next run must end with every checkout clean at the new commit,
# the stack started on it, no journal, and one more run has nothing to
# do (t/lib-sweep.sh).  The point must be reached: the run's log (or the
# stand-in) says the signal came.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-sweep.sh"

SWEEP_SIG=TERM
if [ "${AUTODEPLOY_SWEEP:-}" = full ]; then BIG_STEP=100; else BIG_STEP=${SWEEP_BIG_STEP:-400}; fi

sweep_setup_test

for SWEEP_STRATEGY in restart recreate; do
	test_expect_success "setup: strategy $SWEEP_STRATEGY" '
		sweep_strategy $SWEEP_STRATEGY
	'
	stop=
	[ $SWEEP_STRATEGY = restart ] && stop=after-stop
	# SIGHUP (an operator's ssh session dropped) must be a SIGTERM too
	for SWEEP_SIG in TERM HUP; do
		for p in after-journal $stop touched-0 touched-1 touched-2 \
		         after-checkout-0 after-checkout-1 after-checkout-2 after-start; do
			sweep_point small $p
		done
		# pre-deploy, stop or prepare, start, healthcheck, notify
		for n in 1 2 3 4 5; do
			sweep_point small call-$n-pre
			sweep_point small call-$n-post
		done
	done
	SWEEP_SIG=TERM
	# the move of the compose checkout writes 36 files
	for n in $(seq 1 36); do
		sweep_point small checkout-file-$n
	done
	for n in $(seq 1 $BIG_STEP 2868); do
		sweep_point big checkout-file-$n
	done
done

sweep_count 150
test_done
