#!/bin/bash
# No function in lib/, bin/ or hooks/ is longer than 80 lines (from the
# first line of its signature to its closing brace): a longer one does
# several steps that each want a name.  .ci/fnlen measures; the first two
# tests show it can tell 80 from 81.
. "$(dirname "$0")/lib.sh"

FNLEN="sh $SRC_DIR/.ci/fnlen"

# c_function NAME LINES: a C function of exactly LINES lines
c_function() {
	printf 'static int\n%s(void)\n{\n' "$1" &&
	awk -v n=$(($2 - 5)) "BEGIN { for (i = 0; i < n; i++) print \"\\tx++;\" }" &&
	printf '\treturn x;\n}\n'
}

test_expect_success 'a function of 80 lines passes' '
	c_function fits 80 >fits.c &&
	test $(wc -l <fits.c) = 80 &&
	$FNLEN 80 fits.c >out &&
	test_must_be_empty out
'

test_expect_success 'a function of 81 lines fails, named with its file, line and length' '
	{ echo "static int x;" && c_function too_long 81; } >long.c &&
	test_must_fail 1 $FNLEN 80 long.c >out &&
	test_grep "^long.c:2: too_long is 81 lines (at most 80)$" out
'

test_expect_success 'every function of lib/, bin/ and hooks/ is at most 80 lines' '
	(cd "$SRC_DIR" && $FNLEN 80 lib/*.c bin/*.c hooks/*.c) >out &&
	test_must_be_empty out
'

test_done
