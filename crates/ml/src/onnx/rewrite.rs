//! The ONNX-ML operators tract lacks or gets wrong, made runnable before tract parses the graph.
//!
//! * `Scaler` and `Imputer` (scikit-learn's `StandardScaler`, `SimpleImputer`) and
//!   `LinearClassifier` (`LogisticRegression`) have no tract implementation; each becomes the
//!   few standard operators it stands for.
//! * `TreeEnsembleClassifier` is checked ([`super::trees`]); when it is the only reader of the
//!   input it is taken out of the graph and evaluated by mhp-ml, otherwise tract runs it, with
//!   a single base value widened to one per class as tract requires.

use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::{
    AttributeProto, GraphProto, NodeProto, TensorProto, TensorShapeProto, TypeProto,
    ValueInfoProto, type_proto,
};

use super::graph::{ELEM_FLOAT, ML_DOMAIN, shown};
use super::refuse;
use super::trees::{Layout, TreeEnsemble, Trees, layout};
use crate::MlError;

/// One change made to the graph, reported by [`super::OnnxModel::rewrites`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rewrite {
    /// `Scaler` became `Cast`, `Sub`, `Mul`.
    Scaler,
    /// `Imputer` became `Cast`, `IsNaN` (or `Equal`), `Where`.
    Imputer,
    /// `LinearClassifier` became `Cast`, `MatMul`, `Add` and `Sigmoid` (or `Softmax`).
    LinearClassifier,
    /// A two-class tree ensemble's single base value was widened to one per class (`[b, 0]`,
    /// the second column being the one tract discards in its binary layout).
    TreeBaseValues,
    /// The tree ensemble reading the input is evaluated by mhp-ml rather than tract (whose
    /// evaluation costs trees × leaves a row); tract runs what follows it, if anything.
    TreesInMhp,
}

impl std::fmt::Display for Rewrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Scaler => "Scaler as Cast, Sub, Mul",
            Self::Imputer => "Imputer as Cast, IsNaN or Equal, Where",
            Self::LinearClassifier => "LinearClassifier as Cast, MatMul, Add, Sigmoid or Softmax",
            Self::TreeBaseValues => "two-class tree ensemble: base value widened to both classes",
            Self::TreesInMhp => "tree ensemble on the input evaluated by mhp-ml, not tract",
        })
    }
}

/// What [`apply`] did.
#[derive(Debug)]
pub(super) struct Applied {
    pub(super) rewrites: Vec<Rewrite>,
    /// The tree ensemble taken out of the graph to be evaluated by mhp-ml; the graph's input is
    /// then its probabilities, `[N, 2]` float32.
    pub(super) trees: Option<TreeEnsemble>,
}

/// Rewrites or checks every ONNX-ML node of the (pruned) graph. `input` is the graph's input
/// and `width` its feature count, used to check the trees' feature indices.
///
/// A tree ensemble that is the only reader of the input, and whose label output nothing reads,
/// is taken out: mhp-ml evaluates it, and the graph's input becomes its probability output.
pub(super) fn apply(graph: &mut GraphProto, input: &str, width: usize) -> Result<Applied, MlError> {
    let mut done = Vec::new();
    let mut lifted = None;
    let mut nodes = Vec::with_capacity(graph.node.len());
    let mut initializers = Vec::new();
    let readers = graph
        .node
        .iter()
        .filter(|n| n.input.iter().any(|i| i == input))
        .count();
    let read: std::collections::HashSet<String> = graph
        .node
        .iter()
        .flat_map(|n| n.input.iter().cloned())
        .chain(graph.output.iter().map(|o| o.name.clone()))
        .collect();
    for (index, mut node) in std::mem::take(&mut graph.node).into_iter().enumerate() {
        if node.domain != ML_DOMAIN {
            nodes.push(node);
            continue;
        }
        let mut out = Emitter {
            prefix: format!("mhp.rewrite{index}"),
            nodes: &mut nodes,
            initializers: &mut initializers,
        };
        match node.op_type.as_str() {
            "Scaler" => {
                scaler(&node, &mut out)?;
                done.push(Rewrite::Scaler);
            }
            "Imputer" => {
                imputer(&node, &mut out)?;
                done.push(Rewrite::Imputer);
            }
            "LinearClassifier" => {
                linear_classifier(&node, &mut out)?;
                done.push(Rewrite::LinearClassifier);
            }
            "TreeEnsembleClassifier" => {
                let direct = node.input.first().is_some_and(|i| i == input);
                let layout = tree_classifier(&node, direct.then_some(width))?;
                let label_read = node.output.first().is_some_and(|l| read.contains(l));
                let probabilities = node.output.get(1).filter(|p| !p.is_empty());
                match probabilities {
                    Some(name) if direct && readers == 1 && !label_read => {
                        lifted = Some((TreeEnsemble::build(&node, layout)?, name.clone()));
                        done.push(Rewrite::TreesInMhp);
                    }
                    _ => {
                        if widen_base_value(&mut node, layout) {
                            done.push(Rewrite::TreeBaseValues);
                        }
                        nodes.push(node);
                    }
                }
            }
            other => {
                return Err(refuse(format!(
                    "operator ai.onnx.ml.{} is not supported",
                    shown(other)
                )));
            }
        }
    }
    graph.node = nodes;
    graph.initializer.extend(initializers);
    let trees = match lifted {
        Some((trees, probabilities)) => {
            graph.input.retain(|i| i.name != input);
            graph.input.push(probability_input(probabilities));
            Some(trees)
        }
        None => None,
    };
    Ok(Applied {
        rewrites: done,
        trees,
    })
}

