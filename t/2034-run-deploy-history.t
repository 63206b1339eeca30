#!/bin/bash
# STATE_DIR/history and run-deploy --rollback (SPEC.md "Exact and final":
# history and manual rollback), with the stand-in stack of t/lib-deploy.sh:
# the runs that tried a deploy are recorded as JSON lines, at most 100;
# --rollback goes back to what the last good deploy found, quarantines
# what it left, and the timer stays there until --retry.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

HISTORY=$STATE_DIR/history

# hist N KEY | hist N checkout I KEY | hist count: a field of the Nth line
# of the history (negative N counts from the end), each line checked to be
# a JSON object with the documented keys first.
_hist_py='
import json, sys
lines = open(sys.argv[1]).read().split("\n")
if lines[-1] != "":
    sys.exit("the history does not end with a newline")
runs = []
for n, line in enumerate(lines[:-1], 1):
    o = json.loads(line)
    for k, t in (("start", str), ("end", str), ("result", int), ("result_text", str),
                 ("rollback", bool), ("checkouts", list), ("images", list)):
        if type(o.get(k)) is not t:
            sys.exit("line %d: %r is not a %s" % (n, k, t.__name__))
    for c in o["checkouts"]:
        for k in ("path", "old_commit", "new_commit"):
            if not isinstance(c.get(k), str):
                sys.exit("line %d: a checkout without %r" % (n, k))
    runs.append(o)
a = sys.argv[2:]
if a[0] == "count":
    print(len(runs))
    sys.exit(0)
o = runs[int(a[0])]
if a[1] == "checkout":
    print(o["checkouts"][int(a[2])][a[3]])
elif a[1] == "heads":
    print(" ".join(c[a[2]] for c in o["checkouts"]))
else:
    v = o[a[1]]
    print(str(v).lower() if isinstance(v, bool) else v)
'
hist() { python3 -c "$_hist_py" "$HISTORY" "$@"; }

test_expect_success 'setup' '
	deploy_setup &&
	save_heads first
'

test_expect_success '--rollback with no deploy recorded: exit 64, nothing to go back to, nothing called' '
	fresh_record &&
	rd 64 --rollback &&
	test_grep "nothing to go back to: no successful deploy is recorded" err &&
	record_empty &&
	is "heads" "$(heads)" "$(saved first)"
'

test_expect_success 'each deploy is recorded: start, end, result, old -> new of every checkout, the images' '
	push_all &&
	rd 0 &&
	save_heads second &&
	is "runs" "$(hist count)" 1 &&
	is "result" "$(hist -1 result)" 0 &&
	is "rollback" "$(hist -1 rollback)" false &&
	is "old" "$(hist -1 heads old_commit)" "$(saved first)" &&
	is "new" "$(hist -1 heads new_commit)" "$(saved second)" &&
	is "path" "$(hist -1 checkout 0 path)" "$TRASH/compose" &&
	rd 0 --if-drift &&
	is "a run with nothing due is not a deploy" "$(hist count)" 1 &&
	push_all &&
	rd 0 &&
	save_heads third &&
	is "runs" "$(hist count)" 2 &&
	is "old" "$(hist -1 heads old_commit)" "$(saved second)"
'

test_expect_success 'a failed deploy is recorded, and --rollback does not go back to it' '
	dev_push stack broken >/dev/null &&
	rd 2 &&
	is "runs" "$(hist count)" 3 &&
	is "result" "$(hist -1 result)" 2 &&
	is "heads" "$(heads)" "$(saved third)" &&
	git -C "$TRASH/dev-stack" rm -q broken &&
	dev_publish stack "the fix" >/dev/null &&
	rd 0 &&
	save_heads fourth &&
	is "result" "$(hist -1 result)" 0
'

test_expect_success '--rollback: back to what the last good deploy found, stop/start/health, quarantined' '
	fresh_record &&
	rd 0 --rollback &&
	is "heads" "$(heads)" "$(saved third)" &&
	record_is pre-deploy:pre-deploy:0 stop:stop:0 start:start:0 healthcheck:healthcheck:0 notify:notify:0 &&
	test_grep "quarantined .*run-deploy --retry" err &&
	test -s "$STATE_DIR/quarantine" &&
	is "rollback" "$(hist -1 rollback)" true &&
	is "old" "$(hist -1 heads old_commit)" "$(saved fourth)" &&
	is "new" "$(hist -1 heads new_commit)" "$(saved third)"
'

test_expect_success 'the timer (--if-drift) stays on the rolled-back commits, touching nothing' '
	fresh_record &&
	rd 0 --if-drift &&
	test_grep "nothing deployed: quarantined" err &&
	is "heads" "$(heads)" "$(saved third)" &&
	no_calls stop start &&
	check-drift --config "$CONFIG" >/dev/null 2>&1
'

test_expect_success 'a second --rollback goes back to the same place, not further' '
	rd 0 --rollback &&
	is "heads" "$(heads)" "$(saved third)"
'

test_expect_success '--retry deploys the commits left once more' '
	fresh_record &&
	rd 0 --retry &&
	is "heads" "$(heads)" "$(remote_heads)" &&
	is "heads" "$(heads)" "$(saved fourth)" &&
	test ! -e "$STATE_DIR/quarantine" &&
	rd 0 --if-drift &&
	is "heads" "$(heads)" "$(saved fourth)"
'

test_expect_success '--rollback refuses --if-drift and --retry (64)' '
	rd 64 --rollback --if-drift &&
	test_grep "rollback excludes --if-drift and --retry" err &&
	rd 64 --rollback --retry &&
	test_grep "rollback excludes --if-drift and --retry" err
'

test_expect_success 'the history keeps the last 100 runs' '
	n=0 &&
	while [ $n -lt 120 ]; do
		echo "{\"start\":\"s\",\"end\":\"e\",\"result\":3,\"result_text\":\"t\",\"rollback\":false,\"checkouts\":[],\"images\":[],\"n\":$n}" || return 1
		n=$((n + 1))
	done >"$HISTORY" &&
	push_all &&
	rd 0 &&
	is "runs" "$(hist count)" 100 &&
	python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())[\"n\"])" "$HISTORY" >first-n &&
	is "the oldest kept" "$(cat first-n)" 21 &&
	is "the newest" "$(hist -1 heads new_commit)" "$(heads)"
'

test_expect_success '--rollback with only failed runs recorded: 64' '
	n=0 &&
	while [ $n -lt 3 ]; do
		echo "{\"start\":\"s\",\"end\":\"e\",\"result\":2,\"result_text\":\"t\",\"rollback\":false,\"checkouts\":[],\"images\":[]}" || return 1
		n=$((n + 1))
	done >"$HISTORY" &&
	save_heads before &&
	rd 64 --rollback &&
	test_grep "nothing to go back to" err &&
	is "heads" "$(heads)" "$(saved before)"
'

test_done
