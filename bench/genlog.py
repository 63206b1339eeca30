#!/usr/bin/env python3
"""bench/genlog.py MIB OUT: write about MIB MiB of log text to OUT.

Lines look like a service's log: an ISO-8601 time that advances, a host,
a program with a pid, a level and a message of varied words and numbers.
A pool of message bodies is drawn once from a fixed seed, so the text is
reproducible and compresses like real logs (gzip -6: about 4-6x), and
the pool is big enough that gzip's 32 KiB window sees no repetition.
"""
import random
import sys

WORDS = ("request response user session cache miss hit timeout retry upstream "
         "connection closed opened worker thread queue job finished started failed "
         "GET POST PUT DELETE /api/v1/items /api/v1/users /healthz /static/app.js "
         "status latency bytes client server proxy backend database query commit "
         "rollback index table row update insert select token expired refreshed "
         "notebook kernel spawn stopped container image pulled volume mounted").split()
PROGS = ("nginx", "jupyterhub", "postgres", "geoserver", "thredds", "magpie", "twitcher")
LEVELS = ("INFO",) * 8 + ("DEBUG",) * 4 + ("WARNING", "ERROR")


def main():
    mib, out = float(sys.argv[1]), sys.argv[2]
    rnd = random.Random(8)
    pool = []
    for _ in range(3000):
        n = rnd.randint(4, 14)
        words = []
        for _ in range(n):
            w = rnd.choice(WORDS)
            if rnd.random() < 0.15:
                w += "=%d" % rnd.randint(0, 99999)
            words.append(w)
        pool.append("%s[%d]: %s: %s\n" % (rnd.choice(PROGS), rnd.randint(100, 65000),
                                          rnd.choice(LEVELS), " ".join(words)))
    want = int(mib * 1024 * 1024)
    t = 1714521600.0
    written = 0
    choice = rnd.choice
    with open(out, "w") as f:
        while written < want:
            lines = []
            for _ in range(10000):
                t += rnd.random() * 0.05
                s = int(t)
                lines.append("2024-05-%02dT%02d:%02d:%02d.%03dZ pavics %s"
                             % (1 + (s // 86400) % 28, (s // 3600) % 24, (s // 60) % 60,
                                s % 60, int((t - s) * 1000), choice(pool)))
            chunk = "".join(lines)
            f.write(chunk)
            written += len(chunk)
        f.truncate(want)


if __name__ == "__main__":
    main()
