#!/bin/bash
# rotate-logs keeps the old logrotate snippet's policy (rotate 6, weekly,
# minsize 500k, copytruncate, compress, dateext, missingok, notifempty):
# each case runs rotate-logs and Debian's logrotate on copies of the same
# folder and compares the names left and the decompressed contents.
. "$(dirname "$0")/lib.sh"

LOGROTATE=$(command -v logrotate || echo /usr/sbin/logrotate)
[ -x "$LOGROTATE" ] || skip_all "logrotate is not installed (apt-get install logrotate)"

today=$(date +%Y%m%d)
days_ago() { date -d "$1 days ago" +%Y%m%d; }
ymd_dash() { date -d "$1" +%Y-%-m-%-d; }

# A log of N numbered lines (about 7 bytes each plus the text).
make_log() { seq 1 "$2" | sed 's/^/some log line /' >"$1"; }

# An old rotated file: a real gzip holding a line that names it.
make_rotated() { echo "old $1" | gzip -c >"$1"; }

# new_case NAME: a fresh case folder with ours/ (for rotate-logs) and an
# env.local with the snippet's policy; logs are then created in ours/.
new_case() {
	mkdir -p "$TRASH/$1/ours" "$TRASH/$1/state" && cd "$TRASH/$1" &&
	echo "logrotate state -- version 2" >lr.state && chmod 600 lr.state &&
	cat >env.local <<-EOF
	AUTODEPLOY_LOG_DIR=$TRASH/$1/ours
	AUTODEPLOY_STATE_DIR=$TRASH/$1/state
	AUTODEPLOY_ROTATE_KEEP=6
	AUTODEPLOY_ROTATE_PERIOD=weekly
	AUTODEPLOY_ROTATE_MINSIZE=500k
	AUTODEPLOY_ROTATE_COMPRESS=yes
	EOF
}

# last_rotated LOG DATE: what logrotate's state must say for LOG.  Our
# "last rotation" is the newest rotated file's date, or never: logrotate's
# equivalent is a state line with that date (never = long ago).
last_rotated() { echo "\"$PWD/theirs/$1\" $2-0:0:0" >>lr.state; }

# run_both [--force]: copy ours/ to theirs/, then run both tools.
run_both() {
	rm -rf theirs && cp -a ours theirs &&
	cat >lr.conf <<-EOF
	$PWD/theirs/*.log {
	  rotate 6
	  weekly
	  minsize 500k
	  copytruncate
	  compress
	  dateext
	  missingok
	  notifempty
	}
	EOF
	# logrotate's state list is appended to by last_rotated; -f forces.
	if [ "${1:-}" = --force ]; then lrf=-f; else lrf=; fi
	"$LOGROTATE" $lrf -s lr.state lr.conf &&
	rotate-logs --config env.local "$@" 2>ours.err
}

# same_result: the same names (our own rotate-logs.log aside), and for
# each log the rotated files in order then the live file give the same
# bytes.  (rotate-logs moves whole file-system blocks, so the split point
# between rotated and live file may differ; the concatenation may not.)
same_result() {
	(cd ours && ls | grep -v '^rotate-logs\.log') >names.ours || :
	(cd theirs && ls) >names.theirs &&
	test_cmp names.theirs names.ours &&
	for log in $(cd theirs && ls | grep '\.log$'); do
		for side in ours theirs; do
			(cd $side && for f in $(ls | grep "^$log-" | sort); do
				gzip -t "$f" && zcat "$f"
			done; cat "$log") >"$side.$log.all"
		done
		test_cmp theirs.$log.all ours.$log.all || return 1
	done
}

test_expect_success 'a log over minsize never rotated before: both rotate it, compressed, dateext' '
	new_case first &&
	make_log ours/app.log 60000 &&
	last_rotated app.log 2020-1-1 &&
	run_both &&
	test -f ours/app.log-$today.gz &&
	same_result
'

test_expect_success 'a log under minsize is not rotated by either' '
	new_case small &&
	make_log ours/small.log 20000 &&
	test $(stat -c %s ours/small.log) -lt 512000 &&
	last_rotated small.log 2020-1-1 &&
	run_both &&
	same_result &&
	! ls ours | grep -q "^small.log-"
'

test_expect_success 'an empty log is not rotated by either, even forced' '
	new_case empty &&
	: >ours/empty.log &&
	last_rotated empty.log 2020-1-1 &&
	run_both --force &&
	same_result &&
	! ls ours | grep -q "^empty.log-"
'

test_expect_success 'forced: both rotate a small log' '
	new_case forced &&
	make_log ours/small.log 2000 &&
	last_rotated small.log "$(ymd_dash yesterday)" &&
	run_both --force &&
	test -f ours/small.log-$today.gz &&
	same_result
'

test_expect_success 'weekly, rotated 3 days ago: rotated only if today is a Sunday, by both' '
	new_case recent &&
	make_log ours/app.log 60000 &&
	make_rotated ours/app.log-$(days_ago 3).gz &&
	last_rotated app.log "$(ymd_dash "3 days ago")" &&
	run_both &&
	same_result &&
	if [ $(date +%w) = 0 ]; then test -f ours/app.log-$today.gz; else ! test -f ours/app.log-$today.gz; fi
'

test_expect_success 'period not elapsed (rotated file carries today'"'"'s date): neither rotates' '
	new_case today &&
	make_log ours/app.log 60000 &&
	make_rotated ours/app.log-$today.gz &&
	last_rotated app.log "$(ymd_dash today)" &&
	run_both &&
	same_result
'

test_expect_success 'period elapsed (rotated 8 days ago, weekly): both rotate' '
	new_case elapsed &&
	make_log ours/app.log 60000 &&
	make_rotated ours/app.log-$(days_ago 8).gz &&
	last_rotated app.log "$(ymd_dash "8 days ago")" &&
	run_both &&
	test -f ours/app.log-$today.gz &&
	same_result
'

test_expect_success 'keep count: both keep the newest 6, removing the oldest' '
	new_case keep &&
	make_log ours/app.log 60000 &&
	for d in 50 43 36 29 22 15 8; do make_rotated ours/app.log-$(days_ago $d).gz; done &&
	last_rotated app.log "$(ymd_dash "8 days ago")" &&
	run_both &&
	same_result &&
	test $(ls ours | grep -c "^app.log-") = 6 &&
	! test -f ours/app.log-$(days_ago 50).gz &&
	! test -f ours/app.log-$(days_ago 43).gz &&
	test -f ours/app.log-$(days_ago 36).gz
'

test_expect_success 'new files are picked up with no configuration' '
	new_case new &&
	make_log ours/one.log 60000 &&
	make_log ours/two.log 70000 &&
	last_rotated one.log 2020-1-1 &&
	last_rotated two.log 2020-1-1 &&
	run_both &&
	test -f ours/one.log-$today.gz &&
	test -f ours/two.log-$today.gz &&
	same_result
'

test_expect_success 'no log at all (missingok): both succeed and create nothing' '
	new_case missing &&
	run_both &&
	same_result
'

test_expect_success 'rotated files pass gzip -t and name the original in their header' '
	cd first &&
	gzip -t ours/app.log-$today.gz &&
	gzip -lN ours/app.log-$today.gz >list &&
	test_grep "app.log-$today\$" list
'

test_done
