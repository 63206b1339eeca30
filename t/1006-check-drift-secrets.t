#!/bin/bash
# A password in a remote URL never reaches a message, whatever it is: one
# of "*" (which the mask itself matches: it used to loop until it crashed),
# one or two bytes (the mask is longer: it used to overflow the message
# buffer), or percent-encoded.  The remote is a closed port on 127.0.0.1.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

test_expect_success 'setup: a checkout whose remote is a closed local port' '
	make_remote stack 1 &&
	clone_remote stack compose &&
	write_config "$TRASH/compose"
'

for pw in '*' 'a' 'ab' '**' 'a%40TOPSECRET99%2Fb' "$(printf 'x%.0s' $(seq 1 300))"; do
	test_expect_success "password '${pw:0:20}': check-drift exits 69, the password is nowhere" '
		git -C compose remote set-url origin "http://deploy:$pw@127.0.0.1:1/x.git" &&
		test_must_fail 69 check-drift --config "$CONFIG" --json >out 2>err &&
		test_grep "cannot reach remote .origin. (http://\*\*\*@127.0.0.1:1/x.git)" err &&
		case $pw in
		*TOPSECRET*) test_grep ! TOPSECRET err && test_grep ! TOPSECRET out &&
		             test_grep ! TOPSECRET "$LOG_DIR/autodeploy.log" ;;
		xxx*) test_grep ! "$pw" err && test_grep ! "$pw" "$LOG_DIR/autodeploy.log" ;;
		esac
	'
done

test_expect_success 'an ssh user name alone is no secret: the message around it is left whole' '
	git -C compose remote set-url origin "ssh://1@127.0.0.1:1/x.git" &&
	# an agent socket (that is not there): no key file is needed for ssh
	# to run and say that nothing listens on port 1
	SSH_AUTH_SOCK=$TRASH/no-agent test_must_fail 69 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "cannot reach .127.0.0.1. through ssh: ssh: connect to host 127.0.0.1 port 1: Connection refused" err
'

test_expect_success 'over http a user name alone may be a token: masked in libgit2'"'"'s words too' '
	git -C compose remote set-url origin "http://1@127.0.0.1:1/x.git" &&
	test_must_fail 69 check-drift --config "$CONFIG" >out 2>err &&
	test_grep "(http://\*\*\*@127.0.0.1:1/x.git): failed to connect to \*\*\*27.0.0.\*\*\*" err
'

test_done
