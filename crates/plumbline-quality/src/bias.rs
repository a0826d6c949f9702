//! Bias in pairwise judgments: position, length, surface trait and priority inversions.
//!
//! Every share comes with the count it rests on, pooled and per annotator. Ties carry no
//! direction and are left out of the position, length and surface-trait shares.
//!
//! Position and length bias are flagged by an exact two-sided binomial test of share = 1/2 at
//! p < [`BIAS_FLAG_P`], reported with the effect (share − 1/2): a flag is evidence, not a
//! distance from 50% that a handful of judgments can cross by chance. The length threshold τ only
//! chooses which pairs are length comparisons at all (lengths differing by more than τ).

use serde::Serialize;

use crate::bradley_terry::Comparison;
pub use crate::bradley_terry::Winner;
use crate::{Estimate, Undefined};

/// Default length threshold τ, in characters.
pub const DEFAULT_LENGTH_THRESHOLD: u32 = 30;

/// Significance level of the position and length flags: 0.01.
///
/// Strict because every annotator is tested twice on each dashboard view; at 0.05 one unbiased
/// annotator in ten would carry a flag.
pub const BIAS_FLAG_P: f64 = 0.01;

/// A display side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    /// The left option of the judgment.
    Left,
    /// The right option of the judgment.
    Right,
}

/// One pairwise judgment as the bias and drift measures read it.
///
/// The server fills every field from a preference judgment; a file may know only some. `left`
/// and `right` are candidate ids (not display positions); `first_shown` says which was shown first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PairwiseJudgment {
    /// Item index.
    pub item: u32,
    /// Annotator index.
    pub annotator: u32,
    /// Option (candidate or model) index of the left side.
    pub left: u32,
    /// Option index of the right side.
    pub right: u32,
    /// Who won.
    pub winner: Winner,
    /// Length of the left candidate, in characters.
    pub left_len: Option<u32>,
    /// Length of the right candidate, in characters.
    pub right_len: Option<u32>,
    /// Which side was displayed first.
    pub first_shown: Option<Side>,
    /// Whether the left candidate carries a hard-criterion violation.
    pub left_hard_violation: Option<bool>,
    /// Whether the right candidate carries a hard-criterion violation.
    pub right_hard_violation: Option<bool>,
    /// Whether the judgment broke the priority rule under an explicit override.
    pub priority_inversion: Option<bool>,
    /// When it was submitted, seconds since the Unix epoch.
    pub time: Option<i64>,
    /// Rubric version it was made under.
    pub rubric_version: Option<u32>,
}

impl From<&PairwiseJudgment> for Comparison {
    fn from(j: &PairwiseJudgment) -> Comparison {
        Comparison {
            left: j.left,
            right: j.right,
            winner: j.winner,
        }
    }
}

/// Settings of the bias measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BiasConfig {
    /// Length bias counts only pairs whose lengths differ by more than this many characters.
    pub length_threshold: u32,
}

impl Default for BiasConfig {
    fn default() -> Self {
        BiasConfig {
            length_threshold: DEFAULT_LENGTH_THRESHOLD,
        }
    }
}

/// A share of `hits` out of `n`, with an exact binomial test against one half where it applies.
#[derive(Debug, Clone, Serialize)]
pub struct Share {
    /// hits / n, or why it is undefined.
    #[serde(flatten)]
    pub share: Estimate,
    /// Judgments counted as hits.
    pub hits: u64,
    /// Judgments the share rests on.
    pub n: u64,
    /// Exact two-sided binomial test of share = 1/2, where that null makes sense.
    pub p_value: Option<f64>,
    /// Effect size share − 1/2, where the test applies.
    pub effect: Option<f64>,
    /// Whether the test rejects share = 1/2 at p < [`BIAS_FLAG_P`].
    pub flagged: bool,
}

impl Share {
    fn new(hits: u64, n: u64, empty: Undefined, test: bool) -> Share {
        let p_value = (test && n > 0).then(|| binomial_test(hits, n, 0.5));
        Share {
            share: if n == 0 {
                Estimate::Undefined(empty)
            } else {
                Estimate::Value(hits as f64 / n as f64)
            },
            hits,
            n,
            p_value,
            effect: p_value.map(|_| hits as f64 / n as f64 - 0.5),
            flagged: p_value.is_some_and(|p| p < BIAS_FLAG_P),
        }
    }

    /// `hits` out of `n` tested against one half and flagged at p < [`BIAS_FLAG_P`], for callers
    /// that count position or length picks themselves (hits beyond `n` are not counted);
    /// undefined with no data when `n = 0`.
    pub fn tested(hits: u64, n: u64) -> Share {
        Share::new(hits.min(n), n, Undefined::NoData, true)
    }
}

/// The four bias measures over one group of judgments.
#[derive(Debug, Clone, Serialize)]
pub struct BiasStats {
    /// Judgments in the group.
    pub judgments: u64,
    /// Ties in the group.
    pub ties: u64,
    /// Share of non-tie picks of the first-shown option, among judgments that record it.
    pub position: Share,
    /// Share of non-tie picks of the longer candidate, among pairs differing by more than τ.
    pub length: Share,
    /// Share of non-tie wins given to a candidate with a hard violation over one without.
    pub surface_trait: Share,
    /// Share of judgments flagged as priority inversions, among those that record the flag.
    pub priority_inversion: Share,
}

