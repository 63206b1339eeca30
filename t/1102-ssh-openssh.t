#!/bin/bash
# ssh remotes through the system's OpenSSH client (SPEC.md "ssh through
# OpenSSH"), against stock OpenSSH 9.2 servers on 127.0.0.1 (t/lib-sshd.sh):
# RSA deploy keys sign with SHA-2, ssh_config host aliases and ProxyJump
# work as they do for git, and the repositories of one host share one
# connection per run.  See autodeploy-ssh(7).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-sshd.sh"

command -v ssh >/dev/null || skip_all "ssh (openssh-client) is not installed"
start_sshd || skip_all "$SSHD_WHY"
unset SSH_AUTH_SOCK SSH_AGENT_PID
KH=$TRASH/known_hosts
host_key_line >"$KH"

# Ten remotes on the one server, each cloned as a checkout whose origin
# is the ssh URL; a push to each makes every checkout behind.
N=10
for i in $(seq 1 $N); do
	make_remote "r$i" 2 &&
	clone_remote "r$i" "c$i" &&
	git -C "$TRASH/c$i" remote set-url origin "$(ssh_url "r$i")" &&
	dev_push "r$i" >"$TRASH/new.r$i" || exit 1
done
EXTRA=$(for i in $(seq 2 $N); do printf '%s ' "$TRASH/c$i"; done)

# An RSA 4096 deploy key, made as birdhouse-deploy's deploy.sh tells
# operators to make them (ssh-keygen -b 4096 -t rsa), in OpenSSH's format
# and in PEM.
ssh-keygen -q -t rsa -b 4096 -N '' -C deploy -f "$TRASH/rsa.key"
ssh-keygen -q -t rsa -b 4096 -m PEM -N '' -C deploy-pem -f "$TRASH/rsapem.key"
ssh-keygen -q -t ecdsa -N '' -C deploy-ecdsa -f "$TRASH/ecdsa.key"
for k in rsa rsapem ecdsa; do authorize_key "$TRASH/$k.key"; done

# keys KEY: KEY is the only key, as the default id_rsa_git_ssh_read_only.
keys() {
	rm -rf "$TRASH/keys" && mkdir -p "$TRASH/keys" &&
	cp "$TRASH/$1.key" "$TRASH/keys/id_rsa_git_ssh_read_only" &&
	chmod 600 "$TRASH/keys/id_rsa_git_ssh_read_only"
}

# config [EXTRA_REPOS]: c1 (and the extra checkouts) with the key folder
# and known_hosts above.
config() {
	write_config "$TRASH/c1" "${1:-}" &&
	config_add AUTODEPLOY_DEPLOY_KEY_ROOT_DIR "$TRASH/keys" &&
	config_add AUTODEPLOY_KNOWN_HOSTS "$KH"
}

# run_drift CODE: check-drift --json must exit CODE; ./out and ./err.
run_drift() {
	test_must_fail "$1" check-drift --config "$CONFIG" --json >out 2>err ||
		{ cat out err >&2; return 1; }
}

# c1_reached: check-drift got through to r1 and saw the push.
c1_reached() {
	run_drift 1 &&
	test_grep '"decision":"deploy"' out &&
	test_grep "\"remote_commit\":\"$(cat "$TRASH/new.r1")\"" out
}

# the server's accepted logins since the mark
mark_logins() { LOGINS_BEFORE=$(sshd_logins); }
logins_since_mark() { echo $(( $(sshd_logins) - LOGINS_BEFORE )); }

test_expect_success 'the server refuses SHA-1 RSA signatures, as OpenSSH 8.8+ and GitHub do' '
	test_grep "^PubkeyAcceptedAlgorithms -ssh-rsa" "$SSHD_DIR/sshd_config" &&
	test_exit 255 ssh -F /dev/null -o BatchMode=yes -o IdentitiesOnly=yes -i "$TRASH/rsa.key" \
		-o PubkeyAcceptedAlgorithms=ssh-rsa -o UserKnownHostsFile="$KH" \
		-p "$SSHD_PORT" root@127.0.0.1 true 2>/dev/null
'

test_expect_success 'an RSA 4096 deploy key reaches it: check-drift sees the push' '
	keys rsa &&
	config &&
	mark_logins &&
	c1_reached &&
	test_grep "Accepted publickey for root .* RSA $(ssh-keygen -lf "$TRASH/rsa.key.pub" | cut -d" " -f2)" \
		"$SSHD_DIR/sshd.log"
