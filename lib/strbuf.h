/*
 * strbuf: one growable string (after git's strbuf.h), and ARRAY_GROW for
 * growable arrays; every buffer that grows uses one of the two.
 *
 *   struct strbuf sb = STRBUF_INIT;
 *   strbuf_addf(&sb, "dir %s\n", dir);
 *   strbuf_addstr(&sb, "owner -\n");
 *   char *text = strbuf_detach(&sb, NULL);    the caller frees it
 *
 *   ARRAY_GROW(v, n, cap);                    room for v[n]
 *   v[n++] = x;
 *
 * sb.buf is NUL-terminated once anything was added (strbuf_str() is ""
 * before that); growth doubles, so n appends cost O(n).  Out of memory
 * aborts, as everywhere else here (util.h's xmalloc).
 */
#ifndef AUTODEPLOY_STRBUF_H
#define AUTODEPLOY_STRBUF_H

#include <stddef.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t alloc;
};

#define STRBUF_INIT { NULL, 0, 0 }

/* Room for extra more bytes (and the NUL) without another allocation. */
void strbuf_grow(struct strbuf *sb, size_t extra);
void strbuf_add(struct strbuf *sb, const void *data, size_t len);
void strbuf_addstr(struct strbuf *sb, const char *s);
void strbuf_addch(struct strbuf *sb, char c);
void strbuf_addf(struct strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text so far; "" when nothing was added. */
const char *strbuf_str(const struct strbuf *sb);
/* Hand the string over (always allocated, "" when empty) and reset sb. */
char *strbuf_detach(struct strbuf *sb, size_t *len);
/* Empty it, keeping the allocation. */
void strbuf_reset(struct strbuf *sb);
void strbuf_release(struct strbuf *sb);

/* Make *cap at least n + 1 elements of size bytes for *p, doubling. */
void *strbuf_grow_array(void *p, size_t *cap, size_t n, size_t size);
#define ARRAY_GROW(p, n, cap) ((p) = strbuf_grow_array((p), &(cap), (n), sizeof(*(p))))

#endif
