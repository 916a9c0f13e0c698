#!/usr/bin/env python3
"""Writes the ONNX fixtures of mhp-ml's `onnx` tests into crates/ml/tests/fixtures/onnx/.

Deterministic: a synthetic binary data set (fixed seed, six named features, no missing values),
seven models trained on it and exported the way a data scientist would (`zipmap=False`, default
opsets), and the training libraries' own class-1 probabilities on 300 held-out rows as the
reference the Rust tests compare against. Also writes the files MHP must refuse.

    python tools/ml/make_onnx_fixtures.py [--out DIR]

The generated files are committed; the Rust tests never need Python.
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper
from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skl2onnx import to_onnx

import lightgbm
import onnxmltools
import xgboost
from onnxmltools.convert.common.data_types import FloatTensorType

SEED = 20_240_601
FEATURES = [
    "jump_height_cm_latest",
    "jump_height_change_pct",
    "asymmetry_pct_latest",
    "acwr",
    "sessions_last_28d",
    "injuries_last_365d",
]
N_TRAIN = 4_000
N_REFERENCE = 300
REPO = pathlib.Path(__file__).resolve().parents[2]
DEFAULT_OUT = REPO / "crates" / "ml" / "tests" / "fixtures" / "onnx"


def synthetic(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rows of the six features (rounded like real measurements) and labels drawn from a
    non-linear logistic hazard, about 12 % positive."""
    jump = np.round(rng.normal(38.0, 6.0, n), 1)
    change = np.round(rng.normal(0.0, 6.0, n), 1)
    asym = np.round(np.abs(rng.normal(0.0, 7.0, n)), 1)
    acwr = np.round(rng.lognormal(0.0, 0.25, n), 2)
    sessions = rng.poisson(12, n).astype(float)
    injuries = rng.poisson(0.4, n).astype(float)
    logit = (
        -2.4
        + 0.07 * (asym - 5.0)
        + 2.5 * np.maximum(acwr - 1.3, 0.0)
        - 0.08 * change
        + 0.6 * np.minimum(injuries, 2.0)
        - 0.02 * (jump - 38.0)
        + 0.03 * (sessions - 12.0)
    )
    labels = (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))).astype(int)
    return np.column_stack([jump, change, asym, acwr, sessions, injuries]), labels


def sklearn_onnx(model, x: np.ndarray, zipmap: bool = False) -> onnx.ModelProto:
    options = None if zipmap else {id(model): {"zipmap": False}}
    return to_onnx(model, x[:1].astype(np.float32), options=options)


def lightgbm_onnx(model, width: int) -> onnx.ModelProto:
    return onnxmltools.convert_lightgbm(
        model, initial_types=[("input", FloatTensorType([None, width]))], zipmap=False
    )


def xgboost_onnx(model, width: int) -> onnx.ModelProto:
    return onnxmltools.convert_xgboost(
        model, initial_types=[("input", FloatTensorType([None, width]))]
    )


def save(proto: onnx.ModelProto, path: pathlib.Path) -> None:
    """Saves byte-for-byte reproducibly: the converters name graphs with random UUIDs and list
    opsets in set order (which varies with Python's string hashing)."""
    proto.graph.name = path.stem
    opsets = sorted(proto.opset_import, key=lambda o: (o.domain, o.version))
    del proto.opset_import[:]
    proto.opset_import.extend(opsets)
    onnx.save(proto, path)


def external_data_model(width: int) -> onnx.ModelProto:
    """A logistic layer whose weights claim to live in a file beside the model: loading it
    must never read the server's files."""
    weights = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[width, 2])
    weights.data_location = TensorProto.EXTERNAL
    for key, value in [("location", "Cargo.toml"), ("offset", "0"), ("length", str(8 * width))]:
        entry = weights.external_data.add()
        entry.key, entry.value = key, value
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["X", "w"], ["z"]),
            helper.make_node("Softmax", ["z"], ["probabilities"], axis=1),
        ],
        "external",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, width])],
        [helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2])],
        initializer=[weights],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 15)])