'

test_expect_success 'an RSA deploy key in PEM form too' '
	keys rsapem &&
	config &&
	c1_reached
'

test_expect_success 'an ecdsa deploy key too' '
	keys ecdsa &&
	config &&
	c1_reached
'

test_expect_success 'run-deploy fetches over ssh with the RSA key and moves the checkout' '
	keys rsa &&
	config &&
	config_add AUTODEPLOY_STRATEGY restart &&
	config_add AUTODEPLOY_STOP_COMMAND true &&
	config_add AUTODEPLOY_START_COMMAND true &&
	{ run-deploy --config "$CONFIG" >out 2>err || { cat out err >&2; return 1; }; } &&
	test "$(git -C "$TRASH/c1" rev-parse HEAD)" = "$(cat "$TRASH/new.r1")" &&
	dev_push r1 >"$TRASH/new.r1"
'

test_expect_success 'ten repositories on one host: one handshake, closed at the end of the run' '
	keys rsa &&
	config "$EXTRA" &&
	mark_logins &&
	run_drift 1 &&
	test $(grep -o "\"decision\":\"deploy\"" out | wc -l) = $N &&
	for i in $(seq 1 $N); do
		test_grep "\"remote_commit\":\"$(cat "$TRASH/new.r$i")\"" out || return 1
	done &&
	test "$(logins_since_mark)" = 1 &&
	for i in $(seq 1 50); do
		test "$(grep -c "Disconnected from user root" "$SSHD_DIR/sshd.log")" = "$(sshd_logins)" && break
		sleep 0.1
	done &&
	test "$(grep -c "Disconnected from user root" "$SSHD_DIR/sshd.log")" = "$(sshd_logins)"
'

# An ssh in front of the real one that writes down every command line it
# is given: what a run starts, counted.
mkdir -p "$TRASH/sshlog" &&
cat >"$TRASH/sshlog/ssh" <<EOF || exit 1
#!/bin/sh
printf '%s\\n' "\$*" >>"$TRASH/ssh.calls"
exec $(command -v ssh) "\$@"
EOF
chmod +x "$TRASH/sshlog/ssh"

test_expect_success 'ten repositories on one host: one ssh each, the first one the master' '
	keys rsa &&
	config "$EXTRA" &&
	mark_logins &&
	rm -f "$TRASH/ssh.calls" &&
	{ PATH="$TRASH/sshlog:$PATH" run_drift 1 || return 1; } &&
	test "$(logins_since_mark)" = 1 &&
	test "$(wc -l <"$TRASH/ssh.calls")" = $N &&
	test "$(grep -c "ControlMaster=yes" "$TRASH/ssh.calls")" = 1 &&
	test "$(grep -c "git-upload-pack" "$TRASH/ssh.calls")" = $N &&
	! grep -e " -O " -e " -N " "$TRASH/ssh.calls" &&
	for i in $(seq 1 50); do
		test "$(grep -c "Disconnected from user root" "$SSHD_DIR/sshd.log")" = "$(sshd_logins)" && break
		sleep 0.1
	done &&
	test "$(grep -c "Disconnected from user root" "$SSHD_DIR/sshd.log")" = "$(sshd_logins)"
'

test_expect_success 'a host that refuses the key is tried once per run, every checkout told why' '
	keys rsa &&
	config "$EXTRA" &&
	cp "$SSHD_DIR/authorized_keys" authorized_keys.saved &&
	grep -v " deploy$" authorized_keys.saved >"$SSHD_DIR/authorized_keys" &&
	before=$(grep -c "Connection from 127.0.0.1" "$SSHD_DIR/sshd.log") &&
	run_drift 69 &&
	cp authorized_keys.saved "$SSHD_DIR/authorized_keys" &&
	test $(grep -c "ssh key .$TRASH/keys/id_rsa_git_ssh_read_only. was refused by .127.0.0.1." err) -ge $N &&
	test $(( $(grep -c "Connection from 127.0.0.1" "$SSHD_DIR/sshd.log") - before )) = 1
'

