/* images_parse and images_keep_tag: what the journal records of `docker
 * inspect` output, and the tag that keeps an image from pruning. */
#include <stdlib.h>
#include <string.h>

#include "images.h"
#include "tap.h"
#include "util.h"

#define LABELS(service, extra) \
	"\"Labels\":{\"com.docker.compose.project\":\"stack\",\"com.docker.compose.service\":\"" service "\"" extra "}"

static const char inspect[] =
	"[{\"Id\":\"c-web\",\"Image\":\"sha256:aaaabbbbccccdddd\",\"Config\":{\"Image\":\"app:cur\"," LABELS("web", "") "}},"
	" {\"Id\":\"c-run\",\"Image\":\"sha256:eeee\",\"Config\":{\"Image\":\"app:cur\","
	LABELS("web", ",\"com.docker.compose.oneoff\":\"True\"") "}},"
	" {\"Id\":\"c-db\",\"Image\":\"sha256:ffff\",\"Config\":{\"Image\":\"db image\"," LABELS("db", "") "}},"
	" {\"Id\":\"c-api\",\"Image\":\"sha256:1111\",\"Config\":{\"Image\":\"reg/api@sha256:1111\"," LABELS("api", "") "}},"
	" {\"Id\":\"c-bare\",\"Image\":\"sha256:2222\",\"Config\":{\"Image\":\"bare\",\"Labels\":{}}}]";

int main(void)
{
	char err[ERR_MAX], *tag;
	struct images im = { 0 };

	is_int(images_parse(&im, inspect, err), 0, "docker inspect output parses");
	is_int((long long)im.n, 2, "one-off containers, fields with white space and containers without compose labels are left out");
	is_str(im.v[0].service, "api", "sorted by service: api first");
	is_str(im.v[1].service, "web", "then web");
	is_str(im.v[1].id, "sha256:aaaabbbbccccdddd", "the image ID the container runs");
	is_str(im.v[1].ref, "app:cur", "the reference it was created from");
	is_str(im.v[1].container, "c-web", "the container");
	is_str(im.v[1].project, "stack", "the project");
	tag = images_keep_tag(&im.v[1]);
	is_str(tag, "autodeploy/keep:stack-web-aaaabbbbcccc", "the keep tag: project, service, 12 hex digits");
	free(tag);
	images_free(&im);
	images_add(&im, "sha256:0123456789abcdef", "c", ".odd", "we+b", "x");
	tag = images_keep_tag(&im.v[0]);
	is_str(tag, "autodeploy/keep:_odd-we_b-0123456789ab", "what a tag may not hold becomes '_'");
	free(tag);
	images_free(&im);
	ok(images_parse(&im, "{}", err) < 0 && strstr(err, "JSON array"), "an object is refused: %s", err);
	images_free(&im);
	ok(images_parse(&im, "[{\"Id\":", err) < 0, "truncated JSON is refused");
	images_free(&im);
	return done_testing();
}
