//! Tabular training data: named features, binary labels, a time per row and group tags.

use std::collections::BTreeMap;

use crate::MlError;

/// Rows of `f64` features (missing = `NaN`) with a binary label ("injured within the horizon"),
/// a time (e.g. week or day index) and group tags (e.g. `sex = F`, `sport = soccer`).
///
/// Built row by row with [`Dataset::push`], which checks every row, so a `Dataset` is always
/// rectangular and free of infinities. Group tags are stored per key as a dictionary of values
/// and one code per row; a row without a tag for some key has none.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    feature_names: Vec<String>,
    /// Row-major, `n_rows * n_features`.
    values: Vec<f64>,
    labels: Vec<bool>,
    times: Vec<i64>,
    groups: Vec<GroupColumn>,
}

/// The rows that carry one group value, e.g. `sex = F`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'a> {
    /// The group key, e.g. `sex`.
    pub key: &'a str,
    /// The value, e.g. `F`.
    pub value: &'a str,
    /// Indices of the rows with this value, ascending.
    pub rows: Vec<usize>,
}

#[derive(Debug, Clone, PartialEq)]
struct GroupColumn {
    key: String,
    values: Vec<String>,
    /// Per row, an index into `values`.
    codes: Vec<Option<u32>>,
}

impl Dataset {
    /// An empty dataset with these features; names must be unique and there must be one.
    ///
    /// # Errors
    /// [`MlError::NoFeatures`], [`MlError::DuplicateFeature`].
    pub fn new(feature_names: Vec<String>) -> Result<Self, MlError> {
        if feature_names.is_empty() {
            return Err(MlError::NoFeatures);
        }
        let mut seen = std::collections::BTreeSet::new();
        for name in &feature_names {
            if !seen.insert(name.as_str()) {
                return Err(MlError::DuplicateFeature(name.clone()));
            }
        }
        Ok(Self {
            feature_names,
            values: Vec::new(),
            labels: Vec::new(),
            times: Vec::new(),
            groups: Vec::new(),
        })
    }

    /// A dataset from parallel rows, labels and times, without group tags.
    ///
    /// # Errors
    /// As [`Dataset::new`] and [`Dataset::push`], and [`MlError::LengthMismatch`] when the
    /// three inputs differ in length.
    pub fn from_rows(
        feature_names: Vec<String>,
        rows: &[Vec<f64>],
        labels: &[bool],
        times: &[i64],
    ) -> Result<Self, MlError> {
        check_len("labels", rows.len(), labels.len())?;
        check_len("times", rows.len(), times.len())?;
        let mut data = Self::new(feature_names)?;
        for ((row, &label), &time) in rows.iter().zip(labels).zip(times) {
            data.push(row, label, time, &[])?;
        }
        Ok(data)
    }

    /// Appends one row. `tags` are `(key, value)` pairs such as `("sex", "F")`.
    /// The dataset is unchanged when the row is refused.
    ///
    /// # Errors
    /// [`MlError::RaggedRow`], [`MlError::InfiniteFeature`], [`MlError::DuplicateGroupKey`].
    pub fn push(
        &mut self,
        features: &[f64],
        label: bool,
        time: i64,
        tags: &[(&str, &str)],
    ) -> Result<(), MlError> {
        let row = self.n_rows();
        if features.len() != self.n_features() {
            return Err(MlError::RaggedRow {
                row,
                expected: self.n_features(),
                found: features.len(),
            });
        }
        if let Some(feature) = features.iter().position(|v| v.is_infinite()) {
            return Err(MlError::InfiniteFeature { row, feature });
        }
        for (i, (key, _)) in tags.iter().enumerate() {
            if tags[..i].iter().any(|(k, _)| k == key) {
                return Err(MlError::DuplicateGroupKey {
                    row,
                    key: (*key).to_owned(),
                });
            }
        }

        self.values.extend_from_slice(features);
        self.labels.push(label);
        self.times.push(time);
        for column in &mut self.groups {
            column.codes.push(None);
        }
        for (key, value) in tags {
            self.tag_last_row(key, value);
        }
        Ok(())
    }

    /// Number of rows.
    #[must_use]
    pub fn n_rows(&self) -> usize {
        self.labels.len()
    }

