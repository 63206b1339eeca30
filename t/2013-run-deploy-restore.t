#!/bin/bash
# A checkout that fails part-way in the downtime window (a held branch
# lock, a full disk, a kill in the middle of thousands of files) is put
# back exactly: every file of the old commit, none of the new one's, the
# tree clean at the old commit; and a folder that the new commit turns
# into a file while it holds ignored files is refused before anything stops.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

test_expect_success 'setup: three checkouts; the stack repo ignores *.tmp and has a cache folder' '
	deploy_setup no &&
	dev=$(dev_clone stack) &&
	echo "*.tmp" >"$dev/.gitignore" &&
	mkdir "$dev/cache" && echo tracked >"$dev/cache/tracked" &&
	dev_publish stack "cache folder" >/dev/null &&
	rd 0 &&
	clean_at compose "$(git -C stack.git rev-parse main)"
'

test_expect_success 'a folder the new commit makes a file, holding an ignored file: refused (78) before anything stops' '
	echo "local scratch" >compose/cache/scratch.tmp &&
	old=$(git -C compose rev-parse HEAD) &&
	dev=$(dev_clone stack) &&
	git -C "$dev" rm -q -r cache &&
	echo "now a file" >"$dev/cache" &&
	dev_publish stack "cache becomes a file" >/dev/null &&
	fresh_record &&
	rd 78 &&
	test_grep "the local file .cache/scratch.tmp. is in a folder that the new commit replaces with a file" err &&
	test_grep "nothing was stopped" err &&
	record_empty &&
	no_journal &&
	clean_at compose "$old" cache/scratch.tmp &&
	is "the local file" "$(cat compose/cache/scratch.tmp)" "local scratch"
'

test_expect_success 'once the operator moves the file away, the folder becomes a file' '
	rm compose/cache/scratch.tmp &&
	rd 0 &&
	is "cache" "$(cat compose/cache)" "now a file" &&
	clean_at compose "$(git -C stack.git rev-parse main)"
'

test_expect_success 'a held refs/heads/main.lock after the files were written: exit 2, every file of the new commit gone' '
	save_heads before &&
	old=$(git -C compose rev-parse HEAD) &&
	dev=$(dev_clone stack) &&
	mkdir -p "$dev/added/deep" &&
	echo new >"$dev/added/deep/new.txt" &&
	echo generated >"$dev/gen.tmp" &&
	git -C "$dev" add -f gen.tmp &&
	echo changed >"$dev/file.txt" &&
	dev_publish stack "new files, one of them ignored by the old tree" >/dev/null &&
	dev_push ex1 >/dev/null &&
	: >compose/.git/refs/heads/main.lock &&
	fresh_record &&
	rd 2 &&
	rm compose/.git/refs/heads/main.lock &&
	test_grep "main.lock" err &&
	test_grep "restored to $old" err &&
	is "checkouts" "$(heads)" "$(saved before)" &&
	clean_at compose "$old" &&
	test ! -e compose/added &&
	test ! -e compose/gen.tmp &&
	is "file.txt" "$(cat compose/file.txt)" "$(git -C compose show HEAD:file.txt)" &&
	is "rollback-start saw" "$(call_heads start rollback-start)" "$(saved before)" &&
	test_must_be_empty status-rollback-start &&
	stack_is running &&
	no_journal
'

test_expect_success 'the next run is not refused: --retry deploys the same (quarantined) commits (0)' '
	rd 0 --retry &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	clean_at compose "$(git -C stack.git rev-parse main)"
'

test_expect_success 'setup: a new commit of 2,000 files' '
	dev=$(dev_clone stack) &&
	mkdir -p "$dev/many" &&
	for i in $(seq 1 2000); do echo "$i" >"$dev/many/f$i"; done &&
	git -C "$dev" rm -q file.txt &&
	dev_publish stack "2000 files" >/dev/null
'

test_expect_success 'killed half-way through the checkout: the tree is between the commits, the journal says so' '
	save_heads before &&
	fresh_record &&
	AUTODEPLOY_TEST_KILL_AT=checkout-file-700 rd 137 &&
	n=$(ls compose/many | wc -l) &&
	test "$n" -gt 0 && test "$n" -lt 2000 &&
	test_grep "^autodeploy-journal 4$" "$JOURNAL" &&
	test_grep "^root $TRASH/compose$" "$JOURNAL" &&
	test_grep "^branch refs/heads/main$" "$JOURNAL" &&
	test_grep " 1 $TRASH/compose$" "$JOURNAL" &&
	test_must_fail 1 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "interrupted" err
