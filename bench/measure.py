#!/usr/bin/env python3
"""bench/measure.py: run one command several times, print its medians.

    measure.py [--runs N] [--warmup N] [--prep SHELL] [--stdin FILE]
               [--cwd DIR] [--ok CODES] -- ARGV...

Needs $RUNONE (bench/runone.c, built by bench/run.sh), which forks and
execs each timed run and reports its wall time and rusage (wait4).
Before every run (warm-up runs included) the --prep command runs under
/bin/sh -c, untimed.  The command's output goes to $MEASURE_OUT
(default /dev/null).

Prints one line:  WALL_MEDIAN_S CPU_MEDIAN_S PEAK_RSS_KIB RUNS
(CPU = user + system, children included; peak RSS = the largest ru_maxrss
over the runs.)  Exits 1, naming the run, when the command exits with a
code not in --ok (default 0).
"""
import os
import statistics
import subprocess
import sys


def main(argv):
    runs, warmup, prep, stdin, cwd, ok = 5, 1, None, "/dev/null", None, {0}
    i = 0
    while i < len(argv) and argv[i] != "--":
        opt = argv[i]
        if i + 1 >= len(argv):
            sys.exit("measure: %s needs a value" % opt)
        val = argv[i + 1]
        if opt == "--runs":
            runs = int(val)
        elif opt == "--warmup":
            warmup = int(val)
        elif opt == "--prep":
            prep = val
        elif opt == "--stdin":
            stdin = os.path.abspath(val)
        elif opt == "--cwd":
            cwd = val
        elif opt == "--ok":
            ok = {int(c) for c in val.split(",")}
        else:
            sys.exit("measure: unknown option " + opt)
        i += 2
    cmd = argv[i + 1:]
    if not cmd or runs < 1:
        sys.exit("measure: no command, or no run")
    runone = os.environ["RUNONE"]
    out = os.path.abspath(os.environ.get("MEASURE_OUT", "/dev/null"))
    walls, cpus, rss = [], [], 0
    for n in range(warmup + runs):
        if prep and subprocess.run(["/bin/sh", "-c", prep]).returncode != 0:
            sys.exit("measure: prep failed: " + prep)
        res = subprocess.run([runone, stdin, out] + cmd, cwd=cwd,
                             stdout=subprocess.PIPE, text=True, check=True)
        wall, cpu, kib, code = res.stdout.split()
        if int(code) not in ok:
            sys.exit("measure: run %d of '%s' exited %s (expected %s)"
                     % (n + 1, " ".join(cmd), code, ",".join(map(str, sorted(ok)))))
        if n < warmup:
            continue
        walls.append(float(wall))
        cpus.append(float(cpu))
        rss = max(rss, int(kib))
    print("%.6f %.6f %d %d" % (statistics.median(walls), statistics.median(cpus), rss, runs))


if __name__ == "__main__":
    main(sys.argv[1:])
