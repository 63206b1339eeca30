#!/bin/bash
# env.local is read in time linear in its size: 400000 assignments that
# each expand a key set at the top used to take minutes of CPU (every
# expansion searched every earlier key).  A CPU-time limit, far above what
# the linear reader needs and far below what the quadratic one did, tells
# them apart without timing anything.
. "$(dirname "$0")/lib.sh"

{
	echo "AUTODEPLOY_STATE_DIR=$TRASH/state"
	echo "Z=z"
	awk 'BEGIN { for (i = 0; i < 400000; i++) printf "MY_K%d=\"$Z-%d\"\n", i, i }'
	echo "AUTODEPLOY_LOG_DIR=\"$TRASH/log-\${MY_K399999}\""
} >env.local

test_expect_success '400000 expansions of one key: read within 60 s of CPU, the last one right' '
	test_exit 0 prlimit --cpu=60 rotate-logs --config env.local --dry-run >out 2>err &&
	test_grep "nothing to do: .$TRASH/log-z-399999. does not exist" out
'

test_done
