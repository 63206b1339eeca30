# t/lib-sweep.sh — the kill-point sweep (issue 21, item 4), shared by
# t/2028 (SIGKILL) and t/2040 (SIGTERM, SIGHUP), sourced after t/lib.sh,
# t/lib-git.sh and t/lib-deploy.sh:
#   SWEEP_SIG=KILL        the signal run-deploy gets (at each point as it
#                         is when the point is defined)
#   sweep_setup           remotes stack/ex1/ex2 with a small pair of trees
#                         each (and a 3,000-file pair for stack), checkouts
#                         compose/extra1/extra2, the stand-in
#   sweep_strategy S      $CONFIG for strategy S, every command the stand-in
#   sweep_point SIZE POINT [POINT2]   one kill point, one test (below)
#   sweep_count MIN       the "# N kill points" line, and a test that N >= MIN
#
# The points are deterministic: a named step boundary
# (AUTODEPLOY_TEST_KILL_AT, after-stop, touched-N ...), the Nth file a
# checkout writes (checkout-file-N, restore-file-N: libgit2's progress
# counter), or the Nth command run-deploy runs (the stand-in counts its
# calls and signals the topmost run-deploy before or after doing its
# work).  Nothing waits on a clock.
#
# Each test: a new commit on every remote whose tree is the other of the
# pair (a move that modifies, adds, deletes, swaps a file and a folder
# both ways, changes a mode and a symlink target); run-deploy is signalled
# at the point; then the next run (--if-drift) must exit 0 with every
# checkout clean at the new commit, the stack started on exactly those
# commits, no journal; and one more run has nothing to do.  A point must
# really be reached: SIGKILL ends the run with 137, SIGTERM leaves its
# mark (the log line of the kill point, or the stand-in's).

SWEEP_SIG=${SWEEP_SIG:-KILL}
SWEEP_POINTS=0
SW=$TRASH/sweep
export SWEEP_SIG SW

# pair_tree DEV N: fill the clone DEV with tree A of a pair of about N
# files; pair_flip DEV N: turn it into tree B.  B rewrites a third of the
# files, deletes a third, adds a sixth, turns the file "keep" into a
# folder and the folder "tree" into a file, makes run.sh executable and
# points the symlink "link" elsewhere.
pair_tree() {
	mkdir -p "$1/many" "$1/tree" &&
	_s=$(($2 / 15)) &&
	for _i in $(seq 1 "$2"); do echo "$_i" >"$1/many/f$_i" || return 1; done &&
	for _i in $(seq 1 "$_s"); do echo "$_i" >"$1/tree/t$_i" || return 1; done &&
	echo "a file" >"$1/keep" &&
	echo a >"$1/mod.txt" &&
	printf "#!/bin/sh\n" >"$1/run.sh" &&
	chmod -x "$1/run.sh" &&
	ln -s mod.txt "$1/link"
}
pair_flip() {
	_s=$(($2 / 15)) _third=$(($2 / 3)) &&
	for _i in $(seq 1 "$_third"); do echo "$_i changed" >"$1/many/f$_i" || return 1; done &&
	for _i in $(seq $((2 * _third + 1)) "$2"); do rm "$1/many/f$_i" || return 1; done &&
	for _i in $(seq $(($2 + 1)) $(($2 + $2 / 6))); do echo "$_i" >"$1/many/f$_i" || return 1; done &&
	rm -r "$1/tree" "$1/keep" &&
	mkdir "$1/keep" &&
	for _i in $(seq 1 "$_s"); do echo "$_i" >"$1/keep/k$_i" || return 1; done &&
	echo "now a file" >"$1/tree" &&
	echo b >"$1/mod.txt" &&
	chmod +x "$1/run.sh" &&
	rm "$1/link" && ln -s run.sh "$1/link"
}

# make_pair NAME SIZE N: the trees A and B of N files for remote NAME,
# their ids in $SW/NAME-SIZE-A and -B (made in a throw-away clone: the
# remote's main does not move).
make_pair() {
	_d=$SW/pair-$1-$2 &&
	git clone -q "$(remote_url "$1")" "$_d" &&
	git -C "$_d" rm -q -r --ignore-unmatch . &&
	pair_tree "$_d" "$3" &&
	git -C "$_d" add -A &&
	git -C "$_d" commit -q -m "$2 tree A" &&
	git -C "$_d" rev-parse HEAD^{tree} >"$SW/$1-$2-A" &&
	pair_flip "$_d" "$3" &&
	git -C "$_d" add -A &&
	git -C "$_d" commit -q -m "$2 tree B" &&
	git -C "$_d" rev-parse HEAD^{tree} >"$SW/$1-$2-B" &&
	git -C "$_d" push -q origin "HEAD:refs/heads/pairs-$2" &&
	rm -rf "$_d"
}

