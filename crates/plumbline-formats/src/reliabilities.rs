//! Each voter's reliability, as the decision of a pair weighs it.
//!
//! An annotator's reliability is the mean of a Beta posterior (`plumbline-quality`'s
//! reliability model): the prior by their verified level in the project's domain (none
//! 0.65, novice 0.70, practitioner 0.80, expert 0.90, each worth five answers), updated by
//! their scored outcomes in the project — every judgment the engine scored against gold
//! (hidden gold and qualification, any task kind), and every preference vote on an item a
//! reviewer decided (1 for the reviewer's winner, ½ when one of the two is a tie, else 0).
//! An external source (an imported file's prior choices) has no outcomes to learn from and
//! votes with the stated reliability [`DEFAULT_EXTERNAL_RELIABILITY`] (0.7).
//!
//! Reliabilities are read once, before the items (a few rows an annotator), so every item of
//! an export is decided with the same ones.

use crate::kinds::{Annotators, pseudonym};
use plumbline_domain::Level;
use plumbline_quality::decision::vote_weight;
use plumbline_quality::reliability::{
    AgreementRule, ExpertiseLevel, ReliabilityConfig, ReliabilityTally,
};
use plumbline_store::{AnnotatorOutcomes, PseudonymKey};
use std::collections::HashMap;

pub use plumbline_quality::reliability::DEFAULT_EXTERNAL_RELIABILITY;

/// Options of a preference pair: the two candidates (a tie vote is evidence for neither).
pub const PAIR_OPTIONS: usize = 2;

/// The category of a tie vote, after the two candidates.
const TIE: u32 = 2;

/// One annotator as a voter: pseudonym, reliability and the weight of their votes.
#[derive(Debug, Clone, PartialEq)]
pub struct AnnotatorVoter {
    /// The pseudonym exports show (see [`pseudonym`]).
    pub pseudonym: String,
    /// Posterior mean reliability.
    pub reliability: f64,
    /// Log-odds weight of a vote for one of the two candidates.
    pub weight: f64,
}

/// The reliabilities of a project's voters.
#[derive(Debug, Clone)]
pub struct Reliabilities {
    config: ReliabilityConfig,
    annotators: HashMap<i64, AnnotatorVoter>,
    levels: std::sync::Arc<Annotators>,
    key: PseudonymKey,
    external_weight: f64,
}

impl Default for Reliabilities {
    fn default() -> Self {
        Reliabilities::new(
            &Default::default(),
            &PseudonymKey::from_bytes([0; 32]),
            &AnnotatorOutcomes::default(),
        )
    }
}

/// The quality crate's level for a verified domain level.
fn level(l: Option<Level>) -> ExpertiseLevel {
    match l {
        None => ExpertiseLevel::None,
        Some(Level::Novice) => ExpertiseLevel::Novice,
        Some(Level::Practitioner) => ExpertiseLevel::Practitioner,
        Some(Level::Expert) => ExpertiseLevel::Expert,
    }
}

impl Reliabilities {
    /// Reliabilities of the annotators in `levels` (members, with their verified levels)
    /// and of everyone in `outcomes`, with the default priors; `key` names annotators
    /// who are not members.
    pub fn new(
        levels: &std::sync::Arc<Annotators>,
        key: &PseudonymKey,
        outcomes: &AnnotatorOutcomes,
    ) -> Reliabilities {
        let mut tallies: HashMap<i64, ReliabilityTally> = HashMap::new();
        for g in &outcomes.gold {
            tallies
                .entry(g.annotator)
                .or_default()
                .merge(&ReliabilityTally {
                    agreed: g.right.min(g.scored) as f64,
                    scored: g.scored as f64,
                    observations: g.scored,
                });
        }
        for a in &outcomes.adjudicated {
            let (Some(vote), Some(decided)) = (a.vote.as_deref(), a.decided.as_deref()) else {
                continue;
            };
            // As categories: the decided winner (or tie) and whatever else was named.
            let index = |s: &str| match s {
                "tie" => TIE,
                s if s == decided => 0,
                _ => 1,
            };
            let credit = AgreementRule::TieHalf { tie: TIE }.credit(index(vote), index(decided));
            tallies
                .entry(a.annotator)
                .or_default()
                .merge(&ReliabilityTally {
                    agreed: credit * a.count as f64,
                    scored: a.count as f64,
                    observations: a.count,
                });
        }
        let config = ReliabilityConfig::default();
        let mut out = Reliabilities {
            config,
            annotators: HashMap::new(),
            levels: levels.clone(),
            key: key.clone(),
            external_weight: vote_weight(config.priors.external, PAIR_OPTIONS),
        };
        let users: Vec<i64> = levels.keys().chain(tallies.keys()).copied().collect();
        for user in users {
            let tally = tallies.get(&user).copied().unwrap_or_default();
            let voter = out.voter_with(user, &tally);
            out.annotators.insert(user, voter);
        }
        out
    }

