#!/bin/bash
# run-deploy's remaining error paths: a stop command that fails (the stack
# is started again on the old commits, nothing moved: 2), a configured
# checkout that is missing (skipped with a warning, the others deployed),
# and a journal that cannot be read (kept, exit 3, with what to do).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

test_expect_success 'setup: three checkouts, a stand-in stack' '
	deploy_setup no &&
	save_heads v1
'

test_expect_success 'a stop that fails: exit 2, nothing moved, no second stop, the stack started again' '
	push_all &&
	touch fail-stop &&
	fresh_record &&
	rd 2 &&
	is "checkouts" "$(heads)" "$(saved v1)" &&
	test_grep "stop failed: starting the stack again on the old commits" err &&
	record_is stop:stop:1 start:rollback-start:0 healthcheck:rollback-healthcheck:0 &&
	stack_is running &&
	no_journal
'

test_expect_success 'with stop fixed, the same (quarantined) commits deploy with --retry' '
	rm fail-stop &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(saved v1)" &&
	rd 0 --retry &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_expect_success 'a configured checkout that is missing is skipped with a warning; the others deploy' '
	config_add AUTODEPLOY_EXTRA_REPOS "$TRASH/extra1 $TRASH/extra2 $TRASH/gone" &&
	dev_push ex2 >/dev/null &&
	fresh_record &&
	rd 0 &&
	test_grep "warning: .*gone.: skipped" err &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	is "stops" "$(count_calls stop)" 1
'

test_expect_success 'a journal that cannot be read: exit 3, the journal kept, the message says what to do' '
	echo "not a journal" >"$JOURNAL" &&
	fresh_record &&
	rd 3 &&
	test -e "$JOURNAL" &&
	test_grep "not an autodeploy journal: look at it, restore the checkouts by hand, then remove it" err &&
	record_empty
'

test_expect_success 'a journal with an unknown state, or a malformed line: exit 3, kept, naming file and line' '
	printf "autodeploy-journal 2\nstate sideways\n" >"$JOURNAL" &&
	rd 3 &&
	test_grep "deploy.journal:2: unknown state line: look at it, restore the checkouts by hand" err &&
	printf "autodeploy-journal 2\nstate deploy\n0123 4567 1 /srv/x\n" >"$JOURNAL" &&
	rd 3 &&
	test_grep "deploy.journal:3: malformed line: look at it" err &&
	test -e "$JOURNAL"
'

test_expect_success 'a journal of the third format (no images: the previous release) is restored' '
	rm -f "$JOURNAL" &&
	save_heads before &&
	push_all &&
	AUTODEPLOY_TEST_KILL_AT=after-checkout-2 rd 137 &&
	test_grep "^autodeploy-journal 4$" "$JOURNAL" &&
	sed -i -e "/^image /d" -e "s/^autodeploy-journal 4$/autodeploy-journal 3/" "$JOURNAL" &&
	test_grep "^autodeploy-journal 3$" "$JOURNAL" &&
	fresh_record &&
	rd 0 &&
	is "recover-start saw" "$(call_heads start recover-start)" "$(saved before)" &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	no_journal
'

test_expect_success 'a journal of the second format (no root nor branch) is restored' '
	rm -f "$JOURNAL" &&
	save_heads before &&
	push_all &&
	AUTODEPLOY_TEST_KILL_AT=after-checkout-2 rd 137 &&
	sed -i -e "/^image /d" -e "/^root /d" -e "/^branch /d" -e "s/^autodeploy-journal 4$/autodeploy-journal 2/" "$JOURNAL" &&
	test_grep "^autodeploy-journal 2$" "$JOURNAL" &&
	test_grep ! "^root " "$JOURNAL" &&
	fresh_record &&
	rd 0 &&
	is "recover-start saw" "$(call_heads start recover-start)" "$(saved before)" &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	no_journal
'

test_expect_success 'a journal of the first format (a run of an older release killed) is restored whole' '
	rm -f "$JOURNAL" &&
	save_heads before &&
	push_all &&
	AUTODEPLOY_TEST_KILL_AT=after-checkout-2 rd 137 &&
	sed -i -e "/^state /d" -e "/^image /d" -e "/^root /d" -e "/^branch /d" -e "s/^autodeploy-journal 4$/autodeploy-journal 1/" \
	    -e "s/^\([0-9a-f]* [0-9a-f]*\) [01] /\1 /" "$JOURNAL" &&
	test_grep "^autodeploy-journal 1$" "$JOURNAL" &&
	fresh_record &&
	rd 0 &&
	is "recover-start saw" "$(call_heads start recover-start)" "$(saved before)" &&
	is "checkouts" "$(heads)" "$(remote_heads)" &&
	no_journal
'

test_expect_success 'once the operator removes it, deploys go on' '
	rm -f "$JOURNAL" &&
	dev_push stack >/dev/null &&
	rd 0 --if-drift &&
	is "checkouts" "$(heads)" "$(remote_heads)"
'

test_done
