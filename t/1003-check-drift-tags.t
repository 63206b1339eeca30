#!/bin/bash
# check-drift in tag mode (AUTODEPLOY_TRACK=tag:GLOB): the checkout should
# be at the highest version tag on the remote that matches GLOB, compared
# as versions (1.10.0 > 1.9.3), not as strings.
. "$(dirname "$0")/lib.sh"
. "$T_DIR/lib-git.sh"

# tag_commit DIR TAG: the commit a tag points at (annotated tags peeled).
tag_commit() { git -C "$1" rev-parse "$2^{commit}"; }

test_expect_success 'setup: tags 1.2.0, 1.9.3, 1.10.0 (annotated), v9.9.9 and a newer main' '
	make_remote tagged 1 &&
	dev=$(dev_clone tagged) &&
	git -C "$dev" commit -q --allow-empty -m one &&
	git -C "$dev" tag 1.2.0 &&
	git -C "$dev" commit -q --allow-empty -m two &&
	git -C "$dev" tag 1.9.3 &&
	git -C "$dev" commit -q --allow-empty -m three &&
	git -C "$dev" tag -a -m "release 1.10.0" 1.10.0 &&
	git -C "$dev" commit -q --allow-empty -m four &&
	git -C "$dev" tag v9.9.9 &&
	git -C "$dev" commit -q --allow-empty -m "work after the releases" &&
	git -C "$dev" push -q origin main --tags &&
	clone_remote tagged site &&
	git -C site checkout -q --detach 1.9.3 &&
	write_config "$TRASH/site" &&
	config_add AUTODEPLOY_TRACK "tag:[0-9]*.[0-9]*.[0-9]*"
'

test_expect_success 'at 1.9.3 the highest version, 1.10.0, is due: deploy (exit 1)' '
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 local_commit "$(tag_commit site 1.9.3)" &&
	json_is 0 remote_commit "$(tag_commit site 1.10.0)" &&
	json_is 0 upstream refs/tags/1.10.0 &&
	json_is 0 branch null &&
	json_is 0 ahead 0 &&
	json_is 0 behind 1
'

test_expect_success 'at 1.2.0 the wanted tag is still 1.10.0' '
	git -C site checkout -q --detach 1.2.0 &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 remote_commit "$(tag_commit site 1.10.0)" &&
	json_is 0 behind 2
'

test_expect_success 'at 1.10.0 it is up-to-date, though main and a tag outside the glob moved on' '
	git -C site checkout -q --detach 1.10.0 &&
	drift_json 0 &&
	json_is 0 decision up-to-date &&
	json_is 0 local_commit "$(tag_commit site 1.10.0)" &&
	json_is 0 remote_commit "$(tag_commit site 1.10.0)" &&
	json_is 0 upstream refs/tags/1.10.0
'

test_expect_success 'a new tag pushed after the clone is found and fetched' '
	dev=$(dev_clone tagged) &&
	git -C "$dev" commit -q --allow-empty -m "release 1.10.1" &&
	git -C "$dev" tag 1.10.1 &&
	git -C "$dev" push -q origin 1.10.1 &&
	new=$(git -C "$dev" rev-parse HEAD) &&
	! git -C site cat-file -e "$new^{commit}" 2>/dev/null &&
	drift_json 1 &&
	json_is 0 decision deploy &&
	json_is 0 remote_commit "$new" &&
	json_is 0 upstream refs/tags/1.10.1 &&
	git -C site cat-file -e "$new^{commit}"
'

test_expect_success 'a deleted tag no longer counts: the highest remaining one wins' '
	git -C tagged.git tag -d 1.10.1 >/dev/null &&
	drift_json 0 &&
	json_is 0 decision up-to-date &&
	json_is 0 upstream refs/tags/1.10.0
'

test_expect_success 'a new annotated tag is fetched as the remote has it: git fetch --tags then clobbers nothing' '
	dev=$(dev_clone tagged) &&
	git -C "$dev" commit -q --allow-empty -m "release 1.11.0" &&
	git -C "$dev" tag -a -m "release 1.11.0" 1.11.0 &&
	git -C "$dev" push -q origin 1.11.0 &&
	drift_json 1 &&
	json_is 0 upstream refs/tags/1.11.0 &&
	json_is 0 remote_commit "$(git -C "$dev" rev-parse "1.11.0^{commit}")" &&
	test "$(git -C site cat-file -t refs/tags/1.11.0)" = tag &&
	test "$(git -C site rev-parse refs/tags/1.11.0)" = "$(git -C tagged.git rev-parse refs/tags/1.11.0)" &&
	git -C site fetch -q --tags origin 2>err &&
	test_must_be_empty err
'

test_expect_success 'a tag an older version rewrote as its commit is put back as the tag object' '
	git -C site update-ref refs/tags/1.11.0 "$(git -C site rev-parse "1.11.0^{commit}")" &&
	test "$(git -C site cat-file -t refs/tags/1.11.0)" = commit &&
	drift_json 1 &&
	test "$(git -C site cat-file -t refs/tags/1.11.0)" = tag &&
	test "$(git -C site rev-parse refs/tags/1.11.0)" = "$(git -C tagged.git rev-parse refs/tags/1.11.0)"
'

test_done
