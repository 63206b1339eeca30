/* cron: cron syntax and presets -> OnCalendar= values.  See cron.h. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "cron.h"
#include "proc.h"
#include "util.h"

enum { F_MIN, F_HOUR, F_DOM, F_MON, F_DOW, F_COUNT };

struct field_def {
	const char *what;
	int lo, hi;
	const char *const *names;   /* three-letter names, NULL-terminated: jan = 1, sun = 0 */
};

static const char *const month_names[] = {
	"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL
};
static const char *const day_names[] = { "sun", "mon", "tue", "wed", "thu", "fri", "sat", NULL };
static const char *const day_systemd[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };

static const struct field_def fields[F_COUNT] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day of week", 0, 7, day_names },
};

static const struct { const char *name, *cron; } nicknames[] = {
	{ "@yearly", "0 0 1 1 *" },
	{ "@annually", "0 0 1 1 *" },
	{ "@monthly", "0 0 1 * *" },
	{ "@weekly", "0 0 * * 0" },
	{ "@daily", "0 0 * * *" },
	{ "@midnight", "0 0 * * *" },
	{ "@hourly", "0 * * * *" },
	/* The old install scripts' presets (see cron.h for why these). */
	{ "5-mins", "*/5 * * * *" },
	{ "hourly", "17 * * * *" },
	{ "daily", "7 5 * * *" },
};

#define CRON_FIELD_CHARS "0123456789*,-/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"

/* Split value into at most six whitespace-separated words (copied into
 * words, truncated to fit: a truncated word is refused by the caller);
 * returns the number found (6 means "more than five"). */
#define WORD_MAX 256
static int split_fields(char words[6][WORD_MAX], size_t lens[6], const char *value)
{
	int n = 0;
	const char *p = value;

	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || n == 6)
			break;
		size_t len = strcspn(p, " \t");
		lens[n] = len;
		if (len >= WORD_MAX)
			len = WORD_MAX - 1;
		memcpy(words[n], p, len);
		words[n][len] = '\0';
		n++;
		p += lens[n - 1];
	}
	return n;
}

static const char *lookup_nickname(const char *value)
{
	for (size_t i = 0; i < sizeof(nicknames) / sizeof(nicknames[0]); i++)
		if (strcmp(value, nicknames[i].name) == 0)
			return nicknames[i].cron;
	return NULL;
}

int cron_is_cron(const char *value)
{
	char words[6][WORD_MAX];
	size_t lens[6];

	if (value[0] == '@' || lookup_nickname(value))
		return 1;
	if (strchr(value, '\n') || split_fields(words, lens, value) != 5)
		return 0;
	for (int i = 0; i < 5; i++)
		if (strspn(words[i], CRON_FIELD_CHARS) != strlen(words[i]))
			return 0;
	return 1;
}

/* A number or (where the field has names) a three-letter name at *p. */
static int parse_value(int *out, const char **p, int f, const char *key, const char *word, char *err)
{
	const struct field_def *d = &fields[f];
	const char *s = *p;

	if (isdigit((unsigned char)*s)) {
		long v = 0;
		while (isdigit((unsigned char)*s)) {
			v = v * 10 + (*s - '0');
			if (v > 1000)
				break;
			s++;
		}
		if (v < d->lo || v > d->hi)
			return err_set(err, "%s: '%s': %s %ld is out of range %d-%d",
			               key, word, d->what, v, d->lo, d->hi);
		*out = (int)v;
		*p = s;
		return 0;
	}
	if (d->names && isalpha((unsigned char)*s)) {
		size_t len = 0;
		while (isalpha((unsigned char)s[len]))
			len++;
		for (int i = 0; len == 3 && d->names[i]; i++)
			if (strncasecmp(s, d->names[i], 3) == 0) {
				*out = f == F_MON ? i + 1 : i;
				*p = s + 3;
				return 0;
			}
		return err_set(err, "%s: '%s': '%.*s' is not a %s name", key, word, (int)(len > 20 ? 20 : len), s, d->what);
	}
	return err_set(err, "%s: '%s': expected a %s at '%.20s'", key, word, d->what, *s ? s : "end of field");
}

