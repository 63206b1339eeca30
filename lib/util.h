/*
 * util: the small things every program needs.
 *
 * Error convention used across lib/: a function that can fail takes a
 * caller-supplied `char *err` of ERR_MAX bytes as its last argument, returns
 * -1 (or another documented negative value) and writes one lowercase line
 * without a trailing full stop into it, naming the subject in quotes:
 *     cannot open '/srv/stack': No such file or directory
 * The caller decides the exit code (exitcode.h) and logs the message once.
 */
#ifndef AUTODEPLOY_UTIL_H
#define AUTODEPLOY_UTIL_H

#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "exitcode.h"

#define ERR_MAX 1024


/* printf into err (ERR_MAX bytes); always returns -1 so callers can
 * `return err_set(err, ...);` */
int err_set(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* mkdir -p with the given mode for created folders. */
int util_mkdir_p(const char *path, mode_t mode, char *err);

/*
 * Atomically replace `path` with `len` bytes of `data`: write to a temporary
 * name in the same folder, fsync, rename over `path`, fsync the folder.
 * Readers see the old file or the new one, never a half-written one.
 * The file gets exactly `mode` (no umask).  On any failure before the
 * rename the temporary file is removed and `path` is untouched; if only the
 * folder's fsync fails, the new content is in place and -1 is returned.
 */
int util_write_atomic(const char *path, const void *data, size_t len, mode_t mode, char *err);

/* write(2) all of data, retrying on EINTR and short writes; -1 with errno. */
int util_write_all(int fd, const void *data, size_t len);

/* Who files are given to (AUTODEPLOY_CODE_OWNERSHIP, _NOTEBOOK_OWNERSHIP):
 * set 0 leaves them the running user's; a gid of VALUE_GID_UNCHANGED
 * (value.h) keeps the group. */
struct util_owner {
	int set;
	unsigned uid, gid;
};

/* The running user's home folder: $HOME when set and not empty, else the
 * password database's (a service started by systemd may have no HOME);
 * NULL when neither knows it. */
const char *util_home(void);

/* Create and open (O_EXCL, O_NOFOLLOW, mode 0600) a fresh temporary file
 * ".NAME.XXXXXXXX.tmp" in the folder dirfd, its name into tmp: dot-prefixed
 * so that nobody mistakes it for a finished file.  -1 with errno. */
int util_open_temp(int dirfd, const char *name, char *tmp, size_t len);

/* The end of every atomic write: rename tmp (written and fsynced by the
 * caller) to dst in the folder dirfd, then fsync the folder so the new
 * entry survives a crash.  On a failed rename tmp is removed.  -1 with err. */
int util_temp_rename(int dirfd, const char *tmp, const char *dst, char *err);

/* fsync the folder path (opened as openat(2) does: relative to dirfd,
 * AT_FDCWD for the working folder, "." for dirfd itself), so that the
 * entries just made or removed in it survive a crash: a rename or an
 * unlink is durable only once its folder is.  A file system that cannot
 * sync a folder (EINVAL) has nothing more to give: not an error.  -1 with
 * err (and errno kept). */
int util_fsync_dir(int dirfd, const char *path, char *err);

/* 0 when tmp is a name util_open_temp makes, with the NAME it was made for
 * copied into name; -1 otherwise (or when it does not fit). */
int util_temp_target(const char *tmp, char *name, size_t len);

/* rm -rf that also works on read-only folders (it makes each folder
 * writable by its owner before emptying it); never follows symlinks.  A
 * missing path is not an error. */
int util_remove_tree(const char *path, char *err);

/* Read a whole file into a NUL-terminated malloc'd buffer (*len, when len
 * is not NULL, excludes the NUL).  On failure *out is NULL. */
int util_read_file(char **out, size_t *len, const char *path, char *err);

/* malloc/strdup/realloc that abort on exhaustion: a deploy tool that runs
 * out of memory has nothing sensible left to do. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
/* The len bytes at data as a malloc'd string: a NUL is added after them
 * (data need not hold one, and may hold NULs: the copy is len bytes). */
void *xmemdupz(const void *data, size_t len);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Time t formatted as ISO-8601 (extended format) in local time with its
 * numeric offset, always this shape: 2026-11-22T00:07:07+00:00 (25
 * characters; the offset is never written as Z).  buf should hold at least
 * 32 bytes; a shorter buffer gets a truncated, still NUL-terminated string. */
void util_iso_time(char *buf, size_t len, time_t t);

/* Seconds on CLOCK_MONOTONIC, for deadlines and durations: the wall clock
 * may jump (NTP, an operator) while we wait. */
double util_monotonic(void);

/*
 * Test-only fault injection (run-deploy(1), AUTODEPLOY_TEST_KILL_AT): the
 * count N when AUTODEPLOY_TEST_KILL_AT is `prefix` followed by N (a kill
 * point inside a loop, "checkout-file-" and N files), 0 when it is not.
 */
long util_test_kill_count(const char *prefix);

/* Die as the tests ask: by SIGKILL, or by the signal that
 * AUTODEPLOY_TEST_KILL_SIGNAL names (TERM, HUP, INT, PIPE: a handled
 * signal, so the caller then goes on as a signalled run would). */
void util_test_kill(void);

#include "banned.h"

#endif
