#!/bin/bash
# check-drift with AUTODEPLOY_VERIFY (SPEC.md "Verified commits"): what a
# deploy would bring must be signed by an allowed key, SSH or OpenPGP;
# otherwise the decision is unverified (65), naming the commit, the signer
# (or "unsigned") and why.  Every case of the corpus is also given to
# git verify-commit / verify-tag with the same keys: the verdicts agree.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-sign.sh"

DEV=$TRASH/dev-signed
MODE=tip
export DEV MODE

# expect good|bad WHY REV [BASE]: the remote's main at REV (made in the
# developer clone), the checkout at BASE (default REV^).  check-drift must
# say deploy (good) or unverified with WHY in its reason (bad), and git,
# given the same keys, must say the same of the commit (MODE=tip) or of
# every commit of BASE..REV (MODE=all).  Sets AUTODEPLOY_VERIFY=$MODE.
expect() {
	_want=$1 _why=$2 _rev=$(git -C "$DEV" rev-parse "$3") _base=$(git -C "$DEV" rev-parse "${4:-$3^}")
	config_add AUTODEPLOY_VERIFY "$MODE" &&
	git -C "$DEV" push -q -f origin "$_rev:refs/heads/main" &&
	git -C site fetch -q origin &&
	git -C site reset -q --hard "$_base" &&
	if [ "$MODE" = all ]; then
		_git=$(git_range_verdict "$DEV" "$_base" "$_rev")
	else
		_git=$(git_verdict "$DEV" commit "$_rev")
	fi &&
	if [ "$_git" != "$_want" ]; then
		echo "git verify-commit says $_git, the test expects $_want" >&2
		return 1
	fi &&
	if [ "$_want" = good ]; then
		drift_json 1 && json_is 0 decision deploy
	else
		drift_json 65 && json_is 0 decision unverified && test_grep "$_why" out
	fi
}

# commit_as WHO MESSAGE: a signed commit (WHO "none": unsigned) in the
# developer clone, on what it has checked out; prints its id.
commit_as() {
	echo "$2" >>"$DEV/file.txt" &&
	git -C "$DEV" add file.txt &&
	if [ "$1" = none ]; then
		git -C "$DEV" commit -q -m "$2"
	else
		sign_as "$1" "$DEV" commit -q -S -m "$2"
	fi &&
	git -C "$DEV" rev-parse HEAD
}

test_expect_success 'setup: keys, a remote, its checkout, AUTODEPLOY_VERIFY=tip' '
	sign_keys &&
	make_remote signed 1 &&
	dev_clone signed >/dev/null &&
	clone_remote signed site &&
	mkdir -p "$TRASH/tmp" &&
	write_config "$TRASH/site" &&
	config_add AUTODEPLOY_VERIFY tip &&
	config_add AUTODEPLOY_ALLOWED_SIGNERS "$ALLOWED" &&
	if have_gpg; then config_add AUTODEPLOY_GPG_KEYRING "$KEYRING"; fi
'

export TMPDIR=$TRASH/tmp

test_expect_success 'ssh: a commit signed by an allowed key deploys' '
	commit_as alice "good one" >/dev/null &&
	expect good "" HEAD
'

test_expect_success 'an unsigned commit is unverified: exit 65, commit and "unsigned" named' '
	c=$(commit_as none "not signed") &&
	expect bad unsigned "$c" &&
	test_grep "commit $(echo "$c" | cut -c1-12): unsigned" out &&
	test_grep "unverified: commit $(echo "$c" | cut -c1-12): unsigned" err
'

test_expect_success 'ssh: a key not in allowed_signers is an unknown key, named by fingerprint' '
	c=$(commit_as eve "by eve") &&
	expect bad "unknown key" "$c" &&
	test_grep "signed by .SHA256:" out
'

test_expect_success 'ssh: a key past its valid-before (at the commit time) is expired' '
	c=$(commit_as old "by old, now") &&
	expect bad "expired" "$c"
'

test_expect_success 'ssh: the same key on a commit made before valid-before deploys (judged at the commit time)' '
	c=$(GIT_COMMITTER_DATE="2019-06-01T12:00:00Z" commit_as old "by old, in 2019") &&
	expect good "" "$c"
'

test_expect_success 'ssh: a signature made for another namespace (-n file) is refused' '
	c=$(sign_ns file alice "$DEV" HEAD "signed as a file") &&
	expect bad "signed by .alice@example.invalid.: wrong namespace" "$c"
'

