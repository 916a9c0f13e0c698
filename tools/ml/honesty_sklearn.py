#!/usr/bin/env python3
"""The scikit-learn side of the honesty figures (issue 24): the platform's model search, run with
scikit-learn's models on the same cohorts, rows and split as mhp-ml's, beside mhp-ml's result.

    python tools/ml/honesty_sklearn.py DIR [--cohorts N] [--threads N]

DIR is what `cargo run -p mhp-ml --example honesty -- --export DIR` writes: one CSV per cohort
(`{scenario}_{athletes}_{seed}.csv`: `time,test,label,hazard,<features...>`, an empty cell for a
missing value), `groups.json` (the feature groups) and `results.json` (mhp-ml's test AUC and the
true hazard's for each cohort it evaluated).

The search is mhp_ml::search::SearchSpace::standard, step by step:
  * groups with two distinct values among the training rows;
  * expanding-window folds: the latest half of the distinct training times cut into 4
    consecutive blocks, each predicted by a model trained on every time before it (a block whose
    earlier rows lack an outcome is left out); a candidate's score is the blocks' AUCs averaged
    with weights proportional to the rows their models trained on;
  * each group alone (logistic, l2 = 1); the 10 best above 0.5 are screened;
  * forward selection among them while the score gains more than 0.002;
  * l2 in {0.1, 1, 10, 100} on the selected groups;
  * HistGradientBoosting (the slow and shallow settings of sklearn_compare.py) on the selected
    groups and on every screened group;
  * the best score wins, boosting only when it beats the best logistic regression.
The winner is refitted on every training row and scores the test rows. Logistic regression is
StandardScaler -> mean imputation -> LogisticRegression(C = 1/l2), as sklearn_compare.py: the
same objective as mhp-ml's. (mhp-ml also tries blends of the two and calibrates the winner;
calibration keeps the ranking, so the AUC is unchanged.)

Prints, per scenario, the mean test AUC of scikit-learn's search, of mhp-ml's and of the true
hazard on the same cohorts, and mhp-ml minus scikit-learn with its standard error.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
from collections import defaultdict

import numpy as np
from sklearn.metrics import roc_auc_score
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklearn_compare import boosting, logistic  # noqa: E402

L2_GRID = [0.1, 1.0, 10.0, 100.0]
FOLDS = 4
VALIDATION_FRACTION = 0.5
MAX_GROUPS = 10
MIN_GAIN = 0.002


def read_cohort(path: str):
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    header, body = rows[0], rows[1:]
    names = header[4:]
    time = np.array([int(r[0]) for r in body])
    test = np.array([r[1] == "1" for r in body])
    y = np.array([r[2] == "1" for r in body])
    x = np.array(
        [[float(v) if v != "" else np.nan for v in r[4:]] for r in body], dtype=float
    ).reshape(len(body), len(names))
    return names, time, test, y, x


def auc(y: np.ndarray, p: np.ndarray) -> float | None:
    if y.all() or not y.any():
        return None
    return float(roc_auc_score(y, p))


def rust_round(v: float) -> int:
    """f64::round: half away from zero."""
    return int(math.floor(v + 0.5)) if v >= 0 else -int(math.floor(-v + 0.5))


def folds(time: np.ndarray, y: np.ndarray):
    times = np.unique(time)
    m = len(times)
    if m < 2:
        return []
    n_val = min(max(rust_round(VALIDATION_FRACTION * m), 1), m - 1)
    k = min(FOLDS, n_val)
    first = m - n_val
    out = []
    for b in range(k):
        lo = first + b * n_val // k
        hi = first + (b + 1) * n_val // k
        if lo >= hi:
            continue
        start, end = times[lo], times[hi - 1]
        before = time < start
        block = (time >= start) & (time <= end)
        positives = y[before].sum()
        if positives == 0 or positives == before.sum() or not block.any():
            continue
        out.append((before, block))
    return out


def make(kind: str, l2: float = 1.0):
    return logistic(l2) if kind == "logistic" else boosting()


def score(kind, l2, columns, x, y, blocks) -> float:
    weighted, weight = 0.0, 0.0
    for before, block in blocks:
        model = make(kind, l2)
        model.fit(x[before][:, columns], y[before])
        a = auc(y[block], model.predict_proba(x[block][:, columns])[:, 1])
        if a is None:
            continue
        n = before.sum()
        weighted += a * n
        weight += n
    return weighted / weight if weight > 0 else 0.0


def search(names, groups, x, y, time):
    index = {n: i for i, n in enumerate(names)}
    usable = []
    for g in groups:
        cols = [index[f] for f in g["features"] if f in index]
        varies = any(len(np.unique(x[:, c][~np.isnan(x[:, c])])) >= 2 for c in cols)
        if cols and varies:
            usable.append(cols)
    blocks = folds(time, y)
    every = sorted({c for g in usable for c in g})
    if not blocks:
        return ("logistic", 1.0, every)
    cols_of = lambda gs: sorted({c for gi in gs for c in usable[gi]})  # noqa: E731
    screened = [(gi, score("logistic", 1.0, usable[gi], x, y, blocks)) for gi in range(len(usable))]
    ranked = sorted([s for s in screened if s[1] > 0.5], key=lambda s: (-s[1], s[0]))[:MAX_GROUPS]
    if not ranked:
        best = max(L2_GRID, key=lambda l2: score("logistic", l2, every, x, y, blocks))
        return ("logistic", best, every)
    selected, best_auc = [ranked[0][0]], ranked[0][1]
    while True:
        round_best = None
        for gi, _ in ranked:
            if gi in selected:
                continue
            a = score("logistic", 1.0, cols_of(selected + [gi]), x, y, blocks)
            if round_best is None or a > round_best[1]:
                round_best = (gi, a)
        if round_best is not None and round_best[1] > best_auc + MIN_GAIN:
            selected.append(round_best[0])
            best_auc = round_best[1]
        else:
            break
    chosen = ("logistic", 1.0, cols_of(selected), best_auc)
    for l2 in L2_GRID:
        if l2 == 1.0:
            continue
        a = score("logistic", l2, cols_of(selected), x, y, blocks)
        if a > chosen[3]:
            chosen = ("logistic", l2, cols_of(selected), a)
    sets = [cols_of(selected)]
    every_screened = cols_of([gi for gi, _ in ranked])
    if every_screened != sets[0]:
        sets.append(every_screened)
    for cols in sets:
        a = score("boosting", 1.0, cols, x, y, blocks)
        if a > chosen[3]:
            chosen = ("boosting", 1.0, cols, a)
    return chosen[:3]


def mean_se(v):
    v = np.asarray(v, dtype=float)
    if len(v) < 2:
        return float(v.mean()), float("nan")
    return float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dir")
    parser.add_argument("--cohorts", type=int, help="at most this many cohorts per scenario")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    groups = json.load(open(os.path.join(args.dir, "groups.json")))
    results = json.load(open(os.path.join(args.dir, "results.json")))
    by_scenario = defaultdict(list)
    for r in results:
        by_scenario[(r["hazard"], r["athletes"])].append(r)
    print(
        "| hazard | athletes | cohorts | scikit-learn search AUC | mhp-ml AUC | true hazard AUC "
        "| mhp-ml − scikit-learn (± s.e.) | scikit-learn chose |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    with threadpool_limits(limits=args.threads):
        for (hazard, athletes), cohorts in by_scenario.items():
            cohorts = sorted(cohorts, key=lambda r: r["seed"])[: args.cohorts or None]
            sk, ours, truth, chose = [], [], [], defaultdict(int)
            for r in cohorts:
                path = os.path.join(args.dir, f"{hazard}_{athletes}_{r['seed']}.csv")
                names, time, test, y, x = read_cohort(path)
                train = ~test
                kind, l2, cols = search(names, groups, x[train], y[train], time[train])
                model = make(kind, l2)
                model.fit(x[train][:, cols], y[train])
                p = model.predict_proba(x[test][:, cols])[:, 1]
                a = auc(y[test], p)
                if a is None:
                    continue
                sk.append(a)
                ours.append(r["model_auc"])
                truth.append(r["truth_auc"])
                chose[kind] += 1
            diff, se = mean_se(np.array(ours) - np.array(sk))
            print(
                f"| {hazard} | {athletes} | {len(sk)} | {np.mean(sk):.3f} | {np.mean(ours):.3f} "
                f"| {np.mean(truth):.3f} | {diff:+.3f} ± {se:.3f} "
                f"| {', '.join(f'{k} {n}' for k, n in sorted(chose.items()))} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
