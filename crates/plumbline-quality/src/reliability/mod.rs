//! Annotator reliability: how often an annotator agrees with a reference, as a Beta posterior.
//!
//! The model is one number per annotator, r = P(the annotator agrees with the reference), with a
//! Beta prior chosen by verified expertise. Every scored outcome (a hidden-gold answer, a
//! qualification answer, an adjudicated item) is one observation with a credit in [0, 1]: for
//! preference, 1 for naming the reference's winner and 0 for naming another candidate. Other task
//! kinds use the same model over "agreed with the reference under the project's agreement rule".
//!
//! Ties are not modelled as their own outcome: a tie vote against a strict reference, or a strict
//! vote against a tie reference, earns half credit ([`AgreementRule::TieHalf`]). That is the
//! expected credit of an annotator who would break their tie with a coin flip; it keeps one number
//! per annotator, so a few gold answers are enough to move it, and never punishes an honest tie
//! as hard as a wrong winner.
//!
//! The posterior is Beta(α₀ + agreed, β₀ + disagreed) with fractional counts; its mean is the
//! reliability and its equal-tailed credible interval is computed exactly from the inverse of the
//! regularized incomplete beta function ([`crate::special::beta_quantile`]). With few
//! observations the mean stays near the prior's; with many it follows the data.

mod em;

pub use em::{FittedReliability, ReliabilityEmConfig, ReliabilityFit, fit_reliability};

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::QualityError;
use crate::special::beta_quantile;

/// Verified expertise of an annotator in the project's domain, lowest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpertiseLevel {
    /// No verified expertise (crowd).
    None,
    /// Verified novice.
    Novice,
    /// Verified practitioner.
    Practitioner,
    /// Verified expert.
    Expert,
}

impl ExpertiseLevel {
    /// The level's name as parsed: `none`, `novice`, `practitioner` or `expert`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExpertiseLevel::None => "none",
            ExpertiseLevel::Novice => "novice",
            ExpertiseLevel::Practitioner => "practitioner",
            ExpertiseLevel::Expert => "expert",
        }
    }
}

impl fmt::Display for ExpertiseLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExpertiseLevel {
    type Err = QualityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "none" => Ok(ExpertiseLevel::None),
            "novice" => Ok(ExpertiseLevel::Novice),
            "practitioner" => Ok(ExpertiseLevel::Practitioner),
            "expert" => Ok(ExpertiseLevel::Expert),
            other => Err(QualityError::InvalidConfig(format!(
                "unknown expertise level `{other}` (expected none, novice, practitioner or expert)"
            ))),
        }
    }
}

/// A Beta prior written as its mean and its strength in pseudo-observations.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BetaPrior {
    /// Prior mean reliability, in (0, 1).
    pub mean: f64,
    /// Pseudo-observations the prior is worth (α₀ + β₀), positive.
    pub strength: f64,
}

impl BetaPrior {
    /// A prior of `mean` worth `strength` observations; refuses a mean outside (0, 1) or a
    /// strength that is not positive and finite.
    pub fn new(mean: f64, strength: f64) -> Result<BetaPrior, QualityError> {
        if !(mean > 0.0 && mean < 1.0 && strength > 0.0 && strength.is_finite()) {
            return Err(QualityError::InvalidConfig(format!(
                "a reliability prior needs a mean in (0, 1) and a positive strength, got mean {mean}, strength {strength}"
            )));
        }
        Ok(BetaPrior { mean, strength })
    }

    /// α₀, the prior's pseudo-agreements.
    pub fn alpha(&self) -> f64 {
        self.mean * self.strength
    }

    /// β₀, the prior's pseudo-disagreements.
    pub fn beta(&self) -> f64 {
        (1.0 - self.mean) * self.strength
    }

    fn check(&self) -> Result<(), QualityError> {
        BetaPrior::new(self.mean, self.strength).map(|_| ())
    }
}

/// Default prior strength: five pseudo-observations.
///
/// After 20 scored answers the data carries 80% of the weight; a verified expert (prior 0.9) who
/// gets 10 gold answers half right falls to 0.63, below an unverified annotator's prior.
pub const DEFAULT_PRIOR_STRENGTH: f64 = 5.0;

