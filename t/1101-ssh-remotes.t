#!/bin/bash
# ssh remotes against a real OpenSSH server on 127.0.0.1 (t/lib-sshd.sh):
# which key check-drift offers (per-repo deploy key, default key,
# ssh-agent), which keys it refuses to use, and which host keys it trusts
# (AUTODEPLOY_KNOWN_HOSTS, AUTODEPLOY_STRICT_HOST_KEY), through the system's
# OpenSSH client; the known_hosts cases ask OpenSSH itself for the
# reference verdict (openssh_says).  See autodeploy-ssh(7).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-sshd.sh"

start_sshd || skip_all "$SSHD_WHY"
unset SSH_AUTH_SOCK SSH_AGENT_PID

# The stack's remote is served over ssh; a push makes the checkout behind,
# so a run that gets through says "deploy" (exit 1).
make_remote stack 2
clone_remote stack compose
git -C "$TRASH/compose" remote set-url origin "$(ssh_url stack)"
new=$(dev_push stack)
for k in repo other; do
	ssh-keygen -q -t ed25519 -N '' -C "$k" -f "$TRASH/$k.key"
done
# the default key as the old scripts' name suggests: RSA, in PEM form
ssh-keygen -q -t rsa -b 2048 -m PEM -N '' -C default -f "$TRASH/default.key"
authorize_key "$TRASH/repo.key"
authorize_key "$TRASH/default.key"
HOST_FP=$(ssh-keygen -lf "$SSHD_DIR/host_ed25519.pub" | cut -d' ' -f2)
ssh-keygen -q -t ed25519 -N '' -f "$TRASH/impostor_host"
IMPOSTOR=$(cut -d' ' -f1,2 "$TRASH/impostor_host.pub")
KH=$TRASH/known_hosts
export new HOST_FP IMPOSTOR KH

# keys_dir NAME [compose_deploy_key=KEY] [default=KEY]: a key folder
# $TRASH/NAME holding copies of the given keys, mode 0600.
keys_dir() {
	_d=$TRASH/$1
	shift
	rm -rf "$_d" && mkdir -p "$_d" || return 1
	for _kv in "$@"; do
		_name=${_kv%%=*}
		[ "$_name" = default ] && _name=id_rsa_git_ssh_read_only
		cp "$TRASH/${_kv#*=}.key" "$_d/$_name" && chmod 600 "$_d/$_name" || return 1
	done
}

# ssh_config KEY_DIR [STRICT]: the config for the ssh checkout.
ssh_config() {
	write_config "$TRASH/compose" &&
	config_add AUTODEPLOY_DEPLOY_KEY_ROOT_DIR "$TRASH/$1" &&
	config_add AUTODEPLOY_KNOWN_HOSTS "$KH" &&
	config_add AUTODEPLOY_STRICT_HOST_KEY "${2:-yes}"
}

# run_drift CODE: check-drift --json must exit CODE; ./out and ./err.
# (grep, not the python JSON reader: the first test checks the document
# once, the others only need the decision, and python's start-up would
# cost more than the ssh connection.)
run_drift() {
	test_must_fail "$1" check-drift --config "$CONFIG" --json >out 2>err ||
		{ cat out err >&2; return 1; }
}

# reaches: check-drift got through to the remote and saw the push.
reaches() {
	run_drift 1 &&
	test_grep '"decision":"deploy"' out &&
	test_grep "\"remote_commit\":\"$new\"" out
}

# refused PATTERN: check-drift exits 69, reporting PATTERN.
refused() {
	run_drift 69 &&
	test_grep '"decision":"error"' out &&
	test_grep "$1" err
}

keys_dir keys compose_deploy_key=repo default=other

test_expect_success 'a host key listed as [127.0.0.1]:PORT is trusted and the fetch works' '
	host_key_line >"$KH" &&
	ssh_config keys &&
	reaches &&
	json_check out &&
	json_is 0 decision deploy
'

test_expect_success 'the fingerprint check-drift prints is the one ssh-keygen prints' '
	: >"$KH" &&
	ssh_config keys &&
	refused "$HOST_FP" &&
	test_grep "ssh-ed25519" err
'

test_expect_success 'an empty known_hosts refuses the host (69) and says how to add it' '
	: >"$KH" &&
	ssh_config keys &&
	refused "host key of .\[127.0.0.1\]:$SSHD_PORT. is not trusted" &&
	test_grep "ssh-keyscan -p $SSHD_PORT 127.0.0.1" err &&
	test_grep "error: .*$HOST_FP" "$LOG_FILE"
'

test_expect_success 'a missing known_hosts file refuses the host too' '
	rm -f "$KH" &&
	ssh_config keys &&
	refused "is not in .$KH."
'