/*
 * One cron field into bits (bit v set when value v fires).  Day of week
 * keeps 7 apart until the caller folds it onto 0.  *star is set when the
 * field starts with '*', which is how cron decides that day-of-month and
 * day-of-week are "unrestricted".
 */
static int parse_field(unsigned long long *bits, int *star, int *wide, int f, const char *word,
                       const char *key, char *err)
{
	const struct field_def *d = &fields[f];
	const char *p = word;

	*bits = 0;
	*star = word[0] == '*';
	for (;;) {
		int a, b, step = 1;
		if (*p == '*') {
			a = d->lo;
			b = d->hi;
			p++;
		} else {
			if (parse_value(&a, &p, f, key, word, err) < 0)
				return -1;
			b = a;
			if (*p == '-') {
				p++;
				if (parse_value(&b, &p, f, key, word, err) < 0)
					return -1;
				if (f == F_DOW && b == 0 && a > 0)
					b = 7;          /* mon-sun, as cronie runs it */
			} else if (*p == '/') {
				/* Debian's cron and cronie refuse "N/S": say what they take. */
				return err_set(err, "%s: '%s': a step needs a range or '*' before it (cron "
				               "refuses N/S): write %d-%d/...", key, word, a,
				               f == F_DOW ? 6 : d->hi);
			}
		}
		if (*p == '/') {
			p++;
			if (!isdigit((unsigned char)*p))
				return err_set(err, "%s: '%s': '/' must be followed by a step", key, word);
			long s = 0;
			while (isdigit((unsigned char)*p) && s <= 1000)
				s = s * 10 + (*p++ - '0');
			/* cron takes a step past the field's end: the first value only */
			if (s < 1 || s > 1000)
				return err_set(err, "%s: '%s': step %ld is out of range 1-1000", key, word, s);
			if (s > d->hi - d->lo + 1 && wide)
				*wide = 1;
			step = (int)s;
		}
		/* Debian's cron and cronie never fire a backwards range, days of
		 * the week included (fri-mon): refuse it rather than guess. */
		if (b < a)
			return err_set(err, "%s: '%s': range %d-%d runs backwards (cron never fires it: "
			               "write it as two ranges, e.g. %d-%d,%d-%d)", key, word, a, b, a,
			               f == F_DOW ? 6 : d->hi, f == F_DOW ? 0 : d->lo, b);
		for (int v = a; v <= b; v += step)
			*bits |= 1ULL << v;
		if (*p == ',') {
			p++;
			continue;
		}
		if (*p == '\0')
			return 0;
		return err_set(err, "%s: '%s': unexpected '%c' in %s field", key, word,
		               isprint((unsigned char)*p) ? *p : '?', d->what);
	}
}

/* Append the values in bits as "a,b,c" (or names for days of week). */
static void append_list(char *buf, size_t size, unsigned long long bits, int f)
{
	size_t len = strlen(buf);
	int first = 1;

	for (int v = fields[f].lo; v <= fields[f].hi; v++) {
		if (!(bits & (1ULL << v)))
			continue;
		int n = f == F_DOW ? snprintf(buf + len, size - len, "%s%s", first ? "" : ",", day_systemd[v])
		                   : snprintf(buf + len, size - len, "%s%d", first ? "" : ",", v);
		if (n < 0 || (size_t)n >= size - len)
			return;
		len += (size_t)n;
		first = 0;
	}
}

static int full(unsigned long long bits, int f)
{
	int hi = f == F_DOW ? 6 : fields[f].hi;
	for (int v = fields[f].lo; v <= hi; v++)
		if (!(bits & (1ULL << v)))
			return 0;
	return 1;
}

