#!/bin/bash
# make demo is what a newcomer runs first: it must go through the whole
# cycle on this machine and show each step's outcome (SPEC.md "Install and
# run": no drift, a push, drift, deploy, a failed deploy rolled back,
# notebooks published, logs rotated).
. "$(dirname "$0")/lib.sh"

test_expect_success 'the demo runs to the end (exit 0)' '
	{ TMPDIR=$TRASH sh "$SRC_DIR/demo/demo.sh" >demo.out 2>&1 || { cat demo.out; false; }; }
'

# The demo's "(exit N)" lines, in order: check-drift with nothing moved,
# install-units --hook, check-drift after the push, the deploy, the
# rolled-back deploy, deploy-notebooks, rotate-logs.
test_expect_success 'each step ends with the exit code the spec gives it' '
	grep -o "^   (exit [0-9]*)" demo.out | tr -d " ()" | tr "\n" " " >codes &&
	printf "exit0 exit0 exit1 exit0 exit2 exit0 exit0 " >expect &&
	test_cmp expect codes
'

test_expect_success 'the push was queued by the hook and the stack came up on the new commit' '
	grep -q "remote: autodeploy: deploy of main [0-9a-f]* queued" demo.out &&
	grep -q "\[compose\] up (compose file says nginx:1.27)" demo.out
'

test_expect_success 'the broken release was rolled back and the old one started again' '
	grep -q "\[compose\] up (compose file says nginx:1.28-broken)" demo.out &&
	sed -n "/rolling back/,\$p" demo.out | grep -q "\[compose\] up (compose file says nginx:1.27)" &&
	grep -q "autodeploy_last_result 2" demo.out
'

test_expect_success 'notebooks were published read-only and the log was rotated and compressed' '
	grep -q "^   -r--r--r-- tutorial-notebooks/intro/hello.ipynb" demo.out &&
	! grep -q "tutorial-notebooks/README.md" demo.out &&
	grep -q "^   autodeploy.log-[0-9]\{8\}.gz" demo.out
'

test_expect_success 'the demo leaves nothing behind' '
	test -z "$(ls -d "$TRASH"/autodeploy-demo.* 2>/dev/null)"
'

test_done
