# t/lib-deploy.sh — fixtures for the run-deploy tests, sourced after
# t/lib.sh and t/lib-git.sh:
#   . "$(dirname "$0")/lib.sh"
#   . "$T_DIR/lib-git.sh"
#   . "$T_DIR/lib-deploy.sh"
#
#   deploy_setup                  remotes stack/ex1/ex2, checkouts compose,
#                                 extra1, extra2, $CONFIG with stand-ins
#   push_all                      a commit pushed to all three remotes
#   rd 0 [OPTIONS...]             run-deploy --config $CONFIG must exit 0;
#                                 stdout in ./out, stderr in ./err
#   record_is 'stop:stop:0' ...   the stand-in calls so far (role:phase:rc)
#
# The stack is played by one stand-in script, $STANDIN ROLE, used for every
# operator command (stop, start, healthcheck, pre-deploy, notify).  Each call
# appends one line to $RECORD:
#     ROLE PHASE RC JOURNAL HEAD0 HEAD1 HEAD2
# PHASE is $AUTODEPLOY_PHASE, RC the status it returned, JOURNAL 1 when
# STATE_DIR/deploy.journal existed at that moment, HEADi the commit checked
# out in checkout i (compose, extra1, extra2, read with git rev-parse).
# It writes the "stack" state to $STACK_STATE: stop -> stopped, a start that
# succeeds -> running, a start that fails -> failed.  It also saves its
# environment (AUTODEPLOY_* only) to $TRASH/env-PHASE and its cwd to
# $TRASH/cwd-PHASE, and what `git status --porcelain --ignored` says of
# each checkout to $TRASH/status-PHASE.
# A call fails (exit 1) when $TRASH/fail-ROLE exists, or when the compose
# checkout's HEAD holds a file broken-ROLE; the healthcheck also fails when
# HEAD holds a file named "broken" (a push that breaks the health check).

STANDIN=$TRASH/bin/standin
RECORD=$TRASH/record
STACK_STATE=$TRASH/stack-state
JOURNAL=$STATE_DIR/deploy.journal
LAST_DEPLOY=$STATE_DIR/last-deploy.json
CHECKOUTS="$TRASH/compose $TRASH/extra1 $TRASH/extra2"
export STANDIN RECORD STACK_STATE JOURNAL LAST_DEPLOY CHECKOUTS

# The kill switch is only for the tests that ask for it.
unset AUTODEPLOY_TEST_KILL_AT

write_standin() {
	mkdir -p "$TRASH/bin" &&
	cat >"$STANDIN" <<EOF &&
#!/bin/sh
# stand-in for the stack's commands, written by t/lib-deploy.sh
role=\$1
phase=\${AUTODEPLOY_PHASE:-none}
heads=
for c in $CHECKOUTS; do
	h=\$(git -C "\$c" rev-parse -q --verify HEAD 2>/dev/null) || h=none
	heads="\$heads \$h"
done
journal=0
[ -e "$JOURNAL" ] && journal=1
env | grep '^AUTODEPLOY_' | sort >"$TRASH/env-\$phase"
for c in $CHECKOUTS; do
	git -C "\$c" status --porcelain --ignored 2>&1 | sed "s|^|\$c: |"
done >"$TRASH/status-\$phase"
pwd -P >"$TRASH/cwd-\$phase"
rc=0
[ -e "$TRASH/fail-\$role" ] && rc=1
git -C "$TRASH/compose" cat-file -e "HEAD:broken-\$role" 2>/dev/null && rc=1
if [ "\$role" = healthcheck ]; then
	git -C "$TRASH/compose" cat-file -e HEAD:broken 2>/dev/null && rc=1
fi
case \$role in
stop) echo stopped >"$STACK_STATE" ;;
start) if [ \$rc -eq 0 ]; then echo running >"$STACK_STATE"; else echo failed >"$STACK_STATE"; fi ;;
esac
echo "\$role \$phase \$rc \$journal\$heads" >>"$RECORD"
exit \$rc
EOF
	chmod 755 "$STANDIN"
}

