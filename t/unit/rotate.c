/* lib/rotate.c: rotated names, their order, the due decision, the cut. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rotate.h"
#include "rotatecut.h"
#include "tap.h"
#include "util.h"

static struct tm day(int y, int m, int d, int hh, int mm, int ss)
{
	struct tm t;
	memset(&t, 0, sizeof(t));
	t.tm_year = y - 1900;
	t.tm_mon = m - 1;
	t.tm_mday = d;
	t.tm_hour = hh;
	t.tm_min = mm;
	t.tm_sec = ss;
	return t;
}

/* A list made of names, sorted like rotate_list does. */
static struct rot_list list_of(const char **names)
{
	struct rot_list l = { 0 };
	size_t n = 0;
	while (names[n])
		n++;
	l.v = xcalloc(n + 1, sizeof(*l.v));
	for (size_t i = 0; i < n; i++) {
		struct rot_file f;
		if (rotate_parse_name(&f, "x.log", names[i]) == 0) {
			f.name = xstrdup(names[i]);
			size_t j = l.n++;
			while (j > 0 && rotate_cmp(&l.v[j - 1], &f) > 0) {
				l.v[j] = l.v[j - 1];
				j--;
			}
			l.v[j] = f;
		}
	}
	return l;
}

static void test_names(void)
{
	struct rot_file f;
	ok(rotate_parse_name(&f, "x.log", "x.log-20260102") == 0 && f.year == 2026 && f.mon == 1 &&
	   f.day == 2 && f.hms == -1 && f.seq == 1 && !f.gz, "NAME.log-YYYYMMDD");
	ok(rotate_parse_name(&f, "x.log", "x.log-20260102.gz") == 0 && f.gz, "NAME.log-YYYYMMDD.gz");
	ok(rotate_parse_name(&f, "x.log", "x.log-20260102-235959.gz") == 0 && f.hms == 235959 &&
	   f.seq == 1, "NAME.log-YYYYMMDD-HHMMSS.gz");
	ok(rotate_parse_name(&f, "x.log", "x.log-20260102-000000-12") == 0 && f.hms == 0 &&
	   f.seq == 12, "NAME.log-YYYYMMDD-HHMMSS-N");
	const char *bad[] = { "x.log", "x.log-", "x.log-2026010", "x.log-202601021", "x.log-20261302",
	                      "x.log-20260100", "x.log-20260102-24000", "x.log-20260102-240000",
	                      "x.log-20260102-120000-1", "x.log-20260102-120000-0", "x.log-20260102-120000-",
	                      "x.log-20260102.gz.tmp", ".x.log-20260102.gz.1234abcd.tmp", "x.log-20260102.bz2",
	                      "y.log-20260102", "x.logx-20260102", "xx.log-20260102", NULL };
	int refused = 1;
	for (int i = 0; bad[i]; i++) {
		if (rotate_parse_name(&f, "x.log", bad[i]) == 0) {
			diag("accepted '%s'", bad[i]);
			refused = 0;
		}
	}
	ok(refused, "other names are not rotated files of x.log (temporary names included)");
	ok(rotate_parse_name(&f, "a.log", "a.log-20260102-120000.log") < 0,
	   "a name ending in .log is never a rotated file");

	const char *names[] = { "x.log-20260103.gz", "x.log-20260102-120000-2.gz", "x.log-20260102-120000-10.gz",
	                        "x.log-20260102-090000.gz", "x.log-20260102.gz", "x.log-20260102-120000.gz",
	                        "x.log-20251231-235959", NULL };
	const char *want[] = { "x.log-20251231-235959", "x.log-20260102.gz", "x.log-20260102-090000.gz",
	                       "x.log-20260102-120000.gz", "x.log-20260102-120000-2.gz",
	                       "x.log-20260102-120000-10.gz", "x.log-20260103.gz" };
	struct rot_list l = list_of(names);
	int in_order = l.n == 7;
	for (size_t i = 0; in_order && i < l.n; i++)
		if (strcmp(l.v[i].name, want[i]) != 0)
			in_order = 0;
	ok(in_order, "ordered by the time in the name: plain date first of its day, -N numerically");
	rotate_list_free(&l);
}

