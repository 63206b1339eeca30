#!/bin/bash
# install-units: units from env.local, idempotent, cron-era files, --only,
# --uninstall, and units that systemd accepts.
. "$(dirname "$0")/lib.sh"

# An installed layout, as `make install` makes it: the programs side by
# side in PREFIX/bin (install-units takes BINDIR from its own folder), the
# templates in PREFIX/share/autodeploy/{systemd-units,logrotate.d}.  Programs not built
# yet in this tree are stand-ins, so that `systemd-analyze verify` finds
# every ExecStart= executable.
P=$TRASH/prefix
mkdir -p "$P/bin" "$P/share/autodeploy/systemd-units" "$P/share/autodeploy/logrotate.d"
cp "$BUILD_DIR/bin/install-units" "$P/bin/"
cp "$SRC_DIR"/systemd-units/*.in "$P/share/autodeploy/systemd-units/"
cp "$SRC_DIR"/logrotate.d/* "$P/share/autodeploy/logrotate.d/"
for prog in check-drift run-deploy deploy-notebooks rotate-logs; do
	if [ -x "$BUILD_DIR/bin/$prog" ]; then
		cp "$BUILD_DIR/bin/$prog" "$P/bin/"
	else
		printf '#!/bin/sh\nexit 0\n' >"$P/bin/$prog" && chmod +x "$P/bin/$prog"
	fi
done
IU=$P/bin/install-units
U=etc/systemd/system

git init -q --bare remote.git
git clone -q remote.git stack 2>/dev/null
git -C stack commit -q --allow-empty -m one
git -C stack push -q origin main

write_config() {
	cat >env.local <<-EOF
	AUTODEPLOY_COMPOSE_DIR=$TRASH/stack
	AUTODEPLOY_LOG_DIR=$TRASH/log
	AUTODEPLOY_STATE_DIR=$TRASH/state
	AUTODEPLOY_PLATFORM_FREQUENCY="${FREQ:-0 0 13 * 5}"
	AUTODEPLOY_NOTEBOOK_SOURCES=https://example.invalid/notebooks.git
	AUTODEPLOY_NOTEBOOK_DIR=$TRASH/jupyter/tutorial-notebooks
	AUTODEPLOY_EXTRA_JOBS="${JOBS-backup}"
	AUTODEPLOY_JOB_backup_SCHEDULE=@reboot
	AUTODEPLOY_JOB_backup_COMMAND='tar -czf /backup/stack-\$(date +%F).tgz "/srv/a b"'
	AUTODEPLOY_ROTATE_WITH=${ROTATE_WITH:-rotate-logs}
	EOF
}

# Name, inode, mtime and size of every unit file: an atomic rewrite changes
# the inode, any write the mtime.
snapshot() { (cd "$1/$U" && find . -type f -exec stat -c '%n %i %y %s' {} + | sort); }
# The same, with modes, for every file under the root (units, logrotate
# snippet, STATE_DIR/installed) but the log, which says what the run did.
snapshot_all() { (cd "$1" && find . -type f ! -name "*.log" -exec stat -c '%n %i %y %s %a' {} + | sort); }

test_expect_success 'units are written under --root for every configured job' '
	write_config &&
	"$IU" --config env.local --root r1 2>err &&
	(cd r1/$U && ls) >actual &&
	cat >expect <<-EOF &&
	autodeploy-job-backup.service
	autodeploy-job-backup.timer
	autodeploy.path
	autodeploy.service
	autodeploy.timer
	notebookdeploy.service
	notebookdeploy.timer
	rotate-logs.service
	rotate-logs.timer
	EOF
	test_cmp expect actual &&
	test_grep "9 created" err
'

test_expect_success 'cron day-of-month OR day-of-week becomes two OnCalendar= lines' '
	grep "^OnCalendar=" r1/$U/autodeploy.timer >actual &&
	printf "OnCalendar=*-*-13 0:0:00\nOnCalendar=Fri *-*-* 0:0:00\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'timers are persistent with one-second accuracy; @reboot is OnBootSec=' '
	for t in autodeploy notebookdeploy rotate-logs autodeploy-job-backup; do
		test_grep "^Persistent=true$" r1/$U/$t.timer &&
		test_grep "^AccuracySec=1s$" r1/$U/$t.timer || return 1
	done &&
	test_grep "^OnBootSec=1min$" r1/$U/autodeploy-job-backup.timer &&
	test_grep ! "^OnCalendar=" r1/$U/autodeploy-job-backup.timer &&
	test_grep "^OnCalendar=\*-\*-\* \*:0:00$" r1/$U/notebookdeploy.timer
'

test_expect_success 'services are sandboxed oneshots with a start timeout, running BINDIR programs' '
	for s in autodeploy notebookdeploy rotate-logs autodeploy-job-backup; do
		f=r1/$U/$s.service &&
		test_grep "^Type=oneshot$" $f &&
		test_grep "^TimeoutStartSec=." $f &&
		test_grep "^NoNewPrivileges=yes$" $f &&
		test_grep "^PrivateTmp=yes$" $f &&
		test_grep "^ProtectSystem=" $f &&
		test_grep "^Environment=AUTODEPLOY_CONFIG=$TRASH/env.local$" $f || return 1
	done &&
	test_grep ! "^ExecCondition=" r1/$U/autodeploy.service &&
	test_grep "^ExecStart=$P/bin/run-deploy --if-drift$" r1/$U/autodeploy.service &&
	test_grep "^ExecStopPost=$P/bin/run-deploy --requeue$" r1/$U/autodeploy.service &&
	test_grep "^KillMode=mixed$" r1/$U/autodeploy.service &&
	test_grep "^TimeoutStartSec=4500s$" r1/$U/autodeploy.service &&
	test_grep "^TimeoutStopSec=2160s$" r1/$U/autodeploy.service &&
	test_grep "^ReadWritePaths=-$TRASH/stack -$TRASH/log -$TRASH/state" r1/$U/autodeploy.service &&
	test_grep "^ReadWritePaths=-$TRASH/jupyter -$TRASH/log -$TRASH/state$" r1/$U/notebookdeploy.service &&
	test_grep "^PathChanged=$TRASH/state/trigger$" r1/$U/autodeploy.path &&
	test_grep "^Unit=autodeploy.service$" r1/$U/autodeploy.path
'

test_expect_success 'an extra job command is quoted for systemd: no specifier, no variable' '
	test_grep "^ExecStart=/bin/sh -c \"tar -czf /backup/stack-\$\$(date +%%F).tgz \\\\\"/srv/a b\\\\\"\"$" \
		r1/$U/autodeploy-job-backup.service
'

if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'every generated unit passes systemd-analyze verify' '
		{ systemd-analyze verify --man=no "$TRASH"/r1/$U/* 2>verify.err ||
			{ cat verify.err; false; }; }
	'
else
	test_skip 'every generated unit passes systemd-analyze verify' 'systemd-analyze is not installed'
fi

# The goals of the sandboxing, as `systemd-analyze security` scores it
# (0 = locked down, 10 = exposed): each job gets what it tolerates.
security_at_most() { # UNIT MAX
	systemd-analyze security --offline=yes --root="$TRASH/r1" "$1" >sec.out 2>&1 || :
	score=$(sed -n "s/.*Overall exposure level for $1: \([0-9.]*\).*/\1/p" sec.out)
	echo "# $1: exposure $score (at most $2)"
	[ -n "$score" ] && awk -v s="$score" -v m="$2" "BEGIN { exit !(s <= m) }" ||
		{ grep "✗" sec.out | sort -k2 | head -20; false; }
}
if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'sandboxing: systemd-analyze security scores at most 4.5, 3.0, 2.0 (and the extra job 7.5)' '
		security_at_most autodeploy.service 4.5 &&
		security_at_most notebookdeploy.service 3.0 &&
		security_at_most rotate-logs.service 2.0 &&
		security_at_most autodeploy-job-backup.service 7.5
	'
