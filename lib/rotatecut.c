/* rotatecut: the lossless cut of a live log.  See rotatecut.h; the names
 * and the policy are in rotate.c. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <zlib.h>

#include "rotatecut.h"
#include "util.h"

#define COPY_BUF (64 * 1024)

/*
 * Append the data of live[from, to) to out (to == -1: up to the end),
 * skipping holes: a writer without O_APPEND keeps its offset after a
 * collapse, so its next write leaves a hole the size of the cut; the
 * rotated copy and the .gz must not hold those NULs as data.  *crc (when
 * not NULL) sums each data segment with its offset, so that reading the
 * same range twice tells whether it changed.  Returns the number of bytes
 * written, -1 on error (errno set; ENODATA: the log shrank under us).
 */
static int64_t copy_data(int out, int live, off_t from, off_t to, unsigned char *buf, uLong *crc)
{
	int64_t written = 0;
	off_t off = from;
	while (to < 0 || off < to) {
		off_t data = lseek(live, off, SEEK_DATA);
		if (data < 0 && errno == ENXIO)
			break;                  /* only a hole (or nothing) is left */
		if (data < 0)
			return -1;
		if (to >= 0 && data >= to)
			break;
		off_t hole = lseek(live, data, SEEK_HOLE);
		if (hole < 0)
			return -1;
		off_t end = to >= 0 && hole > to ? to : hole;
		if (crc) {
			unsigned char at[8];
			for (int i = 0; i < 8; i++)
				at[i] = (unsigned char)((uint64_t)data >> (8 * i));
			*crc = crc32(*crc, at, sizeof(at));
		}
		for (off = data; off < end;) {
			size_t want = COPY_BUF;
			if ((off_t)want > end - off)
				want = (size_t)(end - off);
			ssize_t n = pread(live, buf, want, off);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -1;
			if (n == 0) {
				errno = ENODATA;
				return -1;
			}
			if (crc)
				*crc = crc32(*crc, buf, (uInt)n);
			if (out >= 0 && util_write_all(out, buf, (size_t)n) < 0)
				return -1;
			written += n;
			off += n;
		}
	}
	return written;
}

/* The checksum of live[0, prefix) as copy_data sums it; -1 on error. */
static int sum_prefix(uLong *crc, int live, off_t prefix, unsigned char *buf)
{
	*crc = crc32(0L, Z_NULL, 0);
	return copy_data(-1, live, 0, prefix, buf, crc) < 0 ? -1 : 0;
}

/*
 * Write live[0, prefix) to a temporary file beside dst with the log's
 * owner and mode, fsync it, rename it to dst (replacing an earlier try)
 * and fsync the folder.  Returns the open descriptor of dst, -1 on error
 * (nothing left behind; errno ENODATA: the log shrank).
 */
static int copy_out(int dirfd, const char *dst, int live, const struct stat *st, off_t prefix,
                    unsigned char *buf, uLong *crc, char *err)
{
	char tmp[4096];
	int out = util_open_temp(dirfd, dst, tmp, sizeof(tmp));
	if (out < 0) {
		err_set(err, "cannot create a temporary file for '%s': %s", dst, strerror(errno));
		return -1;
	}
	*crc = crc32(0L, Z_NULL, 0);
	/* Keep the log's owner as logrotate does; only root may give a file
	 * away, and then the file is the caller's own, which is no worse. */
	if (copy_data(out, live, 0, prefix, buf, crc) < 0 ||
	    (fchown(out, st->st_uid, st->st_gid) < 0 && errno != EPERM) ||
	    fchmod(out, st->st_mode & 0777) < 0 || fsync(out) < 0) {
		int e = errno;
		if (e != ENODATA)
			err_set(err, "cannot write '%s': %s", dst, strerror(e));
		close(out);
		unlinkat(dirfd, tmp, 0);
		errno = e;
		return -1;
	}
	if (util_temp_rename(dirfd, tmp, dst, err) < 0) {
		close(out);
		unlinkat(dirfd, dst, 0);
		errno = EIO;
		return -1;
	}
	return out;
}

/* The largest collapse unit tried: ext4's bigalloc clusters are at most a
 * few MiB; past this, EINVAL is not about alignment. */
#define MAX_UNIT ((off_t)64 << 20)

/* The first range to cut, [0, return value), and its collapse unit. */
static off_t first_cut(off_t *unit, const struct stat *st)
{
	/* The collapse unit: the file system's block to start with; ext4's
	 * bigalloc wants whole clusters, which st_blksize does not tell, so
	 * an EINVAL on an unchanged file doubles it. */
	*unit = st->st_blksize >= 512 ? st->st_blksize : 4096;
	/* Strictly shorter than the file: the kernel refuses to collapse a
	 * range that reaches the end (it wants ftruncate for that). */
	return st->st_size > 0 ? (st->st_size - 1) / *unit * *unit : 0;
}