# flip NAME SIZE: a new commit on NAME's main whose tree is the other tree
# of the pair SIZE (tree A when main holds neither), made without a work
# tree.  Main's tree is kept in $SW/NAME.tree: two git calls a flip, not
# five (a sweep flips a thousand times).
flip() {
	_g=$TRASH/$1.git _now= _a= &&
	read -r _a <"$SW/$1-$2-A" &&
	if [ -e "$SW/$1.tree" ]; then read -r _now <"$SW/$1.tree"; fi &&
	if [ "$_now" = "$_a" ]; then read -r _t <"$SW/$1-$2-B"; else _t=$_a; fi &&
	_c=$(git -C "$_g" commit-tree "$_t" -p main -m "flip $2") &&
	git -C "$_g" update-ref refs/heads/main "$_c" &&
	echo "$_t" >"$SW/$1.tree"
}

# The stand-in for every stack command: light (the sweep calls it a
# thousand times), it records the stack's state as "running" and the
# three commits it was started on, or "stopped".  It counts its calls in
# $SW/calls; at the call numbered in $SW/kill-call it signals the topmost
# run-deploy (its command supervisor has that name too) before its work
# ($SW/kill-mode "pre": under SIGKILL the supervisor kills it at once)
# or after it ("post"), and leaves $SW/signalled.  It fails once when
# $SW/fail-ROLE exists (and removes it).
write_sweep_standin() {
	mkdir -p "$TRASH/bin" "$TRASH/fake" &&
	printf "#!/bin/sh\nexit 1\n" >"$TRASH/fake/docker" &&
	cp "$TRASH/fake/docker" "$TRASH/fake/docker-compose" &&
	chmod +x "$TRASH/fake/docker" "$TRASH/fake/docker-compose" &&
	{ printf '#!/bin/sh\nrole=$1\n' && kill_call_sh && cat <<-EOF; } >"$TRASH/bin/sweep-standin" &&
	# a SIGKILL's supervisor kills this call within the second: its work
	# is never done; a SIGTERM is passed on to it only where run-deploy
	# cancels (not in a rollback or a recovery): there it goes on
	if [ "\$mode" = pre ]; then signal_top "\$role \${AUTODEPLOY_PHASE:-} \$mode"; sleep 1; fi
	rc=0
	[ -e "$SW/fail-\$role" ] && rc=1 && rm "$SW/fail-\$role"
	case \$role in
	stop) echo stopped >"$STACK_STATE" ;;
	start) [ \$rc = 0 ] && echo "running \$(git -C "$TRASH/compose" rev-parse HEAD) \$(git -C "$TRASH/extra1" rev-parse HEAD) \$(git -C "$TRASH/extra2" rev-parse HEAD)" >"$STACK_STATE" ;;
	esac
	if [ "\$mode" = post ]; then signal_top "\$role \${AUTODEPLOY_PHASE:-} \$mode"; fi
	exit \$rc
	EOF
	chmod 755 "$TRASH/bin/sweep-standin"
}

# sweep_setup: the remotes, their pairs of trees, the checkouts at tree A.
sweep_setup() {
	mkdir -p "$SW" &&
	make_remote stack 1 &&
	make_remote ex1 1 &&
	make_remote ex2 1 &&
	make_pair stack small 30 &&
	make_pair ex1 small 30 &&
	make_pair ex2 small 30 &&
	make_pair stack big 3000 &&
	for r in stack ex1 ex2; do flip $r small || return 1; done &&
	clone_remote stack compose &&
	clone_remote ex1 extra1 &&
	clone_remote ex2 extra2 &&
	write_sweep_standin
}

# sweep_setup_test: the first test of a sweep script (sweep_setup, the
# checkouts deployed, the stack running on them); then every stack
# command's docker is the failing fake.
sweep_setup_test() {
	test_expect_success 'setup: three remotes with a small pair of trees each, the stack one a 3,000-file pair too; checkouts deployed' '
		sweep_setup &&
		sweep_strategy restart &&
		PATH=$TRASH/fake:$PATH run-deploy --config "$CONFIG" >out 2>err &&
		test_grep "nothing to deploy" err &&
		echo "running $(heads)" >"$STACK_STATE" &&
		ends_clean
	'
	PATH=$TRASH/fake:$PATH
}

# sweep_strategy STRATEGY: $CONFIG with every command through the stand-in.
sweep_strategy() {
	write_config "$TRASH/compose" "$TRASH/extra1 $TRASH/extra2" &&
	config_add AUTODEPLOY_STRATEGY "$1" &&
	for c in STOP START PREPARE HEALTHCHECK PRE_DEPLOY NOTIFY; do
		role=$(echo "$c" | tr A-Z_ a-z-) &&
		config_add "AUTODEPLOY_${c}_COMMAND" "$TRASH/bin/sweep-standin $role" || return 1
	done &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 30 &&
	config_add AUTODEPLOY_HEALTHCHECK_INTERVAL 1 &&
	: >"$SW/calls"
}

