#!/bin/bash
# deploy-notebooks: what gets published, with which modes, and when
# nothing is rewritten (SPEC.md "deploy-notebooks").
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-notebooks.sh"



# nb_repo NAME: bare $TRASH/NAME.git and a work tree $TRASH/w-NAME that
# pushes to its main branch with nb_push NAME.
nb_repo() {
	git init -q --bare "$TRASH/$1.git" &&
	git init -q "$TRASH/w-$1" &&
	git -C "$TRASH/w-$1" remote add origin "$(remote_url "$1")"
}
nb_push() {
	git -C "$TRASH/w-$1" add -A &&
	git -C "$TRASH/w-$1" commit -q -m "${2:-change}" &&
	git -C "$TRASH/w-$1" push -q origin HEAD:refs/heads/main
}

# listing DIR: every path with its type and mode, and every file's content
listing() {
	(cd "$1" && find . -printf '%y %m %p\n' | sort && find . -type f -exec md5sum {} + | sort -k 2)
}

no_staging() {
	if ls -A "$(dirname "$NB")" | grep -q staging; then
		echo "staging folder left behind:" >&2; ls -la "$(dirname "$NB")" >&2
		return 1
	fi
}

test_expect_success 'first publish: notebooks, sub-folders kept, nothing else' '
	nb_repo tut &&
	w=$TRASH/w-tut &&
	mkdir -p "$w/intro" "$w/advanced/deep" "$w/scripts" &&
	echo "{\"cells\": [1]}" >"$w/intro/hello.ipynb" &&
	echo "{\"cells\": [2]}" >"$w/advanced/deep/x.ipynb" &&
	echo "{\"cells\": [3]}" >"$w/top.ipynb" &&
	echo "not a notebook" >"$w/README.md" &&
	echo "echo hi" >"$w/scripts/run.sh" &&
	nb_push tut &&
	nb_config "$(remote_url tut)" &&
	nb &&
	(cd "$NB" && find . | sort) >got &&
	printf "%s\n" . ./advanced ./advanced/deep ./advanced/deep/x.ipynb ./intro ./intro/hello.ipynb \
		./top.ipynb >want &&
	test_cmp want got &&
	test_cmp "$w/intro/hello.ipynb" "$NB/intro/hello.ipynb" &&
	test_cmp "$w/advanced/deep/x.ipynb" "$NB/advanced/deep/x.ipynb" &&
	no_staging &&
	test_grep "published 3 notebooks from 1 sources" "$NB_LOG"
'

test_expect_success 'published files are 0444 and folders 0555' '
	test -z "$(find "$NB" -type f ! -perm 0444)" &&
	test -z "$(find "$NB" -type d ! -perm 0555)" &&
	test -n "$(find "$NB" -type f -perm 0444)"
'

test_expect_success 'a re-run with nothing moved rewrites nothing' '
	before=$(stat -c "%i %Y" "$NB" "$NB/intro/hello.ipynb") &&
	: >"$NB_LOG" &&
	nb &&
	test "$(stat -c "%i %Y" "$NB" "$NB/intro/hello.ipynb")" = "$before" &&
	test_grep "no source moved since the last run" "$NB_LOG" &&
	test_grep ! "published" "$NB_LOG"
'

test_expect_success '--force republishes the same set as a new folder' '
	listing "$NB" >before &&
	ino=$(stat -c %i "$NB") &&
	nb --force &&
	test "$(stat -c %i "$NB")" != "$ino" &&
	listing "$NB" >after &&
	test_cmp before after &&
	no_staging
'

test_expect_success '--dry-run lists added, changed and removed notebooks and changes nothing' '
	w=$TRASH/w-tut &&
	echo "{\"cells\": [22]}" >"$w/advanced/deep/x.ipynb" &&
	echo "{}" >"$w/new.ipynb" &&
	git -C "$w" rm -q top.ipynb &&
	nb_push tut "add, change, remove" &&
	listing "$NB" >before &&
	nb --dry-run >out &&
	printf "%s\n" "changed advanced/deep/x.ipynb" "added new.ipynb" "removed top.ipynb" >want &&
	test_cmp want out &&
	listing "$NB" >after &&
	test_cmp before after
'

test_expect_success 'a commit that adds, changes and removes notebooks is published' '
	w=$TRASH/w-tut &&
	nb &&
	test_cmp "$w/advanced/deep/x.ipynb" "$NB/advanced/deep/x.ipynb" &&
	test_cmp "$w/new.ipynb" "$NB/new.ipynb" &&
	test ! -e "$NB/top.ipynb" &&
	test -z "$(find "$NB" -type f ! -perm 0444)" &&
	no_staging &&
	nb --dry-run >out &&
	test ! -s out
'

