# t/lib-git.sh — git fixtures and check-drift helpers, sourced after t/lib.sh:
#   . "$(dirname "$0")/lib.sh"
#   . "$T_DIR/lib-git.sh"          (lib.sh has already cd-ed into $TRASH)
#
#   make_remote stack 3            bare $TRASH/stack.git, 3 commits on main
#   clone_remote stack compose     $TRASH/compose, a clone following main
#   new=$(dev_push stack)          a commit pushed from a second clone
#   write_config "$TRASH/compose" "$TRASH/extra1 $TRASH/extra2"
#   config_add AUTODEPLOY_TRACK 'tag:[0-9]*'
#   drift_json 1                   check-drift --json, must exit 1; JSON in ./out
#   json_is 0 decision deploy      field of the first object in ./out
#
# Everything lives in $TRASH; remotes are reached with file:// URLs.

CONFIG=$TRASH/env.local
LOG_DIR=$TRASH/log
STATE_DIR=$TRASH/state
LOG_FILE=$LOG_DIR/autodeploy.log
export CONFIG LOG_DIR STATE_DIR LOG_FILE

# Nothing in these tests may leave the machine, not even through a proxy.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

remote_url() { printf 'file://%s/%s.git\n' "$TRASH" "$1"; }

# make_remote NAME [N]: a bare repository $TRASH/NAME.git whose main branch
# holds N commits (default 1), each rewriting file.txt.  Written with
# git fast-import so that a thousand commits take a fraction of a second.
make_remote() {
	_n=${2:-1}
	git init -q --bare "$TRASH/$1.git" || return 1
	awk -v n="$_n" 'BEGIN {
		for (i = 1; i <= n; i++) {
			printf "commit refs/heads/main\nmark :%d\n", i
			printf "committer Test Committer <committer@example.invalid> %d +0000\n", 1700000000 + i
			printf "data <<EOT\ncommit %d\nEOT\n", i
			if (i > 1)
				printf "from :%d\n", i - 1
			printf "M 100644 inline file.txt\ndata <<EOT\nline %d\nEOT\n\n", i
		}
	}' | git -C "$TRASH/$1.git" fast-import --quiet
}

# clone_remote NAME DIR [GIT-CLONE-OPTIONS...]: clone NAME into $TRASH/DIR.
clone_remote() {
	_name=$1 _dir=$2
	shift 2
	git clone -q "$@" "$(remote_url "$_name")" "$TRASH/$_dir"
}

# dev_clone NAME: the "developer" clone of NAME ($TRASH/dev-NAME), created
# on first use and reset to the remote's main; prints its path.
dev_clone() {
	_dev=$TRASH/dev-$1
	if [ ! -d "$_dev" ]; then
		git clone -q "$(remote_url "$1")" "$_dev" >&2 || return 1
	else
		git -C "$_dev" fetch -q origin >&2 &&
		git -C "$_dev" checkout -q -B main origin/main >&2 || return 1
	fi
	printf '%s\n' "$_dev"
}

# dev_publish NAME [MESSAGE]: commit everything in the developer clone and
# push it to the remote's main; prints the new commit id.
dev_publish() {
	_dev=$TRASH/dev-$1
	git -C "$_dev" add -A >&2 &&
	git -C "$_dev" commit -q -m "${2:-change}" >&2 &&
	git -C "$_dev" push -q origin HEAD:refs/heads/main >&2 &&
	git -C "$_dev" rev-parse HEAD
}

# dev_push NAME [FILE]: change FILE (default file.txt) in the developer
# clone, commit and push to main; prints the new commit id.
dev_push() {
	_file=${2:-file.txt}
	_dev=$(dev_clone "$1") || return 1
	_count=$(cat "$TRASH/.dev-counter" 2>/dev/null || echo 0)
	_count=$((_count + 1))
	echo "$_count" >"$TRASH/.dev-counter"
	mkdir -p "$(dirname "$_dev/$_file")" &&
	echo "developer change $_count" >"$_dev/$_file" &&
	dev_publish "$1" "change $_count to $_file"
}

