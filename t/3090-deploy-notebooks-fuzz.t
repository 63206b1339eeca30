#!/bin/bash
# deploy-notebooks reads outside input: source entries written by an
# operator and tree objects sent by a remote.  libFuzzer runs the entry
# parser, the tree entry name check and the tree walk for a while over the
# seed corpus, with ASan and UBSan; a crash, a leak, a hang or a name that
# gets through although it could leave the folder fails the test.
. "$(dirname "$0")/lib.sh"

have_fuzzer() {
	command -v clang >/dev/null 2>&1 || return 1
	rt=$(clang --print-runtime-dir 2>/dev/null) &&
		[ -e "$rt/libclang_rt.fuzzer-$(uname -m).a" ] && return 0
	dpkg -s libclang-rt-14-dev >/dev/null 2>&1
}
have_fuzzer || skip_all 'clang with the libFuzzer runtime (libclang-rt-14-dev) is not installed'

# Built directly from the modules it needs (the whole library, as `make
# fuzz` builds it, takes a minute; t/0090 already checks that build).
test_expect_success 'the tree fuzz target builds' '
	mods="nbsource publish repo auth log util knownhosts sha" &&
	srcs=$(for m in $mods; do printf "%s " "$SRC_DIR/lib/$m.c"; done) &&
	clang -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-I"$SRC_DIR/lib" $(pkg-config --cflags libgit2 popt zlib) -o tree_fuzz \
		"$SRC_DIR/fuzz/tree_fuzz.c" $srcs \
		$(pkg-config --libs libgit2 popt zlib) -lpthread >cc.out 2>&1 ||
		{ cat cc.out; false; }
'

test_expect_success 'source parsing, name checks and the tree walk survive 10 seconds of fuzzing' '
	mkdir -p corpus &&
	./tree_fuzz -max_total_time=10 -timeout=10 -rss_limit_mb=1024 \
		-artifact_prefix="$TRASH/" -print_final_stats=1 \
		corpus "$SRC_DIR/fuzz/corpus/tree" >fuzz.out 2>&1 ||
		{ tail -n 40 fuzz.out; false; }
	grep -q "Done [0-9]* runs" fuzz.out
'

test_done
