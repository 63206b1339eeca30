/*
 * cron: turn a frequency setting (SPEC.md "install-units") into what a
 * systemd timer needs.
 *
 *   struct cron_sched s;
 *   if (cron_translate(&s, "AUTODEPLOY_PLATFORM_FREQUENCY", value, err) < 0)
 *       -> exit 78 (err names the key and what is wrong)
 *   for (size_t i = 0; i < s.n; i++) printf("OnCalendar=%s\n", s.calendar[i]);
 *   if (s.boot) printf("OnBootSec=%s\n", CRON_BOOT_DELAY);
 *
 * A value is cron syntax when it is one of cron's nicknames (@hourly ...) or
 * five whitespace-separated fields made of digits, letters, '*', ',', '-'
 * and '/'.  The presets keep the old install scripts' meaning: `5-mins` is
 * `*\/5 * * * *`, `hourly` is `17 * * * *` (Debian runs /etc/cron.hourly, where
 * the notebook job lived, at minute 17), `daily` is `7 5 * * *`.
 * Anything else is passed through as a systemd calendar expression
 * (s.systemd = 1); the caller may check it with cron_check_calendar().
 *
 * Every cron field is expanded into an explicit comma list: systemd rejects
 * `*\/5`, hour ranges written with '-', weekday ranges out of Mon..Sun order,
 * and misfires on some step forms.  Cron (Vixie/cronie, as on Debian) fires
 * on the day-of-month OR the day-of-week when both fields are restricted,
 * i.e. neither starts with '*'; systemd ANDs them, so that case gives two
 * OnCalendar= lines.  Day-of-week accepts 0-7 (0 and 7 are Sunday) and
 * names; as Debian's cron and cronie, it refuses backwards ranges (fri-mon:
 * they never fire; X-sun and X-0 run to Sunday) and `N/S` (`1/2`).  A
 * schedule that never fires (`0 0 30 2 *`) is refused.  A step
 * larger than its field (`*\/120` in the minutes) fires at the first value
 * only, as cron does.  `@every 5m` (Go durations: h, m, s, e.g. 1h30m; at
 * least a minute), the form of birdhouse's scheduler, becomes a monotonic
 * timer (s.every).
 */
#ifndef AUTODEPLOY_CRON_H
#define AUTODEPLOY_CRON_H

#include <stddef.h>

#define CRON_CAL_MAX 640
#define CRON_BOOT_DELAY "1min"   /* @reboot: once the network had a moment */

struct cron_sched {
	size_t n;                         /* OnCalendar= values: 0 (@reboot), 1 or 2
	                                     (cron_openings: up to 4) */
	char calendar[4][CRON_CAL_MAX];
	int boot;                         /* @reboot: OnBootSec=CRON_BOOT_DELAY */
	long every;                       /* @every DURATION (birdhouse's scheduler): seconds,
	                                     OnBootSec= and OnUnitActiveSec= that long */
	int systemd;                      /* not cron syntax: calendar[0] is the value as given */
	int wide_step;                    /* a step past its field's end: worth a warning */
};

/* A cron expression as sets of values, for matching a time
 * (AUTODEPLOY_DEPLOY_WINDOW). */
struct cron_expr {
	unsigned long long bits[5];       /* minute, hour, day of month, month, day of week: bit v = v fires */
	int star[5];                      /* the field starts with '*' (cron's day rule) */
};

/* Parse five cron fields or a nickname (@hourly ... @yearly), not
 * @reboot or @every: -1 with err naming key. */
int cron_parse(struct cron_expr *e, const char *key, const char *value, char *err);

/* Does the minute of tm (local time) fall in e, by cron's rules? */
struct tm;
int cron_matches(const struct cron_expr *e, const struct tm *tm);

/* The OnCalendar= lines that fire at each minute where e begins after a
 * minute outside it (a window's openings); n is 0 only when e is every
 * minute of every day. */
void cron_openings(struct cron_sched *out, const struct cron_expr *e);

/* Translate value (the setting of key, named in errors). */
int cron_translate(struct cron_sched *out, const char *key, const char *value, char *err);

/* Is value cron syntax (a nickname, a preset or five cron fields)? */
int cron_is_cron(const char *value);

/* Ask `systemd-analyze calendar` whether expr is valid and fires at all.
 * Returns 0 when it does, or when systemd-analyze is not installed
 * (*checked = 0); -1 with err naming key when systemd-analyze rejects it or
 * finds no next elapse (`*-02-30`, a date in the past). */
int cron_check_calendar(int *checked, const char *key, const char *expr, char *err);

#endif
