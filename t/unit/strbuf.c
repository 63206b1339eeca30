/* strbuf and ARRAY_GROW: strings that grow by doubling, always
 * NUL-terminated, handed over whole; arrays that keep their contents. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "tap.h"

int main(void)
{
	struct strbuf sb = STRBUF_INIT;
	size_t len = 99;

	is_str(strbuf_str(&sb), "", "an empty strbuf reads as \"\"");
	strbuf_grow(&sb, 0);
	is_str(strbuf_str(&sb), "", "growing an empty one leaves a string, not garbage");
	char *s = strbuf_detach(&sb, &len);
	ok(s && !*s && len == 0 && !sb.buf, "detaching an empty one gives an allocated \"\"");
	free(s);

	strbuf_addstr(&sb, "dir ");
	strbuf_addf(&sb, "%s %d", "/srv", 42);
	strbuf_addch(&sb, '\n');
	strbuf_add(&sb, "xyz", 2);
	is_str(strbuf_str(&sb), "dir /srv 42\nxy", "add, addf, addch and add(n) append in order");
	is_int((long long)sb.len, 14, "len counts the bytes");

	strbuf_reset(&sb);
	size_t kept = sb.alloc;
	is_str(strbuf_str(&sb), "", "reset empties it");
	ok(sb.alloc == kept && kept > 0, "and keeps the allocation");

	/* addf longer than what is free: the second vsnprintf */
	char big[5000];
	memset(big, 'a', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	strbuf_addf(&sb, "<%s>", big);
	ok(sb.len == sizeof big + 1 && sb.buf[0] == '<' && sb.buf[sb.len - 1] == '>' && !sb.buf[sb.len],
	   "addf of 5000 bytes grows as needed");
	for (int i = 0; i < 100000; i++)
		strbuf_addch(&sb, 'b');
	ok(sb.len == sizeof big + 1 + 100000 && sb.alloc >= sb.len + 1 && sb.alloc < 4 * (sb.len + 1),
	   "100000 appends: doubling keeps the allocation within 4x of the length");
	strbuf_release(&sb);
	ok(!sb.buf && !sb.len && !sb.alloc, "release frees and resets");

	int *v = NULL;
	size_t n = 0, cap = 0;
	for (int i = 0; i < 1000; i++) {
		ARRAY_GROW(v, n, cap);
		v[n++] = i;
	}
	int same = 1;
	for (int i = 0; i < 1000; i++)
		same &= v[i] == i;
	ok(same && cap >= n && cap < 2 * n + 8, "ARRAY_GROW keeps every element, capacity within 2x");
	ARRAY_GROW(v, n + 1, cap);
	ok(cap >= n + 2, "room for one more and a terminator");
	free(v);
	return done_testing();
}