/* Test-only (rotate-logs(1)): stop between the copy and the cut, so a
 * test can rewrite the log there. */
static void test_stop_before_cut(void)
{
	const char *at = getenv("AUTODEPLOY_TEST_STOP_AT");
	if (at && strcmp(at, "before-cut") == 0)
		raise(SIGSTOP);
}

/* Is live[0, prefix) still what was copied (checksum crc), with more
 * after it?  Someone who truncated and rewrote the log meanwhile would
 * have the collapse cut bytes that were never copied. */
static int still_copied(int live_fd, off_t prefix, unsigned char *buf, uLong crc)
{
	struct stat now;
	uLong again;

	return fstat(live_fd, &now) == 0 && now.st_size > prefix &&
	       sum_prefix(&again, live_fd, prefix, buf) == 0 && again == crc;
}

/* copytruncate as logrotate does it: the rest of live after prefix
 * appended to out, then live emptied.  Whatever lands between the last
 * read and the truncate is lost; the caller says so in the log.  Returns
 * the bytes appended, -1 on error. */
static int64_t copy_truncate(int out, int live_fd, off_t prefix, unsigned char *buf,
                             const char *dst, char *err)
{
	int64_t rest = copy_data(out, live_fd, prefix, -1, buf, NULL);
	if (rest < 0 || fsync(out) < 0)
		return err_set(err, "cannot write '%s': %s", dst, strerror(errno));
	if (ftruncate(live_fd, 0) < 0)
		return err_set(err, "cannot truncate the log rotated to '%s': %s", dst, strerror(errno));
	return rest;
}

int rotatecut_cut(uint64_t *copied, int *lossless, int dirfd, int live_fd, const char *dst, char *err)
{
	struct stat st;
	int out = -1, ret = -1, have_dst = 0;
	unsigned char *buf = NULL;
	uLong crc;

	*copied = 0;
	*lossless = 0;
	if (fstat(live_fd, &st) < 0)
		return err_set(err, "cannot stat the log rotated to '%s': %s", dst, strerror(errno));
	off_t unit, prefix = first_cut(&unit, &st);
	if (prefix == 0)
		return ROTATECUT_TOO_SHORT;
	buf = xmalloc(COPY_BUF);

	for (;;) {
		if (out < 0 && (out = copy_out(dirfd, dst, live_fd, &st, prefix, buf, &crc, err)) < 0) {
			if (errno == ENODATA)
				ret = ROTATECUT_CHANGED;
			goto out;
		}
		have_dst = 1;
		test_stop_before_cut();
		/* The copy is safe on disk: only now may the live file lose it,
		 * and only if it is still the file copied. */
		if (!still_copied(live_fd, prefix, buf, crc)) {
			ret = ROTATECUT_CHANGED;
			goto out;
		}
		if (fallocate(live_fd, FALLOC_FL_COLLAPSE_RANGE, 0, prefix) == 0) {
			*copied = (uint64_t)prefix;
			*lossless = 1;
			ret = 0;
			goto out;
		}
		if (errno != EINVAL)
			break;
		/* Unchanged and longer than the range: EINVAL is the
		 * alignment.  Try the next unit; a shorter prefix needs a
		 * shorter copy. */
		unit *= 2;
		off_t shorter = prefix / unit * unit;
		if (unit > MAX_UNIT) {
			err_set(err, "cannot cut the rotated part out of the log: %s", strerror(EINVAL));
			goto out;
		}
		if (shorter == 0) {
			ret = ROTATECUT_TOO_SHORT;
			goto out;
		}
		if (shorter != prefix) {
			prefix = shorter;
			close(out);
			out = -1;
		}
	}
	if (errno != EOPNOTSUPP && errno != ENOSYS) {
		err_set(err, "cannot cut the rotated part out of the log: %s", strerror(errno));
		goto out;
	}
	int64_t rest = copy_truncate(out, live_fd, prefix, buf, dst, err);
	if (rest < 0)
		goto out;
	*copied = (uint64_t)(prefix + rest);
	ret = 0;
out:
	if (out >= 0 && close(out) < 0 && ret == 0) {
		/* The live file has already been cut: keep dst, it holds the data. */
		ret = err_set(err, "cannot write '%s': %s", dst, strerror(errno));
	} else if (have_dst && ret != 0) {
		unlinkat(dirfd, dst, 0);
	}
	free(buf);
	return ret;
}
