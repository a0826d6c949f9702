//! Weighted vote: each annotator's judgment counts their weight.

use super::Aggregation;
use super::majority::vote;
use crate::{LabelSet, QualityError};

/// Weighted vote with `weights[annotator]` (finite, non-negative); the posterior is the weight share.
///
/// Items whose judgments all weigh zero get no label.
pub fn weighted_vote(labels: &LabelSet, weights: &[f64]) -> Result<Aggregation, QualityError> {
    if weights.len() != labels.n_annotators() {
        return Err(QualityError::BadWeights(format!(
            "{} weights for {} annotators",
            weights.len(),
            labels.n_annotators()
        )));
    }
    if let Some((a, w)) = weights
        .iter()
        .enumerate()
        .find(|(_, w)| !(w.is_finite() && **w >= 0.0))
    {
        return Err(QualityError::BadWeights(format!(
            "annotator {a} has weight {w}; weights must be finite and non-negative"
        )));
    }
    Ok(vote(labels, weights))
}
