/*
 * json: a tiny writer into a growing buffer, with correct string escaping
 * (", \, control characters as \n \t ... or \u00XX, each byte that starts
 * no valid UTF-8 sequence as \ufffd; valid multibyte UTF-8 is kept as is).
 * Nesting deeper than JSON_MAX_DEPTH - 1 is a programming error (abort).
 * Commas are tracked per nesting level, so callers just emit in order:
 *
 *   struct json j; json_init(&j);
 *   json_array_begin(&j);
 *     json_object_begin(&j);
 *       json_key(&j, "path"); json_string(&j, "/srv/x");
 *       json_key(&j, "ahead"); json_int(&j, 0);
 *       json_key(&j, "remote_commit"); json_null(&j);
 *     json_object_end(&j);
 *   json_array_end(&j);
 *   fputs(json_str(&j), stdout); json_free(&j);
 */
#ifndef AUTODEPLOY_JSON_H
#define AUTODEPLOY_JSON_H

#include "strbuf.h"

#include <stddef.h>

#define JSON_MAX_DEPTH 32

struct json {
	struct strbuf out;
	int depth;
	unsigned char count[JSON_MAX_DEPTH]; /* values so far per level (saturating) */
	int after_key;
};

void json_init(struct json *j);
void json_free(struct json *j);
const char *json_str(const struct json *j);   /* NUL-terminated text so far */

void json_object_begin(struct json *j);
void json_object_end(struct json *j);
void json_array_begin(struct json *j);
void json_array_end(struct json *j);
void json_key(struct json *j, const char *key);
void json_string(struct json *j, const char *s);  /* NULL writes null */
void json_int(struct json *j, long long v);
void json_bool(struct json *j, int v);
void json_null(struct json *j);

#endif
