/*
 * libFuzzer target for the `docker inspect` reader of lib/images (outside
 * input: what the engine prints about the project's containers; labels
 * and image references come from the stack's compose file).  images_parse
 * must never crash or leak, and every record it keeps must be writable on
 * one journal line: no field empty or holding white space.
 *   make fuzz && build/fuzz/images_fuzz fuzz/corpus/images
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "images.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const char *field)
{
	if (!field[0] || field[strcspn(field, " \t\r\n")])
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_MAX];
	struct images im = { 0 };
	char *json = xmalloc(size + 1);

	memcpy(json, data, size);
	json[size] = '\0';
	if (images_parse(&im, json, err) == 0) {
		for (size_t i = 0; i < im.n; i++) {
			check(im.v[i].id);
			check(im.v[i].container);
			check(im.v[i].project);
			check(im.v[i].service);
			check(im.v[i].ref);
		}
	}
	images_free(&im);
	free(json);
	return 0;
}
