# t/lib-nspawn.sh — Debian roots booted with their own systemd, for the
# tests that need a real PID 1 (t/2019, t/9003).  Sourced after lib.sh:
#
#   . "$T_DIR/lib-nspawn.sh"
#   nspawn_base                      # the cached root tarball, built once
#   nspawn_unpack "$TRASH/root"      # a private copy of it
#   nspawn_stop_at_exit NAME         # at the top level, before it boots
#   nspawn_boot "$TRASH/root" NAME   # systemd-nspawn --boot, in the background
#   nspawn_wait_booted NAME          # PID 1 in the container has finished booting
#   in_container NAME CMD...         # run CMD inside the booted container
#
# The root is Debian bookworm, like the machines the tests run on, so the
# programs built here run in it.  It comes from the Debian mirror this
# machine's own apt configuration names: the tests name no host.

NSPAWN_CACHE=/var/cache/autodeploy-test
NSPAWN_BASE=$NSPAWN_CACHE/host-root-systemd.tar
NSPAWN_SUITE=bookworm
# What the tests need inside: systemd as PID 1, the programs' shared
# libraries, sshd and python3 for Ansible (t/9003), git for pushes made
# inside the container (t/2019: the hook must see the container's files).
NSPAWN_PKGS=systemd,systemd-sysv,dbus,python3,python3-apt,openssh-server,git,libgit2-1.5,libpopt0,libjson-c5,libmbedcrypto7

# nspawn_mirror: the first Debian archive URI that this machine's apt
# sources use for $NSPAWN_SUITE, from deb822 files
# (/etc/apt/sources.list.d/*.sources: Types:, URIs:, Suites:) or the
# one-line format (/etc/apt/sources.list{,.d/*.list}).
nspawn_mirror() {
	{
		for f in /etc/apt/sources.list.d/*.sources; do
			[ -r "$f" ] || continue
			awk -v suite="$NSPAWN_SUITE" '
				function flush() {
					if (deb && ok && on && uri != "") print uri
					deb = 0; ok = 0; on = 1; uri = ""
				}
				BEGIN { on = 1 }
				tolower($1) == "enabled:" && tolower($2) == "no" { on = 0 }
				/^[ \t]*$/ { flush(); next }
				/^#/ { next }
				tolower($1) == "types:" { for (i = 2; i <= NF; i++) if ($i == "deb") deb = 1 }
				tolower($1) == "uris:" { uri = $2 }
				tolower($1) == "suites:" { for (i = 2; i <= NF; i++) if ($i == suite) ok = 1 }
				END { flush() }' "$f"
		done
		for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
			[ -r "$f" ] || continue
			awk -v suite="$NSPAWN_SUITE" '
				$1 != "deb" { next }
				{ i = 2; if ($i ~ /^\[/) while ($i !~ /\]$/) i++; if ($i ~ /^\[/ || $i ~ /\]$/) i++ }
				$(i + 1) == suite { print $i }' "$f"
		done
	} | head -n 1
}

# nspawn_base: make sure $NSPAWN_BASE exists and holds $NSPAWN_PKGS
# (recorded beside it); build it with debootstrap otherwise.  Under a lock:
# tests run in parallel and two of them may want it at once.
nspawn_base() {
	mkdir -p "$NSPAWN_CACHE" &&
	(
		flock 9 &&
		if [ -s "$NSPAWN_BASE" ] && [ "$(cat "$NSPAWN_BASE.pkgs" 2>/dev/null)" = "$NSPAWN_PKGS" ]; then
			exit 0
		fi &&
		mirror=$(nspawn_mirror) &&
		{ [ -n "$mirror" ] || { echo "no Debian mirror for $NSPAWN_SUITE in /etc/apt" >&2; false; }; } &&
		rm -rf "$TRASH/nspawn-base" &&
		{ debootstrap --variant=minbase --include="$NSPAWN_PKGS" "$NSPAWN_SUITE" "$TRASH/nspawn-base" \
			"$mirror" >"$TRASH/debootstrap.log" 2>&1 ||
			{ tail -n 20 "$TRASH/debootstrap.log" >&2; false; }; } &&
		tar -C "$TRASH/nspawn-base" -cf "$NSPAWN_BASE.tmp" . &&
		mv "$NSPAWN_BASE.tmp" "$NSPAWN_BASE" &&
		echo "$NSPAWN_PKGS" >"$NSPAWN_BASE.pkgs" &&
		rm -rf "$TRASH/nspawn-base"
	) 9>>"$NSPAWN_CACHE/.lock"
}

# nspawn_unpack DIR: a private copy of the base root in DIR.
nspawn_unpack() {
	mkdir -p "$1" && tar -C "$1" -xf "$NSPAWN_BASE"
}

# nspawn_boot DIR NAME [NSPAWN-OPTION...]: boot DIR with its own systemd
# in the background, as machine NAME (unique per run: tests run in
# parallel).
nspawn_boot() {
	_d=$1 _n=$2
	shift 2
	systemd-nspawn -D "$_d" --boot --register=no --keep-unit --console=passive -q \
		--machine="$_n" "$@" </dev/null >"$TRASH/boot-$_n.log" 2>&1 &
	echo $! >"$TRASH/nspawn-$_n.pid"
}

# nspawn_stop_at_exit NAME: stop container NAME when the script ends,
# whatever happened.  Call it outside the test bodies (they run in
# subshells).  Killing a container's init ends its whole PID namespace;
# systemd-nspawn then exits.
nspawn_stop_at_exit() {
	at_exit "p=\$(cat '$TRASH/nspawn-$1.pid' 2>/dev/null) && kill -9 \$(pgrep -P \$p) && sleep 1 && kill -9 \$p"
}

# nspawn_init NAME: the host PID of the container's PID 1.
nspawn_init() {
	pgrep -P "$(cat "$TRASH/nspawn-$1.pid")" | head -n 1
}

# in_container NAME CMD...: CMD in all the container's namespaces, in its
# root, as its root user.
in_container() {
	_n=$1
	shift
	nsenter -t "$(nspawn_init "$_n")" -a -r -w env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"
}

# nspawn_wait_booted NAME: up to 60 s for the container's systemd to
# finish booting (running, or degraded: a unit a minimal root cannot run).
nspawn_wait_booted() {
	_i=0
	until _s=$(in_container "$1" systemctl is-system-running 2>/dev/null || :) &&
		{ [ "$_s" = running ] || [ "$_s" = degraded ]; }; do
		_i=$((_i + 1))
		[ $_i -lt 300 ] || { echo "container $1 did not boot (${_s:-no answer}):" >&2; tail -n 20 "$TRASH/boot-$1.log" >&2; return 1; }
		sleep 0.2
	done
}
