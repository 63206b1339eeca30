#!/bin/bash
# The kill-point sweep (issue "Recovery that cannot get stuck", item 4):
# run-deploy is killed with SIGKILL at every journaled step boundary, at
# points spread over the checkout writes (the test-only counter
# AUTODEPLOY_TEST_KILL_AT=checkout-file-N: deterministic, no sleeps) and
# inside the stop and start commands, for both strategies, over a commit
# of ~3,000 files that modifies, adds, deletes, swaps a file and a folder
# both ways, changes a mode and a symlink.  After each kill the next
# `run-deploy --if-drift` must leave the checkout clean at the new commit
# (recovered, then deployed), the stack started on it, no journal; and one
# more run has nothing to do.
#
# AUTODEPLOY_SWEEP=full spreads the file kill points every 11 files (523
# points in all, about 50 minutes); the default, every 400 (27 points),
# keeps `make check` short.  Each point must really kill the run (137).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

if [ "${AUTODEPLOY_SWEEP:-}" = full ]; then STEP=11; else STEP=400; fi

test_expect_success 'setup: two trees A and B of ~3,000 files; the checkout at A' '
	deploy_setup no &&
	mkdir -p fake &&
	printf "#!/bin/sh\nexit 1\n" >fake/docker &&
	cp fake/docker fake/docker-compose &&
	chmod +x fake/docker fake/docker-compose &&
	dev=$(dev_clone stack) &&
	mkdir -p "$dev/many" "$dev/tree" &&
	for i in $(seq 1 3000); do echo "$i" >"$dev/many/f$i"; done &&
	for i in $(seq 1 200); do echo "$i" >"$dev/tree/t$i"; done &&
	echo "a file" >"$dev/keep" &&
	echo "a" >"$dev/mod.txt" &&
	printf "#!/bin/sh\n" >"$dev/run.sh" &&
	ln -s file.txt "$dev/link" &&
	dev_publish stack "tree A" >/dev/null &&
	git -C "$dev" rev-parse HEAD^{tree} >tree-A &&
	for i in $(seq 1 1000); do echo "$i changed" >"$dev/many/f$i"; done &&
	for i in $(seq 2001 3000); do rm "$dev/many/f$i"; done &&
	for i in $(seq 3001 3500); do echo "$i" >"$dev/many/f$i"; done &&
	rm -r "$dev/tree" "$dev/keep" &&
	mkdir "$dev/keep" &&
	for i in $(seq 1 200); do echo "$i" >"$dev/keep/k$i"; done &&
	echo "now a file" >"$dev/tree" &&
	echo "b" >"$dev/mod.txt" &&
	chmod +x "$dev/run.sh" &&
	rm "$dev/link" && ln -s mod.txt "$dev/link" &&
	git -C "$dev" add -A &&
	git -C "$dev" commit -q -m "tree B" &&
	git -C "$dev" rev-parse HEAD^{tree} >tree-B &&
	git -C "$dev" push -q origin HEAD:refs/heads/tree-b &&
	git -C "$dev" reset -q --hard HEAD~1 &&
	cat >bin/maybe-kill <<-EOF &&
	#!/bin/sh
	# the stack command ROLE; kills run-deploy first when $TRASH/kill-in names ROLE
	# (the topmost run-deploy: its command supervisor has its name too)
	if [ "\$(cat "$TRASH/kill-in" 2>/dev/null)" = "\$1" ]; then
		p=\$\$ top=
		while [ "\$p" -gt 1 ]; do
			[ "\$(cat /proc/\$p/comm)" = run-deploy ] && top=\$p
			p=\$(cut -d" " -f4 /proc/\$p/stat)
		done
		[ -n "\$top" ] && kill -KILL \$top && sleep 5
	fi
	exec "$STANDIN" "\$1"
	EOF
	chmod +x bin/maybe-kill &&
	rd 0 &&
	clean_at compose "$(git -C stack.git rev-parse main)"
'
PATH=$TRASH/fake:$PATH

# next_commit: a new commit on the remote whose tree is the other of A
# and B (the checkout is always at one of them), made without a work tree.
next_commit() {
	dev=$TRASH/dev-stack &&
	now=$(git -C "$TRASH/stack.git" rev-parse main^{tree}) &&
	if [ "$now" = "$(cat "$TRASH/tree-A")" ]; then t=$(cat "$TRASH/tree-B"); else t=$(cat "$TRASH/tree-A"); fi &&
	c=$(git -C "$TRASH/stack.git" commit-tree "$t" -p main -m "flip") &&
	git -C "$TRASH/stack.git" update-ref refs/heads/main "$c"
}

points=0
# sweep_point STRATEGY KILL-AT [IN-COMMAND]
sweep_point() {
	points=$((points + 1))
	KILL_AT=$2 KILL_IN=${3:-}
	test_expect_success "$1: killed at $2${3:+ (inside $3)}: the next run ends clean at the new commit, started, no journal" '
		next_commit &&
		new=$(git -C stack.git rev-parse main) &&
		echo "$KILL_IN" >kill-in &&
		{ AUTODEPLOY_TEST_KILL_AT=$KILL_AT run-deploy --config "$CONFIG" >out 2>err; rc=$?; } &&
		: >kill-in &&
		is "killed run-deploy exit" "$rc" 137 &&
		fresh_record &&
		rd 0 --if-drift &&
		clean_at compose "$new" &&
		no_journal &&
		stack_is running &&
		rd 0 --if-drift &&
		test_grep "nothing is due" err &&
		clean_at compose "$new"
	'
}

for strategy in restart recreate; do
	test_expect_success "setup: strategy $strategy, the stack commands through bin/maybe-kill" '
		DEPLOY_STRATEGY=$strategy deploy_config no &&
		config_add AUTODEPLOY_STOP_COMMAND "$TRASH/bin/maybe-kill stop" &&
		config_add AUTODEPLOY_START_COMMAND "$TRASH/bin/maybe-kill start" &&
		config_add AUTODEPLOY_PREPARE_COMMAND "$TRASH/bin/maybe-kill prepare" &&
		config_add AUTODEPLOY_HEALTHCHECK_COMMAND "$TRASH/bin/maybe-kill healthcheck"
	'
	for k in touched-0 after-checkout-0 after-start; do
		sweep_point $strategy $k
	done
	[ $strategy = restart ] && sweep_point $strategy after-stop
	[ $strategy = restart ] && sweep_point $strategy none stop
	sweep_point $strategy none start
	sweep_point $strategy none healthcheck
	[ $strategy = recreate ] && sweep_point $strategy none prepare
	# a move writes about 2,900 files either way
	for n in $(seq 1 $STEP 2800); do
		sweep_point $strategy checkout-file-$n
	done
done

echo "# kill points swept: $points"
test_done
