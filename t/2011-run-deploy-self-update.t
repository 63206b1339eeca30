#!/bin/bash
# AUTODEPLOY_SELF_UPDATE: when a deploy moves the suite's own checkout, the
# suite rebuilds it, installs only a good build, and re-runs install-units
# with the same config; a failed build installs nothing and is reported.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"

# extra2 plays the suite's source checkout: its Makefile records what make
# was asked to do, and a stand-in install-units records its arguments.
suite_makefile() { # suite_makefile BUILD-RECIPE
	dev_clone ex2 >/dev/null &&
	printf 'all:\n\t%s\ninstall:\n\ttouch %s/installed\n' "$1" "$TRASH" >"$TRASH/dev-ex2/Makefile" &&
	git -C "$TRASH/dev-ex2" add Makefile &&
	git -C "$TRASH/dev-ex2" commit -qm "suite: $1" &&
	git -C "$TRASH/dev-ex2" push -q origin HEAD
}

test_expect_success 'setup: three checkouts, extra2 is the suite, a stand-in install-units' '
	deploy_setup no &&
	config_add AUTODEPLOY_SELF_UPDATE "$TRASH/extra2" &&
	mkdir -p fakebin &&
	printf "#!/bin/sh\necho \"\$*\" >>%s/units-called\n" "$TRASH" >fakebin/install-units &&
	chmod +x fakebin/install-units
'

test_expect_success 'a deploy that moves the suite rebuilds, installs and re-runs install-units' '
	suite_makefile "touch $TRASH/built" &&
	PATH=$TRASH/fakebin:$PATH rd 0 &&
	test -e built &&
	test -e installed &&
	test "$(cat units-called)" = "--config $CONFIG" &&
	grep -q "self-update: installed and units refreshed" err
'

test_expect_success 'a deploy that does not move the suite rebuilds nothing' '
	rm -f built installed units-called &&
	dev_push ex1 >/dev/null &&
	PATH=$TRASH/fakebin:$PATH rd 0 &&
	! test -e built &&
	! test -e installed &&
	! test -e units-called
'

test_expect_success 'a failed build installs nothing, runs no install-units, and is reported' '
	suite_makefile "false" &&
	PATH=$TRASH/fakebin:$PATH rd 0 &&
	! test -e installed &&
	! test -e units-called &&
	grep -q "self-update: the build in .* failed.*the installed programs are unchanged" err
'

test_done
