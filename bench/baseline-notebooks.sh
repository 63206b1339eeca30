#!/bin/sh
# bench/baseline-notebooks.sh URL SUBDIR DEST: the shell way deploy-notebooks
# replaces, after the cron-era notebook job: a shallow clone of the
# default branch into a temporary folder, every *.ipynb under SUBDIR
# copied into DEST (folders kept), the clone removed.  Runs in full every
# time, whether the source moved or not; DEST is written in place.
set -e
url=$1 subdir=$2 dest=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/nb-baseline.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
git clone --quiet --depth 1 "$url" "$tmp/src"
mkdir -p "$dest"
cd "$tmp/src/$subdir"
find . -name '*.ipynb' -type f -exec cp --parents -t "$dest" {} +
