#!/bin/bash
# install-units on a birdhouse-deploy host that keeps its scheduler
# component: since 2.15 the scheduler runs only the scheduler-job-*
# components enabled with it, so only scheduler-job-autodeploy,
# -notebookdeploy and -logrotate block the unit that does the same job
# (--only respected); before 2.15 it always ran all three, and each unit
# is refused with what to do.  The generation is read from the compose
# dir's checkout, as a real host lays it out.
. "$(dirname "$0")/lib.sh"

# install-units as `make install` lays it out (t/5004): BINDIR is its own
# folder, the templates beside it; the other programs are stand-ins.
P=$TRASH/prefix
mkdir -p "$P/bin" "$P/share/autodeploy/systemd-units" "$P/share/autodeploy/logrotate.d"
cp "$BUILD_DIR/bin/install-units" "$P/bin/"
cp "$SRC_DIR"/systemd-units/*.in "$P/share/autodeploy/systemd-units/"
cp "$SRC_DIR"/logrotate.d/* "$P/share/autodeploy/logrotate.d/"
for prog in check-drift run-deploy deploy-notebooks rotate-logs; do
	printf '#!/bin/sh\nexit 0\n' >"$P/bin/$prog" && chmod +x "$P/bin/$prog"
done
IU=$P/bin/install-units
U=etc/systemd/system

# host GEN DIR: a birdhouse-deploy checkout at DIR with the compose dir
# DIR/birdhouse of generation GEN: "2.15" has each job as an optional
# component, "2.14" the jobs built into components/scheduler.
host() {
	mkdir -p "$2/birdhouse/components/scheduler" &&
	echo "services: {}" >"$2/birdhouse/docker-compose.yml" &&
	echo "#!/bin/sh" >"$2/birdhouse/birdhouse-compose.sh" &&
	if [ "$1" = 2.15 ]; then
		for j in autodeploy notebookdeploy logrotate logrotate-nginx backup; do
			mkdir -p "$2/birdhouse/optional-components/scheduler-job-$j" &&
			echo "- name: $j" >"$2/birdhouse/optional-components/scheduler-job-$j/config.yml.template" ||
			return 1
		done
	else
		printf -- "- name: logrotate\n- name: notebookdeploy\n- name: autodeploy\n" \
			>"$2/birdhouse/components/scheduler/config.yml.template"
	fi &&
	git -C "$2" init -q &&
	git -C "$2" add -A &&
	git -C "$2" commit -q -m "birdhouse-deploy $1"
}

# config HOST CONF_DIRS...: env.local of that host, the components listed
# as a 2.x env.local lists them (one per line, relative to the compose dir).
config() {
	_h=$1
	shift
	{
		echo "AUTODEPLOY_PRESET=birdhouse"
		echo "BIRDHOUSE_AUTODEPLOY_COMPOSE_DIR=$TRASH/$_h/birdhouse"
		echo "BIRDHOUSE_LOG_DIR=$TRASH/log"
		echo "AUTODEPLOY_STATE_DIR=$TRASH/state"
		echo "BIRDHOUSE_AUTODEPLOY_NOTEBOOK_SOURCES=https://example.invalid/notebooks.git"
		echo "AUTODEPLOY_NOTEBOOK_DIR=$TRASH/jupyter/tutorial-notebooks"
		echo "export BIRDHOUSE_EXTRA_CONF_DIRS=\""
		for d in "$@"; do
			echo "    $d" || return 1
		done
		echo "\""
	} >env.local
}

# units ROOT: the unit files written under ROOT, one line.
units() { (cd "$1/$U" 2>/dev/null && ls | tr "\n" " "); }
is() {
	[ "$2" = "$3" ] || { echo "error: $1 is '$2', expected '$3'" >&2; return 1; }
}
ALL="autodeploy.path autodeploy.service autodeploy.timer notebookdeploy.service notebookdeploy.timer rotate-logs.service rotate-logs.timer "

test_expect_success 'setup: a 2.15+ host and a 2.14 host' '
	host 2.15 new &&
	host 2.14 old
'

test_expect_success '2.15+: the scheduler kept for backups and its nginx log rotation installs every unit' '
	config new ./components/scheduler ./optional-components/scheduler-job-backup \
		./optional-components/scheduler-job-logrotate-nginx ./components/jupyterhub &&
	"$IU" --config env.local --root r1 2>err &&
	is "units" "$(units r1)" "$ALL"
'

test_expect_success '2.15+: scheduler-job-autodeploy blocks autodeploy alone (78, naming line and component); --only the others installs' '
	config new ./components/scheduler ./optional-components/scheduler-job-autodeploy \
		./optional-components/scheduler-job-backup &&
	test_must_fail 78 "$IU" --config env.local --root r2 2>err &&
	test_grep "refusing to install autodeploy: .*env.local:7: BIRDHOUSE_EXTRA_CONF_DIRS enables birdhouse.s scheduler-job-autodeploy" err &&
	test_grep "remove optional-components/scheduler-job-autodeploy from BIRDHOUSE_EXTRA_CONF_DIRS" err &&
	test_grep "leave autodeploy out with --only" err &&
	is "units after the refusal" "$(units r2)" "" &&
	"$IU" --config env.local --root r2 --only notebookdeploy,rotate-logs 2>err &&
	is "units" "$(units r2)" "notebookdeploy.service notebookdeploy.timer rotate-logs.service rotate-logs.timer "
'

test_expect_success '2.15+: scheduler-job-notebookdeploy blocks notebookdeploy alone; --only autodeploy installs' '
	config new ./components/scheduler ./optional-components/scheduler-job-notebookdeploy &&
	test_must_fail 78 "$IU" --config env.local --root r3 2>err &&
	test_grep "refusing to install notebookdeploy: .*scheduler-job-notebookdeploy" err &&
	"$IU" --config env.local --root r3 --only autodeploy 2>err &&
	is "units" "$(units r3)" "autodeploy.path autodeploy.service autodeploy.timer "
'

test_expect_success '2.15+: scheduler-job-logrotate blocks rotate-logs (and the logrotate snippet) alone' '
	config new ./components/scheduler ./optional-components/scheduler-job-logrotate &&
	test_must_fail 78 "$IU" --config env.local --root r4 2>err &&
	test_grep "refusing to install rotate-logs: .*scheduler-job-logrotate" err &&
	echo AUTODEPLOY_ROTATE_WITH=logrotate >>env.local &&
	test_must_fail 78 "$IU" --config env.local --root r4 --only rotate-logs 2>err &&
	test_grep "refusing to install rotate-logs" err &&
	"$IU" --config env.local --root r4 --only autodeploy,notebookdeploy 2>err &&
	is "units" "$(units r4)" "autodeploy.path autodeploy.service autodeploy.timer notebookdeploy.service notebookdeploy.timer "
'

test_expect_success '2.15+: a job component without the scheduler runs nothing, and blocks nothing' '
	config new ./optional-components/scheduler-job-autodeploy ./optional-components/scheduler-job-logrotate &&
	"$IU" --config env.local --root r5 2>err &&
	is "units" "$(units r5)" "$ALL"
'

test_expect_success '2.15+: the old list names, absolute paths, trailing slashes and appended lists are read too' '
	config new &&
	cat >>env.local <<-EOF &&
	EXTRA_CONF_DIRS="$TRASH/new/birdhouse/components/scheduler/"
	BIRDHOUSE_EXTRA_CONF_DIRS="\$BIRDHOUSE_EXTRA_CONF_DIRS
	  $TRASH/new/birdhouse/optional-components/scheduler-job-notebookdeploy/"
	EOF
	test_must_fail 78 "$IU" --config env.local --root r6 --only notebookdeploy 2>err &&
	test_grep "env.local:10: BIRDHOUSE_EXTRA_CONF_DIRS enables birdhouse.s scheduler-job-notebookdeploy" err &&
	"$IU" --config env.local --root r6 --only autodeploy,rotate-logs 2>err
'

test_expect_success 'before 2.15: the scheduler blocks autodeploy, notebookdeploy and rotate-logs, saying to upgrade or remove it' '
	config old ./components/scheduler ./optional-components/scheduler-job-backup &&
	test_must_fail 78 "$IU" --config env.local --root r7 2>err &&
	test_grep "refusing to install autodeploy: .*env.local:7: BIRDHOUSE_EXTRA_CONF_DIRS enables birdhouse.s scheduler component, which before birdhouse-deploy 2.15 always runs" err &&
	test_grep "remove components/scheduler from BIRDHOUSE_EXTRA_CONF_DIRS, or upgrade birdhouse-deploy to 2.15" err &&
	test_must_fail 78 "$IU" --config env.local --root r7 --only notebookdeploy 2>err &&
	test_grep "refusing to install notebookdeploy" err &&
	test_must_fail 78 "$IU" --config env.local --root r7 --only rotate-logs 2>err &&
	test_grep "refusing to install rotate-logs" err &&
	is "units after the refusals" "$(units r7)" ""
'

test_expect_success 'before 2.15, the scheduler removed from the list: every unit installs' '
	config old ./components/jupyterhub &&
	"$IU" --config env.local --root r8 2>err &&
	is "units" "$(units r8)" "$ALL"
'

test_done
