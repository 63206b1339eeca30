/*
 * Unit tests for lib/cron.  With `--translate KEY VALUE` the binary prints
 * the timer lines for VALUE instead (used by t/5002, which compares them
 * with a reference cron evaluator through systemd-analyze).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cron.h"
#include "tap.h"
#include "util.h"

static int translate_cli(const char *key, const char *value)
{
	char err[ERR_MAX];
	struct cron_sched s;

	if (cron_translate(&s, key, value, err) < 0) {
		printf("error: %s\n", err);
		return 1;
	}
	for (size_t i = 0; i < s.n; i++)
		printf("OnCalendar=%s\n", s.calendar[i]);
	if (s.boot)
		printf("OnBootSec=%s\n", CRON_BOOT_DELAY);
	return 0;
}

/* The translation of value must be exactly the lines want0 (and want1). */
static void check(const char *value, const char *want0, const char *want1)
{
	char err[ERR_MAX] = "";
	struct cron_sched s;
	int rc = cron_translate(&s, "K", value, err);

	if (!is_int(rc, 0, "'%s' translates", value)) {
		diag("%s", err);
		return;
	}
	is_int((long long)s.n, want1 ? 2 : 1, "'%s' gives %d OnCalendar line(s)", value, want1 ? 2 : 1);
	is_str(s.calendar[0], want0, "'%s' -> '%s'", value, want0);
	if (want1 && s.n == 2)
		is_str(s.calendar[1], want1, "'%s' second line -> '%s'", value, want1);
}

static void refused(const char *value, const char *needle)
{
	char err[ERR_MAX] = "";
	struct cron_sched s;
	int rc = cron_translate(&s, "AUTODEPLOY_PLATFORM_FREQUENCY", value, err);

	if (strchr(value, '\n'))
		value = "(a value holding a newline)";
	is_int(rc, -1, "'%s' is refused", value);
	ok(strstr(err, "AUTODEPLOY_PLATFORM_FREQUENCY") != NULL && strstr(err, needle) != NULL,
	   "the refusal of '%s' names the key and says '%s' (got: %s)", value, needle, err);
}

/* AUTODEPLOY_DEPLOY_WINDOW: is a time inside e (cron's rules)? */
static int inside(const char *window, int wday, int mday, int hour, int min)
{
	struct cron_expr e;
	struct tm tm = { .tm_wday = wday, .tm_mday = mday, .tm_mon = 0, .tm_hour = hour, .tm_min = min };
	char err[ERR_MAX];
	if (cron_parse(&e, "W", window, err) < 0)
		return -1;
	return cron_matches(&e, &tm);
}

/* The OnCalendar= lines of a window's openings, joined by " | ". */
static void openings(const char *window, const char *want)
{
	struct cron_expr e;
	struct cron_sched cs;
	char err[ERR_MAX], got[4 * CRON_CAL_MAX + 16] = "";
	if (cron_parse(&e, "W", window, err) < 0) {
		ok(0, "window '%s' parses: %s", window, err);
		return;
	}
	cron_openings(&cs, &e);
	for (size_t i = 0, len = 0; i < cs.n; i++)
		len += (size_t)snprintf(got + len, sizeof got - len, "%s%s", i ? " | " : "", cs.calendar[i]);
	is_str(got, want, "the window '%s' opens at '%s'", window, want);
}

static void windows(void)
{
	struct cron_expr e;
	char err[ERR_MAX];
	/* 2026-01-05 is a Monday (wday 1) */
	is_int(inside("* 9-16 * * 1-5", 1, 5, 9, 0), 1, "window: Monday 9:00 is inside 9-16 weekdays");
	is_int(inside("* 9-16 * * 1-5", 1, 5, 16, 59), 1, "window: 16:59 is inside");
	is_int(inside("* 9-16 * * 1-5", 1, 5, 17, 0), 0, "window: 17:00 is outside");
	is_int(inside("* 9-16 * * 1-5", 6, 10, 10, 0), 0, "window: Saturday is outside");
	is_int(inside("* * 1 * 1", 3, 1, 10, 0), 1, "window: day of month OR day of week (the 1st, a Wednesday)");
	is_int(inside("* * 1 * 1", 1, 5, 10, 0), 1, "window: ... or a Monday");
	is_int(inside("* * 1 * 1", 2, 6, 10, 0), 0, "window: neither");
	is_int(inside("@daily", 2, 6, 0, 0), 1, "window: a nickname is cron syntax");
	is_int(cron_parse(&e, "W", "@reboot", err), -1, "window: @reboot is refused");
	is_int(cron_parse(&e, "W", "Mon..Fri 9:00", err), -1, "window: a systemd calendar is refused");
	openings("* 9-16 * * 1-5", "Mon,Tue,Wed,Thu,Fri *-*-* 9:0:00");
	openings("30-59 8 * * *", "*-*-* 8:30:00");
	openings("0-14,30-44 * * * *", "*-*-* *:0,30:00");
	openings("* 22,23,0 * * *", "*-*-* 0,22:0:00");
}