static void append_field(char *buf, size_t size, unsigned long long bits, int f)
{
	if (full(bits, f))
		strncat(buf, "*", size - strlen(buf) - 1);
	else
		append_list(buf, size, bits, f);
}

/* "[DOW ]*-MONTHS-DAYS HOURS:MINUTES:00" */
static void format_line(char *buf, size_t size, const unsigned long long bits[F_COUNT],
                        int use_dom, int use_dow)
{
	buf[0] = '\0';
	if (use_dow && !full(bits[F_DOW], F_DOW)) {
		append_list(buf, size, bits[F_DOW], F_DOW);
		strncat(buf, " ", size - strlen(buf) - 1);
	}
	strncat(buf, "*-", size - strlen(buf) - 1);
	append_field(buf, size, bits[F_MON], F_MON);
	strncat(buf, "-", size - strlen(buf) - 1);
	if (use_dom)
		append_field(buf, size, bits[F_DOM], F_DOM);
	else
		strncat(buf, "*", size - strlen(buf) - 1);
	strncat(buf, " ", size - strlen(buf) - 1);
	append_field(buf, size, bits[F_HOUR], F_HOUR);
	strncat(buf, ":", size - strlen(buf) - 1);
	append_field(buf, size, bits[F_MIN], F_MIN);
	strncat(buf, ":00", size - strlen(buf) - 1);
}

/* Does a month in mon have a day in dom?  (February: the 29th counts.)
 * With that, every day of the week comes round too, within 28 years. */
static int some_day(unsigned long long mon, unsigned long long dom)
{
	static const int days[13] = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	for (int m = 1; m <= 12; m++)
		if ((mon & (1ULL << m)) && (dom & ((1ULL << (days[m] + 1)) - 2)))
			return 1;
	return 0;
}

/* Five cron fields (a nickname already replaced) into e: bits per field,
 * day of week 7 folded onto 0, a schedule that never fires refused. */
static int parse_expr(struct cron_expr *e, int *wide, const char *key, const char *value, char *err)
{
	char words[6][WORD_MAX];
	size_t lens[6];
	int n = split_fields(words, lens, value);

	if (n != 5)
		return err_set(err, "%s: '%.60s' has %s fields; cron syntax has 5", key, value,
		               n > 5 ? "more than 5" : n == 4 ? "4" : n == 3 ? "3" : n == 2 ? "2" : n == 1 ? "1" : "no");
	for (int f = 0; f < F_COUNT; f++)
		if (lens[f] >= WORD_MAX)
			return err_set(err, "%s: the %s field is too long", key, fields[f].what);
	for (int f = 0; f < F_COUNT; f++)
		if (parse_field(&e->bits[f], &e->star[f], wide, f, words[f], key, err) < 0)
			return -1;
	if (e->bits[F_DOW] & (1ULL << 7))
		e->bits[F_DOW] = (e->bits[F_DOW] & ~(1ULL << 7)) | 1ULL;
	if ((e->star[F_DOM] || e->star[F_DOW]) && !some_day(e->bits[F_MON], e->bits[F_DOM]))
		return err_set(err, "%s: '%.60s' never fires: none of its months has any of its days "
		               "of the month", key, value);
	return 0;
}

/*
 * The OnCalendar= lines for the days of e and the times of bits, added to
 * out.  Cron's rule: when both day fields are restricted (neither starts
 * with '*'), a day matches if either matches.  If one of them then covers
 * every day, so does the union: one line is exact.
 */
static void add_lines(struct cron_sched *out, const struct cron_expr *e, const unsigned long long *bits)
{
	if (!e->star[F_DOM] && !e->star[F_DOW] && !full(bits[F_DOM], F_DOM) && !full(bits[F_DOW], F_DOW)) {
		format_line(out->calendar[out->n++], CRON_CAL_MAX, bits, 1, 0);
		format_line(out->calendar[out->n++], CRON_CAL_MAX, bits, 0, 1);
	} else if (!e->star[F_DOM] && !e->star[F_DOW]) {
		format_line(out->calendar[out->n++], CRON_CAL_MAX, bits, 0, 0);
	} else {
		format_line(out->calendar[out->n++], CRON_CAL_MAX, bits, 1, 1);
	}
}

