//! One regression tree of a boosted ensemble: its stored form, prediction, path attribution,
//! and growth from gradient/hessian histograms.

use serde::{Deserialize, Serialize};

use crate::MlError;
use crate::binning::{BinnedMatrix, MISSING_BIN, SLOTS};

/// A tree as a flat list of nodes in pre-order; node 0 is the root and every child comes
/// after its parent, which [`Tree::leaf_value`] relies on to refuse cycles.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Tree {
    nodes: Vec<Node>,
}

/// A node. `value` is the node's Newton step −G/(H+λ) times the learning rate: the leaf
/// value for a leaf, the expected value (for path attribution) for an inner node.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Node {
    value: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    split: Option<Split>,
}

/// Rows with `x <= threshold` go left, others right, missing values to the default side.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Split {
    feature: u32,
    threshold: f64,
    missing_left: bool,
    left: u32,
    right: u32,
}

/// Hyper-parameters of growing one tree (validated by the caller).
#[derive(Debug, Clone, Copy)]
pub(crate) struct GrowParams {
    pub(crate) max_depth: u32,
    pub(crate) min_samples_leaf: u32,
    pub(crate) l2: f64,
    pub(crate) learning_rate: f64,
}

impl Tree {
    /// The value of the leaf `row` falls into.
    pub(crate) fn leaf_value(&self, row: &[f64]) -> Result<f64, MlError> {
        self.walk(row, |_, _, _| {})
    }

    /// The root's value (the tree's expected contribution).
    pub(crate) fn root_value(&self) -> Result<f64, MlError> {
        self.nodes
            .first()
            .map(|n| n.value)
            .ok_or(MlError::MalformedModel("a tree has no nodes"))
    }

    /// Adds to `out[f]` the change of node value at each split on feature `f` along `row`'s
    /// path (Saabas); returns the leaf value. Root value plus the additions equal the leaf.
    pub(crate) fn attribute(&self, row: &[f64], out: &mut [f64]) -> Result<f64, MlError> {
        let mut bad_feature = false;
        let leaf = self.walk(row, |feature, parent, child| match out.get_mut(feature) {
            Some(slot) => *slot += child - parent,
            None => bad_feature = true,
        })?;
        if bad_feature {
            return Err(MlError::MalformedModel(
                "a split names a feature out of range",
            ));
        }
        Ok(leaf)
    }

    /// Follows `row` from the root to a leaf, calling `visit(feature, parent, child)` at every
    /// split taken, and returns the leaf value. Refuses out-of-range or backward links, so a
    /// corrupted artifact gives an error, never a panic or an endless loop.
    fn walk(&self, row: &[f64], mut visit: impl FnMut(usize, f64, f64)) -> Result<f64, MlError> {
        let mut index = 0usize;
        loop {
            let node = self.nodes.get(index).ok_or(MlError::MalformedModel(
                "a tree link points outside the tree",
            ))?;
            let Some(split) = &node.split else {
                return Ok(node.value);
            };
            let feature = split.feature as usize;
            let x = *row.get(feature).ok_or(MlError::MalformedModel(
                "a split names a feature out of range",
            ))?;
            let go_left = if x.is_nan() {
                split.missing_left
            } else {
                x <= split.threshold
            };
            let next = if go_left { split.left } else { split.right } as usize;
            if next <= index {
                return Err(MlError::MalformedModel("a tree link points backwards"));
            }
            let child = self.nodes.get(next).ok_or(MlError::MalformedModel(
                "a tree link points outside the tree",
            ))?;
            visit(feature, node.value, child.value);
            index = next;
        }
    }

    /// Checks what a deserialised tree must satisfy before use.
    pub(crate) fn check_shape(&self, n_features: usize) -> Result<(), MlError> {
        if self.nodes.is_empty() {
            return Err(MlError::MalformedModel("a tree has no nodes"));
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if !node.value.is_finite() {
                return Err(MlError::MalformedModel("a node value is not finite"));
            }
            let Some(s) = &node.split else { continue };
            let (left, right) = (s.left as usize, s.right as usize);
            if s.feature as usize >= n_features {
                return Err(MlError::MalformedModel(
                    "a split names a feature out of range",
                ));
            }
            if left <= i || right <= i || left >= self.nodes.len() || right >= self.nodes.len() {
                return Err(MlError::MalformedModel(
                    "a tree link points outside the tree",
                ));
            }
            if s.threshold.is_nan() {
                return Err(MlError::MalformedModel("a split threshold is NaN"));
            }
        }
        Ok(())
    }

    /// Number of nodes.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }
}

/// Gradient, hessian and row count of a set of rows.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Stats {
    grad: f64,
    hess: f64,
    count: u32,
}

impl Stats {
    fn add(self, other: Stats) -> Stats {
        Stats {
            grad: self.grad + other.grad,
            hess: self.hess + other.hess,
            count: self.count + other.count,
        }
    }

    fn sub(self, other: Stats) -> Stats {
        Stats {
            grad: self.grad - other.grad,
            hess: self.hess - other.hess,
            count: self.count.saturating_sub(other.count),
        }
    }

