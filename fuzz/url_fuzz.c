/*
 * libFuzzer target for lib/url, the reader of remote URLs (from a
 * checkout's git config and AUTODEPLOY_NOTEBOOK_SOURCES): url_parse must
 * keep every part inside the string, url_redact must never let a
 * password through, url_scrub must never overflow.
 *   make fuzz && build/fuzz/url_fuzz fuzz/corpus/url
 */
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "url.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void inside(const char *s, size_t n, const char *p, size_t len)
{
	if (p && (p < s || p + len > s + n))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1), out[512], msg[ERR_MAX];
	memcpy(s, data, size);
	s[size] = '\0';
	size_t n = strlen(s);
	struct url u;
	url_parse(&u, s);
	inside(s, n, u.scheme, u.scheme_len);
	inside(s, n, u.user, u.user_len);
	inside(s, n, u.host, u.host_len);
	inside(s, n, u.port, u.port_len);
	url_redact(out, sizeof out, s);
	/* a password of 4 bytes or more never survives redaction */
	const char *colon = u.kind == URL_SCHEME && u.user ? memchr(u.user, ':', u.user_len) : NULL;
	if (colon && u.user + u.user_len - colon - 1 >= 4 && n < sizeof out &&
	    !memchr(colon, '*', (size_t)(u.user + u.user_len - colon))) {
		char pw[512];
		size_t pl = (size_t)(u.user + u.user_len - colon - 1);
		memcpy(pw, colon + 1, pl);
		pw[pl] = '\0';
		/* the rest of the URL may hold the same bytes: look only where
		 * the userinfo was */
		if (strncmp(out + (u.user - s), pw, pl) == 0)
			abort();
	}
	snprintf(msg, sizeof msg, "%s", s);
	url_scrub(msg, s);
	if (strlen(msg) >= ERR_MAX)
		abort();
	(void)url_ssh_port(s);
	url_host(out, sizeof out, s);
	free(s);
	return 0;
}
