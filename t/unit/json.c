/* lib/json.c: nesting and commas, string escaping, invalid UTF-8, null. */
#include <stdio.h>
#include <string.h>

#include "json.h"
#include "tap.h"

static void test_structure(void)
{
	struct json j;
	json_init(&j);
	is_str(json_str(&j), "", "an empty writer gives an empty string");

	json_array_begin(&j);
	json_object_begin(&j);
	json_key(&j, "path"); json_string(&j, "/srv/x");
	json_key(&j, "ahead"); json_int(&j, 0);
	json_key(&j, "behind"); json_int(&j, -12345678901LL);
	json_key(&j, "remote_commit"); json_null(&j);
	json_key(&j, "branch"); json_string(&j, NULL);
	json_key(&j, "ok"); json_bool(&j, 1);
	json_key(&j, "bad"); json_bool(&j, 0);
	json_object_end(&j);
	json_object_begin(&j);
	json_key(&j, "list"); json_array_begin(&j);
	json_int(&j, 1); json_array_begin(&j); json_array_end(&j); json_object_begin(&j); json_object_end(&j);
	json_string(&j, "s");
	json_array_end(&j);
	json_key(&j, "after"); json_int(&j, 2);
	json_object_end(&j);
	json_array_end(&j);
	is_str(json_str(&j),
	       "[{\"path\":\"/srv/x\",\"ahead\":0,\"behind\":-12345678901,\"remote_commit\":null,"
	       "\"branch\":null,\"ok\":true,\"bad\":false},"
	       "{\"list\":[1,[],{},\"s\"],\"after\":2}]",
	       "nested objects and arrays get commas only between values; NULL strings are null");
	json_free(&j);
	is_str(json_str(&j), "", "json_free leaves an empty, reusable writer");

	json_array_begin(&j);
	json_array_end(&j);
	is_str(json_str(&j), "[]", "an empty array");
	json_free(&j);

	/* more than 255 values at one level: the per-level count saturates
	 * but commas stay right */
	json_array_begin(&j);
	for (int i = 0; i < 300; i++)
		json_int(&j, 7);
	json_array_end(&j);
	const char *s = json_str(&j);
	int commas = 0;
	for (; *s; s++)
		commas += *s == ',';
	is_int(commas, 299, "300 values get 299 commas");
	json_free(&j);

	json_object_begin(&j);
	for (int d = 0; d < 20; d++) {
		json_key(&j, "a");
		json_object_begin(&j);
	}
	for (int d = 0; d < 20; d++)
		json_object_end(&j);
	json_key(&j, "z"); json_int(&j, 1);
	json_object_end(&j);
	s = json_str(&j);
	ok(strncmp(s, "{\"a\":{\"a\":{", 11) == 0 && strcmp(s + strlen(s) - 10, "}}},\"z\":1}") == 0,
	   "deep nesting keeps each level's commas apart");
	json_free(&j);
}

static void test_escaping(void)
{
	static const struct { const char *in, *out, *what; } cases[] = {
		{ "plain", "\"plain\"", "plain text" },
		{ "", "\"\"", "empty string" },
		{ "a\"b", "\"a\\\"b\"", "double quote" },
		{ "a\\b", "\"a\\\\b\"", "backslash" },
		{ "/x/y", "\"/x/y\"", "slash is not escaped" },
		{ "l1\nl2\r\t", "\"l1\\nl2\\r\\t\"", "newline, carriage return, tab" },
		{ "\b\f", "\"\\b\\f\"", "backspace, form feed" },
		{ "\x01\x1f", "\"\\u0001\\u001f\"", "other control characters as \\u00XX" },
		{ "del\x7f", "\"del\\u007f\"", "DEL as \\u007f" },
		{ "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80", "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80\"",
		  "valid 2-, 3- and 4-byte UTF-8 passes through" },
		{ "a\xff" "b", "\"a\\ufffdb\"", "an invalid byte becomes \\ufffd" },
		{ "\xc3", "\"\\ufffd\"", "a truncated sequence at the end" },
		{ "\xc3(", "\"\\ufffd(\"", "a lead byte without its continuation" },
		{ "\x80\xbf", "\"\\ufffd\\ufffd\"", "lone continuation bytes, one each" },
		{ "\xc0\xaf", "\"\\ufffd\\ufffd\"", "an overlong '/' is refused" },
		{ "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"", "an overlong 3-byte form is refused" },
		{ "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"", "a UTF-16 surrogate is refused" },
		{ "\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"", "a code point above U+10FFFF is refused" },
		{ "\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"", "U+10FFFF itself is fine" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct json j;
		json_init(&j);
		json_string(&j, cases[i].in);
		is_str(json_str(&j), cases[i].out, "escaping: %s", cases[i].what);
		json_free(&j);
	}

	struct json j;
	json_init(&j);
	json_object_begin(&j);
	json_key(&j, "k\"ey\n");
	json_string(&j, "v");
	json_object_end(&j);
	is_str(json_str(&j), "{\"k\\\"ey\\n\":\"v\"}", "keys are escaped too");
	json_free(&j);

	/* a long string crosses the buffer's growth steps intact */
	char big[5001];
	memset(big, 'x', 5000);
	big[5000] = '\0';
	big[2500] = '"';
	json_init(&j);
	json_string(&j, big);
	is_int((long long)strlen(json_str(&j)), 5000 + 2 + 1, "a 5000-byte string is written whole");
	json_free(&j);
}

int main(void)
{
	test_structure();
	test_escaping();
	return done_testing();
}
