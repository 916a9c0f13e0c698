//! Evaluation of a model on a dataset, overall and per group.

use serde::{Deserialize, Serialize};

use crate::metrics::{Metrics, Predictions};
use crate::{Dataset, MlError, Model};

/// Metrics for all rows and for every group value (e.g. `sex = F`, `sport = rugby`), so that
/// a model that works on average but fails a group shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// Metrics over every row.
    pub overall: Metrics,
    /// Metrics per group value: keys in the dataset's order, values sorted.
    pub groups: Vec<GroupMetrics>,
}

/// The metrics of the rows carrying one group value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupMetrics {
    /// The group key, e.g. `sex`.
    pub key: String,
    /// The value, e.g. `F`.
    pub value: String,
    /// Metrics of the group's rows; AUCs are `None` when the group has a single class.
    pub metrics: Metrics,
}

impl Evaluation {
    /// Predicts every row of `data` with `model` and evaluates the predictions.
    ///
    /// # Errors
    /// [`MlError::FeatureNamesMismatch`] when the dataset's features are not the model's;
    /// [`MlError::EmptyDataset`]; [`MlError::MalformedModel`].
    pub fn of(model: &Model, data: &Dataset) -> Result<Evaluation, MlError> {
        let probabilities = model.predict_dataset(data)?;
        Self::from_probabilities(data, probabilities)
    }

    /// Evaluates probabilities computed elsewhere, one per row of `data`.
    ///
    /// # Errors
    /// [`MlError::EmptyDataset`], [`MlError::LengthMismatch`],
    /// [`MlError::InvalidProbability`].
    pub fn from_probabilities(
        data: &Dataset,
        probabilities: Vec<f64>,
    ) -> Result<Evaluation, MlError> {
        let all = Predictions::new(data.labels().to_vec(), probabilities)?;
        let groups = data
            .groups()
            .into_iter()
            .map(|g| GroupMetrics {
                key: g.key.to_owned(),
                value: g.value.to_owned(),
                metrics: all.subset(&g.rows).metrics(),
            })
            .collect();
        Ok(Evaluation {
            overall: all.metrics(),
            groups,
        })
    }

    /// The metrics of group `key = value`, if the dataset had it.
    #[must_use]
    pub fn group(&self, key: &str, value: &str) -> Option<&Metrics> {
        self.groups
            .iter()
            .find(|g| g.key == key && g.value == value)
            .map(|g| &g.metrics)
    }
}