else
	test_skip_or_fail 'sandboxing: systemd-analyze security scores' 'systemd-analyze is not installed'
fi

test_expect_success 'a second run with the same config writes nothing and says so' '
	test -f "r1$TRASH/state/installed" &&
	snapshot_all r1 >before &&
	"$IU" --config env.local --root r1 2>err &&
	snapshot_all r1 >after &&
	test_cmp before after &&
	test_grep "unchanged" err &&
	test_grep ! "created\|updated" err
'

test_expect_success 'a new frequency rewrites only its timer' '
	snapshot r1 >before &&
	FREQ="*/15 * * * *" write_config &&
	"$IU" --config env.local --root r1 2>err &&
	test_grep "0 created, 1 updated, 0 removed, 8 unchanged" err &&
	test_grep "^OnCalendar=\*-\*-\* \*:0,15,30,45:00$" r1/$U/autodeploy.timer &&
	snapshot r1 >after &&
	{ diff before after | grep "^[<>]" | grep -v "autodeploy.timer" >changed || true; } &&
	test_must_fail 1 test -s changed
'

test_expect_success 'a job dropped from the config loses its units' '
	JOBS= write_config &&
	"$IU" --config env.local --root r1 2>err &&
	test_grep "2 removed" err &&
	test_must_fail 1 test -e r1/$U/autodeploy-job-backup.service &&
	test_must_fail 1 test -e r1/$U/autodeploy-job-backup.timer &&
	test -e r1/$U/autodeploy.timer
