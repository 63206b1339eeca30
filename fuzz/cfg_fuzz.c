/*
 * libFuzzer target for the env.local parser (outside input: an operator's
 * file, maybe edited by hand): cfg_parse must never crash, leak or hang,
 * and whatever it accepts must go through settings_load cleanly.
 *   make fuzz && build/fuzz/cfg_fuzz fuzz/corpus/cfg
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "cfg.h"
#include "settings.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERR_MAX];
	struct cfg *c;
	struct settings s;

	if (cfg_parse(&c, "fuzz", (const char *)data, size, err) < 0)
		return 0;
	/* Walk what was stored, as the programs do. */
	for (size_t i = 0; i < cfg_count(c); i++)
		(void)cfg_line(c, cfg_key_at(c, i));
	if (settings_load(&s, c, err) == 0)
		settings_free(&s);
	cfg_free(c);
	return 0;
}
