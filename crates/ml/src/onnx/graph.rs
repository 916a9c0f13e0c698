//! Checks on an ONNX graph before tract sees it: the one input and its width, the probability
//! output, no data outside the file, no subgraphs, operators from a known list; then the graph
//! is cut down to what the probability output needs.
//!
//! Reasons name positions, counts and operator types (validated identifiers), never names or
//! values taken from the file.

use std::collections::HashSet;

use tract_onnx::pb::tensor_shape_proto::dimension::Value as Dim;
use tract_onnx::pb::type_proto::Value as TypeValue;
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, TensorProto, ValueInfoProto};

use super::refuse;
use crate::MlError;

/// ONNX element type codes MHP feeds.
pub(super) const ELEM_FLOAT: i32 = 1;
pub(super) const ELEM_DOUBLE: i32 = 11;

/// The domain of the ONNX-ML operators (trees, linear classifiers, scalers).
pub(super) const ML_DOMAIN: &str = "ai.onnx.ml";

/// Operators of the default domain that exports of tabular models use and tract runs. The list
/// keeps the surface small on purpose: a model needing another operator is refused by name, and
/// the list can grow when a real export needs it.
const DEFAULT_DOMAIN_OPS: &[&str] = &[
    "Abs",
    "Add",
    "ArgMax",
    "Cast",
    "Clip",
    "Concat",
    "Constant",
    "Div",
    "Equal",
    "Exp",
    "Flatten",
    "Gemm",
    "Greater",
    "Identity",
    "IsNaN",
    "Less",
    "Log",
    "MatMul",
    "Max",
    "Min",
    "Mul",
    "Neg",
    "Not",
    "ReduceMax",
    "ReduceMean",
    "ReduceSum",
    "Relu",
    "Reshape",
    "Sigmoid",
    "Softmax",
    "Sqrt",
    "Squeeze",
    "Sub",
    "Sum",
    "Tanh",
    "Transpose",
    "Unsqueeze",
    "Where",
];

/// What the checks found about the input.
#[derive(Debug)]
pub(super) struct Interface {
    /// ONNX element type code ([`ELEM_FLOAT`] or [`ELEM_DOUBLE`]).
    pub(super) input_elem: i32,
    pub(super) input_name: String,
    /// Whether every path from the input meets a node that decides what a missing value
    /// means (see [`handles_missing`]).
    pub(super) handles_missing: bool,
}

/// Checks the model against the schema width and cuts its graph down to the probability
/// output, which becomes the graph's only output.
pub(super) fn check_and_prune(model: &mut ModelProto, width: usize) -> Result<Interface, MlError> {
    let Some(graph) = model.graph.as_mut() else {
        return Err(refuse("the file holds no graph"));
    };
    check_self_contained(graph)?;
    let mut interface = check_input(graph, width)?;
    let output = probability_output(graph)?;
    check_single_assignment(graph)?;
    prune(graph, &output, &interface.input_name)?;
    check_operators(graph)?;
    interface.handles_missing = handles_missing(graph, &interface.input_name);
    Ok(interface)
}

/// Whether a missing value (`NaN`) gets a meaning from the model rather than an accident of the
/// runtime: every path from the input, through operators that carry `NaN` along unchanged
/// (`Identity`, `Cast`, `Scaler`, elementwise arithmetic), must end in a `TreeEnsembleClassifier`
/// (which sends it along the branch the export names) or an `Imputer`. Anything else sees the
/// `NaN` itself, and tract's float kernels do not all propagate it (its sigmoid turns `NaN` into
/// a probability near 0), so such models are refused rows with missing values.
fn handles_missing(graph: &GraphProto, input: &str) -> bool {
    let mut tainted: HashSet<&str> = HashSet::from([input]);
    for node in &graph.node {
        if !node.input.iter().any(|i| tainted.contains(i.as_str())) {
            continue;
        }
        let ml = node.domain == ML_DOMAIN;
        match node.op_type.as_str() {
            "TreeEnsembleClassifier" | "Imputer" if ml => {}
            "Scaler" if ml => tainted.extend(node.output.iter().map(String::as_str)),
            "Identity" | "Cast" | "Add" | "Sub" | "Mul" | "Div" | "Neg" if !ml => {
                tainted.extend(node.output.iter().map(String::as_str));
            }
            _ => return false,
        }
    }
    !graph
        .output
        .iter()
        .any(|o| tainted.contains(o.name.as_str()))
}

