/*
 * libFuzzer target for the post-receive input parser (outside input: what
 * a pushing user's git sends).  hookin_parse must never crash, leak or
 * accept a line that is not two ids and a valid ref name.
 *   make fuzz && build/fuzz/hookin_fuzz fuzz/corpus/hookin
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "hookin.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialised;
	char err[ERR_MAX];
	struct hookin_update *u;
	size_t n;

	if (!initialised) {
		git_libgit2_init();
		initialised = 1;
	}
	if (hookin_parse(&u, &n, (const char *)data, size, err) < 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		size_t a = strlen(u[i].old_id), b = strlen(u[i].new_id);
		if ((a != 40 && a != 64) || a != b || strncmp(u[i].ref, "refs/", 5) != 0 ||
		    strpbrk(u[i].ref, " \n\r\t"))
			abort();
		(void)hookin_wanted(&u[i], "refs/heads/main refs/tags/[0-9]*");
		(void)hookin_short_ref(u[i].ref);
	}
	hookin_free(u, n);
	return 0;
}
