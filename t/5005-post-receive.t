#!/bin/bash
# install-units --hook and the post-receive hook: a push to a watched
# branch asks for a deploy; anything malformed asks for nothing.
. "$(dirname "$0")/lib.sh"

IU=$BUILD_DIR/bin/install-units
HOOK=$BUILD_DIR/hooks/post-receive
A=1a2b3c4d5e6f7a8b9c0d1a2b3c4d5e6f7a8b9c0d
B=ffffffffffffffffffffffffffffffffffffffff
Z=0000000000000000000000000000000000000000

git init -q --bare remote.git
git clone -q remote.git stack 2>/dev/null
git -C stack commit -q --allow-empty -m one
git -C stack push -q -u origin main 2>/dev/null
cat >env.local <<EOF
AUTODEPLOY_COMPOSE_DIR=$TRASH/stack
AUTODEPLOY_LOG_DIR=$TRASH/log
AUTODEPLOY_STATE_DIR=$TRASH/state
EOF
T=$TRASH/state/trigger

# run_hook INPUT: the hook as git runs it, in the bare repository.
run_hook() { (cd remote.git && printf "$1" | GIT_DIR=. "$HOOK"); }

test_expect_success 'install-units --hook installs the hook and records what it needs' '
	"$IU" --config env.local --hook remote.git 2>err &&
	cmp "$HOOK" remote.git/hooks/post-receive &&
	test -x remote.git/hooks/post-receive &&
	test "$(git -C remote.git config autodeploy.trigger)" = "$T" &&
	test "$(git -C remote.git config autodeploy.refs)" = "refs/heads/main"
'

test_expect_success 'the trigger file is group-writable by the bare repository'"'"'s group' '
	test "$(stat -c %a "$T")" = 660 &&
	test "$(stat -c %g "$T")" = "$(stat -c %g remote.git)" &&
	test_must_fail 1 test -s "$T"
'

test_expect_success 'a second --hook run changes nothing' '
	before=$(stat -c "%i %y" remote.git/hooks/post-receive remote.git/config) &&
	"$IU" --config env.local --hook remote.git 2>err &&
	test "$before" = "$(stat -c "%i %y" remote.git/hooks/post-receive remote.git/config)" &&
	test_grep "unchanged" err
'

test_expect_success 'our own hook is updated in place' '
	cp "$HOOK" old-hook && echo "older build" >>old-hook &&
	cp old-hook remote.git/hooks/post-receive &&
	"$IU" --config env.local --hook remote.git 2>err &&
	cmp "$HOOK" remote.git/hooks/post-receive &&
	test_grep "updated" err
'

test_expect_success 'a foreign hook is refused and left alone' '
	git init -q --bare other.git &&
	printf "#!/bin/sh\necho mine\n" >other.git/hooks/post-receive &&
	cp other.git/hooks/post-receive expect &&
	test_must_fail 78 "$IU" --config env.local --hook other.git 2>err &&
	test_grep "not autodeploy.s hook" err &&
	test_cmp expect other.git/hooks/post-receive &&
	test_must_fail 1 git -C other.git config autodeploy.refs
'

test_expect_success 'a checkout is not a bare repository: refused' '
	test_must_fail 78 "$IU" --config env.local --hook stack 2>err &&
	test_grep "not a bare repository" err
'

test_expect_success 'in tag mode the hook watches refs/tags/GLOB' '
	git init -q --bare tags.git &&
	echo "AUTODEPLOY_TRACK=\"tag:[0-9]*.[0-9]*.[0-9]*\"" >>env.local &&
	"$IU" --config env.local --hook tags.git &&
	test "$(git -C tags.git config autodeploy.refs)" = "refs/tags/[0-9]*.[0-9]*.[0-9]*"
'

