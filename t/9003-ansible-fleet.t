#!/bin/bash
# The Ansible role and playbooks (share/ansible) against two hosts on this
# machine: two Debian roots made with debootstrap, each booted with its own
# systemd (systemd-nspawn --boot, sharing this machine's network) and its
# own sshd on its own loopback address (127.0.0.2, 127.0.0.3), its own
# remote and checkout.  site.yml installs the .deb, env.local (validated on
# the host), deploy keys and known_hosts, and the units, each host with its
# own settings, and the timers run; rollout.yml deploys a push host by host
# and stops at the first failure.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-nspawn.sh"

[ -z "${AUTODEPLOY_SANITIZED:-}" ] ||
	skip_all 'the package is built without sanitizers: make check runs this test'
if [ "$(id -u)" != 0 ]; then
	test_skip_or_fail 'two hosts brought up by site.yml and rolled out by rollout.yml' \
		'chroots, mounts and sshd need root'
	test_done
	exit
fi
sh "$SRC_DIR/.ci/deps" deb fleet >deps.log 2>&1 || { cat deps.log >&2; }
ANS=$SRC_DIR/share/ansible

# host NAME: the root folder of host NAME.
host() { echo "$TRASH/host-$1"; }

# up NAME ADDRESS: unpack a root, give it an sshd on ADDRESS:$PORT, a
# remote and a checkout, and boot it.
up() {
	_r=$(host "$1")
	nspawn_unpack "$_r" &&
	mkdir -p "$_r/root/.ssh" "$_r/srv" &&
	cp "$TRASH/ctl.key.pub" "$_r/root/.ssh/authorized_keys" &&
	chroot "$_r" ssh-keygen -q -A &&
	printf 'ListenAddress %s\nPort %s\nPermitRootLogin prohibit-password\nUsePAM no\n' "$2" "$PORT" \
		>"$_r/etc/ssh/sshd_config.d/test.conf" &&
	# the stack: records stop/start; its health check fails on demand
	printf '#!/bin/sh\necho "$1 $(cat /srv/stack/version)" >>/var/log/stack.log\n[ "$1" != health ] || [ ! -e /etc/fail-health ]\n' \
		>"$_r/usr/local/bin/stack" &&
	chmod 755 "$_r/usr/local/bin/stack" &&
	git init -q --bare "$_r/srv/stack.git" &&
	git clone -q "$_r/srv/stack.git" "$TRASH/dev-$1" 2>/dev/null &&
	echo 1 >"$TRASH/dev-$1/version" && git -C "$TRASH/dev-$1" add version &&
	git -C "$TRASH/dev-$1" commit -q -m one && git -C "$TRASH/dev-$1" push -q origin HEAD:main &&
	git clone -q "$_r/srv/stack.git" "$_r/srv/stack" &&
	git -C "$_r/srv/stack" remote set-url origin /srv/stack.git || return 1
	# the machine name is this run's own: tests run in parallel
	nspawn_boot "$_r" "adk-fleet-$1-$$"
	_i=0
	until python3 -c 'import socket, sys; socket.create_connection((sys.argv[1], int(sys.argv[2])), 1).close()' \
		"$2" "$PORT" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -lt 300 ] || { echo "host $1 did not boot:" >&2; tail -n 20 "$TRASH/boot-adk-fleet-$1-$$.log" >&2; return 1; }
		sleep 0.2
	done
}

# Tests run in subshells: the hosts that up() boots are stopped when the
# script ends, whatever happened.
nspawn_stop_at_exit "adk-fleet-a-$$"
nspawn_stop_at_exit "adk-fleet-b-$$"

# on NAME COMMAND...: run COMMAND on host NAME over its ssh.
on() {
	_h=$1
	shift
	ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$TRASH/known_hosts" -i "$TRASH/ctl.key" \
		-p "$(cat "$TRASH/port")" "root@$(cat "$TRASH/addr-$_h")" "$@"
}

# push NAME VERSION: a new commit on host NAME's remote.
push() {
	echo "$2" >"$TRASH/dev-$1/version" &&
	git -C "$TRASH/dev-$1" commit -q -a -m "version $2" && git -C "$TRASH/dev-$1" push -q origin HEAD:main
}

