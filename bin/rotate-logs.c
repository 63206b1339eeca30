/*
 * rotate-logs: logrotate's policy for the suite's logs, without losing a
 * line (SPEC.md "rotate-logs", rotate-logs(1)).
 *
 * Every *.log in AUTODEPLOY_LOG_DIR is looked at in name order: a leftover
 * uncompressed rotated file is compressed first (a failed run's retry), then
 * the log is rotated when due, then the oldest rotated files beyond KEEP are
 * removed.  The policy and the cut live in lib/rotate.c, gzip in lib/gz.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "app.h"
#include "cli.h"
#include "gz.h"
#include "lock.h"
#include "log.h"
#include "rotate.h"
#include "rotatecut.h"
#include "settings.h"
#include "strbuf.h"
#include "util.h"

static int opt_force, opt_dry_run;

static struct poptOption options[] = {
	{ "force", 'f', POPT_ARG_NONE, &opt_force, 0,
	  "rotate every non-empty log now, whatever the period and size", NULL },
	{ "dry-run", 'n', POPT_ARG_NONE, &opt_dry_run, 0,
	  "print what would be done and change nothing", NULL },
	POPT_TABLEEND
};

struct run {
	const struct settings *s;
	int dirfd;
	struct tm now;
	int failed;             /* an I/O error happened: exit 74 at the end */
};

static int ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);
	return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

/*
 * A run that died (or a disk that filled up) between the copy and the
 * compression leaves a plain rotated file: compress it now.  If its .gz
 * exists too, the .gz was renamed into place complete, so the plain copy
 * is a leftover of the removal.
 */
static void finish_leftovers(struct run *r, const struct rot_list *l)
{
	char gzname[NAME_MAX + 1], err[ERR_MAX];
	for (size_t i = 0; i < l->n; i++) {
		const struct rot_file *f = &l->v[i];
		if (f->gz)
			continue;
		int has_gz = i + 1 < l->n && l->v[i + 1].gz && rotate_same(f, &l->v[i + 1]);
		if (!has_gz && !r->s->rotate_compress)
			continue;
		if (opt_dry_run) {
			printf("would %s '%s'\n", has_gz ? "remove the leftover" : "compress", f->name);
			continue;
		}
		if (!has_gz) {
			if (snprintf(gzname, sizeof(gzname), "%s.gz", f->name) >= (int)sizeof(gzname))
				continue;       /* cannot be: rotated names leave room for .gz */
			if (gz_file_at(r->dirfd, f->name, gzname, (int)r->s->rotate_compress_level, err) < 0) {
				log_error("%s: '%s' is kept uncompressed", err, f->name);
				r->failed = 1;
				continue;
			}
			log_info("compressed '%s' left over by an earlier run", f->name);
		}
		if (unlinkat(r->dirfd, f->name, 0) < 0) {
			log_error("cannot remove '%s': %s", f->name, strerror(errno));
			r->failed = 1;
		}
	}
}

/* Remove the oldest rotations beyond KEEP; `extra` is a rotation that
 * --dry-run pretends to have made. */
static void prune(struct run *r, const struct rot_list *l, int extra)
{
	long generations = extra;
	for (size_t i = l->n; i-- > 0;) {
		const struct rot_file *f = &l->v[i];
		if (i + 1 == l->n || !rotate_same(f, &l->v[i + 1]))
			generations++;
		if (generations <= r->s->rotate_keep)
			continue;
		if (opt_dry_run) {
			printf("would remove '%s'\n", f->name);
		} else if (unlinkat(r->dirfd, f->name, 0) < 0) {
			log_error("cannot remove '%s': %s", f->name, strerror(errno));
			r->failed = 1;
		} else {
			log_info("removed '%s' (keeping %ld)", f->name, r->s->rotate_keep);
		}
	}
}

