#!/bin/bash
# deploy-notebooks refuses a tree that could escape or overflow the
# published folder: exit 65, the published folder byte for byte as it was,
# no staging folder left (SPEC.md "deploy-notebooks").
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-notebooks.sh"

BARE=$TRASH/tut.git
W=$TRASH/w-tut

push() {
	git -C "$W" add -A &&
	git -C "$W" commit -q -m "${1:-change}" &&
	git -C "$W" push -q -f origin HEAD:refs/heads/main
}

# listing DIR: the folder's inode, every path with type and mode, every
# file's content: equal listings mean the folder was not touched.
listing() {
	stat -c 'inode %i' "$1" &&
	(cd "$1" && find . -printf '%y %m %i %p\n' | sort && find . -type f -exec md5sum {} + | sort -k 2)
}

# refused PATTERN: the next run exits 65 naming PATTERN, changing nothing.
refused() {
	listing "$NB" >before &&
	test_must_fail 65 nb 2>err &&
	test_grep "$1" err &&
	test_grep "refusing .*tut.git" err &&
	listing "$NB" >after &&
	test_cmp before after &&
	if ls -A "$TRASH/hub" | grep -q staging; then
		echo "staging folder left behind" >&2; return 1
	fi
}

# back_to_good: the remote's main back at the published commit.
back_to_good() {
	git -C "$BARE" update-ref refs/heads/main "$(cat "$TRASH/good")" &&
	git -C "$W" reset -q --hard "$(cat "$TRASH/good")" &&
	git -C "$W" clean -q -fdx
}

# crafted_main DOCS_TREE: main becomes a commit whose docs/ is DOCS_TREE.
crafted_main() {
	top=$(printf '40000 docs %s\n' "$1" | raw_tree) &&
	c=$(git -C "$BARE" commit-tree -p main -m crafted "$top") &&
	git -C "$BARE" update-ref refs/heads/main "$c"
}

test_expect_success 'setup: a published source' '
	git init -q --bare "$BARE" &&
	git init -q "$W" &&
	git -C "$W" remote add origin "$(remote_url tut)" &&
	mkdir -p "$W/docs/sub" &&
	echo "{\"a\": 1}" >"$W/docs/a.ipynb" &&
	echo "{\"b\": 2}" >"$W/docs/sub/b.ipynb" &&
	echo "{\"c\": 3}" >"$W/docs/c.ipynb" &&
	push good &&
	git -C "$W" rev-parse HEAD >"$TRASH/good" &&
	nb_config "$(remote_url tut)#:docs" &&
	nb &&
	test -f "$NB/sub/b.ipynb"
'

test_expect_success 'a symlink under SUBDIR is refused' '
	ln -s /etc/passwd "$W/docs/evil.ipynb" &&
	push symlink &&
	refused "docs/evil.ipynb.: a symbolic link"
'

test_expect_success 'a symlink outside SUBDIR does not matter' '
	back_to_good &&
	ln -s /etc/passwd "$W/elsewhere" &&
	push "symlink outside" &&
	nb &&
	test -f "$NB/a.ipynb" && test ! -e "$NB/elsewhere" &&
	back_to_good &&
	nb
'

