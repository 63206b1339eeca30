/*
 * libFuzzer target for the cron -> OnCalendar translator (outside input:
 * the frequencies in env.local).  cron_translate must never crash or read
 * past its input, and every line it makes from cron syntax must be free
 * of characters that could break out of an OnCalendar= line.
 *   make fuzz && build/fuzz/cron_fuzz fuzz/corpus/cron
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cron.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_MAX];
	struct cron_sched s;
	char *value = malloc(size + 1);

	if (!value)
		return 0;
	memcpy(value, data, size);
	value[size] = '\0';   /* settings come as C strings: stop at a NUL */
	if (cron_translate(&s, "K", value, err) == 0) {
		if (s.n > 2 || (s.boot && s.n != 0))
			abort();
		for (size_t i = 0; i < s.n; i++)
			if (strlen(s.calendar[i]) >= CRON_CAL_MAX || strpbrk(s.calendar[i], "\n\r"))
				abort();
		(void)cron_is_cron(value);
	}
	free(value);
	return 0;
}