'

test_expect_success 'the next run restores exactly the old tree, starts it, then deploys again (0)' '
	fresh_record &&
	rd 0 &&
	is "recover-start saw" "$(call_heads start recover-start)" "$(saved before)" &&
	test_must_be_empty status-recover-start &&
	test_grep "restored to" err &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	clean_at compose "$(git -C stack.git rev-parse main)" &&
	no_journal
'

test_expect_success 'killed after the journal marked a checkout touched but before any file changed: recovered' '
	dev_push stack >/dev/null &&
	save_heads before &&
	AUTODEPLOY_TEST_KILL_AT=touched-0 rd 137 &&
	test_grep " 1 $TRASH/compose$" "$JOURNAL" &&
	fresh_record &&
	rd 0 &&
	is "recover-start saw" "$(call_heads start recover-start)" "$(saved before)" &&
	clean_at compose "$(git -C stack.git rev-parse main)"
'

test_expect_success 'a restore that cannot be done (index.lock held): exit 3 naming the checkout, the journal kept' '
	cat >bin/start-locks <<-EOF &&
	#!/bin/sh
	if [ -e "$TRASH/lock-once" ]; then
		rm "$TRASH/lock-once"
		: >"$TRASH/compose/.git/index.lock"
		exit 1
	fi
	exec "$STANDIN" start
	EOF
	chmod +x bin/start-locks &&
	config_add AUTODEPLOY_START_COMMAND "$TRASH/bin/start-locks" &&
	old=$(git -C compose rev-parse HEAD) &&
	dev_push stack >/dev/null &&
	touch lock-once &&
	rd 3 &&
	test_grep "cannot restore .$TRASH/compose. to $old: .*the index is locked" err &&
	test_grep "rollback failed: the journal is kept" err &&
	test -e "$JOURNAL"
'

test_expect_success 'the next run (--retry: the failed target is quarantined) removes the lock the failed run left (named in the log), restores, starts, deploys again (0)' '
	test -e compose/.git/index.lock &&
	fresh_record &&
	rd 0 --retry &&
	test_grep "removed the stale lock .$TRASH/compose/.git/index.lock." err &&
	test ! -e compose/.git/index.lock &&
	test_grep "restored to" err &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	clean_at compose "$(git -C stack.git rev-parse main)" &&
	no_journal &&
	config_add AUTODEPLOY_START_COMMAND "$STANDIN start"
'

if [ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null && losetup -f >/dev/null 2>&1; then
	test_expect_success 'setup: the compose work tree on a 16 MiB ext4 image (its .git elsewhere)' '
		truncate -s 16M disk.img &&
		mkfs.ext4 -q -F disk.img &&
		mkdir small &&
		mount -o loop disk.img small &&
		git clone -q --separate-git-dir="$TRASH/small-git" "$(remote_url stack)" small/stack &&
		write_config "$TRASH/small/stack" &&
		config_add AUTODEPLOY_STOP_COMMAND "$STANDIN stop" &&
		config_add AUTODEPLOY_START_COMMAND "$STANDIN start" &&
		config_add AUTODEPLOY_STRATEGY restart
	'

	test_expect_success 'the disk fills up during the checkout: exit 2, the old tree back and clean' '
		old=$(git -C small/stack rev-parse HEAD) &&
		dev=$(dev_clone stack) &&
		head -c 24000000 /dev/urandom >"$dev/big.bin" &&
		echo "next" >"$dev/many/f1" &&
		dev_publish stack "a file bigger than the disk" >/dev/null &&
		rd 2 &&
		test_grep "No space left on device\|ENOSPC\|space" err &&
		clean_at small/stack "$old" &&
		test ! -e small/stack/big.bin &&
		no_journal
	'
	umount -l "$TRASH/small" 2>/dev/null
else
	test_skip_or_fail 'the disk fills up during the checkout' 'needs root and a loop device (mkfs.ext4, losetup)'
fi

test_done