# ssh_config FILE: host aliases for the tests below.
write_ssh_config() {
	cat >"$TRASH/ssh_config" <<-EOF
	Host gitalias
		HostName 127.0.0.1
		Port $SSHD_PORT
		User root
	Host jump
		HostName 127.0.0.1
		Port $JUMP_PORT
		User root
		IdentityFile $TRASH/jump.key
		IdentitiesOnly yes
		UserKnownHostsFile $KH
		GlobalKnownHostsFile /dev/null
		StrictHostKeyChecking yes
		BatchMode yes
	Host behind
		HostName 127.0.0.1
		Port $SSHD_PORT
		User root
		ProxyJump jump
	EOF
}

# A second server, the jump host, with its own key for us.
MAIN_DIR=$SSHD_DIR MAIN_PORT=$SSHD_PORT
SSHD_DIR=$TRASH/jumpd
start_sshd || skip_all "second sshd: $SSHD_WHY"
JUMP_DIR=$SSHD_DIR JUMP_PORT=$SSHD_PORT
ssh-keygen -q -t ed25519 -N '' -C jump -f "$TRASH/jump.key"
authorize_key "$TRASH/jump.key"
host_key_line >>"$KH"
SSHD_DIR=$MAIN_DIR SSHD_PORT=$MAIN_PORT
write_ssh_config

test_expect_success 'a Host alias of AUTODEPLOY_SSH_CONFIG (HostName, Port, User) in an scp-like URL' '
	keys rsa &&
	config &&
	config_add AUTODEPLOY_SSH_CONFIG "$TRASH/ssh_config" &&
	git -C "$TRASH/c1" remote set-url origin "gitalias:$TRASH/r1.git" &&
	mark_logins &&
	c1_reached &&
	test "$(logins_since_mark)" = 1
'

test_expect_success 'without AUTODEPLOY_SSH_CONFIG the alias is unknown: 69, saying what ssh said' '
	config &&
	run_drift 69 &&
	test_grep "cannot reach .gitalias. through ssh: .*gitalias" err
'

test_expect_success 'ProxyJump through a second sshd on loopback' '
	config &&
	config_add AUTODEPLOY_SSH_CONFIG "$TRASH/ssh_config" &&
	git -C "$TRASH/c1" remote set-url origin "ssh://behind$TRASH/r1.git" &&
	jumps=$(grep -c "Accepted publickey for root" "$JUMP_DIR/sshd.log" || :) &&
	mark_logins &&
	c1_reached &&
	test "$(logins_since_mark)" = 1 &&
	test $(( $(grep -c "Accepted publickey for root" "$JUMP_DIR/sshd.log") - jumps )) = 1
'

test_expect_success 'an unknown host key behind an alias is still refused, naming the real host' '
	grep -v "^\[127.0.0.1\]:$SSHD_PORT " "$KH" >kh.new &&
	cp "$KH" kh.full && cp kh.new "$KH" &&
	config &&
	config_add AUTODEPLOY_SSH_CONFIG "$TRASH/ssh_config" &&
	git -C "$TRASH/c1" remote set-url origin "gitalias:$TRASH/r1.git" &&
	run_drift 69 &&
	cp kh.full "$KH" &&
	test_grep "host key of .\[127.0.0.1\]:$SSHD_PORT. is not trusted: ssh-ed25519 SHA256:" err &&
	test_grep "ssh-keyscan -p $SSHD_PORT 127.0.0.1" err
'

test_expect_success 'a repository path with a quote and spaces reaches git-upload-pack intact' '
	git clone -q --bare "$TRASH/r1.git" "$TRASH/it'"'"'s a repo.git" &&
	config &&
	git -C "$TRASH/c1" remote set-url origin "ssh://root@127.0.0.1:$SSHD_PORT$TRASH/it'"'"'s%20a%20repo.git" &&
	c1_reached &&
	git -C "$TRASH/c1" remote set-url origin "$(ssh_url r1)"
'

test_expect_success 'a missing repository: 69 with what the remote git said' '
	config &&
	git -C "$TRASH/c1" remote set-url origin "$(ssh_url nosuch)" &&
	run_drift 69 &&
	test_grep "does not appear to be a git repository" err &&
	git -C "$TRASH/c1" remote set-url origin "$(ssh_url r1)"
'

test_expect_success 'a host beginning with "-" is refused before ssh sees it' '
	config &&
	git -C "$TRASH/c1" remote set-url origin "ssh://-oProxyCommand=touch%20$TRASH/pwned/x" &&
	run_drift 69 &&
	test_grep "starts with .-." err &&
	test ! -e "$TRASH/pwned" &&
	git -C "$TRASH/c1" remote set-url origin "$(ssh_url r1)"
'

test_done