/// An identifier from the file, shown only when it looks like one (an operator type such as
/// `ZipMap`); anything else is replaced, so a reason never carries arbitrary file content.
pub(super) fn shown(name: &str) -> &str {
    let plain = !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-');
    if plain { name } else { "(unprintable name)" }
}

/// Refuses data stored outside the file (tract would read it from the server's disk), sparse
/// initializers and subgraphs (`If`, `Loop`, `Scan`).
fn check_self_contained(graph: &GraphProto) -> Result<(), MlError> {
    if graph.initializer.iter().any(is_external) {
        return Err(refuse(
            "a weight refers to data outside the file (external data); export a single \
             self-contained file",
        ));
    }
    if !graph.sparse_initializer.is_empty() {
        return Err(refuse("sparse initializers are not supported"));
    }
    for node in &graph.node {
        for attribute in &node.attribute {
            if attribute.g.is_some() || !attribute.graphs.is_empty() {
                return Err(refuse(
                    "the graph contains subgraphs (If, Loop, Scan), which are not supported",
                ));
            }
            if attribute.sparse_tensor.is_some() || !attribute.sparse_tensors.is_empty() {
                return Err(refuse("sparse tensor attributes are not supported"));
            }
            if attribute
                .t
                .iter()
                .chain(&attribute.tensors)
                .any(is_external)
            {
                return Err(refuse(
                    "a constant refers to data outside the file (external data); export a single \
                     self-contained file",
                ));
            }
        }
    }
    Ok(())
}

fn is_external(tensor: &TensorProto) -> bool {
    tensor.data_location == Some(1) || !tensor.external_data.is_empty()
}

/// Exactly one input (initializers listed as inputs aside), float or double, rank 2, with the
/// schema's width as its second dimension.
fn check_input(graph: &GraphProto, width: usize) -> Result<Interface, MlError> {
    let initialized: HashSet<&str> = graph.initializer.iter().map(|t| t.name.as_str()).collect();
    let inputs: Vec<&ValueInfoProto> = graph
        .input
        .iter()
        .filter(|i| !initialized.contains(i.name.as_str()))
        .collect();
    let [input] = inputs.as_slice() else {
        return Err(refuse(format!(
            "the model has {} inputs; MHP feeds exactly one matrix of features",
            inputs.len()
        )));
    };
    let (elem, dims) = tensor_type(input).ok_or_else(|| refuse("the input is not a tensor"))?;
    if elem != ELEM_FLOAT && elem != ELEM_DOUBLE {
        return Err(refuse(format!(
            "the input's element type (ONNX code {elem}) is not float32 or float64"
        )));
    }
    let Some(dims) = dims else {
        return Err(refuse(
            "the input has no declared shape; it must be [batch, features]",
        ));
    };
    if dims.len() != 2 {
        return Err(refuse(format!(
            "the input has rank {}; it must be [batch, features]",
            dims.len()
        )));
    }
    match dims[1] {
        Some(found) if found == width as i64 => {}
        Some(found) => {
            return Err(refuse(format!(
                "the model takes {found} features, the schema names {width}"
            )));
        }
        None => {
            return Err(refuse(
                "the input's feature dimension is not fixed; it must equal the schema's length",
            ));
        }
    }
    Ok(Interface {
        input_elem: elem,
        input_name: input.name.clone(),
        handles_missing: false,
    })
}

/// The element type and dimensions (`None` where symbolic) of a tensor-typed value; the
/// dimensions are `None` when no shape is declared.
type TensorType = (i32, Option<Vec<Option<i64>>>);

fn tensor_type(value: &ValueInfoProto) -> Option<TensorType> {
    let TypeValue::TensorType(tensor) = value.r#type.as_ref()?.value.as_ref()?;
    let dims = tensor.shape.as_ref().map(|shape| {
        shape
            .dim
            .iter()
            .map(|d| match d.value {
                Some(Dim::DimValue(v)) if v >= 0 => Some(v),
                _ => None,
            })
            .collect()
    });
    Some((tensor.elem_type, dims))
}

