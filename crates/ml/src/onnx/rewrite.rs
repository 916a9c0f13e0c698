//! The ONNX-ML operators tract lacks or gets wrong, made runnable before tract parses the graph.
//!
//! * `Scaler` and `Imputer` (scikit-learn's `StandardScaler`, `SimpleImputer`) and
//!   `LinearClassifier` (`LogisticRegression`) have no tract implementation; each becomes the
//!   few standard operators it stands for.
//! * `TreeEnsembleClassifier` runs in tract, but tract indexes its nodes without bounds checks
//!   and walks trees without a step limit, so the structure is checked first (a malformed file
//!   must not read out of bounds or loop forever). A two-class ensemble that scores one column
//!   (scikit-learn's gradient boosting, LightGBM, XGBoost, random forests) is what tract's
//!   "binary result layout" expects; the one base value of scikit-learn's and XGBoost's exports
//!   is widened to one per class, which tract requires. The label output, which tract gets
//!   wrong for these layouts, is never read.

use std::collections::HashMap;

use tract_onnx::pb::{AttributeProto, GraphProto, NodeProto, TensorProto};

use super::graph::{ML_DOMAIN, shown};
use super::refuse;
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
}

impl std::fmt::Display for Rewrite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Scaler => "Scaler as Cast, Sub, Mul",
            Self::Imputer => "Imputer as Cast, IsNaN or Equal, Where",
            Self::LinearClassifier => "LinearClassifier as Cast, MatMul, Add, Sigmoid or Softmax",
            Self::TreeBaseValues => "two-class tree ensemble: base value widened to both classes",
        })
    }
}

/// Rewrites or checks every ONNX-ML node of the (pruned) graph. `input` is the graph's input
/// and `width` its feature count, used to check the trees' feature indices.
pub(super) fn apply(
    graph: &mut GraphProto,
    input: &str,
    width: usize,
) -> Result<Vec<Rewrite>, MlError> {
    let mut done = Vec::new();
    let mut nodes = Vec::with_capacity(graph.node.len());
    let mut initializers = Vec::new();
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
                if tree_classifier(&mut node, direct.then_some(width))? {
                    done.push(Rewrite::TreeBaseValues);
                }
                nodes.push(node);
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
    Ok(done)
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

/// Checks a tree ensemble's structure and two-class layout; widens a single base value to
/// both classes. Returns whether the node was changed. `width` is the feature count when the
/// node reads the graph's input directly.
fn tree_classifier(node: &mut NodeProto, width: Option<usize>) -> Result<bool, MlError> {
    for name in [
        "nodes_values_as_tensor",
        "class_weights_as_tensor",
        "base_values_as_tensor",
    ] {
        if attribute(node, name).is_some() {
            return Err(refuse(
                "a tree ensemble stores its values in double precision (*_as_tensor), which the \
                 runtime does not read; export with float thresholds",
            ));
        }
    }
    let classes = class_count(node);
    if classes != 2 {
        return Err(refuse(format!(
            "a tree ensemble has {classes} classes; MHP's risk models are two-class"
        )));
    }
    let trees = Trees::read(node)?;
    trees.check(width)?;

    let class_ids = ints(node, "class_ids");
    let one_column = class_ids.iter().all(|&c| c == 0);
    let both_columns = class_ids.contains(&0) && class_ids.contains(&1);
    let post = string(node, "post_transform").unwrap_or("NONE").to_owned();
    let base = floats(node, "base_values").to_vec();
    match (one_column, both_columns) {
        (true, _) => {
            if post != "LOGISTIC" && post != "NONE" {
                return Err(refuse(format!(
                    "a two-class tree ensemble scoring one column with post_transform {} is not \
                     supported",
                    shown(&post)
                )));
            }
            match base.len() {
                0 => Ok(false),
                1 => {
                    set_floats(node, "base_values", vec![base[0], 0.0]);
                    Ok(true)
                }
                _ => Err(refuse(
                    "a two-class tree ensemble scoring one column has several base values",
                )),
            }
        }
        (false, true) => {
            if !matches!(post.as_str(), "LOGISTIC" | "SOFTMAX" | "NONE") {
                return Err(refuse(format!(
                    "a tree ensemble with post_transform {} is not supported",
                    shown(&post)
                )));
            }
            if !(base.is_empty() || base.len() == 2) {
                return Err(refuse("a two-class tree ensemble needs 0 or 2 base values"));
            }
            Ok(false)
        }
        (false, false) => Err(refuse(
            "a two-class tree ensemble scores only the second class; that layout is not supported",
        )),
    }
}

/// The node and leaf arrays of a tree ensemble.
struct Trees<'a> {
    tree_ids: &'a [i64],
    node_ids: &'a [i64],
    feature_ids: &'a [i64],
    modes: Vec<&'a [u8]>,
    true_ids: &'a [i64],
    false_ids: &'a [i64],
    value_count: usize,
    leaf_tree_ids: &'a [i64],
    leaf_node_ids: &'a [i64],
    leaf_class_ids: &'a [i64],
    weight_count: usize,
}