test_expect_success 'a flood of 600000 wanted refs: the trigger stays within 4 KiB, the pusher is told 20 and a count' '
	awk -v a=$A -v b=$B "BEGIN { for (i = 0; i < 600000; i++) printf \"%s %s refs/tags/1.0.%d\\n\", a, b, i }" >flood &&
	TT=$(git -C tags.git config autodeploy.trigger) &&
	(cd tags.git && GIT_DIR=. "$HOOK" <../flood 2>../err) &&
	test $(stat -c %s "$TT") -le 4096 &&
	tail -1 "$TT" | grep -Eq "^\+[0-9]+ more refs$" &&
	listed=$(grep -c "^refs/tags/1\.0\.[0-9]* $B$" "$TT") && more=$(tail -1 "$TT" | tr -dc 0-9) &&
	test $((listed + more)) = 600000 &&
	test $(wc -l <err) = 21 &&
	test_grep "autodeploy: and 599980 more refs" err
'

test_expect_success 'an update of a watched branch touches the trigger and tells the pusher' '
	: >"$T" &&
	run_hook "$A $B refs/heads/main\n" 2>err &&
	echo "refs/heads/main $B" >expect &&
	test_cmp expect "$T" &&
	test_grep "^autodeploy: deploy of main fffffff queued$" err
'

test_expect_success 'a deletion of a watched branch triggers nothing' '
	: >"$T" &&
	run_hook "$A $Z refs/heads/main\n" 2>err &&
	test_must_fail 1 test -s "$T" &&
	test_grep ! queued err
'

test_expect_success 'an update of another branch triggers nothing' '
	: >"$T" &&
	run_hook "$A $B refs/heads/feature\n" &&
	test_must_fail 1 test -s "$T"
'

test_expect_success 'garbage on any line: exit 65, the line named, nothing triggered' '
	: >"$T" &&
	(cd remote.git && printf "$A $B refs/heads/main\nnot a line\n" >../in &&
	 test_must_fail 65 env GIT_DIR=. "$HOOK" <../in 2>../err) &&
	test_grep "line 2" err &&
	test_grep "no deploy queued" err &&
	test_must_fail 1 test -s "$T"
'

test_expect_success 'an invalid ref name: exit 65, nothing triggered' '
	(cd remote.git && printf "$A $B refs/heads/a..b\n" >../in &&
	 test_must_fail 65 env GIT_DIR=. "$HOOK" <../in 2>../err) &&
	test_grep "line 1: not a valid ref name" err &&
	test_must_fail 1 test -s "$T"
'

test_expect_success 'an over-long line: exit 65, nothing triggered' '
	{ printf "$A $B refs/heads/" && head -c 5000 /dev/zero | tr "\\0" x && echo; } >in &&
	(cd remote.git && test_must_fail 65 env GIT_DIR=. "$HOOK" <../in 2>../err) &&
	test_grep "longer than" err &&
	test_must_fail 1 test -s "$T"
'

test_expect_success 'a NUL byte: exit 65, nothing triggered' '
	printf "$A $B refs/heads/ma\\0in\n" >in &&
	(cd remote.git && test_must_fail 65 env GIT_DIR=. "$HOOK" <../in 2>../err) &&
	test_grep "NUL byte" err &&
	test_must_fail 1 test -s "$T"
'

test_expect_success 'a repository without autodeploy settings: exit 78' '
	git init -q --bare bare.git &&
	(cd bare.git && printf "$A $B refs/heads/main\n" | test_must_fail 78 env GIT_DIR=. "$HOOK" 2>../err) &&
	test_grep "autodeploy.trigger is not set" err
'

test_expect_success 'a real git push into the hooked repository queues a deploy' '
	: >"$T" &&
	git -C stack commit -q --allow-empty -m two &&
	git -C stack push origin main 2>err &&
	echo "refs/heads/main $(git -C stack rev-parse HEAD)" >expect &&
	test_cmp expect "$T" &&
	test_grep "autodeploy: deploy of main $(git -C stack rev-parse --short=7 HEAD) queued" err
'

test_done
