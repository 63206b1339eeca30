/*
 * hookin: the post-receive hook's input, `OLD NEW REFNAME` per line
 * (githooks(5)), parsed strictly before anything is triggered
 * (SPEC.md "post-receive").
 *
 *   struct hookin_update *u; size_t n;
 *   if (hookin_parse(&u, &n, buf, len, err) < 0) -> exit 65, err says which line
 *   for (i...) if (hookin_wanted(&u[i], patterns)) ...
 *   hookin_free(u, n);
 *
 * A line is two object ids of 40 or 64 hex digits (the same length: one
 * repository has one hash) and a ref name under refs/ that libgit2 calls
 * valid, separated by single spaces, ended by '\n' (the last may lack it).
 * Lines are at most HOOKIN_LINE_MAX bytes; NUL bytes and empty lines are
 * refused.  The library needs git_libgit2_init() to have been called.
 */
#ifndef AUTODEPLOY_HOOKIN_H
#define AUTODEPLOY_HOOKIN_H

#include <stddef.h>

#define HOOKIN_LINE_MAX 4096
#define HOOKIN_ID_MAX 64
/* The most the hook writes into the trigger file: it only asks for a look,
 * so the refs past this are counted, not listed; run-deploy empties a
 * trigger longer than this (someone wrote it directly). */
#define HOOKIN_TRIGGER_MAX 4096
/* The most "queued" lines the hook prints to the pusher. */
#define HOOKIN_SAY_MAX 20

/* Compiled into the hook; install-units recognises its own hook by it. */
#define HOOKIN_MARKER "@(#)autodeploy post-receive hook"

struct hookin_update {
	char old_id[HOOKIN_ID_MAX + 1];
	char new_id[HOOKIN_ID_MAX + 1];
	char *ref;                        /* malloc'd */
};

/* Parse the whole input; on error nothing is returned and err reads
 * "line N: what is wrong". */
int hookin_parse(struct hookin_update **out, size_t *n, const char *buf, size_t len, char *err);
void hookin_free(struct hookin_update *u, size_t n);

/* An update deletes its ref when the new id is all zeros. */
int hookin_is_deletion(const struct hookin_update *u);

/* Does ref match one of the space-separated patterns (each an exact ref
 * name or an fnmatch(3) glob, flags 0: '*' also matches '/')? */
int hookin_ref_matches(const char *patterns, const char *ref);

/* Should this update ask for a deploy: not a deletion, and a matching ref. */
int hookin_wanted(const struct hookin_update *u, const char *patterns);

/* The short name shown to the pusher: refs/heads/main -> main,
 * refs/tags/1.2.3 -> 1.2.3, anything else as is. */
const char *hookin_short_ref(const char *ref);

#endif