static void test_due(void)
{
	struct tm now = day(2026, 3, 10, 12, 0, 0);
	const char *none[] = { NULL };
	const char *today[] = { "x.log-20260310.gz", NULL };
	const char *yesterday[] = { "x.log-20260305.gz", "x.log-20260309-235959.gz", NULL };
	const char *six_days[] = { "x.log-20260304-010000.gz", NULL };
	const char *seven_days[] = { "x.log-20260303.gz", NULL };
	const char *last_month[] = { "x.log-20260228.gz", NULL };
	struct rot_list l0 = list_of(none), lt = list_of(today), ly = list_of(yesterday);
	struct rot_list l6 = list_of(six_days), l7 = list_of(seven_days), lm = list_of(last_month);
	uint64_t k = 512000;

	is_int(rotate_due(&l0, 0, k, PERIOD_WEEKLY, 1, &now), ROT_EMPTY, "an empty file is never rotated, even forced");
	is_int(rotate_due(&lt, 10, k, PERIOD_WEEKLY, 1, &now), ROT_FORCED, "--force ignores period and size");
	is_int(rotate_due(&l0, k - 1, k, PERIOD_WEEKLY, 0, &now), ROT_TOO_SMALL, "below minsize: not rotated");
	is_int(rotate_due(&l0, k, k, PERIOD_WEEKLY, 0, &now), ROT_FIRST, "at minsize with no rotated file: due");
	is_int(rotate_due(&lt, k * 10, k, PERIOD_DAILY, 0, &now), ROT_NOT_YET, "daily, rotated today: not due");
	is_int(rotate_due(&ly, k, k, PERIOD_DAILY, 0, &now), ROT_PERIOD, "daily, newest rotated yesterday: due");
	is_int(rotate_due(&l6, k, k, PERIOD_WEEKLY, 0, &now), ROT_NOT_YET, "weekly, six days ago: not due");
	is_int(rotate_due(&l7, k, k, PERIOD_WEEKLY, 0, &now), ROT_PERIOD, "weekly, seven days ago: due");
	struct tm sunday = day(2026, 3, 8, 0, 30, 0);
	const char *friday[] = { "x.log-20260306.gz", NULL }, *sun[] = { "x.log-20260308.gz", NULL };
	struct rot_list lf = list_of(friday), ls = list_of(sun);
	is_int(rotate_due(&lf, k, k, PERIOD_WEEKLY, 0, &sunday), ROT_PERIOD,
	       "weekly, on a Sunday, rotated two days before: due (as logrotate)");
	is_int(rotate_due(&ls, k, k, PERIOD_WEEKLY, 0, &sunday), ROT_NOT_YET,
	       "weekly, on a Sunday, rotated that Sunday: not due");
	rotate_list_free(&lf), rotate_list_free(&ls);
	is_int(rotate_due(&l7, k - 1, k, PERIOD_WEEKLY, 0, &now), ROT_TOO_SMALL, "weekly, due but too small: not rotated");
	is_int(rotate_due(&l7, k, k, PERIOD_MONTHLY, 0, &now), ROT_NOT_YET, "monthly, same month: not due");
	is_int(rotate_due(&lm, k, k, PERIOD_MONTHLY, 0, &now), ROT_PERIOD, "monthly, last month: due");
	struct tm jan = day(2027, 1, 1, 0, 0, 1);
	const char *dec[] = { "x.log-20261231-235959.gz", NULL };
	struct rot_list ld = list_of(dec);
	is_int(rotate_due(&ld, k, k, PERIOD_DAILY, 0, &jan), ROT_PERIOD, "daily across a year end: due");
	is_int(rotate_due(&ld, k, k, PERIOD_MONTHLY, 0, &jan), ROT_PERIOD, "monthly across a year end: due");
	rotate_list_free(&l0), rotate_list_free(&lt), rotate_list_free(&ly);
	rotate_list_free(&l6), rotate_list_free(&l7), rotate_list_free(&lm), rotate_list_free(&ld);
}

static void test_order(void)
{
	struct rot_file a, b;
	rotate_parse_name(&a, "x.log", "x.log-20261025-023000.gz");
	rotate_parse_name(&b, "x.log", "x.log-20261025-021000.gz");
	ok(rotate_cmp(&b, &a) < 0, "same day, mtimes unknown: by the time in the name");
	a.mtime_ns = 1000, b.mtime_ns = 2000;
	ok(rotate_cmp(&a, &b) < 0, "same day, mtimes known: the older mtime first (DST repeats an hour)");
	rotate_parse_name(&b, "x.log", "x.log-20261026.gz");
	b.mtime_ns = 1;
	ok(rotate_cmp(&a, &b) < 0, "another day: the date decides, whatever the mtimes");
	b.future = 1;
	ok(rotate_cmp(&b, &a) < 0, "a name dated in the future sorts first, as the oldest");
	struct rot_list l = { .v = &b, .n = 1 };
	struct tm now = day(2026, 10, 25, 9, 0, 0);
	is_int(rotate_due(&l, 1000, 10, PERIOD_MONTHLY, 0, &now), ROT_FIRST,
	       "only future-dated rotations: due, as never rotated");
}