def tree_model(
    width: int, modes: list[str], true_ids: list[int], leaves: list[int], class_ids: list[int]
) -> onnx.ModelProto:
    """One hand-written tree of three nodes, to be broken on purpose: `modes` and `true_ids`
    per node (false branches go to node 2), `leaves` the nodes carrying a weight for the class
    in `class_ids`."""
    node = helper.make_node(
        "TreeEnsembleClassifier",
        ["X"],
        ["label", "probabilities"],
        domain="ai.onnx.ml",
        classlabels_int64s=[0, 1],
        nodes_treeids=[0, 0, 0],
        nodes_nodeids=[0, 1, 2],
        nodes_featureids=[0, 1, 0],
        nodes_modes=modes,
        nodes_values=[0.5, 0.5, 0.0],
        nodes_truenodeids=true_ids,
        nodes_falsenodeids=[2, 2, 0],
        class_treeids=[0] * len(leaves),
        class_nodeids=leaves,
        class_ids=class_ids,
        class_weights=[0.3] * len(leaves),
        post_transform="NONE",
    )
    graph = helper.make_graph(
        [node],
        "broken_tree",
        [helper.make_tensor_value_info("X", TensorProto.FLOAT, [None, width])],
        [
            helper.make_tensor_value_info("label", TensorProto.INT64, [None]),
            helper.make_tensor_value_info("probabilities", TensorProto.FLOAT, [None, 2]),
        ],
    )
    return helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", 15), helper.make_opsetid("ai.onnx.ml", 1)]
    )


def class1(probabilities: np.ndarray) -> list[float]:
    return [float(p) for p in probabilities[:, 1]]


def with_missing(rng: np.random.Generator, x: np.ndarray) -> np.ndarray:
    """A copy with about 15 % of the change and asymmetry values missing (NaN)."""
    missing = rng.random(x.shape) < 0.15
    missing[:, [0, 3, 4, 5]] = False
    out = x.copy()
    out[missing] = np.nan
    return out


def json_rows(x: np.ndarray) -> list[list[float | None]]:
    """Rows for JSON, which has no NaN: a missing value is null."""
    return [[None if np.isnan(v) else float(v) for v in row] for row in x]


