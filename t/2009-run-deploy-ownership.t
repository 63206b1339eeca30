#!/bin/bash
# run-deploy and AUTODEPLOY_CODE_OWNERSHIP: files that a deploy writes into
# a checkout are given that uid:gid; files it does not touch keep theirs.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

if [ "$(id -u)" -ne 0 ]; then
	skip_all "changing a file's owner needs root"
fi

owner() { stat -c %u:%g "$1"; }

test_expect_success 'setup: three checkouts owned by root, CODE_OWNERSHIP=4321:8765' '
	deploy_setup no &&
	config_add AUTODEPLOY_CODE_OWNERSHIP 4321:8765 &&
	echo same >keep.txt &&
	dev=$(dev_clone stack) &&
	echo keep >"$dev/keep.txt" &&
	dev_publish stack "a file that will not change" >/dev/null &&
	git -C compose pull -q &&
	is "keep.txt" "$(owner compose/keep.txt)" 0:0
'

test_expect_success 'a deploy gives changed and new files the configured owner' '
	dev=$(dev_clone stack) &&
	echo changed >"$dev/file.txt" &&
	mkdir -p "$dev/sub/dir" &&
	echo new >"$dev/sub/dir/new.txt" &&
	dev_publish stack "change one, add one" >/dev/null &&
	rd 0 &&
	is "file.txt" "$(owner compose/file.txt)" 4321:8765 &&
	is "sub/dir/new.txt" "$(owner compose/sub/dir/new.txt)" 4321:8765
'

test_expect_success 'the whole moved checkout is given to that owner, .git too (chown -R); others keep theirs' '
	is "keep.txt" "$(owner compose/keep.txt)" 4321:8765 &&
	is ".git/HEAD" "$(owner compose/.git/HEAD)" 4321:8765 &&
	test -z "$(find compose ! -user 4321)" &&
	is "extra1/file.txt" "$(owner extra1/file.txt)" 0:0
'

test_expect_success 'the checkout is still clean and on the new commit' '
	git config --global --add safe.directory "*" &&
	test -z "$(git -C compose status --porcelain)" &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$(git -C stack.git rev-parse main)"
'

test_expect_success 'CODE_OWNERSHIP=UID (a uid alone, birdhouse'"'"'s form): the group of its passwd entry' '
	uid=$(id -u nobody) && gid=$(id -g nobody) &&
	config_add AUTODEPLOY_CODE_OWNERSHIP "$uid" &&
	dev_push stack >/dev/null &&
	rd 0 &&
	is "file.txt" "$(owner compose/file.txt)" "$uid:$gid" &&
	is "keep.txt" "$(owner compose/keep.txt)" "$uid:$gid" &&
	is "compose" "$(git -C compose rev-parse HEAD)" "$(git -C stack.git rev-parse main)"
'

test_expect_success 'a uid without a passwd entry: the group is kept' '
	! getent passwd 4322 >/dev/null &&
	config_add AUTODEPLOY_CODE_OWNERSHIP 4322 &&
	dev_push stack >/dev/null &&
	rd 0 &&
	is "file.txt" "$(owner compose/file.txt)" "4322:$(id -g nobody)"
'

test_done
