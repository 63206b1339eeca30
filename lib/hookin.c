/* hookin: strict parsing of post-receive input.  See hookin.h. */
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>

#include "hookin.h"
#include "strbuf.h"
#include "util.h"

/* Length of the object id at p (40 or 64 hex digits), else 0. */
static size_t id_length(const char *p, size_t avail)
{
	size_t n = 0;

	while (n < avail && n <= HOOKIN_ID_MAX && p[n] != '\0' && strchr("0123456789abcdefABCDEF", p[n]))
		n++;
	return n == 40 || n == 64 ? n : 0;
}

static int parse_line(struct hookin_update *u, const char *line, size_t len, size_t lineno, char *err)
{
	size_t a, b;
	int valid = 0;

	if (len == 0)
		return err_set(err, "line %zu: empty line (expected 'OLD NEW REFNAME')", lineno);
	if (memchr(line, '\0', len))
		return err_set(err, "line %zu: holds a NUL byte", lineno);
	if ((a = id_length(line, len)) == 0 || a == len || line[a] != ' ')
		return err_set(err, "line %zu: the old id is not 40 or 64 hex digits followed by a space", lineno);
	line += a + 1;
	len -= a + 1;
	if ((b = id_length(line, len)) == 0 || b == len || line[b] != ' ')
		return err_set(err, "line %zu: the new id is not 40 or 64 hex digits followed by a space", lineno);
	if (a != b)
		return err_set(err, "line %zu: the old and new ids differ in length", lineno);
	memcpy(u->old_id, line - a - 1, a);
	u->old_id[a] = '\0';
	memcpy(u->new_id, line, b);
	u->new_id[b] = '\0';
	line += b + 1;
	len -= b + 1;

	u->ref = xmemdupz(line, len);
	if (strncmp(u->ref, "refs/", 5) != 0 ||
	    git_reference_name_is_valid(&valid, u->ref) < 0 || !valid) {
		free(u->ref);
		u->ref = NULL;
		return err_set(err, "line %zu: not a valid ref name", lineno);
	}
	return 0;
}

int hookin_parse(struct hookin_update **out, size_t *n, const char *buf, size_t len, char *err)
{
	struct hookin_update *u = NULL;
	size_t count = 0, cap = 0, pos = 0, lineno = 0;

	*out = NULL;
	*n = 0;
	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t l = nl ? (size_t)(nl - line) : len - pos;

		lineno++;
		if (l > HOOKIN_LINE_MAX) {
			hookin_free(u, count);
			return err_set(err, "line %zu: longer than %d bytes", lineno, HOOKIN_LINE_MAX);
		}
		ARRAY_GROW(u, count, cap);
		if (parse_line(&u[count], line, l, lineno, err) < 0) {
			hookin_free(u, count);
			return -1;
		}
		count++;
		pos += l + (nl != NULL);
	}
	*out = u;
	*n = count;
	return 0;
}

void hookin_free(struct hookin_update *u, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(u[i].ref);
	free(u);
}

int hookin_is_deletion(const struct hookin_update *u)
{
	return strspn(u->new_id, "0") == strlen(u->new_id);
}

int hookin_ref_matches(const char *patterns, const char *ref)
{
	const char *p = patterns;

	while (p && *p) {
		p += strspn(p, " \t\n");
		size_t len = strcspn(p, " \t\n");
		if (len == 0)
			break;
		char *pat = xmemdupz(p, len);
		int hit = strcmp(pat, ref) == 0 || fnmatch(pat, ref, 0) == 0;
		free(pat);
		if (hit)
			return 1;
		p += len;
	}
	return 0;
}

int hookin_wanted(const struct hookin_update *u, const char *patterns)
{
	return !hookin_is_deletion(u) && hookin_ref_matches(patterns, u->ref);
}

const char *hookin_short_ref(const char *ref)
{
	if (strncmp(ref, "refs/heads/", 11) == 0)
		return ref + 11;
	if (strncmp(ref, "refs/tags/", 10) == 0)
		return ref + 10;
	return ref;
}
