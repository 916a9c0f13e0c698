#!/usr/bin/env python3
"""Trains scikit-learn on the same rows and time split as mhp-ml, for a like-for-like comparison.

    python tools/ml/sklearn_compare.py CSV [--cutoff WEEK] [--l2 1.0] [--threads N] [--json OUT]

CSV is what `cargo run --release -p mhp-ml --example demo_truth -- ... --export PATH` writes:
`subject,time,sex,sport,label,hazard,<features...>`, one row per subject-week, an empty cell for
a missing value (`hazard` is optional: the true weekly hazard of the demo organisation).

The split mirrors `Dataset::split_by_time`: rows with time < cutoff train, the rest test; by
default the cutoff is `Dataset::time_cutoff(0.7)`: of the distinct times t_0 < ... < t_{m-1}, t_k
with k = round(0.7 m) (half away from zero, as Rust's f64::round) clamped to 1..=m-1.

Models:
  * logistic: StandardScaler (population deviation, missing values ignored; a constant feature
    keeps scale 1) -> SimpleImputer(constant 0), i.e. a missing value becomes the training mean
    -> LogisticRegression(C = 1/l2, Newton-Cholesky, tight tolerance). mhp-ml's LogisticModel
    minimises the same objective (sum of log-losses + l2/2 |w|^2, intercept free), so both reach
    the same optimum.
  * boosting: HistGradientBoostingClassifier with mhp-ml's "slow and shallow" settings: 300
    rounds, learning rate 0.03, max_depth 3, min 100 rows a leaf, l2 10, 64 bins, no early
    stopping. max_depth counts the same in both (edges from the root: a stump has depth 1);
    max_leaf_nodes is lifted (None) so that depth alone limits the tree, as in mhp-ml, which
    grows level by level (scikit-learn grows best-first; with depth 3 both end with the same
    allowed splits). Differences that remain: mhp-ml draws a subsample of 80 % of the rows per
    tree (scikit-learn's boosting has no row subsampling) and counts min_samples_leaf on that
    subsample; scikit-learn requires a hessian sum of 1e-3 to split.
Prints test ROC AUC, PR AUC (average precision) and Brier score, and training time; with a
`hazard` column, the true hazard's figures on the same test rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import sys
import time
from dataclasses import asdict, dataclass

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import average_precision_score, brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from threadpoolctl import threadpool_limits

FIXED_COLUMNS = ["subject", "time", "sex", "sport", "label"]


@dataclass
class Table:
    """The CSV's rows: features (NaN = missing), labels, times and the optional hazard."""

    feature_names: list[str]
    x: np.ndarray
    y: np.ndarray
    time: np.ndarray
    hazard: np.ndarray | None


@dataclass
class Figures:
    """One model's (or the truth's) figures on the test rows."""

    name: str
    roc_auc: float
    pr_auc: float
    brier: float
    train_seconds: float | None = None


def read_table(path: str) -> Table:
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        if header[: len(FIXED_COLUMNS)] != FIXED_COLUMNS:
            raise SystemExit(f"{path}: the header must start with {','.join(FIXED_COLUMNS)}")
        has_hazard = len(header) > 5 and header[5] == "hazard"
        first_feature = 6 if has_hazard else 5
        names = header[first_feature:]
        if not names:
            raise SystemExit(f"{path}: no feature columns")
        x, y, t, h = [], [], [], []
        for line, row in enumerate(reader, start=2):
            if len(row) != len(header):
                raise SystemExit(f"{path}:{line}: {len(row)} cells, expected {len(header)}")
            t.append(int(row[1]))
            y.append(int(row[4]))
            if has_hazard:
                h.append(float(row[5]))
            x.append([float(v) if v != "" else math.nan for v in row[first_feature:]])
    return Table(
        feature_names=names,
        x=np.asarray(x, dtype=float),
        y=np.asarray(y, dtype=int),
        time=np.asarray(t, dtype=np.int64),
        hazard=np.asarray(h, dtype=float) if has_hazard else None,
    )


def time_cutoff(times: np.ndarray, fraction: float = 0.7) -> int:
    """`Dataset::time_cutoff`: Rust's round() goes half away from zero, Python's to even."""
    distinct = np.unique(times)
    m = len(distinct)
    if m < 2:
        raise SystemExit(f"a time split needs at least two distinct times, found {m}")
    k = min(max(int(math.floor(fraction * m + 0.5)), 1), m - 1)
    return int(distinct[k])


def logistic(l2: float):
    c = math.inf if l2 == 0 else 1.0 / l2
    return make_pipeline(
        StandardScaler(),
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
        LogisticRegression(C=c, solver="newton-cholesky", tol=1e-10, max_iter=1_000),
    )


def boosting():
    return HistGradientBoostingClassifier(
        learning_rate=0.03,
        max_iter=300,
        max_depth=3,
        max_leaf_nodes=None,
        min_samples_leaf=100,
        l2_regularization=10.0,
        max_bins=64,
        early_stopping=False,
        random_state=0,
    )


def figures(name: str, y: np.ndarray, p: np.ndarray, seconds: float | None = None) -> Figures:
    return Figures(
        name=name,
        roc_auc=float(roc_auc_score(y, p)),
        pr_auc=float(average_precision_score(y, p)),
        brier=float(brier_score_loss(y, p)),
        train_seconds=seconds,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", help="rows exported by demo_truth --export")
    parser.add_argument("--cutoff", type=int, help="first test week (default: time_cutoff(0.7))")
    parser.add_argument("--l2", type=float, default=1.0, help="mhp-ml's l2 (C = 1/l2)")
    parser.add_argument("--threads", type=int, help="limit BLAS/OpenMP threads (default: all)")
    parser.add_argument("--json", metavar="OUT", help="also write the figures as JSON")
    args = parser.parse_args()

    table = read_table(args.csv)
    cutoff = args.cutoff if args.cutoff is not None else time_cutoff(table.time)
    train, test = table.time < cutoff, table.time >= cutoff
    if not train.any() or not test.any():
        raise SystemExit(f"cutoff {cutoff} leaves one side of the split empty")
    y_test = table.y[test]
    print(
        f"{len(table.y)} rows, {len(table.feature_names)} features; train: weeks < {cutoff}, "
        f"{train.sum()} rows ({table.y[train].sum()} positive); test: {test.sum()} rows "
        f"({y_test.sum()} positive)"
    )

    results: list[Figures] = []
    if table.hazard is not None:
        truth = figures("true hazard", y_test, table.hazard[test])
        results.append(truth)
    with threadpool_limits(limits=args.threads):
        for name, model in [("logistic", logistic(args.l2)), ("boosting", boosting())]:
            start = time.perf_counter()
            model.fit(table.x[train], table.y[train])
            seconds = time.perf_counter() - start
            p = model.predict_proba(table.x[test])[:, 1]
            results.append(figures(f"scikit-learn {name}", y_test, p, seconds))

    for r in results:
        took = "" if r.train_seconds is None else f", trained in {r.train_seconds * 1e3:.0f} ms"
        print(
            f"{r.name}: test ROC AUC {r.roc_auc:.4f}, PR AUC {r.pr_auc:.4f}, "
            f"Brier {r.brier:.5f}{took}"
        )
    if args.json:
        out = {
            "csv": args.csv,
            "cutoff": cutoff,
            "train_rows": int(train.sum()),
            "test_rows": int(test.sum()),
            "test_positives": int(y_test.sum()),
            "threads": args.threads,
            "results": [asdict(r) for r in results],
        }
        with open(args.json, "w") as f:
            json.dump(out, f, indent=2)
            f.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
