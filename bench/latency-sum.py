#!/usr/bin/env python3
"""bench/latency-sum.py LOG WINDOWS: sums up bench/latency.py's LOG.
WINDOWS holds lines "name start_ms end_ms" (the monotonic clock): the
idle window (no deploy running) and the deploy windows.  Prints one line
per window name (windows of one name pooled):
    name requests failed longest_outage_ms p50_ms p99_ms p100_ms
A request belongs to the window it started in; an outage runs from the
first failed request of a run of failures to the start of the next good
one (or the end of the log)."""
import sys

reqs = []
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) >= 3:
        reqs.append((int(p[0]), float(p[1]), p[2] == "1"))
wins = {}
for line in open(sys.argv[2]):
    name, a, b = line.split()
    wins.setdefault(name, []).append((int(a), int(b)))


def pct(xs, q):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0.0


for name, spans in wins.items():
    lat, failed, longest = [], 0, 0
    for a, b in spans:
        down = None
        for t, ms, ok in reqs:
            if t < a or t > b:
                continue
            if ok:
                lat.append(ms)
                if down is not None:
                    longest = max(longest, t - down)
                    down = None
            else:
                failed += 1
                if down is None:
                    down = t
        if down is not None:
            longest = max(longest, b - down)
    print(name, len(lat) + failed, failed, longest, "%.1f" % pct(lat, 0.5), "%.1f" % pct(lat, 0.99),
          "%.1f" % max(lat, default=0.0))
