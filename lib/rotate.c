#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rotate.h"
#include "util.h"

#define COPY_BUF (64 * 1024)

/* Exactly n decimal digits at s; -1 if anything else. */
static long digits(const char *s, int n)
{
	long v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int rotate_parse_name(struct rot_file *out, const char *base, const char *name)
{
	size_t bl = strlen(base);
	if (strncmp(name, base, bl) != 0 || name[bl] != '-')
		return -1;
	const char *p = name + bl + 1;
	long date = digits(p, 8);
	if (date < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->year = (int)(date / 10000);
	out->mon = (int)(date / 100 % 100);
	out->day = (int)(date % 100);
	out->hms = -1;
	out->seq = 1;
	if (out->mon < 1 || out->mon > 12 || out->day < 1 || out->day > 31)
		return -1;
	p += 8;
	if (p[0] == '-') {
		out->hms = digits(p + 1, 6);
		if (out->hms < 0 || out->hms / 10000 > 23 || out->hms / 100 % 100 > 59 || out->hms % 100 > 60)
			return -1;
		p += 7;
		if (p[0] == '-') {
			char *end;
			if (p[1] < '1' || p[1] > '9')
				return -1;
			errno = 0;
			out->seq = strtol(p + 1, &end, 10);
			if (errno || out->seq < 2)
				return -1;
			p = end;
		}
	}
	if (strcmp(p, ".gz") == 0)
		out->gz = 1;
	else if (*p != '\0')
		return -1;
	return 0;
}

int rotate_cmp(const struct rot_file *a, const struct rot_file *b)
{
	long da = (long)a->year * 10000 + a->mon * 100 + a->day;
	long db = (long)b->year * 10000 + b->mon * 100 + b->day;
	if (da != db)
		return da < db ? -1 : 1;
	if (a->hms != b->hms)
		return a->hms < b->hms ? -1 : 1;
	if (a->seq != b->seq)
		return a->seq < b->seq ? -1 : 1;
	return a->gz - b->gz;
}

int rotate_same(const struct rot_file *a, const struct rot_file *b)
{
	return a->year == b->year && a->mon == b->mon && a->day == b->day &&
	       a->hms == b->hms && a->seq == b->seq;
}

static int cmp_qsort(const void *a, const void *b)
{
	return rotate_cmp(a, b);
}

int rotate_list(struct rot_list *out, int dirfd, const char *base, char *err)
{
	size_t cap = 0;
	out->v = NULL;
	out->n = 0;
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_set(err, "cannot list the rotated files of '%s': %s", base, strerror(errno));
	}
	struct dirent *e;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		struct rot_file f;
		if (rotate_parse_name(&f, base, e->d_name) < 0)
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v = xrealloc(out->v, cap * sizeof(*out->v));
		}
		f.name = xstrdup(e->d_name);
		out->v[out->n++] = f;
	}
	int saved = errno;
	closedir(d);
	if (saved) {
		rotate_list_free(out);
		return err_set(err, "cannot list the rotated files of '%s': %s", base, strerror(saved));
	}
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_qsort);
	return 0;
}

void rotate_list_free(struct rot_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm):
 * calendar arithmetic without going through time zones. */
