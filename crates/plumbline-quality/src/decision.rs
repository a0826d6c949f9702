//! Deciding an item from its votes, weighting each voter by their reliability.
//!
//! The rule is the one-coin model: a voter of reliability r names the true option with
//! probability r and each of the other K − 1 options with probability (1 − r)/(K − 1), votes
//! independent given the truth. With a uniform prior the posterior of option c is proportional to
//! exp(Σ weights of the votes for c), where a vote's weight is its log-odds contribution
//! w = ln(r (K − 1) / (1 − r)). So a single vote of reliability r wins with posterior r, and one
//! expert at 0.92 (w = 2.44 for K = 2) outweighs four voters at 0.55 (w = 0.20 each).
//!
//! Two guards keep the arithmetic finite and the rule sane:
//! - r is clamped to [ε, 1 − ε] with ε = [`RELIABILITY_EPSILON`] (1e-6), so r = 0 or 1 gives a
//!   finite weight (at most ln(10⁶ (K − 1))) and two "perfect" voters who disagree cancel out
//!   instead of dividing infinity by infinity.
//! - a voter at or below chance (r ≤ 1/K) weighs zero, not less: reading a vote as evidence for
//!   the *other* options would let a careless voter decide items nobody chose. Hence, under the
//!   uniform prior, the winner is always an option somebody voted for.
//!
//! Ties between options (posteriors within a relative 1e-12) go to the option with more votes,
//! then the lower index, whatever the order of the votes; the decision is marked `tied`. A tied
//! winner's posterior is at most 1/2, so any decision threshold above 1/2 leaves it out.
//!
//! [`DecisionMethod`] names this rule and the two older ones (majority vote, Dawid-Skene) for a
//! `--decision` switch; [`decide_winners`] runs any of them over a [`LabelSet`].

use std::fmt;
use std::str::FromStr;

use serde::Serialize;
use thiserror::Error;

use crate::aggregate::{DawidSkeneConfig, dawid_skene_winners};
use crate::aggregate::{TieBreak, softmax_in_place};
use crate::{LabelSet, QualityError};

/// Reliabilities are clamped to [ε, 1 − ε] before taking log-odds.
pub const RELIABILITY_EPSILON: f64 = 1e-6;

/// Largest weight [`decide_into`] accepts from a caller; larger ones (and +∞) are cut to it.
///
/// Far above any weight [`vote_weight`] gives (ln(10⁶ (K − 1)) ≈ 14 + ln(K − 1)).
pub const MAX_VOTE_WEIGHT: f64 = 64.0;

/// Relative tolerance within which two posteriors count as tied.
const TIE_TOLERANCE: f64 = 1e-12;

/// A posterior this close below a threshold reaches it ([`reaches`]).
pub const THRESHOLD_TOLERANCE: f64 = 1e-9;

/// Whether a winner's `posterior` reaches `threshold`, within [`THRESHOLD_TOLERANCE`].
///
/// The rule's arithmetic (log-odds, then a softmax) is exact to a few ulps only, and its
/// posteriors land on a threshold exactly in common cases: one voter of reliability r (the
/// others at or below chance, weight 0) gives posterior r in exact arithmetic, so an
/// expert at the prior mean 0.9 against the default threshold 0.9 computes to
/// 0.8999999999999999 and would be left out by rounding.
pub fn reaches(posterior: f64, threshold: f64) -> bool {
    posterior >= threshold - THRESHOLD_TOLERANCE
}

/// The log-odds weight of a vote of reliability `reliability` among `k` options.
///
/// ln(r (K − 1) / (1 − r)) with r clamped to [ε, 1 − ε]; zero at or below chance (r ≤ 1/K),
/// for a `NaN` reliability, and when there are fewer than two options.
pub fn vote_weight(reliability: f64, k: usize) -> f64 {
    if k < 2 || reliability.is_nan() {
        return 0.0;
    }
    let r = reliability.clamp(RELIABILITY_EPSILON, 1.0 - RELIABILITY_EPSILON);
    let w = (r * (k - 1) as f64 / (1.0 - r)).ln();
    w.max(0.0)
}

/// A prior over the options, kept as logarithms so a decision does not take them per call.
#[derive(Debug, Clone, PartialEq)]
pub struct LogPrior(Vec<f64>);

