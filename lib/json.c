#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

void json_init(struct json *j)
{
	memset(j, 0, sizeof *j);
}

void json_free(struct json *j)
{
	strbuf_release(&j->out);
	json_init(j);
}

const char *json_str(const struct json *j)
{
	return strbuf_str(&j->out);
}

static void put(struct json *j, const char *s, size_t n)
{
	strbuf_add(&j->out, s, n);
}

static void puts_(struct json *j, const char *s)
{
	put(j, s, strlen(s));
}

/* Before any value or key: the comma that separates it from the previous
 * one at this level, unless it is the value of a key just written. */
static void sep(struct json *j)
{
	if (j->after_key) {
		j->after_key = 0;
		return;
	}
	if (j->count[j->depth])
		put(j, ",", 1);
	if (j->count[j->depth] < 255)
		j->count[j->depth]++;
}

static void open_(struct json *j, const char *c)
{
	sep(j);
	put(j, c, 1);
	if (j->depth + 1 >= JSON_MAX_DEPTH) {
		/* a programming error, not a data one: nothing we write nests this deep */
		fprintf(stderr, "fatal: json nesting deeper than %d\n", JSON_MAX_DEPTH - 1);
		abort();
	}
	j->depth++;
	j->count[j->depth] = 0;
}

static void close_(struct json *j, const char *c)
{
	if (j->depth > 0)
		j->depth--;
	j->after_key = 0;
	put(j, c, 1);
}

void json_object_begin(struct json *j) { open_(j, "{"); }
void json_object_end(struct json *j)   { close_(j, "}"); }
void json_array_begin(struct json *j)  { open_(j, "["); }
void json_array_end(struct json *j)    { close_(j, "]"); }

/* Length of the valid UTF-8 sequence at s (1..4), or 0 when s[0] does not
 * start one (overlong forms, surrogates and values above U+10FFFF are
 * invalid, RFC 3629). */
static size_t utf8_len(const unsigned char *s)
{
	unsigned char c = s[0];
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80)
			return 0;
		return 3;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
		if (s[1] < lo || s[1] > hi || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		return 4;
	}
	return 0;
}

static void put_escaped(struct json *j, const char *str)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	put(j, "\"", 1);
	while (*s) {
		const unsigned char *run = s;
		size_t n;
		/* copy runs of plain text at once */
		while (*s >= 0x20 && *s != '"' && *s != '\\' && *s != 0x7f && (n = utf8_len(s)) > 0)
			s += n;
		if (s > run)
			put(j, (const char *)run, (size_t)(s - run));
		if (!*s)
			break;
		char e[7];
		switch (*s) {
		case '"':  puts_(j, "\\\""); break;
		case '\\': puts_(j, "\\\\"); break;
		case '\b': puts_(j, "\\b"); break;
		case '\f': puts_(j, "\\f"); break;
		case '\n': puts_(j, "\\n"); break;
		case '\r': puts_(j, "\\r"); break;
		case '\t': puts_(j, "\\t"); break;
		default:
			if (*s < 0x20 || *s == 0x7f) {
				memcpy(e, "\\u00", 4);
				e[4] = hex[*s >> 4];
				e[5] = hex[*s & 15];
				put(j, e, 6);
			} else {
				/* a byte that starts no valid UTF-8 sequence */
				puts_(j, "\\ufffd");
			}
		}
		s++;
	}
	put(j, "\"", 1);
}

void json_key(struct json *j, const char *key)
{
	sep(j);
	put_escaped(j, key ? key : "");
	put(j, ":", 1);
	j->after_key = 1;
}

void json_string(struct json *j, const char *s)
{
	if (!s) {
		json_null(j);
		return;
	}
	sep(j);
	put_escaped(j, s);
}

void json_int(struct json *j, long long v)
{
	char b[32];
	int n = snprintf(b, sizeof b, "%lld", v);
	sep(j);
	put(j, b, (size_t)n);
}

void json_bool(struct json *j, int v)
{
	sep(j);
	puts_(j, v ? "true" : "false");
}

void json_null(struct json *j)
{
	sep(j);
	puts_(j, "null");
}