static long day_number(long y, long m, long d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

enum rot_due rotate_due(const struct rot_list *l, uint64_t size, uint64_t minsize,
                        enum rotate_period period, int force, const struct tm *now)
{
	if (size == 0)
		return ROT_EMPTY;
	if (force)
		return ROT_FORCED;
	if (size < minsize)
		return ROT_TOO_SMALL;
	if (l->n == 0)
		return ROT_FIRST;
	const struct rot_file *last = &l->v[l->n - 1];
	long y = now->tm_year + 1900L, m = now->tm_mon + 1L;
	long days = day_number(y, m, now->tm_mday) - day_number(last->year, last->mon, last->day);
	int passed = 0;
	switch (period) {
	case PERIOD_DAILY:
		passed = days >= 1;
		break;
	case PERIOD_WEEKLY:
		/* logrotate's rule: a week on, or a Sunday not yet rotated on
		 * (1970-01-01 was a Thursday). */
		passed = days >= 7 || (days >= 1 && (day_number(y, m, now->tm_mday) + 4) % 7 == 0);
		break;
	case PERIOD_MONTHLY:
		passed = y * 12 + m > last->year * 12L + last->mon;
		break;
	}
	return passed ? ROT_PERIOD : ROT_NOT_YET;
}

const char *rotate_due_text(enum rot_due d)
{
	switch (d) {
	case ROT_EMPTY: return "empty";
	case ROT_TOO_SMALL: return "smaller than the minimum size";
	case ROT_NOT_YET: return "the period has not passed since the last rotation";
	case ROT_FORCED: return "forced";
	case ROT_FIRST: return "never rotated";
	case ROT_PERIOD: return "the period has passed";
	}
	return "?";
}

int rotate_pick_name(char *out, size_t len, const char *base, const struct rot_list *l,
                     const struct tm *now, char *err)
{
	struct rot_file want = {
		.year = now->tm_year + 1900, .mon = now->tm_mon + 1, .day = now->tm_mday,
		.hms = -1, .seq = 1,
	};
	long hms = now->tm_hour * 10000L + now->tm_min * 100L + now->tm_sec;
	int day_taken = 0;
	long max_seq = 0;
	for (size_t i = 0; i < l->n; i++) {
		const struct rot_file *f = &l->v[i];
		if (f->year != want.year || f->mon != want.mon || f->day != want.day)
			continue;
		day_taken = 1;
		if (f->hms == hms && f->seq > max_seq)
			max_seq = f->seq;
	}
	int n;
	if (!day_taken)
		n = snprintf(out, len, "%s-%04d%02d%02d", base, want.year, want.mon, want.day);
	else if (max_seq == 0)
		n = snprintf(out, len, "%s-%04d%02d%02d-%06ld", base, want.year, want.mon, want.day, hms);
	else
		n = snprintf(out, len, "%s-%04d%02d%02d-%06ld-%ld", base, want.year, want.mon,
		             want.day, hms, max_seq + 1);
	if (n < 0 || (size_t)n >= len)
		return err_set(err, "rotated name of '%s' is too long", base);
	return 0;
}

/* Append live[from, to) to out; to == -1 means up to the end of the file.
 * Returns the number of bytes copied, -1 on error (errno set). */
static int64_t copy_range(int out, int live, off_t from, off_t to, unsigned char *buf)
{
	off_t off = from;
	while (to < 0 || off < to) {
		size_t want = COPY_BUF;
		if (to >= 0 && (off_t)want > to - off)
			want = (size_t)(to - off);
		ssize_t n = pread(live, buf, want, off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0) {
			if (to < 0)
				break;
			errno = ENODATA;        /* the log shrank under us */
			return -1;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -1;
			done += w;
		}
		off += n;
	}
	return off - from;
}

int rotate_cut(uint64_t *copied, int *lossless, int dirfd, int live_fd, const char *dst, char *err)
{
	char tmp[4096];
	struct stat st;
	int out = -1, ret = -1;
	int made = 0;           /* 1: tmp exists; 2: dst exists (renamed) */
	unsigned char *buf = NULL;

	*copied = 0;
	*lossless = 0;
	if (fstat(live_fd, &st) < 0)
		return err_set(err, "cannot stat the log rotated to '%s': %s", dst, strerror(errno));
	/* The collapse unit: st_blksize is a multiple of the file system's
	 * block on the file systems that support collapsing (ext4, xfs). */
	off_t blk = st.st_blksize >= 512 ? st.st_blksize : 4096;
	/* Strictly shorter than the file: the kernel refuses to collapse a
	 * range that reaches the end (it wants ftruncate for that). */
	off_t prefix = st.st_size > 0 ? (st.st_size - 1) / blk * blk : 0;
	if (prefix == 0)
		return ROT_CUT_TOO_SHORT;

	buf = xmalloc(COPY_BUF);
	out = util_open_temp(dirfd, dst, tmp, sizeof(tmp));
	if (out < 0) {
		err_set(err, "cannot create a temporary file for '%s': %s", dst, strerror(errno));
		goto out;
	}
	made = 1;
	if (copy_range(out, live_fd, 0, prefix, buf) < 0 || fchmod(out, st.st_mode & 0666) < 0 ||
	    fsync(out) < 0) {
		err_set(err, "cannot write '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (renameat(dirfd, tmp, dirfd, dst) < 0) {
		err_set(err, "cannot rename '%s' to '%s': %s", tmp, dst, strerror(errno));
		goto out;
	}
	made = 2;
	if (fsync(dirfd) < 0) {
		err_set(err, "cannot sync the folder of '%s': %s", dst, strerror(errno));
		goto out;
	}
	/* The copy is safe on disk: only now may the live file lose it. */
	if (fallocate(live_fd, FALLOC_FL_COLLAPSE_RANGE, 0, prefix) == 0) {
		*copied = (uint64_t)prefix;
		*lossless = 1;
		made = 0;
		ret = 0;
		goto out;
	}
	if (errno != EOPNOTSUPP && errno != EINVAL && errno != ENOSYS) {
		err_set(err, "cannot cut the rotated part out of the log: %s", strerror(errno));
		goto out;
	}
	/* copytruncate as logrotate does it: whatever lands between the last
	 * read and the truncate is lost.  The caller says so in the log. */
	int64_t rest = copy_range(out, live_fd, prefix, -1, buf);
	if (rest < 0 || fsync(out) < 0) {
		err_set(err, "cannot write '%s': %s", dst, strerror(errno));
		goto out;
	}
	if (ftruncate(live_fd, 0) < 0) {
		err_set(err, "cannot truncate the log rotated to '%s': %s", dst, strerror(errno));
		goto out;
	}
	*copied = (uint64_t)(prefix + rest);
	made = 0;
	ret = 0;
out:
	if (out >= 0 && close(out) < 0 && ret == 0) {
		ret = err_set(err, "cannot write '%s': %s", dst, strerror(errno));
		/* The live file has already been cut: keep dst, it holds the data. */
	}
	if (made == 1)
		unlinkat(dirfd, tmp, 0);
	else if (made == 2)
		unlinkat(dirfd, dst, 0);
	free(buf);
	return ret;
}