impl LogPrior {
    /// The prior with these probabilities (positive and finite; normalised here).
    pub fn new(probabilities: &[f64]) -> Result<LogPrior, QualityError> {
        if probabilities.is_empty() {
            return Err(QualityError::BadWeights(
                "a prior needs at least one option".into(),
            ));
        }
        if let Some((c, p)) = probabilities
            .iter()
            .enumerate()
            .find(|(_, p)| !(p.is_finite() && **p > 0.0))
        {
            return Err(QualityError::BadWeights(format!(
                "prior probability of option {c} is {p}; it must be positive and finite"
            )));
        }
        let total: f64 = probabilities.iter().sum();
        Ok(LogPrior(
            probabilities.iter().map(|p| (p / total).ln()).collect(),
        ))
    }

    /// The uniform prior over `k` options.
    pub fn uniform(k: usize) -> LogPrior {
        LogPrior(vec![-(k as f64).ln(); k])
    }

    /// Number of options.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether it covers no option (never, by construction).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The log-probabilities.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }
}

/// The decision on one item.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Decision {
    /// The chosen option; `None` when the item has no votes.
    pub winner: Option<u32>,
    /// The winner's posterior probability; 0 when there is no winner.
    pub posterior: f64,
    /// Whether the winner was picked by the tie-break.
    pub tied: bool,
}

/// Decides one item from `votes` as (option, weight) pairs and writes every option's posterior
/// into `out`, whose length is the number of options K. No allocation.
///
/// Weights are log-odds as [`vote_weight`] gives; a weight that is not positive (or `NaN`) counts
/// zero and one above [`MAX_VOTE_WEIGHT`] counts that much. With no votes, `out` holds the prior
/// (uniform if `None`) and there is no winner. Refuses an option at or past K and a prior over a
/// different number of options.
pub fn decide_into(
    votes: &[(u32, f64)],
    prior: Option<&LogPrior>,
    out: &mut [f64],
) -> Result<Decision, QualityError> {
    let k = out.len();
    match prior {
        Some(p) if p.len() != k => {
            return Err(QualityError::BadWeights(format!(
                "the prior covers {} options but the item has {k}",
                p.len()
            )));
        }
        Some(p) => out.copy_from_slice(p.as_slice()),
        None => out.fill(0.0),
    }
    for &(option, w) in votes {
        let Some(slot) = out.get_mut(option as usize) else {
            return Err(QualityError::OptionOutOfRange {
                index: option,
                count: k,
            });
        };
        if w > 0.0 {
            *slot += w.min(MAX_VOTE_WEIGHT);
        }
    }
    if k == 0 {
        return Ok(NO_DECISION);
    }
    softmax_in_place(out);
    if votes.is_empty() {
        return Ok(NO_DECISION);
    }
    let best = out.iter().copied().fold(0.0, f64::max);
    let tol = TIE_TOLERANCE * best;
    let mut winner = 0;
    let mut n_top = 0;
    for (c, p) in out.iter().enumerate() {
        if best - p <= tol {
            n_top += 1;
            if n_top == 1 {
                winner = c;
            } else {
                // Rare: count votes only for tied options.
                let count = |o: usize| votes.iter().filter(|v| v.0 as usize == o).count();
                if count(c) > count(winner) {
                    winner = c;
                }
            }
        }
    }
    Ok(Decision {
        winner: Some(winner as u32),
        posterior: out[winner],
        tied: n_top > 1,
    })
}

const NO_DECISION: Decision = Decision {
    winner: None,
    posterior: 0.0,
    tied: false,
};

/// One vote as provenance sees it: the option and the voter's reliability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Vote {
    /// The option voted for.
    pub option: u32,
    /// The voter's reliability (an annotator's posterior mean, or an external source's stated
    /// reliability such as [`crate::reliability::DEFAULT_EXTERNAL_RELIABILITY`]).
    pub reliability: f64,
}

impl Vote {
    /// An imported choice, voting with the external sources' stated reliability.
    pub fn external(option: u32, priors: &crate::reliability::ReliabilityPriors) -> Vote {
        Vote {
            option,
            reliability: priors.external,
        }
    }
}

/// A decision with every option's posterior and every vote's weight, for provenance.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ItemDecision {
    /// Winner, its posterior and whether it was tied.
    #[serde(flatten)]
    pub decision: Decision,
    /// Posterior of each option, summing to 1.
    pub posteriors: Vec<f64>,
    /// Each vote's log-odds weight, parallel to the votes given.
    pub weights: Vec<f64>,
}