/* Copy, cut, compress: the rotation proper of one due log. */
static int rotate_now(struct run *r, const char *name, const char *rotated, const struct stat *seen)
{
	char err[ERR_MAX], gzname[NAME_MAX + 1];
	uint64_t copied;
	int lossless, rc;

	/* Open without following a link and check it is still the file that
	 * was looked at, so a swap in between cannot redirect us. */
	int fd = openat(r->dirfd, name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		log_error("cannot open '%s': %s", name, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_dev != seen->st_dev || st.st_ino != seen->st_ino || !S_ISREG(st.st_mode) ||
	    st.st_nlink != 1) {
		log_warn("skipping '%s': it changed while being looked at", name);
		close(fd);
		return 0;
	}
	rc = rotatecut_cut(&copied, &lossless, r->dirfd, fd, rotated, err);
	close(fd);
	if (rc < 0) {
		log_error("cannot rotate '%s': %s", name, err);
		return -1;
	}
	if (rc == ROTATECUT_TOO_SHORT) {
		log_info("'%s' is not longer than one file-system block: left for the next rotation", name);
		return 0;
	}
	if (rc == ROTATECUT_CHANGED) {
		log_warn("'%s' was truncated or rewritten while it was being rotated: it is left as it "
		         "is, the next run rotates it", name);
		return 0;
	}
	if (!lossless)
		log_warn("'%s': the file system cannot collapse a range of a file, so the log was "
		         "copied then truncated: lines written during the copy may be lost", name);
	if (!r->s->rotate_compress) {
		log_info("rotated '%s' to '%s' (%llu bytes)", name, rotated, (unsigned long long)copied);
		return 0;
	}
	if (snprintf(gzname, sizeof(gzname), "%s.gz", rotated) >= (int)sizeof(gzname)) {
		log_error("rotated name '%s' is too long", rotated);
		return -1;
	}
	if (gz_file_at(r->dirfd, rotated, gzname, (int)r->s->rotate_compress_level, err) < 0) {
		log_error("%s: '%s' is kept uncompressed and will be compressed by the next run",
		          err, rotated);
		return -1;
	}
	if (unlinkat(r->dirfd, rotated, 0) < 0) {
		log_error("cannot remove '%s' after compressing it: %s", rotated, strerror(errno));
		return -1;
	}
	log_info("rotated '%s' to '%s' (%llu bytes)", name, gzname, (unsigned long long)copied);
	return 0;
}

static void rotate_one(struct run *r, const char *name)
{
	const struct settings *s = r->s;
	char err[ERR_MAX], rotated[NAME_MAX + 1];
	struct rot_list l = { 0 };
	struct stat st;

	if (fstatat(r->dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT) {  /* gone since the listing: nothing to do */
			log_error("cannot stat '%s': %s", name, strerror(errno));
			r->failed = 1;
		}
		return;
	}
	if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode) || st.st_nlink != 1) {
		log_warn("skipping '%s': %s", name,
		         S_ISLNK(st.st_mode) ? "a symbolic link is never followed" :
		         !S_ISREG(st.st_mode) ? "not a regular file" :
		         "it has several hard links (rotate the file itself, under one name)");
		return;
	}
	if (rotate_list(&l, r->dirfd, name, &r->now, err) < 0) {
		log_error("%s", err);
		r->failed = 1;
		return;
	}
	for (size_t i = 0; i < l.nskipped; i++)
		log_warn("skipping '%s': a rotated name that is not a regular file is never "
		         "followed, compressed or removed (remove it if it is not yours)", l.skipped[i]);
	for (size_t i = 0; i < l.n; i++)
		if (l.v[i].future)
			log_warn("'%s' is dated in the future: it counts as the oldest rotation",
			         l.v[i].name);
	finish_leftovers(r, &l);

	enum rot_due due = rotate_due(&l, (uint64_t)st.st_size, s->rotate_minsize,
	                              s->rotate_period, opt_force, &r->now);
	if (due < 0) {
		log_debug("not rotating '%s': %s", name, rotate_due_text(due));
		goto out;
	}
	if (rotate_pick_name(rotated, sizeof(rotated) - 3, name, &l, &r->now, err) < 0) {
		log_error("%s", err);
		r->failed = 1;
		goto out;
	}
	if (opt_dry_run) {
		printf("would rotate '%s' (%lld bytes, %s) to '%s%s'\n", name, (long long)st.st_size,
		       rotate_due_text(due), rotated, s->rotate_compress ? ".gz" : "");
		prune(r, &l, 1);
		goto out;
	}
	if (rotate_now(r, name, rotated, &st) < 0) {
		r->failed = 1;
		goto out;
	}
	rotate_list_free(&l);
	if (rotate_list(&l, r->dirfd, name, &r->now, err) < 0) {
		log_error("%s", err);
		r->failed = 1;
		goto out;
	}
	prune(r, &l, 0);