'

test_expect_success 'every stale unit is removed, however many (300 jobs dropped)' '
	write_config &&
	"$IU" --config env.local --root r9 2>err &&
	for i in $(seq 1 300); do
		head -n 1 r9/$U/autodeploy.service >r9/$U/autodeploy-job-old$i.service || return 1
	done &&
	"$IU" --config env.local --root r9 2>err &&
	test_grep "0 created, 0 updated, 300 removed" err &&
	test_must_fail 1 test -e r9/$U/autodeploy-job-old300.service &&
	test "$(cd r9/$U && ls | grep -c job-old)" = 0
'

test_expect_success 'an invalid frequency is refused naming the key, and nothing is written' '
	FREQ="61 * * * *" write_config &&
	test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
	test_grep "AUTODEPLOY_PLATFORM_FREQUENCY.*minute 61 is out of range" err &&
	test_must_fail 1 test -e r2/$U
'

test_expect_success 'frequency errors name the file and line; backwards days and N/S are refused' '
	FREQ="61 * * * *" write_config &&
	test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
	test_grep "env.local:4: AUTODEPLOY_PLATFORM_FREQUENCY: .61.: minute 61" err &&
	FREQ="0 0 * * fri-mon" write_config &&
	test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
	test_grep "env.local:4: AUTODEPLOY_PLATFORM_FREQUENCY: .fri-mon.: range 5-1 runs backwards" err &&
	FREQ="0 0 * * 1/2" write_config &&
	test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
	test_grep "env.local:4: .*cron refuses N/S" err &&
	test_must_fail 1 test -e r2/$U
'

test_expect_success 'a schedule that never fires is refused (78), naming the line' '
	FREQ="0 0 30 2 *" write_config &&
	test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
	test_grep "env.local:4: AUTODEPLOY_PLATFORM_FREQUENCY: .0 0 30 2 \*. never fires" err &&
	FREQ="*-02-30" write_config &&
	test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
	test_grep "env.local:4: AUTODEPLOY_PLATFORM_FREQUENCY: .\*-02-30. never fires" err &&
	FREQ="2020-01-01 00:00:00" write_config &&
	test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
	test_grep "never fires.*a date in the past" err &&
	test_must_fail 1 test -e r2/$U
'

# Without --root install-units runs systemctl: in a mount namespace of its
# own, /etc/systemd/system is a fresh tmpfs and systemctl a stand-in that
# records its arguments, so the host is not touched.
mkdir -p fakebin
printf '#!/bin/sh\necho "$*" >>"%s/systemctl.log"\n' "$TRASH" >fakebin/systemctl
chmod +x fakebin/systemctl
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
	test_expect_success 'an @reboot timer is enabled for the next boot, not started at install' '
		write_config && rm -f systemctl.log &&
		PATH=$TRASH/fakebin:$PATH unshare -m sh -c "mount -t tmpfs tmpfs /$U && \"\$0\" --config env.local" "$IU" 2>err &&
		printf "%s\n" daemon-reload \
			"enable --now autodeploy.timer autodeploy.path notebookdeploy.timer rotate-logs.timer" \
			"enable autodeploy-job-backup.timer" >expect &&
		test_cmp expect systemctl.log
	'

	test_expect_success 'install-units records what it installed from; check-drift and run-deploy warn once when env.local changed since' '
		test -s state/installed &&
		check-drift --config env.local --no-fetch >/dev/null 2>err &&
		test_grep ! "has changed since install-units" err &&
		echo "# a later edit" >>env.local &&
		check-drift --config env.local --no-fetch >/dev/null 2>err &&
		test $(grep -c "env.local. has changed since install-units last made the units from it" err) = 1 &&
		test_grep "run .install-units --config $TRASH/env.local." err &&
		run-deploy --config env.local --dry-run >/dev/null 2>err &&
		test $(grep -c "has changed since install-units" err) = 1 &&
		PATH=$TRASH/fakebin:$PATH unshare -m sh -c "mount -t tmpfs tmpfs /$U && \"\$0\" --config env.local" "$IU" 2>err &&
		check-drift --config env.local --no-fetch >/dev/null 2>err &&
		test_grep ! "has changed since install-units" err
	'

	test_expect_success '--uninstall removes the record: no warning about units that are gone' '
		PATH=$TRASH/fakebin:$PATH unshare -m sh -c "mount -t tmpfs tmpfs /$U && \"\$0\" --config env.local --uninstall" "$IU" 2>err &&
		test ! -e state/installed &&
		echo "# another edit" >>env.local &&
		check-drift --config env.local --no-fetch >/dev/null 2>err &&
		test_grep ! "has changed since install-units" err
	'