test_expect_success 'ssh: a tampered commit (message changed, signature kept) is a bad signature' '
	good=$(commit_as alice "to be tampered with") &&
	c=$(tamper "$DEV" "$good") &&
	expect bad "signed by .alice@example.invalid.: bad signature" "$c"
'

test_expect_success 'merges: a signed merge of signed branches deploys' '
	git -C "$DEV" reset -q --hard "$(git -C "$TRASH/signed.git" rev-parse main)" &&
	base=$(commit_as alice "merge base") &&
	git -C "$DEV" checkout -q -b side &&
	commit_as alice "side" >/dev/null &&
	git -C "$DEV" checkout -q main &&
	echo other >"$DEV/other.txt" && git -C "$DEV" add other.txt &&
	sign_as alice "$DEV" commit -q -S -m "main side" &&
	sign_as alice "$DEV" merge -q -S --no-edit side &&
	expect good "" HEAD "$base" &&
	MODE=all expect good "" HEAD "$base"
'

test_expect_success 'merges: an unsigned merge is refused; with all, an unsigned commit on a merged branch too' '
	base=$(git -C "$DEV" rev-parse HEAD) &&
	git -C "$DEV" checkout -q -b side2 &&
	commit_as none "unsigned on the side" >/dev/null &&
	git -C "$DEV" checkout -q main &&
	echo more >>"$DEV/other.txt" && git -C "$DEV" add other.txt &&
	sign_as alice "$DEV" commit -q -S -m "more on main" &&
	git -C "$DEV" merge -q --no-edit side2 &&
	expect bad unsigned HEAD "$base" &&
	git -C "$DEV" reset -q --hard HEAD^ &&
	sign_as alice "$DEV" merge -q -S --no-edit side2 &&
	expect good "" HEAD "$base" &&
	MODE=all expect bad unsigned HEAD "$base"
'

test_expect_success 'all: an unsigned commit in the middle of the range is named; tip lets it through' '
	base=$(commit_as alice "range base") &&
	middle=$(commit_as none "unsigned middle") &&
	commit_as alice "signed tip" >/dev/null &&
	expect good "" HEAD "$base" &&
	MODE=all expect bad "commit $(echo "$middle" | cut -c1-12): unsigned" HEAD "$base" &&
	config_add AUTODEPLOY_VERIFY tip
'

test_expect_success 'all: a range of signed commits deploys' '
	base=$(commit_as alice "range two") &&
	commit_as alice "range three" >/dev/null &&
	commit_as alice "range four" >/dev/null &&
	MODE=all expect good "" HEAD "$base"
'

test_expect_success 'AUTODEPLOY_VERIFY_CHECKOUTS: a checkout set to no deploys what it gets' '
	c=$(commit_as none "unsigned, but not checked here") &&
	config_add AUTODEPLOY_VERIFY_CHECKOUTS "$TRASH/site=no" &&
	git -C "$DEV" push -q -f origin "$c:refs/heads/main" &&
	git -C site fetch -q origin && git -C site reset -q --hard "$c^" &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	config_add AUTODEPLOY_VERIFY_CHECKOUTS "$TRASH/site=all" &&
	config_add AUTODEPLOY_VERIFY no &&
	drift_json 65 &&
	json_is 0 decision unverified &&
	config_add AUTODEPLOY_VERIFY_CHECKOUTS "" &&
	config_add AUTODEPLOY_VERIFY tip
'

# The trigger runs as nobody (when we are root): it leaves its mark in a
# folder everyone may write, reached through a scratch folder it may cross.
test_expect_success 'the conditional trigger of an unverified commit is not run; of a signed one it is' '
	mkdir -p "$TRASH/outbox" && chmod 1777 "$TRASH/outbox" && chmod 711 "$TRASH" &&
	mkdir -p "$DEV/autodeploy" &&
	printf "#!/bin/sh\ntouch %s/outbox/ran\nexit 0\n" "$TRASH" >"$DEV/autodeploy/conditional-trigger" &&
	chmod 755 "$DEV/autodeploy/conditional-trigger" &&
	git -C "$DEV" add autodeploy &&
	git -C "$DEV" commit -q -m "a trigger, unsigned" &&
	expect bad unsigned HEAD &&
	test ! -e "$TRASH/outbox/ran" &&
	sign_as alice "$DEV" commit -q --amend -S --no-edit &&
	expect good "" HEAD &&
	test -e "$TRASH/outbox/ran"
'

