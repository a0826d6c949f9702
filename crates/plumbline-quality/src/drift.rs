//! Drift: a measure per time window and per rubric version, against a running baseline.
//!
//! Any scalar measure plugs in through [`Measure`] (any `Fn(&[&T]) -> Estimate` is one). Groups
//! are visited in order; each group's baseline is the measure over the records of every earlier
//! group pooled (or the record-weighted mean of the earlier groups' values), and a group is
//! flagged when its value departs from the baseline by more than the threshold. Pooled baselines
//! call the measure once per group on the earlier records, so the cost is groups × records.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::{Estimate, QualityError};

/// Seconds in a week, the default window.
pub const WEEK: i64 = 7 * 24 * 3600;

/// 1970-01-05T00:00:00Z, a Monday: windows of a week start on Mondays (UTC).
pub const MONDAY_EPOCH: i64 = 4 * 24 * 3600;

/// A scalar statistic over a group of records.
pub trait Measure<T> {
    /// The statistic over `group`.
    fn measure(&self, group: &[&T]) -> Estimate;
}

impl<T, F: Fn(&[&T]) -> Estimate> Measure<T> for F {
    fn measure(&self, group: &[&T]) -> Estimate {
        self(group)
    }
}

/// How the running baseline is formed from earlier groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Baseline {
    /// The measure over all earlier records pooled.
    Pooled,
    /// The mean of earlier groups' defined values, weighted by their record counts.
    WeightedMean,
}

/// Settings of drift detection.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DriftConfig {
    /// Window length in seconds (default a week).
    pub window_seconds: i64,
    /// A time at which a window starts (default a Monday, 00:00 UTC).
    pub origin: i64,
    /// Flag a group whose value departs from the baseline by more than this (absolute).
    pub threshold: f64,
    /// Groups with fewer records are reported but never flagged.
    pub min_records: usize,
    /// How the baseline is formed.
    pub baseline: Baseline,
}

impl Default for DriftConfig {
    fn default() -> Self {
        DriftConfig {
            window_seconds: WEEK,
            origin: MONDAY_EPOCH,
            threshold: 0.1,
            min_records: 1,
            baseline: Baseline::Pooled,
        }
    }
}

/// One group of the drift series.
#[derive(Debug, Clone, Serialize)]
pub struct DriftPoint<K> {
    /// Window start (seconds) or rubric version.
    pub key: K,
    /// Records in the group.
    pub records: usize,
    /// The measure on this group.
    pub value: Estimate,
    /// The running baseline from earlier groups (undefined for the first).
    pub baseline: Estimate,
    /// value − baseline, when both are defined.
    pub departure: Option<f64>,
    /// Whether |departure| exceeds the threshold (and the group has enough records).
    pub flagged: bool,
}

/// A drift series.
#[derive(Debug, Clone, Serialize)]
pub struct DriftReport<K> {
    /// Groups in order.
    pub points: Vec<DriftPoint<K>>,
    /// Records without a time (or version) and left out.
    pub skipped: usize,
    /// Threshold used.
    pub threshold: f64,
}

fn check(config: &DriftConfig) -> Result<(), QualityError> {
    if config.window_seconds <= 0 || !(config.threshold.is_finite() && config.threshold >= 0.0) {
        return Err(QualityError::InvalidConfig(
            "drift needs a positive window and a finite, non-negative threshold".into(),
        ));
    }
    Ok(())
}

/// Drift by time window: `time` gives a record's Unix time in seconds (`None` skips it).
pub fn drift_by_window<T>(
    records: &[T],
    time: impl Fn(&T) -> Option<i64>,
    measure: &impl Measure<T>,
    config: &DriftConfig,
) -> Result<DriftReport<i64>, QualityError> {
    check(config)?;
    let w = config.window_seconds;
    let start = |t: i64| (t - config.origin).div_euclid(w) * w + config.origin;
    Ok(drift_by_key(
        records,
        |r| time(r).map(start),
        measure,
        config,
    ))
}

/// Drift by rubric version (or any ordered key): `version` gives a record's key (`None` skips it).
pub fn drift_by_version<T, K: Ord + Clone>(
    records: &[T],
    version: impl Fn(&T) -> Option<K>,
    measure: &impl Measure<T>,
    config: &DriftConfig,
) -> Result<DriftReport<K>, QualityError> {
    check(config)?;
    Ok(drift_by_key(records, version, measure, config))
}

fn drift_by_key<T, K: Ord + Clone>(
    records: &[T],
    key: impl Fn(&T) -> Option<K>,
    measure: &impl Measure<T>,
    config: &DriftConfig,
) -> DriftReport<K> {
    let mut groups: BTreeMap<K, Vec<&T>> = BTreeMap::new();
    let mut skipped = 0;
    for r in records {
        match key(r) {
            Some(k) => groups.entry(k).or_default().push(r),
            None => skipped += 1,
        }
    }
    let mut earlier: Vec<&T> = Vec::new();
    let (mut wsum, mut wn) = (0.0, 0usize);
    let mut points = Vec::with_capacity(groups.len());
    for (k, group) in groups {
        let value = measure.measure(&group);
        let baseline = if earlier.is_empty() {
            Estimate::Undefined(crate::Undefined::NoData)
        } else {
            match config.baseline {
                Baseline::Pooled => measure.measure(&earlier),
                Baseline::WeightedMean if wn > 0 => Estimate::Value(wsum / wn as f64),
                Baseline::WeightedMean => Estimate::Undefined(crate::Undefined::NoData),
            }
        };
        let departure = value.value().zip(baseline.value()).map(|(v, b)| v - b);
        let flagged = group.len() >= config.min_records
            && departure.is_some_and(|d| d.abs() > config.threshold);
        if let Some(v) = value.value() {
            wsum += v * group.len() as f64;
            wn += group.len();
        }
        let records = group.len();
        earlier.extend(group);
        points.push(DriftPoint {
            key: k,
            records,
            value,
            baseline,
            departure,
            flagged,
        });
    }
    DriftReport {
        points,
        skipped,
        threshold: config.threshold,
    }
}
