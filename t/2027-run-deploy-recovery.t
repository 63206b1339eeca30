#!/bin/bash
# One restore that cannot get stuck (SPEC "Exact and final"): whatever a
# killed or failed move reached, the next run ends with the checkout clean
# at the old commit, then deploys again.  A file that becomes a folder and
# a folder that becomes a file (both directions), a compose folder the new
# commit deletes, the lock files a killed git leaves, a file system gone
# read-only; and a HEAD that a person moved since is left alone (exit 3).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

test_expect_success 'setup: three checkouts; the stack repo holds a file "keep" and a folder "tree" of 300 files' '
	deploy_setup no &&
	dev=$(dev_clone stack) &&
	echo "a file" >"$dev/keep" &&
	mkdir "$dev/tree" &&
	for i in $(seq 1 300); do echo "$i" >"$dev/tree/f$i"; done &&
	dev_publish stack "keep and tree" >/dev/null &&
	rd 0 &&
	clean_at compose "$(git -C stack.git rev-parse main)"
'

# swap: a commit that turns whichever of keep/tree is a file into a folder
# of 300 files and the folder into a file.
swap() {
	dev=$(dev_clone stack) &&
	if [ -d "$dev/keep" ]; then a=tree b=keep; else a=keep b=tree; fi &&
	git -C "$dev" rm -q -r "$a" "$b" &&
	mkdir "$dev/$a" &&
	for i in $(seq 1 300); do echo "$i $a" >"$dev/$a/f$i"; done &&
	echo "now a file" >"$dev/$b" &&
	dev_publish stack "swap $a and $b" >/dev/null
}

# A kill at the Nth file of a move that swaps a file and a folder, in
# both directions (each round swaps back what the last one deployed).
for n in 1 150 299 301 450 599; do
	test_expect_success "killed at file $n of a file<->folder swap: the next run restores the old tree, starts it, deploys the swap (0)" '
		save_heads before &&
		swap &&
		AUTODEPLOY_TEST_KILL_AT=checkout-file-$n rd 137 &&
		test -e "$JOURNAL" &&
		fresh_record &&
		rd 0 --if-drift &&
		is "recover-start saw" "$(call_heads start recover-start)" "$(saved before)" &&
		test_must_be_empty status-recover-start &&
		clean_at compose "$(git -C stack.git rev-parse main)" &&
		no_journal &&
		stack_is running
	'
done

test_expect_success 'stale locks a killed git left (index.lock, the branch lock) are removed by the recovery, each named: 0' '
	save_heads before &&
	swap &&
	AUTODEPLOY_TEST_KILL_AT=after-checkout-0 rd 137 &&
	: >compose/.git/index.lock &&
	: >compose/.git/refs/heads/main.lock &&
	fresh_record &&
	rd 0 --if-drift &&
	test_grep "removed the stale lock .$TRASH/compose/.git/index.lock." err &&
	test_grep "removed the stale lock .$TRASH/compose/.git/refs/heads/main.lock." err &&
	is "recover-start saw" "$(call_heads start recover-start)" "$(saved before)" &&
	clean_at compose "$(git -C stack.git rev-parse main)" &&
	no_journal
'

test_expect_success 'a lock held open by a process is not removed: exit 3, the journal kept' '
	swap &&
	AUTODEPLOY_TEST_KILL_AT=after-checkout-0 rd 137 &&
	{ sleep 30 9>compose/.git/index.lock & } &&
	holder=$! &&
	rd 3 &&
	kill $holder &&
	test_grep "the index is locked" err &&
	test_grep ! "removed the stale lock" err &&
	test -e "$JOURNAL" &&
	rm compose/.git/index.lock &&
	rd 0 &&
	clean_at compose "$(git -C stack.git rev-parse main)" &&
	no_journal
'

test_expect_success 'a stale refs/remotes lock (a fetch killed minutes ago) no longer blocks the deploy: 0, named' '
	swap &&
	: >compose/.git/refs/remotes/origin/main.lock &&
	touch -d "-5 minutes" compose/.git/refs/remotes/origin/main.lock &&
	rd 0 --if-drift &&
	test_grep "removed the stale lock .$TRASH/compose/.git/refs/remotes/origin/main.lock." err &&
	clean_at compose "$(git -C stack.git rev-parse main)"
'

test_expect_success 'a young one (a fetch that may still run) is kept: the fetch fails (74), nothing stopped' '
	dev_push stack >/dev/null &&
	: >compose/.git/refs/remotes/origin/main.lock &&
	fresh_record &&
	rd 74 --if-drift &&
	test -e compose/.git/refs/remotes/origin/main.lock &&
	record_empty &&
	rm compose/.git/refs/remotes/origin/main.lock &&
	rd 0 --if-drift
'

test_expect_success 'after a kill, a person checks out a new branch and commits a hotfix: left alone, exit 3 naming it' '
	swap &&
	AUTODEPLOY_TEST_KILL_AT=after-checkout-0 rd 137 &&
	git -C compose checkout -q -b hotfix &&
	local_commit compose &&
	hotfix=$(git -C compose rev-parse HEAD) &&
	echo "$hotfix" >hotfix-commit &&
	fresh_record &&
	rd 3 --if-drift &&
	test_grep "HEAD of .$TRASH/compose/. is on .refs/heads/hotfix., not on .refs/heads/main. as the deploy found it: a person moved it" err &&
	is "hotfix" "$(git -C compose rev-parse hotfix)" "$hotfix" &&
	is "HEAD" "$(git -C compose symbolic-ref HEAD)" refs/heads/hotfix &&
	test -e "$JOURNAL"