static int translate_cron(struct cron_sched *out, const char *key, const char *value, char *err)
{
	struct cron_expr e;

	if (parse_expr(&e, &out->wide_step, key, value, err) < 0)
		return -1;
	add_lines(out, &e, e.bits);
	return 0;
}

int cron_parse(struct cron_expr *e, const char *key, const char *value, char *err)
{
	const char *nick;
	int wide = 0;

	memset(e, 0, sizeof *e);
	while (*value == ' ' || *value == '\t')
		value++;
	nick = lookup_nickname(value);
	if (!nick && !cron_is_cron(value))
		return err_set(err, "%s: '%.60s' is not cron syntax (five fields, e.g. '* 9-16 * * 1-5')", key, value);
	if (!nick && value[0] == '@')
		return err_set(err, "%s: '%.40s': a window needs five cron fields or @hourly ... @yearly", key, value);
	return parse_expr(e, &wide, key, nick ? nick : value, err);
}

int cron_matches(const struct cron_expr *e, const struct tm *tm)
{
	int dom = (e->bits[F_DOM] >> tm->tm_mday) & 1, dow = (e->bits[F_DOW] >> tm->tm_wday) & 1, day;

	/* cron's rule again: both restricted, either day field will do */
	day = !e->star[F_DOM] && !e->star[F_DOW] ? dom || dow : dom && dow;
	return day && ((e->bits[F_MIN] >> tm->tm_min) & 1) && ((e->bits[F_HOUR] >> tm->tm_hour) & 1) &&
	       ((e->bits[F_MON] >> (tm->tm_mon + 1)) & 1);
}

/*
 * Within a matching day the window's minutes are HOURS x MINUTES.  A
 * minute opens the window when the minute before it is outside: m > 0
 * with m - 1 not in MINUTES, or m = 0 when the hour before is outside or
 * its minute 59 is.  Midnight counts as an opening whenever it is inside
 * (the day before may not match): a timer too many only runs a deploy
 * that finds nothing, one too few leaves work waiting.
 */
void cron_openings(struct cron_sched *out, const struct cron_expr *e)
{
	unsigned long long m = e->bits[F_MIN], h = e->bits[F_HOUR], open = m & ~(m << 1) & ~1ULL;
	unsigned long long at0 = 0, later = 0, bits[F_COUNT];

	memset(out, 0, sizeof *out);
	for (int hr = 0; hr < 24; hr++) {
		if (!((h >> hr) & 1))
			continue;
		if ((m & 1) && (hr == 0 || !((h >> (hr - 1)) & 1) || !((m >> 59) & 1)))
			at0 |= 1ULL << hr;
		else
			later |= 1ULL << hr;
	}
	memcpy(bits, e->bits, sizeof bits);
	if (at0) {
		bits[F_HOUR] = at0;
		bits[F_MIN] = open | 1ULL;
		add_lines(out, e, bits);
	}
	if (later && open) {
		bits[F_HOUR] = later;
		bits[F_MIN] = open;
		add_lines(out, e, bits);
	}
}