at() { cat "$(host "$1")/srv/stack/version"; }

playbook() {
	ANSIBLE_CONFIG=$TRASH/ansible.cfg ansible-playbook -i "$TRASH/hosts.yml" "$@"
}

test_expect_success 'setup: the package, two Debian roots with sshd on 127.0.0.2 and 127.0.0.3' '
	mkdir src &&
	tar -C "$SRC_DIR" --exclude=./build --exclude="./build-*" --exclude=./debian/autodeploy \
		--exclude=./debian/.debhelper -cf - . | tar -C src -xf - &&
	{ env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C src deb >deb.log 2>&1 ||
		{ tail -n 30 deb.log; false; }; } &&
	DEB=$(ls "$TRASH"/src/build/deb/autodeploy_*_$(dpkg --print-architecture).deb) &&
	echo "$DEB" >deb.path &&
	nspawn_base &&
	ssh-keygen -q -t ed25519 -N "" -f "$TRASH/ctl.key" &&
	PORT=$(python3 -c "import socket; s = socket.socket(); s.bind((\"127.0.0.2\", 0)); print(s.getsockname()[1])") &&
	echo "$PORT" >port && echo 127.0.0.2 >addr-a && echo 127.0.0.3 >addr-b &&
	up a 127.0.0.2 && up b 127.0.0.3 &&
	ssh-keyscan -p "$PORT" 127.0.0.2 127.0.0.3 >known_hosts 2>/dev/null &&
	test $(wc -l <known_hosts) -ge 2
'
PORT=$(cat port 2>/dev/null)
DEB=$(cat deb.path 2>/dev/null)

cat >ansible.cfg <<EOF
[defaults]
roles_path = $ANS/roles
host_key_checking = True
interpreter_python = /usr/bin/python3
stdout_callback = default
[ssh_connection]
ssh_args = -o UserKnownHostsFile=$TRASH/known_hosts -o StrictHostKeyChecking=yes -o ControlMaster=no
# the hosts here have no /dev/pts: no terminal is needed
usetty = False
EOF
# hosts.yml [STRATEGY-OF-A]: the test inventory; host a may get a bad setting.
inventory() {
	cat >hosts.yml <<-EOF
	autodeploy:
	  vars:
	    ansible_user: root
	    ansible_port: $PORT
	    ansible_ssh_private_key_file: $TRASH/ctl.key
	    autodeploy_deb: $DEB
	    autodeploy_deploy_keys:
	      stack_deploy_key: $TRASH/ctl.key
	    autodeploy_known_hosts:
	      - "[git.example.org]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl"
	  hosts:
	    a:
	      ansible_host: 127.0.0.2
	      autodeploy_env:
	        AUTODEPLOY_COMPOSE_DIR: /srv/stack
	        AUTODEPLOY_STATE_DIR: /var/lib/autodeploy
	        AUTODEPLOY_LOG_DIR: /var/log/autodeploy
	        AUTODEPLOY_STRATEGY: ${1:-restart}
	        AUTODEPLOY_STOP_COMMAND: stack stop
	        AUTODEPLOY_START_COMMAND: stack start
	        AUTODEPLOY_HEALTHCHECK_COMMAND: stack health
	        AUTODEPLOY_HEALTHCHECK_TIMEOUT: 1
	        AUTODEPLOY_PLATFORM_FREQUENCY: "0 0 1 1 *"
	    b:
	      ansible_host: 127.0.0.3
	      autodeploy_env:
	        AUTODEPLOY_COMPOSE_DIR: /srv/stack
	        AUTODEPLOY_STATE_DIR: /var/lib/autodeploy
	        AUTODEPLOY_LOG_DIR: /var/log/autodeploy
	        AUTODEPLOY_STRATEGY: restart
	        AUTODEPLOY_STOP_COMMAND: stack stop
	        AUTODEPLOY_START_COMMAND: stack start
	        AUTODEPLOY_HEALTHCHECK_COMMAND: stack health
	        AUTODEPLOY_HEALTHCHECK_TIMEOUT: 1
	        AUTODEPLOY_PLATFORM_FREQUENCY: "30 4 29 2 *"
	EOF
}
inventory

