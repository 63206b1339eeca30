#!/bin/bash
# The env.local parser is fed outside input: libFuzzer runs it (and
# settings_load on what it accepts) for a while over the seed corpus, with
# ASan and UBSan; any crash, leak or hang fails the test.
. "$(dirname "$0")/lib.sh"

have_fuzzer() {
	command -v clang >/dev/null 2>&1 || return 1
	rt=$(clang --print-runtime-dir 2>/dev/null) &&
		[ -e "$rt/libclang_rt.fuzzer-$(uname -m).a" ] && return 0
	dpkg -s libclang-rt-14-dev >/dev/null 2>&1
}
have_fuzzer || skip_all 'clang with the libFuzzer runtime (libclang-rt-14-dev) is not installed'

test_expect_success 'the fuzz targets build with make fuzz' '
	make -s -C "$SRC_DIR" BUILD="$TRASH/build" fuzz >make.out 2>&1 ||
		{ tail -n 30 make.out; false; }
	test -x "$TRASH/build/fuzz/cfg_fuzz"
'

test_expect_success 'cfg_parse and settings_load survive 20 seconds of fuzzing' '
	mkdir -p corpus &&
	"$TRASH/build/fuzz/cfg_fuzz" -max_total_time=20 -timeout=10 \
		-artifact_prefix="$TRASH/" -print_final_stats=1 \
		corpus "$SRC_DIR/fuzz/corpus/cfg" >fuzz.out 2>&1 ||
		{ tail -n 40 fuzz.out; false; }
	grep -q "Done [0-9]* runs" fuzz.out
'

test_done
