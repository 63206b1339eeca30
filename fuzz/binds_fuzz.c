/*
 * libFuzzer target for the `docker inspect` reader (outside input: what
 * the engine prints about containers whose labels and mount sources come
 * from the stack's compose file).  binds_parse must never crash or leak,
 * and a service is only ever said to bind a changed path it really holds.
 *   make fuzz && build/fuzz/binds_fuzz fuzz/corpus/binds
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "binds.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *const changed[] = { "/srv/stack/conf/nginx.conf", "/srv/stack/www/index.html" };
	char err[ERR_MAX];
	struct binds b;
	char *json = xmalloc(size + 1);

	memcpy(json, data, size);
	json[size] = '\0';
	if (binds_parse(&b, json, changed, 2, err) == 0) {
		for (size_t i = 0; i < b.n; i++)
			if (b.path[i][0] && strcmp(b.path[i], changed[0]) != 0 && strcmp(b.path[i], changed[1]) != 0)
				abort();
		binds_free(&b);
	}
	free(json);
	return 0;
}