test_expect_success 'ansible-lint finds nothing in the role and the playbooks' '
	{ (cd "$ANS" && ansible-lint site.yml rollout.yml roles/autodeploy) >lint.out 2>&1 ||
		{ cat lint.out; false; }; }
'

test_expect_success 'the shipped staging/production inventory parses' '
	ansible-inventory -i "$ANS/inventory/hosts.yml" --list >inv.json &&
	python3 -c "import json, sys; d = json.load(open(\"inv.json\")); hv = d[\"_meta\"][\"hostvars\"]; \
assert hv[\"staging.example.org\"][\"autodeploy_env\"][\"AUTODEPLOY_TRACK\"] == \"branch\"; \
assert hv[\"pavics1.example.org\"][\"autodeploy_env\"][\"AUTODEPLOY_TRACK\"].startswith(\"tag:\")"
'

test_expect_success 'site.yml installs the package, env.local, keys and units on both hosts, each its own settings; the timers run' '
	{ playbook "$ANS/site.yml" >site.out 2>&1 || { cat site.out; false; }; } &&
	for h in a b; do
		r=$(host $h) &&
		test -x "$r/usr/bin/run-deploy" &&
		test "$(stat -c %a "$r/etc/autodeploy/env.local")" = 600 &&
		test "$(stat -c %a "$r/root/.ssh/stack_deploy_key")" = 600 &&
		grep -q "^\[git.example.org\]:2222 ssh-ed25519" "$r/root/.ssh/known_hosts" &&
		test -f "$r/etc/systemd/system/autodeploy.timer" &&
		test "$(on $h systemctl is-active autodeploy.timer autodeploy.path rotate-logs.timer)" = \
			"$(printf "active\nactive\nactive")" || return 1
	done &&
	# each host its own schedule (dates that do not come during a test)
	on a systemctl show -p TimersCalendar autodeploy.timer | grep -q "OnCalendar=\*-01-01 00:00:00" &&
	on b systemctl show -p TimersCalendar autodeploy.timer | grep -q "OnCalendar=\*-02-29 04:30:00"
'

test_expect_success 'a second run changes nothing' '
	{ playbook "$ANS/site.yml" >site2.out 2>&1 || { cat site2.out; false; }; } &&
	grep -Eq "^a +: ok=[1-9][0-9]* +changed=0 +unreachable=0 +failed=0 " site2.out &&
	grep -Eq "^b +: ok=[1-9][0-9]* +changed=0 +unreachable=0 +failed=0 " site2.out
'

test_expect_success 'a bad setting is refused on the host before it replaces env.local' '
	cp "$(host a)/etc/autodeploy/env.local" before &&
	inventory bogus &&
	test_must_fail 2 playbook "$ANS/site.yml" --limit a >bad.out 2>&1 &&
	grep -q "failed to validate" bad.out &&
	cmp before "$(host a)/etc/autodeploy/env.local" &&
	inventory
'

test_expect_success 'rollout.yml deploys a push to each host, one host first' '
	push a 2 && push b 2 &&
	{ playbook "$ANS/rollout.yml" >roll.out 2>&1 || { cat roll.out; false; }; } &&
	test "$(at a) $(at b)" = "2 2" &&
	# one host in the first batch, then the other
	test $(grep -c "^PLAY \[Roll out, one host first\]" roll.out) = 2 &&
	grep -q "\"result\": 0" roll.out
'

test_expect_success 'a failing first host stops the rollout: it is rolled back, the other is not touched' '
	push a 3 && push b 3 &&
	touch "$(host a)/etc/fail-health" &&
	cp "$(host b)/var/log/stack.log" b-before &&
	test_must_fail 2 playbook "$ANS/rollout.yml" >fail.out 2>&1 &&
	test "$(at a) $(at b)" = "2 2" &&
	grep -q "^health 3$" "$(host a)/var/log/stack.log" &&
	tail -n 1 "$(host a)/var/log/stack.log" | grep -q "^health 2$" &&
	! grep -Eq "^b +: ok=[1-9]" fail.out &&
	cmp b-before "$(host b)/var/log/stack.log" &&
	rm "$(host a)/etc/fail-health"
'

test_done
