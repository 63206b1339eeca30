/*
 * rotate: rotate-logs' policy (SPEC.md "rotate-logs"); the lossless cut
 * of the live log is rotatecut.h's.
 *
 * Rotated files are named NAME.log-YYYYMMDD[-HHMMSS[-N]][.gz] in local time;
 * the names are the only state (no state file to corrupt).  They sort by the
 * time they carry: the plain-date file is the oldest of its day, a missing
 * -N counts as 1.
 *
 *   struct rot_list l;
 *   rotate_list(&l, dirfd, "x.log", &now, err);     oldest first
 *   if (rotate_due(&l, size, minsize, period, force, &now) > 0) {
 *       rotate_pick_name(name, sizeof(name), "x.log", &l, &now);
 *       rotatecut_cut(&copied, &lossless, dirfd, live_fd, name, err);   rotatecut.h
 *   }
 *   rotate_list_free(&l);
 */
#ifndef AUTODEPLOY_ROTATE_H
#define AUTODEPLOY_ROTATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "settings.h"

struct rot_file {
	char *name;             /* the folder entry, malloc'd by rotate_list */
	int year, mon, day;     /* mon 1..12 */
	long hms;               /* HHMMSS as a number; -1 for a plain-date name */
	long seq;               /* N of -HHMMSS-N; 1 when absent */
	int gz;                 /* the name ends in .gz */
	int future;             /* dated after today: counts as the oldest */
	int64_t mtime_ns;       /* the oldest mtime of its generation; 0: unknown */
};

struct rot_list {
	struct rot_file *v;
	size_t n;
	char **skipped;         /* rotated names that are not regular files */
	size_t nskipped;
};

/* 0 when `name` is a rotated file of log `base` (e.g. "x.log"), with *out
 * filled in (out->name is left NULL); -1 otherwise. */
int rotate_parse_name(struct rot_file *out, const char *base, const char *name);

/* Order of rotated files: names dated in the future first (they cannot be
 * newer than today's rotation), then by date; within a day by the
 * generation's mtime when both are known (local times repeat when DST
 * ends, so -HHMMSS alone can sort a newer file first), then by time (plain
 * date first), then N. */
int rotate_cmp(const struct rot_file *a, const struct rot_file *b);

/* Same generation: a plain file and its .gz are one rotation. */
int rotate_same(const struct rot_file *a, const struct rot_file *b);

/* Every rotated file of base in the folder that is a regular file, oldest
 * first; `today` (local time, may be NULL) marks the future-dated ones.
 * Other entries with a rotated name (a planted symbolic link) are only
 * named in out->skipped: never read, compressed or removed. */
int rotate_list(struct rot_list *out, int dirfd, const char *base, const struct tm *today,
                char *err);
void rotate_list_free(struct rot_list *l);

/* Why a log is or is not due: the positive values mean "rotate". */
enum rot_due {
	ROT_EMPTY = -3,         /* an empty file is never rotated */
	ROT_TOO_SMALL = -2,     /* below MINSIZE */
	ROT_NOT_YET = -1,       /* the period has not passed since the newest rotated file */
	ROT_FORCED = 1,
	ROT_FIRST = 2,          /* no rotated file yet */
	ROT_PERIOD = 3
};

/* As logrotate decides: daily: a later calendar day than the newest rotated
 * file; weekly: seven days or more later, or a Sunday later than it;
 * monthly: a later calendar month.  now is local time.  Future-dated
 * files are not taken as the last rotation (logrotate rotates then too). */
enum rot_due rotate_due(const struct rot_list *l, uint64_t size, uint64_t minsize,
                        enum rotate_period period, int force, const struct tm *now);
const char *rotate_due_text(enum rot_due d);

/* The next free name for base at `now` (without .gz): NAME.log-YYYYMMDD,
 * or -HHMMSS when that day has a rotated file, or -HHMMSS-N when that
 * second has one too. */
int rotate_pick_name(char *out, size_t len, const char *base, const struct rot_list *l,
                     const struct tm *now, char *err);

#endif
