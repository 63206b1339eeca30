/* binds_parse: which containers bind-mount a changed path (docker inspect
 * output as the engine prints it, reduced to the fields read). */
#include <stdlib.h>
#include <string.h>

#include "binds.h"
#include "tap.h"
#include "util.h"

static const char inspect[] =
	"[{\"Id\":\"a1\",\"Config\":{\"Labels\":{\"com.docker.compose.service\":\"web\"}},"
	"  \"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/stack/www\",\"Destination\":\"/www\"}]},"
	" {\"Id\":\"b2\",\"Config\":{\"Labels\":{\"com.docker.compose.service\":\"www2\"}},"
	"  \"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/stack/www2\",\"Destination\":\"/w\"}]},"
	" {\"Id\":\"c3\",\"Config\":{\"Labels\":{\"com.docker.compose.service\":\"db\"}},"
	"  \"Mounts\":[{\"Type\":\"volume\",\"Source\":\"/srv/stack/www\",\"Destination\":\"/data\"}]},"
	" {\"Id\":\"d4\",\"Config\":{\"Labels\":{\"com.docker.compose.service\":\"proxy\"}},"
	"  \"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/stack/conf/nginx.conf\",\"Destination\":\"/etc/n\"}]},"
	" {\"Id\":\"e5\",\"Config\":{\"Labels\":{}},"
	"  \"Mounts\":[{\"Type\":\"bind\",\"Source\":\"/srv/stack\",\"Destination\":\"/s\"}]}]";

int main(void)
{
	const char *const changed[] = { "/srv/stack/www/index.html", "/srv/stack/conf/nginx.conf" };
	char err[ERR_MAX];
	struct binds b;

	is_int(binds_parse(&b, inspect, changed, 2, err), 0, "docker inspect output parses");
	is_int((long long)b.n, 4, "every compose container is listed (not the one without a service label)");
	is_str(b.service[0], "web", "web");
	is_str(b.path[0], "/srv/stack/www/index.html", "a file below a bound folder counts");
	is_str(b.path[1], "", "a folder that only shares a prefix (www2) does not");
	is_str(b.path[2], "", "a volume is not a bind mount");
	is_str(b.path[3], "/srv/stack/conf/nginx.conf", "a bound file itself counts");
	is_str(binds_id(&b, "proxy"), "d4", "binds_id finds the container of a service");
	ok(binds_id(&b, "nope") == NULL, "binds_id: no such service");
	binds_free(&b);
	ok(binds_parse(&b, "{\"Id\":1}", changed, 2, err) < 0 && strstr(err, "JSON array"),
	   "an object is refused: %s", err);
	ok(binds_parse(&b, "[{\"Id\":", changed, 2, err) < 0, "truncated JSON is refused");
	is_int(binds_parse(&b, "[1, \"x\", null, {}]", changed, 2, err), 0, "odd elements are skipped");
	is_int((long long)b.n, 0, "and give nothing");
	binds_free(&b);
	return done_testing();
}
