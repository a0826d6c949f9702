//! Krippendorff's alpha by the coincidence-matrix method, for any level and missing values.
//!
//! With `n_uc` the count of category `c` in unit `u` and `m_u` the unit's number of values, the
//! coincidences are `o_ck = Σ_u n_uc (n_uk − [c = k]) / (m_u − 1)` over units with `m_u ≥ 2`,
//! the marginals `n_c = Σ_k o_ck`, `n = Σ_c n_c`, and
//! `α = 1 − (n − 1) Σ o_ck δ²_ck / Σ n_c n_k δ²_ck` (Krippendorff 2011).
//!
//! The sums over `o_ck` are accumulated unit by unit over the distinct categories present
//! (no k×k matrix is stored, so memory stays linear even for interval data with many distinct
//! values), and the expected term uses closed forms for nominal, ordinal and interval metrics.

use serde::Serialize;

use crate::{Estimate, LabelSet, QualityError, Undefined};

/// The level of measurement, which picks the difference function δ².
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// δ² = 0 if equal, else 1.
    Nominal,
    /// Krippendorff's marginal-sum metric: δ_ck = Σ_{g=c..k} n_g − (n_c + n_k)/2.
    Ordinal,
    /// δ² = (c − k)².
    Interval,
    /// δ² = ((c − k)/(c + k))².
    Ratio,
}

/// Numeric values of the categories: finite and strictly increasing, so index order is value order.
#[derive(Debug, Clone, PartialEq)]
pub struct Scale {
    values: Vec<f64>,
}

impl Scale {
    /// Checks that `values` are finite and strictly increasing.
    pub fn new(values: Vec<f64>) -> Result<Scale, QualityError> {
        for (i, v) in values.iter().enumerate() {
            if !v.is_finite() || (i > 0 && *v <= values[i - 1]) {
                return Err(QualityError::BadScale {
                    position: i,
                    value: *v,
                });
            }
        }
        Ok(Scale { values })
    }

    /// The distinct values of `values`, sorted (non-finite values are refused).
    pub fn from_observed(values: impl IntoIterator<Item = f64>) -> Result<Scale, QualityError> {
        let mut v: Vec<f64> = values.into_iter().collect();
        if let Some((i, bad)) = v.iter().enumerate().find(|(_, x)| !x.is_finite()) {
            return Err(QualityError::BadScale {
                position: i,
                value: *bad,
            });
        }
        v.sort_by(f64::total_cmp);
        v.dedup();
        Scale::new(v)
    }

    /// The values, one per category index.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The category index of `value`, if it is on the scale.
    pub fn index_of(&self, value: f64) -> Option<u32> {
        self.values
            .binary_search_by(|x| x.total_cmp(&value))
            .ok()
            .map(|i| i as u32)
    }

    /// Number of categories.
    pub fn len(&self) -> usize {
        self.values.len()
    }

