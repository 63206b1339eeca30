# t/lib-sshd.sh — a private OpenSSH server for the ssh tests, sourced after
# t/lib.sh:
#   . "$T_DIR/lib-sshd.sh"
#   start_sshd || skip_all "..."    sshd on 127.0.0.1:$SSHD_PORT, stopped at exit
#   authorize_key KEYFILE           let the private key KEYFILE (its .pub) log in
#   ssh_url NAME                    ssh://root@127.0.0.1:PORT/$TRASH/NAME.git
#   host_key_line [NAME]            "NAME ssh-ed25519 AAAA..." for known_hosts
#   sshd_logins                     public key logins the server accepted so far
#
# A second server (a ProxyJump host): set SSHD_DIR to another folder and
# call start_sshd again; every server started is stopped at exit.
# Everything (host key, config, authorized_keys, log, pid file) lives in
# $TRASH/sshd; the server only listens on 127.0.0.1 and accepts only the
# keys in that authorized_keys file.  Needs root (sshd changes user for
# each session) and /usr/sbin/sshd; start_sshd fails, saying why in
# $SSHD_WHY, when the server cannot run here.

SSHD_DIR=$TRASH/sshd
SSHD_PORT=
SSHD_WHY=

_SSHD_ALL=

_sshd_stop() {
	for _p in $_SSHD_ALL "$SSHD_DIR/sshd.pid"; do
		if [ -s "$_p" ]; then
			kill "$(cat "$_p")" 2>/dev/null
			rm -f "$_p"
		fi
	done
}

# A port nobody listens on now (the kernel picks it).
_free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start_sshd() {
	_sshd=/usr/sbin/sshd
	if [ ! -x "$_sshd" ]; then SSHD_WHY="$_sshd is not installed (openssh-server)"; return 1; fi
	if [ "$(id -u)" -ne 0 ]; then SSHD_WHY="sshd needs root to start sessions"; return 1; fi
	mkdir -p "$SSHD_DIR" &&
	ssh-keygen -q -t ed25519 -N '' -C test-host -f "$SSHD_DIR/host_ed25519" || {
		SSHD_WHY="ssh-keygen failed"; return 1; }
	: >"$SSHD_DIR/authorized_keys"
	chmod 600 "$SSHD_DIR/authorized_keys"
	# sshd's privilege separation folder
	[ -d /run/sshd ] || mkdir -p -m 0755 /run/sshd
	trap '_sshd_stop; _t_cleanup' EXIT
	# A stock OpenSSH 9.2 server: its default PubkeyAcceptedAlgorithms
	# refuses RSA signatures made with SHA-1 (ssh-rsa), as OpenSSH 8.8+ and
	# GitHub do; "-ssh-rsa" says so for older servers too.  LogLevel
	# VERBOSE: each connection is logged, so tests count handshakes.
	for _try in 1 2 3; do
		SSHD_PORT=$(_free_port) || { SSHD_WHY="no free port"; return 1; }
		cat >"$SSHD_DIR/sshd_config" <<-CONF
		ListenAddress 127.0.0.1
		Port $SSHD_PORT
		HostKey $SSHD_DIR/host_ed25519
		PidFile $SSHD_DIR/sshd.pid
		AuthorizedKeysFile $SSHD_DIR/authorized_keys
		PermitRootLogin prohibit-password
		PubkeyAuthentication yes
		PasswordAuthentication no
		KbdInteractiveAuthentication no
		UsePAM no
		StrictModes no
		PrintMotd no
		PubkeyAcceptedAlgorithms -ssh-rsa
		LogLevel VERBOSE
		Subsystem sftp internal-sftp
		CONF
		rm -f "$SSHD_DIR/sshd.pid"
		"$_sshd" -f "$SSHD_DIR/sshd_config" -E "$SSHD_DIR/sshd.log" || continue
		_SSHD_ALL="$_SSHD_ALL $SSHD_DIR/sshd.pid"
		# daemonized: ready once the pid file is written and the port answers
		_i=0
		while [ "$_i" -lt 100 ]; do
			if [ -s "$SSHD_DIR/sshd.pid" ] &&
			   python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$SSHD_PORT" 2>/dev/null; then
				return 0
			fi
			_i=$((_i + 1))
			sleep 0.05
		done
		_sshd_stop
	done
	SSHD_WHY="sshd did not start: $(tail -n 3 "$SSHD_DIR/sshd.log" 2>/dev/null | tr '\n' ' ')"
	return 1
}

authorize_key() { cat "$1.pub" >>"$SSHD_DIR/authorized_keys"; }

ssh_url() { printf 'ssh://root@127.0.0.1:%s%s/%s.git\n' "$SSHD_PORT" "$TRASH" "$1"; }

host_key_line() {
	printf '%s %s\n' "${1:-[127.0.0.1]:$SSHD_PORT}" "$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")"
}

sshd_logins() { grep -c "Accepted publickey for" "$SSHD_DIR/sshd.log" || :; }
