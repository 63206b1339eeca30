/*
 * libFuzzer target for the engine's health reader (outside input: what
 * `docker inspect` prints about containers whose labels, healthchecks and
 * health output come from the stack's compose file and its programs).
 * engine_parse must never crash or leak, and every container it keeps
 * has the id, service and state the rest of run-deploy relies on.
 *   make fuzz && build/fuzz/engine_fuzz fuzz/corpus/engine
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_MAX];
	struct engine_set set = { 0 };
	char *json = xmalloc(size + 1);

	memcpy(json, data, size);
	json[size] = '\0';
	if (engine_parse(&set, json, err) == 0) {
		for (size_t i = 0; i < set.n; i++) {
			const struct engine_ctr *c = &set.c[i];
			if (!c->id || !c->service || !c->status || !c->started_at || !c->name || !c->config_hash)
				abort();
			if (engine_find(&set, c->id) == NULL)
				abort();
		}
	}
	engine_free(&set);
	free(json);
	return 0;
}