/// The graph input that replaces a lifted tree ensemble: `[N, 2]` float32.
fn probability_input(name: String) -> ValueInfoProto {
    let dim = |value| Dimension {
        value: Some(value),
        ..Dimension::default()
    };
    let tensor = type_proto::Tensor {
        elem_type: ELEM_FLOAT,
        shape: Some(TensorShapeProto {
            dim: vec![
                dim(dimension::Value::DimParam("N".into())),
                dim(dimension::Value::DimValue(2)),
            ],
        }),
    };
    ValueInfoProto {
        name,
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(tensor)),
            ..TypeProto::default()
        }),
        ..ValueInfoProto::default()
    }
}

/// Appends standard nodes and float initializers with names no export uses.
struct Emitter<'a> {
    prefix: String,
    nodes: &'a mut Vec<NodeProto>,
    initializers: &'a mut Vec<TensorProto>,
}

impl Emitter<'_> {
    fn name(&self, what: &str) -> String {
        format!("{}.{what}", self.prefix)
    }

    /// A float32 constant of shape `dims`.
    fn constant(&mut self, what: &str, dims: &[usize], values: Vec<f32>) -> String {
        let name = self.name(what);
        self.initializers.push(TensorProto {
            name: name.clone(),
            dims: dims.iter().map(|&d| d as i64).collect(),
            data_type: 1,
            float_data: values,
            ..TensorProto::default()
        });
        name
    }

    /// A node of the default domain; `output` is given for the last node of a rewrite (the
    /// replaced node's output), or named after `op`.
    fn node(
        &mut self,
        op: &str,
        inputs: &[&str],
        output: Option<&str>,
        attributes: Vec<AttributeProto>,
    ) -> String {
        let name = self.name(&op.to_ascii_lowercase());
        let output = output.map_or_else(|| name.clone(), str::to_owned);
        self.nodes.push(NodeProto {
            name,
            op_type: op.to_owned(),
            input: inputs.iter().map(|&i| i.to_owned()).collect(),
            output: vec![output.clone()],
            attribute: attributes,
            ..NodeProto::default()
        });
        output
    }

    /// `Cast` to float32, since the ONNX-ML operators compute in float32 whatever their input.
    fn cast_float(&mut self, input: &str) -> String {
        self.node("Cast", &[input], None, vec![int_attribute("to", 1)])
    }
}

/// `Y = (X − offset) · scale`, offset and scale of length 1 or the feature count.
fn scaler(node: &NodeProto, out: &mut Emitter<'_>) -> Result<(), MlError> {
    let (input, output) = single_io(node, "Scaler")?;
    let offset = floats(node, "offset");
    let scale = floats(node, "scale");
    if offset.is_empty() || scale.is_empty() {
        return Err(refuse("a Scaler lacks its offset or scale"));
    }
    let x = out.cast_float(input);
    let offset = out.constant("offset", &[offset.len()], offset.to_vec());
    let scale = out.constant("scale", &[scale.len()], scale.to_vec());
    let centred = out.node("Sub", &[&x, &offset], None, vec![]);
    out.node("Mul", &[&centred, &scale], Some(output), vec![]);
    Ok(())
}

/// `Y = X` with the replaced value (NaN, or a number) swapped for the imputed one.
fn imputer(node: &NodeProto, out: &mut Emitter<'_>) -> Result<(), MlError> {
    let (input, output) = single_io(node, "Imputer")?;
    if attribute(node, "imputed_value_int64s").is_some_and(|a| !a.ints.is_empty()) {
        return Err(refuse("an Imputer of integers is not supported"));
    }
    let imputed = floats(node, "imputed_value_floats");
    if imputed.is_empty() {
        return Err(refuse("an Imputer lacks its imputed values"));
    }
    let replaced = attribute(node, "replaced_value_float").map_or(0.0, |a| a.f);
    let x = out.cast_float(input);
    let imputed = out.constant("imputed", &[imputed.len()], imputed.to_vec());
    let missing = if replaced.is_nan() {
        out.node("IsNaN", &[&x], None, vec![])
    } else {
        let replaced = out.constant("replaced", &[1], vec![replaced]);
        out.node("Equal", &[&x, &replaced], None, vec![])
    };
    out.node("Where", &[&missing, &imputed, &x], Some(output), vec![]);
    Ok(())
}