# local_commit DIR [FILE]: a commit made in the checkout itself (never pushed).
local_commit() {
	echo "local change $$ $RANDOM" >>"$1/${2:-local.txt}" &&
	git -C "$1" add -A &&
	git -C "$1" commit -q -m "local change"
}

# write_config COMPOSE_DIR [EXTRA_REPOS]: write $CONFIG for the programs,
# with the log and state folders inside $TRASH.  Paths here hold no
# spaces or quotes, so they are written as they are.
write_config() {
	{
		echo "# written by t/lib-git.sh"
		echo "AUTODEPLOY_COMPOSE_DIR=$1"
		if [ -n "${2:-}" ]; then
			echo "AUTODEPLOY_EXTRA_REPOS=\"$2\""
		fi
		echo "AUTODEPLOY_LOG_DIR=$LOG_DIR"
		echo "AUTODEPLOY_STATE_DIR=$STATE_DIR"
		# only root can switch to the default trigger user (nobody)
		if [ "$(id -u)" != 0 ]; then
			echo "AUTODEPLOY_TRIGGER_USER=$(id -u)"
		fi
	} >"$CONFIG"
}

# config_add KEY VALUE: append KEY='VALUE' (single-quoted: no expansion).
config_add() { printf "%s='%s'\n" "$1" "$2" >>"$CONFIG"; }

drift() { check-drift --config "$CONFIG" "$@"; }

# drift_json CODE [OPTIONS...]: run check-drift --json with $CONFIG, which
# must exit with CODE; stdout goes to ./out (checked to be the JSON the
# spec describes), stderr to ./err.  Shows both when something is wrong.
drift_json() {
	_want=$1
	shift
	if ! test_must_fail "$_want" check-drift --config "$CONFIG" --json "$@" >out 2>err; then
		echo "--- stdout:" >&2; cat out >&2
		echo "--- stderr:" >&2; cat err >&2
		return 1
	fi
	if ! json_check out; then
		echo "--- stdout:" >&2; cat out >&2
		echo "--- stderr:" >&2; cat err >&2
		return 1
	fi
}

# The JSON reader.  Commands (FILE is check-drift --json output):
#   check FILE            the document is one array of objects; every
#                         checkout object has exactly the spec's keys and types
#   len FILE              number of objects
#   get FILE INDEX KEY    a field (null -> "null", strings raw)
#   list FILE KEY         KEY of every object, one per line
#   paths FILE            real path of every checkout object, one per line
#   find FILE PATH KEY    KEY of the one object whose path is PATH
_json_py='
import json, os, sys

KEYS = {"path", "branch", "upstream", "local_commit", "remote_commit",
        "ahead", "behind", "decision", "reason"}
DECISIONS = {"deploy", "pull-only", "diverged", "up-to-date", "ahead",
             "unclean", "no-upstream", "missing", "error", "unverified"}

def show(v):
    if v is None:
        print("null")
    elif isinstance(v, bool):
        print("true" if v else "false")
    elif isinstance(v, (int, str)):
        print(v)
    else:
        print(json.dumps(v))

def is_id(v):
    return v is None or (isinstance(v, str) and len(v) in (40, 64)
                         and all(c in "0123456789abcdef" for c in v))

def check(doc):
    if not isinstance(doc, list):
        sys.exit("not a JSON array")
    for i, o in enumerate(doc):
        if not isinstance(o, dict):
            sys.exit("object %d is not a JSON object" % i)
        if o.get("decision") == "interrupted":
            continue
        if set(o) != KEYS:
            sys.exit("object %d has keys %s, want exactly %s"
                     % (i, sorted(o), sorted(KEYS)))
        if not isinstance(o["path"], str):
            sys.exit("object %d: path is not a string" % i)
        for k in ("branch", "upstream"):
            if o[k] is not None and not isinstance(o[k], str):
                sys.exit("object %d: %s is neither a string nor null" % (i, k))
        for k in ("local_commit", "remote_commit"):
            if not is_id(o[k]):
                sys.exit("object %d: %s is not a full hex id or null: %r" % (i, k, o[k]))
        for k in ("ahead", "behind"):
            if type(o[k]) is not int or o[k] < 0:
                sys.exit("object %d: %s is not a non-negative integer: %r" % (i, k, o[k]))
        if o["decision"] not in DECISIONS:
            sys.exit("object %d: unknown decision %r" % (i, o["decision"]))
        if not isinstance(o["reason"], str):
            sys.exit("object %d: reason is not a string" % i)

