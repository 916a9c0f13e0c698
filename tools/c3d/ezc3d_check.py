"""MHP's C3D reader against an independent implementation, ezc3d.

A countermovement jump is generated here from a velocity profile (physics, not MHP's generator):
two plates sharing the body weight unevenly. The same samples are written as MHP's CSV and, by
ezc3d, as C3D files (two type-2 force platforms with six channels each, two analog scales).
ezc3d then reads each file back, and its reading is the reference: `mhp analyze` of the C3D must
equal `mhp analyze` of a CSV holding the force ezc3d read (trials, kinds, flags, every metric),
and the CSV's jump height must match the physics. Then ezc3d reads MHP's corpus of C3D files:
each must be refused by both or read by both.

    python tools/c3d/ezc3d_check.py MHP_BINARY CORPUS_DIR
"""

import json
import math
import os
import subprocess
import sys
import tempfile

import ezc3d
import numpy as np

G = 9.81
RATE = 1000.0
MASS = 78.0
TAKE_OFF_V = 2.4  # m/s: a 29.4 cm jump
LEFT_SHARE = 0.53


def cmj_force():
    """Total vertical force (N) of a CMJ: stand, dip, push, fly, land, stand."""
    dt = 1.0 / RATE
    a = []

    def phase(seconds, accel):
        n = int(round(seconds * RATE))
        for i in range(n):
            a.append(accel(i * dt))

    phase(2.0, lambda t: 0.0)  # quiet standing
    # countermovement: v(t) = -0.9 sin(pi t / 0.5), a = dv/dt
    phase(0.5, lambda t: -0.9 * math.pi / 0.5 * math.cos(math.pi * t / 0.5))
    # push: v from 0 to TAKE_OFF_V as (1 - cos)/2 over 0.3 s
    phase(0.3, lambda t: TAKE_OFF_V * math.pi / (2 * 0.3) * math.sin(math.pi * t / 0.3))
    flight = 2 * TAKE_OFF_V / G
    n_flight = int(round(flight * RATE))
    force = [MASS * (G + x) for x in a] + [0.0] * n_flight
    # landing: v from -TAKE_OFF_V to 0 as (1 - cos)/2 over 0.4 s
    landing = [
        MASS * (G + TAKE_OFF_V * math.pi / (2 * 0.4) * math.sin(math.pi * i * dt / 0.4))
        for i in range(int(0.4 * RATE))
    ]
    force += landing + [MASS * G] * int(2.0 * RATE)
    return np.array(force), TAKE_OFF_V ** 2 / (2 * G)


def write_csv(path, left, right):
    with open(path, "w") as f:
        f.write("time_s,fz_left_n,fz_right_n\n")
        for i, (l, r) in enumerate(zip(left, right)):
            f.write(f"{i / RATE:.3f},{l:.6f},{r:.6f}\n")


def write_c3d(path, left, right, scale):
    """Two type-2 force platforms (Fx Fy Fz Mx My Mz each), analog values in newtons as
    ezc3d is given them; ezc3d decides how they are stored (scale, format)."""
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [100.0]
    c3d["parameters"]["ANALOG"]["RATE"]["value"] = [RATE]
    labels = []
    channels = []
    zeros = np.zeros_like(left)
    for name, fz in (("1", left), ("2", right)):
        for axis, values in (("Fx", zeros), ("Fy", zeros), ("Fz", fz), ("Mx", zeros), ("My", zeros), ("Mz", zeros)):
            labels.append(f"{axis}{name}")
            channels.append(values)
    c3d["parameters"]["ANALOG"]["LABELS"]["value"] = labels
    c3d["parameters"]["ANALOG"]["USED"]["value"] = [len(labels)]
    c3d["parameters"]["ANALOG"]["SCALE"]["value"] = [scale] * len(labels)
    c3d["parameters"]["ANALOG"]["GEN_SCALE"]["value"] = [1.0]
    c3d["parameters"]["ANALOG"]["UNITS"]["value"] = ["N", "N", "N", "Nmm", "Nmm", "Nmm"] * 2
    c3d.add_parameter("FORCE_PLATFORM", "USED", [2])
    c3d.add_parameter("FORCE_PLATFORM", "TYPE", [2, 2])
    c3d.add_parameter("FORCE_PLATFORM", "ZERO", [1, 0])
    c3d.add_parameter("FORCE_PLATFORM", "CHANNEL", [[1, 7], [2, 8], [3, 9], [4, 10], [5, 11], [6, 12]])
    corners = np.zeros((3, 4, 2))
    for p, x0 in enumerate((0.0, 500.0)):
        corners[:, :, p] = np.array([[x0 + 500, x0, x0, x0 + 500], [600, 600, 0, 0], [0, 0, 0, 0]])
    c3d.add_parameter("FORCE_PLATFORM", "CORNERS", corners)
    c3d.add_parameter("FORCE_PLATFORM", "ORIGIN", np.zeros((3, 2)))
    frames = len(left) // 10
    c3d["data"]["analogs"] = np.array(channels)[:, : frames * 10].reshape(1, len(labels), -1)
    c3d["data"]["points"] = np.zeros((4, 0, frames))
    c3d.write(path)


