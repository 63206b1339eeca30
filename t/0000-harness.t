#!/bin/sh
# The harness itself (t/lib.sh): a test fails on any failing line, not only
# on its last chain, and a body whose lines are not chained with && is
# reported as a broken chain before it runs.  Each case is a small script
# that sources lib.sh, run as prove would run it.
. "$(dirname "$0")/lib.sh"

# case NAME BODY: a script with one test whose body is BODY.
case_script() {
	{
		echo ". '$T_DIR/lib.sh'"
		printf "test_expect_success '%s' '\n%s\n'\n" "$1" "$2"
		echo 'test_done'
	} >"$1.t"
}

# run NAME: run the script, its TAP on NAME.tap, its status in NAME.rc.
run_case() {
	sh "$1.t" >"$1.tap" 2>"$1.err"
	echo $? >"$1.rc"
}

test_expect_success 'a body whose first line fails is not ok' '
	case_script first "false &&
	true" &&
	run_case first &&
	test_grep "^not ok 1 - first" first.tap &&
	test "$(cat first.rc)" != 0
'

test_expect_success 'a failing line outside the chain makes the body not ok' '
	case_script unchained "false
	true" &&
	run_case unchained &&
	test_grep "^not ok 1 - unchained" unchained.tap &&
	test_grep "broken &&-chain" unchained.tap &&
	test "$(cat unchained.rc)" != 0
'

test_expect_success 'a broken chain is reported even when every line succeeds' '
	case_script passing "true
	true" &&
	run_case passing &&
	test_grep "^not ok 1 - passing" passing.tap &&
	test_grep "broken &&-chain (0, not 117) in test .passing." passing.err
'

test_expect_success 'a failure in a loop ended with || return 1 fails the body' '
	case_script loop "for i in 1 2 3; do
		test \$i != 2 || return 1
	done &&
	true" &&
	run_case loop &&
	test_grep "^not ok 1 - loop" loop.tap &&
	test_grep ! "broken" loop.tap
'

test_expect_success 'a failing line inside a chain fails the body' '
	case_script middle "true &&
	false &&
	true" &&
	run_case middle &&
	test_grep "^not ok 1 - middle" middle.tap
'

test_expect_success 'a well-chained passing body is ok and the script exits 0' '
	case_script good "x=1 &&
	test \$x = 1 &&
	true" &&
	run_case good &&
	test_grep "^ok 1 - good" good.tap &&
	test_grep "^1\.\.1" good.tap &&
	test "$(cat good.rc)" = 0
'

test_expect_success 'a failing command under set -e fails even when it is the only line' '
	case_script one "test_must_fail 3 sh -c \"exit 4\"" &&
	run_case one &&
	test_grep "^not ok 1 - one" one.tap &&
	test_grep "exited 4, expected 3" one.err
'

test_done
