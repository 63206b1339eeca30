#!/bin/bash
# A rollback and a recovery bring back the image IDs that ran, not only the
# commits (SPEC.md "Exact and final": images), on a real engine (t/dockerd).
# Two images made offline, A and B; the service `web` runs the moving tag
# app:cur; the prepare (recreate) or the pre-deploy (restart) moves that
# tag to what app:next names, as a `pull` of a tag pushed meanwhile would.
# Which image runs is read from the engine (`docker inspect`), by ID.
# The stack has birdhouse's shape (AUTODEPLOY_PRESET=birdhouse): compose
# runs through the wrapper ./birdhouse-compose.sh with a second compose
# file, whose service `extra` runs app:cur too: its image is restored as
# well.  Prunes are filtered on a label of this script's own images: the
# engine may be shared with other scripts.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"
. "$T_DIR/lib-deploy.sh"
. "$T_DIR/lib-docker.sh"

docker_require

PROJECT=adi$$
APP=$PROJECT-app
CHECKOUT=$TRASH/$PROJECT
at_exit "cd '$CHECKOUT' && ./birdhouse-compose.sh down -t 1; forget_kept $PROJECT; docker image ls -q --filter label=autodeploy.test=$PROJECT | xargs -r docker image rm -f"

# make_image NAME: an image of busybox whose /version says NAME, with the
# label of this script; its ID into $TRASH/id-NAME.
make_image() {
	rm -rf "img-$1" &&
	mkdir -p "img-$1/bin" "img-$1/tmp" &&
	cp "$(command -v busybox)" "img-$1/bin/busybox" &&
	for a in sh httpd sleep cat; do ln -s busybox "img-$1/bin/$a" || return 1; done &&
	echo "$1" >"img-$1/version" &&
	tar -C "img-$1" -cf "img-$1.tar" . &&
	docker import --change "LABEL autodeploy.test=$PROJECT" "img-$1.tar" >"$TRASH/id-$1"
}
id() { cat "$TRASH/id-$1"; }

# write_stack DIR VERSION HEALTHY: web serves DIR/www (the health URL
# exists only when HEALTHY is yes) from the image app:cur; the wrapper
# adds components/extra/docker-compose-extra.yml.
write_stack() {
	mkdir -p "$1/www" "$1/components/extra" &&
	printf "#!/bin/sh\nexec docker-compose -f docker-compose.yml -f components/extra/docker-compose-extra.yml \"\$@\"\n" \
		>"$1/birdhouse-compose.sh" &&
	chmod +x "$1/birdhouse-compose.sh" &&
	cat >"$1/components/extra/docker-compose-extra.yml" <<-EOF &&
	version: "2.4"
	services:
	  extra:
	    image: $APP:cur
	    network_mode: host
	    init: true
	    command: ["/bin/sleep", "1000000"]
	EOF
	cat >"$1/docker-compose.yml" <<-EOF &&
	version: "2.4"
	services:
	  web:
	    image: $APP:cur
	    network_mode: host
	    init: true
	    command: ["/bin/httpd", "-f", "-p", "127.0.0.1:$PORT", "-h", "/www"]
	    volumes:
	      - ./www:/www:ro
	  idle:
	    image: $IMAGE
	    network_mode: host
	    init: true
	    command: ["/bin/sleep", "1000000"]
	EOF
	echo "$2" >"$1/www/index.html" &&
	if [ "$3" = yes ]; then echo ok >"$1/www/health"; else rm -f "$1/www/health"; fi
}

release() {
	_dev=$(dev_clone stack) &&
	write_stack "$_dev" "$1" "$2" &&
	dev_publish stack "release $1" >/dev/null
}