def read_plates(path):
    """Fz of both plates as ezc3d reads the file: the reference interpretation."""
    c3d = ezc3d.c3d(path)
    labels = c3d["parameters"]["ANALOG"]["LABELS"]["value"]
    analogs = c3d["data"]["analogs"][0]
    return analogs[labels.index("Fz1")], analogs[labels.index("Fz2")]


def analyse(binary, path):
    out = subprocess.run([binary, "analyze", path, "--format", "json"], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(f"mhp analyze {os.path.basename(path)} failed: {out.stderr.strip()}")
    return json.loads(out.stdout)


def comparable(report):
    """The report without what differs by file: its name and format."""
    r = dict(report)
    r.pop("file", None)
    rec = dict(r.get("recording") or {})
    rec.pop("format", None)
    r["recording"] = rec
    return r


def close(a, b, path="$"):
    if isinstance(a, dict) and isinstance(b, dict):
        if a.keys() != b.keys():
            return f"{path}: keys differ: {sorted(a.keys() ^ b.keys())}"
        for k in a:
            d = close(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} items against {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = close(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    if isinstance(a, float) or isinstance(b, float):
        if not math.isclose(float(a), float(b), rel_tol=1e-6, abs_tol=1e-6):
            return f"{path}: {a} against {b}"
        return None
    return None if a == b else f"{path}: {a!r} against {b!r}"


def main():
    binary, corpus = sys.argv[1], sys.argv[2]
    total, height = cmj_force()
    left, right = total * LEFT_SHARE, total * (1 - LEFT_SHARE)
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        csv_path = os.path.join(work, "cmj.csv")
        write_csv(csv_path, left, right)
        reference = analyse(binary, csv_path)
        trials = reference["trials"]
        jump = trials[0]["metrics"]["jump_height_impulse_m"] if trials and trials[0].get("metrics") else None
        if jump is None or abs(jump - height) > 0.01:
            print(f"FAIL  CSV reference: jump height {jump} m, physics says {height:.4f} m")
            failures += 1
        else:
            print(f"ok    CSV reference: jump height {jump:.4f} m (physics {height:.4f} m)")
        for name, scale in (("scale 1", 1.0), ("scale 0.25", 0.25)):
            path = os.path.join(work, f"cmj_{scale}.c3d")
            write_c3d(path, left, right, scale)
            # ezc3d is the oracle of what the file holds: MHP must read the C3D as it reads a
            # CSV of the force ezc3d reads from it.
            fz1, fz2 = read_plates(path)
            frames = len(fz1)
            if not np.allclose(fz1, left[:frames], atol=1e-3) or not np.allclose(fz2, right[:frames], atol=1e-3):
                print(f"FAIL  {name}: ezc3d does not read back what it was given")
                failures += 1
                continue
            oracle = os.path.join(work, f"oracle_{scale}.csv")
            write_csv(oracle, fz1, fz2)
            want = analyse(binary, oracle)
            got = analyse(binary, path)
            if got["recording"].get("format") != "c3d":
                print(f"FAIL  {name}: read as {got['recording'].get('format')}")
                failures += 1
                continue
            diff = close(comparable(want), comparable(got))
            if diff:
                print(f"FAIL  {name}: the C3D report differs from the report of ezc3d's reading at {diff}")
                failures += 1
            else:
                print(f"ok    {name}: MHP reads the C3D ezc3d wrote as ezc3d does")
    # MHP's corpus of C3D files: ezc3d must agree on which are readable.
    for f in sorted(os.listdir(corpus)):
        if not f.endswith(".c3d"):
            continue
        with open(os.path.join(corpus, f + ".expected")) as e:
            refused_by_mhp = e.read().startswith("error")
        try:
            ezc3d.c3d(os.path.join(corpus, f))
            refused_by_ezc3d = False
        except Exception:  # noqa: BLE001 - any failure to read is the finding
            refused_by_ezc3d = True
        if refused_by_mhp == refused_by_ezc3d:
            print(f"ok    {f}: {'refused' if refused_by_mhp else 'read'} by both")
        else:
            print(f"FAIL  {f}: MHP {'refuses' if refused_by_mhp else 'reads'} it, ezc3d does not")
            failures += 1
    if failures:
        raise SystemExit(f"{failures} C3D check(s) failed")


if __name__ == "__main__":
    main()