impl<'a> Trees<'a> {
    fn read(node: &'a NodeProto) -> Result<Self, MlError> {
        Ok(Self {
            tree_ids: ints(node, "nodes_treeids"),
            node_ids: ints(node, "nodes_nodeids"),
            feature_ids: ints(node, "nodes_featureids"),
            modes: attribute(node, "nodes_modes")
                .map(|a| a.strings.iter().map(Vec::as_slice).collect())
                .unwrap_or_default(),
            true_ids: ints(node, "nodes_truenodeids"),
            false_ids: ints(node, "nodes_falsenodeids"),
            value_count: floats(node, "nodes_values").len(),
            leaf_tree_ids: ints(node, "class_treeids"),
            leaf_node_ids: ints(node, "class_nodeids"),
            leaf_class_ids: ints(node, "class_ids"),
            weight_count: floats(node, "class_weights").len(),
        })
    }

    /// What tract relies on without checking: arrays of one length; tree ids from 0, sorted,
    /// increasing by at most 1; in each tree the node ids exactly `0..k`, children inside the
    /// tree, and every node reached from node 0 at most once (no cycle, no sharing); leaf
    /// entries on leaves of existing trees, sorted by tree like the nodes, with class 0 or 1.
    fn check(&self, width: Option<usize>) -> Result<(), MlError> {
        let n = self.tree_ids.len();
        if n == 0 {
            return Err(refuse("a tree ensemble has no nodes"));
        }
        let lengths = [
            self.node_ids.len(),
            self.feature_ids.len(),
            self.modes.len(),
            self.true_ids.len(),
            self.false_ids.len(),
            self.value_count,
        ];
        if lengths.iter().any(|&l| l != n) {
            return Err(refuse("a tree ensemble's node arrays differ in length"));
        }
        let m = self.leaf_tree_ids.len();
        if m == 0 || self.leaf_node_ids.len() != m || self.leaf_class_ids.len() != m {
            return Err(refuse(
                "a tree ensemble's leaf arrays are empty or differ in length",
            ));
        }
        if self.weight_count != m {
            return Err(refuse("a tree ensemble's leaf arrays differ in length"));
        }
        check_tree_ids(self.tree_ids, "node")?;
        check_tree_ids(self.leaf_tree_ids, "leaf")?;
        let n_trees = self.tree_ids[n - 1] + 1;
        if self.leaf_tree_ids[m - 1] + 1 != n_trees {
            return Err(refuse(
                "a tree ensemble's leaves and nodes disagree on the number of trees",
            ));
        }

        // Per tree: for node id `k`, its position in the arrays and whether it is a leaf.
        let mut start = 0;
        let mut leaves: HashMap<(i64, i64), bool> = HashMap::new();
        while start < n {
            let tree = self.tree_ids[start];
            let end = start
                + self.tree_ids[start..]
                    .iter()
                    .take_while(|&&t| t == tree)
                    .count();
            let positions = self.positions(tree, start..end)?;
            for &p in &positions {
                let is_leaf = self.check_node(tree, p, positions.len(), width)?;
                leaves.insert((tree, self.node_ids[p]), is_leaf);
            }
            self.check_walk(tree, &positions)?;
            start = end;
        }

        for i in 0..m {
            let key = (self.leaf_tree_ids[i], self.leaf_node_ids[i]);
            if leaves.get(&key) != Some(&true) {
                return Err(refuse(format!(
                    "leaf entry {i} of a tree ensemble does not point to a leaf"
                )));
            }
            if !(0..2).contains(&self.leaf_class_ids[i]) {
                return Err(refuse(format!(
                    "leaf entry {i} of a tree ensemble names a class outside the two"
                )));
            }
        }
        Ok(())
    }

