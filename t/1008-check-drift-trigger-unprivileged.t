#!/bin/bash
# Whoever can push to a repository may write its conditional trigger, so
# the trigger gets no rights: it runs as AUTODEPLOY_TRIGGER_USER (nobody
# by default), with no supplementary group, no descriptor of ours but its
# own script, in /; it cannot read env.local (0600), a deploy key, nor
# connect to the docker socket (root, 0660), and it runs for the compose
# dir's checkout alone unless AUTODEPLOY_TRIGGER_REPOS says otherwise (all:
# birdhouse's behaviour and its preset's).  Switching users needs root:
# without it those tests are skipped (a failure in CI).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

TRIGGER=autodeploy/conditional-trigger
OUT=$TRASH/outbox
KEY=$TRASH/keys/id_ed25519
SOCK=$TRASH/docker.sock

# The socket's listener, started by a test (a subshell: at_exit there
# would be lost), ends with the script.
at_exit "[ ! -s '$TRASH/listener.pid' ] || kill \$(cat '$TRASH/listener.pid')"

# as_root TITLE BODY: a test that needs root to switch users.
as_root() {
	if [ "$(id -u)" = 0 ]; then
		test_expect_success "$@"
	else
		test_skip_or_fail "$1" "switching to another user needs root"
	fi
}

