/* rotate: rotated names, their order and the policy.  See rotate.h; the
 * lossless cut of the live log is in rotatecut.c. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rotate.h"
#include "strbuf.h"
#include "util.h"

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

static long date_key(int year, int mon, int day)
{
	return (long)year * 10000 + mon * 100 + day;
}

int rotate_cmp(const struct rot_file *a, const struct rot_file *b)
{
	if (a->future != b->future)
		return a->future ? -1 : 1;
	long da = date_key(a->year, a->mon, a->day), db = date_key(b->year, b->mon, b->day);
	if (da != db)
		return da < db ? -1 : 1;
	if (a->mtime_ns && b->mtime_ns && a->mtime_ns != b->mtime_ns)
		return a->mtime_ns < b->mtime_ns ? -1 : 1;
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

/* The order of the names alone. */
static int cmp_names(const void *a, const void *b)
{
	struct rot_file x = *(const struct rot_file *)a, y = *(const struct rot_file *)b;
	x.mtime_ns = y.mtime_ns = 0;
	return rotate_cmp(&x, &y);
}

int rotate_list(struct rot_list *out, int dirfd, const char *base, const struct tm *today,
                char *err)
{
	size_t cap = 0, scap = 0;
	memset(out, 0, sizeof(*out));
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_set(err, "cannot list the rotated files of '%s': %s", base, strerror(errno));
	}
	long now_key = today ? date_key(today->tm_year + 1900, today->tm_mon + 1, today->tm_mday) : 0;
	struct dirent *e;
	struct stat st;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		struct rot_file f;
		if (rotate_parse_name(&f, base, e->d_name) < 0)
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) {  /* removed since readdir */
				errno = 0;
				continue;
			}
			break;
		}
		if (!S_ISREG(st.st_mode)) {
			ARRAY_GROW(out->skipped, out->nskipped, scap);
			out->skipped[out->nskipped++] = xstrdup(e->d_name);
			continue;
		}
		ARRAY_GROW(out->v, out->n, cap);
		f.name = xstrdup(e->d_name);
		f.future = today && date_key(f.year, f.mon, f.day) > now_key;
		f.mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec;
		out->v[out->n++] = f;
	}
	int saved = errno;
	closedir(d);
	if (saved) {
		rotate_list_free(out);
		return err_set(err, "cannot list the rotated files of '%s': %s", base, strerror(saved));
	}
	if (out->n < 2)
		return 0;
	/* A generation (a plain file and its .gz) is as old as its oldest
	 * member: group by name first, then order by that. */
	qsort(out->v, out->n, sizeof(*out->v), cmp_names);
	for (size_t i = 0, j; i < out->n; i = j) {
		int64_t oldest = out->v[i].mtime_ns;
		for (j = i + 1; j < out->n && rotate_same(&out->v[i], &out->v[j]); j++)
			if (out->v[j].mtime_ns < oldest)
				oldest = out->v[j].mtime_ns;
		for (size_t k = i; k < j; k++)
			out->v[k].mtime_ns = oldest;
	}
	qsort(out->v, out->n, sizeof(*out->v), cmp_qsort);
	return 0;
}

void rotate_list_free(struct rot_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i].name);
	for (size_t i = 0; i < l->nskipped; i++)
		free(l->skipped[i]);
	free(l->v);
	free(l->skipped);
	memset(l, 0, sizeof(*l));
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
	/* Future-dated names sort first: if the newest is one, all are. */
	if (l->n == 0 || l->v[l->n - 1].future)
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
