# t/lib.sh — sourced by every shell test (after the shebang line):
#   . "$(dirname "$0")/lib.sh"
#   test_expect_success 'title that says the behaviour' '
#       commands ... &&
#       test_must_fail 78 check-drift --config bad.env
#   '
#   test_done
#
# Each script gets its own scratch folder ($TRASH, also the cwd), removed at
# exit unless the script failed and AUTODEPLOY_KEEP_TRASH is set.  The
# programs under test come first in PATH, from $AUTODEPLOY_BUILD (set by
# `make check`; defaults to ./build).

set -u
T_DIR=$(cd "$(dirname "$0")" && pwd)

# A sweep (t/2028, t/2040, t/2035) runs every point under `make check`.
# Under the sanitizers (make check-asan, AUTODEPLOY_SANITIZED set) it runs
# every SWEEP_EVERY-th point (default 8): the sanitizers judge code paths,
# which the sample still walks, and the whole sweep has run unsanitized.
# sweep_sampled says whether the next point runs; floors divide by it.
if [ -z "${SWEEP_EVERY:-}" ]; then
	SWEEP_EVERY=1
	[ -z "${AUTODEPLOY_SANITIZED:-}" ] || SWEEP_EVERY=8
fi
SWEEP_SEEN=0
sweep_sampled() {
	SWEEP_SEEN=$((SWEEP_SEEN + 1))
	[ $(((SWEEP_SEEN - 1) % SWEEP_EVERY)) -eq 0 ]
}
SRC_DIR=$(cd "$T_DIR/.." && pwd)
: "${AUTODEPLOY_BUILD:=$SRC_DIR/build}"
BUILD_DIR=$AUTODEPLOY_BUILD
PATH="$BUILD_DIR/bin:$BUILD_DIR/hooks:$PATH"
export PATH BUILD_DIR SRC_DIR
unset AUTODEPLOY_CONFIG

TRASH=$(mktemp -d "${TMPDIR:-/tmp}/autodeploy-test.XXXXXX")
HOME=$TRASH/home
mkdir -p "$HOME"
export HOME TRASH
# git identity and isolation from the runner's own git config
GIT_CONFIG_NOSYSTEM=1
GIT_AUTHOR_NAME='Test Author'; GIT_AUTHOR_EMAIL=author@example.invalid
GIT_COMMITTER_NAME='Test Committer'; GIT_COMMITTER_EMAIL=committer@example.invalid
export GIT_CONFIG_NOSYSTEM GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
git config --global init.defaultBranch main
git config --global protocol.file.allow always
git config --global advice.detachedHead false

test_count=0
test_failed=0
test_skipped=0
# at_exit COMMAND: run COMMAND (eval'ed) when the script ends, before the
# scratch folder is removed; the last one added runs first.
T_AT_EXIT=
at_exit() { T_AT_EXIT="$1; $T_AT_EXIT"; }
_t_cleanup() {
	status=$?
	cd /
	[ -n "$T_AT_EXIT" ] && eval "$T_AT_EXIT" >/dev/null 2>&1
	if [ "$test_failed" -gt 0 ] && [ -n "${AUTODEPLOY_KEEP_TRASH:-}" ]; then
		echo "# kept scratch folder $TRASH" >&2
	else
		# published notebooks are read-only folders: a normal user
		# must make them writable to remove them
		chmod -R u+w "$TRASH" 2>/dev/null
		rm -rf "$TRASH"
	fi
	exit $status
}
trap _t_cleanup EXIT
cd "$TRASH"

# test_expect_success TITLE BODY: check BODY's &&-chain, then run it and
# report.
#
# The chain lint is git's (t/test-lib.sh before chainlint.pl): BODY is
# evaluated as "(exit 117) && BODY".  When every line is chained with &&,
# the first link fails and the whole body is skipped with status 117; any
# other status means a line stands outside the chain, whose failure would
# be ignored.  Loops end their bodies with "|| return 1".
#
# BODY then runs in a subshell (so that a failing test cannot change the
# next one's cwd or variables) under "set -e", as a plain command: a shell
# ignores set -e in the condition of an if or an && list, which is why
# the status is read from $? afterwards.  BODY is evaluated inside a
# function so that "return 1" ends it.
_t_eval() { eval "$1"; }
# Under bash, a body is traced (set -x) into $TRASH/.trace, and a failed
# body shows the last commands it ran: a silent "test ! -e FILE" in the
# middle of a chain otherwise leaves a "not ok" with nothing to go on.
if [ -n "${BASH_VERSION:-}" ]; then
	_t_trace() { exec 8>"$TRASH/.trace" && BASH_XTRACEFD=8 && set -x; }
else
	_t_trace() { : >"$TRASH/.trace"; }
