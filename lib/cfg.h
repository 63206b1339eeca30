/*
 * cfg: parse env.local, the one file that drives every program.
 *
 * The file keeps the shell-assignment form operators already have, but it is
 * parsed, never executed (see env.local(5) and SPEC.md "Configuration"):
 *   KEY=value, export KEY=value, KEY="double", KEY='single', blank lines,
 *   # comments (whole line, or after whitespace outside quotes),
 *   ${KEY} and $KEY expand to a key set earlier in the file, else to the
 *   environment, else to empty; no expansion inside single quotes;
 *   a double-quoted value may span lines.
 * Anything else is refused with "FILE:LINE: what is wrong".
 *
 * Use:
 *   struct cfg *c;
 *   if (cfg_load(&c, cfg_default_path(NULL), err) < 0) -> exit 78
 *   const char *v = cfg_get(c, "AUTODEPLOY_COMPOSE_DIR");
 *   cfg_free(c);
 * Typed values (booleans, numbers, sizes...) are read by value.h.
 */
#ifndef AUTODEPLOY_CFG_H
#define AUTODEPLOY_CFG_H

#include <stddef.h>
#include <stdint.h>

struct cfg;

/* The config path: `override` if not NULL, else $AUTODEPLOY_CONFIG if set
 * and non-empty, else /etc/autodeploy/env.local. */
const char *cfg_default_path(const char *override);

/* Parse the file at path.  Errors name the file and line. */
int cfg_load(struct cfg **out, const char *path, char *err);

/* Parse a buffer (need not be NUL-terminated; may hold NUL bytes, which are
 * an error); `name` is used in messages in place of a file name. */
int cfg_parse(struct cfg **out, const char *name, const char *buf, size_t len, char *err);

void cfg_free(struct cfg *c);

/* The value of key (the last assignment wins), or NULL when never set. */
const char *cfg_get(const struct cfg *c, const char *key);

/* Line of the last assignment of key, 0 when never set. */
int cfg_line(const struct cfg *c, const char *key);

/* The file name given to cfg_load/cfg_parse. */
const char *cfg_name(const struct cfg *c);

/* Number of assignments, and the i-th key/value in file order (for tools
 * that enumerate keys such as AUTODEPLOY_JOB_<NAME>_COMMAND). */
size_t cfg_count(const struct cfg *c);
const char *cfg_key_at(const struct cfg *c, size_t i);
const char *cfg_value_at(const struct cfg *c, size_t i);

/* String with default: value if set and non-empty, else def. */
const char *cfg_str(const struct cfg *c, const char *key, const char *def);

/* For callers that validate a value themselves (settings, value): write
 * "FILE:LINE: KEY: message" into err, control characters shown as '?',
 * and return -1. */
int cfg_error(const struct cfg *c, const char *key, char *err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
