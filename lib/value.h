/*
 * value: typed readings of env.local keys, for settings: booleans,
 * bounded numbers, sizes, durations, owners and lists.  A malformed value
 * is reported as "FILE:LINE: KEY: ..." (cfg_error) and the reader returns
 * -1; an unset (or empty) key yields the default.
 *
 *   long t;
 *   if (value_seconds(&t, c, "AUTODEPLOY_COMMAND_TIMEOUT", 900, err) < 0) -> exit 78
 */
#ifndef AUTODEPLOY_VALUE_H
#define AUTODEPLOY_VALUE_H

#include <stddef.h>
#include <stdint.h>

struct cfg;

/* yes/no, true/false, on/off, 1/0 (case-insensitive). */
int value_bool(int *out, const struct cfg *c, const char *key, int def, char *err);

/* Non-negative integer within [min, max]. */
int value_long(long *out, const struct cfg *c, const char *key, long def, long min, long max, char *err);

/* Size: a number with optional k, M, G (binary: 1k = 1024; also kB/KiB
 * forms are NOT accepted, keep it logrotate-like: 500k, 10M, 1G, or bytes). */
int value_size(uint64_t *out, const struct cfg *c, const char *key, uint64_t def, char *err);

/* Duration in seconds: plain number (seconds) or with s, m, h, d suffix. */
int value_seconds(long *out, const struct cfg *c, const char *key, long def, char *err);

/* uid:gid or uid alone (numbers); a uid alone gives *gid =
 * VALUE_GID_UNCHANGED, which chown(2) takes as "keep the group"; unset
 * leaves *set = 0. */
#define VALUE_GID_UNCHANGED 0xffffffffu
int value_owner(unsigned *uid, unsigned *gid, int *set, const struct cfg *c, const char *key, char *err);

/* Whitespace-separated list (spaces, tabs, newlines).  *out is a
 * NULL-terminated malloc'd array of malloc'd strings (empty list: an array
 * holding only NULL); free with value_list_free. */
int value_list(char ***out, size_t *n, const struct cfg *c, const char *key);
void value_list_free(char **list);

#endif