# The spy: records who it runs as, where, with which descriptors, and
# what it could read or reach, then exits CODE.  In perl, so that it can
# list its own descriptors before it opens any (a shell would show its
# redirections), and so that the shebang path is the one taken.
write_spy() {
	mkdir -p "$1/autodeploy" &&
	sed -e "s|@OUT@|$OUT|" -e "s|@CONFIG@|$CONFIG|" -e "s|@KEY@|$KEY|" \
	    -e "s|@SOCK@|$SOCK|" -e "s|@CODE@|$2|" >"$1/$TRIGGER" <<-'EOF' &&
	#!/usr/bin/perl
	use Cwd;
	use Socket;
	my $out = '@OUT@';
	opendir(my $d, '/proc/self/fd') or die "/proc/self/fd: $!";
	my @fds = grep { /^\d+$/ && $_ != fileno($d) } readdir($d);
	my $fds = join('', map { "$_ " . (readlink("/proc/self/fd/$_") // '?') . "\n" } @fds);
	closedir($d);
	sub put {
		open(my $f, '>', "$out/$_[0]") or die "$out/$_[0]: $!";
		print $f $_[1];
		close($f);
	}
	my $files = '';
	for my $file ('@CONFIG@', '@KEY@') {
		$files .= open(my $h, '<', $file) ? "read $file\n" : "denied $file: $!\n";
	}
	socket(my $s, PF_UNIX, SOCK_STREAM, 0) or die "socket: $!";
	my $sock = connect($s, pack_sockaddr_un('@SOCK@')) ? "connected\n" : "denied: $!\n";
	my $self = open(my $w, '>>', $0) ? "wrote\n" : "denied: $!\n";
	open(my $st, '<', '/proc/self/status') or die "/proc/self/status: $!";
	my ($nnp) = grep { /^NoNewPrivs:/ } <$st>;
	put('fds', $fds);
	put('ids', "uid $< euid $> gid $( egid $)\n");
	put('cwd', getcwd() . "\n");
	put('files', $files);
	put('socket', $sock);
	put('self', $self);
	put('nnp', $nnp);
	exit @CODE@;
	EOF
	chmod 755 "$1/$TRIGGER"
}

# config: the checkouts' env.local, 0600 as on a host, holding a secret.
config() {
	write_config "$TRASH/site" "$TRASH/extra" &&
	echo "# the s3cret of the host" >>"$CONFIG" &&
	config_add AUTODEPLOY_DEPLOY_KEY_ROOT_DIR "$TRASH/keys" &&
	chmod 600 "$CONFIG"
}

test_expect_success 'setup: a remote with the spy trigger, one with a trigger that says no, their clones' '
	mkdir -p "$OUT" && chmod 1777 "$OUT" && chmod 711 "$TRASH" &&
	make_remote trig 2 &&
	dev=$(dev_clone trig) &&
	write_spy "$dev" 0 &&
	dev_publish trig "add the spy" >/dev/null &&
	clone_remote trig site &&
	chmod 700 site &&
	make_remote extra 2 &&
	dev=$(dev_clone extra) &&
	mkdir -p "$dev/autodeploy" &&
	printf "#!/bin/sh\necho ran >%s/extra-ran\nexit 1\n" "$OUT" >"$dev/$TRIGGER" &&
	dev_publish extra "a trigger that says no" >/dev/null &&
	clone_remote extra extra &&
	dev_push trig >/dev/null &&
	dev_push extra >/dev/null &&
	config
'

as_root 'setup: a deploy key (0600) and a socket (root, 0660) that root can read and reach' '
	mkdir -p "$TRASH/keys" && chmod 755 "$TRASH/keys" &&
	echo "-----BEGIN OPENSSH PRIVATE KEY-----" >"$KEY" && chmod 600 "$KEY" &&
	{ /usr/bin/python3 -c "
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])
s.listen(8)
time.sleep(3600)" "$SOCK" >/dev/null 2>&1 & } &&
	echo $! >listener.pid &&
	for i in $(seq 50); do test -S "$SOCK" && break; sleep 0.1; done &&
	chown root:root "$SOCK" && chmod 660 "$SOCK" &&
	perl -MSocket -e "socket(my \$s, PF_UNIX, SOCK_STREAM, 0) or die; connect(\$s, pack_sockaddr_un(\$ARGV[0])) or die" "$SOCK" &&
	cat "$CONFIG" "$KEY" >/dev/null
'

as_root 'the trigger runs as nobody, none of our groups, in /, though its checkout is closed to it' '
	nobody=$(id -u nobody) && nogroup=$(id -g nobody) &&
	rm -f outbox/* &&
	test_must_fail 1 setpriv --groups 4343 -- check-drift --config "$CONFIG" --json >out 2>err 7>leak-marker &&
	json_check out &&
	json_is 0 decision deploy &&
	test_grep "autodeploy/conditional-trigger said deploy" out &&
	test "$(cat outbox/ids)" = "uid $nobody euid $nobody gid $nogroup egid $nogroup" &&
	test "$(cat outbox/cwd)" = /
'

as_root 'it cannot read env.local (0600)' '
	test_grep "^denied $CONFIG: Permission denied" outbox/files
'

as_root 'it cannot read a deploy key (0600)' '
	test_grep "^denied $KEY: Permission denied" outbox/files
'

as_root 'it cannot connect to the docker socket (root, 0660)' '
	test "$(cat outbox/socket)" = "denied: Permission denied"
'

as_root 'it cannot rewrite its own script for the next run' '
	test_grep "^denied: " outbox/self
'

as_root 'no setuid program can give it back what it lost (no_new_privs)' '
	test "$(cat outbox/nnp)" = "NoNewPrivs:	1"
'

as_root 'it holds no descriptor of ours: stdin /dev/null, its output, its script' '
	test_grep "^0 /dev/null\$" outbox/fds &&
	test_grep "^1 /memfd:trigger-output" outbox/fds &&
	test_grep ! leak-marker outbox/fds &&
	{ grep -v -e " /dev/null\$" -e " /memfd:trigger-output" -e " /memfd:conditional-trigger" outbox/fds >others || :; } &&
	test_must_be_empty others
'

as_root 'AUTODEPLOY_TRIGGER_USER names the user, by name or uid' '
	config_add AUTODEPLOY_TRIGGER_USER daemon &&
	rm -f outbox/* &&
	drift_json 1 &&
	test_grep "^uid $(id -u daemon) euid $(id -u daemon) gid $(id -g daemon) " outbox/ids &&
	config_add AUTODEPLOY_TRIGGER_USER 4242 &&
	rm -f outbox/* &&
	drift_json 1 &&
	test "$(cat outbox/ids)" = "uid 4242 euid 4242 gid 4242 egid 4242"
'

test_expect_success 'an unknown user is refused (78) naming env.local and its line' '
	config &&
	config_add AUTODEPLOY_TRIGGER_USER no-such-user-here &&
	test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
	line=$(grep -n TRIGGER_USER "$CONFIG" | tail -n 1 | cut -d: -f1) &&
	test_grep "env.local:$line: AUTODEPLOY_TRIGGER_USER: user .no-such-user-here. does not exist" err
'

test_expect_success 'an extra repository'"'"'s trigger is not run by default, and the reason says so' '
	config &&
	rm -f outbox/extra-ran &&
	drift_json 1 &&
	json_is 1 decision deploy &&
	test ! -e outbox/extra-ran &&
	test_grep "autodeploy/conditional-trigger not run (AUTODEPLOY_TRIGGER_REPOS does not list this checkout)" out
'

test_expect_success 'AUTODEPLOY_TRIGGER_REPOS lists the checkouts whose trigger runs' '
	config_add AUTODEPLOY_TRIGGER_REPOS "$TRASH/extra/" &&
	rm -f outbox/extra-ran outbox/ids &&
	drift_json 1 &&
	json_is 1 decision pull-only &&
	test -e outbox/extra-ran &&
	json_is 0 decision deploy &&
	test ! -e outbox/ids
'

test_expect_success 'all (and the birdhouse preset, which means it) runs every checkout'"'"'s trigger' '
	config &&
	config_add AUTODEPLOY_TRIGGER_REPOS all &&
	rm -f outbox/extra-ran &&
	drift_json 1 &&
	json_is 1 decision pull-only &&
	test -e outbox/extra-ran &&
	config &&
	config_add AUTODEPLOY_PRESET birdhouse &&
	rm -f outbox/extra-ran &&
	drift_json 1 &&
	json_is 1 decision pull-only &&
	test -e outbox/extra-ran
'

test_expect_success 'a path that is no checkout, or all among paths, is refused (78) naming its line' '
	config &&
	config_add AUTODEPLOY_TRIGGER_REPOS "$TRASH/elsewhere" &&
	test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "env.local:[0-9]*: AUTODEPLOY_TRIGGER_REPOS: .*elsewhere. is not a checkout" err &&
	config &&
	config_add AUTODEPLOY_TRIGGER_REPOS "all $TRASH/extra" &&
	test_must_fail 78 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "env.local:[0-9]*: AUTODEPLOY_TRIGGER_REPOS: .all. is not alone" err
'

test_done