/* "5m", "1h30m", "90s": Go's duration units that make sense for a timer. */
static int parse_every(struct cron_sched *out, const char *key, const char *d, char *err)
{
	long total = 0;
	const char *p = d;
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p)
		return err_set(err, "%s: '@every' needs a duration (e.g. @every 5m, @every 1h30m)", key);
	while (*p && *p != ' ' && *p != '\t') {
		long n = 0;
		if (!isdigit((unsigned char)*p))
			return err_set(err, "%s: '@every %.20s': expected a number and a unit (h, m, s)", key, d);
		while (isdigit((unsigned char)*p) && n < 1000000)
			n = n * 10 + (*p++ - '0');
		long unit = *p == 'h' ? 3600 : *p == 'm' ? 60 : *p == 's' ? 1 : 0;
		if (!unit)
			return err_set(err, "%s: '@every %.20s': expected a unit h, m or s after %ld", key, d, n);
		p++;
		total += n * unit;
		if (total > 366L * 86400)
			return err_set(err, "%s: '@every %.20s' is longer than a year", key, d);
	}
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p)
		return err_set(err, "%s: '@every %.20s': one duration only", key, d);
	if (total < 60)
		return err_set(err, "%s: '@every %.20s' is shorter than a minute", key, d);
	out->every = total;
	return 0;
}

int cron_translate(struct cron_sched *out, const char *key, const char *value, char *err)
{
	memset(out, 0, sizeof(*out));
	for (const char *p = value; *p; p++)
		if (iscntrl((unsigned char)*p) && *p != '\t')
			return err_set(err, "%s: the schedule holds a control character", key);
	while (*value == ' ' || *value == '\t')
		value++;
	if (*value == '\0')
		return err_set(err, "%s: the schedule is empty", key);
	if (strcmp(value, "@reboot") == 0) {
		out->boot = 1;
		return 0;
	}
	if (strncmp(value, "@every", 6) == 0 && (value[6] == ' ' || value[6] == '\t'))
		return parse_every(out, key, value + 7, err);
	const char *nick = lookup_nickname(value);
	if (nick)
		return translate_cron(out, key, nick, err);
	if (value[0] == '@')
		return err_set(err, "%s: unknown nickname '%.40s' (expected @hourly, @daily, @weekly, "
		               "@monthly, @yearly, @annually, @reboot or @every DURATION)", key, value);
	if (cron_is_cron(value))
		return translate_cron(out, key, value, err);
	if (strlen(value) >= CRON_CAL_MAX)
		return err_set(err, "%s: the calendar expression is too long", key);
	memcpy(out->calendar[0], value, strlen(value) + 1);
	out->n = 1;
	out->systemd = 1;
	return 0;
}

int cron_check_calendar(int *checked, const char *key, const char *expr, char *err)
{
	static const char *const dirs[] = { "/usr/bin/systemd-analyze", "/bin/systemd-analyze" };
	const char *tool = NULL;
	int status, fd = -1, out = -1, rc = -1;
	char buf[4096];

	*checked = 0;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]) && !tool; i++)
		if (access(dirs[i], X_OK) == 0)
			tool = dirs[i];
	if (!tool)
		return 0;
	fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	/* The answer is on stdout ("Next elapse: never" for an expression
	 * that is valid but names no time to come): a file to read it back. */
	FILE *f = tmpfile();
	if (fd < 0 || !f) {
		err_set(err, "cannot check '%s' with systemd-analyze: %s", expr, strerror(errno));
		goto out;
	}
	out = fileno(f);
	const char *argv[] = { tool, "calendar", "--", expr, NULL };
	struct proc_opts o = { .timeout = 30, .stdout_fd = out, .stderr_fd = fd, .null_stdin = 1 };
	if (proc_run(&status, argv, &o, err) < 0)
		goto out;
	*checked = 1;
	if (status != 0) {
		err_set(err, "%s: '%.100s' is neither cron syntax nor a calendar expression "
		        "that systemd accepts (see systemd.time(7), or `systemd-analyze calendar`)",
		        key, expr);
		goto out;
	}
	ssize_t n = pread(out, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	if (strstr(buf, "Next elapse: never")) {
		err_set(err, "%s: '%.100s' never fires (systemd-analyze calendar: no next elapse): "
		        "a day that does not exist, or a date in the past", key, expr);
		goto out;
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return rc;
}
