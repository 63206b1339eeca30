#!/bin/bash
# Where a notebook source goes (birdhouse-deploy's layouts): SUBDIR>DEST
# publishes into a folder of its own below the destination (hydro/,
# hydro/paper/), SUBDIR/** publishes every file, not only the notebooks
# (a tutorial's .yml, .shp, .geojson data).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-notebooks.sh"

# a source repository with notebooks and data files
make_source() {
	git init -q --bare "$TRASH/$1.git" &&
	git clone -q "$TRASH/$1.git" "$TRASH/w-$1" 2>/dev/null &&
	mkdir -p "$TRASH/w-$1/docs/data" &&
	echo '{"cells": []}' >"$TRASH/w-$1/docs/$1.ipynb" &&
	echo 'a: 1' >"$TRASH/w-$1/docs/data/env.yml" &&
	echo '{}' >"$TRASH/w-$1/docs/data/shape.geojson" &&
	git -C "$TRASH/w-$1" add -A &&
	git -C "$TRASH/w-$1" commit -q -m "$1" &&
	git -C "$TRASH/w-$1" push -q origin HEAD:refs/heads/main
}

listing() { (cd "$NB" && find . -type f | sort); }

test_expect_success 'setup: three sources' '
	make_source hydro && make_source paper && make_source training
'

test_expect_success 'SUBDIR>DEST: each source into its own folder, notebooks only' '
	nb_config "file://$TRASH/hydro.git#main:docs>hydro" "file://$TRASH/paper.git#main:docs>hydro/paper" &&
	nb 2>err &&
	listing >actual &&
	printf "./hydro/hydro.ipynb\n./hydro/paper/paper.ipynb\n" >expect &&
	test_cmp expect actual
'

test_expect_success 'SUBDIR/**: every file of the folder, data included; >DEST with it' '
	nb_config "file://$TRASH/training.git#main:docs/**>PAVICS-training" "file://$TRASH/hydro.git#:docs" &&
	nb 2>err &&
	listing >actual &&
	printf "./PAVICS-training/data/env.yml\n./PAVICS-training/data/shape.geojson\n./PAVICS-training/training.ipynb\n./hydro.ipynb\n" >expect &&
	test_cmp expect actual &&
	is_mode=$(stat -c %a "$NB/PAVICS-training/data/env.yml") &&
	test "$is_mode" = 444
'

test_expect_success 'a DEST that would leave the destination, or a stray *, is a config error naming the entry (78)' '
	nb_config "file://$TRASH/hydro.git#main:docs>../etc" &&
	test_must_fail 78 nb 2>err &&
	test_grep "the name .\.\.., which would leave the folder" err &&
	nb_config "file://$TRASH/hydro.git#main:docs>" &&
	test_must_fail 78 nb 2>err &&
	test_grep ".>. needs a folder below the destination" err &&
	nb_config "file://$TRASH/hydro.git#main:do*cs" &&
	test_must_fail 78 nb 2>err &&
	test_grep "only as a last ./\*\*." err &&
	nb_config "file://$TRASH/hydro.git#main:docs>.git" &&
	test_must_fail 78 nb 2>err &&
	test_grep "the name .\.git." err
'

test_done
