#!/bin/sh
# bench/machine.sh [DIR]: describe this machine for bench/RESULTS.md
# (cores, CPU, memory, kernel, the file system DIR lives on, tool versions).
dir=${1:-${TMPDIR:-/tmp}}
echo "Machine:"
echo
echo "- cores (nproc): $(nproc)"
echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | sort | uniq -c | sed 's/^ *\([0-9]*\) /\1 x /' | tr '\n' ';' | sed 's/;$//')"
echo "- memory: $(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "- kernel: $(uname -srm)"
echo "- file system of the temporary folder: $(df -T "$dir" | awk 'NR == 2 { print $2 " (" $1 ")" }')"
echo "- load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- $(git --version), libgit2 $(pkg-config --modversion libgit2 2>/dev/null || echo '?'), $( (logrotate --version 2>&1 || /usr/sbin/logrotate --version 2>&1) | head -n 1), $(gzip --version | head -n 1), zlib $(pkg-config --modversion zlib 2>/dev/null || echo '?'), $(ssh -V 2>&1 | cut -d, -f1)"