    /// Whether the scale has no category.
    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// A level with the category values it needs.
#[derive(Debug, Clone, Copy)]
pub enum Metric<'a> {
    /// Categories are unordered labels.
    Nominal,
    /// Categories are ranks in index order; only the order matters.
    Ordinal,
    /// Categories carry the values of the scale.
    Interval(&'a Scale),
    /// Categories carry the non-negative values of the scale.
    Ratio(&'a Scale),
}

impl Metric<'_> {
    /// The level of measurement.
    pub fn level(&self) -> Level {
        match self {
            Metric::Nominal => Level::Nominal,
            Metric::Ordinal => Level::Ordinal,
            Metric::Interval(_) => Level::Interval,
            Metric::Ratio(_) => Level::Ratio,
        }
    }

    pub(crate) fn check(&self, n_categories: usize) -> Result<(), QualityError> {
        match self {
            Metric::Nominal | Metric::Ordinal => Ok(()),
            Metric::Interval(s) | Metric::Ratio(s) => {
                if s.len() != n_categories {
                    return Err(QualityError::ScaleLength {
                        scale: s.len(),
                        categories: n_categories,
                    });
                }
                if let (Metric::Ratio(_), Some(v)) = (self, s.values.first())
                    && *v < 0.0
                {
                    return Err(QualityError::NegativeRatioValue { value: *v });
                }
                Ok(())
            }
        }
    }
}

/// Krippendorff's alpha with the counts it rests on.
#[derive(Debug, Clone, Serialize)]
pub struct AlphaReport {
    /// Level of measurement used.
    pub level: Level,
    /// Alpha, or why it is undefined.
    #[serde(flatten)]
    pub alpha: Estimate,
    /// Observed disagreement D_o (mean δ² over coincidences).
    pub observed_disagreement: Option<f64>,
    /// Expected disagreement D_e.
    pub expected_disagreement: Option<f64>,
    /// Units with at least one value.
    pub units: usize,
    /// Units with two or more values (the only ones that count).
    pub pairable_units: usize,
    /// Values in pairable units (n).
    pub pairable_values: usize,
    /// Annotators with at least one value.
    pub annotators: usize,
    /// Distinct categories among pairable values.
    pub categories_used: usize,
}

/// Per-unit distinct categories and their counts, for pairable units only.
#[derive(Debug, Clone)]
pub(crate) struct UnitSummaries {
    pub(crate) offsets: Vec<usize>,
    pub(crate) cats: Vec<u32>,
    pub(crate) counts: Vec<u32>,
    pub(crate) n_categories: usize,
    pub(crate) units_with_values: usize,
}

impl UnitSummaries {
    pub(crate) fn new(labels: &LabelSet) -> UnitSummaries {
        let k = labels.n_categories();
        let mut tally = vec![0u32; k];
        let mut offsets = vec![0usize];
        let mut cats = Vec::new();
        let mut counts = Vec::new();
        let mut units_with_values = 0;
        for item in 0..labels.n_items() {
            let ls = labels.labels_of(item);
            if !ls.is_empty() {
                units_with_values += 1;
            }
            if ls.len() < 2 {
                continue;
            }
            for &l in ls {
                if tally[l as usize] == 0 {
                    cats.push(l);
                }
                tally[l as usize] += 1;
            }
            let start = *offsets.last().unwrap_or(&0);
            for c in &cats[start..] {
                counts.push(tally[*c as usize]);
                tally[*c as usize] = 0;
            }
            offsets.push(cats.len());
        }
        UnitSummaries {
            offsets,
            cats,
            counts,
            n_categories: k,
            units_with_values,
        }
    }

    pub(crate) fn n_units(&self) -> usize {
        self.offsets.len() - 1
    }

