#!/bin/bash
# Lossless copytruncate: a writer appends numbered lines with O_APPEND as
# fast as it can while rotate-logs rotates the log 30 times, on ext4 and on XFS; the rotated
# files in order, then the live file, must hold every number exactly once,
# in order.  The same run on a file system that cannot collapse a range
# (tmpfs) shows what plain copy+truncate loses.
. "$(dirname "$0")/lib.sh"

command -v perl >/dev/null || skip_all "perl is needed for the writer"

# collapse_ok DIR: does DIR's file system support FALLOC_FL_COLLAPSE_RANGE?
collapse_ok() {
	head -c 8192 /dev/zero >"$1/.probe" &&
	fallocate --collapse-range --offset 0 --length 4096 "$1/.probe" 2>/dev/null
	rc=$?
	rm -f "$1/.probe"
	return $rc
}

# The writer: line N is "N\n", one write(2) each on an O_APPEND descriptor;
# on SIGTERM it stops between two writes and records the last N.  It
# gives up by itself after ten minutes, so a failed test cannot leave it
# on (a loaded machine can make 50 rotations take more than a minute).
cat >writer.pl <<'EOF'
use strict; use Fcntl;
alarm 600;
my ($path, $done) = @ARGV;
sysopen(my $fh, $path, O_WRONLY | O_APPEND | O_CREAT) or die "open $path: $!";
my $n = 0; my $stop = 0;
$SIG{TERM} = sub { $stop = 1 };
while (!$stop) {
	my $line = ++$n . "\n"; my $w;
	do { $w = syswrite($fh, $line) } while (!defined $w && $!{EINTR});
	die "write: $!" unless defined $w && $w == length $line;
}
open(my $d, '>', $done) or die; print $d "$n\n"; close $d;
EOF

# rotated_in_order DIR LOG: the rotated files of LOG, oldest first (the
# plain-date file first of its day, then -HHMMSS, then -N numerically).
rotated_in_order() {
	ls "$1" | grep "^$2-" |
	sed -E 's/^(.*-([0-9]{8}))(-([0-9]{6}))?(-([0-9]+))?(\.gz)?$/\2 x\4 0\6 &/' |
	sed -E 's/ x / 0 /; s/ x([0-9])/ 1\1/; s/ 0([0-9]+) / \1 /' |
	sort -k1,1n -k2,2n -k3,3n | awk '{ print $4 }'
}

# load_run DIR ROTATIONS: rotate DIR/app.log that many times under load;
# leaves DIR/all (everything, in order) and DIR/count (lines written).
load_run() {
	dir=$1 rotations=$2
	mkdir -p "$dir/logs" "$dir/state" &&
	cat >"$dir/env.local" <<-EOF || return 1
	AUTODEPLOY_LOG_DIR=$dir/logs
	AUTODEPLOY_STATE_DIR=$dir/state
	AUTODEPLOY_ROTATE_KEEP=1000
	AUTODEPLOY_ROTATE_COMPRESS_LEVEL=1
	EOF
	# (a statement of its own: `a && b &` would put the whole list in
	# the background, and $! would not be the writer)
	perl "$TRASH/writer.pl" "$dir/logs/app.log" "$dir/count" </dev/null >/dev/null 2>"$dir/writer.err" &
	wpid=$!
	# Let the log grow past a block before the first rotation.
	while [ $(stat -c %s "$dir/logs/app.log" 2>/dev/null || echo 0) -lt 65536 ]; do sleep 0.01; done
	i=0
	while [ $i -lt "$rotations" ]; do
		rotate-logs --config "$dir/env.local" --force --quiet 2>>"$dir/err" || { kill $wpid; return 1; }
		i=$((i + 1))
	done
	kill -TERM $wpid && wait $wpid &&
	for f in $(rotated_in_order "$dir/logs" app.log); do
		case $f in *.gz) gzip -t "$dir/logs/$f" && zcat "$dir/logs/$f" ;; *) cat "$dir/logs/$f" ;; esac
	done >"$dir/all" &&
	cat "$dir/logs/app.log" >>"$dir/all"
}

