#!/bin/bash
# AUTODEPLOY_PRESET=birdhouse with AUTODEPLOY_STRATEGY=recreate on the real
# engine, in birdhouse's shape: the compose dir birdhouse/ with a compose
# wrapper (a small stand-in of birdhouse-compose.sh: it reads env.local,
# named by BIRDHOUSE_LOCAL_ENV or beside it, and runs docker-compose with
# the main file and a component's extra file), an nginx proxy (Debian's
# nginx, image made offline) with static proxy_pass to two services by
# name on the compose network, as birdhouse's proxy has.  A release that
# changes service a only: the prepare is the staged copy's wrapper `pull`
# with the live env.local; a client probing b through the proxy every
# 20 ms sees no failure; and requests to a reach its NEW container, which
# nginx (it resolves proxy_pass names when it loads its config) only does
# because run-deploy reloads the proxy after it recreated a service.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-docker.sh"

docker_require nginx

# one project name of our own on a shared engine; the wrapper and the
# engine questions of run-deploy inherit it
COMPOSE_PROJECT_NAME=adbh$$
WRAPPER_CALLS=$TRASH/wrapper-calls
export COMPOSE_PROJECT_NAME WRAPPER_CALLS
CHECKOUT=$TRASH/site
at_exit "cd '$CHECKOUT/birdhouse' && docker-compose down -t 1"

# The engine often hands a removed container's address to the next one it
# makes, which would hide a stale upstream: the network has a subnet of
# this script's own, and each release of a pins another address, as a
# busy host's shuffled addresses would give it.
SUBNET=10.$((PORT % 250)).$(($$ % 250))

# web NAME VERSION [HOST]: the compose service NAME, serving VERSION at
# /NAME/, at SUBNET.HOST when given (its first line indented by the
# caller's here-document).
web() {
	if [ -n "${3:-}" ]; then
		_net="    networks: {default: {ipv4_address: $SUBNET.$3}}"
	else
		_net="    restart: \"no\""
	fi
	printf '%s\n' "  $1:" "    image: $IMAGE" "    init: true" "$_net" \
		"    command: [\"/bin/sh\", \"-c\", \"mkdir -p /tmp/www/$1 && echo $2 >/tmp/www/$1/index.html && exec httpd -f -p 80 -h /tmp/www\"]" \
		"    healthcheck:" \
		"      test: [\"CMD\", \"/bin/wget\", \"-q\", \"-O\", \"/dev/null\", \"http://127.0.0.1/$1/\"]" \
		"      interval: 1s" "      timeout: 2s" "      retries: 2"
}

# write_stack DIR VERSION_OF_A HOST_OF_A: DIR/birdhouse as a birdhouse
# checkout holds it; a serves VERSION_OF_A at SUBNET.HOST_OF_A, b always
# "b1".
write_stack() {
	mkdir -p "$1/birdhouse/components/proxy" &&
	cat >"$1/birdhouse/docker-compose.yml" <<-EOF &&
	version: "2.4"
	services:
	$(web a "$2" "$3")
	$(web b b1)
	  proxy:
	    image: autodeploy-nginx:1
	    command: ["/usr/sbin/nginx", "-g", "daemon off;"]
	    depends_on: [a, b]
	    ports:
	      - "127.0.0.1:$PORT:80"
	networks:
	  default:
	    ipam:
	      config:
	        - subnet: $SUBNET.0/24
	EOF
	# as birdhouse's components do: the proxy's config comes from an
	# extra file, and env.local sets what it interpolates
	cat >"$1/birdhouse/components/proxy/docker-compose-extra.yml" <<-\EOF &&
	version: "2.4"
	services:
	  proxy:
	    volumes:
	      - ./components/proxy/nginx.conf:/etc/nginx/nginx.conf:ro
	    labels:
	      bh.fqdn: "${BH_FQDN}"
	EOF
	nginx_conf "$1/birdhouse/components/proxy/nginx.conf" \
		"location /a/ { proxy_pass http://a:80; proxy_connect_timeout 1s; }" \
		"location /b/ { proxy_pass http://b:80; proxy_connect_timeout 1s; }" &&
	cat >"$1/birdhouse/birdhouse-compose.sh" <<-\EOF &&
	#!/bin/sh
	# stand-in for birdhouse's wrapper: env.local, then compose with the
	# files of the enabled components
	set -eu
	ENV_LOCAL=${BIRDHOUSE_LOCAL_ENV:-$(dirname "$0")/env.local}
	echo "$* | cwd=$(pwd -P) | BIRDHOUSE_LOCAL_ENV=${BIRDHOUSE_LOCAL_ENV-unset}" >>"$WRAPPER_CALLS"
	. "$ENV_LOCAL"
	export BH_FQDN
	# the images are made offline, with no registry to pull from: its
	# pull reads the same files and env.local, and pulls nothing
	if [ "$1" = pull ]; then set -- config -q; fi
	exec docker-compose -f docker-compose.yml -f components/proxy/docker-compose-extra.yml "$@"
	EOF
	chmod 755 "$1/birdhouse/birdhouse-compose.sh"
}

