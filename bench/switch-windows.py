#!/usr/bin/env python3
"""bench/switch-windows.py LOG WINDOWS MARGIN_MS: the switch inside each
"deploys" window of WINDOWS (lines "name start_ms end_ms"), seen from
bench/latency.py's LOG: from the last answer of the version served when
the window began and the first answer of the one served when it ended
(whichever comes first) to the later of the two, widened by MARGIN_MS on
each side (the reload's signal comes before the first new answer, the
stop and the second reload after the last old one) and kept inside the
deploy window.  Prints one line "switch start_ms end_ms" per deploy that
changed what is served: the window bench/latency-sum.py sums up as the
latency a switch adds, apart from the rest of the deploy (prepare, the
new container's start), whose load on a small machine every way pays."""
import sys

reqs = []
for line in open(sys.argv[1]):
    p = line.split()
    if len(p) >= 4 and p[2] == "1":
        reqs.append((int(p[0]), p[3]))
margin = int(sys.argv[3])
for line in open(sys.argv[2]):
    name, a, b = line.split()
    a, b = int(a), int(b)
    if name != "deploys":
        continue
    seen = [(t, v) for t, v in reqs if a <= t <= b]
    if not seen or seen[0][1] == seen[-1][1]:
        continue
    old, new = seen[0][1], seen[-1][1]
    last_old = max(t for t, v in seen if v == old)
    first_new = min(t for t, v in seen if v == new)
    lo, hi = min(last_old, first_new), max(last_old, first_new)
    print("switch", max(a, lo - margin), min(b, hi + margin))
