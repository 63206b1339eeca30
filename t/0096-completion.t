#!/bin/bash
# The bash completion offers exactly the options each program's --help
# lists, so the two can never drift apart; arguments of --config, --only
# complete sensibly.
. "$(dirname "$0")/lib.sh"

COMPLETION=$SRC_DIR/share/bash-completion/autodeploy

complete_words() { # complete_words WORD...: what completing the last word offers
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _autodeploy; printf "%s\n" "${COMPREPLY[@]}"' \
		- "$COMPLETION" "$@" | sort
}

for prog in check-drift run-deploy deploy-notebooks rotate-logs install-units; do
	test_expect_success "$prog: completion offers exactly the options of --help" '
		$prog --help | grep -oE -- "--[a-z][a-z-]*" | sort -u >want &&
		complete_words $prog "--" >got &&
		test_cmp want got
	'
done

test_expect_success 'a prefix narrows the choice' '
	complete_words run-deploy --if >got &&
	echo --if-drift >want &&
	test_cmp want got
'

test_expect_success '--only completes the unit groups, --config completes file names' '
	complete_words install-units --only note >got &&
	echo notebookdeploy >want &&
	test_cmp want got &&
	touch env.local &&
	complete_words check-drift --config env. >got &&
	echo env.local >want &&
	test_cmp want got
'

test_done
