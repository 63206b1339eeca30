#!/bin/bash
# deploy-notebooks around the publish itself: an unreachable remote, the
# lock, and the swap that readers never see half done.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-notebooks.sh"

W=$TRASH/w-tut


listing() {
	stat -c 'inode %i' "$1" &&
	(cd "$1" && find . -printf '%y %m %i %p\n' | sort && find . -type f -exec md5sum {} + | sort -k 2)
}

test_expect_success 'setup: a published source' '
	git init -q --bare "$TRASH/tut.git" &&
	git init -q "$W" &&
	mkdir -p "$W/a" "$W/b/c" &&
	for i in 1 2 3 4 5; do echo "{\"n\": $i}" >"$W/a/n$i.ipynb"; done &&
	echo "{\"deep\": 1}" >"$W/b/c/deep.ipynb" &&
	echo "{\"top\": 1}" >"$W/top.ipynb" &&
	git -C "$W" add -A && git -C "$W" commit -q -m first &&
	git -C "$W" push -q "$(remote_url tut)" HEAD:refs/heads/main &&
	nb_config "$(remote_url tut)" &&
	nb
'

test_expect_success 'an unreachable source: 69, the old set still published' '
	listing "$NB" >before &&
	nb_config "$(remote_url tut) file://$TRASH/gone.git" &&
	test_must_fail 69 nb 2>err &&
	test_grep "gone.git" err &&
	listing "$NB" >after &&
	test_cmp before after
'

test_expect_success 'a new commit is published after the remote is back' '
	nb_config "$(remote_url tut)" &&
	echo "{\"n\": 6}" >"$W/a/n6.ipynb" &&
	git -C "$W" add -A && git -C "$W" commit -q -m second &&
	git -C "$W" push -q "$(remote_url tut)" HEAD:refs/heads/main &&
	nb &&
	test_cmp "$W/a/n6.ipynb" "$NB/a/n6.ipynb"
'

test_expect_success 'each run is framed by the lines birdhouse'"'"'s trigger-deploy-notebook wrote, failed ones too' '
	grep -c "deploy-notebooks\[[0-9]*\]: info: notebookdeploy START_TIME=20[-0-9T:+]*\$" "$NB_LOG" >starts &&
	grep -c "deploy-notebooks\[[0-9]*\]: info: notebookdeploy finished START_TIME=20[-0-9T:+]*\$" "$NB_LOG" >ends &&
	grep -c "deploy-notebooks\[[0-9]*\]: info: notebookdeploy finished   END_TIME=20[-0-9T:+]*\$" "$NB_LOG" >ends2 &&
	# setup, the unreachable source (69) and the republish: three runs
	echo 3 >expect &&
	test_cmp expect starts &&
	test_cmp expect ends &&
	test_cmp expect ends2 &&
	pid=$(grep "info: notebookdeploy START_TIME=" "$NB_LOG" | sed -n "2s/.*deploy-notebooks\[\([0-9]*\)\].*/\1/p") &&
	start=$(grep "deploy-notebooks\[$pid\]: info: notebookdeploy START_TIME=" "$NB_LOG" | sed "s/.*START_TIME=//") &&
	test_grep "deploy-notebooks\[$pid\]: info: notebookdeploy finished START_TIME=$start\$" "$NB_LOG"
'

test_expect_success 'the lock held by another run: 75, nothing touched' '
	listing "$NB" >before &&
	# the holder lets go when ./held is removed (or after 30 seconds)
	: >held &&
	{ (
		exec 9>"$STATE_DIR/notebooks.lock"
		flock 9 && : >locked
		i=0; while [ -e held ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
	) & } &&
	holder=$! &&
	i=0 && while [ ! -e locked ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done &&
	rc=0 &&
	{ nb --force 2>err || rc=$?; } &&
	rm -f held && wait $holder &&
	test "$rc" = 75 &&
	test_grep "notebooks.lock" err &&
	listing "$NB" >after &&
	test_cmp before after
'

test_expect_success 'readers never see an empty or partial folder during 30 republishes' '
	# by path, as JupyterHub reads it: a reader that sits inside the old
	# folder (cd) sees it emptied once the new one is in
	look() { ls -A "$NB" "$NB/a" "$NB/b" "$NB/b/c" && cat "$NB/top.ipynb"; } &&
	look >want &&
	rm -f stop &&
	(
		n=0 bad=0
		while [ ! -e stop ] && [ -d "$TRASH" ]; do
			look >got 2>&1
			if ! cmp -s want got; then bad=$((bad + 1)); cp got bad.$bad; fi
			n=$((n + 1))
		done
		echo "$n $bad" >reader.out
	) &
	reader=$! &&
	for i in $(seq 30); do nb --force --quiet || { : >stop; exit 1; }; done &&
	: >stop && wait $reader &&
	read n bad <reader.out &&
	echo "# $n listings, $bad bad" &&
	test "$n" -gt 0 &&
	if [ "$bad" != 0 ]; then cat bad.1; false; fi &&
	test -z "$(ls -A "$TRASH/hub" | grep staging)"
'

test_done
