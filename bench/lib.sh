# bench/lib.sh — measuring and printing, sourced by bench/run.sh.
#
#   measure ID LABEL [measure.py options] -- ARGV...
#       runs ARGV several times (bench/measure.py), prints a table row
#       "| LABEL | wall | CPU | peak RSS |" and keeps the numbers as ID
#   compare CASE OURS THEIRS
#       prints the ratio of two measured IDs (THEIRS / OURS) and adds a
#       line to the summary table
#   show_cmd ARGV...       prints a command as it ran, $W for the temp folder
#   bench_fail WHAT        counts a failed case: bench/run.sh exits 1 at the end
#
# Needs $W (the temp folder), $RES (where numbers are kept), $RUNS.

fmt_time() { awk -v s="$1" 'BEGIN { if (s < 1) printf "%.1f ms", s * 1000; else printf "%.2f s", s }'; }
fmt_kib() { awk -v k="$1" 'BEGIN { printf "%.1f MiB", k / 1024 }'; }
fmt_ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b <= 0) print "n/a"; else printf "%.2fx", a / b }'; }

# A failure is printed where it happens and remembered, so that a run
# whose table says "failed" never exits 0.
bench_fail() {
	echo "$1" >>"$RES/failed"
}

show_cmd() {
	printf '    $ %s\n' "$*" | sed "s|$W|\$W|g; s|$BENCH_DIR|bench|g; s|$BUILD|\$AUTODEPLOY_BUILD|g"
}

table_head() {
	echo
	echo "| command | wall (median) | CPU user+sys (median) | peak RSS (max) | runs |"
	echo "| --- | ---: | ---: | ---: | ---: |"
}

measure() {
	_id=$1 _label=$2
	shift 2
	: >"$MEASURE_OUT"
	_line=$(python3 "$BENCH_DIR/measure.py" "$@") || {
		echo "| $_label | failed | | | |"
		bench_fail "$_label"
		echo "bench: $_label failed; its output:" >&2
		tail -n 5 "$MEASURE_OUT" >&2
		echo "failed" >"$RES/$_id"
		return 0
	}
	echo "$_line" >"$RES/$_id"
	set -- $_line
	echo "| $_label | $(fmt_time "$1") | $(fmt_time "$2") | $(fmt_kib "$3") | $4 |"
}

# compare CASE OURS THEIRS: "ratio" line and a summary row.
compare() {
	_case=$1
	if grep -q failed "$RES/$2" "$RES/$3" 2>/dev/null; then
		echo
		echo "ratio: n/a (a run failed)"
		echo "| $_case | failed | | | | | |" >>"$RES/summary"
		return 0
	fi
	set -- "$1" $(cat "$RES/$2") $(cat "$RES/$3")
	# $2..$5 ours (wall cpu rss runs), $6..$9 theirs
	echo
	echo "ratio (shell way / autodeploy): wall $(fmt_ratio "$6" "$2"), CPU $(fmt_ratio "$7" "$3")"
	echo "| $_case | $(fmt_time "$2") | $(fmt_time "$6") | **$(fmt_ratio "$6" "$2")** | $(fmt_time "$3") | $(fmt_time "$7") | $(fmt_kib "$4") | $(fmt_kib "$8") |" >>"$RES/summary"
}

# store_objects DIR...: number and bytes of files under each DIR/.git/objects
store_objects() {
	for _d in "$@"; do
		find "$_d/.git/objects" -type f -printf '%s\n'
	done | awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'
}