test_expect_success 'a host key that changed is refused, naming the line that holds the old one' '
	{ echo "# our git host"; echo "[127.0.0.1]:$SSHD_PORT $IMPOSTOR"; } >"$KH" &&
	ssh_config keys &&
	refused "host key of .\[127.0.0.1\]:$SSHD_PORT. has changed" &&
	test_grep "line 2" err &&
	test_grep "$HOST_FP" err &&
	test_grep "if the key change is expected, update .$KH." err
'

# openssh_says CODE: the reference, OpenSSH's own client with the same
# known_hosts and strict checking, exits CODE (0 reached, 255 refused).
openssh_says() {
	test_exit "$1" ssh -F /dev/null -o BatchMode=yes -o UserKnownHostsFile="$KH" \
		-o GlobalKnownHostsFile=/dev/null -o StrictHostKeyChecking=yes -o CheckHostIP=no \
		-i "$TRASH/default.key" -p "$SSHD_PORT" root@127.0.0.1 true 2>/dev/null
}

# hashed_entry NAME SALT-BYTES: a |1|salt|hmac entry for NAME, salt of that size.
hashed_entry() {
	python3 - "$1" "$2" "$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")" <<-'PY'
	import base64, hashlib, hmac, os, sys
	name, n, key = sys.argv[1].encode(), int(sys.argv[2]), sys.argv[3]
	salt = os.urandom(n)
	mac = hmac.new(salt, name, hashlib.sha1).digest()
	print("|1|%s|%s %s" % (base64.b64encode(salt).decode(), base64.b64encode(mac).decode(), key))
	PY
}

test_expect_success 'an entry without [ ]:PORT vouches for the port when none names it, as OpenSSH takes it' '
	host_key_line 127.0.0.1 >"$KH" &&
	openssh_says 0 &&
	ssh_config keys &&
	reaches
'

test_expect_success 'but not when an entry for [host]:PORT holds another key (OpenSSH refuses too)' '
	{ host_key_line 127.0.0.1 && echo "[127.0.0.1]:$SSHD_PORT $IMPOSTOR"; } >"$KH" &&
	openssh_says 255 &&
	ssh_config keys &&
	refused "has changed"
'

test_expect_success 'a hashed entry whose salt is not 20 bytes is ignored, as OpenSSH ignores it' '
	for n in 16 32; do
		hashed_entry "[127.0.0.1]:$SSHD_PORT" $n >"$KH" &&
		openssh_says 255 &&
		ssh_config keys &&
		refused "is not trusted" || return 1
	done &&
	hashed_entry "[127.0.0.1]:$SSHD_PORT" 20 >"$KH" &&
	openssh_says 0 &&
	reaches
'

test_expect_success 'a hashed entry (ssh-keygen -H) is trusted' '
	host_key_line >"$KH" &&
	ssh-keygen -q -H -f "$KH" 2>/dev/null &&
	rm -f "$KH.old" &&
	grep -q "^|1|" "$KH" && ! grep -q 127.0.0.1 "$KH" &&
	ssh_config keys &&
	reaches
'

test_expect_success 'a hashed entry for another port is not trusted' '
	host_key_line "[127.0.0.1]:1" >"$KH" &&
	ssh-keygen -q -H -f "$KH" 2>/dev/null &&
	rm -f "$KH.old" &&
	ssh_config keys &&
	refused "is not trusted"
'

test_expect_success 'comma-separated and wildcard host patterns are understood' '
	host_key_line "git.example.org,[127.0.0.*]:$SSHD_PORT" >"$KH" &&
	ssh_config keys &&
	reaches &&
	host_key_line "[127.0.0.*]:$SSHD_PORT,![127.0.0.1]:*" >"$KH" &&
	refused "is not trusted"
'

test_expect_success 'a key marked @revoked is refused even beside a matching entry' '
	{ host_key_line; echo "@revoked * $(cut -d" " -f1,2 "$SSHD_DIR/host_ed25519.pub")"; } >"$KH" &&
	ssh_config keys &&
	refused "is marked @revoked in .$KH. line 2"
'

test_expect_success 'AUTODEPLOY_STRICT_HOST_KEY=no accepts an unknown host, with a warning in the log' '
	: >"$KH" &&
	ssh_config keys no &&
	: >"$LOG_FILE" &&
	reaches &&
	test_grep "warning: AUTODEPLOY_STRICT_HOST_KEY=no: accepting the host key of .\[127.0.0.1\]:$SSHD_PORT. (ssh-ed25519 $HOST_FP)" "$LOG_FILE" &&
	test $(grep -c "STRICT_HOST_KEY=no" "$LOG_FILE") = 1
'

test_expect_success 'AUTODEPLOY_STRICT_HOST_KEY=no warns again on the next run' '
	: >"$KH" &&
	ssh_config keys no &&
	: >"$LOG_FILE" &&
	reaches &&
	test_grep "warning: AUTODEPLOY_STRICT_HOST_KEY=no" "$LOG_FILE"