# running SERVICE: the image ID its container runs.
running() {
	docker inspect --format '{{.Image}}' "$(docker ps -q \
		--filter "label=com.docker.compose.project=$PROJECT" \
		--filter "label=com.docker.compose.service=$1")"
}
# keep_tag ID: our tag for web's image ID.
keep_tag() { _i=$(id "$1") && _i=${_i#sha256:} && echo "autodeploy/keep:$PROJECT-web-$(echo "$_i" | cut -c1-12)"; }
has_image() { docker image inspect "$1" >/dev/null 2>&1; }
prune() { docker image prune -a -f --filter "label=autodeploy.test=$PROJECT" >/dev/null; }
# registry_holds NAME: what a pull of app:cur would fetch now
registry_holds() { docker tag "$(id "$1")" "$APP:next"; }

rd() {
	_want=$1
	shift
	if ! test_must_fail "$_want" run-deploy --config "$CONFIG" "$@" >out 2>err; then
		cat out err >&2
		return 1
	fi
}

test_expect_success 'setup: images A and B, v1 running A under compose' '
	make_image A &&
	make_image B &&
	docker tag "$(id A)" "$APP:cur" &&
	git init -q --bare stack.git &&
	git clone -q "$(remote_url stack)" dev-stack 2>/dev/null &&
	write_stack dev-stack v1 yes &&
	dev_publish stack "release v1" >/dev/null &&
	git clone -q "$(remote_url stack)" "$CHECKOUT" &&
	{ (cd "$CHECKOUT" && ./birdhouse-compose.sh up -d) >up.log 2>&1 || { cat up.log; false; }; } &&
	is "web runs" "$(running web)" "$(id A)" &&
	is "extra runs" "$(running extra)" "$(id A)" &&
	write_config "$CHECKOUT" &&
	config_add AUTODEPLOY_PRESET birdhouse &&
	config_add AUTODEPLOY_STRATEGY recreate &&
	config_add AUTODEPLOY_PREPARE_COMMAND "docker tag $APP:next $APP:cur" &&
	config_add AUTODEPLOY_HEALTHCHECK_COMMAND "busybox wget -q -O /dev/null http://127.0.0.1:$PORT/health" &&
	config_add AUTODEPLOY_HEALTHCHECK_TIMEOUT 10 &&
	config_add AUTODEPLOY_HEALTHCHECK_INTERVAL 1
'

test_expect_success 'recreate: the prepare moves app:cur to B, the health check fails: exit 2 and web runs A again' '
	registry_holds B &&
	release v2 no &&
	rd 2 &&
	test_grep "recorded: service .web. runs sha256:" err &&
	test_grep "rollback: .$APP:cur. is sha256:" err &&
	test_grep "rolled back: the old commits are running" err &&
	test_grep "start: running .\./birdhouse-compose.sh up -d." err &&
	is "web runs" "$(running web)" "$(id A)" &&
	is "extra runs" "$(running extra)" "$(id A)" &&
	is "app:cur" "$(docker image inspect --format "{{.Id}}" "$APP:cur")" "$(id A)" &&
	has_image "$(keep_tag A)" &&
	grep -qx "$(keep_tag A)" "$STATE_DIR/keep-images"
'

test_expect_success 'recreate: killed after up -d (B runs); a prune keeps A (our tag); the recovery runs A again' '
	release v3 yes &&
	AUTODEPLOY_TEST_KILL_AT=after-start rd 137 &&
	is "web runs" "$(running web)" "$(id B)" &&
	is "extra runs" "$(running extra)" "$(id B)" &&
	grep -q "^image $(id A) [0-9a-f]* $PROJECT web $APP:cur\$" "$STATE_DIR/deploy.journal" &&
	grep -q "^image [^ ]* [0-9a-f]* $PROJECT idle $IMAGE\$" "$STATE_DIR/deploy.journal" &&
	prune &&
	has_image "$(id A)" &&
	run-deploy --config "$CONFIG" --freeze "look at the recovery alone" 2>/dev/null &&
	rd 0 --if-drift &&
	test_grep "recover: .$APP:cur. is sha256:" err &&
	test_grep "recovered: the stack runs again" err &&
	is "web runs" "$(running web)" "$(id A)" &&
	is "extra runs" "$(running extra)" "$(id A)" &&
	run-deploy --config "$CONFIG" --unfreeze 2>/dev/null
'

test_expect_success 'restart: the pre-deploy moves the tag, the health check fails: exit 2 and web runs A again' '
	config_add AUTODEPLOY_STRATEGY restart &&
	config_add AUTODEPLOY_PRE_DEPLOY_COMMAND "docker tag $APP:next $APP:cur" &&
	release v4 no &&
	rd 2 &&
	test_grep "rollback-stop: running .\./birdhouse-compose.sh stop." err &&
	test_grep "rollback: .$APP:cur. is sha256:" err &&
	is "web runs" "$(running web)" "$(id A)" &&
	is "extra runs" "$(running extra)" "$(id A)" &&
	has_image "$(keep_tag A)"
'

test_expect_success 'a good deploy (B) keeps A, what a --rollback needs' '
	config_add AUTODEPLOY_STRATEGY recreate &&
	config_add AUTODEPLOY_PRE_DEPLOY_COMMAND "" &&
	git -C "$CHECKOUT" rev-parse HEAD >good-before &&
	release v5 yes &&
	rd 0 &&
	is "web runs" "$(running web)" "$(id B)" &&
	has_image "$(keep_tag A)"
'

test_expect_success '--rollback: the commits and the image the last good deploy found (A), and the timer stays there' '
	rd 0 --rollback &&
	test_grep "start: .$APP:cur. is sha256:" err &&
	is "web runs" "$(running web)" "$(id A)" &&
	is "extra runs" "$(running extra)" "$(id A)" &&
	is "checkout" "$(git -C "$CHECKOUT" rev-parse HEAD)" "$(cat good-before)" &&
	rd 0 --if-drift &&
	test_grep "nothing deployed: quarantined" err &&
	is "web runs" "$(running web)" "$(id A)"
'

test_expect_success 'the next good deploys release what no rollback needs any more; a prune then removes A' '
	release v6 yes &&
	rd 0 &&
	is "web runs" "$(running web)" "$(id B)" &&
	has_image "$(keep_tag A)" &&
	release v7 yes &&
	rd 0 &&
	is "web runs" "$(running web)" "$(id B)" &&
	test_grep "released .$(keep_tag A)." err &&
	! has_image "$(keep_tag A)" &&
	has_image "$(keep_tag B)" &&
	! grep -qx "$(keep_tag A)" "$STATE_DIR/keep-images" &&
	prune &&
	! has_image "$(id A)" &&
	has_image "$(id B)"
'

test_done
