//! Gold-anchored EM: reliabilities from scored outcomes, refined by agreement with the decisions.
//!
//! Start: each annotator's reliability is the posterior mean of their scored outcomes (gold
//! answers, adjudications, qualification answers) under their expertise prior. Each round, on
//! every item without a reference:
//! 1. the *others'* evidence: the one-coin posterior from every other vote, each weighted by the
//!    lower end of its voter's current credible interval — only reliability that gold (or
//!    agreement with gold-established voters) has shown counts against someone else;
//! 2. the vote's soft credit is its expected agreement with the truth given the others' evidence
//!    and the vote itself at the voter's current reliability (the one-coin EM step), and its
//!    weight is `soft_weight` times the lead of the others' posterior over chance (0 for a coin
//!    flip, 1 for certainty), so nobody is scored on items the others cannot judge;
//! 3. each reliability becomes (α₀ + scored agreements + soft agreements) / (α₀ + β₀ + scored +
//!    soft), clamped into the credible interval of the scored outcomes alone.
//!
//! Until no reliability moves by more than the tolerance.
//!
//! Two guards keep the fit from drifting toward a shared bias. Annotators who agree with each
//! other for a reason unrelated to the truth (all picking the longer answer) make each other look
//! reliable on the items only they judged, and an unanchored EM follows them (Dawid-Skene falls to
//! coin-flip accuracy in the simulation test). Here (1) a crowd whose gold accuracy is near 0.5
//! has an interval reaching below chance, so its votes count zero as evidence about anyone, and
//! items only they judged score nobody; (2) the clamp lets soft agreement move a reliability only
//! within what the annotator's own scored outcomes allow. An annotator without scored outcomes has
//! the prior's wide interval, and is learned from agreement with the gold-anchored voters.

use serde::Serialize;

use super::{AgreementRule, BetaPrior, Reliability, ReliabilityTally, check_level, reliability};
use crate::decision::vote_weight;
use crate::special::beta_quantile;
use crate::{LabelSet, QualityError};

/// Settings of the gold-anchored EM.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ReliabilityEmConfig {
    /// How a vote is scored against a reference (and against a soft posterior).
    pub rule: AgreementRule,
    /// Weight of one soft observation relative to one scored answer. Default 1/4: an item judged
    /// with others counts a quarter of a gold answer at most, so an annotator's 75 gold answers
    /// are not outvoted by their first 300 ordinary items.
    pub soft_weight: f64,
    /// Rounds of EM at most.
    pub max_rounds: usize,
    /// Stop when no reliability moves by more than this.
    pub tolerance: f64,
    /// Credible level of the scored interval that bounds the fitted reliability.
    pub credible_level: f64,
}

impl Default for ReliabilityEmConfig {
    fn default() -> Self {
        ReliabilityEmConfig {
            rule: AgreementRule::Exact,
            soft_weight: 0.25,
            max_rounds: 20,
            tolerance: 1e-4,
            credible_level: super::DEFAULT_CREDIBLE_LEVEL,
        }
    }
}

/// One annotator's fitted reliability.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct FittedReliability {
    /// What the scored outcomes alone say (gold, adjudications, qualification), with the prior.
    pub scored: Reliability,
    /// Soft agreement with the other voters' posteriors in the last round, as weighted.
    pub soft: ReliabilityTally,
    /// The reliability to decide with.
    pub reliability: f64,
}

/// Reliabilities fitted by the gold-anchored EM.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReliabilityFit {
    /// Per annotator, by index.
    pub annotators: Vec<FittedReliability>,
    /// Rounds run.
    pub rounds: usize,
    /// Whether the tolerance was reached.
    pub converged: bool,
}

impl ReliabilityFit {
    /// The fitted reliabilities, by annotator, as [`crate::decision::decide_winners`] takes them.
    pub fn reliabilities(&self) -> Vec<f64> {
        self.annotators.iter().map(|a| a.reliability).collect()
    }
}