'

test_expect_success 'AUTODEPLOY_STRICT_HOST_KEY=no never writes into AUTODEPLOY_KNOWN_HOSTS' '
	echo "# ours, read-only to autodeploy" >"$KH" &&
	cp "$KH" kh.before &&
	ssh_config keys no &&
	reaches &&
	test_cmp kh.before "$KH"
'

test_expect_success 'AUTODEPLOY_STRICT_HOST_KEY=no refuses a host key that changed (accept-new)' '
	echo "[127.0.0.1]:$SSHD_PORT $IMPOSTOR" >"$KH" &&
	ssh_config keys no &&
	refused "host key of .\[127.0.0.1\]:$SSHD_PORT. has changed" &&
	test_grep "line 1" err
'

test_expect_success 'AUTODEPLOY_STRICT_HOST_KEY=no still refuses a revoked key' '
	echo "@revoked * $(cut -d" " -f1,2 "$SSHD_DIR/host_ed25519.pub")" >"$KH" &&
	ssh_config keys no &&
	refused "@revoked"
'

test_expect_success 'the per-repo deploy key is chosen over the default key' '
	host_key_line >"$KH" &&
	keys_dir perrepo compose_deploy_key=repo default=other &&
	ssh_config perrepo &&
	reaches &&
	test_grep "Accepted publickey for root .* $(ssh-keygen -lf "$TRASH/repo.key.pub" | cut -d" " -f2)" "$SSHD_DIR/sshd.log"
'

test_expect_success 'a configured folder inside the checkout uses the key named after the work tree' '
	mkdir -p compose/birdhouse &&
	: >"$SSHD_DIR/sshd.log" &&
	ssh_config perrepo &&
	sed -i "s|^AUTODEPLOY_COMPOSE_DIR=.*|AUTODEPLOY_COMPOSE_DIR=$TRASH/compose/birdhouse|" "$CONFIG" &&
	reaches &&
	test_grep "Accepted publickey for root .* $(ssh-keygen -lf "$TRASH/repo.key.pub" | cut -d" " -f2)" "$SSHD_DIR/sshd.log"
'

test_expect_success 'the default key (an RSA key in PEM form) is used when the checkout has no deploy key' '
	host_key_line >"$KH" &&
	keys_dir defonly default=default &&
	ssh_config defonly &&
	reaches
'

test_expect_success 'a refused key fails with 69 and names the key file (no fallback, no loop)' '
	host_key_line >"$KH" &&
	keys_dir wrong compose_deploy_key=other default=default &&
	ssh_config wrong &&
	refused "ssh key .$TRASH/wrong/compose_deploy_key. was refused by .127.0.0.1." &&
	test_grep "$TRASH/wrong/compose_deploy_key" "$LOG_FILE"
'

test_expect_success 'a refused rsa key is named like any other (OpenSSH signs rsa with sha-2: no sha-1 hint)' '
	host_key_line >"$KH" &&
	ssh-keygen -q -t rsa -b 2048 -N "" -f "$TRASH/rsa-openssh.key" &&
	keys_dir rsa compose_deploy_key=rsa-openssh &&
	ssh_config rsa &&
	refused "ssh key .$TRASH/rsa/compose_deploy_key. was refused by .127.0.0.1." &&
	test_grep ! "sha-1" err
'

test_expect_success 'a key readable by others (0644) is refused before it is used' '
	host_key_line >"$KH" &&
	keys_dir open compose_deploy_key=repo default=default &&
	chmod 644 "$TRASH/open/compose_deploy_key" &&
	ssh_config open &&
	refused "permissions 0644 for .$TRASH/open/compose_deploy_key. are too open" &&
	test_grep "chmod 600" err
'

test_expect_success 'no key and no ssh-agent: 69, naming every key file tried' '
	host_key_line >"$KH" &&
	keys_dir none &&
	ssh_config none &&
	refused "no ssh key for .127.0.0.1.: tried .$TRASH/none/compose_deploy_key., .$TRASH/none/id_rsa_git_ssh_read_only. and ssh-agent"
'

test_expect_success 'with no key file, the keys of ssh-agent are used' '
	host_key_line >"$KH" &&
	keys_dir none &&
	ssh_config none &&
	eval "$(ssh-agent -s -a "$TRASH/agent.sock")" >/dev/null &&
	trap "ssh-agent -k >/dev/null 2>&1" EXIT &&
	ssh-add -q "$TRASH/repo.key" 2>/dev/null &&
	reaches
'

test_expect_success 'no secret reaches the log: the key file contents never appear' '
	! grep -F "$(sed -n 2p "$TRASH/repo.key")" "$LOG_FILE"
'

test_done
