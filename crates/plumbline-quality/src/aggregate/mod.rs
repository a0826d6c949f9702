//! Label aggregation: majority, weighted vote, Dawid-Skene EM and gold-anchored combination.
//!
//! Tie-breaking, shared by every method and never random: among the categories whose score is
//! within a relative 1e-12 of the best, pick the one given most often over the whole label set,
//! then the lowest category index. The item is marked `tied` so a reader can see it happened.

mod dawid_skene;
mod gold_anchored;
mod majority;
mod weighted;

pub use dawid_skene::{DawidSkene, DawidSkeneConfig, dawid_skene, dawid_skene_winners};
pub use gold_anchored::{AnnotatorGold, GoldAnchored, GoldAnchoredConfig, gold_anchored};
pub use majority::majority_vote;
pub use weighted::weighted_vote;

use serde::Serialize;

use crate::LabelSet;

/// The aggregated label of one item.
#[derive(Debug, Clone, Serialize)]
pub struct ItemLabel {
    /// The chosen category, or `None` when the item has no (weighted) votes.
    pub label: Option<u32>,
    /// Per category: vote shares (majority, weighted) or posterior probabilities (model-based);
    /// empty when a vote-share method had no votes.
    pub posterior: Vec<f64>,
    /// Whether the label was picked by the tie-break rule.
    pub tied: bool,
    /// Judgments on the item.
    pub votes: usize,
}

/// Aggregated labels for every item of a label set, by index.
#[derive(Debug, Clone, Serialize)]
pub struct Aggregation {
    /// One entry per item.
    pub items: Vec<ItemLabel>,
}

/// Ranks categories for tie-breaking: most frequent overall first, then lowest index.
pub(crate) struct TieBreak {
    rank: Vec<usize>,
}

impl TieBreak {
    pub(crate) fn new(labels: &LabelSet) -> TieBreak {
        let counts = labels.category_counts();
        let mut order: Vec<usize> = (0..counts.len()).collect();
        order.sort_by(|a, b| counts[*b].cmp(&counts[*a]).then(a.cmp(b)));
        let mut rank = vec![0; counts.len()];
        for (r, c) in order.into_iter().enumerate() {
            rank[c] = r;
        }
        TieBreak { rank }
    }

    /// The best category of `scores` and whether a tie had to be broken; `None` if empty.
    pub(crate) fn pick(&self, scores: &[f64]) -> (Option<u32>, bool) {
        let Some(best) = scores.iter().copied().reduce(f64::max) else {
            return (None, false);
        };
        let tol = 1e-12 * best.abs().max(f64::MIN_POSITIVE);
        let mut winner: Option<usize> = None;
        let mut n_top = 0;
        for (c, s) in scores.iter().enumerate() {
            if best - s <= tol {
                n_top += 1;
                if winner.is_none_or(|w| self.rank[c] < self.rank[w]) {
                    winner = Some(c);
                }
            }
        }
        (winner.map(|w| w as u32), n_top > 1)
    }
}

/// Normalises log-scores in place into probabilities; returns log Σ exp(scores).
pub(crate) fn softmax_in_place(scores: &mut [f64]) -> f64 {
    let max = scores.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut sum = 0.0;
    for s in scores.iter_mut() {
        *s = (*s - max).exp();
        sum += *s;
    }
    for s in scores.iter_mut() {
        *s /= sum;
    }
    max + sum.ln()
}
