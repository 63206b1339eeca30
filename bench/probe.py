#!/usr/bin/env python3
"""bench/probe.py STOPFILE TARGET PORT...: a client probing each port on
127.0.0.1 every 20 ms (GET /, 1 s timeout) until STOPFILE exists, as a
user of the stack would during a deploy.  Prints one line per port:
    PORT requests failed longest_outage_ms first_target_ms
first_target_ms: milliseconds from the probe's start until the body was
TARGET for the first time (-1: never); outage: from the first failed
probe of a run of failures to the next success."""
import os
import sys
import time
import urllib.request

stop, target, ports = sys.argv[1], sys.argv[2], [int(p) for p in sys.argv[3:]]
stats = {p: {"n": 0, "failed": 0, "longest": 0.0, "down_since": None, "target": -1} for p in ports}
t0 = time.monotonic()
opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
while not os.path.exists(stop):
    tick = time.monotonic()
    for p in ports:
        s = stats[p]
        s["n"] += 1
        now = time.monotonic()
        try:
            with opener.open("http://127.0.0.1:%d/" % p, timeout=1) as r:
                body = r.read().decode().strip()
            ok = True
        except Exception:
            ok = False
        if ok:
            if s["down_since"] is not None:
                s["longest"] = max(s["longest"], now - s["down_since"])
                s["down_since"] = None
            if body == target and s["target"] < 0:
                s["target"] = (now - t0) * 1000
        else:
            s["failed"] += 1
            if s["down_since"] is None:
                s["down_since"] = now
    time.sleep(max(0.0, 0.02 - (time.monotonic() - tick)))
for p in ports:
    s = stats[p]
    if s["down_since"] is not None:
        s["longest"] = max(s["longest"], time.monotonic() - s["down_since"])
    print(p, s["n"], s["failed"], int(s["longest"] * 1000), int(s["target"]))