    /// Number of features per row.
    #[must_use]
    pub fn n_features(&self) -> usize {
        self.feature_names.len()
    }

    /// `true` when there are no rows.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// The feature names, in column order.
    #[must_use]
    pub fn feature_names(&self) -> &[String] {
        &self.feature_names
    }

    /// Row `index`, or `None` past the end.
    #[must_use]
    pub fn row(&self, index: usize) -> Option<&[f64]> {
        let width = self.n_features();
        self.values.get(index * width..(index + 1) * width)
    }

    /// All rows in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = &[f64]> {
        self.values.chunks_exact(self.n_features())
    }

    /// The labels, one per row.
    #[must_use]
    pub fn labels(&self) -> &[bool] {
        &self.labels
    }

    /// The times, one per row.
    #[must_use]
    pub fn times(&self) -> &[i64] {
        &self.times
    }

    /// Number of rows labelled `true`.
    #[must_use]
    pub fn positives(&self) -> usize {
        self.labels.iter().filter(|&&y| y).count()
    }

    /// The group keys, in the order they first appeared.
    pub fn group_keys(&self) -> impl Iterator<Item = &str> {
        self.groups.iter().map(|c| c.key.as_str())
    }

    /// The value of group `key` for row `row`, if the row carries one.
    #[must_use]
    pub fn group_value(&self, row: usize, key: &str) -> Option<&str> {
        let column = self.groups.iter().find(|c| c.key == key)?;
        let code = (*column.codes.get(row)?)?;
        column.values.get(code as usize).map(String::as_str)
    }

    /// Every (key, value) group with its rows: keys in order of first appearance, values
    /// sorted. Rows without a tag for a key belong to no group of that key.
    #[must_use]
    pub fn groups(&self) -> Vec<Group<'_>> {
        let mut out = Vec::new();
        for column in &self.groups {
            let mut by_value: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
            for (row, code) in column.codes.iter().enumerate() {
                let Some(value) = code.and_then(|c| column.values.get(c as usize)) else {
                    continue;
                };
                by_value.entry(value.as_str()).or_default().push(row);
            }
            out.extend(by_value.into_iter().map(|(value, rows)| Group {
                key: &column.key,
                value,
                rows,
            }));
        }
        out
    }

    /// Splits on time: rows with `time < cutoff` train, rows with `time >= cutoff` test.
    /// Either part may be empty; row order and group tags are kept.
    #[must_use]
    pub fn split_by_time(&self, cutoff: i64) -> (Dataset, Dataset) {
        let (train, test): (Vec<usize>, Vec<usize>) =
            (0..self.n_rows()).partition(|&i| self.times[i] < cutoff);
        (self.subset(&train), self.subset(&test))
    }

    /// The cutoff that puts the first `fraction` of the distinct times in training: with the
    /// distinct times `t_0 < … < t_{m-1}`, it is `t_k` with `k = round(fraction · m)`
    /// clamped to `1..=m-1`, so both sides of [`Dataset::split_by_time`] get at least one
    /// time. E.g. 10 weeks and 0.7 → the cutoff is the 8th week; weeks 1–7 train.
    ///
    /// # Errors
    /// [`MlError::InvalidFraction`] unless `0 < fraction < 1`; [`MlError::TooFewTimes`] with
    /// fewer than two distinct times.
    pub fn time_cutoff(&self, fraction: f64) -> Result<i64, MlError> {
        if !(fraction > 0.0 && fraction < 1.0) {
            return Err(MlError::InvalidFraction(fraction));
        }
        let mut distinct = self.times.clone();
        distinct.sort_unstable();
        distinct.dedup();
        let m = distinct.len();
        if m < 2 {
            return Err(MlError::TooFewTimes(m));
        }
        let k = ((fraction * m as f64).round() as usize).clamp(1, m - 1);
        distinct.get(k).copied().ok_or(MlError::TooFewTimes(m))
    }

    /// The same rows with only the features `names`, in that order (a model reads the groups
    /// its search kept; scoring rows carry every candidate feature).
    ///
    /// # Errors
    /// [`MlError::UnknownFeature`] for a name the dataset does not have; as [`Dataset::new`].
    pub fn select(&self, names: &[String]) -> Result<Dataset, MlError> {
        let columns = self.columns_of(names)?;
        let mut out = Dataset::new(names.to_vec())?;
        out.values = Vec::with_capacity(self.n_rows() * columns.len());
        for row in self.rows() {
            out.values.extend(columns.iter().map(|&j| row[j]));
        }
        out.labels = self.labels.clone();
        out.times = self.times.clone();
        out.groups = self.groups.clone();
        Ok(out)
    }

    /// The column of each of `names`.
    ///
    /// # Errors
    /// [`MlError::UnknownFeature`] for a name the dataset does not have.
    pub fn columns_of(&self, names: &[String]) -> Result<Vec<usize>, MlError> {
        names
            .iter()
            .map(|n| {
                self.feature_names
                    .iter()
                    .position(|f| f == n)
                    .ok_or_else(|| MlError::UnknownFeature(n.clone()))
            })
            .collect()
    }

    /// The rows at `indices` (which must be in range), with the same features and groups.
    pub(crate) fn subset(&self, indices: &[usize]) -> Dataset {
        let width = self.n_features();
        let mut values = Vec::with_capacity(indices.len() * width);
        for &i in indices {
            values.extend_from_slice(&self.values[i * width..(i + 1) * width]);
        }
        let groups = self
            .groups
            .iter()
            .map(|c| GroupColumn {
                key: c.key.clone(),
                values: c.values.clone(),
                codes: indices.iter().map(|&i| c.codes[i]).collect(),
            })
            .collect();
        Dataset {
            feature_names: self.feature_names.clone(),
            values,
            labels: indices.iter().map(|&i| self.labels[i]).collect(),
            times: indices.iter().map(|&i| self.times[i]).collect(),
            groups,
        }
    }

    /// Refuses datasets a classifier cannot be trained on.
    pub(crate) fn check_trainable(&self) -> Result<(), MlError> {
        if self.is_empty() {
            return Err(MlError::EmptyDataset);
        }
        let positives = self.positives();
        if positives == 0 || positives == self.n_rows() {
            return Err(MlError::SingleClass {
                label: positives > 0,
            });
        }
        Ok(())
    }

    fn tag_last_row(&mut self, key: &str, value: &str) {
        let rows = self.n_rows();
        let index = match self.groups.iter().position(|c| c.key == key) {
            Some(i) => i,
            None => {
                self.groups.push(GroupColumn {
                    key: key.to_owned(),
                    values: Vec::new(),
                    codes: vec![None; rows],
                });
                self.groups.len() - 1
            }
        };
        let column = &mut self.groups[index];
        let code = match column.values.iter().position(|v| v == value) {
            Some(c) => c,
            None => {
                column.values.push(value.to_owned());
                column.values.len() - 1
            }
        };
        if let Some(last) = column.codes.last_mut() {
            *last = Some(code as u32);
        }
    }
}