    /// G²/(H+λ): the loss reduction this set achieves with its own optimal value.
    fn score(self, l2: f64) -> f64 {
        self.grad * self.grad / (self.hess + l2)
    }

    /// The optimal value −G/(H+λ).
    fn weight(self, l2: f64) -> f64 {
        -self.grad / (self.hess + l2)
    }
}

/// The best split found for a node.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    feature: usize,
    bin: usize,
    missing_left: bool,
    gain: f64,
    left: Stats,
    right: Stats,
}

/// Splits gaining less than this are not worth a node (guards against rounding noise).
const MIN_GAIN: f64 = 1e-12;

/// Grows one tree on `rows` (indices into `bins`) for the given gradients and hessians.
pub(crate) fn grow(
    bins: &BinnedMatrix,
    grad: &[f64],
    hess: &[f64],
    rows: Vec<u32>,
    params: GrowParams,
) -> Tree {
    let mut grower = Grower {
        bins,
        grad,
        hess,
        params,
        nodes: Vec::new(),
    };
    let hist = grower.histogram(&rows);
    let totals = hist[..SLOTS]
        .iter()
        .fold(Stats::default(), |acc, s| acc.add(*s));
    grower.grow_node(rows, hist, totals, 0);
    Tree {
        nodes: grower.nodes,
    }
}

