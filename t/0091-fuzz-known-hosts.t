#!/bin/bash
# The known_hosts reader is fed outside input (a file edited by hand or
# filled by ssh-keyscan): libFuzzer runs it for a while over the seed
# corpus, with ASan and UBSan; any crash, leak, hang or an accepted line
# whose key blob disagrees with its type field fails the test.
. "$(dirname "$0")/lib.sh"

have_fuzzer() {
	command -v clang >/dev/null 2>&1 || return 1
	rt=$(clang --print-runtime-dir 2>/dev/null) &&
		[ -e "$rt/libclang_rt.fuzzer-$(uname -m).a" ] && return 0
	dpkg -s libclang-rt-14-dev >/dev/null 2>&1
}
have_fuzzer || skip_all 'clang with the libFuzzer runtime (libclang-rt-14-dev) is not installed'

# Built directly (the target needs three files, not the whole library,
# which `make fuzz` in t/0090 already checks).
test_expect_success 'the known_hosts fuzz target builds' '
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-I"$SRC_DIR/lib" -o known_hosts_fuzz "$SRC_DIR/fuzz/known_hosts_fuzz.c" \
		"$SRC_DIR/lib/knownhosts.c" "$SRC_DIR/lib/sha.c" "$SRC_DIR/lib/util.c" >cc.out 2>&1 ||
		{ cat cc.out; false; }
'

test_expect_success 'kh_parse_line and kh_check survive 10 seconds of fuzzing' '
	mkdir -p corpus &&
	./known_hosts_fuzz -max_total_time=10 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$TRASH/" -print_final_stats=1 \
		corpus "$SRC_DIR/fuzz/corpus/known_hosts" >fuzz.out 2>&1 ||
		{ tail -n 40 fuzz.out; false; }
	grep -q "Done [0-9]* runs" fuzz.out
'

test_done
