#!/usr/bin/env python3
"""bench/latency.py STOPFILE PORT OUT: a client of the stack's proxy, as
a user sees it: GET / on 127.0.0.1:PORT every 20 ms (one request at a
time, 5 s timeout: a slow answer is latency, not a failure) until
STOPFILE exists.  Writes one line per request to OUT:
    start_ms latency_ms ok body
start_ms on the monotonic clock (CLOCK_MONOTONIC, as the caller's
`time.monotonic()`), so that requests can be put in or out of a window
the caller noted; ok is 1 for a 200 with a body, else 0."""
import os
import sys
import time
import urllib.request

stop, port, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
url = "http://127.0.0.1:%d/" % port
with open(out, "w") as f:
    while not os.path.exists(stop):
        t = time.monotonic()
        try:
            with opener.open(url, timeout=5) as r:
                body = r.read().decode().strip()
            ok = 1 if r.status == 200 and body else 0
        except Exception:
            body, ok = "-", 0
        lat = time.monotonic() - t
        f.write("%d %.2f %d %s\n" % (t * 1000, lat * 1000, ok, body.split()[0] if body else "-"))
        f.flush()
        time.sleep(max(0.0, 0.02 - lat))