int main(int argc, char **argv)
{
	if (argc == 4 && strcmp(argv[1], "--translate") == 0)
		return translate_cli(argv[2], argv[3]);

	windows();
	check("7 5 * * *", "*-*-* 5:7:00", NULL);
	/* a step past the field's end fires at its first value, as in cron
	 * (birdhouse's own example: every 120 minutes, i.e. at minute 0) */
	check("*/120 * * * *", "*-*-* *:0:00", NULL);
	check("5-59/90 */30 * * *", "*-*-* 0:5:00", NULL);
	{
		struct cron_sched cs;
		char err[ERR_MAX];
		is_int(cron_translate(&cs, "K", "@every 5m", err), 0, "@every 5m is accepted");
		is_int(cs.every, 300, "@every 5m: 300 s");
		is_int(cron_translate(&cs, "K", "@every 1h30m", err), 0, "@every 1h30m is accepted");
		is_int(cs.every, 5400, "@every 1h30m: 5400 s");
		is_int(cs.n, 0, "@every has no OnCalendar= line");
	}
	refused("@every 30s", "shorter than a minute");
	refused("@every", "unknown nickname");
	refused("@every ", "needs a duration");
	refused("@every 5x", "expected a unit h, m or s");
	refused("@every 5m 3m", "one duration only");
	check("*/20 * * * *", "*-*-* *:0,20,40:00", NULL);
	check("1-30/10 9-11 * * *", "*-*-* 9,10,11:1,11,21:00", NULL);
	check("0 0 * * 0", "Sun *-*-* 0:0:00", NULL);
	check("0 0 * * 7", "Sun *-*-* 0:0:00", NULL);
	refused("0 0 * * fri-mon", "range 5-1 runs backwards (cron never fires it: write it as two "
	        "ranges, e.g. 5-6,0-1)");
	refused("0 0 * * thu-3", "range 4-3 runs backwards");
	check("0 0 * * fri-sun", "Sun,Fri,Sat *-*-* 0:0:00", NULL);
	check("0 0 * * 5-0", "Sun,Fri,Sat *-*-* 0:0:00", NULL);
	check("0 0 * * MON-sun", "*-*-* 0:0:00", NULL);
	check("0 0 * jan,Dec *", "*-1,12-* 0:0:00", NULL);
	check("0 0 13 * 5", "*-*-13 0:0:00", "Fri *-*-* 0:0:00");
	check("0 0 */2 * 1", "Mon *-*-1,3,5,7,9,11,13,15,17,19,21,23,25,27,29,31 0:0:00", NULL);
	check("0 0 1-31 * 1", "*-*-* 0:0:00", NULL);
	check("0 0 29 2 *", "*-2-29 0:0:00", NULL);
	refused("0 0 * * 1/2", "'1/2': a step needs a range or '*' before it (cron refuses N/S): write 1-6/...");
	refused("0 0 30 2 *", "'0 0 30 2 *' never fires: none of its months has any of its days");
	refused("0 0 31 4,6,9,11 *", "never fires");
	check("0 0 31 4,6,9,11 1", "*-4,6,9,11-31 0:0:00", "Mon *-4,6,9,11-* 0:0:00");
	check("0 0 29 2 *", "*-2-29 0:0:00", NULL);
	check("@weekly", "Sun *-*-* 0:0:00", NULL);
	check("@yearly", "*-1-1 0:0:00", NULL);
	check("@annually", "*-1-1 0:0:00", NULL);
	check("@monthly", "*-*-1 0:0:00", NULL);
	check("@daily", "*-*-* 0:0:00", NULL);
	check("@hourly", "*-*-* *:0:00", NULL);
	check("5-mins", "*-*-* *:0,5,10,15,20,25,30,35,40,45,50,55:00", NULL);
	check("hourly", "*-*-* *:17:00", NULL);
	check("daily", "*-*-* 5:7:00", NULL);
	check("  7\t5 * * *  ", "*-*-* 5:7:00", NULL);
	check("Mon *-*-* 04:00:00", "Mon *-*-* 04:00:00", NULL);
	check("weekly", "weekly", NULL);

	{
		char err[ERR_MAX];
		struct cron_sched s;
		ok(cron_translate(&s, "K", "@reboot", err) == 0 && s.boot && s.n == 0,
		   "@reboot becomes OnBootSec= and no OnCalendar=");
		ok(cron_translate(&s, "K", "Mon *-*-* 04:00:00", err) == 0 && s.systemd,
		   "a systemd calendar expression is marked as such");
		ok(cron_translate(&s, "K", "*/5 * * * *", err) == 0 && !s.systemd,
		   "cron syntax is not marked as a systemd expression");
	}
	ok(cron_is_cron("0 0 * * *") && cron_is_cron("@daily") && cron_is_cron("5-mins"),
	   "cron fields, nicknames and presets are cron syntax");
	ok(!cron_is_cron("*-*-* 00:00:00") && !cron_is_cron("daily 1 2") && !cron_is_cron("weekly"),
	   "systemd expressions are not cron syntax");

	refused("60 * * * *", "minute 60 is out of range 0-59");
	refused("0 24 * * *", "hour 24 is out of range");
	refused("0 0 0 * *", "day of month 0 is out of range");
	refused("0 0 * 13 *", "month 13");
	refused("0 0 * * 8", "day of week 8");
	refused("5-1 * * * *", "runs backwards");
	refused("*/0 * * * *", "step 0");
	refused("*/ * * * *", "step");
	refused("0 0 * foo *", "'foo' is not a month name");
	refused("0 0 * * monday", "not a day of week name");
	refused("0 0 jan * *", "expected a day of month");
	refused("1,,2 * * * *", "expected a minute");
	refused("1-2-3 * * * *", "unexpected '-'");
	refused("@fortnightly", "unknown nickname");
	refused("   ", "empty");
	refused("0 0 * *\n*", "control character");

	return done_testing();
}