# lossless_on DIR FSNAME ROTATIONS: the lossless proof in DIR.
lossless_on() {
	L_DIR=$1 L_FS=$2 L_ROT=$3
	test_expect_success "$2: $3 forced rotations under load lose no line and duplicate none" '
		load_run "$L_DIR" "$L_ROT" &&
		n=$(cat "$L_DIR/count") &&
		echo "# $L_FS: $n lines written, $(rotated_in_order "$L_DIR/logs" app.log | wc -l) rotated files" &&
		test $(rotated_in_order "$L_DIR/logs" app.log | wc -l) -ge $((L_ROT * 4 / 5)) &&
		awk -v n="$n" "\$0 != NR { print \"line \" NR \" is \" \$0; bad = 1; exit }
		     END { if (!bad && NR != n) { print NR \" lines, expected \" n; bad = 1 } exit bad }" "$L_DIR/all" &&
		test_grep ! "may be lost" "$L_DIR/err"
	'
}

# The proof needs file systems that collapse: ext4 and XFS, each on a
# loop-mounted image (CI containers have overlayfs and tmpfs, which do
# not); in CI a missing one is a failure, not a skip.
for fs in ext4 xfs; do
	case $fs in ext4) opt=-F ;; xfs) opt=-f ;; esac
	if loop_fs $fs "$TRASH/$fs" $opt 2>why && collapse_ok "$TRASH/$fs"; then
		lossless_on "$TRASH/$fs" $fs 30
	else
		test_skip_or_fail "$fs: forced rotations under load lose no line and duplicate none" \
			"no $fs file system to rotate on: $(cat why) (or it cannot collapse)"
	fi
done
FAST=$TRASH/ext4
if collapse_ok "$FAST"; then
	test_expect_success 'the rotated names under load follow -YYYYMMDD[-HHMMSS[-N]].gz, never *.log' '
		ls "$FAST/logs" | grep "^app.log-" >names &&
		test_grep ! "\.log$" names &&
		grep -Eq "^app.log-[0-9]{8}-[0-9]{6}(-[0-9]+)?\.gz$" names &&
		! grep -Ev "^app.log-[0-9]{8}(-[0-9]{6}(-[0-9]+)?)?\.gz$" names
	'
fi

# The fallback: tmpfs cannot collapse, so rotate-logs copies then
# truncates, says so, and the count of lost lines is reported.
SLOW=
if [ -d /dev/shm ] && SLOW=$(mktemp -d /dev/shm/autodeploy-rotate.XXXXXX 2>/dev/null); then
	if collapse_ok "$SLOW"; then rm -rf "$SLOW"; SLOW=; fi
fi
if [ -n "$SLOW" ]; then
	at_exit "rm -rf '$SLOW'"
	test_expect_success 'without collapse: copy+truncate, with a warning, never a duplicate or reordering' '
		load_run "$SLOW" 20 &&
		test_grep "lines written during the copy may be lost" "$SLOW/err" &&
		n=$(cat "$SLOW/count") &&
		got=$(wc -l <"$SLOW/all") &&
		# A line caught half-written by the truncate ends its rotated file
		# torn, glued to the next file'"'"'s first line: its digits run past
		# any number written (> n).  Those are counted, the rest must
		# still rise strictly: no line twice, none out of order.
		awk -v n="$n" "\$0 > n { torn++; next }
		     \$0 <= prev { print \"line \" NR \" is \" \$0 \" after \" prev; bad = 1; exit } { prev = \$0 }
		     END { if (torn) print \"# torn lines: \" torn; exit bad }" "$SLOW/all" &&
		echo "# copy+truncate fallback (tmpfs): lost $((n - got)) of $n lines over 20 rotations" >&3
	' 3>&1
	grep "^# copy+truncate" "$TRASH/.out" 2>/dev/null || :
	test_expect_success 'without collapse: nothing is lost when nobody writes' '
		mkdir -p "$SLOW/quiet" && cp "$SLOW/env.local" "$SLOW/quiet.env" &&
		sed -i "s|$SLOW/logs|$SLOW/quiet|" "$SLOW/quiet.env" &&
		seq 1 5000 >"$SLOW/quiet/q.log" &&
		rotate-logs --config "$SLOW/quiet.env" --force 2>err &&
		test_grep "may be lost" err &&
		test ! -s "$SLOW/quiet/q.log" &&
		zcat "$SLOW/quiet"/q.log-*.gz >got && seq 1 5000 >want && test_cmp want got
	'
else
	test_skip 'without collapse: copy+truncate, with a warning, never a duplicate or reordering' \
		"no tmpfs without collapse support at /dev/shm to exercise the fallback"
fi

test_done