# kill_call_sh: the part of a sweep's command wrapper that counts its
# calls in $SW/calls and, at the call numbered in $SW/kill-call, sets
# $mode from $SW/kill-mode ("pre" or "post"); and signal_top WHAT, which
# sends the signal in $SW/signal to the topmost run-deploy above it (its
# command supervisor has that name too) and leaves WHAT in $SW/signalled.
# Printed for a wrapper's here-document (t/lib-sweep.sh's stand-in,
# t/lib-docker.sh's counting wrapper); "read", not "cat": a sweep makes
# thousands of these calls.
kill_call_sh() {
	cat <<-EOF
	n=0 at= mode=
	read -r n <"$SW/calls" 2>/dev/null
	n=\$((n + 1))
	echo \$n >"$SW/calls"
	read -r at <"$SW/kill-call" 2>/dev/null
	[ "\$n" = "\$at" ] && read -r mode <"$SW/kill-mode"
	signal_top() {
		p=\$\$ top=
		while [ "\$p" -gt 1 ]; do
			read -r comm <"/proc/\$p/comm"
			[ "\$comm" = run-deploy ] && top=\$p
			read -r _pid _comm _state p _rest <"/proc/\$p/stat"
		done
		echo "\$1" >"$SW/signalled"
		read -r sig <"$SW/signal"
		kill -\$sig \$top
	}
	EOF
}

# deploy_setup [NOTIFY]: three remotes of 2 commits, their checkouts, the
# stand-in, and $CONFIG with stop/start/healthcheck (and pre-deploy and
# notify unless NOTIFY is "no") pointing at the stand-in.  The stack
# starts "running".
deploy_setup() {
	make_remote stack 2 &&
	make_remote ex1 2 &&
	make_remote ex2 2 &&
	clone_remote stack compose &&
	clone_remote ex1 extra1 &&
	clone_remote ex2 extra2 &&
	write_standin &&
	deploy_config "${1:-yes}" &&
	echo running >"$STACK_STATE"
}

# deploy_config [NOTIFY]: (re)write $CONFIG for the three checkouts, with
# the strategy $DEPLOY_STRATEGY (default restart: stop, move, start; set
# but empty: none, the program's default).
deploy_config() {
	write_config "$TRASH/compose" "$TRASH/extra1 $TRASH/extra2" &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
	config_add AUTODEPLOY_HEALTHCHECK_COMMAND "$STANDIN healthcheck" &&
	# 5 s, not 1: the stand-in reads three checkouts before it answers,
	# which on a loaded machine running scripts in parallel can take over
	# a second, and a passing health check killed at its deadline fails the
	# test.  A failing one is answered at once and retried every second.
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 5 &&
	config_add AUTODEPLOY_HEALTHCHECK_INTERVAL 1 &&
	{ [ -z "${DEPLOY_STRATEGY-restart}" ] || config_add AUTODEPLOY_STRATEGY "${DEPLOY_STRATEGY-restart}"; } &&
	config_add AUTODEPLOY_PREPARE_COMMAND "$STANDIN prepare" &&
	if [ "${1:-yes}" != no ]; then
		config_add AUTODEPLOY_PRE_DEPLOY_COMMAND "$STANDIN pre-deploy" &&
		config_add AUTODEPLOY_NOTIFY_COMMAND "$STANDIN notify"
	fi
}

# heads: the commits checked out now, one line, space separated.
heads() {
	_h=
	for _c in $CHECKOUTS; do
		_h="$_h $(git -C "$_c" rev-parse HEAD)" || return 1
	done
	echo "${_h# }"
}

# remote_heads: the tips of the three remotes' main, like heads.
remote_heads() {
	echo "$(git -C "$TRASH/stack.git" rev-parse main) $(git -C "$TRASH/ex1.git" rev-parse main) $(git -C "$TRASH/ex2.git" rev-parse main)"
}