    /// The array positions of one tree's nodes, indexed by node id, which must be `0..k`.
    fn positions(&self, tree: i64, range: std::ops::Range<usize>) -> Result<Vec<usize>, MlError> {
        let k = range.len();
        let mut positions = vec![usize::MAX; k];
        for p in range {
            let id = self.node_ids[p];
            let slot = usize::try_from(id)
                .ok()
                .and_then(|id| positions.get_mut(id))
                .filter(|slot| **slot == usize::MAX);
            match slot {
                Some(slot) => *slot = p,
                None => {
                    return Err(refuse(format!(
                        "tree {tree}: node ids must be 0..{k}, each once"
                    )));
                }
            }
        }
        Ok(positions)
    }

    /// A node's mode, children and feature; returns whether it is a leaf.
    fn check_node(
        &self,
        tree: i64,
        p: usize,
        k: usize,
        width: Option<usize>,
    ) -> Result<bool, MlError> {
        const BRANCHES: [&[u8]; 6] = [
            b"BRANCH_LEQ",
            b"BRANCH_LT",
            b"BRANCH_GTE",
            b"BRANCH_GT",
            b"BRANCH_EQ",
            b"BRANCH_NEQ",
        ];
        let mode = self.modes[p];
        if mode == b"LEAF" {
            return Ok(true);
        }
        if !BRANCHES.contains(&mode) {
            return Err(refuse(format!("tree {tree}: a node has an unknown mode")));
        }
        let inside = |id: i64| usize::try_from(id).is_ok_and(|id| id < k);
        if !inside(self.true_ids[p]) || !inside(self.false_ids[p]) {
            return Err(refuse(format!(
                "tree {tree}: a branch points outside its tree"
            )));
        }
        let feature = usize::try_from(self.feature_ids[p]).ok();
        let known = match (feature, width) {
            (None, _) => false,
            (Some(f), Some(w)) => f < w,
            (Some(_), None) => true,
        };
        if !known {
            return Err(refuse(format!(
                "tree {tree}: a branch reads a feature the input does not have"
            )));
        }
        Ok(false)
    }

    /// From node 0, every node is reached at most once (a tree, not a cycle or a graph).
    fn check_walk(&self, tree: i64, positions: &[usize]) -> Result<(), MlError> {
        let mut seen = vec![false; positions.len()];
        let mut stack = vec![0_usize];
        while let Some(id) = stack.pop() {
            if std::mem::replace(&mut seen[id], true) {
                return Err(refuse(format!(
                    "tree {tree} is not a tree: a node is reached twice"
                )));
            }
            let p = positions[id];
            if self.modes[p] != b"LEAF" {
                // Bounds were checked by `check_node`.
                stack.push(self.true_ids[p] as usize);
                stack.push(self.false_ids[p] as usize);
            }
        }
        Ok(())
    }
}

/// Tree ids start at 0 and never decrease nor skip (tract's layout assumes it).
fn check_tree_ids(ids: &[i64], what: &str) -> Result<(), MlError> {
    let ordered =
        ids.first() == Some(&0) && ids.windows(2).all(|w| w[1] == w[0] || w[1] == w[0] + 1);
    if ordered {
        Ok(())
    } else {
        Err(refuse(format!(
            "a tree ensemble's {what} entries must be sorted by tree id, from 0 without gaps"
        )))
    }
}

fn single_io<'a>(node: &'a NodeProto, op: &str) -> Result<(&'a str, &'a str), MlError> {
    match (node.input.as_slice(), node.output.as_slice()) {
        ([input], [output]) => Ok((input, output)),
        _ => Err(refuse(format!("a {op} must have one input and one output"))),
    }
}

fn class_count(node: &NodeProto) -> usize {
    let ints = attribute(node, "classlabels_ints")
        .or_else(|| attribute(node, "classlabels_int64s"))
        .map_or(0, |a| a.ints.len());
    let strings = attribute(node, "classlabels_strings").map_or(0, |a| a.strings.len());
    ints.max(strings)
}

fn attribute<'a>(node: &'a NodeProto, name: &str) -> Option<&'a AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

fn floats<'a>(node: &'a NodeProto, name: &str) -> &'a [f32] {
    attribute(node, name).map_or(&[], |a| a.floats.as_slice())
}

fn ints<'a>(node: &'a NodeProto, name: &str) -> &'a [i64] {
    attribute(node, name).map_or(&[], |a| a.ints.as_slice())
}

fn string<'a>(node: &'a NodeProto, name: &str) -> Option<&'a str> {
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