/// Two classes, one row of coefficients per class: `Z = post(X · Wᵀ + b)` with `post` the
/// logistic function per column or the softmax. Only the scores output is rewritten; the label
/// output must be unused (the graph was pruned to the probabilities).
fn linear_classifier(node: &NodeProto, out: &mut Emitter<'_>) -> Result<(), MlError> {
    let [input] = node.input.as_slice() else {
        return Err(refuse("a LinearClassifier must have one input"));
    };
    let Some(scores) = node.output.get(1).filter(|o| !o.is_empty()) else {
        return Err(refuse("a LinearClassifier's scores output is missing"));
    };
    let classes = class_count(node);
    if classes != 2 {
        return Err(refuse(format!(
            "a LinearClassifier has {classes} classes; MHP's risk models are two-class"
        )));
    }
    let coefficients = floats(node, "coefficients");
    let intercepts = floats(node, "intercepts");
    let width = coefficients.len() / 2;
    if intercepts.len() != 2 || width == 0 || 2 * width != coefficients.len() {
        return Err(refuse(
            "a LinearClassifier must have one row of coefficients and one intercept per class \
             (the one-score layout is not supported)",
        ));
    }
    let post = string(node, "post_transform").unwrap_or("NONE");
    let activation = match post {
        "LOGISTIC" => "Sigmoid",
        "SOFTMAX" => "Softmax",
        _ => {
            return Err(refuse(format!(
                "a LinearClassifier with post_transform {} does not output probabilities",
                shown(post)
            )));
        }
    };
    // Coefficients are row-major [class][feature]; MatMul wants [feature][class].
    let mut transposed = Vec::with_capacity(coefficients.len());
    for j in 0..width {
        transposed.push(coefficients[j]);
        transposed.push(coefficients[width + j]);
    }
    let x = out.cast_float(input);
    let weights = out.constant("weights", &[width, 2], transposed);
    let intercepts = out.constant("intercepts", &[2], intercepts.to_vec());
    let product = out.node("MatMul", &[&x, &weights], None, vec![]);
    let linear = out.node("Add", &[&product, &intercepts], None, vec![]);
    let attributes = if activation == "Softmax" {
        vec![int_attribute("axis", 1)]
    } else {
        vec![]
    };
    out.node(activation, &[&linear], Some(scores), attributes);
    Ok(())
}

/// Checks a tree ensemble's structure and two-class layout. `width` is the feature count when
/// the node reads the graph's input directly.
fn tree_classifier(node: &NodeProto, width: Option<usize>) -> Result<Layout, MlError> {
    for name in [
        "nodes_values_as_tensor",
        "class_weights_as_tensor",
        "base_values_as_tensor",
    ] {
        if attribute(node, name).is_some() {
            return Err(refuse(
                "a tree ensemble stores its values in double precision (*_as_tensor), which is \
                 not supported; export with float thresholds",
            ));
        }
    }
    let classes = class_count(node);
    if classes != 2 {
        return Err(refuse(format!(
            "a tree ensemble has {classes} classes; MHP's risk models are two-class"
        )));
    }
    Trees::read(node)?.check(width)?;
    layout(node, string(node, "post_transform").unwrap_or("NONE"))
}

/// tract wants one base value per class; a one-column ensemble's single base value becomes
/// `[b, 0]` (tract's binary layout discards the second column). Returns whether it changed.
fn widen_base_value(node: &mut NodeProto, layout: Layout) -> bool {
    match layout {
        Layout::OneColumn { base, .. } if floats(node, "base_values").len() == 1 => {
            set_floats(node, "base_values", vec![base, 0.0]);
            true
        }
        _ => false,
    }
}

fn single_io<'a>(node: &'a NodeProto, op: &str) -> Result<(&'a str, &'a str), MlError> {
    match (node.input.as_slice(), node.output.as_slice()) {
        ([input], [output]) => Ok((input, output)),
        _ => Err(refuse(format!("a {op} must have one input and one output"))),
    }
}

pub(super) fn class_count(node: &NodeProto) -> usize {
    let ints = attribute(node, "classlabels_ints")
        .or_else(|| attribute(node, "classlabels_int64s"))
        .map_or(0, |a| a.ints.len());
    let strings = attribute(node, "classlabels_strings").map_or(0, |a| a.strings.len());
    ints.max(strings)
}

pub(super) fn attribute<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

pub(super) fn floats<'a>(node: &'a NodeProto, name: &str) -> &'a [f32] {
    attribute(node, name).map_or(&[], |a| a.floats.as_slice())
}

pub(super) fn ints<'a>(node: &'a NodeProto, name: &str) -> &'a [i64] {
    attribute(node, name).map_or(&[], |a| a.ints.as_slice())
}

pub(super) fn string<'a>(node: &'a NodeProto, name: &str) -> Option<&'a str> {
    attribute(node, name).and_then(|a| std::str::from_utf8(&a.s).ok())
}

fn set_floats(node: &mut NodeProto, name: &str, values: Vec<f32>) {
    node.attribute.retain(|a| a.name != name);
    node.attribute.push(AttributeProto {
        name: name.to_owned(),
        r#type: 6,
        floats: values,
        ..AttributeProto::default()
    });
}

fn int_attribute(name: &str, value: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_owned(),
        r#type: 2,
        i: value,
        ..AttributeProto::default()
    }
}