/// The name of the one float output of shape `[N, 2]`.
fn probability_output(graph: &GraphProto) -> Result<String, MlError> {
    let zipmap = graph
        .node
        .iter()
        .any(|n| n.op_type == "ZipMap" && n.domain == ML_DOMAIN);
    let mut candidates = Vec::new();
    let mut widest = None;
    for output in &graph.output {
        let Some((elem, Some(dims))) = tensor_type(output) else {
            continue;
        };
        if (elem != ELEM_FLOAT && elem != ELEM_DOUBLE) || dims.len() != 2 {
            continue;
        }
        match dims[1] {
            Some(2) => candidates.push(output.name.clone()),
            Some(k) if k > 2 => widest = Some(k),
            _ => {}
        }
    }
    match candidates.len() {
        1 => return Ok(candidates.remove(0)),
        0 => {}
        _ => {
            return candidates
                .into_iter()
                .find(|name| name == "probabilities")
                .ok_or_else(|| {
                    refuse("several outputs have shape [N, 2]; keep only the probabilities")
                });
        }
    }
    if zipmap {
        return Err(refuse(
            "the probabilities pass through ZipMap, which is not supported; export with zipmap=False \
             (skl2onnx: options={id(model): {'zipmap': False}}; onnxmltools: zipmap=False)",
        ));
    }
    if let Some(k) = widest {
        return Err(refuse(format!(
            "the model predicts {k} classes; MHP's risk models are two-class"
        )));
    }
    Err(refuse(
        "no output of shape [N, 2] with float probabilities; declare the probability \
         output's shape",
    ))
}

/// Every value is produced once: by one node, or as the input, or as an initializer.
fn check_single_assignment(graph: &GraphProto) -> Result<(), MlError> {
    let mut produced: HashSet<&str> = graph.input.iter().map(|i| i.name.as_str()).collect();
    for tensor in &graph.initializer {
        produced.insert(tensor.name.as_str());
    }
    for (index, node) in graph.node.iter().enumerate() {
        for output in node.output.iter().filter(|o| !o.is_empty()) {
            if !produced.insert(output.as_str()) {
                return Err(refuse(format!(
                    "node {index} writes a value that is already defined"
                )));
            }
        }
    }
    Ok(())
}

/// Keeps the nodes and initializers the output depends on (nodes are in topological order, as
/// ONNX requires), and makes the output the graph's only one.
fn prune(graph: &mut GraphProto, output: &str, input: &str) -> Result<(), MlError> {
    let mut needed: HashSet<String> = HashSet::from([output.to_owned()]);
    let mut keep = vec![false; graph.node.len()];
    for (index, node) in graph.node.iter().enumerate().rev() {
        if node.output.iter().any(|o| needed.contains(o)) {
            keep[index] = true;
            needed.extend(node.input.iter().filter(|i| !i.is_empty()).cloned());
        }
    }
    if !keep.iter().any(|&k| k) {
        return Err(refuse("the probability output is not computed by any node"));
    }
    if !needed.contains(input) {
        return Err(refuse("the probabilities do not depend on the input"));
    }
    let mut kept = keep.iter();
    graph.node.retain(|_| kept.next().copied().unwrap_or(false));
    graph.initializer.retain(|t| needed.contains(&t.name));
    graph.input.retain(|i| needed.contains(&i.name));
    graph.output.retain(|o| o.name == output);
    graph.output.truncate(1);
    // Optional type hints of intermediate values; tract infers them, and unknown element types
    // there are not worth a failure.
    graph.value_info.clear();
    Ok(())
}

/// Every remaining operator must be known: default-domain operators from the list, and the
/// ONNX-ML operators that [`super::rewrite`] handles.
fn check_operators(graph: &GraphProto) -> Result<(), MlError> {
    for node in &graph.node {
        check_operator(node)?;
    }
    Ok(())
}

fn check_operator(node: &NodeProto) -> Result<(), MlError> {
    let op = node.op_type.as_str();
    match node.domain.as_str() {
        "" | "ai.onnx" if DEFAULT_DOMAIN_OPS.contains(&op) => Ok(()),
        "" | "ai.onnx" => Err(refuse(format!(
            "operator {} is not among those MHP accepts",
            shown(op)
        ))),
        ML_DOMAIN => match op {
            "TreeEnsembleClassifier" | "LinearClassifier" | "Scaler" | "Imputer" => Ok(()),
            "TreeEnsemble" | "TreeEnsembleRegressor" => Err(refuse(format!(
                "operator ai.onnx.ml.{op} is not supported; export classifiers with the ai.onnx.ml \
                 opset at most 3 (TreeEnsembleClassifier)"
            ))),
            _ => Err(refuse(format!(
                "operator ai.onnx.ml.{} is not supported",
                shown(op)
            ))),
        },
        domain => Err(refuse(format!(
            "operators of domain {} are not supported",
            shown(domain)
        ))),
    }
}