else
	test_skip_or_fail 'an @reboot timer is enabled for the next boot, not started at install' \
		"needs root and unshare -m for a private /$U"
	test_skip_or_fail 'install-units records what it installed from' "needs root and unshare -m"
fi

if command -v systemd-analyze >/dev/null 2>&1; then
	test_expect_success 'a calendar expression systemd rejects is refused naming the key' '
		FREQ="every tuesday" write_config &&
		test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
		test_grep "AUTODEPLOY_PLATFORM_FREQUENCY" err &&
		FREQ="Tue *-*-* 04:00" write_config &&
		"$IU" --config env.local --root r2 &&
		test_grep "^OnCalendar=Tue \*-\*-\* 04:00$" r2/$U/autodeploy.timer
	'
fi

test_expect_success 'birdhouse forms: @every 5m is a monotonic timer, */120 fires at minute 0' '
	FREQ="@every 5m" write_config &&
	"$IU" --config env.local --root r-every 2>err &&
	test_grep "^OnBootSec=300s$" r-every/$U/autodeploy.timer &&
	test_grep "^OnUnitActiveSec=300s$" r-every/$U/autodeploy.timer &&
	test_grep ! "^OnCalendar=" r-every/$U/autodeploy.timer &&
	FREQ="*/120 * * * *" write_config &&
	"$IU" --config env.local --root r-step 2>err &&
	test_grep "^OnCalendar=\*-\*-\* \*:0:00$" r-step/$U/autodeploy.timer &&
	test_grep "warning: AUTODEPLOY_PLATFORM_FREQUENCY: .\*/120 \* \* \* \*. has a step past its field.s end" err
'

test_expect_success '--dry-run prints the units and writes nothing' '
	write_config &&
	"$IU" --config env.local --root r3 --dry-run >out 2>err &&
	test_grep "^### r3/$U/autodeploy.timer (would be created)" out &&
	test_grep "^OnCalendar=Fri" out &&
	test_must_fail 1 test -e r3
'

test_expect_success 'a cron-era file blocks the unit that does its job, naming it' '
	write_config &&
	mkdir -p r4/etc/cron.d r4/etc/cron.hourly &&
	echo "7 5 * * * root /usr/local/sbin/triggerdeploy.sh" >r4/etc/cron.d/PAVICS-deploy &&
	test_must_fail 78 "$IU" --config env.local --root r4 2>err &&
	test_grep "/etc/cron.d/PAVICS-deploy" err &&
	test_grep "\-\-migrate" err &&
	test_must_fail 1 test -e r4/$U
'

test_expect_success '--only leaves out the unit whose cron-era file remains, and the rest' '
	"$IU" --config env.local --root r4 --only rotate-logs,notebookdeploy 2>err &&
	(cd r4/$U && ls) >actual &&
	printf "notebookdeploy.service\nnotebookdeploy.timer\nrotate-logs.service\nrotate-logs.timer\n" >expect &&
	test_cmp expect actual &&
	test -e r4/etc/cron.d/PAVICS-deploy
'

