/*
 * libFuzzer target for the reader of `compose config` output (outside
 * input: the new commit's compose file, as compose prints it) that
 * bluegreen_check asks which services have a healthcheck, a
 * container_name or ports.  bluegreen_scan must never crash nor read past
 * the text, and says nothing of a service it did not find.
 *   make fuzz && build/fuzz/bluegreen_fuzz fuzz/corpus/bluegreen
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bluegreen.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bluegreen_facts f;
	char *yaml = xmalloc(size + 1);

	memcpy(yaml, data, size);
	yaml[size] = '\0';
	bluegreen_scan(&f, yaml, "web");
	if (!f.found && (f.healthcheck || f.container_name || f.ports))
		abort();
	free(yaml);
	return 0;
}