# push_all: one new commit on each remote's main.
push_all() {
	dev_push stack >/dev/null &&
	dev_push ex1 >/dev/null &&
	dev_push ex2 >/dev/null
}

# save NAME: remember `heads` in $TRASH/NAME (tests run in subshells).
save_heads() { heads >"$TRASH/$1"; }
saved() { cat "$TRASH/$1"; }

# fresh_record: forget the stand-in calls so far.
fresh_record() { : >"$RECORD"; }

# rd CODE [OPTIONS...]: run-deploy with $CONFIG must exit with CODE;
# stdout goes to ./out, stderr to ./err, both shown when it does not.
rd() {
	_want=$1
	shift
	if ! test_must_fail "$_want" run-deploy --config "$CONFIG" "$@" >out 2>err; then
		echo "--- stdout:" >&2; cat out >&2
		echo "--- stderr:" >&2; cat err >&2
		echo "--- stand-in calls:" >&2; cat "$RECORD" >&2 2>/dev/null
		return 1
	fi
}

# record_is ROLE:PHASE:RC...: the stand-in calls recorded, in order.
record_is() {
	printf '%s\n' "$@" | grep -v '^$' >"$TRASH/record.expect"
	touch "$RECORD"
	awk '{ print $1 ":" $2 ":" $3 }' "$RECORD" >"$TRASH/record.actual"
	if ! test_cmp "$TRASH/record.expect" "$TRASH/record.actual"; then
		echo "--- full record:" >&2; cat "$RECORD" >&2
		return 1
	fi
}

# record_empty: no stand-in was called.
record_empty() {
	if [ -s "$RECORD" ]; then
		echo "error: stand-ins were called:" >&2; cat "$RECORD" >&2
		return 1
	fi
}

# no_calls ROLE...: none of these roles was called.
no_calls() {
	touch "$RECORD"
	for _r in "$@"; do
		if awk -v r="$_r" '$1 == r { found = 1 } END { exit !found }' "$RECORD"; then
			echo "error: '$_r' was called:" >&2; cat "$RECORD" >&2
			return 1
		fi
	done
}

# count_calls ROLE [PHASE]: how many calls of ROLE (in PHASE) were recorded.
count_calls() {
	touch "$RECORD"
	awk -v r="$1" -v p="${2:-}" '$1 == r && (p == "" || $2 == p) { n++ } END { print n + 0 }' "$RECORD"
}

# call_heads ROLE PHASE [which]: the heads the last (or "first") call of
# ROLE in PHASE saw.
call_heads() {
	awk -v r="$1" -v p="$2" -v w="${3:-last}" '
		$1 == r && $2 == p { if (!seen || w == "last") { line = $5 " " $6 " " $7 }; seen = 1 }
		END { if (!seen) exit 1; print line }' "$RECORD"
}

# call_field ROLE PHASE COLUMN: column (3 = rc, 4 = journal) of the last
# call of ROLE in PHASE.
call_field() {
	awk -v r="$1" -v p="$2" -v c="$3" '
		$1 == r && $2 == p { v = $c; seen = 1 }
		END { if (!seen) exit 1; print v }' "$RECORD"
}

# is WHAT GOT WANT: equality with a message.
is() {
	if [ "$2" != "$3" ]; then
		echo "error: $1 is '$2', expected '$3'" >&2
		[ -f "$RECORD" ] && { echo "--- stand-in calls:" >&2; cat "$RECORD" >&2; }
		return 1
	fi
}

# stack_is running|stopped|failed
stack_is() { is "the stack" "$(cat "$STACK_STATE" 2>/dev/null)" "$1"; }

no_journal() {
	if [ -e "$JOURNAL" ]; then
		echo "error: $JOURNAL is left behind:" >&2; cat "$JOURNAL" >&2
		return 1
	fi
}

