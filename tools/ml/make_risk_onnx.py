"""An ONNX injury-risk model in the platform's feature schema, for the import test.

Trains scikit-learn (median imputation, standardisation, logistic regression) on a dataset
exported by `mhp pipeline export-dataset`, exports it with skl2onnx (zipmap=False), and writes
the model with sample rows and scikit-learn's own probabilities for them:

    mhp demo --data-dir D --teams 3 --subjects-per-team 30 --weeks 16
    mhp worker --data-dir D &   # or mhp serve
    mhp pipeline run train-injury-risk --data-dir D --org ORG --param season_start=2025-09-01 --wait
    mhp pipeline export-dataset --data-dir D RUN --out /tmp/risk.csv
    /work/venv-ml/bin/python tools/ml/make_risk_onnx.py /tmp/risk.csv crates/pipelines/tests/fixtures
"""

import csv
import json
import math
import sys
from pathlib import Path

import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import convert_sklearn
from skl2onnx.common.data_types import FloatTensorType

FIXED = ["subject", "time", "sex", "sport", "label"]


def main() -> None:
    source, out = Path(sys.argv[1]), Path(sys.argv[2])
    with source.open() as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    features = header[len(FIXED):]
    x = np.array(
        [[float(v) if v != "" else math.nan for v in r[len(FIXED):]] for r in rows],
        dtype=np.float64,
    )
    y = np.array([int(r[4]) for r in rows])
    model = Pipeline(
        [
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
            ("logistic", LogisticRegression(C=1.0, max_iter=1000)),
        ]
    ).fit(x, y)
    onx = convert_sklearn(
        model,
        initial_types=[("input", FloatTensorType([None, len(features)]))],
        options={id(model): {"zipmap": False}},
        target_opset={"": 15, "ai.onnx.ml": 3},
    )
    onx.graph.name = "risk_logistic"
    out.mkdir(parents=True, exist_ok=True)
    (out / "risk_logistic.onnx").write_bytes(onx.SerializeToString())
    samples = x[:60]
    expected = model.predict_proba(samples.astype(np.float32).astype(np.float64))[:, 1]
    medians = np.nanmedian(x, axis=0)
    doc = {
        "features": features,
        "samples": [[None if math.isnan(v) else float(v) for v in r] for r in samples],
        "expected": [float(p) for p in expected],
        "reference": [float(m) if not math.isnan(m) else 0.0 for m in medians],
    }
    (out / "risk_logistic.json").write_text(json.dumps(doc, indent=1) + "\n")
    print(f"{len(rows)} rows, {len(features)} features -> {out}/risk_logistic.onnx")


if __name__ == "__main__":
    main()