def onnxruntime_class1(path: pathlib.Path, x: np.ndarray) -> list[float] | None:
    """The class-1 probabilities onnxruntime computes, as an extra reference (optional)."""
    try:
        import onnxruntime
    except ImportError:
        return None
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    outputs = {o.name: v for o, v in zip(session.get_outputs(), session.run(None, {name: x}))}
    return class1(np.asarray(outputs["probabilities"]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=pathlib.Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    out: pathlib.Path = args.out
    out.mkdir(parents=True, exist_ok=True)

    rng = np.random.default_rng(SEED)
    x_train, y_train = synthetic(rng, N_TRAIN)
    x_ref, _ = synthetic(rng, N_REFERENCE)
    x_missing = with_missing(rng, x_ref)
    width = len(FEATURES)

    lr = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=1_000))
    # mhp-ml's own logistic regression: standardise, a missing value becomes the mean (0).
    lr_imputed = make_pipeline(
        StandardScaler(),
        SimpleImputer(strategy="constant", fill_value=0.0, keep_empty_features=True),
        LogisticRegression(C=1.0, max_iter=1_000),
    )
    gbc = GradientBoostingClassifier(
        n_estimators=40, max_depth=3, learning_rate=0.1, random_state=SEED % 2**31
    )
    # Trees behind a Scaler: the ensemble does not read the input, so tract evaluates it.
    scaled_gbc = make_pipeline(
        StandardScaler(),
        GradientBoostingClassifier(
            n_estimators=40, max_depth=3, learning_rate=0.1, random_state=SEED % 2**31
        ),
    )
    rf = RandomForestClassifier(n_estimators=12, max_depth=5, random_state=SEED % 2**31, n_jobs=1)
    lgbm = lightgbm.LGBMClassifier(
        n_estimators=40,
        num_leaves=8,
        learning_rate=0.1,
        random_state=SEED % 2**31,
        deterministic=True,
        n_jobs=1,
        verbose=-1,
    )
    xgb = xgboost.XGBClassifier(
        n_estimators=40,
        max_depth=3,
        learning_rate=0.1,
        tree_method="hist",
        random_state=SEED % 2**31,
        n_jobs=1,
    )
    models = {
        "logistic": lr,
        "logistic_imputed": lr_imputed,
        "sklearn_gbc": gbc,
        "scaled_gbc": scaled_gbc,
        "random_forest": rf,
        "lightgbm": lgbm,
        "xgboost": xgb,
    }
    for model in models.values():
        model.fit(x_train, y_train)

    exported = {
        "logistic": sklearn_onnx(lr, x_train),
        "logistic_imputed": sklearn_onnx(lr_imputed, x_train),
        "sklearn_gbc": sklearn_onnx(gbc, x_train),
        "scaled_gbc": sklearn_onnx(scaled_gbc, x_train),
        "random_forest": sklearn_onnx(rf, x_train),
        "lightgbm": lightgbm_onnx(lgbm, width),
        "xgboost": xgboost_onnx(xgb, width),
    }
    x_ref32 = x_ref.astype(np.float32)
    reference = {
        "seed": SEED,
        "features": FEATURES,
        "training_medians": [float(v) for v in np.median(x_train, axis=0)],
        "rows": x_ref.tolist(),
        "library": {},
        "onnxruntime": {},
        # Rows with missing values (null), for the models whose library accepts them.
        "rows_missing": json_rows(x_missing),
        "library_missing": {},
    }
    for name, proto in exported.items():
        path = out / f"{name}.onnx"
        save(proto, path)
        reference["library"][name] = class1(models[name].predict_proba(x_ref))
        ort = onnxruntime_class1(path, x_ref32)
        if ort is not None:
            reference["onnxruntime"][name] = ort
            gap = np.max(np.abs(np.array(ort) - np.array(reference["library"][name])))
            print(f"{name}: onnxruntime vs library, largest gap {gap:.2e}")
    for name in ["logistic_imputed", "lightgbm", "xgboost"]:
        expected = class1(models[name].predict_proba(x_missing))
        reference["library_missing"][name] = expected
        ort = onnxruntime_class1(out / f"{name}.onnx", x_missing.astype(np.float32))
        if ort is not None:
            gap = np.max(np.abs(np.array(ort) - np.array(expected)))
            print(f"{name}, rows with missing values: onnxruntime vs library, largest gap {gap:.2e}")

    scaler, logistic = lr.named_steps["standardscaler"], lr.named_steps["logisticregression"]
    raw = logistic.coef_[0] / scaler.scale_
    reference["logistic_raw"] = {
        "intercept": float(logistic.intercept_[0] - np.dot(raw, scaler.mean_)),
        "weights": [float(w) for w in raw],
    }

    # Files MHP must refuse.
    good = (out / "logistic.onnx").read_bytes()
    (out / "truncated.onnx").write_bytes(good[: len(good) // 3])
    narrow = make_pipeline(StandardScaler(), LogisticRegression()).fit(x_train[:, :5], y_train)
    save(sklearn_onnx(narrow, x_train[:, :5]), out / "wrong_width.onnx")
    save(sklearn_onnx(lr, x_train, zipmap=True), out / "zipmap.onnx")
    y_three = np.minimum(y_train + (x_train[:, 3] > 1.2), 2)
    three = LogisticRegression(max_iter=1_000).fit(x_train, y_three)
    save(sklearn_onnx(three, x_train), out / "three_classes.onnx")
    save(external_data_model(width), out / "external_data.onnx")
    branch, leaf = "BRANCH_LEQ", "LEAF"
    cycle = tree_model(width, [branch, branch, leaf], [1, 0, 0], leaves=[2], class_ids=[0])
    save(cycle, out / "tree_cycle.onnx")
    bad_class = tree_model(width, [branch, leaf, leaf], [1, 0, 0], leaves=[1, 2], class_ids=[7, 0])
    save(bad_class, out / "tree_bad_class.onnx")

    (out / "schema.json").write_text(json.dumps({"features": FEATURES}, indent=2) + "\n")
    (out / "reference.json").write_text(json.dumps(reference) + "\n")
    total = sum(p.stat().st_size for p in out.iterdir())
    print(f"wrote {len(list(out.iterdir()))} files, {total / 1024:.0f} KiB, into {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