test_expect_success 'sources with a name clash: the later one wins, with a warning' '
	nb_repo other &&
	mkdir -p "$TRASH/w-other/intro" &&
	echo "{\"from\": \"other\"}" >"$TRASH/w-other/intro/hello.ipynb" &&
	echo "{\"only\": \"other\"}" >"$TRASH/w-other/mine.ipynb" &&
	nb_push other &&
	nb_config "$(remote_url tut) $(remote_url other)" &&
	: >"$NB_LOG" &&
	nb &&
	test_cmp "$TRASH/w-other/intro/hello.ipynb" "$NB/intro/hello.ipynb" &&
	test -f "$NB/mine.ipynb" && test -f "$NB/new.ipynb" &&
	test_grep "warning: .intro/hello.ipynb.: the one from .*other.git. replaces the one from .*tut.git." "$NB_LOG" &&
	nb_config "$(remote_url other) $(remote_url tut)" &&
	nb &&
	test_cmp "$TRASH/w-tut/intro/hello.ipynb" "$NB/intro/hello.ipynb"
'

test_expect_success 'URL#TAG:SUBDIR publishes that folder of the tagged commit' '
	w=$TRASH/w-tut &&
	git -C "$w" tag -a -m "release" v1 &&
	git -C "$w" push -q origin v1 &&
	echo "{\"after\": \"tag\"}" >"$w/intro/hello.ipynb" &&
	nb_push tut "after the tag" &&
	git -C "$w" show v1:intro/hello.ipynb >want &&
	nb_config "$(remote_url tut)#v1:intro" &&
	nb &&
	(cd "$NB" && find . | sort) >got &&
	printf "%s\n" . ./hello.ipynb >want.list &&
	test_cmp want.list got &&
	test_cmp want "$NB/hello.ipynb"
'

test_expect_success 'URL#BRANCH and URL#:SUBDIR (default branch)' '
	w=$TRASH/w-tut &&
	git -C "$w" checkout -q -b dev &&
	echo "{\"on\": \"dev\"}" >"$w/dev.ipynb" &&
	git -C "$w" add -A && git -C "$w" commit -q -m dev &&
	git -C "$w" push -q origin dev &&
	git -C "$w" checkout -q main &&
	nb_config "$(remote_url tut)#dev" &&
	nb &&
	test -f "$NB/dev.ipynb" &&
	nb_config "$(remote_url tut)#:advanced" &&
	nb &&
	(cd "$NB" && find . | sort) >got &&
	printf "%s\n" . ./deep ./deep/x.ipynb >want &&
	test_cmp want got
'

test_expect_success 'a SUBDIR missing from the tree: 78, folder untouched' '
	listing "$NB" >before &&
	nb_config "$(remote_url tut)#main:nope" &&
	test_must_fail 78 nb 2>err &&
	test_grep "no folder .nope. in commit" err &&
	listing "$NB" >after &&
	test_cmp before after &&
	no_staging
'

test_expect_success 'a REF the remote does not have: 78, folder untouched' '
	listing "$NB" >before &&
	nb_config "$(remote_url tut)#nosuchbranch" &&
	test_must_fail 78 nb 2>err &&
	test_grep "no branch or tag .nosuchbranch." err &&
	listing "$NB" >after &&
	test_cmp before after
'

test_expect_success 'AUTODEPLOY_NOTEBOOK_OWNER gives the files and folders their owner' '
	if [ "$(id -u)" = 0 ]; then owner=1234:4321; else owner=$(id -u):$(id -g); fi &&
	nb_config "$(remote_url tut)" &&
	echo "AUTODEPLOY_NOTEBOOK_OWNER=$owner" >>"$CONFIG" &&
	nb &&
	test -z "$(find "$NB" ! -user "${owner%:*}")" &&
	test -z "$(find "$NB" ! -group "${owner#*:}")" &&
	test -z "$(find "$NB" -type f ! -perm 0444)"
'

test_expect_success 'an unparsable source is a config error naming the key (78)' '
	listing "$NB" >before &&
	nb_config "$(remote_url tut)#:../etc" &&
	test_must_fail 78 nb 2>err &&
	test_grep "AUTODEPLOY_NOTEBOOK_SOURCES" err &&
	test_grep "subdir .\.\./etc." err &&
	listing "$NB" >after &&
	test_cmp before after
'

test_expect_success 'sources without AUTODEPLOY_NOTEBOOK_DIR: 78; no sources: nothing to do' '
	printf "%s\n" "AUTODEPLOY_NOTEBOOK_SOURCES=$(remote_url tut)" "AUTODEPLOY_LOG_DIR=$LOG_DIR" \
		"AUTODEPLOY_STATE_DIR=$STATE_DIR" >"$CONFIG" &&
	test_must_fail 78 nb 2>err &&
	test_grep "AUTODEPLOY_NOTEBOOK_DIR is not set" err &&
	printf "%s\n" "AUTODEPLOY_LOG_DIR=$LOG_DIR" "AUTODEPLOY_STATE_DIR=$STATE_DIR" >"$CONFIG" &&
	nb 2>err &&
	test_grep "nothing to publish" err
'

test_expect_success 'stray arguments are a usage error (64)' '
	nb_config "$(remote_url tut)" &&
	test_must_fail 64 nb extra 2>err
'

test_done
