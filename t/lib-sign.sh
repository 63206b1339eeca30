# t/lib-sign.sh — keys and signed commits for the verify tests, sourced
# after t/lib.sh and t/lib-git.sh.  Everything is made offline, in $TRASH:
#
#   sign_keys                     SSH keys alice (allowed), eve (unknown),
#                                 old (allowed, valid-before 2020-01-01) in
#                                 $ALLOWED; with gpg, OpenPGP keys good and
#                                 revoked (in $KEYRING, revoked there) and
#                                 stranger (not in it); gpg signs nothing
#                                 with a revoked key, so "revoked" signs
#                                 from a copy of the keys made before
#   sign_as alice DIR [ARGS...]   git -C DIR with the signing config of a key
#                                 (alice, eve, old: ssh; good, revoked,
#                                 stranger: openpgp), e.g. commit -S -m x
#   sign_ns NS KEY DIR REV MSG    a commit of REV's tree on REV, signed with
#                                 `ssh-keygen -Y sign -n NS`; prints its id
#   tamper DIR REV                REV's object with its message changed and
#                                 its signature kept; prints the new id
#   git_verdict DIR commit|tag REV   "good" or "bad", as git verify-commit /
#                                 verify-tag say with the same keys
#   git_range_verdict DIR BASE REV   "good" when git verify-commit accepts
#                                 every commit of BASE..REV, else "bad"
#
# The git commands here read $ALLOWED as gpg.ssh.allowedSignersFile and
# $GNUPGHOME_VERIFY, a GNUPGHOME that holds $KEYRING alone, for OpenPGP:
# the keys autodeploy is given, and nothing else.

KEYS=$TRASH/keys
ALLOWED=$KEYS/allowed_signers
KEYRING=$KEYS/keyring.gpg
GNUPGHOME_SIGN=$TRASH/gnupg-sign
GNUPGHOME_VERIFY=$TRASH/gnupg-verify
GNUPGHOME_UNREVOKED=$TRASH/gnupg-unrevoked
export KEYS ALLOWED KEYRING GNUPGHOME_SIGN GNUPGHOME_VERIFY GNUPGHOME_UNREVOKED

have_gpg() { command -v gpg >/dev/null && command -v gpgv >/dev/null; }

_ssh_key() {
	ssh-keygen -q -t ed25519 -N '' -C "$1" -f "$KEYS/$1"
}

# _gpg_key NAME: an ed25519 signing key "NAME <NAME@example.invalid>".
_gpg_key() {
	GNUPGHOME=$GNUPGHOME_SIGN gpg --batch -q --passphrase '' \
		--quick-gen-key "$1 <$1@example.invalid>" ed25519 sign never 2>/dev/null
}

# _gpg_revoke NAME: revoke NAME's key with the certificate gpg made with it
# (its first line is defused with a ':' that must go).
_gpg_revoke() {
	_fpr=$(GNUPGHOME=$GNUPGHOME_SIGN gpg --batch --with-colons --list-keys "$1@example.invalid" |
	       awk -F: '$1 == "fpr" { print $10; exit }') &&
	sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME_SIGN/openpgp-revocs.d/$_fpr.rev" >"$KEYS/$1.rev" &&
	GNUPGHOME=$GNUPGHOME_SIGN gpg --batch -q --import "$KEYS/$1.rev" 2>/dev/null
}

sign_keys() {
	mkdir -p "$KEYS" &&
	_ssh_key alice && _ssh_key eve && _ssh_key old &&
	{
		echo "alice@example.invalid namespaces=\"git\" $(cat "$KEYS/alice.pub")"
		echo "old@example.invalid namespaces=\"git\",valid-before=\"20200101\" $(cat "$KEYS/old.pub")"
	} >"$ALLOWED" &&
	if have_gpg; then
		mkdir -p "$GNUPGHOME_SIGN" "$GNUPGHOME_VERIFY" &&
		chmod 700 "$GNUPGHOME_SIGN" "$GNUPGHOME_VERIFY" &&
		at_exit "GNUPGHOME=$GNUPGHOME_SIGN gpgconf --kill all; GNUPGHOME=$GNUPGHOME_VERIFY gpgconf --kill all" &&
		_gpg_key good && _gpg_key revoked && _gpg_key stranger &&
		GNUPGHOME=$GNUPGHOME_SIGN gpgconf --kill gpg-agent &&
		cp -r "$GNUPGHOME_SIGN" "$GNUPGHOME_UNREVOKED" &&
		rm -f "$GNUPGHOME_UNREVOKED"/S.* &&
		at_exit "GNUPGHOME=$GNUPGHOME_UNREVOKED gpgconf --kill all" &&
		_gpg_revoke revoked &&
		GNUPGHOME=$GNUPGHOME_SIGN gpg --batch --export good@example.invalid revoked@example.invalid >"$KEYRING" &&
		GNUPGHOME=$GNUPGHOME_VERIFY gpg --batch -q --import "$KEYRING" 2>/dev/null
	fi
}

sign_as() {
	_who=$1 _dir=$2
	shift 2
	case $_who in
	alice | eve | old)
		git -C "$_dir" -c gpg.format=ssh -c user.signingkey="$KEYS/$_who" "$@" ;;
	revoked)
		GNUPGHOME=$GNUPGHOME_UNREVOKED git -C "$_dir" -c gpg.format=openpgp \
			-c user.signingkey="$_who@example.invalid" "$@" ;;
	*)
		GNUPGHOME=$GNUPGHOME_SIGN git -C "$_dir" -c gpg.format=openpgp \
			-c user.signingkey="$_who@example.invalid" "$@" ;;
	esac
}

# _with_sig FILE SIGFILE: FILE (a commit) with SIGFILE as its gpgsig header,
# put after the committer line as git writes it.
_with_sig() {
	awk -v sig="$2" '
		{ print }
		/^committer / && !done {
			first = 1
			while ((getline line < sig) > 0) {
				print (first ? "gpgsig " : " ") line
				first = 0
			}
			done = 1
		}' "$1"
}

sign_ns() {
	_ns=$1 _key=$2 _dir=$3 _rev=$4 _msg=$5
	_c=$(git -C "$_dir" commit-tree -p "$_rev" -m "$_msg" "$_rev^{tree}") &&
	git -C "$_dir" cat-file commit "$_c" >"$TRASH/.payload" &&
	rm -f "$TRASH/.payload.sig" &&
	ssh-keygen -q -Y sign -n "$_ns" -f "$KEYS/$_key" "$TRASH/.payload" 2>/dev/null &&
	_with_sig "$TRASH/.payload" "$TRASH/.payload.sig" >"$TRASH/.signed" &&
	git -C "$_dir" hash-object -t commit -w "$TRASH/.signed"
}

tamper() {
	git -C "$1" cat-file commit "$2" | sed '$s/$/ (changed)/' >"$TRASH/.tampered" &&
	git -C "$1" hash-object -t commit -w "$TRASH/.tampered"
}

git_verdict() {
	if GNUPGHOME=$GNUPGHOME_VERIFY git -C "$1" -c gpg.ssh.allowedSignersFile="$ALLOWED" \
		"verify-$2" "$3" >/dev/null 2>&1; then
		echo good
	else
		echo bad
	fi
}

git_range_verdict() {
	for _c in $(git -C "$1" rev-list "$2..$3"); do
		if [ "$(git_verdict "$1" commit "$_c")" != good ]; then
			echo bad
			return 0
		fi
	done
	echo good
}
