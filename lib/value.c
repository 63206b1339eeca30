/* value: typed readings of env.local keys.  See value.h. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "util.h"
#include "value.h"

/* Digits only, no sign, no overflow; *end is the first non-digit. */
static int parse_u64(uint64_t *out, const char *s, const char **end)
{
	uint64_t v = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned d = *p - '0';
		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	if (p == s)
		return -1;
	*out = v;
	*end = p;
	return 0;
}

int value_bool(int *out, const struct cfg *c, const char *key, int def, char *err)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	const char *v = cfg_str(c, key, NULL);

	*out = def;
	if (!v)
		return 0;
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		if (strcasecmp(v, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return cfg_error(c, key, err, "'%.60s' is not a boolean (expected yes or no)", v);
}

int value_long(long *out, const struct cfg *c, const char *key, long def, long min, long max, char *err)
{
	const char *v = cfg_str(c, key, NULL), *end;
	uint64_t n;

	*out = def;
	if (!v)
		return 0;
	if (parse_u64(&n, v, &end) < 0 || *end)
		return cfg_error(c, key, err, "'%.60s' is not a number (expected an integer from %ld to %ld)",
		                 v, min, max);
	if (n > (uint64_t)LONG_MAX || (long)n < min || (long)n > max)
		return cfg_error(c, key, err, "'%.60s' is out of range (expected an integer from %ld to %ld)",
		                 v, min, max);
	*out = (long)n;
	return 0;
}

/* A number with an optional unit, the unit's factor taken from units/mult. */
static int scaled(uint64_t *out, const char *v, const char *units, const uint64_t *mult)
{
	const char *end, *u;
	uint64_t n;

	if (parse_u64(&n, v, &end) < 0)
		return -1;
	if (*end) {
		if (end[1] || !(u = strchr(units, *end)))
			return -1;
		uint64_t m = mult[u - units];
		if (n > UINT64_MAX / m)
			return -1;
		n *= m;
	}
	*out = n;
	return 0;
}

int value_size(uint64_t *out, const struct cfg *c, const char *key, uint64_t def, char *err)
{
	static const uint64_t mult[] = { 1024, 1024, 1 << 20, 1 << 20, 1 << 30, 1 << 30 };
	const char *v = cfg_str(c, key, NULL);

	*out = def;
	if (!v)
		return 0;
	if (scaled(out, v, "kKmMgG", mult) < 0) {
		*out = def;
		return cfg_error(c, key, err, "'%.60s' is not a size "
		                 "(expected bytes, or a number with k, M or G, e.g. 500k)", v);
	}
	return 0;
}

int value_seconds(long *out, const struct cfg *c, const char *key, long def, char *err)
{
	static const uint64_t mult[] = { 1, 60, 3600, 86400 };
	const char *v = cfg_str(c, key, NULL);
	uint64_t n;

	*out = def;
	if (!v)
		return 0;
	if (scaled(&n, v, "smhd", mult) < 0 || n > (uint64_t)LONG_MAX)
		return cfg_error(c, key, err, "'%.60s' is not a duration "
		                 "(expected seconds, or a number with s, m, h or d, e.g. 5m)", v);
	*out = (long)n;
	return 0;
}

int value_owner(unsigned *uid, unsigned *gid, int *set, const struct cfg *c, const char *key, char *err)
{
	const char *v = cfg_str(c, key, NULL), *end, *end2;
	uint64_t u, g = 0;

	*set = 0;
	if (!v)
		return 0;
	/* (uid_t)-1 means "unchanged" to chown: refuse it as an owner.  A
	 * uid alone (birdhouse's CODE_OWNERSHIP=1000, as chown -R 1000)
	 * leaves the group as it is: gid VALUE_GID_UNCHANGED. */
	if (parse_u64(&u, v, &end) < 0 || (*end && *end != ':') || u >= UINT32_MAX ||
	    (*end == ':' && (parse_u64(&g, end + 1, &end2) < 0 || *end2 || g >= UINT32_MAX)))
		return cfg_error(c, key, err, "'%.60s' is not an owner (expected a numeric uid or uid:gid, "
		                 "e.g. 1000 or 1000:1000)", v);
	*uid = (unsigned)u;
	*gid = *end == ':' ? (unsigned)g : VALUE_GID_UNCHANGED;
	*set = 1;
	return 0;
}

int value_list(char ***out, size_t *n, const struct cfg *c, const char *key)
{
	static const char ws[] = " \t\n\r\v\f";
	const char *v = cfg_get(c, key);
	size_t count = 0;
	char **list;

	if (!v)
		v = "";
	for (const char *p = v + strspn(v, ws); *p; p += strspn(p, ws)) {
		count++;
		p += strcspn(p, ws);
	}
	list = xcalloc(count + 1, sizeof(*list));
	count = 0;
	for (const char *p = v + strspn(v, ws); *p; p += strspn(p, ws)) {
		size_t len = strcspn(p, ws);
		list[count++] = xasprintf("%.*s", (int)len, p);
		p += len;
	}
	list[count] = NULL;
	*out = list;
	if (n)
		*n = count;
	return 0;
}

void value_list_free(char **list)
{
	if (!list)
		return;
	for (char **p = list; *p; p++)
		free(*p);
	free(list);
}
