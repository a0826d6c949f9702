//! Majority vote with the crate's deterministic tie-break.

use super::{Aggregation, ItemLabel, TieBreak};
use crate::LabelSet;

/// One vote per judgment; the posterior is the vote share of each category.
pub fn majority_vote(labels: &LabelSet) -> Aggregation {
    let weights = vec![1.0; labels.n_annotators()];
    vote(labels, &weights)
}

pub(crate) fn vote(labels: &LabelSet, weights: &[f64]) -> Aggregation {
    let tb = TieBreak::new(labels);
    let k = labels.n_categories();
    let mut scores = vec![0.0; k];
    let items = (0..labels.n_items())
        .map(|i| {
            scores.iter_mut().for_each(|s| *s = 0.0);
            for (&a, &l) in labels.annotators_of(i).iter().zip(labels.labels_of(i)) {
                scores[l as usize] += weights[a as usize];
            }
            let total: f64 = scores.iter().sum();
            let votes = labels.labels_of(i).len();
            if total <= 0.0 {
                return ItemLabel {
                    label: None,
                    posterior: Vec::new(),
                    tied: false,
                    votes,
                };
            }
            let (label, tied) = tb.pick(&scores);
            ItemLabel {
                label,
                posterior: scores.iter().map(|s| s / total).collect(),
                tied,
                votes,
            }
        })
        .collect();
    Aggregation { items }
}