cmd, name = sys.argv[1], sys.argv[2]
with open(name) as f:
    text = f.read()
try:
    doc = json.loads(text)
except ValueError as e:
    sys.exit("%s is not one JSON document: %s" % (name, e))
if cmd == "check":
    check(doc)
elif cmd == "len":
    print(len(doc))
elif cmd == "get":
    show(doc[int(sys.argv[3])][sys.argv[4]])
elif cmd == "list":
    for o in doc:
        show(o.get(sys.argv[3]))
elif cmd == "paths":
    for o in doc:
        if o.get("decision") != "interrupted":
            print(os.path.realpath(o["path"]))
elif cmd == "find":
    want = os.path.realpath(sys.argv[3])
    hits = [o for o in doc if isinstance(o.get("path"), str)
            and os.path.realpath(o["path"]) == want]
    if len(hits) != 1:
        sys.exit("want one object with path %s, found %d" % (want, len(hits)))
    show(hits[0][sys.argv[4]])
else:
    sys.exit("json: unknown command " + cmd)
'
json() { python3 -c "$_json_py" "$@"; }
json_check() { json check "$1"; }

# json_is INDEX KEY WANT: field KEY of object INDEX in ./out must be WANT.
json_is() {
	_got=$(json get out "$1" "$2") || return 1
	if [ "$_got" != "$3" ]; then
		echo "error: object $1: $2 is '$_got', expected '$3'" >&2
		echo "--- stdout:" >&2; cat out >&2
		echo "--- stderr:" >&2; cat err >&2 2>/dev/null
		return 1
	fi
}

# json_path_is PATH KEY WANT: likewise, for the object whose path is PATH.
json_path_is() {
	_got=$(json find out "$1" "$2") || return 1
	if [ "$_got" != "$3" ]; then
		echo "error: $1: $2 is '$_got', expected '$3'" >&2
		echo "--- stdout:" >&2; cat out >&2
		return 1
	fi
}

# json_len_is N: ./out holds N objects.
json_len_is() {
	_got=$(json len out) || return 1
	if [ "$_got" != "$1" ]; then
		echo "error: $_got objects, expected $1" >&2; cat out >&2
		return 1
	fi
}

# hold_lock SECONDS: hold STATE_DIR/lock (flock, as check-drift takes it)
# from a background process for SECONDS, returning once it is held.
# The holder's pid is in $lock_holder; release_lock kills it.
hold_lock() {
	mkdir -p "$STATE_DIR"
	rm -f "$TRASH/.lock-held"
	(
		exec 9>"$STATE_DIR/lock"
		flock 9 || exit 1
		: >"$TRASH/.lock-held"
		exec sleep "$1"
	) >/dev/null 2>&1 &
	lock_holder=$!
	_i=0
	while [ ! -e "$TRASH/.lock-held" ]; do
		_i=$((_i + 1))
		if [ "$_i" -gt 200 ]; then
			echo "error: could not take $STATE_DIR/lock" >&2
			kill "$lock_holder" 2>/dev/null
			return 1
		fi
		sleep 0.05
	done
}

release_lock() {
	kill "$lock_holder" 2>/dev/null
	wait "$lock_holder" 2>/dev/null
	return 0
}

# raw_tree: a tree object in $BARE from "MODE NAME ID" lines on stdin, in
# that order, written without any of git's checks (as a hostile remote
# could: duplicate names, .git, ..).
raw_tree() {
	while read -r mode name id; do
		printf '%s %s\0' "$mode" "$name"
		perl -e 'print pack("H*", $ARGV[0])' "$id"
	done | git -C "$BARE" hash-object -t tree --literally -w --stdin
}