/// Bias pooled over everyone and per annotator.
#[derive(Debug, Clone, Serialize)]
pub struct BiasReport {
    /// Length threshold τ used.
    pub length_threshold: u32,
    /// All judgments.
    pub pooled: BiasStats,
    /// Per annotator, by index.
    pub per_annotator: Vec<BiasStats>,
}

#[derive(Default, Clone, Copy)]
struct Tally {
    judgments: u64,
    ties: u64,
    first: (u64, u64),
    longer: (u64, u64),
    violating: (u64, u64),
    inversions: (u64, u64),
}

impl Tally {
    fn add(&mut self, j: &PairwiseJudgment, tau: u32) {
        self.judgments += 1;
        if let Some(inv) = j.priority_inversion {
            self.inversions.0 += u64::from(inv);
            self.inversions.1 += 1;
        }
        let won = match j.winner {
            Winner::Tie => {
                self.ties += 1;
                return;
            }
            Winner::Left => Side::Left,
            Winner::Right => Side::Right,
        };
        if let Some(first) = j.first_shown {
            self.first.0 += u64::from(first == won);
            self.first.1 += 1;
        }
        if let (Some(l), Some(r)) = (j.left_len, j.right_len)
            && l.abs_diff(r) > tau
        {
            let longer = if l > r { Side::Left } else { Side::Right };
            self.longer.0 += u64::from(longer == won);
            self.longer.1 += 1;
        }
        if let (Some(lv), Some(rv)) = (j.left_hard_violation, j.right_hard_violation)
            && lv != rv
        {
            let violating = if lv { Side::Left } else { Side::Right };
            self.violating.0 += u64::from(violating == won);
            self.violating.1 += 1;
        }
    }

    fn stats(&self) -> BiasStats {
        let non_tie = |u| {
            if self.judgments > 0 && self.judgments == self.ties {
                Undefined::AllTies
            } else {
                u
            }
        };
        BiasStats {
            judgments: self.judgments,
            ties: self.ties,
            position: Share::new(
                self.first.0,
                self.first.1,
                non_tie(Undefined::NoPositionData),
                true,
            ),
            length: Share::new(
                self.longer.0,
                self.longer.1,
                non_tie(Undefined::NoLengthData),
                true,
            ),
            surface_trait: Share::new(
                self.violating.0,
                self.violating.1,
                non_tie(Undefined::NoViolationData),
                false,
            ),
            priority_inversion: Share::new(
                self.inversions.0,
                self.inversions.1,
                Undefined::NoInversionData,
                false,
            ),
        }
    }
}

/// Position, length, surface-trait and priority-inversion bias, pooled and per annotator.
///
/// Annotator indices at or above `n_annotators` widen the per-annotator list.
pub fn bias(judgments: &[PairwiseJudgment], n_annotators: usize, config: BiasConfig) -> BiasReport {
    let n_ann = judgments
        .iter()
        .map(|j| j.annotator as usize + 1)
        .max()
        .unwrap_or(0)
        .max(n_annotators);
    let mut pooled = Tally::default();
    let mut per = vec![Tally::default(); n_ann];
    for j in judgments {
        pooled.add(j, config.length_threshold);
        per[j.annotator as usize].add(j, config.length_threshold);
    }
    BiasReport {
        length_threshold: config.length_threshold,
        pooled: pooled.stats(),
        per_annotator: per.iter().map(Tally::stats).collect(),
    }
}

/// Exact two-sided binomial test of `x` successes in `n` trials against success probability `p`.
///
/// The p-value sums the probabilities of every outcome no more likely than `x` (with R's
/// relative tolerance of 1e-7), as `binom.test` does. Returns 1 when `n = 0`.
pub fn binomial_test(x: u64, n: u64, p: f64) -> f64 {
    if n == 0 || !(0.0..=1.0).contains(&p) {
        return 1.0;
    }
    if p == 0.0 {
        return if x == 0 { 1.0 } else { 0.0 };
    }
    if p == 1.0 {
        return if x == n { 1.0 } else { 0.0 };
    }
    if (x as f64 - n as f64 * p).abs() < 1e-9 {
        return 1.0;
    }
    let (lp, lq) = (p.ln(), (1.0 - p).ln());
    // Walks log pmf(k) by the ratio pmf(k+1)/pmf(k) = (n−k)/(k+1) · p/q.
    let log_pmf = |visit: &mut dyn FnMut(u64, f64)| {
        let mut l = n as f64 * lq;
        for k in 0..=n {
            visit(k, l);
            if k < n {
                l += ((n - k) as f64).ln() - ((k + 1) as f64).ln() + lp - lq;
            }
        }
    };
    let mut lx = 0.0;
    let mut lmax = f64::NEG_INFINITY;
    log_pmf(&mut |k, l| {
        if k == x {
            lx = l;
        }
        lmax = lmax.max(l);
    });
    let cutoff = lx + (1.0 + 1e-7f64).ln();
    let mut sum = 0.0;
    log_pmf(&mut |_, l| {
        if l <= cutoff {
            sum += (l - lmax).exp();
        }
    });
    (lmax.exp() * sum).min(1.0)
}