/// Decides an item of `k` options from `votes`, reporting each vote's weight (allocates; the
/// export's per-item path is [`decide_into`]).
pub fn decide(
    k: usize,
    votes: &[Vote],
    prior: Option<&LogPrior>,
) -> Result<ItemDecision, QualityError> {
    let pairs: Vec<(u32, f64)> = votes
        .iter()
        .map(|v| (v.option, vote_weight(v.reliability, k)))
        .collect();
    let mut posteriors = vec![0.0; k];
    let decision = decide_into(&pairs, prior, &mut posteriors)?;
    Ok(ItemDecision {
        decision,
        posteriors,
        weights: pairs.into_iter().map(|p| p.1).collect(),
    })
}

/// How an export decides contested items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DecisionMethod {
    /// Reliability-weighted one-coin posterior ([`decide_into`]); the default.
    #[default]
    Reliability,
    /// Unsupervised Dawid-Skene EM over the items decided together.
    DawidSkene,
    /// Plain majority vote, share of the votes as the posterior.
    Majority,
}

impl DecisionMethod {
    /// Every method, in the order the help text lists them.
    pub const ALL: [DecisionMethod; 3] = [
        DecisionMethod::Reliability,
        DecisionMethod::DawidSkene,
        DecisionMethod::Majority,
    ];

    /// The name as parsed: `reliability`, `dawid-skene` or `majority`.
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionMethod::Reliability => "reliability",
            DecisionMethod::DawidSkene => "dawid-skene",
            DecisionMethod::Majority => "majority",
        }
    }
}

impl fmt::Display for DecisionMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--decision` value that names no method.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("unknown decision method `{0}` (expected reliability, dawid-skene or majority)")]
pub struct UnknownDecisionMethod(pub String);

impl FromStr for DecisionMethod {
    type Err = UnknownDecisionMethod;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        DecisionMethod::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| UnknownDecisionMethod(s.to_owned()))
    }
}

/// Decides every item of `labels` by `method`: per item, the winner and its posterior (vote share
/// for majority), or `None` for an item without votes. Same shape as [`dawid_skene_winners`].
///
/// `reliability[annotator]` is read by [`DecisionMethod::Reliability`] only (one entry per
/// annotator, external sources included as annotators with their stated reliability);
/// `dawid_skene` by [`DecisionMethod::DawidSkene`] only. Majority breaks ties by the crate's
/// rule (most frequent category overall, then lowest index), the reliability rule by more votes
/// on the item, then lowest index.
pub fn decide_winners(
    method: DecisionMethod,
    labels: &LabelSet,
    reliability: &[f64],
    dawid_skene: DawidSkeneConfig,
) -> Result<Vec<Option<(u32, f32)>>, QualityError> {
    let k = labels.n_categories();
    let mut out = Vec::with_capacity(labels.n_items());
    match method {
        DecisionMethod::DawidSkene => return dawid_skene_winners(labels, dawid_skene),
        DecisionMethod::Majority => {
            let tb = TieBreak::new(labels);
            let mut counts = vec![0.0; k];
            for i in 0..labels.n_items() {
                let ls = labels.labels_of(i);
                if ls.is_empty() {
                    out.push(None);
                    continue;
                }
                counts.fill(0.0);
                for &l in ls {
                    counts[l as usize] += 1.0;
                }
                let (label, _) = tb.pick(&counts);
                out.push(label.map(|l| (l, (counts[l as usize] / ls.len() as f64) as f32)));
            }
        }
        DecisionMethod::Reliability => {
            if reliability.len() != labels.n_annotators() {
                return Err(QualityError::BadWeights(format!(
                    "{} reliabilities for {} annotators",
                    reliability.len(),
                    labels.n_annotators()
                )));
            }
            let weights: Vec<f64> = reliability.iter().map(|r| vote_weight(*r, k)).collect();
            let mut votes: Vec<(u32, f64)> = Vec::new();
            let mut post = vec![0.0; k];
            for i in 0..labels.n_items() {
                votes.clear();
                votes.extend(
                    labels
                        .annotators_of(i)
                        .iter()
                        .zip(labels.labels_of(i))
                        .map(|(&a, &l)| (l, weights[a as usize])),
                );
                let d = decide_into(&votes, None, &mut post)?;
                out.push(d.winner.map(|w| (w, d.posterior as f32)));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lone_voter_at_the_threshold_reaches_it() {
        let mut out = [0.0; 2];
        let d = decide_into(&[(0, vote_weight(0.9, 2))], None, &mut out).unwrap();
        assert!(
            d.posterior < 0.9,
            "rounding puts it a hair below: {}",
            d.posterior
        );
        assert!(reaches(d.posterior, 0.9));
        assert!(!reaches(0.899_999, 0.9));
        assert!(reaches(0.95, 0.9));
    }
}