release() {
	_dev=$(dev_clone stack) &&
	write_stack "$_dev" "$1" "$2" &&
	dev_publish stack "release: a $1" >/dev/null
}

served() { timeout 5 busybox wget -q -O - "http://127.0.0.1:$PORT/$1/" 2>/dev/null || echo down; }
container_of() { (cd "$CHECKOUT/birdhouse" && docker-compose ps -q "$1"); }


test_expect_success 'setup: a birdhouse checkout running a, b and the proxy through its wrapper' '
	git init -q --bare stack.git &&
	git clone -q "$(remote_url stack)" dev-stack 2>/dev/null &&
	write_stack dev-stack v1 200 &&
	dev_publish stack "release: a v1" >/dev/null &&
	git clone -q "$(remote_url stack)" "$CHECKOUT" &&
	write_config "$CHECKOUT/birdhouse" &&
	config_add AUTODEPLOY_PRESET birdhouse &&
	config_add AUTODEPLOY_STRATEGY recreate &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 30 &&
	echo "export BH_FQDN=host.example.invalid" >>"$CONFIG" &&
	{ (cd "$CHECKOUT/birdhouse" && BIRDHOUSE_LOCAL_ENV=$CONFIG ./birdhouse-compose.sh up -d) >up.log 2>&1 ||
		{ cat up.log; false; }; } &&
	for i in $(seq 1 100); do [ "$(served a)" = v1 ] && [ "$(served b)" = b1 ] && break; sleep 0.1; done &&
	is "a" "$(served a)" v1 &&
	is "b" "$(served b)" b1
'

test_expect_success 'a release that changes a only: b loses no request, a answers from its new container' '
	a_before=$(container_of a) && b_before=$(container_of b) && p_before=$(container_of proxy) &&
	release v2 201 &&
	: >"$WRAPPER_CALLS" &&
	probe_start b/ &&
	rd 0 &&
	sleep 1 &&
	probe_stop &&
	test_grep b1 probe &&
	is "failed requests to b" "$(grep -c fail probe)" 0 &&
	test "$(container_of a)" != "$a_before" &&
	is "b container" "$(container_of b)" "$b_before" &&
	is "proxy container" "$(container_of proxy)" "$p_before" &&
	is "a, through the proxy" "$(served a)" v2 &&
	test_grep "start: .a. has a new container: the proxy must look its address up again" err &&
	test_grep "switching: reloading the proxy .proxy." err
'

test_expect_success 'the prepare was the staged copy'"'"'s wrapper pull, with the live env.local' '
	live=$(cd "$(dirname "$CONFIG")" && pwd -P)/$(basename "$CONFIG") &&
	stage=$(cd "$STATE_DIR" && pwd -P)/stage$(cd "$CHECKOUT" && pwd -P)/birdhouse &&
	test_grep "^pull | cwd=$stage | BIRDHOUSE_LOCAL_ENV=$live\$" "$WRAPPER_CALLS" &&
	test_grep "^up -d | cwd=$(cd "$CHECKOUT" && pwd -P)/birdhouse | BIRDHOUSE_LOCAL_ENV=$live\$" "$WRAPPER_CALLS" &&
	test_grep ! "^stop" "$WRAPPER_CALLS" &&
	test ! -e "$STATE_DIR/stage"
'

test_expect_success 'the next release of a: again 0 failed requests to b, a new again' '
	release v3 202 &&
	probe_start b/ &&
	rd 0 &&
	probe_stop &&
	is "failed requests to b" "$(grep -c fail probe)" 0 &&
	is "a" "$(served a)" v3
'

# A host without birdhouse's proxy component (the preset names `proxy`):
# here, a proxy service the stack does not have.  Nothing to reload is no
# failure.
test_expect_success 'a named proxy the stack does not run: a is recreated, nothing reloaded, exit 0' '
	config_add AUTODEPLOY_BLUEGREEN_PROXY gateway &&
	a_before=$(container_of a) &&
	release v4 203 &&
	rd 0 &&
	test "$(container_of a)" != "$a_before" &&
	test_grep ! "switching: reloading" err &&
	is "a version label" "$(docker inspect -f "{{.Config.Cmd}}" "$(container_of a)" | grep -o "echo v4")" "echo v4"
'

test_done