out:
	rotate_list_free(&l);
}

/*
 * A run killed mid-rotation (kill -9, power loss) leaves its temporary
 * copy, as big as the log: under the lock no other run is writing one, so
 * any temporary file of a rotated name is stale.  Other hidden files are
 * not ours and stay.
 */
static void remove_stale_temp(struct run *r, const char *tmp)
{
	char target[NAME_MAX + 1];
	struct rot_file f;
	struct stat st;
	const char *dot = NULL;
	if (util_temp_target(tmp, target, sizeof(target)) < 0)
		return;
	for (const char *p = strstr(target, ".log-"); p; p = strstr(p + 1, ".log-"))
		dot = p;
	if (!dot)
		return;
	char base[NAME_MAX + 1];
	snprintf(base, sizeof(base), "%.*s", (int)(dot + 4 - target), target);
	if (rotate_parse_name(&f, base, target) < 0 ||
	    fstatat(r->dirfd, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode))
		return;
	if (opt_dry_run) {
		printf("would remove '%s', left by an interrupted run\n", tmp);
	} else if (unlinkat(r->dirfd, tmp, 0) < 0) {
		log_error("cannot remove '%s', left by an interrupted run: %s", tmp, strerror(errno));
		r->failed = 1;
	} else {
		log_info("removed '%s' (%lld bytes), left by an interrupted run", tmp,
		         (long long)st.st_size);
	}
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every *.log of the log folder, in name order; rotated names never end
 * in .log, so they are never picked up again. */
static int rotate_all(struct run *r)
{
	const char *dir = r->s->log_dir;
	char **names = NULL;
	size_t n = 0, cap = 0;

	r->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0 && errno == ENOENT && opt_dry_run) {
		printf("nothing to do: '%s' does not exist\n", dir);
		return EXIT_OK;
	}
	if (r->dirfd < 0) {
		log_error("cannot open the log folder '%s': %s", dir, strerror(errno));
		return EXIT_IOERR;
	}
	/* Say it once, up front, rather than once per log. */
	if (!opt_dry_run && faccessat(r->dirfd, ".", W_OK, AT_EACCESS) < 0) {
		log_error("cannot rotate the logs in '%s': %s (the folder must be writable)",
		          dir, strerror(errno));
		return EXIT_IOERR;
	}
	int fd = dup(r->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		log_error("cannot list '%s': %s", dir, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_IOERR;
	}
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.') {
			remove_stale_temp(r, e->d_name);
			continue;
		}
		if (!ends_with(e->d_name, ".log"))
			continue;
		ARRAY_GROW(names, n, cap);
		names[n++] = xstrdup(e->d_name);
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof(*names), by_name);
	for (size_t i = 0; i < n; i++) {
		rotate_one(r, names[i]);
		free(names[i]);
	}
	free(names);
	return r->failed ? EXIT_IOERR : EXIT_OK;
}

int main(int argc, const char **argv)
{
	struct app a;
	struct run r = { .s = &a.s, .dirfd = -1 };
	int code;
	time_t now = time(NULL);

	/* A file-size limit must fail the write (EFBIG), not kill the run
	 * half-way: the error path keeps every byte. */
	signal(SIGXFSZ, SIG_IGN);
	app_init(&a);
	if (cli_parse(argc, argv, options, "[--force] [--dry-run]", &code) < 0)
		return code;
	/* --dry-run changes nothing, not even rotate-logs.log: it logs to
	 * stderr only and takes no lock. */
	if ((code = app_begin(&a, opt_dry_run ? NULL : "rotate-logs.log")) != EXIT_OK)
		goto out;
	localtime_r(&now, &r.now);
	/* The spec gives rotate-logs no lock of its own, but two runs at
	 * once would fight over the same names: a private one. */
	if (!opt_dry_run && (code = app_lock(&a, "rotate-logs.lock", LOCK_NO_WAIT)) != EXIT_OK)
		goto out;
	code = rotate_all(&r);
out:
	if (r.dirfd >= 0)
		close(r.dirfd);
	return app_end(&a, code);
}