/// Fits each annotator's reliability from the references in `reference[item]` (hidden gold or
/// adjudications, `None` if unknown), extra scored outcomes `scored[annotator]` (qualification
/// answers; empty for none) and agreement with the posteriors of the other items.
pub fn fit_reliability(
    labels: &LabelSet,
    reference: &[Option<u32>],
    scored: &[ReliabilityTally],
    priors: &[BetaPrior],
    config: ReliabilityEmConfig,
) -> Result<ReliabilityFit, QualityError> {
    let k = labels.n_categories();
    let n_ann = labels.n_annotators();
    if reference.len() != labels.n_items() {
        return Err(QualityError::InvalidConfig(format!(
            "reference has {} entries but there are {} items",
            reference.len(),
            labels.n_items()
        )));
    }
    if let Some(g) = reference.iter().flatten().find(|g| **g as usize >= k) {
        return Err(QualityError::CategoryOutOfRange {
            index: *g,
            count: k,
        });
    }
    if !(scored.is_empty() || scored.len() == n_ann) || priors.len() != n_ann {
        return Err(QualityError::InvalidConfig(format!(
            "{} priors and {} scored tallies for {n_ann} annotators",
            priors.len(),
            scored.len()
        )));
    }
    let usable = config.soft_weight >= 0.0
        && config.soft_weight.is_finite()
        && config.tolerance > 0.0
        && config.max_rounds > 0;
    if !usable {
        return Err(QualityError::InvalidConfig(
            "the reliability EM needs a finite soft_weight >= 0, a positive tolerance and at least one round".into(),
        ));
    }
    check_level(config.credible_level)?;

    let mut hard: Vec<ReliabilityTally> = if scored.is_empty() {
        vec![ReliabilityTally::new(); n_ann]
    } else {
        scored.to_vec()
    };
    for (item, g) in reference.iter().enumerate() {
        let Some(g) = g else { continue };
        for (&a, &l) in labels
            .annotators_of(item)
            .iter()
            .zip(labels.labels_of(item))
        {
            hard[a as usize].record_vote(config.rule, l, *g);
        }
    }
    let scored_rel: Vec<Reliability> = hard
        .iter()
        .zip(priors)
        .map(|(t, p)| reliability(t, *p, config.credible_level))
        .collect::<Result<_, _>>()?;
    let mut r: Vec<f64> = scored_rel.iter().map(|s| s.mean).collect();
    // The lower end of each annotator's current interval: what their votes may count as
    // evidence against which others are scored.
    let mut established: Vec<f64> = scored_rel.iter().map(|s| s.lower).collect();
    let mut soft = vec![ReliabilityTally::new(); n_ann];
    let mut own = vec![0.0; n_ann];
    let mut evidence = vec![0.0; n_ann];
    let mut scores = vec![0.0; k];
    let mut loo = vec![0.0; k];
    let mut rounds = 0;
    let mut converged = k < 2;
    let chance = 1.0 / k.max(1) as f64;
    let tail = 0.5 * (1.0 - config.credible_level);
    while rounds < config.max_rounds && k >= 2 {
        rounds += 1;
        for a in 0..n_ann {
            own[a] = vote_weight(r[a], k);
            evidence[a] = vote_weight(established[a], k);
        }
        soft.fill(ReliabilityTally::new());
        for (item, g) in reference.iter().enumerate() {
            let ls = labels.labels_of(item);
            if g.is_some() || ls.is_empty() {
                continue;
            }
            let anns = labels.annotators_of(item);
            scores.fill(0.0);
            for (&a, &l) in anns.iter().zip(ls) {
                scores[l as usize] += evidence[a as usize];
            }
            for (&a, &l) in anns.iter().zip(ls) {
                // What the others say, then with this vote at the voter's own reliability.
                loo.copy_from_slice(&scores);
                loo[l as usize] -= evidence[a as usize];
                let others = loo.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let mut said = 0.0;
                for x in loo.iter_mut() {
                    *x = (*x - others).exp();
                    said += *x;
                }
                // The leave-one-out posterior's lead over chance.
                let said = ((1.0 / said - chance) / (1.0 - chance)).clamp(0.0, 1.0);
                loo[l as usize] *= own[a as usize].exp();
                let total: f64 = loo.iter().sum();
                let credit: f64 = (0..k)
                    .map(|c| loo[c] / total * config.rule.credit(l, c as u32))
                    .sum();
                soft[a as usize].record_weighted(credit, config.soft_weight * said);
            }
        }
        let mut delta: f64 = 0.0;
        for a in 0..n_ann {
            let s = &scored_rel[a];
            let (alpha, beta) = (
                s.alpha() + soft[a].agreed,
                s.beta() + (soft[a].scored - soft[a].agreed).max(0.0),
            );
            let next = (alpha / (alpha + beta)).clamp(s.lower, s.upper);
            delta = delta.max((next - r[a]).abs());
            r[a] = next;
            established[a] = beta_quantile(tail, alpha, beta)
                .unwrap_or(s.lower)
                .clamp(s.lower, next);
        }
        if delta < config.tolerance {
            converged = true;
            break;
        }
    }
    Ok(ReliabilityFit {
        annotators: scored_rel
            .into_iter()
            .zip(soft)
            .zip(r)
            .map(|((scored, soft), reliability)| FittedReliability {
                scored,
                soft,
                reliability,
            })
            .collect(),
        rounds,
        converged,
    })
}