fn check_len(what: &'static str, expected: usize, found: usize) -> Result<(), MlError> {
    if expected == found {
        Ok(())
    } else {
        Err(MlError::LengthMismatch {
            what,
            expected,
            found,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|i| format!("x{i}")).collect()
    }

    fn weekly(weeks: &[i64]) -> Dataset {
        let mut d = Dataset::new(names(1)).unwrap();
        for (i, &w) in weeks.iter().enumerate() {
            let sex = if i % 2 == 0 { "F" } else { "M" };
            d.push(&[i as f64], i % 3 == 0, w, &[("sex", sex)]).unwrap();
        }
        d
    }

    #[test]
    fn rows_are_checked_before_they_are_stored() {
        let mut d = Dataset::new(names(2)).unwrap();
        assert_eq!(
            d.push(&[1.0], true, 0, &[]),
            Err(MlError::RaggedRow {
                row: 0,
                expected: 2,
                found: 1
            })
        );
        assert_eq!(
            d.push(&[1.0, f64::NEG_INFINITY], true, 0, &[]),
            Err(MlError::InfiniteFeature { row: 0, feature: 1 })
        );
        assert_eq!(
            d.push(&[1.0, 2.0], true, 0, &[("sex", "F"), ("sex", "M")]),
            Err(MlError::DuplicateGroupKey {
                row: 0,
                key: "sex".into()
            })
        );
        assert!(d.is_empty());
        d.push(&[1.0, f64::NAN], true, 0, &[]).unwrap();
        assert_eq!(d.n_rows(), 1);
        assert!(d.row(0).unwrap()[1].is_nan());
        assert_eq!(d.row(1), None);
    }

    #[test]
    fn feature_names_must_be_present_and_unique() {
        assert_eq!(Dataset::new(vec![]), Err(MlError::NoFeatures));
        assert_eq!(
            Dataset::new(vec!["a".into(), "b".into(), "a".into()]),
            Err(MlError::DuplicateFeature("a".into()))
        );
    }

    #[test]
    fn from_rows_checks_lengths() {
        let err = Dataset::from_rows(names(1), &[vec![1.0], vec![2.0]], &[true], &[0, 1]);
        assert_eq!(
            err,
            Err(MlError::LengthMismatch {
                what: "labels",
                expected: 2,
                found: 1
            })
        );
        let err = Dataset::from_rows(
            names(1),
            &[vec![1.0], vec![2.0, 3.0]],
            &[true, false],
            &[0, 1],
        );
        assert!(matches!(err, Err(MlError::RaggedRow { row: 1, .. })));
    }

    #[test]
    fn tags_appearing_late_leave_earlier_rows_untagged() {
        let mut d = Dataset::new(names(1)).unwrap();
        d.push(&[0.0], false, 0, &[]).unwrap();
        d.push(&[1.0], true, 0, &[("sport", "rugby")]).unwrap();
        d.push(&[2.0], true, 0, &[("sport", "football")]).unwrap();
        d.push(&[3.0], false, 0, &[("sport", "rugby")]).unwrap();
        assert_eq!(d.group_value(0, "sport"), None);
        assert_eq!(d.group_value(1, "sport"), Some("rugby"));
        assert_eq!(d.group_value(1, "sex"), None);
        let groups = d.groups();
        let summary: Vec<(&str, &str, Vec<usize>)> = groups
            .iter()
            .map(|g| (g.key, g.value, g.rows.clone()))
            .collect();
        assert_eq!(
            summary,
            vec![
                ("sport", "football", vec![2]),
                ("sport", "rugby", vec![1, 3])
            ]
        );
    }

    #[test]
    fn split_by_time_keeps_rows_and_tags() {
        let d = weekly(&[3, 1, 2, 5, 4, 1]);
        let (train, test) = d.split_by_time(3);
        assert_eq!(train.times(), &[1, 2, 1]);
        assert_eq!(test.times(), &[3, 5, 4]);
        assert_eq!(
            train.rows().map(|r| r[0]).collect::<Vec<_>>(),
            [1.0, 2.0, 5.0]
        );
        assert_eq!(train.group_value(0, "sex"), Some("M"));
        assert_eq!(test.group_value(0, "sex"), Some("F"));
        assert_eq!(train.labels(), &[false, false, false]);
        assert_eq!(test.labels(), &[true, true, false]);
    }

    #[test]
    fn time_cutoff_is_a_quantile_of_distinct_times() {
        let d = weekly(&[1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 10, 10]);
        assert_eq!(d.time_cutoff(0.7), Ok(8));
        let (train, test) = d.split_by_time(8);
        assert_eq!(train.n_rows(), 7);
        assert_eq!(test.n_rows(), 5);
        // Extreme fractions still leave one time on each side.
        assert_eq!(d.time_cutoff(0.01), Ok(2));
        assert_eq!(d.time_cutoff(0.999), Ok(10));
        assert_eq!(d.time_cutoff(1.0), Err(MlError::InvalidFraction(1.0)));
        assert!(matches!(
            d.time_cutoff(f64::NAN),
            Err(MlError::InvalidFraction(_))
        ));
        assert_eq!(
            weekly(&[4, 4]).time_cutoff(0.5),
            Err(MlError::TooFewTimes(1))
        );
    }

    #[test]
    fn trainable_needs_rows_and_both_classes() {
        let d = Dataset::new(names(1)).unwrap();
        assert_eq!(d.check_trainable(), Err(MlError::EmptyDataset));
        let d =
            Dataset::from_rows(names(1), &[vec![1.0], vec![2.0]], &[true, true], &[0, 1]).unwrap();
        assert_eq!(
            d.check_trainable(),
            Err(MlError::SingleClass { label: true })
        );
    }
}
