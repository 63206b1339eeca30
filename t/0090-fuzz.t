#!/bin/bash
# Every parser of outside input has a libFuzzer target in fuzz/: env.local
# (cfg_fuzz), known_hosts (known_hosts_fuzz), the post-receive hook's stdin
# (hookin_fuzz), cron frequencies (cron_fuzz), notebook sources and git
# tree entries (tree_fuzz), docker inspect output (binds_fuzz, images_fuzz,
# engine_fuzz), compose config output (bluegreen_fuzz) and remote
# URLs (url_fuzz).  Here each replays its corpus in fuzz/corpus/NAME once
# (-runs=0: every input, nothing new, the same verdict on every run), with
# ASan and UBSan; a crash, a leak, a hang, or a target's own check (e.g. a
# tree name that could leave the folder) fails.  Fuzzing for real is
# `make fuzz` (FUZZ_SECONDS per target), or AUTODEPLOY_FUZZ_SECONDS here.
. "$(dirname "$0")/lib.sh"

have_fuzzer() {
	command -v clang >/dev/null 2>&1 &&
		test -e "$(clang --print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-$(uname -m).a" ||
		dpkg -s libclang-rt-14-dev >/dev/null 2>&1
}
have_fuzzer || skip_all 'clang with the libFuzzer runtime (libclang-rt-14-dev) is not installed'
: "${AUTODEPLOY_FUZZ_SECONDS:=0}"

# One instrumented build, kept in the source tree's build/fuzz (what `make
# fuzz` uses too): make rebuilds only what changed, so a replay after an
# edit costs one object, not the whole library.
FUZZ_BUILD=$SRC_DIR/build
test_expect_success 'make fuzz-targets builds every target' '
	{ make -s -C "$SRC_DIR" BUILD="$FUZZ_BUILD" fuzz-targets >make.out 2>&1 ||
		{ tail -n 30 make.out; false; }; }
'

for src in "$SRC_DIR"/fuzz/*.c; do
	target=$(basename "$src" .c)
	corpus=$SRC_DIR/fuzz/corpus/${target%_fuzz}
	if [ "$AUTODEPLOY_FUZZ_SECONDS" -gt 0 ]; then
		how="survives $AUTODEPLOY_FUZZ_SECONDS seconds of fuzzing"
		run="-max_total_time=$AUTODEPLOY_FUZZ_SECONDS"
	else
		how="replays its corpus cleanly"
		run="-runs=0"
	fi
	test_expect_success "$target $how" '
		test -d "$corpus" && test -n "$(ls "$corpus")" &&
		mkdir -p "new-$target" &&
		{ "$FUZZ_BUILD/fuzz/$target" $run -timeout=10 \
			-rss_limit_mb=1024 -artifact_prefix="$TRASH/$target-" -print_final_stats=1 \
			"new-$target" "$corpus" >"$target.out" 2>&1 ||
			{ tail -n 40 "$target.out"; false; }; } &&
		grep -q "Done [0-9]* runs" "$target.out"
	'
done

test_done