    fn voter_with(&self, user: i64, tally: &ReliabilityTally) -> AnnotatorVoter {
        let info = self.levels.get(&user);
        let lvl = level(info.and_then(|i| i.level));
        let reliability = self
            .config
            .posterior(lvl, tally)
            .map_or(self.config.priors.for_level(lvl).mean, |r| r.mean);
        AnnotatorVoter {
            pseudonym: info.map_or_else(|| pseudonym(&self.key, user), |i| i.pseudonym.clone()),
            reliability,
            weight: vote_weight(reliability, PAIR_OPTIONS),
        }
    }

    /// Makes sure `user` has an entry (an annotator who is no longer a member and has no
    /// scored outcomes gets the prior of no verified expertise).
    pub fn ensure(&mut self, user: i64) {
        if !self.annotators.contains_key(&user) {
            let voter = self.voter_with(user, &ReliabilityTally::new());
            self.annotators.insert(user, voter);
        }
    }

    /// The annotator `user`, once [`Reliabilities::ensure`]d.
    pub fn annotator(&self, user: i64) -> Option<&AnnotatorVoter> {
        self.annotators.get(&user)
    }

    /// The stated reliability of an external source.
    pub fn external(&self) -> f64 {
        self.config.priors.external
    }

    /// The log-odds weight of an external source's vote for a candidate.
    pub fn external_weight(&self) -> f64 {
        self.external_weight
    }

    /// Every annotator's reliability, by user id.
    pub fn annotators(&self) -> impl Iterator<Item = (i64, &AnnotatorVoter)> {
        self.annotators.iter().map(|(u, v)| (*u, v))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kinds::AnnotatorInfo;
    use plumbline_store::{AdjudicatedVotes, GoldScore};
    use std::sync::Arc;

    #[test]
    fn priors_by_level_move_with_gold_and_adjudications() {
        let mut levels = Annotators::new();
        for (u, l) in [(1, Some(Level::Expert)), (2, None), (3, None)] {
            levels.insert(
                u,
                AnnotatorInfo {
                    pseudonym: format!("ann-{u}"),
                    level: l,
                },
            );
        }
        let outcomes = AnnotatorOutcomes {
            gold: vec![
                GoldScore {
                    annotator: 2,
                    right: 10,
                    scored: 20,
                },
                GoldScore {
                    annotator: 4,
                    right: 5,
                    scored: 5,
                },
            ],
            adjudicated: vec![AdjudicatedVotes {
                annotator: 3,
                vote: Some("tie".into()),
                decided: Some("a".into()),
                count: 5,
            }],
        };
        let mut r = Reliabilities::new(
            &Arc::new(levels),
            &PseudonymKey::from_bytes([3; 32]),
            &outcomes,
        );
        let rel = |r: &Reliabilities, u| r.annotator(u).unwrap().reliability;
        assert!((rel(&r, 1) - 0.9).abs() < 1e-12, "the expert prior");
        // Crowd prior 0.65 × 5 + 10 right of 20: (3.25 + 10) / 25.
        assert!((rel(&r, 2) - 13.25 / 25.0).abs() < 1e-12);
        // Five tie votes against a decided winner: half credit each.
        assert!((rel(&r, 3) - (3.25 + 2.5) / 10.0).abs() < 1e-12);
        // Not a member, five right: named by pseudonym under the key.
        assert!((rel(&r, 4) - 8.25 / 10.0).abs() < 1e-12);
        assert_eq!(
            r.annotator(4).unwrap().pseudonym,
            pseudonym(&PseudonymKey::from_bytes([3; 32]), 4)
        );
        assert!(r.annotator(9).is_none());
        r.ensure(9);
        assert!((rel(&r, 9) - 0.65).abs() < 1e-12);
        let w = r.annotator(1).unwrap().weight;
        assert!((w - 9f64.ln()).abs() < 1e-9, "{w}");
        assert_eq!(r.external(), 0.7);
        assert!((r.external_weight() - (0.7f64 / 0.3).ln()).abs() < 1e-12);
    }
}