# sweep_run RC [KILL-AT]: one run-deploy (with the test kill point
# KILL-AT, if any) that must exit RC; "any" takes whatever it says.
sweep_run() {
	_want=$1 _at=${2:-}
	_got=0
	AUTODEPLOY_TEST_KILL_AT=$_at AUTODEPLOY_TEST_KILL_SIGNAL=$SWEEP_SIG \
		run-deploy --config "$CONFIG" --if-drift >>"$SW/out" 2>>"$SW/err" || _got=$?
	: >"$SW/kill-call"
	if [ "$_want" != any ] && [ "$_got" != "$_want" ]; then
		echo "error: run-deploy (killed at '$_at') exited $_got, expected $_want" >&2
		tail -n 30 "$SW/err" >&2
		return 1
	fi
}

# signalled WHERE: the run just killed reached its point: by SIGKILL it
# died (137, checked by sweep_run); a SIGTERM left its mark (WHERE: "log",
# the kill point's own line or, inside a checkout, "interrupted by
# signal"; "standin", the stand-in's file).
signalled() {
	if [ "$SWEEP_SIG" = KILL ]; then
		return 0
	fi
	case $1 in
	log) test_grep "killing myself\|interrupted by signal" "$SW/err" ;;
	standin) test -e "$SW/signalled" ;;
	esac
}

# ends_clean: the state every point must end in.
ends_clean() {
	_heads=$(heads) &&
	is "heads" "$_heads" "$(remote_heads)" &&
	for _c in compose extra1 extra2; do
		git -C "$TRASH/$_c" status --porcelain --ignored >"$SW/status" &&
		test_must_be_empty "$SW/status" || return 1
	done &&
	no_journal &&
	is "the stack" "$(cat "$STACK_STATE")" "running $_heads"
}

# sweep_point SIZE POINT [POINT2]: killed at POINT; with POINT2, the
# run that recovers is killed too, at POINT2.  A POINT is a step boundary
# or file count of AUTODEPLOY_TEST_KILL_AT, or call-N-pre / call-N-post
# (the stand-in's Nth call).  SIZE: small (every checkout moves a tree of
# ~40 files) or big (the compose checkout moves ~3,000).
sweep_point() {
	sweep_sampled || return 0
	SWEEP_POINTS=$((SWEEP_POINTS + 1))
	P_SIZE=$1 P_A=$2 P_B=${3:-}
	export P_SIZE P_A P_B
	test_expect_success "$SWEEP_STRATEGY, SIG$SWEEP_SIG at $P_A${P_B:+, then in the recovery at $P_B} ($P_SIZE): the next run ends clean at the new commits, started, no journal" '
		flip stack "$P_SIZE" &&
		if [ "$P_SIZE" = small ]; then flip ex1 small && flip ex2 small; fi &&
		kill_rc=137 &&
		if [ "$SWEEP_SIG" != KILL ]; then kill_rc=any; fi &&
		sweep_kill "$P_A" &&
		if [ -n "$P_B" ]; then sweep_kill "$P_B"; fi &&
		sweep_run 0 &&
		no_journal &&
		: >"$SW/err" &&
		sweep_run 0 &&
		test_grep "nothing is due" "$SW/err" &&
		ends_clean
	'
}

# sweep_kill POINT: the killed run of a point.
sweep_kill() {
	echo "$SWEEP_SIG" >"$SW/signal" &&
	: >"$SW/err" &&
	rm -f "$SW/signalled" &&
	_p=$1 &&
	case $_p in
	fail-*+*)
		: >"$SW/${_p%%+*}" &&
		_p=${_p#*+} ;;
	esac &&
	case $_p in
	call-*)
		_n=${_p#call-} &&
		echo "${_n#*-}" >"$SW/kill-mode" &&
		: >"$SW/calls" &&
		echo "${_n%-*}" >"$SW/kill-call" &&
		sweep_run "$kill_rc" &&
		signalled standin ;;
	*)
		sweep_run "$kill_rc" "$_p" &&
		signalled log ;;
	esac
}

# sweep_count MIN: say how many points ran; fewer than MIN fails (a sweep
# that shrinks by accident must not pass as a sweep).
sweep_count() {
	_floor=$(($1 / SWEEP_EVERY))
	echo "# $SWEEP_POINTS kill points (every ${SWEEP_EVERY}th of the sweep)"
	test_expect_success "at least $_floor kill points were swept ($SWEEP_POINTS)" '
		test "$SWEEP_POINTS" -ge '"$_floor"'
	'
}
