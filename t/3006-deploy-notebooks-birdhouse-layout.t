#!/bin/bash
# The birdhouse-deploy notebook layout that env.local.example gives is
# birdhouse's own: its trigger-deploy-notebook downloads the repositories
# of PAVICS-e2e-workflow-tests' default_build_params, lays them out with
# binder/reorg-notebooks and moves the workflow tests' notebooks to the
# top, each `mv` overwriting what an earlier one put there.  The sources
# are read from the example itself (their URLs pointed at local stand-ins
# of the same names, branches and folders), so the documented list is
# what is checked: the hydrology notebooks in hydro/ (RavenPy's paper/ in
# hydro/paper/, xhydro's winning a clash), pavics-sdi's top notebooks and
# its PAVICS-training/ whole, finch's, then the workflow tests' winning
# the top, and nothing from PAVICS-landing (published only for Binder).
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-notebooks.sh"

# repo NAME BRANCH PATH=TEXT...: a bare NAME.git whose only branch is
# BRANCH, holding each PATH with TEXT.
repo() {
	_name=$1 _branch=$2
	shift 2
	git init -q -b "$_branch" "$TRASH/w-$_name" &&
	for f in "$@"; do
		mkdir -p "$TRASH/w-$_name/$(dirname "${f%%=*}")" &&
		echo "${f#*=}" >"$TRASH/w-$_name/${f%%=*}" || return 1
	done &&
	git -C "$TRASH/w-$_name" add -A &&
	git -C "$TRASH/w-$_name" commit -q -m "$_name" &&
	git clone -q --bare "$TRASH/w-$_name" "$TRASH/$_name.git"
}

listing() { (cd "$NB" && find . -type f | sort); }

test_expect_success 'setup: the seven repositories, shaped as upstream has them' '
	repo raven main docs/source/notebooks/a.ipynb=raven-a docs/source/notebooks/h.ipynb=raven-h \
		docs/source/notebooks/index.rst=rst &&
	repo RavenPy main docs/notebooks/h.ipynb=ravenpy-h docs/notebooks/r.ipynb=ravenpy-r \
		docs/notebooks/paper/p.ipynb=paper docs/notebooks/paper/paper.pdf=pdf docs/notebooks/conf.py=py &&
	repo xhydro main docs/notebooks/pavics_notebooks/h.ipynb=xhydro-h docs/notebooks/pavics_notebooks/x.ipynb=xhydro-x &&
	repo pavics-sdi master docs/source/notebooks/s.ipynb=sdi-s docs/source/notebooks/top.ipynb=sdi-top \
		docs/source/notebooks/index.rst=rst docs/source/notebooks/PAVICS-training/t.ipynb=training \
		docs/source/notebooks/PAVICS-training/data/d.csv=csv &&
	repo finch main docs/source/notebooks/f.ipynb=finch-f docs/source/notebooks/top.ipynb=finch-top &&
	repo PAVICS-e2e-workflow-tests master notebooks/hummingbird.ipynb=e2e-h notebooks/top.ipynb=e2e-top \
		notebooks/output-sanitize.cfg=cfg &&
	repo PAVICS-landing master content/notebooks/climate_indicators/c.ipynb=landing \
		content/notebooks/climate_indicators/c.html=html
'

test_expect_success 'env.local.example lists the layout, in upstream'"'"'s order' '
	sed -n "/birdhouse-deploy.s tutorial-notebooks layout/,/^#   \"\$/p" "$SRC_DIR/share/env.local.example" |
		sed -n "s|^#       https://github.com/[^/]*/\([^/]*\)\.git|file://$TRASH/\1.git|p" >sources &&
	cut -d"#" -f1 sources | sed "s|.*/||" >names &&
	printf "%s\n" raven.git RavenPy.git xhydro.git pavics-sdi.git pavics-sdi.git finch.git \
		PAVICS-e2e-workflow-tests.git >expect &&
	test_cmp expect names
'

test_expect_success 'published: the files upstream publishes, later sources winning as its mv order does' '
	nb_config "$(cat sources)" &&
	nb 2>err &&
	listing >actual &&
	cat >expect <<-\EOF &&
	./PAVICS-training/data/d.csv
	./PAVICS-training/t.ipynb
	./f.ipynb
	./hummingbird.ipynb
	./hydro/a.ipynb
	./hydro/h.ipynb
	./hydro/paper/p.ipynb
	./hydro/r.ipynb
	./hydro/x.ipynb
	./s.ipynb
	./top.ipynb
	EOF
	test_cmp expect actual &&
	test "$(cat "$NB/hydro/h.ipynb")" = xhydro-h &&
	test "$(cat "$NB/top.ipynb")" = e2e-top &&
	test "$(cat "$NB/PAVICS-training/t.ipynb")" = training
'

test_done