static void test_pick(void)
{
	char name[256], err[ERR_MAX];
	struct tm now = day(2026, 3, 10, 9, 5, 7);
	const char *none[] = { "x.log-20260309.gz", NULL };
	const char *day_taken[] = { "x.log-20260309.gz", "x.log-20260310.gz", NULL };
	const char *sec_taken[] = { "x.log-20260310.gz", "x.log-20260310-090507.gz", NULL };
	const char *sec_taken2[] = { "x.log-20260310", "x.log-20260310-090507", "x.log-20260310-090507-2.gz", NULL };
	struct rot_list a = list_of(none), b = list_of(day_taken), c = list_of(sec_taken), d = list_of(sec_taken2);
	rotate_pick_name(name, sizeof(name), "x.log", &a, &now, err);
	is_str(name, "x.log-20260310", "first rotation of the day: NAME.log-YYYYMMDD");
	rotate_pick_name(name, sizeof(name), "x.log", &b, &now, err);
	is_str(name, "x.log-20260310-090507", "second rotation of the day: -HHMMSS");
	rotate_pick_name(name, sizeof(name), "x.log", &c, &now, err);
	is_str(name, "x.log-20260310-090507-2", "same second: -HHMMSS-2");
	rotate_pick_name(name, sizeof(name), "x.log", &d, &now, err);
	is_str(name, "x.log-20260310-090507-3", "then -3, counting compressed and plain files alike");
	ok(rotate_pick_name(name, 10, "x.log", &a, &now, err) < 0, "a name that does not fit is an error");
	rotate_list_free(&a), rotate_list_free(&b), rotate_list_free(&c), rotate_list_free(&d);
}

static int collapse_works(int dirfd)
{
	int fd = openat(dirfd, "probe", O_RDWR | O_CREAT | O_TRUNC, 0600);
	char buf[8192] = { 0 };
	int works = fd >= 0 && write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
	            fallocate(fd, FALLOC_FL_COLLAPSE_RANGE, 0, 4096) == 0;
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, "probe", 0);
	return works;
}

static void test_cut(void)
{
	char tmpdir[] = "/tmp/autodeploy-rotate.XXXXXX", err[ERR_MAX], path[600];
	if (!mkdtemp(tmpdir)) {
		ok(0, "cannot make a scratch folder");
		return;
	}
	int dirfd = open(tmpdir, O_RDONLY | O_DIRECTORY);
	int collapse = collapse_works(dirfd);
	diag("%s %s FALLOC_FL_COLLAPSE_RANGE", tmpdir, collapse ? "supports" : "does not support");

	int live = openat(dirfd, "x.log", O_RDWR | O_CREAT | O_APPEND, 0644);
	struct stat st;
	fstat(live, &st);
	size_t blk = (size_t)st.st_blksize, len = blk * 3 + 100;
	char *data = xmalloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (char)('a' + i % 26);
	ssize_t w = write(live, data, blk);
	uint64_t copied;
	int lossless;
	is_int(rotatecut_cut(&copied, &lossless, dirfd, live, "x.log-1", err), ROTATECUT_TOO_SHORT,
	       "a log of exactly one block is left alone");
	ok(fstatat(dirfd, "x.log-1", &st, 0) < 0, "and no rotated file appears");
	w += write(live, data + blk, len - blk);

	int rc = rotatecut_cut(&copied, &lossless, dirfd, live, "x.log-2", err);
	is_int(rc, 0, "a longer log is cut%s%s", rc < 0 ? ": " : "", err);
	char *rot = NULL, *rest = NULL;
	size_t rot_len = 0, rest_len = 0;
	snprintf(path, sizeof(path), "%s/x.log-2", tmpdir);
	util_read_file(&rot, &rot_len, path, err);
	snprintf(path, sizeof(path), "%s/x.log", tmpdir);
	util_read_file(&rest, &rest_len, path, err);
	if (collapse) {
		ok(lossless && copied == blk * 3 && rot_len == blk * 3,
		   "whole blocks are moved out, the cut made by collapsing");
		ok(rest_len == 100 && memcmp(rest, data + blk * 3, 100) == 0,
		   "the remainder stays in the live file");
	} else {
		ok(!lossless && copied == len, "without collapse: copied whole, then truncated");
		ok(rest_len == 0, "the live file is empty");
	}
	ok(rot && rest && rot_len + rest_len == len && memcmp(rot, data, rot_len) == 0 &&
	   memcmp(rest, data + rot_len, rest_len) == 0, "rotated + live file == what was written");
	free(rot);
	free(rest);

	/* An append after the cut lands after the remainder (O_APPEND). */
	w += write(live, "tail\n", 5);
	fstat(live, &st);
	ok(w == (ssize_t)len + 5 && st.st_size == (off_t)(collapse ? 105 : 5), "writers keep appending at the end");

	/* A folder where nothing can be created: live file untouched. */
	int ro = open("/proc", O_RDONLY | O_DIRECTORY);
	off_t before = st.st_size;
	w = write(live, data, len);
	fstat(live, &st);
	before = st.st_size;
	rc = rotatecut_cut(&copied, &lossless, ro, live, "x.log-3", err);
	fstat(live, &st);
	ok(rc < 0 && st.st_size == before, "a failed copy leaves the live file whole: %s", err);
	close(ro);
	close(live);
	close(dirfd);
	free(data);
	snprintf(path, sizeof(path), "rm -rf '%s'", tmpdir);
	if (system(path) != 0)
		diag("could not remove %s", tmpdir);
}

int main(void)
{
	test_names();
	test_due();
	test_pick();
	test_order();
	test_cut();
	return done_testing();
}
