#!/bin/bash
# Every parser of outside input has a libFuzzer target in fuzz/: env.local
# (cfg_fuzz), known_hosts (known_hosts_fuzz), the post-receive hook's stdin
# (hookin_fuzz), cron frequencies (cron_fuzz) and notebook sources and git
# tree entries (tree_fuzz).  Each runs for a while over its seed corpus in
# fuzz/corpus/NAME, with ASan and UBSan; a crash, a leak, a hang, or a
# target's own check (e.g. a tree name that could leave the folder) fails.
. "$(dirname "$0")/lib.sh"

have_fuzzer() {
	command -v clang >/dev/null 2>&1 &&
		test -e "$(clang --print-runtime-dir 2>/dev/null)/libclang_rt.fuzzer-$(uname -m).a" ||
		dpkg -s libclang-rt-14-dev >/dev/null 2>&1
}
have_fuzzer || skip_all 'clang with the libFuzzer runtime (libclang-rt-14-dev) is not installed'
: "${AUTODEPLOY_FUZZ_SECONDS:=10}"

test_expect_success 'make fuzz builds every target' '
	make -s -C "$SRC_DIR" BUILD="$TRASH/build" fuzz >make.out 2>&1 ||
		{ tail -n 30 make.out; false; }
'

for src in "$SRC_DIR"/fuzz/*.c; do
	target=$(basename "$src" .c)
	corpus=$SRC_DIR/fuzz/corpus/${target%_fuzz}
	test_expect_success "$target survives $AUTODEPLOY_FUZZ_SECONDS seconds of fuzzing" '
		test -d "$corpus" &&
		mkdir -p "new-$target" &&
		"$TRASH/build/fuzz/$target" -max_total_time=$AUTODEPLOY_FUZZ_SECONDS -timeout=10 \
			-rss_limit_mb=1024 -artifact_prefix="$TRASH/$target-" -print_final_stats=1 \
			"new-$target" "$corpus" >"$target.out" 2>&1 ||
			{ tail -n 40 "$target.out"; false; }
		grep -q "Done [0-9]* runs" "$target.out"
	'
done

test_done
