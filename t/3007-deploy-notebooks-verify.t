#!/bin/bash
# deploy-notebooks with AUTODEPLOY_NOTEBOOK_VERIFY (SPEC.md "Verified
# commits", issue 23): a source whose new commit no allowed key signed is
# refused (65), nothing is published and the published folder is left as
# it was; the verdicts agree with git verify-commit given the same keys.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-notebooks.sh"
. "$T_DIR/lib-sign.sh"

BARE=$TRASH/tut.git
W=$TRASH/w-tut

# push_as WHO NOTEBOOK: NOTEBOOK (a name below docs/) changed and pushed,
# signed by WHO (none: unsigned); prints the commit.
push_as() {
	echo "{\"by\": \"$1 $RANDOM\"}" >"$W/docs/$2" &&
	git -C "$W" add -A &&
	if [ "$1" = none ]; then
		git -C "$W" commit -q -m "by nobody"
	else
		sign_as "$1" "$W" commit -q -S -m "by $1"
	fi &&
	git -C "$W" push -q origin HEAD:refs/heads/main &&
	git -C "$W" rev-parse HEAD
}

# verify_config LEVEL: the source, and AUTODEPLOY_NOTEBOOK_VERIFY=LEVEL.
verify_config() {
	nb_config "$(remote_url tut)#:docs" &&
	config_add AUTODEPLOY_NOTEBOOK_VERIFY "$1" &&
	config_add AUTODEPLOY_ALLOWED_SIGNERS "$ALLOWED"
}

# listing: the published folder, every path and content.
listing() {
	(cd "$NB" && find . -printf '%y %m %p\n' | sort && find . -type f -exec md5sum {} + | sort -k 2)
}

test_expect_success 'setup: keys, a source signed by an allowed key, published with tip' '
	sign_keys &&
	git init -q --bare "$BARE" &&
	git init -q "$W" &&
	git -C "$W" remote add origin "$(remote_url tut)" &&
	mkdir -p "$W/docs" &&
	c=$(push_as alice a.ipynb) &&
	is_good=$(git_verdict "$W" commit "$c") &&
	test "$is_good" = good &&
	verify_config tip &&
	nb &&
	test -f "$NB/a.ipynb"
'

test_expect_success 'an unsigned commit is refused (65), the folder untouched' '
	c=$(push_as none b.ipynb) &&
	test "$(git_verdict "$W" commit "$c")" = bad &&
	listing >before &&
	test_must_fail 65 nb 2>err &&
	test_grep "unverified: commit $(echo "$c" | cut -c1-12): unsigned" err &&
	listing >after &&
	test_cmp before after &&
	test ! -e "$NB/b.ipynb"
'

test_expect_success 'a commit by a key not allowed is refused, naming it' '
	c=$(push_as eve b.ipynb) &&
	test "$(git_verdict "$W" commit "$c")" = bad &&
	test_must_fail 65 nb 2>err &&
	test_grep "signed by .SHA256:.*: unknown key" err &&
	test ! -e "$NB/b.ipynb"
'

test_expect_success 'a signed tip publishes with tip, but not with all (unsigned commits since the last one)' '
	c=$(push_as alice b.ipynb) &&
	test "$(git_verdict "$W" commit "$c")" = good &&
	verify_config all &&
	test_must_fail 65 nb 2>err &&
	test_grep "unsigned" err &&
	verify_config tip &&
	nb &&
	test -f "$NB/b.ipynb"
'

test_expect_success 'all: signed commits since the last publication publish' '
	verify_config all &&
	push_as alice c.ipynb >/dev/null &&
	push_as alice d.ipynb >/dev/null &&
	nb &&
	test -f "$NB/c.ipynb" &&
	test -f "$NB/d.ipynb"
'

test_expect_success 'no (the default) publishes what it gets' '
	verify_config no &&
	push_as none e.ipynb >/dev/null &&
	nb &&
	test -f "$NB/e.ipynb"
'

test_done
