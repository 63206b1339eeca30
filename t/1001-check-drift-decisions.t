#!/bin/bash
# check-drift: the decision for one checkout in each state of SPEC.md's
# "check-drift" table, with its exit code and its --json object.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

# one NAME: a remote NAME.git with two commits and its clone $TRASH/NAME as
# the compose dir of a fresh config.
one() {
	make_remote "$1" 2 &&
	clone_remote "$1" "$1" &&
	write_config "$TRASH/$1"
}

test_expect_success 'a checkout equal to its upstream is up-to-date (exit 0)' '
	one same &&
	head=$(git -C same rev-parse HEAD) &&
	drift_json 0 &&
	json_len_is 1 &&
	json_is 0 decision up-to-date &&
	json_path_is "$TRASH/same" decision up-to-date &&
	json_is 0 branch main &&
	json_is 0 local_commit "$head" &&
	json_is 0 remote_commit "$head" &&
	json_is 0 ahead 0 &&
	json_is 0 behind 0 &&
	upstream=$(json get out 0 upstream) &&
	case "$upstream" in *main) ;; *) echo "upstream: $upstream" >&2; false ;; esac
'

test_expect_success 'a checkout behind its upstream is due: deploy (exit 1)' '
	one behind &&
	old=$(git -C behind rev-parse HEAD) &&
	new=$(dev_push behind) &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 local_commit "$old" &&
	json_is 0 remote_commit "$new" &&
	json_is 0 ahead 0 &&
	json_is 0 behind 1
'

test_expect_success 'behind counts every commit that arrived' '
	dev_push behind >/dev/null &&
	new=$(dev_push behind) &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 remote_commit "$new" &&
	json_is 0 behind 3
'

test_expect_success 'check-drift leaves the checkout where it was' '
	old=$(git -C behind rev-parse HEAD) &&
	git -C behind status --porcelain >status.before &&
	drift_json 1 &&
	test "$(git -C behind rev-parse HEAD)" = "$old" &&
	git -C behind status --porcelain >status.after &&
	test_cmp status.before status.after &&
	test ! -s status.after
'

test_expect_success 'local commits alone never trigger a deploy: ahead (exit 0)' '
	one ahead &&
	local_commit "$TRASH/ahead" &&
	head=$(git -C ahead rev-parse HEAD) &&
	drift_json 0 &&
	json_is 0 decision ahead &&
	json_is 0 local_commit "$head" &&
	json_is 0 ahead 1 &&
	json_is 0 behind 0
'

test_expect_success 'ahead and behind at once is diverged, and due (exit 1)' '
	one diverged &&
	local_commit "$TRASH/diverged" &&
	new=$(dev_push diverged) &&
	drift_json 1 &&
	json_is 0 decision diverged &&
	json_is 0 remote_commit "$new" &&
	json_is 0 ahead 1 &&
	json_is 0 behind 1
'

test_expect_success 'a modified tracked file makes the checkout unclean (exit 0 when not behind)' '
	one modified &&
	echo edited >>modified/file.txt &&
	drift_json 0 &&
	json_is 0 decision unclean &&
	json_is 0 behind 0
'

test_expect_success 'an untracked file makes the checkout unclean (exit 0 when not behind)' '
	one untracked &&
	echo new >untracked/stray.txt &&
	drift_json 0 &&
	json_is 0 decision unclean
'

test_expect_success 'a staged but uncommitted change makes the checkout unclean' '
	one staged &&
	echo staged >>staged/file.txt &&
	git -C staged add file.txt &&
	drift_json 0 &&
	json_is 0 decision unclean
'

test_expect_success 'an unclean checkout that is also behind is due (exit 1)' '
	echo edited-again >>modified/file.txt &&
	dev_push modified >/dev/null &&
	write_config "$TRASH/modified" &&
	drift_json 1 &&
	json_is 0 decision unclean &&
	json_is 0 behind 1
'

test_expect_success 'an untracked file in a checkout that is behind: unclean, due (exit 1)' '
	dev_push untracked >/dev/null &&
	write_config "$TRASH/untracked" &&
	drift_json 1 &&
	json_is 0 decision unclean &&
	json_is 0 behind 1
'

test_expect_success 'uncleanness is checked first: an unclean diverged checkout is unclean' '
	echo more >>diverged/file.txt &&
	write_config "$TRASH/diverged" &&
	drift_json 1 &&
	json_is 0 decision unclean
'

test_expect_success 'ignored files do not make a checkout unclean' '
	one ignoring &&
	dev=$(dev_clone ignoring) &&
	echo "*.secret" >"$dev/.gitignore" &&
	dev_publish ignoring "ignore secrets" >/dev/null &&
	git -C ignoring pull -q &&
	echo password >ignoring/env.secret &&
	drift_json 0 &&
	json_is 0 decision up-to-date
'

test_expect_success 'a folder that does not exist is missing (exit 0)' '
	write_config "$TRASH/no-such-folder" &&
	drift_json 0 &&
	json_len_is 1 &&
	json_is 0 decision missing &&
	json_path_is "$TRASH/no-such-folder" decision missing
'

test_expect_success 'a folder that is not a git checkout is missing (exit 0)' '
	mkdir plain &&
	echo hello >plain/file.txt &&
	write_config "$TRASH/plain" &&
	drift_json 0 &&
	json_is 0 decision missing
'

test_expect_success 'a detached HEAD in branch mode is no-upstream (exit 0), even when the remote moved' '
	one detached &&
	git -C detached checkout -q --detach HEAD &&
	dev_push detached >/dev/null &&
	drift_json 0 &&
	json_is 0 decision no-upstream
'

test_expect_success 'a branch with no upstream is no-upstream (exit 0)' '
	one loose &&
	git -C loose checkout -q -b local-only &&
	dev_push loose >/dev/null &&
	drift_json 0 &&
	json_is 0 decision no-upstream &&
	json_is 0 branch local-only &&
	json_is 0 upstream null
'

test_expect_success 'the checkout follows the upstream of its own branch, not main' '
	one prod &&
	dev_clone prod >/dev/null &&
	git -C dev-prod push -q origin main:refs/heads/production &&
	git -C prod fetch -q &&
	git -C prod checkout -q -b production --track origin/production &&
	dev_push prod >/dev/null &&
	drift_json 0 &&
	json_is 0 decision up-to-date &&
	json_is 0 branch production &&
	git -C dev-prod commit -q --allow-empty -m "for production" &&
	new=$(git -C dev-prod rev-parse HEAD) &&
	git -C dev-prod push -q origin HEAD:refs/heads/production &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 remote_commit "$new" &&
	upstream=$(json get out 0 upstream) &&
	case "$upstream" in *production) ;; *) echo "upstream: $upstream" >&2; false ;; esac
'

# Each skip says what to do about it (the reasons checked above, again).
test_expect_success 'the reasons for missing and no-upstream say what to do' '
	write_config "$TRASH/no-such-folder" "$TRASH/detached $TRASH/loose" &&
	drift_json 0 &&
	json get out 0 reason | grep -q "clone it there, or fix AUTODEPLOY_COMPOSE_DIR / AUTODEPLOY_EXTRA_REPOS" &&
	json get out 1 reason | grep -q "check out the branch to deploy, or set AUTODEPLOY_TRACK=tag:GLOB" &&
	json get out 2 reason | grep -q "git branch --set-upstream-to=origin/local-only"
'

test_done
