#!/usr/bin/env python3
"""The scikit-learn side of the honesty figures (issue 24): the platform's model search, run with
scikit-learn's models on the same cohorts, rows and split as mhp-ml's, beside mhp-ml's result.

    python tools/ml/honesty_sklearn.py DIR [--cohorts N] [--threads N]

DIR is what `cargo run -p mhp-ml --example honesty -- --export DIR` writes: one CSV per cohort
(`{scenario}_{athletes}_{seed}.csv`: `time,test,label,hazard,<features...>`, an empty cell for a
missing value), `groups.json` (the feature groups) and `results.json` (mhp-ml's test AUC and the
true hazard's for each cohort it evaluated).

The search is mhp_ml::search::SearchSpace::standard, step by step:
  * groups with two distinct values among the training rows; beyond 10 of them, the 10 best
    alone (logistic, l2 = 1) are read;
  * expanding-window folds: the latest half of the distinct training times cut into 4
    consecutive blocks, each predicted by a model trained on every time before it (a block whose
    earlier rows lack an outcome is left out); a candidate's score is the blocks' AUCs averaged
    with weights proportional to the rows their models trained on;
  * logistic regression, l2 in {1, 3, 10, 30, 100, 300};
  * the same on linear splines: each feature with more than two distinct training values also
    enters as hinges at its training 10th, 50th and 90th percentiles (numpy's default
    interpolation; max(0, c - x) below the median, max(0, x - c) from it; knots strictly inside
    the range, distinct), fitted on each model's own training rows (SplineBasis);
  * the splines are the linear model unless the plain fit scores more than 0.05 above them;
  * HistGradientBoosting (the slow and shallow settings of sklearn_compare.py) on every group,
    chosen when it beats the linear model by more than 0.02.
The winner is refitted on every training row and scores the test rows. Logistic regression is
StandardScaler -> mean imputation -> LogisticRegression(C = 1/l2), as sklearn_compare.py: the
same objective as mhp-ml's. (mhp-ml also scores each group alone for its lineage, tries blends of
the linear model and boosting, and calibrates the winner; calibration keeps the ranking, so the
AUC is unchanged.)

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
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklearn_compare import boosting, logistic  # noqa: E402

L2_GRID = [1.0, 3.0, 10.0, 30.0, 100.0, 300.0]
KNOTS = [0.1, 0.5, 0.9]
FOLDS = 4
VALIDATION_FRACTION = 0.5
MAX_GROUPS = 10
MIN_GAIN = 0.05
FLEXIBLE_GAIN = 0.02


class SplineBasis(BaseEstimator, TransformerMixin):
    """mhp_ml's linear-spline basis: each column, then its hinges at the training quantiles."""

    def fit(self, x, y=None):
        self.hinges_ = []
        for j in range(x.shape[1]):
            v = np.sort(x[:, j][~np.isnan(x[:, j])])
            hinges = []
            if len(np.unique(v)) > 2:
                for q in KNOTS:
                    at = float(np.quantile(v, q))
                    if v[0] < at < v[-1] and all(at != h[0] for h in hinges):
                        hinges.append((at, q < 0.5))
            self.hinges_.append(sorted(hinges))
        return self

    def transform(self, x):
        cols = []
        for j, hinges in enumerate(self.hinges_):
            cols.append(x[:, j])
            for at, below in hinges:
                cols.append(np.maximum(0.0, at - x[:, j]) if below else np.maximum(0.0, x[:, j] - at))
        return np.column_stack(cols)


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
    if kind == "logistic":
        return logistic(l2)
    if kind == "spline_logistic":
        return make_pipeline(SplineBasis(), logistic(l2))
    return boosting()


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
    if blocks and len(usable) > MAX_GROUPS:
        alone = [(score("logistic", 1.0, g, x, y, blocks), -i) for i, g in enumerate(usable)]
        keep = sorted(-i for _, i in sorted(alone, reverse=True)[:MAX_GROUPS])
        usable = [usable[i] for i in keep]
    every = sorted({c for g in usable for c in g})
    if not blocks:
        return ("logistic", 1.0, every)

    def best_l2(kind):
        scores = [(score(kind, l2, every, x, y, blocks), l2) for l2 in L2_GRID]
        top = max(a for a, _ in scores)
        return top, next(l2 for a, l2 in scores if a == top)

    plain, spline = best_l2("logistic"), best_l2("spline_logistic")
    if plain[0] > spline[0] + MIN_GAIN:
        chosen = ("logistic", plain[1], every, plain[0])
    else:
        chosen = ("spline_logistic", spline[1], every, spline[0])
    a = score("boosting", 1.0, every, x, y, blocks)
    if a > chosen[3] + FLEXIBLE_GAIN:
        chosen = ("boosting", 1.0, every, a)
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
