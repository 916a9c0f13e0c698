#!/usr/bin/env python3
"""A 10 s dual-plate countermovement jump at 1000 Hz, as MHP's CSV, written to the path given:
quiet standing, the countermovement, flight and landing. The benchmarks upload it."""
import math
import sys

rate, bw = 1000, 75 * 9.81
rows = ["time_s,fz_left_n,fz_right_n"]
for i in range(10 * rate):
    t = i / rate
    if 4.0 <= t < 4.5:
        f = bw * (1 - 0.6 * math.sin(math.pi * (t - 4.0) / 0.5))
    elif 4.5 <= t < 4.8:
        f = bw * (1 + 1.4 * math.sin(math.pi * (t - 4.5) / 0.3))
    elif 4.8 <= t < 5.3:
        f = 0.0
    elif 5.3 <= t < 5.5:
        f = bw * (1 + 2.5 * math.sin(math.pi * (t - 5.3) / 0.2))
    else:
        f = bw
    rows.append(f"{t:.3f},{f * 0.51:.2f},{f * 0.49:.2f}")
with open(sys.argv[1], "w") as out:
    out.write("\n".join(rows) + "\n")
