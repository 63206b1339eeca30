#!/bin/bash
# --dry-run prints exactly the commands a run with the same options then
# runs (SPEC.md "Exact and final": one plan, printed and executed): the
# options (--no-restart, --force) are applied once, in the plan, for both
# strategies.  The stand-in records every command a real run calls.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# listed: the roles of the stand-in commands in ./out ("would run: STANDIN ROLE ...").
listed() {
	awk -v s="$STANDIN" '$1 == "would" && $2 == "run:" && $3 == s { print $4 }' out
}

# called: the roles the stand-in recorded, in order.
called() {
	awk '{ print $1 }' "$RECORD"
}

test_expect_success 'setup: three checkouts, a stand-in stack with every command' '
	deploy_setup
'

for strategy in restart recreate; do
	for opts in "" "--no-restart" "--force" "--force --no-restart"; do
		test_expect_success "strategy $strategy, options '$opts': --dry-run lists what the run calls" '
			DEPLOY_STRATEGY=$strategy deploy_config &&
			push_all &&
			fresh_record &&
			rd 0 --dry-run $opts &&
			record_empty &&
			listed >listed &&
			rd 0 $opts &&
			called >called &&
			test_cmp listed called &&
			is "checkouts" "$(heads)" "$(remote_heads)"
		'
	done
	test_expect_success "strategy $strategy, --force with nothing moved: --dry-run lists what the run calls" '
		fresh_record &&
		rd 0 --dry-run --force &&
		listed >listed &&
		rd 0 --force &&
		called >called &&
		test_cmp listed called &&
		test_grep "^start$" listed
	'
done

test_expect_success '--no-restart lists neither stop, start nor health check (the bug of issue 20)' '
	DEPLOY_STRATEGY=restart deploy_config &&
	push_all &&
	rd 0 --dry-run --no-restart &&
	test_grep "^no restart (--no-restart)$" out &&
	test_grep ! "$STANDIN stop" out &&
	test_grep ! "$STANDIN start" out &&
	test_grep ! "$STANDIN healthcheck" out
'

test_done