# last_json KEY | last_json checkout INDEX KEY: a field of last-deploy.json
# (checked to have the keys and types of the interface first).
_last_py='
import json, sys

with open(sys.argv[1]) as f:
    doc = json.load(f)
if not isinstance(doc, dict):
    sys.exit("last-deploy.json is not an object")
for k, t in (("start_time", str), ("end_time", str), ("result", int),
             ("result_text", str), ("checkouts", list)):
    if k not in doc:
        sys.exit("last-deploy.json has no %r" % k)
    if type(doc[k]) is not t:
        sys.exit("last-deploy.json: %r is not a %s: %r" % (k, t.__name__, doc[k]))
for i, o in enumerate(doc["checkouts"]):
    if not isinstance(o, dict):
        sys.exit("checkouts[%d] is not an object" % i)
    for k in ("path", "old_commit", "new_commit", "decision"):
        if k not in o:
            sys.exit("checkouts[%d] has no %r" % (i, k))
    for k in ("old_commit", "new_commit"):
        v = o[k]
        if v is not None and not (isinstance(v, str) and len(v) in (40, 64)
                                  and all(c in "0123456789abcdef" for c in v)):
            sys.exit("checkouts[%d].%s is not a full hex id: %r" % (i, k, v))
a = sys.argv[2:]
if a[0] == "checkout":
    v = doc["checkouts"][int(a[1])][a[2]]
elif a[0] == "count":
    v = len(doc["checkouts"])
else:
    v = doc[a[0]]
print("null" if v is None else v)
'
last_json() {
	if [ ! -f "$LAST_DEPLOY" ]; then
		echo "error: no $LAST_DEPLOY" >&2
		return 1
	fi
	python3 -c "$_last_py" "$LAST_DEPLOY" "$@"
}