struct Grower<'a> {
    bins: &'a BinnedMatrix,
    grad: &'a [f64],
    hess: &'a [f64],
    params: GrowParams,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    /// Grows the subtree of `rows`, whose histogram and totals are given; returns its index.
    fn grow_node(
        &mut self,
        rows: Vec<u32>,
        mut hist: Vec<Stats>,
        totals: Stats,
        depth: u32,
    ) -> u32 {
        let index = self.nodes.len();
        self.nodes.push(Node {
            value: self.params.learning_rate * totals.weight(self.params.l2),
            split: None,
        });
        if depth >= self.params.max_depth || totals.count < 2 * self.params.min_samples_leaf.max(1)
        {
            return index as u32;
        }
        let Some(best) = self.best_split(&hist, totals) else {
            return index as u32;
        };

        let (left_rows, right_rows): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&r| {
            let b = self.bins.row(r as usize)[best.feature];
            if b == MISSING_BIN {
                best.missing_left
            } else {
                usize::from(b) <= best.bin
            }
        });
        drop(rows);

        // Build the smaller child's histogram; the larger one is the parent's minus it.
        let left_smaller = left_rows.len() <= right_rows.len();
        let small = self.histogram(if left_smaller {
            &left_rows
        } else {
            &right_rows
        });
        for (parent, s) in hist.iter_mut().zip(&small) {
            *parent = parent.sub(*s);
        }
        let (left_hist, right_hist) = if left_smaller {
            (small, hist)
        } else {
            (hist, small)
        };

        let left = self.grow_node(left_rows, left_hist, best.left, depth + 1);
        let right = self.grow_node(right_rows, right_hist, best.right, depth + 1);
        self.nodes[index].split = Some(Split {
            feature: best.feature as u32,
            threshold: self.bins.cuts[best.feature][best.bin],
            missing_left: best.missing_left,
            left,
            right,
        });
        index as u32
    }

    /// Per feature, per bin sums of gradient, hessian and count over `rows`.
    fn histogram(&self, rows: &[u32]) -> Vec<Stats> {
        let mut hist = vec![Stats::default(); self.bins.n_features * SLOTS];
        for &r in rows {
            let r = r as usize;
            let (g, h) = (self.grad[r], self.hess[r]);
            for (f, &b) in self.bins.row(r).iter().enumerate() {
                let slot = &mut hist[f * SLOTS + usize::from(b)];
                slot.grad += g;
                slot.hess += h;
                slot.count += 1;
            }
        }
        hist
    }

    /// The split with the largest gain ½[G_L²/(H_L+λ) + G_R²/(H_R+λ) − G²/(H+λ)] that leaves
    /// at least `min_samples_leaf` rows on each side. Missing values try both sides; when a
    /// node has none, they default to the side with more rows. Ties keep the first found
    /// (lowest feature, then lowest cut), so growth is deterministic.
    fn best_split(&self, hist: &[Stats], totals: Stats) -> Option<Candidate> {
        let l2 = self.params.l2;
        let min_leaf = self.params.min_samples_leaf.max(1);
        let parent_score = totals.score(l2);
        let mut best: Option<Candidate> = None;
        for (feature, cuts) in self.bins.cuts.iter().enumerate() {
            let h = &hist[feature * SLOTS..(feature + 1) * SLOTS];
            let missing = h[usize::from(MISSING_BIN)];
            let mut below = Stats::default();
            for (bin, slot) in h.iter().enumerate().take(cuts.len()) {
                below = below.add(*slot);
                let above = totals.sub(below).sub(missing);
                let options: &[bool] = if missing.count == 0 {
                    if below.count >= above.count {
                        &[true]
                    } else {
                        &[false]
                    }
                } else {
                    &[true, false]
                };
                for &missing_left in options {
                    let (left, right) = if missing_left {
                        (below.add(missing), above)
                    } else {
                        (below, above.add(missing))
                    };
                    if left.count < min_leaf || right.count < min_leaf {
                        continue;
                    }
                    let gain = 0.5 * (left.score(l2) + right.score(l2) - parent_score);
                    if gain > MIN_GAIN && best.is_none_or(|b| gain > b.gain) {
                        best = Some(Candidate {
                            feature,
                            bin,
                            missing_left,
                            gain,
                            left,
                            right,
                        });
                    }
                }
            }
        }
        best
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::Dataset;

    fn params(max_depth: u32) -> GrowParams {
        GrowParams {
            max_depth,
            min_samples_leaf: 1,
            l2: 0.0,
            learning_rate: 1.0,
        }
    }

    #[test]
    fn a_stump_finds_the_separating_cut_and_newton_values() {
        // Target +1 for x < 5 (gradient −1), −1 otherwise; hessian 1 everywhere.
        let rows: Vec<Vec<f64>> = (0..10).map(|i| vec![f64::from(i)]).collect();
        let data = Dataset::from_rows(vec!["x".into()], &rows, &[false; 10], &[0; 10]).unwrap();
        let bins = BinnedMatrix::build(&data, 16);
        let grad: Vec<f64> = (0..10).map(|i| if i < 5 { -1.0 } else { 1.0 }).collect();
        let hess = vec![1.0; 10];
        let tree = grow(&bins, &grad, &hess, (0..10).collect(), params(1));
        assert_eq!(tree.len(), 3);
        assert_eq!(tree.root_value().unwrap(), 0.0);
        assert_eq!(tree.leaf_value(&[4.0]).unwrap(), 1.0);
        assert_eq!(tree.leaf_value(&[4.5]).unwrap(), 1.0);
        assert_eq!(tree.leaf_value(&[4.6]).unwrap(), -1.0);
        // No missing values in training: missing goes to the larger side (a tie → left).
        assert_eq!(tree.leaf_value(&[f64::NAN]).unwrap(), 1.0);
        let mut contrib = [0.0];
        assert_eq!(tree.attribute(&[9.0], &mut contrib).unwrap(), -1.0);
        assert_eq!(contrib, [-1.0]);
    }

    #[test]
    fn missing_values_learn_their_side() {
        // Missing rows behave like the high rows: they should go right.
        let mut rows: Vec<Vec<f64>> = (0..8).map(|i| vec![f64::from(i)]).collect();
        rows.extend((0..4).map(|_| vec![f64::NAN]));
        let data = Dataset::from_rows(vec!["x".into()], &rows, &[false; 12], &[0; 12]).unwrap();
        let bins = BinnedMatrix::build(&data, 16);
        let grad: Vec<f64> = (0..12).map(|i| if i < 4 { -1.0 } else { 1.0 }).collect();
        let hess = vec![1.0; 12];
        let tree = grow(&bins, &grad, &hess, (0..12).collect(), params(1));
        assert_eq!(tree.leaf_value(&[f64::NAN]).unwrap(), -1.0);
        assert_eq!(tree.leaf_value(&[0.0]).unwrap(), 1.0);
    }

    #[test]
    fn min_samples_leaf_and_depth_limit_growth() {
        let rows: Vec<Vec<f64>> = (0..10).map(|i| vec![f64::from(i)]).collect();
        let data = Dataset::from_rows(vec!["x".into()], &rows, &[false; 10], &[0; 10]).unwrap();
        let bins = BinnedMatrix::build(&data, 16);
        // Only row 0 differs; a leaf of one row is needed to isolate it.
        let grad: Vec<f64> = (0..10).map(|i| if i == 0 { -5.0 } else { 0.5 }).collect();
        let hess = vec![1.0; 10];
        let p = GrowParams {
            min_samples_leaf: 3,
            ..params(3)
        };
        let tree = grow(&bins, &grad, &hess, (0..10).collect(), p);
        for node in &tree.nodes {
            assert!(node.split.as_ref().is_none_or(|s| s.threshold >= 2.5));
        }
        let tree = grow(&bins, &grad, &hess, (0..10).collect(), params(0));
        assert_eq!(tree.len(), 1);
    }

    #[test]
    fn corrupted_trees_are_refused_not_followed() {
        let looping = Tree {
            nodes: vec![Node {
                value: 0.0,
                split: Some(Split {
                    feature: 0,
                    threshold: 0.0,
                    missing_left: true,
                    left: 0,
                    right: 0,
                }),
            }],
        };
        assert!(matches!(
            looping.leaf_value(&[1.0]),
            Err(MlError::MalformedModel(_))
        ));
        assert!(looping.check_shape(1).is_err());
        let empty = Tree { nodes: vec![] };
        assert!(empty.leaf_value(&[1.0]).is_err());
        assert!(empty.check_shape(1).is_err());
    }
}
