//! Gold accuracy with Wilson score intervals.

use serde::Serialize;

use crate::{Estimate, LabelSet, QualityError, Undefined};

/// The normal quantile for a two-sided 95% interval.
pub const Z_95: f64 = 1.959_963_984_540_054;

/// The Wilson score interval for `successes` out of `n` at normal quantile `z`; `None` when `n = 0`.
pub fn wilson_interval(successes: u64, n: u64, z: f64) -> Option<(f64, f64)> {
    if n == 0 || successes > n {
        return None;
    }
    let nf = n as f64;
    let p = successes as f64 / nf;
    let z2 = z * z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // Clamp rounding only; the exact interval is inside [0, 1] and contains p.
    Some(((center - half).clamp(0.0, p), (center + half).clamp(p, 1.0)))
}

/// The upper end of the Wilson score interval; `None` when `n = 0`.
pub fn wilson_upper(successes: u64, n: u64, z: f64) -> Option<f64> {
    wilson_interval(successes, n, z).map(|i| i.1)
}

/// Whether `correct` out of `total` gold answers is clearly below `min_accuracy`: the upper end of
/// the Wilson 95% interval is below it (probation). False without gold answers.
pub fn below_min_accuracy(correct: u64, total: u64, min_accuracy: f64) -> bool {
    wilson_upper(correct, total, Z_95).is_some_and(|u| u < min_accuracy)
}

/// Accuracy against gold with a Wilson 95% interval and the count it rests on.
#[derive(Debug, Clone, Serialize)]
pub struct GoldAccuracy {
    /// Share correct, or why it is undefined.
    #[serde(flatten)]
    pub accuracy: Estimate,
    /// Judgments that matched gold.
    pub correct: u64,
    /// Judgments on gold items.
    pub total: u64,
    /// Lower end of the Wilson 95% interval.
    pub lower: Option<f64>,
    /// Upper end of the Wilson 95% interval.
    pub upper: Option<f64>,
}

impl GoldAccuracy {
    /// Accuracy of `correct` out of `total`.
    pub fn new(correct: u64, total: u64) -> GoldAccuracy {
        let interval = wilson_interval(correct, total, Z_95);
        GoldAccuracy {
            accuracy: if total == 0 {
                Estimate::Undefined(Undefined::NoGold)
            } else {
                Estimate::Value(correct as f64 / total as f64)
            },
            correct,
            total,
            lower: interval.map(|i| i.0),
            upper: interval.map(|i| i.1),
        }
    }

    /// Whether even the upper end of the Wilson 95% interval is below `min_accuracy`.
    pub fn below(&self, min_accuracy: f64) -> bool {
        self.upper.is_some_and(|u| u < min_accuracy)
    }
}

/// Gold accuracy pooled and per annotator.
#[derive(Debug, Clone, Serialize)]
pub struct GoldReport {
    /// All judgments on gold items.
    pub pooled: GoldAccuracy,
    /// Per annotator, by index.
    pub per_annotator: Vec<GoldAccuracy>,
}

/// Scores each judgment on an item with a gold answer (`gold[item]`) against it.
pub fn gold_accuracy(labels: &LabelSet, gold: &[Option<u32>]) -> Result<GoldReport, QualityError> {
    if gold.len() != labels.n_items() {
        return Err(QualityError::InvalidConfig(format!(
            "gold has {} entries but there are {} items",
            gold.len(),
            labels.n_items()
        )));
    }
    let mut per = vec![(0u64, 0u64); labels.n_annotators()];
    for (item, g) in gold.iter().enumerate() {
        let Some(g) = g else { continue };
        for (&a, &l) in labels
            .annotators_of(item)
            .iter()
            .zip(labels.labels_of(item))
        {
            per[a as usize].0 += u64::from(l == *g);
            per[a as usize].1 += 1;
        }
    }
    let (c, t) = per.iter().fold((0, 0), |acc, p| (acc.0 + p.0, acc.1 + p.1));
    Ok(GoldReport {
        pooled: GoldAccuracy::new(c, t),
        per_annotator: per.iter().map(|(c, t)| GoldAccuracy::new(*c, *t)).collect(),
    })
}