fi
test_expect_success() {
	test_count=$((test_count + 1))
	( _t_eval "(exit 117) && $2" ) >/dev/null 2>&1 </dev/null
	_t_lint=$?
	if [ "$_t_lint" -ne 117 ]; then
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		echo "# broken &&-chain ($_t_lint, not 117) in test '$1'" | tee /dev/stderr
		return 0
	fi
	( set -e; _t_trace; _t_eval "$2" ) >"$TRASH/.out" 2>&1
	_t_status=$?
	if [ "$_t_status" -eq 0 ]; then
		echo "ok $test_count - $1"
		[ -z "${AUTODEPLOY_TEST_VERBOSE:-}" ] || sed 's/^/# /' "$TRASH/.out"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		# on stderr too: prove shows it without -v, so a CI log says why
		{
			sed 's/^/# /' "$TRASH/.out"
			[ ! -s "$TRASH/.trace" ] || { echo "# last commands:"; tail -n 4 "$TRASH/.trace" | cut -c1-300 | sed 's/^/#   /'; }
		} | tee /dev/stderr
	fi
	return 0
}

# test_skip TITLE REASON
test_skip() {
	test_count=$((test_count + 1))
	test_skipped=$((test_skipped + 1))
	echo "ok $test_count - $1 # skip $2"
}

# test_skip_or_fail TITLE REASON: a skip on a developer's machine, a
# failure in CI (CI=true), where what the test needs is always set up.
test_skip_or_fail() {
	if [ "${CI:-}" = true ]; then
		test_count=$((test_count + 1))
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1 # CI cannot skip: $2"
		echo "# CI cannot skip: $2" >&2
	else
		test_skip "$@"
	fi
}

skip_all() {
	echo "1..0 # skip $1"
	exit 0
}

test_done() {
	echo "1..$test_count"
	[ "$test_failed" -eq 0 ]
}

# test_must_fail CODE CMD...: CMD must exit with exactly CODE.
test_must_fail() {
	want=$1; shift
	got=0
	"$@" || got=$?
	if [ "$got" -ne "$want" ]; then
		echo "error: '$*' exited $got, expected $want" >&2
		return 1
	fi
	return 0
}

# test_exit CODE CMD...: alias that reads better when CODE is 0 or 1.
test_exit() { test_must_fail "$@"; }

# test_cmp EXPECTED ACTUAL: files must be identical (diff shown otherwise).
test_cmp() { diff -u "$1" "$2"; }

# test_must_be_empty FILE: FILE exists and is empty (shown otherwise).
test_must_be_empty() {
	if [ ! -f "$1" ] || [ -s "$1" ]; then
		echo "error: '$1' is not an empty file:" >&2; cat "$1" >&2 2>/dev/null; return 1
	fi
}

# test_grep PATTERN FILE / test_grep ! PATTERN FILE
test_grep() {
	if [ "$1" = "!" ]; then
		shift
		if grep -q -e "$1" "$2"; then
			echo "error: '$1' found in $2:" >&2; cat "$2" >&2; return 1
		fi
		return 0
	fi
	if ! grep -q -e "$1" "$2"; then
		echo "error: '$1' not found in $2:" >&2; cat "$2" >&2; return 1
	fi
}

# loop_fs TYPE DIR [MKFS-OPTION...]: mount a fresh TYPE file system (ext4,
# xfs) made in an image file of the scratch folder on DIR, through a loop
# device, unmounted at exit.  This is how the tests get a file system that
# collapses ranges (FALLOC_FL_COLLAPSE_RANGE) where the scratch folder is
# on tmpfs or overlayfs, as in CI containers.  Fails, saying why on
# stderr, without root, the mkfs tool or a free loop device.  The image is
# $LOOP_FS_SIZE (default 320M, what XFS needs at least).
T_LOOPS=0
loop_fs() {
	_fs=$1 _dir=$2
	shift 2
	if [ "$(id -u)" != 0 ]; then
		echo "mounting a $_fs image needs root" >&2
		return 1
	fi
	if ! command -v "mkfs.$_fs" >/dev/null; then
		echo "mkfs.$_fs is missing (apt-get install $( [ "$_fs" = xfs ] && echo xfsprogs || echo e2fsprogs))" >&2
		return 1
	fi
	T_LOOPS=$((T_LOOPS + 1))
	_img=$TRASH/.fs-$T_LOOPS.img
	# The image is sparse: it costs only what is written.
	truncate -s "${LOOP_FS_SIZE:-320M}" "$_img" &&
	"mkfs.$_fs" -q "$@" "$_img" >"$_img.log" 2>&1 &&
	mkdir -p "$_dir" &&
	mount -o loop "$_img" "$_dir" 2>>"$_img.log" || {
		echo "cannot make and mount a $_fs image: $(tail -1 "$_img.log")" >&2
		return 1
	}
	at_exit "umount '$_dir' || umount -l '$_dir'"
}