/// Default reliability of an imported (external) choice: 0.7.
///
/// Imported preference data is about as reliable as a careful crowd; at 0.7 an item's single
/// imported vote decides it with posterior 0.7, and one verified expert (0.9) outweighs it.
pub const DEFAULT_EXTERNAL_RELIABILITY: f64 = 0.7;

/// Priors by verified expertise, and the stated reliability of external sources.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityPriors {
    /// No verified expertise. Default mean 0.65: crowd agreement with experts on preference
    /// tasks is commonly reported at 0.6–0.75.
    pub none: BetaPrior,
    /// Verified novice. Default mean 0.70.
    pub novice: BetaPrior,
    /// Verified practitioner. Default mean 0.80.
    pub practitioner: BetaPrior,
    /// Verified expert. Default mean 0.90: experts disagree with each other on about one
    /// preference pair in ten.
    pub expert: BetaPrior,
    /// Reliability stated for an imported choice (no person behind it to score), in (0, 1).
    pub external: f64,
}

impl Default for ReliabilityPriors {
    fn default() -> Self {
        let p = |mean| BetaPrior {
            mean,
            strength: DEFAULT_PRIOR_STRENGTH,
        };
        ReliabilityPriors {
            none: p(0.65),
            novice: p(0.70),
            practitioner: p(0.80),
            expert: p(0.90),
            external: DEFAULT_EXTERNAL_RELIABILITY,
        }
    }
}

impl ReliabilityPriors {
    /// The prior of an annotator with verified expertise `level`.
    pub fn for_level(&self, level: ExpertiseLevel) -> BetaPrior {
        match level {
            ExpertiseLevel::None => self.none,
            ExpertiseLevel::Novice => self.novice,
            ExpertiseLevel::Practitioner => self.practitioner,
            ExpertiseLevel::Expert => self.expert,
        }
    }

    /// Refuses a prior outside its domain or an external reliability outside (0, 1).
    pub fn check(&self) -> Result<(), QualityError> {
        for p in [self.none, self.novice, self.practitioner, self.expert] {
            p.check()?;
        }
        if !(self.external > 0.0 && self.external < 1.0) {
            return Err(QualityError::InvalidConfig(format!(
                "the external reliability must be in (0, 1), got {}",
                self.external
            )));
        }
        Ok(())
    }
}

/// Default credible level of the reliability interval: 95%.
pub const DEFAULT_CREDIBLE_LEVEL: f64 = 0.95;

/// Settings of the reliability model.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityConfig {
    /// Priors by expertise.
    pub priors: ReliabilityPriors,
    /// Mass of the equal-tailed credible interval, in (0, 1).
    pub credible_level: f64,
}

impl Default for ReliabilityConfig {
    fn default() -> Self {
        ReliabilityConfig {
            priors: ReliabilityPriors::default(),
            credible_level: DEFAULT_CREDIBLE_LEVEL,
        }
    }
}

impl ReliabilityConfig {
    /// Refuses priors or a credible level outside their domains.
    pub fn check(&self) -> Result<(), QualityError> {
        self.priors.check()?;
        check_level(self.credible_level)
    }

    /// The posterior reliability of an annotator at `level` with the outcomes in `tally`.
    pub fn posterior(
        &self,
        level: ExpertiseLevel,
        tally: &ReliabilityTally,
    ) -> Result<Reliability, QualityError> {
        self.check()?;
        reliability(tally, self.priors.for_level(level), self.credible_level)
    }
}

fn check_level(level: f64) -> Result<(), QualityError> {
    if level > 0.0 && level < 1.0 {
        Ok(())
    } else {
        Err(QualityError::InvalidConfig(format!(
            "the credible level must be in (0, 1), got {level}"
        )))
    }
}

/// How a vote is scored against a reference answer, both as category indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AgreementRule {
    /// Credit 1 for the same category, else 0.
    Exact,
    /// As `Exact`, but a tie (category `tie`) against a strict answer, or a strict vote against a
    /// tie answer, earns 1/2.
    TieHalf {
        /// The category that means "tie".
        tie: u32,
    },
}

