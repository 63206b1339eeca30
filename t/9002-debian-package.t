#!/bin/bash
# make deb builds autodeploy_VERSION_ARCH.deb that lintian finds no error
# in; installed with dpkg -i it gives the programs, their man pages and
# templates, /etc/autodeploy/env.local as a conffile (root only) and no
# enabled service; purged, it leaves nothing.  Needs root (dpkg -i).
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ]; then
	test_skip_or_fail 'make deb, dpkg -i, purge' 'installing a package needs root'
	test_done
	exit
fi
if dpkg -s autodeploy >/dev/null 2>&1; then
	test_skip_or_fail 'make deb, dpkg -i, purge' 'an autodeploy package is installed here already'
	test_done
	exit
fi
version=$(sed -n 's/.*AUTODEPLOY_VERSION "\(.*\)".*/\1/p' "$SRC_DIR/lib/version.h")
deb=src/build/deb/autodeploy_${version}_$(dpkg --print-architecture).deb
at_exit 'dpkg --purge autodeploy >/dev/null 2>&1'

test_expect_success 'make deb builds the package from a copy of the tree, lintian finds no error' '
	mkdir src &&
	tar -C "$SRC_DIR" --exclude=./build --exclude="./build-*" --exclude=./debian/autodeploy \
		--exclude=./debian/.debhelper -cf - . | tar -C src -xf - &&
	# (not the variables of a make check-asan around us)
	{ env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C src deb >deb.log 2>&1 ||
		{ tail -n 30 deb.log; false; }; } &&
	test -f "$deb" &&
	test_grep "^lintian --fail-on error" deb.log
'

test_expect_success 'dpkg -i installs the programs, man pages, templates and a root-only env.local conffile' '
	{ dpkg -i "$deb" >install.log 2>&1 || { cat install.log; false; }; } &&
	test "$(/usr/bin/check-drift --version)" = "check-drift $version" &&
	for p in run-deploy deploy-notebooks rotate-logs install-units post-receive; do
		test -x /usr/bin/$p || return 1
	done &&
	test -f /usr/share/man/man1/run-deploy.1.gz &&
	test -f /usr/share/autodeploy/systemd-units/autodeploy.service.in &&
	dpkg-query -W -f="\${Conffiles}\n" autodeploy | grep -q "^ /etc/autodeploy/env.local " &&
	test "$(stat -c "%a %U" /etc/autodeploy/env.local)" = "600 root"
'

test_expect_success 'no service is enabled or started at install; install-units finds the packaged templates' '
	test -z "$(ls /etc/systemd/system | grep -E "^(autodeploy|notebookdeploy|rotate-logs)")" &&
	mkdir -p stack && git init -q stack &&
	sed "s|^AUTODEPLOY_COMPOSE_DIR=.*|AUTODEPLOY_COMPOSE_DIR=$TRASH/stack|" /etc/autodeploy/env.local >env.local &&
	printf "AUTODEPLOY_LOG_DIR=%s\nAUTODEPLOY_STATE_DIR=%s\n" "$TRASH/log" "$TRASH/state" >>env.local &&
	/usr/bin/install-units --config env.local --root "$TRASH/r" 2>err &&
	test -f "$TRASH/r/etc/systemd/system/autodeploy.service" &&
	test_grep "ExecStart=/usr/bin/run-deploy --if-drift" "$TRASH/r/etc/systemd/system/autodeploy.service"
'

test_expect_success 'dpkg --purge removes the programs and the conffile' '
	{ dpkg --purge autodeploy >purge.log 2>&1 || { cat purge.log; false; }; } &&
	test ! -e /usr/bin/check-drift && test ! -e /etc/autodeploy/env.local &&
	test ! -e /usr/share/autodeploy
'

test_done
