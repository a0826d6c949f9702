//! Pairwise percent agreement: the share of pairs of judgments on one item that agree.

use serde::Serialize;

use crate::{Estimate, LabelSet, Undefined};

/// One annotator's agreement with the others on the items they share.
#[derive(Debug, Clone, Serialize)]
pub struct AnnotatorAgreement {
    /// Annotator index.
    pub annotator: u32,
    /// Share of this annotator's pairings that agree.
    #[serde(flatten)]
    pub agreement: Estimate,
    /// Pairings that agree.
    pub agreeing_pairs: u64,
    /// Pairings with another annotator on the same item.
    pub pairs: u64,
}

/// Pooled and per-annotator pairwise percent agreement.
#[derive(Debug, Clone, Serialize)]
pub struct PercentAgreement {
    /// Share of agreeing pairs over all items, or why it is undefined.
    #[serde(flatten)]
    pub agreement: Estimate,
    /// Unordered pairs of judgments on one item that agree.
    pub agreeing_pairs: u64,
    /// Unordered pairs of judgments on one item.
    pub pairs: u64,
    /// Items with two or more judgments.
    pub items: usize,
    /// Per annotator, by index.
    pub per_annotator: Vec<AnnotatorAgreement>,
}

fn share(agree: u64, pairs: u64) -> Estimate {
    if pairs == 0 {
        Estimate::Undefined(Undefined::NoPairableValues)
    } else {
        Estimate::Value(agree as f64 / pairs as f64)
    }
}

/// Pairwise percent agreement (exact label match), pooled and per annotator.
pub fn percent_agreement(labels: &LabelSet) -> PercentAgreement {
    let k = labels.n_categories();
    let mut tally = vec![0u64; k];
    let mut per = vec![(0u64, 0u64); labels.n_annotators()];
    let (mut agree, mut pairs, mut items) = (0u64, 0u64, 0usize);
    for item in 0..labels.n_items() {
        let ls = labels.labels_of(item);
        let m = ls.len() as u64;
        if m < 2 {
            continue;
        }
        items += 1;
        for &l in ls {
            tally[l as usize] += 1;
        }
        pairs += m * (m - 1) / 2;
        for (&a, &l) in labels.annotators_of(item).iter().zip(ls) {
            let p = &mut per[a as usize];
            p.0 += tally[l as usize] - 1;
            p.1 += m - 1;
        }
        for &l in ls {
            let t = &mut tally[l as usize];
            if *t > 0 {
                agree += *t * (*t - 1) / 2;
                *t = 0;
            }
        }
    }
    PercentAgreement {
        agreement: share(agree, pairs),
        agreeing_pairs: agree,
        pairs,
        items,
        per_annotator: per
            .iter()
            .enumerate()
            .map(|(a, (ag, p))| AnnotatorAgreement {
                annotator: a as u32,
                agreement: share(*ag, *p),
                agreeing_pairs: *ag,
                pairs: *p,
            })
            .collect(),
    }
}