    fn unit(&self, u: usize) -> (&[u32], &[u32]) {
        let r = self.offsets[u]..self.offsets[u + 1];
        (&self.cats[r.clone()], &self.counts[r])
    }
}

/// Alpha's ingredients from unit summaries, each unit counted `weights[u]` times (bootstrap).
pub(crate) struct AlphaParts {
    pub(crate) alpha: Estimate,
    pub(crate) d_o: Option<f64>,
    pub(crate) d_e: Option<f64>,
    pub(crate) n: f64,
    pub(crate) categories_used: usize,
}

pub(crate) fn alpha_core(s: &UnitSummaries, weights: Option<&[u32]>, metric: Metric) -> AlphaParts {
    let k = s.n_categories;
    let w = |u: usize| weights.map_or(1.0, |w| f64::from(w[u]));
    let mut marg = vec![0.0f64; k];
    for u in 0..s.n_units() {
        let wu = w(u);
        if wu == 0.0 {
            continue;
        }
        let (cats, counts) = s.unit(u);
        for (c, n) in cats.iter().zip(counts) {
            marg[*c as usize] += wu * f64::from(*n);
        }
    }
    let n: f64 = marg.iter().sum();
    let categories_used = marg.iter().filter(|m| **m > 0.0).count();
    let undefined = |why| AlphaParts {
        alpha: Estimate::Undefined(why),
        d_o: None,
        d_e: None,
        n,
        categories_used,
    };
    if n == 0.0 {
        return undefined(Undefined::NoPairableValues);
    }
    if categories_used < 2 {
        return undefined(Undefined::NoVariation);
    }

    // Positions turn ordinal and interval δ² into a squared difference of positions.
    let positions: Vec<f64> = match metric {
        Metric::Nominal => Vec::new(),
        Metric::Ordinal => {
            let mut cum = 0.0;
            marg.iter()
                .map(|m| {
                    cum += m;
                    cum - m / 2.0
                })
                .collect()
        }
        Metric::Interval(sc) | Metric::Ratio(sc) => sc.values.clone(),
    };
    let delta2 = |a: usize, b: usize| -> f64 {
        match metric {
            Metric::Nominal => 1.0,
            Metric::Ordinal | Metric::Interval(_) => {
                let d = positions[a] - positions[b];
                d * d
            }
            Metric::Ratio(_) => {
                let (x, y) = (positions[a], positions[b]);
                let d = (x - y) / (x + y);
                d * d
            }
        }
    };

    // Observed: Σ_ck o_ck δ²_ck, over distinct category pairs present in each unit (δ²_cc = 0).
    let mut obs = 0.0;
    for u in 0..s.n_units() {
        let wu = w(u);
        if wu == 0.0 {
            continue;
        }
        let (cats, counts) = s.unit(u);
        if cats.len() < 2 {
            continue;
        }
        let m_u: u32 = counts.iter().sum();
        let mut unit_sum = 0.0;
        for a in 0..cats.len() {
            for b in a + 1..cats.len() {
                unit_sum += f64::from(counts[a])
                    * f64::from(counts[b])
                    * delta2(cats[a] as usize, cats[b] as usize);
            }
        }
        obs += wu * 2.0 * unit_sum / f64::from(m_u - 1);
    }

    // Expected: Σ_ck n_c n_k δ²_ck.
    let exp = match metric {
        Metric::Nominal => n * n - marg.iter().map(|m| m * m).sum::<f64>(),
        Metric::Ordinal | Metric::Interval(_) => {
            let mean = marg.iter().zip(&positions).map(|(m, p)| m * p).sum::<f64>() / n;
            2.0 * n
                * marg
                    .iter()
                    .zip(&positions)
                    .map(|(m, p)| m * (p - mean) * (p - mean))
                    .sum::<f64>()
        }
        Metric::Ratio(_) => {
            let used: Vec<usize> = (0..k).filter(|c| marg[*c] > 0.0).collect();
            let mut e = 0.0;
            for (i, &a) in used.iter().enumerate() {
                for &b in &used[i + 1..] {
                    e += 2.0 * marg[a] * marg[b] * delta2(a, b);
                }
            }
            e
        }
    };
    if exp <= 0.0 {
        return undefined(Undefined::NoVariation);
    }
    AlphaParts {
        alpha: Estimate::from_f64(1.0 - (n - 1.0) * obs / exp),
        d_o: Some(obs / n),
        d_e: Some(exp / (n * (n - 1.0))),
        n,
        categories_used,
    }
}

/// Krippendorff's alpha of `labels` under `metric`.
///
/// Undefined (with the reason) when no unit has two values or when all pairable values are equal.
pub fn krippendorff_alpha(labels: &LabelSet, metric: Metric) -> Result<AlphaReport, QualityError> {
    metric.check(labels.n_categories())?;
    let s = UnitSummaries::new(labels);
    let parts = alpha_core(&s, None, metric);
    Ok(AlphaReport {
        level: metric.level(),
        alpha: parts.alpha,
        observed_disagreement: parts.d_o,
        expected_disagreement: parts.d_e,
        units: s.units_with_values,
        pairable_units: s.n_units(),
        pairable_values: parts.n as usize,
        annotators: labels.active_annotators(),
        categories_used: parts.categories_used,
    })
}

/// Alpha straight from Krippendorff's layout, `rows[coder][unit]` of numeric values or `None`.
///
/// Categories are the distinct values, sorted; the level picks the metric.
pub fn krippendorff_alpha_values(
    rows: &[Vec<Option<f64>>],
    level: Level,
) -> Result<AlphaReport, QualityError> {
    let scale = Scale::from_observed(rows.iter().flatten().flatten().copied())?;
    let coded: Vec<Vec<Option<u32>>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|v| v.and_then(|x| scale.index_of(x)))
                .collect()
        })
        .collect();
    let labels = LabelSet::from_coder_rows(&coded, scale.len())?;
    let metric = match level {
        Level::Nominal => Metric::Nominal,
        Level::Ordinal => Metric::Ordinal,
        Level::Interval => Metric::Interval(&scale),
        Level::Ratio => Metric::Ratio(&scale),
    };
    krippendorff_alpha(&labels, metric)
}

/// The dense k×k coincidence matrix `o[c][k]`, for inspection and reports on small scales.
pub fn coincidence_matrix(labels: &LabelSet) -> Vec<Vec<f64>> {
    let k = labels.n_categories();
    let s = UnitSummaries::new(labels);
    let mut o = vec![vec![0.0; k]; k];
    for u in 0..s.n_units() {
        let (cats, counts) = s.unit(u);
        let m_u: u32 = counts.iter().sum();
        for (a, na) in cats.iter().zip(counts) {
            for (b, nb) in cats.iter().zip(counts) {
                let pairs = f64::from(*na) * f64::from(if a == b { nb - 1 } else { *nb });
                o[*a as usize][*b as usize] += pairs / f64::from(m_u - 1);
            }
        }
    }
    o
}
