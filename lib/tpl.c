/* tpl: see tpl.h. */
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "tpl.h"
#include "util.h"

/* The value of the @KEY@ that starts at p (*p == '@'), or NULL; *end is
 * then the closing '@'. */
static const char *lookup(const char **end, const char *p, const char *const *vars)
{
	const char *close = strchr(p + 1, '@');

	if (!close)
		return NULL;
	size_t klen = (size_t)(close - p - 1);
	for (size_t i = 0; vars[i]; i += 2)
		if (strlen(vars[i]) == klen && strncmp(vars[i], p + 1, klen) == 0) {
			*end = close;
			return vars[i + 1];
		}
	return NULL;
}

char *tpl_render_text(const char *text, const char *const *vars)
{
	struct strbuf res = STRBUF_INIT;

	strbuf_grow(&res, strlen(text));
	for (const char *p = text; *p; ) {
		const char *end = NULL, *val = *p == '@' ? lookup(&end, p, vars) : NULL;
		strbuf_add(&res, val ? val : p, val ? strlen(val) : 1);
		p = val ? end + 1 : p + 1;
	}
	return strbuf_detach(&res, NULL);
}

int tpl_render(char **out, const char *path, const char *const *vars, char *err)
{
	char *text = NULL;

	*out = NULL;
	if (util_read_file(&text, NULL, path, err) < 0)
		return -1;
	*out = tpl_render_text(text, vars);
	free(text);
	return 0;
}

/* Blanks, quotes and control characters would need quoting that not every
 * unit directive (nor logrotate) honours, so they are refused outright. */
int tpl_check_path(const char *key, const char *path, const char *also_refused, char *err)
{
	if (path[0] != '/')
		return err_set(err, "%s: '%s' is not an absolute path", key, path);
	for (const char *p = path; *p; p++) {
		if (*p <= ' ' || *p == '"' || *p == '\'' || *p == '\\' || *p == 0x7f)
			return err_set(err, "%s: '%.100s' holds a blank, quote, backslash or control "
			               "character, which a unit file cannot take unquoted", key, path);
		if (also_refused && strchr(also_refused, *p))
			return err_set(err, "%s: '%.100s' holds '%c', which is not allowed here",
			               key, path, *p);
	}
	return 0;
}

char *tpl_unit_path(const char *key, const char *path, char *err)
{
	if (tpl_check_path(key, path, NULL, err) < 0)
		return NULL;
	size_t len = 0;
	char *out = xmalloc(2 * strlen(path) + 1);
	for (const char *p = path; *p; p++) {
		out[len++] = *p;
		if (*p == '%')
			out[len++] = '%';
	}
	out[len] = '\0';
	return out;
}

char *tpl_unit_quote(const char *key, const char *cmd, char *err)
{
	char *out = xmalloc(4 * strlen(cmd) + 3), *o = out;

	*o++ = '"';
	for (const char *p = cmd; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\n') { *o++ = '\\'; *o++ = 'n'; continue; }
		if (c == '\t') { *o++ = '\\'; *o++ = 't'; continue; }
		if (c < ' ' || c == 0x7f) {
			free(out);
			return err_set(err, "%s: the command holds a control character", key), NULL;
		}
		if (c == '\\' || c == '"')
			*o++ = '\\';
		else if (c == '%' || c == '$')
			*o++ = (char)c;     /* %% and $$: no specifier, no variable */
		*o++ = (char)c;
	}
	*o++ = '"';
	*o = '\0';
	return out;
}
