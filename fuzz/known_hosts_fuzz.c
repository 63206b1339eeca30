/*
 * libFuzzer target for the known_hosts reader (outside input: a file an
 * operator edits by hand or fills with ssh-keyscan output): kh_check must
 * never crash, leak or hang, whatever the file holds, for a plain name and
 * a [host]:port name, and every line kh_parse_line accepts must hold a
 * key blob whose type agrees with its type field.
 *   make fuzz && build/fuzz/known_hosts_fuzz fuzz/corpus/known_hosts
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "knownhosts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned char key[] = {
		0, 0, 0, 11, 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
		0, 0, 0, 4, 1, 2, 3, 4
	};
	const char *text = (const char *)data;
	const char *p = text, *end = text + size;
	struct kh_result r;

	kh_check(&r, text, size, "git.example.org", key, sizeof key);
	kh_check(&r, text, size, "[127.0.0.1]:2222", key, sizeof key);
	/* and line by line, as kh_check reads them */
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		struct kh_entry e;
		if (kh_parse_line(&e, p, (size_t)(stop - p)) == 1) {
			char type[KH_TYPE_MAX];
			if (kh_blob_type(type, sizeof type, e.blob, e.blob_len) < 0 || strcmp(type, e.type) != 0)
				abort();
			(void)kh_host_matches(&e, "git.example.org");
			kh_entry_free(&e);
		}
		p = nl ? nl + 1 : end;
	}
	return 0;
}
