"""MHP's C3D reader against an independent implementation, ezc3d.

A countermovement jump is generated here from a velocity profile (physics, not MHP's generator):
two plates sharing the body weight unevenly. The same samples are written as MHP's CSV and, by
ezc3d, as C3D files (two type-2 force platforms with six channels each, two analog scales).
ezc3d then reads each file back, and its reading is the reference: `mhp analyze` of the C3D must
equal `mhp analyze` of a CSV holding the force ezc3d read (trials, kinds, flags, every metric),
and the CSV's jump height must match the physics. The centre of pressure is ezc3d's too: a
balance recording on two plates (a type 2 with the moments of a known sway about a transducer
origin below the surface, a type 3 with four load cells and a correction polynomial, turned half
a turn) is read by ezc3d into each plate's centre of
pressure, combined here by force, and `mhp analyze` of the C3D must equal `mhp analyze` of a CSV
holding what ezc3d computed. Then ezc3d reads MHP's corpus of C3D files: each must be refused by
both or read by both.

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


def write_csv(path, left, right, cop=None, rate=RATE):
    with open(path, "w") as f:
        f.write("time_s,fz_left_n,fz_right_n" + (",cop_x_m,cop_y_m" if cop is not None else "") + "\n")
        for i, (l, r) in enumerate(zip(left, right)):
            row = f"{i / rate:.4f},{l:.6f},{r:.6f}"
            if cop is not None:
                row += f",{cop[0][i]:.9f},{cop[1][i]:.9f}"
            f.write(row + "\n")


def combine(plates):
    """The centre of pressure of several plates from ezc3d's per-plate reading: the mean weighted
    by vertical force, counting a plate where it carries at least 20 N and 2 % of the total;
    elsewhere the last defined point holds (the first defined one before it). Positions in m."""
    n = len(plates[0][0])
    xs, ys = [], []
    last = None
    first = None
    for i in range(n):
        weights = [max(float(fz[i]), 0.0) for fz, _ in plates]
        total = sum(weights)
        w_sum = sx = sy = 0.0
        for w, (_, cop) in zip(weights, plates):
            if w >= 20.0 and w >= 0.02 * total:
                w_sum += w
                sx += w * cop[0][i]
                sy += w * cop[1][i]
        point = (sx / w_sum, sy / w_sum) if w_sum > 0 else None
        if point is not None and first is None:
            first = i
        x, y = point if point is not None else (last if last is not None else (math.nan, math.nan))
        xs.append(x)
        ys.append(y)
        if point is not None:
            last = point
    lead = first if first is not None else n
    fx, fy = (xs[first], ys[first]) if first is not None else (0.0, 0.0)
    for i in range(lead):
        xs[i], ys[i] = fx, fy
    return xs, ys


def platform_cop(path):
    """Each plate's vertical force (N) and centre of pressure (m) as ezc3d computes them."""
    c3d = ezc3d.c3d(path, extract_forceplat_data=True)
    unit = {"mm": 0.001, "cm": 0.01, "m": 1.0}[c3d["parameters"]["POINT"]["UNITS"]["value"][0].strip()]
    plates = []
    for p in c3d["data"]["platform"]:
        fz = np.abs(p["force"][2])
        plates.append((fz, (p["center_of_pressure"][0] * unit, p["center_of_pressure"][1] * unit)))
    return plates


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
    c3d["parameters"]["POINT"]["UNITS"]["value"] = ["mm"]
    integer_parameters(c3d)
    frames = len(left) // 10
    c3d["data"]["analogs"] = np.array(channels)[:, : frames * 10].reshape(1, len(labels), -1)
    c3d["data"]["points"] = np.zeros((4, 0, frames))
    c3d.write(path)


BALANCE_RATE = 200.0


