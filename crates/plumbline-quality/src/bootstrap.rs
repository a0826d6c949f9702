//! A seeded, reproducible bootstrap interval for Krippendorff's alpha.
//!
//! Each replicate draws the pairable units with replacement (as many as there are) and
//! recomputes alpha on them, marginals included; the interval is the percentile interval with
//! linear interpolation between order statistics (R's type 7). Replicates whose alpha is
//! undefined (say, every drawn value equal) are left out and counted.

use serde::Serialize;

use crate::agreement::{Metric, UnitSummaries, alpha_core};
use crate::rng::Rng;
use crate::{LabelSet, QualityError, Undefined};

/// How to bootstrap.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BootstrapConfig {
    /// Number of replicates.
    pub replicates: usize,
    /// Seed of the generator; the same seed gives the same interval.
    pub seed: u64,
    /// Coverage of the interval, in (0, 1).
    pub confidence: f64,
}

impl Default for BootstrapConfig {
    fn default() -> Self {
        BootstrapConfig {
            replicates: 1000,
            seed: 1,
            confidence: 0.95,
        }
    }
}

/// A percentile bootstrap interval.
#[derive(Debug, Clone, Serialize)]
pub struct BootstrapInterval {
    /// Lower end, if any replicate was defined.
    pub lower: Option<f64>,
    /// Upper end, if any replicate was defined.
    pub upper: Option<f64>,
    /// Why there is no interval.
    pub undefined_reason: Option<Undefined>,
    /// Coverage asked for.
    pub confidence: f64,
    /// Replicates drawn.
    pub replicates: usize,
    /// Replicates whose alpha was undefined and left out.
    pub undefined_replicates: usize,
    /// Seed used.
    pub seed: u64,
}

/// Linear-interpolation quantile of sorted data (type 7).
pub fn quantile_sorted(sorted: &[f64], q: f64) -> Option<f64> {
    if sorted.is_empty() {
        return None;
    }
    let h = (sorted.len() - 1) as f64 * q.clamp(0.0, 1.0);
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo]))
}

/// Bootstrap interval for alpha, resampling units.
pub fn alpha_bootstrap(
    labels: &LabelSet,
    metric: Metric,
    config: BootstrapConfig,
) -> Result<BootstrapInterval, QualityError> {
    if !(config.confidence > 0.0 && config.confidence < 1.0) {
        return Err(QualityError::InvalidConfig(format!(
            "confidence must be in (0, 1), got {}",
            config.confidence
        )));
    }
    metric.check(labels.n_categories())?;
    let s = UnitSummaries::new(labels);
    let units = s.n_units();
    let mut rng = Rng::new(config.seed);
    let mut weights = vec![0u32; units];
    let mut values = Vec::with_capacity(config.replicates);
    for _ in 0..config.replicates {
        if units == 0 {
            break;
        }
        weights.iter_mut().for_each(|w| *w = 0);
        for _ in 0..units {
            weights[rng.below(units as u64) as usize] += 1;
        }
        if let Some(a) = alpha_core(&s, Some(&weights), metric).alpha.value() {
            values.push(a);
        }
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - config.confidence) / 2.0;
    let lower = quantile_sorted(&values, tail);
    let upper = quantile_sorted(&values, 1.0 - tail);
    Ok(BootstrapInterval {
        lower,
        upper,
        undefined_reason: if values.is_empty() {
            Some(if units == 0 {
                Undefined::NoPairableValues
            } else {
                Undefined::AllReplicatesUndefined
            })
        } else {
            None
        },
        confidence: config.confidence,
        replicates: config.replicates,
        undefined_replicates: config.replicates - values.len(),
        seed: config.seed,
    })
}
