#!/usr/bin/env python3
# The OnCalendar= lines made from cron syntax fire at exactly the minutes
# cron would: for each expression, the next 50 firing times computed by
# `systemd-analyze calendar` over the generated lines must equal those of a
# reference cron evaluator written here (Vixie cron / cronie semantics, as
# on Debian: day-of-month OR day-of-week when neither field starts with '*').
import datetime
import os
import re
import shutil
import subprocess
import sys

BUILD = os.environ.get("AUTODEPLOY_BUILD") or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "build")
TRANSLATE = os.path.join(BUILD, "t", "unit", "cron")
ITERATIONS = 50
BASES = ["2023-12-31 23:41:30", "2024-02-27 22:10:30"]

CASES = [
    "7 5 * * *", "*/5 * * * *", "0 * * * *", "1-30/10 * * * *", "0 0 1 * *",
    "0 12 * * mon-fri", "30 2 * * 0", "30 2 * * 7", "0 0 13 * 5", "0 0 1,15 * 3",
    "15 10 * jan,jul *", "0 0 29 2 *", "0 0 29 feb mon", "0 */6 * * *", "5 4 */2 * *",
    "5 4 */2 * 1", "0 9-17/2 * * 1-5", "0 0 * * fri-sun", "0 0 * * sat,sun", "0 0 31 * *",
    "45 23 28-31 * *", "0 0 1 1 *", "0 0 * * 5-0", "0-59/15 0 1-7 * 1", "0 0 1-31 * 1",
    "0,30 8,20 * 3-11/4 *", "0 0 * * 0-6", "0 0 * JAN-MAR MON", "59 23 31 12 *", "0 0 * * mon-sun",
    "@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually",
    "5-mins", "hourly", "daily",
]
# What Debian's cron and cronie refuse or never fire: backwards ranges
# (days of the week too; X-sun and X-0 run to Sunday), N/S without a range,
# days no month has.  The translator must refuse each.
REFUSED = ["0 0 * * fri-mon", "0 0 * * thu-3", "0 0 * * 6-1", "0 0 * * 1/2", "5/90 * * * *",
           "0 0 1/2 * *", "0 23-1 * * *", "0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30,31 feb *"]
NICK = {"@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
        "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@hourly": "0 * * * *",
        "5-mins": "*/5 * * * *", "hourly": "17 * * * *", "daily": "7 5 * * *"}
MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]


def value(tok, names, base):
    if names and tok.lower() in names:
        return names.index(tok.lower()) + base
    return int(tok)


def field(text, lo, hi, names=None, base=0, dow=False):
    out = set()
    for item in text.split(","):
        rng, _, step = item.partition("/")
        step = int(step) if step else 1
        if rng == "*":
            a, b = lo, hi
        elif "-" in rng:
            a, b = (value(x, names, base) for x in rng.split("-"))
            if dow and b == 0 and a > 0:
                b = 7
        else:
            a = b = value(rng, names, base)
        out.update(range(a, b + 1, step))
    if dow:
        out = {0 if v == 7 else v for v in out}
    return out


class Cron:
    def __init__(self, expr):
        expr = NICK.get(expr, expr)
        f = expr.split()
        self.minute = field(f[0], 0, 59)
        self.hour = field(f[1], 0, 23)
        self.dom = field(f[2], 1, 31)
        self.month = field(f[3], 1, 12, MONTHS, 1)
        self.dow = field(f[4], 0, 7, DAYS, 0, dow=True)
        self.and_days = f[2].startswith("*") or f[4].startswith("*")

    def day_matches(self, d):
        if d.month not in self.month:
            return False
        dom = d.day in self.dom
        dow = (d.isoweekday() % 7) in self.dow
        return (dom and dow) if self.and_days else (dom or dow)

    def next_times(self, base, count):
        out = []
        day = base.date()
        while len(out) < count:
            if self.day_matches(day):
                for h in sorted(self.hour):
                    for m in sorted(self.minute):
                        t = datetime.datetime(day.year, day.month, day.day, h, m)
                        if t > base:
                            out.append(t)
            day += datetime.timedelta(days=1)
        return out[:count]


def systemd_times(line, base):
    env = dict(os.environ, TZ="UTC", LC_ALL="C")
    r = subprocess.run(["systemd-analyze", "calendar", "--iterations=%d" % ITERATIONS,
                        "--base-time=%s UTC" % base, line],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        raise RuntimeError("systemd-analyze refused %r: %s" % (line, r.stderr.strip()))
    times = re.findall(r"(?:Next elapse|Iter\. #\d+): \w+ (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC", r.stdout)
    return [datetime.datetime.strptime(t, "%Y-%m-%d %H:%M:%S") for t in times]


def main():
    if not os.access(TRANSLATE, os.X_OK):
        print("1..0 # skip %s not built" % TRANSLATE)
        return 0
    if shutil.which("systemd-analyze") is None:
        print("1..0 # skip systemd-analyze is not installed")
        return 0
    probe = subprocess.run(["systemd-analyze", "calendar", "--iterations=2",
                            "--base-time=2024-01-01 00:00:00 UTC", "*-*-* 00:00:00"],
                           capture_output=True, text=True)
    if probe.returncode != 0:
        print("1..0 # skip this systemd-analyze lacks --iterations/--base-time")
        return 0

    n = failed = 0
    for expr in CASES:
        r = subprocess.run([TRANSLATE, "--translate", "K", expr], capture_output=True, text=True)
        lines = [l[len("OnCalendar="):] for l in r.stdout.splitlines() if l.startswith("OnCalendar=")]
        ref = Cron(expr)
        for base_s in BASES:
            n += 1
            base = datetime.datetime.strptime(base_s, "%Y-%m-%d %H:%M:%S")
            # systemd's calendar ends with the year 2199 (50 leap days
            # from 2024 go beyond it): compare what both can express.
            want = [t for t in ref.next_times(base, ITERATIONS) if t.year < 2200]
            try:
                got = sorted(set(t for l in lines for t in systemd_times(l, base_s)))[:ITERATIONS]
            except RuntimeError as e:
                got, why = [], str(e)
            else:
                why = ""
            title = "'%s' (%s) fires like cron after %s" % (expr, " | ".join(lines), base_s)
            if r.returncode == 0 and lines and got == want:
                print("ok %d - %s" % (n, title))
            else:
                failed += 1
                print("not ok %d - %s" % (n, title))
                if why:
                    print("# " + why)
                for i, (g, w) in enumerate(zip(got + [None] * ITERATIONS, want)):
                    if g != w:
                        print("# first difference at #%d: systemd %s, cron %s" % (i + 1, g, w))
                        break
    for expr in REFUSED:
        n += 1
        r = subprocess.run([TRANSLATE, "--translate", "K", expr], capture_output=True, text=True)
        title = "'%s' is refused, as cron refuses it or never fires it" % expr
        said = (r.stdout + r.stderr).strip()
        if r.returncode != 0 and "OnCalendar=" not in said and "error: K: " in said:
            print("ok %d - %s: %s" % (n, title, said))
        else:
            failed += 1
            print("not ok %d - %s (exit %d, %s)" % (n, title, r.returncode, r.stdout.strip()))
    print("1..%d" % n)
    return 1 if failed else 0


sys.exit(main())