impl AgreementRule {
    /// The credit of `vote` against `reference`: 1, 1/2 or 0.
    pub fn credit(self, vote: u32, reference: u32) -> f64 {
        if vote == reference {
            return 1.0;
        }
        match self {
            AgreementRule::Exact => 0.0,
            AgreementRule::TieHalf { tie } if vote == tie || reference == tie => 0.5,
            AgreementRule::TieHalf { .. } => 0.0,
        }
    }
}

/// Scored outcomes of one annotator: credits summed, possibly weighted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct ReliabilityTally {
    /// Σ weight × credit.
    pub agreed: f64,
    /// Σ weight.
    pub scored: f64,
    /// Observations recorded, unweighted.
    pub observations: u64,
}

impl ReliabilityTally {
    /// An empty tally.
    pub fn new() -> ReliabilityTally {
        ReliabilityTally::default()
    }

    /// Records one outcome with `credit` in [0, 1] (1 agreed, 1/2 half, 0 disagreed).
    pub fn record(&mut self, credit: f64) {
        self.record_weighted(credit, 1.0);
    }

    /// Records one outcome counting `weight` observations; credit is clamped to [0, 1], and a
    /// `NaN` credit or a weight that is not positive and finite records nothing.
    pub fn record_weighted(&mut self, credit: f64, weight: f64) {
        if credit.is_nan() || !(weight > 0.0 && weight.is_finite()) {
            return;
        }
        self.agreed += weight * credit.clamp(0.0, 1.0);
        self.scored += weight;
        self.observations += 1;
    }

    /// Records `vote` against `reference` under `rule`.
    pub fn record_vote(&mut self, rule: AgreementRule, vote: u32, reference: u32) {
        self.record(rule.credit(vote, reference));
    }

    /// Adds another tally's outcomes (gold plus qualification plus adjudication, say).
    pub fn merge(&mut self, other: &ReliabilityTally) {
        self.agreed += other.agreed;
        self.scored += other.scored;
        self.observations += other.observations;
    }
}

/// An annotator's posterior reliability and what it rests on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Reliability {
    /// Posterior mean of r.
    pub mean: f64,
    /// Lower end of the equal-tailed credible interval.
    pub lower: f64,
    /// Upper end of the equal-tailed credible interval.
    pub upper: f64,
    /// Credible level of the interval.
    pub credible_level: f64,
    /// Scored outcomes the posterior rests on (beyond the prior).
    pub tally: ReliabilityTally,
    /// The prior it started from.
    pub prior: BetaPrior,
}

impl Reliability {
    /// Posterior α: prior plus agreements.
    pub fn alpha(&self) -> f64 {
        self.prior.alpha() + self.tally.agreed
    }

    /// Posterior β: prior plus disagreements.
    pub fn beta(&self) -> f64 {
        self.prior.beta() + (self.tally.scored - self.tally.agreed)
    }
}

/// The Beta posterior of `tally` under `prior`, with an equal-tailed interval at `credible_level`.
pub fn reliability(
    tally: &ReliabilityTally,
    prior: BetaPrior,
    credible_level: f64,
) -> Result<Reliability, QualityError> {
    prior.check()?;
    check_level(credible_level)?;
    let ok = |v: f64| v.is_finite() && v >= 0.0;
    if !(ok(tally.agreed) && ok(tally.scored) && tally.agreed <= tally.scored * (1.0 + 1e-12)) {
        return Err(QualityError::InvalidConfig(format!(
            "a reliability tally needs 0 <= agreed <= scored, finite; got {} of {}",
            tally.agreed, tally.scored
        )));
    }
    let a = prior.alpha() + tally.agreed;
    let b = prior.beta() + (tally.scored - tally.agreed).max(0.0);
    let tail = 0.5 * (1.0 - credible_level);
    let mean = a / (a + b);
    // For shapes below about 0.05 the mean can fall outside the equal-tailed interval; widen
    // the interval to hold it, so no report shows a mean outside its own interval.
    let lower = beta_quantile(tail, a, b).map(|q| q.min(mean));
    let upper = beta_quantile(1.0 - tail, a, b).map(|q| q.max(mean));
    let (Some(lower), Some(upper)) = (lower, upper) else {
        return Err(QualityError::InvalidConfig(format!(
            "the reliability posterior Beta({a}, {b}) has no finite interval"
        )));
    };
    Ok(Reliability {
        mean,
        lower,
        upper,
        credible_level,
        tally: *tally,
        prior,
    })
}
