#!/bin/bash
# The kill-point sweep, SIGKILL (issue 21, item 4; t/2040 is the same
# sweep with SIGTERM, t/2035 with the real engine): run-deploy is killed
# at every journaled step boundary, at points spread over the checkout
# writes (libgit2's file counter) and at every call of every stack
# command, before and after its work (the stand-in counts its calls),
# for both strategies; in the rollback of a failed start; and twice in a
# row: killed, then killed again while the next run recovers (in its
# restore and in its commands).  Each point's next run must end with
# every checkout clean at the new commit, the stack started on it, no
# journal; and one more run has nothing to do (t/lib-sweep.sh).
#
# Small trees (three checkouts move ~40 files each) carry the step
# boundaries and commands, where the tree's size changes nothing but the
# time; the 3,000-file tree carries the points inside the writes.
# AUTODEPLOY_SWEEP=full puts the file points closer together.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-sweep.sh"

SWEEP_SIG=KILL
if [ "${AUTODEPLOY_SWEEP:-}" = full ]; then BIG_STEP=11; else BIG_STEP=${SWEEP_BIG_STEP:-50}; fi

sweep_setup_test

for SWEEP_STRATEGY in restart recreate; do
	test_expect_success "setup: strategy $SWEEP_STRATEGY" '
		sweep_strategy $SWEEP_STRATEGY
	'
	stop=
	[ $SWEEP_STRATEGY = restart ] && stop=after-stop
	for p in after-journal $stop touched-0 touched-1 touched-2 \
	         after-checkout-0 after-checkout-1 after-checkout-2 after-start; do
		sweep_point small $p
	done
	# the move of the compose checkout writes 36 files
	for n in $(seq 1 36); do
		sweep_point small checkout-file-$n
	done
	# pre-deploy, stop or prepare, start, healthcheck, notify
	for n in 1 2 3 4 5; do
		sweep_point small call-$n-pre
		sweep_point small call-$n-post
	done
	# a start that fails once: the rollback is killed (its restore writes
	# about 25 files; then rollback-stop and rollback-start, or
	# rollback-start and its health check)
	for p in rollback-after-restore restore-file-1 restore-file-10 restore-file-20 \
	         call-4-pre call-4-post call-5-pre call-5-post; do
		sweep_point small fail-start+$p
	done
	# a stop that fails once: the start of the old commits is killed
	if [ $SWEEP_STRATEGY = restart ]; then
		for p in call-3-pre call-3-post call-4-pre call-4-post; do
			sweep_point small fail-stop+$p
		done
	fi
	# killed, then killed again in the run that recovers (its restore,
	# its recover-start and health check, then the deploy it goes on to)
	for first in after-checkout-1 checkout-file-20 checkout-file-30 call-3-post after-start; do
		for second in recover-after-restore restore-file-1 restore-file-10 \
		              call-1-pre call-1-post call-2-pre call-2-post call-3-pre call-3-post call-4-post; do
			sweep_point small $first $second
		done
	done
	# the move of ~3,000 files: 2,868 written
	for n in $(seq 1 $BIG_STEP 2868); do
		sweep_point big checkout-file-$n
	done
	for second in restore-file-1 restore-file-700 recover-after-restore call-1-post; do
		sweep_point big checkout-file-1400 $second
	done
done

sweep_count 350
test_done