test_expect_success '--migrate moves the cron-era files into the state folder and installs' '
	echo "old" >r4/etc/cron.hourly/PAVICS-deploy-notebooks &&
	mkdir -p r4/usr/local/sbin && echo "#!/bin/sh" >r4/usr/local/sbin/triggerdeploy.sh &&
	"$IU" --config env.local --root r4 --migrate 2>err &&
	B=r4$TRASH/state/cron-backup &&
	test_grep "7 5 \* \* \* root" $B/etc-cron.d-PAVICS-deploy &&
	test -e $B/usr-local-sbin-triggerdeploy.sh &&
	test -e $B/etc-cron.hourly-PAVICS-deploy-notebooks &&
	test_must_fail 1 test -e r4/etc/cron.d/PAVICS-deploy &&
	test_must_fail 1 test -e r4/usr/local/sbin/triggerdeploy.sh &&
	test_grep "moved .*/etc/cron.d/PAVICS-deploy" err &&
	test -e r4/$U/autodeploy.path
'

test_expect_success 'birdhouse-deploy 2.4 names of the cron-era files block and migrate too' '
	write_config &&
	mkdir -p r5/etc/cron.d r5/etc/cron.hourly r5/etc/logrotate.d &&
	echo "*/5 * * * * root triggerdeploy.sh" >r5/etc/cron.d/birdhouse-deploy &&
	test_must_fail 78 "$IU" --config env.local --root r5 2>err &&
	test_grep "/etc/cron.d/birdhouse-deploy" err &&
	echo old >r5/etc/cron.hourly/birdhouse-deploy-notebooks &&
	echo old >r5/etc/logrotate.d/birdhouse-deploy &&
	"$IU" --config env.local --root r5 --migrate 2>err &&
	B=r5$TRASH/state/cron-backup &&
	test -e $B/etc-cron.d-birdhouse-deploy &&
	test -e $B/etc-cron.hourly-birdhouse-deploy-notebooks &&
	test -e $B/etc-logrotate.d-birdhouse-deploy &&
	test_must_fail 1 test -e r5/etc/cron.d/birdhouse-deploy &&
	test -e r5/$U/autodeploy.timer
'

# (t/5008: the scheduler of birdhouse-deploy 2.15 and later, job by job)
test_expect_success 'birdhouse'"'"'s scheduler component of before 2.15 enabled in env.local: refused (78), naming the line' '
	write_config &&
	echo "BIRDHOUSE_EXTRA_CONF_DIRS=\"./optional-components/scheduler-job-x ./components/scheduler\"" >>env.local &&
	test_must_fail 78 "$IU" --config env.local --root r8 2>err &&
	test_grep "env.local:[0-9]*: BIRDHOUSE_EXTRA_CONF_DIRS enables birdhouse.s scheduler component" err &&
	test_must_fail 1 test -e r8/$U &&
	{ "$IU" --config env.local --root r8 --only job-backup 2>err || { cat err; false; }; } &&
	write_config &&
	echo "BIRDHOUSE_EXTRA_CONF_DIRS=./optional-components/scheduler-job-x" >>env.local &&
	{ "$IU" --config env.local --root r8 2>err || { cat err; false; }; }
'

test_expect_success 'with AUTODEPLOY_ROTATE_WITH=logrotate the rotate-logs units go away' '
	ROTATE_WITH=logrotate write_config &&
	"$IU" --config env.local --root r4 2>err &&
	test_must_fail 1 test -e r4/$U/rotate-logs.timer &&
	test -e r4/$U/autodeploy.timer
'

test_expect_success '--uninstall --only removes that subset and nothing else' '
	write_config &&
	"$IU" --config env.local --root r5 &&
	"$IU" --config env.local --root r5 --uninstall --only notebookdeploy 2>err &&
	test_must_fail 1 test -e r5/$U/notebookdeploy.timer &&
	test -e r5/$U/autodeploy.timer &&
	test -e r5/$U/rotate-logs.timer
'

test_expect_success '--uninstall removes exactly what install-units wrote' '
	echo "[Unit]" >r5/$U/other.service &&
	echo "[Unit]" >r5/$U/autodeploy-job-mine.service &&
	"$IU" --config env.local --root r5 --uninstall 2>err &&
	(cd r5/$U && ls) >actual &&
	printf "autodeploy-job-mine.service\nother.service\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'bad command lines exit 64' '
	test_must_fail 64 "$IU" --config env.local --root r6 --only bogus &&
	test_must_fail 64 "$IU" --config env.local --root r6 --only job-nosuchjob &&
	test_must_fail 64 "$IU" --config env.local --hook remote.git --uninstall &&
	test_must_fail 64 "$IU" --config env.local stray &&
	test_must_fail 1 test -e r6
'

test_done
