#!/bin/bash
# A remote that sends a tree git fsck would refuse (libgit2's fetch does
# not check): the classic is a symlink "link" to a folder outside the
# checkout, deployed once, then a tree holding both "link" and a folder
# "link/" with a file, which a checkout would write through the symlink,
# outside the work tree, as root.  run-deploy checks every tree of a new
# commit before anything is stopped or written and refuses with 65,
# naming the commit and the path, whatever the strategy.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

BARE=$TRASH/stack.git

# entries_of REV: the root entries of REV in $BARE as "MODE NAME ID" lines.
entries_of() {
	git -C "$BARE" ls-tree "$1" | while read -r mode type id name; do
		printf '%s %s %s\n' "${mode#0}" "$name" "$id"
	done
}

# crafted_main LINES: main becomes a commit whose root tree is main's
# entries plus LINES ("MODE NAME ID"), each placed in git's tree order
# (a folder sorts as NAME/).
crafted_main() {
	{ entries_of main && printf '%s\n' "$1"; } |
		awk '{ k = $2; if ($1 == "40000") k = k "/"; print k "\t" $0 }' |
		LC_ALL=C sort -t "	" -k1,1 | cut -f 2- >entries &&
	top=$(raw_tree <entries) &&
	c=$(git -C "$BARE" commit-tree -p main -m crafted "$top") &&
	git -C "$BARE" update-ref refs/heads/main "$c" &&
	echo "$c" >crafted
}

# refused: run-deploy (OPTIONS...) exits 65 naming the crafted commit,
# stopped and wrote nothing.
refused() {
	fresh_record &&
	save_heads before &&
	test_must_fail 65 run-deploy --config "$CONFIG" "$@" >out 2>err &&
	test_grep "commit $(cat crafted): " err &&
	test_grep "nothing was stopped" err &&
	record_empty &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	no_journal &&
	test -z "$(ls -A "$TRASH/outside")" &&
	test -z "$(git -C "$TRASH/compose" status --porcelain --ignored)"
}

test_expect_success 'setup: a symlink to a folder outside the checkout, deployed' '
	deploy_setup no &&
	mkdir "$TRASH/outside" &&
	dev=$(dev_clone stack) &&
	ln -s "$TRASH/outside" "$dev/link" &&
	git -C "$dev" add link &&
	git -C "$dev" commit -q -m "a link" &&
	git -C "$dev" push -q origin HEAD:main &&
	rd 0 &&
	test -L "$TRASH/compose/link"
'

test_expect_success 'setup: main becomes a tree with both the symlink "link" and a folder "link/evil"' '
	evil=$(echo "written outside" | git -C "$BARE" hash-object -w --stdin) &&
	sub=$(printf "100644 evil %s\n" "$evil" | raw_tree) &&
	crafted_main "40000 link $sub" &&
	test $(grep -c " link " entries) = 2
'

test_expect_success 'restart strategy: 65 before the stop, nothing written outside or inside' '
	refused &&
	test_grep "link.: two entries of one folder with this name" err
'

test_expect_success 'recreate strategy: 65 before the prepare stages anything' '
	DEPLOY_STRATEGY=recreate deploy_config no &&
	refused &&
	test -z "$(ls -A "$STATE_DIR/stage" 2>/dev/null)"
'

test_expect_success '--no-restart: 65 as well' '
	refused --no-restart
'

test_expect_success '--if-drift (the timer): 65 as well, on every run until the remote changes' '
	refused --if-drift &&
	refused --if-drift
'

# Names git refuses in any tree, one crafted commit each, below the root.
for name in .GIT .Git. "git~1" ".git::\$INDEX_ALLOCATION" "$(printf '.g\342\200\214it')" ..; do
	test_expect_success "a folder named '$name' deep in the tree: 65" '
		git -C "$BARE" update-ref refs/heads/main "$(git -C "$BARE" rev-parse main^)" &&
		blob=$(echo "[core]" | git -C "$BARE" hash-object -w --stdin) &&
		bad=$(printf "100644 config %s\n" "$blob" | raw_tree) &&
		mid=$(printf "40000 %s %s\n" "$name" "$bad" | raw_tree) &&
		crafted_main "40000 sub $mid" &&
		refused &&
		test_grep "sub/$name.: the name" err
	'
done

test_expect_success 'a tree bomb (one folder listed 16 times over, 12 levels) is checked at once: 65 for the bad name at its bottom' '
	git -C "$BARE" update-ref refs/heads/main "$(git -C "$BARE" rev-parse main^)" &&
	blob=$(echo x | git -C "$BARE" hash-object -w --stdin) &&
	t=$(printf "100644 .git %s\n" "$blob" | raw_tree) &&
	for level in 1 2 3 4 5 6 7 8 9 10 11 12; do
		t=$(for i in 0 1 2 3 4 5 6 7 8 9 a b c d e f; do printf "40000 d%s %s\n" "$i" "$t"; done | raw_tree) ||
		return 1
	done &&
	crafted_main "40000 bomb $t" &&
	refused &&
	test_grep "bomb/d0/d0/d0/d0/d0/d0/d0/d0/d0/d0/d0/d0/.git.: the name" err
'

test_expect_success 'the remote fixed: the next commit deploys' '
	git -C "$BARE" update-ref refs/heads/main "$(git -C "$BARE" rev-parse main^)" &&
	dev=$(dev_clone stack) &&
	git -C "$dev" reset -q --hard origin/main &&
	echo fixed >"$dev/file.txt" &&
	git -C "$dev" commit -q -a -m fixed &&
	git -C "$dev" push -q -f origin HEAD:main &&
	rd 0 &&
	test "$(cat "$TRASH/compose/file.txt")" = fixed &&
	test -z "$(ls -A "$TRASH/outside")"
'

# The restore walks the other way: the old tree has the symlink "link",
# the new one a folder "link/" (a legitimate commit).  A move killed after
# its first removal (file.txt, before link) leaves the symlink in place;
# the recovery removes the paths only the new tree has, and "link/evil"
# must not be taken through the symlink to the file outside.
test_expect_success 'a recovery never follows a symlink of the old tree out of the checkout' '
	echo precious >"$TRASH/outside/evil" &&
	dev=$(dev_clone stack) &&
	git -C "$dev" rm -q file.txt link &&
	mkdir "$dev/link" &&
	echo "in the tree" >"$dev/link/evil" &&
	git -C "$dev" add link &&
	git -C "$dev" commit -q -m "link becomes a folder" &&
	git -C "$dev" push -q origin HEAD:main &&
	{ AUTODEPLOY_TEST_KILL_AT=checkout-file-1 test_must_fail 137 run-deploy --config "$CONFIG" >out 2>err ||
	  { cat err; false; }; } &&
	test -L "$TRASH/compose/link" &&
	test -e "$JOURNAL" &&
	rd 0 --if-drift &&
	test "$(cat "$TRASH/outside/evil")" = precious &&
	test "$(cat "$TRASH/compose/link/evil")" = "in the tree" &&
	no_journal
'

test_done