# Prometheus text format (the exposition format node_exporter's textfile
# collector reads), checked line by line:
#   metrics check FILE            every line is a comment, HELP, TYPE or a
#                                 sample; names and labels well formed; a
#                                 TYPE comes before its samples, at most once
#   metrics get FILE NAME [LABELS] the value of one sample ({k="v",...} as
#                                 written, sorted by key); exit 1 if absent
#   metrics type FILE NAME        its TYPE; metrics help FILE NAME: its HELP
#   metrics described FILE NAME... each has a HELP text and TYPE gauge
#   metrics samples FILE NAME     LABELS<tab>VALUE of each sample of NAME
_prom_py=$(cat <<'PY'
import math, re, sys

NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL = r"[a-zA-Z_][a-zA-Z0-9_]*"
LVAL = r'"(?:[^"\\\n]|\\[\\"n])*"'
SAMPLE = re.compile(r"^(%s)(?:\{((?:%s=%s)(?:,%s=%s)*,?)?\})? +(\S+)(?: +(-?[0-9]+))?$"
                    % (NAME, LABEL, LVAL, LABEL, LVAL))
ONE_LABEL = re.compile(r"(%s)=(%s)" % (LABEL, LVAL))
HELP = re.compile(r"^# +HELP +(%s)(?: (.*))?$" % NAME)
TYPE = re.compile(r"^# +TYPE +(%s) +(counter|gauge|histogram|summary|untyped)$" % NAME)

def value(s):
    if s in ("NaN", "+Inf", "-Inf", "Inf"):
        return float(s.replace("Inf", "inf"))
    if not re.match(r"^[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?$", s):
        raise ValueError(s)
    return float(s)

def base(name, types):
    for suf in ("_bucket", "_sum", "_count"):
        if name.endswith(suf) and types.get(name[:-len(suf)]) in ("histogram", "summary"):
            return name[:-len(suf)]
    return name

def parse(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        sys.exit("%s is not UTF-8" % path)
    if text and not text.endswith("\n"):
        sys.exit("%s: the last line has no newline" % path)
    helps, types, samples, seen, order = {}, {}, {}, set(), []
    for n, line in enumerate(text.split("\n")[:-1], 1):
        where = "%s:%d: %r" % (path, n, line)
        if line.strip() == "":
            continue
        if line.startswith("#"):
            m = HELP.match(line)
            if m:
                if m.group(1) in helps:
                    sys.exit("%s: a second HELP" % where)
                helps[m.group(1)] = m.group(2) or ""
                continue
            if re.match(r"^# +HELP\b", line):
                sys.exit("%s: malformed HELP" % where)
            m = TYPE.match(line)
            if m:
                if m.group(1) in types:
                    sys.exit("%s: a second TYPE" % where)
                if m.group(1) in seen:
                    sys.exit("%s: TYPE after its samples" % where)
                types[m.group(1)] = m.group(2)
                continue
            if re.match(r"^# +TYPE\b", line):
                sys.exit("%s: malformed TYPE" % where)
            continue
        m = SAMPLE.match(line)
        if not m:
            sys.exit("%s: not a sample line (name{labels} value)" % where)
        name, labels, val = m.group(1), m.group(2) or "", m.group(3)
        try:
            v = value(val)
        except ValueError:
            sys.exit("%s: %r is not a number" % (where, val))
        pairs = ONE_LABEL.findall(labels)
        keys = [k for k, _ in pairs]
        if len(set(keys)) != len(keys):
            sys.exit("%s: a label is repeated" % where)
        fam = base(name, types)
        if fam in seen and order and order[-1] != fam:
            sys.exit("%s: samples of %s are not together" % (where, fam))
        seen.add(fam)
        order.append(fam)
        key = (name, ",".join("%s=%s" % p for p in sorted(pairs)))
        if key in samples:
            sys.exit("%s: the same sample twice" % where)
        samples[key] = v
    return helps, types, samples

cmd, path = sys.argv[1], sys.argv[2]
helps, types, samples = parse(path)
if cmd == "check":
    pass
elif cmd == "get":
    key = (sys.argv[3], sys.argv[4] if len(sys.argv) > 4 else "")
    if key not in samples:
        sys.exit("no sample %s{%s} in %s" % (key[0], key[1], path))
    v = samples[key]
    print(int(v) if v == int(v) else v)
elif cmd == "labels":
    for (n, l) in samples:
        if n == sys.argv[3]:
            print(l)
elif cmd == "described":
    for name in sys.argv[3:]:
        if name not in helps or not helps[name].strip():
            sys.exit("%s: no HELP text for %s" % (path, name))
        if types.get(name) != "gauge":
            sys.exit("%s: %s is not TYPE gauge (%s)" % (path, name, types.get(name)))
elif cmd == "samples":
    for (n, l), v in samples.items():
        if n == sys.argv[3]:
            print("%s\t%s" % (l, int(v) if v == int(v) else v))
elif cmd == "type":
    print(types.get(sys.argv[3], "none"))
elif cmd == "help":
    if sys.argv[3] not in helps:
        sys.exit("no HELP for %s" % sys.argv[3])
    print(helps[sys.argv[3]])
else:
    sys.exit("metrics: unknown command " + cmd)
PY
)
metrics() { python3 -c "$_prom_py" "$@"; }

# clean_at DIR COMMIT [IGNORED...]: HEAD is COMMIT and git sees nothing
# changed, untracked or ignored (but the ignored files listed).
clean_at() {
	_dir=$1 _want=$2
	shift 2
	is "HEAD of $_dir" "$(git -C "$_dir" rev-parse HEAD)" "$_want" &&
	git -C "$_dir" status --porcelain --ignored >"$TRASH/status.actual" &&
	{ printf '%s\n' "$@" | grep -v '^$' | sed 's/^/!! /' >"$TRASH/status.expect" || true; } &&
	test_cmp "$TRASH/status.expect" "$TRASH/status.actual"
}