test_expect_success 'a notebook name holding a newline or an escape code is refused' '
	back_to_good &&
	printf "{}" >"$W/docs/$(printf "x\nadd forged.ipynb")" &&
	push "a newline in a name" &&
	refused "a name holding a control character" &&
	back_to_good &&
	printf "{}" >"$W/docs/$(printf "\033[31mred.ipynb")" &&
	push "an escape code in a name" &&
	refused "a name holding a control character" &&
	back_to_good &&
	nb
'

test_expect_success 'a submodule (gitlink) under SUBDIR is refused' '
	back_to_good &&
	git -C "$W" update-index --add --cacheinfo "160000,$(cat "$TRASH/good"),docs/module" &&
	git -C "$W" commit -q -m submodule &&
	git -C "$W" push -q -f origin HEAD:refs/heads/main &&
	refused "docs/module.: a submodule"
'

test_expect_success 'a crafted tree entry named .. is refused' '
	back_to_good &&
	blob=$(echo "{}" | git -C "$BARE" hash-object -w --stdin) &&
	docs=$(printf "100644 .. %s\n100644 a.ipynb %s\n" "$blob" "$blob" | raw_tree) &&
	crafted_main "$docs" &&
	refused "docs/\.\..: the name .\.\.."
'

test_expect_success 'a crafted tree with two entries of one name (a symlink and a folder) is refused' '
	back_to_good &&
	blob=$(echo "{}" | git -C "$BARE" hash-object -w --stdin) &&
	target=$(printf "%s" "$TRASH" | git -C "$BARE" hash-object -w --stdin) &&
	sub=$(printf "100644 evil.ipynb %s\n" "$blob" | raw_tree) &&
	docs=$(printf "120000 link %s\n40000 link %s\n" "$target" "$sub" | raw_tree) &&
	crafted_main "$docs" &&
	refused "docs/link.: two entries of one folder with this name" &&
	test ! -e "$TRASH/evil.ipynb"
'

test_expect_success 'a crafted folder named .git is refused' '
	back_to_good &&
	blob=$(echo "{}" | git -C "$BARE" hash-object -w --stdin) &&
	hooks=$(printf "100644 post-checkout.ipynb %s\n" "$blob" | raw_tree) &&
	docs=$(printf "40000 .git %s\n100644 a.ipynb %s\n" "$hooks" "$blob" | raw_tree) &&
	crafted_main "$docs" &&
	refused "docs/\.git.: the name .\.git."
'

test_expect_success 'a folder entry that names a blob: 65 (bad data from the remote, not 69), nothing published' '
	back_to_good &&
	blob=$(echo "{}" | git -C "$BARE" hash-object -w --stdin) &&
	docs=$(printf "40000 sub %s\n100644 a.ipynb %s\n" "$blob" "$blob" | raw_tree) &&
	crafted_main "$docs" &&
	listing "$NB" >before &&
	test_must_fail 65 nb 2>err &&
	test_grep "type does not match" err &&
	listing "$NB" >after &&
	test_cmp before after
'

test_expect_success 'a crafted name holding / is refused' '
	back_to_good &&
	blob=$(echo "{}" | git -C "$BARE" hash-object -w --stdin) &&
	docs=$(printf "100644 ../../escape.ipynb %s\n" "$blob" | raw_tree) &&
	crafted_main "$docs" &&
	refused "a name holding ./." &&
	test ! -e "$TRASH/escape.ipynb" && test ! -e "$TRASH/hub/escape.ipynb"
'

test_expect_success 'more notebooks than AUTODEPLOY_NOTEBOOK_MAX_FILES is refused' '
	back_to_good &&
	echo "AUTODEPLOY_NOTEBOOK_MAX_FILES=2" >>"$CONFIG" &&
	echo "{\"d\": 4}" >"$W/docs/d.ipynb" &&
	push "a fourth notebook" &&
	refused "more than 2 notebooks (AUTODEPLOY_NOTEBOOK_MAX_FILES)"
'

test_expect_success 'more bytes than AUTODEPLOY_NOTEBOOK_MAX_BYTES is refused' '
	nb_config "$(remote_url tut)#:docs" &&
	echo "AUTODEPLOY_NOTEBOOK_MAX_BYTES=20" >>"$CONFIG" &&
	refused "more than 20 bytes of notebooks (AUTODEPLOY_NOTEBOOK_MAX_BYTES)"
'

test_expect_success 'a tree bomb under SUBDIR (one folder 16 times over, 12 levels, no notebook) is refused at AUTODEPLOY_NOTEBOOK_MAX_ENTRIES' '
	nb_config "$(remote_url tut)#:docs" &&
	back_to_good &&
	blob=$(echo "not a notebook" | git -C "$BARE" hash-object -w --stdin) &&
	t=$(printf "100644 readme.txt %s\n" "$blob" | raw_tree) &&
	for level in 1 2 3 4 5 6 7 8 9 10 11 12; do
		t=$(for i in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do printf "40000 d%s %s\n" "$i" "$t"; done | raw_tree) ||
		return 1
	done &&
	crafted_main "$t" &&
	refused "more than 100000 folders and files below SUBDIR (AUTODEPLOY_NOTEBOOK_MAX_ENTRIES)" &&
	echo "AUTODEPLOY_NOTEBOOK_MAX_ENTRIES=50" >>"$CONFIG" &&
	refused "more than 50 folders and files below SUBDIR"
'

test_expect_success 'a refused run recorded nothing: back at the good commit, nothing is rewritten' '
	nb_config "$(remote_url tut)#:docs" &&
	back_to_good &&
	ino=$(stat -c %i "$NB") &&
	nb 2>err &&
	test_grep "no source moved" err &&
	test "$(stat -c %i "$NB")" = "$ino"
'

test_done