'

test_expect_success 'once the person is back on main, the next run restores, starts and deploys: 0' '
	git -C compose checkout -q main &&
	rd 0 --if-drift &&
	clean_at compose "$(git -C stack.git rev-parse main)" &&
	is "hotfix" "$(git -C compose rev-parse hotfix)" "$(cat hotfix-commit)" &&
	no_journal
'

test_expect_success 'after a kill, a person commits on the branch itself: left alone, exit 3 naming the commit' '
	swap &&
	AUTODEPLOY_TEST_KILL_AT=after-checkout-0 rd 137 &&
	local_commit compose &&
	mine=$(git -C compose rev-parse HEAD) &&
	rd 3 --if-drift &&
	test_grep "is at $mine, neither the old .* nor the new .*: a person committed or moved it" err &&
	is "main" "$(git -C compose rev-parse main)" "$mine" &&
	test -e "$JOURNAL" &&
	git -C compose reset -q --hard HEAD~1 &&
	rd 0 --if-drift &&
	clean_at compose "$(git -C stack.git rev-parse main)"
'

# A compose folder inside its work tree, deleted by the next commit.
# Each part below has its own state folder: a journal a failure left
# above must not decide what happens here.
STATE_DIR=$TRASH/state-deep JOURNAL=$TRASH/state-deep/deploy.journal
export STATE_DIR JOURNAL
test_expect_success 'setup: the compose folder is deep/birdhouse, inside the work tree deep' '
	make_remote deep 1 &&
	dev=$(dev_clone deep) &&
	mkdir "$dev/birdhouse" &&
	echo "services: {}" >"$dev/birdhouse/docker-compose.yml" &&
	dev_publish deep "a compose folder" >/dev/null &&
	clone_remote deep deep &&
	CHECKOUTS=$TRASH/deep &&
	write_standin &&
	write_config "$TRASH/deep/birdhouse" &&
	config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
	config_add AUTODEPLOY_STRATEGY restart
'
CHECKOUTS=$TRASH/deep

test_expect_success 'a commit deletes the compose folder: the start cannot run there, the restore still can: exit 2' '
	old=$(git -C deep rev-parse HEAD) &&
	dev=$(dev_clone deep) &&
	git -C "$dev" rm -q -r birdhouse &&
	echo moved >"$dev/elsewhere" &&
	dev_publish deep "compose folder removed" >/dev/null &&
	fresh_record &&
	rd 2 &&
	test_grep "restored to $old" err &&
	clean_at deep "$old" &&
	test -f deep/birdhouse/docker-compose.yml &&
	stack_is running &&
	no_journal
'

test_expect_success 'killed after that move: the recovery opens the work tree, not the vanished folder: restored, started' '
	old=$(git -C deep rev-parse HEAD) &&
	AUTODEPLOY_TEST_KILL_AT=after-checkout-0 rd 137 --retry &&
	test ! -e deep/birdhouse &&
	test_grep "^root $TRASH/deep$" "$JOURNAL" &&
	fresh_record &&
	rd 2 --retry &&
	test_grep "recovered: the stack runs again" err &&
	is "recover-start saw" "$(call_heads start recover-start | cut -d" " -f1)" "$old" &&
	clean_at deep "$old" &&
	no_journal
'

# at the top level: loop_fs registers the unmount at exit
STATE_DIR=$TRASH/state-ro JOURNAL=$TRASH/state-ro/deploy.journal
export STATE_DIR JOURNAL
if LOOP_FS_SIZE=32M loop_fs ext4 "$TRASH/ro" -F 2>why; then
	test_expect_success 'setup: a work tree on its own ext4 image (its .git elsewhere)' '
		git clone -q --separate-git-dir="$TRASH/ro-git" "$(remote_url stack)" ro/stack &&
		CHECKOUTS=$TRASH/ro/stack &&
		write_standin &&
		write_config "$TRASH/ro/stack" &&
		config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
		config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
		config_add AUTODEPLOY_STRATEGY restart &&
		rd 0
	'
	CHECKOUTS=$TRASH/ro/stack

	test_expect_success 'killed before its first file, then the file system turns read-only: nothing is rewritten, the stack starts, exit 2' '
		old=$(git -C ro/stack rev-parse HEAD) &&
		swap &&
		AUTODEPLOY_TEST_KILL_AT=touched-0 rd 137 &&
		mount -o remount,ro "$TRASH/ro" &&
		fresh_record &&
		rd 2 &&
		mount -o remount,rw "$TRASH/ro" &&
		test_grep "already clean at $old: nothing to restore" err &&
		test_grep "recovered: the stack runs again" err &&
		test_grep "Read-only file system" err &&
		is "rollback-start saw" "$(call_heads start rollback-start | cut -d" " -f1)" "$old" &&
		clean_at ro/stack "$old" &&
		stack_is running &&
		no_journal
	'
else
	test_skip_or_fail 'a read-only file system' "$(cat why)"
fi

test_done
