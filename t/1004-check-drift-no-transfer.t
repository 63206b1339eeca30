#!/bin/bash
# check-drift and the remote: nothing is transferred when nothing moved,
# only the new tip when something did; --no-fetch contacts nobody; an
# unreachable remote is exit 69 and its credentials are never shown.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

# objects DIR: every file of the object store, with its size.
objects() { find "$1/.git/objects" -type f -printf "%P %s\n" | sort; }

# object_count DIR: loose plus packed objects.
object_count() {
	git -C "$1" count-objects -v |
	awk "/^count:/ { n += \$2 } /^in-pack:/ { n += \$2 } END { print n }"
}

test_expect_success 'setup: a remote with 1000 commits and a clone of it' '
	make_remote big 1000 &&
	clone_remote big deploy &&
	test "$(git -C deploy rev-list --count HEAD)" -eq 1000 &&
	write_config "$TRASH/deploy"
'

test_expect_success 'when nothing moved, no object is transferred' '
	objects deploy >before &&
	drift_json 0 &&
	json_is 0 decision up-to-date &&
	objects deploy >after &&
	test_cmp before after
'

test_expect_success 'when the remote moved, its new tip is fetched and the tracking ref updated' '
	old=$(git -C deploy rev-parse HEAD) &&
	new=$(dev_push big) &&
	! git -C deploy cat-file -e "$new" 2>/dev/null &&
	object_count deploy >count.before &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 remote_commit "$new" &&
	git -C deploy cat-file -e "$new" &&
	test "$(git -C deploy rev-parse refs/remotes/origin/main)" = "$new" &&
	test "$(git -C deploy rev-parse HEAD)" = "$old" &&
	test "$(git -C deploy rev-parse --abbrev-ref HEAD)" = main &&
	test -z "$(git -C deploy status --porcelain)"
'

test_expect_success 'only the new commit is fetched, not the history again' '
	added=$(( $(object_count deploy) - $(cat count.before) )) &&
	echo "objects added: $added" &&
	test "$added" -ge 3 &&
	test "$added" -lt 100
'

test_expect_success 'once the tip is here, a second run transfers nothing' '
	objects deploy >before &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	objects deploy >after &&
	test_cmp before after
'

test_expect_success 'setup: a remote that moved, then went away' '
	make_remote away 2 &&
	clone_remote away gone &&
	seen=$(git -C gone rev-parse HEAD) &&
	dev_push away >/dev/null &&
	mv away.git away.moved &&
	write_config "$TRASH/gone" &&
	echo "$seen" >seen
'

test_expect_success '--no-fetch answers from the remote-tracking refs, contacting nobody (exit 0)' '
	objects gone >before &&
	drift_json 0 --no-fetch &&
	json_is 0 decision up-to-date &&
	json_is 0 remote_commit "$(cat seen)" &&
	objects gone >after &&
	test_cmp before after
'

test_expect_success 'without --no-fetch the vanished remote is an error (exit 69)' '
	drift_json 69 &&
	json_is 0 decision error
'

test_expect_success '--no-fetch sees what an earlier fetch brought: deploy (exit 1)' '
	mv away.moved away.git &&
	git -C gone fetch -q &&
	fetched=$(git -C gone rev-parse refs/remotes/origin/main) &&
	mv away.git away.moved &&
	drift_json 1 --no-fetch &&
	json_is 0 decision deploy &&
	json_is 0 remote_commit "$fetched" &&
	json_is 0 behind 1
'

test_expect_success 'setup: checkouts whose remotes have credentials and cannot be reached' '
	make_remote secret 2 &&
	clone_remote secret pw &&
	git -C pw remote set-url origin "https://deployer:s3cr3tpass@127.0.0.1:1/x.git" &&
	clone_remote secret tok &&
	git -C tok remote set-url origin "https://ghp_T0kenNeverShown@127.0.0.1:1/y.git" &&
	write_config "$TRASH/pw" "$TRASH/tok"
'

test_expect_success 'an unreachable remote is decision error, exit 69, and no secret is shown' '
	rm -rf "$LOG_DIR" &&
	drift_json 69 --verbose &&
	json_is 0 decision error &&
	json_is 1 decision error &&
	test -n "$(json get out 0 reason)" &&
	for f in out err "$LOG_FILE"; do
		test_grep ! s3cr3tpass "$f" &&
		test_grep ! T0kenNeverShown "$f" || exit 1
	done
'

test_expect_success '--condition on an unreachable remote is exit 255' '
	test_must_fail 255 drift --condition >out 2>err &&
	test_grep ! s3cr3tpass err
'

test_expect_success 'an unreachable remote beside a checkout that is due: exit 1' '
	make_remote fine 2 &&
	clone_remote fine fine &&
	new=$(dev_push fine) &&
	write_config "$TRASH/pw" "$TRASH/fine" &&
	drift_json 1 &&
	json_is 0 decision error &&
	json_is 1 decision deploy &&
	json_is 1 remote_commit "$new" &&
	test_grep ! s3cr3tpass out &&
	test_grep ! s3cr3tpass err &&
	test_grep ! s3cr3tpass "$LOG_FILE"
'

test_done