if have_gpg; then
	test_expect_success 'openpgp: a commit signed by a key of the keyring deploys' '
		c=$(commit_as good "openpgp good") &&
		expect good "" "$c"
	'

	test_expect_success 'openpgp: a revoked key is refused as revoked' '
		c=$(commit_as revoked "openpgp revoked") &&
		expect bad "revoked" "$c"
	'

	test_expect_success 'openpgp: a key not in the keyring is an unknown key' '
		c=$(commit_as stranger "openpgp stranger") &&
		expect bad "unknown key" "$c"
	'

	test_expect_success 'openpgp: a tampered commit is a bad signature' '
		good=$(commit_as good "openpgp to be tampered with") &&
		c=$(tamper "$DEV" "$good") &&
		expect bad "bad signature" "$c"
	'
else
	test_skip_or_fail 'openpgp cases' 'gpg and gpgv are needed (apt-get install gnupg gpgv)'
fi

# tag mode: the tag's own signature decides, as git verify-tag.
# expect_tag good|bad WHY TAG: TAG alone on the remote (made in the
# developer clone), the checkout detached below it.
expect_tag() {
	_want=$1 _why=$2 _tag=$3
	for _t in $(git -C "$TRASH/signed.git" tag); do
		git -C "$TRASH/signed.git" tag -d "$_t" >/dev/null || return 1
	done &&
	for _t in $(git -C site tag); do
		git -C site tag -d "$_t" >/dev/null || return 1
	done &&
	git -C "$DEV" push -q -f origin "refs/tags/$_tag" &&
	git -C site fetch -q origin "refs/tags/$_tag:refs/tags/$_tag" &&
	git -C site checkout -q --detach "$(git -C "$DEV" rev-parse "$_tag^{commit}^")" &&
	_git=$(git_verdict "$DEV" tag "$_tag") &&
	if [ "$_git" != "$_want" ]; then
		echo "git verify-tag says $_git, the test expects $_want" >&2
		return 1
	fi &&
	if [ "$_want" = good ]; then
		drift_json 1 && json_is 0 decision deploy
	else
		drift_json 65 && json_is 0 decision unverified && test_grep "$_why" out
	fi
}

test_expect_success 'tags: setup AUTODEPLOY_TRACK=tag:v*, commits unsigned (only the tag counts)' '
	config_add AUTODEPLOY_TRACK "tag:v*" &&
	commit_as none "release one" >/dev/null
'

test_expect_success 'tags: a tag signed by an allowed key deploys' '
	sign_as alice "$DEV" tag -s -m "signed release" v1.0 &&
	expect_tag good "" v1.0
'

test_expect_success 'tags: an unsigned annotated tag is unverified' '
	commit_as none "release two" >/dev/null &&
	git -C "$DEV" tag -a -m "unsigned release" v2.0 &&
	expect_tag bad "tag [0-9a-f]*: unsigned" v2.0
'

test_expect_success 'tags: a lightweight tag has no signature' '
	commit_as none "release three" >/dev/null &&
	git -C "$DEV" tag v3.0 &&
	expect_tag bad "tag [0-9a-f]*: unsigned" v3.0
'

test_expect_success 'tags: a tag signed by an unknown key is refused' '
	commit_as none "release four" >/dev/null &&
	sign_as eve "$DEV" tag -s -m "eve release" v4.0 &&
	expect_tag bad "unknown key" v4.0
'

if have_gpg; then
	test_expect_success 'tags: an OpenPGP-signed tag deploys; a revoked one does not' '
		commit_as none "release five" >/dev/null &&
		sign_as good "$DEV" tag -s -m "gpg release" v5.0 &&
		expect_tag good "" v5.0 &&
		commit_as none "release six" >/dev/null &&
		sign_as revoked "$DEV" tag -s -m "revoked release" v6.0 &&
		expect_tag bad revoked v6.0
	'
fi

test_expect_success 'the verifiers leave nothing in TMPDIR' '
	ls -A "$TRASH/tmp" >left &&
	test_must_be_empty left
'

test_expect_success 'a level that is not no, tip or all, or a level without keys, is refused (78)' '
	cp "$CONFIG" "$CONFIG.keep" &&
	config_add AUTODEPLOY_VERIFY sometimes &&
	test_must_fail 78 drift 2>err &&
	test_grep "AUTODEPLOY_VERIFY: .sometimes. is not a verify level" err &&
	write_config "$TRASH/site" &&
	config_add AUTODEPLOY_VERIFY all &&
	test_must_fail 78 drift 2>err &&
	test_grep "verifying needs keys" err &&
	mv "$CONFIG.keep" "$CONFIG"
'

test_done