def write_balance_c3d(path):
    """20 s of quiet standing on two plates: each foot's centre of pressure sways on its plate.
    The first plate is AMTI-like (type 2: forces and the moments about a transducer origin 10 mm
    off centre and 40 mm below the surface, with small horizontal forces); the second is
    Kistler-like (type 3: four vertical load cells 120 mm and 200 mm from its centre, with a
    centre-of-pressure correction polynomial) and turned half a turn (its corners listed from the
    other end). Returns nothing: ezc3d's reading is the truth."""
    n = int(20 * BALANCE_RATE)
    t = np.arange(n) / BALANCE_RATE
    weight = 72.0 * G
    share = 0.5 + 0.06 * np.sin(2 * np.pi * 0.13 * t)
    amti_origin = np.array([10.0, -10.0, -40.0])
    kistler_origin = np.array([120.0, 200.0, -40.0])
    c3d = ezc3d.c3d()
    c3d["parameters"]["POINT"]["RATE"]["value"] = [100.0]
    c3d["parameters"]["POINT"]["UNITS"]["value"] = ["mm"]
    c3d["parameters"]["ANALOG"]["RATE"]["value"] = [BALANCE_RATE]
    labels, channels, units = [], [], []

    def foot(phase):
        """The foot's centre of pressure on its plate (plate axes, mm from the surface centre)."""
        cx = 12.0 * np.sin(2 * np.pi * 0.31 * t + phase) + 4.0 * np.sin(2 * np.pi * 1.7 * t)
        cy = 20.0 * np.sin(2 * np.pi * 0.19 * t + phase) + 30.0
        return cx, cy

    # Plate 1: the moment about the surface centre puts the force's line through (cx, cy);
    # moved to the transducer origin, M_origin = M_centre - F x origin.
    fz = weight * share
    cx, cy = foot(0.0)
    force = np.vstack([6.0 * np.sin(2 * np.pi * 0.5 * t), -4.0 * np.cos(2 * np.pi * 0.4 * t), fz])
    m_centre = np.vstack([cy * fz, -cx * fz, np.zeros(n)])
    m_origin = m_centre - np.cross(force.T, amti_origin).T
    for axis, values in zip(("Fx", "Fy", "Fz", "Mx", "My", "Mz"), (*force, *m_origin)):
        labels.append(f"{axis}1")
        channels.append(values)
    units += ["N", "N", "N", "Nmm", "Nmm", "Nmm"]
    # Plate 2: vertical load cells at (+a, +b), (-a, +b), (-a, -b), (+a, -b) whose moments put
    # the centre of pressure at (cx, cy): b (f1 + f2 - f3 - f4) = cy Fz, a (f2 + f3 - f1 - f4) =
    # -cx Fz, with f1 + f3 = f2 + f4 and the four summing to Fz.
    fz = weight * (1 - share)
    cx, cy = foot(1.3)
    a, b = kistler_origin[0], kistler_origin[1]
    system = np.array([[1, 1, 1, 1], [b, b, -b, -b], [-a, a, a, -a], [1, -1, 1, -1]], dtype=float)
    cells = np.linalg.solve(system, np.vstack([fz, cy * fz, -cx * fz, np.zeros(n)]))
    for name, values in zip(
        ("Fx12", "Fx34", "Fy14", "Fy23", "Fz1", "Fz2", "Fz3", "Fz4"),
        (np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n), *cells),
    ):
        labels.append(f"{name}_2")
        channels.append(values)
    units += ["N"] * 8
    c3d["parameters"]["ANALOG"]["LABELS"]["value"] = labels
    c3d["parameters"]["ANALOG"]["USED"]["value"] = [len(labels)]
    c3d["parameters"]["ANALOG"]["SCALE"]["value"] = [1.0] * len(labels)
    c3d["parameters"]["ANALOG"]["GEN_SCALE"]["value"] = [1.0]
    c3d["parameters"]["ANALOG"]["UNITS"]["value"] = units
    c3d.add_parameter("FORCE_PLATFORM", "USED", [2])
    c3d.add_parameter("FORCE_PLATFORM", "TYPE", [2, 3])
    c3d.add_parameter("FORCE_PLATFORM", "ZERO", [1, 0])
    channel = np.zeros((8, 2))
    channel[:6, 0] = np.arange(1, 7)
    channel[:, 1] = np.arange(7, 15)
    c3d.add_parameter("FORCE_PLATFORM", "CHANNEL", channel)
    corners = np.zeros((3, 4, 2))
    corners[:, :, 0] = np.array([[500, 0, 0, 500], [600, 600, 0, 0], [0, 0, 0, 0]])
    corners[:, :, 1] = np.array([[500, 1000, 1000, 500], [0, 0, 600, 600], [0, 0, 0, 0]])
    c3d.add_parameter("FORCE_PLATFORM", "CORNERS", corners)
    c3d.add_parameter("FORCE_PLATFORM", "ORIGIN", np.vstack([amti_origin, kistler_origin]).T)
    poly = [0.0] * 12 + [0.0, 0.0, 1e-7, 0.0, 0.0, 0.002, 0.0, 0.0, -1e-7, 0.0, 0.0, 0.001]
    c3d.add_parameter("FORCE_PLATFORM", "FPCOPPOLY", poly)
    integer_parameters(c3d)
    frames = n // 2
    c3d["data"]["analogs"] = np.array(channels)[:, : frames * 2].reshape(1, len(labels), -1)
    c3d["data"]["points"] = np.zeros((4, 0, frames))
    c3d.write(path)


def integer_parameters(c3d):
    """ezc3d's Python side stores numbers as floats; the C3D types these as integers (and ezc3d's
    force-platform reader insists)."""
    for name in ("USED", "TYPE", "ZERO", "CHANNEL"):
        c3d["parameters"]["FORCE_PLATFORM"][name]["type"] = 2


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
            write_csv(oracle, fz1, fz2, combine(platform_cop(path)))
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
    # The centre of pressure of a balance recording, as ezc3d computes it from the moments.
    with tempfile.TemporaryDirectory() as work:
        path = os.path.join(work, "balance.c3d")
        write_balance_c3d(path)
        plates = platform_cop(path)
        oracle = os.path.join(work, "balance.csv")
        write_csv(oracle, plates[0][0], plates[1][0], combine(plates), BALANCE_RATE)
        want = analyse(binary, oracle)
        got = analyse(binary, path)
        metrics = (got["trials"] or [{}])[0].get("metrics") or {}
        diff = close(comparable(want), comparable(got))
        if diff or "ellipse_area_95_m2" not in metrics:
            print(f"FAIL  balance: the C3D report differs from the report of ezc3d's centre of pressure at {diff}")
            failures += 1
        else:
            print(f"ok    balance: MHP's centre of pressure is ezc3d's (95 % ellipse {metrics['ellipse_area_95_m2'] * 1e4:.2f} cm2)")
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
