//! The engine's rules that need no context beyond their arguments: the hidden-gold
//! draw and the order of gold (keyed by the project's [`GoldSecret`]), the display-order
//! shuffle, expertise sets, payload validation, agreement and consensus between
//! judgments, the qualification threshold.

use crate::Result;
use crate::error::StoreError;
use crate::work::WorkResult;
use plumbline_domain::{
    Expertise, Item, Level, Payload, ProjectSettings, Rubric, TaskKind, UserId, ValidatedJudgment,
};
use plumbline_quality::gold::below_min_accuracy;
use plumbline_quality::reliability::{ExpertiseLevel, ReliabilityPriors};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// SplitMix64: a fast, well-mixed 64-bit hash step.
pub(crate) fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A project's key to its hidden gold: 32 random bytes made with the project, stored
/// with it and never sent anywhere. The gold draw and the order gold is served in are
/// keyed hashes under it, so ids alone (project, annotator, sequence number) predict
/// neither. `Debug` does not show it.
#[derive(Clone, PartialEq, Eq)]
pub struct GoldSecret([u8; 32]);

impl GoldSecret {
    /// A new secret from the operating system's random source.
    pub fn random() -> Result<GoldSecret> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key)
            .map_err(|e| StoreError::Database(format!("the system random source failed: {e}")))?;
        Ok(GoldSecret(key))
    }

    /// The secret as stored; anything but 32 bytes is refused, so a damaged secret
    /// stops the draw instead of weakening it.
    pub fn from_stored(bytes: &[u8]) -> Result<GoldSecret> {
        bytes.try_into().map(GoldSecret).map_err(|_| {
            StoreError::Database(format!(
                "the project's gold secret is damaged ({} bytes, expected 32)",
                bytes.len()
            ))
        })
    }

    /// The bytes to store.
    pub fn as_bytes(&self) -> &[u8] {
        &self.0
    }

    /// SHA-256 over secret ‖ annotator ‖ seq (fixed widths, little-endian): the draw of
    /// the annotator's `seq`-th lease.
    fn keyed(&self, annotator: UserId, seq: i64) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.0);
        h.update(annotator.0.to_le_bytes());
        h.update(seq.to_le_bytes());
        h.finalize().into()
    }
}

impl std::fmt::Debug for GoldSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GoldSecret(redacted)")
    }
}

/// Whether the annotator's `seq`-th assignment in the project of `secret` is a
/// hidden-gold draw: with probability `rate`, fixed per (annotator, seq), and
/// unpredictable without the secret.
pub fn is_gold_draw(secret: &GoldSecret, annotator: UserId, seq: i64, rate: f64) -> bool {
    if rate <= 0.0 {
        return false;
    }
    let d = secret.keyed(annotator, seq);
    let h = u64::from_le_bytes(d[..8].try_into().expect("8 bytes"));
    ((h >> 11) as f64 / (1u64 << 53) as f64) < rate
}

/// Where the annotator's `seq`-th gold pick starts its walk through the project's gold
/// items (reduced modulo their id range by the backend's query), a non-negative number
/// from other bits of the same keyed hash: gold comes in an order nobody can predict.
pub fn gold_start(secret: &GoldSecret, annotator: UserId, seq: i64) -> i64 {
    let d = secret.keyed(annotator, seq);
    (u64::from_le_bytes(d[8..16].try_into().expect("8 bytes")) >> 1) as i64
}

/// A random permutation of `ids` (the display order of one assignment).
pub(crate) fn shuffled(mut ids: Vec<String>) -> Vec<String> {
    let mut seed = [0u8; 8];
    if getrandom::fill(&mut seed).is_err() {
        seed = crate::now_ms().to_le_bytes();
    }
    let mut state = u64::from_le_bytes(seed);
    for i in (1..ids.len()).rev() {
        state = splitmix(state);
        let j = (state % (i as u64 + 1)) as usize;
        ids.swap(i, j);
    }
    ids
}

/// Candidate ids of an item body, in stored order, without parsing the whole item.
pub(crate) fn candidate_ids(body: &str) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Cand {
        id: String,
    }
    #[derive(serde::Deserialize)]
    struct Body {
        #[serde(default)]
        candidates: Vec<Cand>,
    }
    let b: Body = serde_json::from_str(body)?;
    Ok(b.candidates.into_iter().map(|c| c.id).collect())
}

/// The tags of an item body.
pub(crate) fn item_tags(body: &str) -> Result<Vec<String>> {
    #[derive(serde::Deserialize)]
    struct Tags {
        #[serde(default)]
        tags: Vec<String>,
    }
    Ok(serde_json::from_str::<Tags>(body)?.tags)
}

/// Every `domain:level` string that `verified` expertise satisfies (a requirement
/// string matches when it is in the set).
pub(crate) fn satisfied_requirements(verified: &[Expertise]) -> Vec<String> {
    use plumbline_domain::Level;
    let mut out = Vec::new();
    for e in verified {
        for level in [Level::Novice, Level::Practitioner, Level::Expert] {
            if level <= e.level {
                out.push(format!("{}:{}", e.domain, level.as_str()));
            }
        }
    }
    out
}

/// The domains a project's expertise is judged in: those of its requirements, or every
/// domain when it requires none.
pub(crate) fn project_domains(settings: &ProjectSettings) -> Vec<String> {
    let mut d: Vec<String> = settings
        .required_expertise
        .iter()
        .map(|e| e.domain.to_string())
        .collect();
    d.sort();
    d.dedup();
    d
}

/// The annotator's highest verified level in the project's domains (any domain when the
/// project requires none), as the reliability model's prior level.
pub fn project_level(settings: &ProjectSettings, verified: &[Expertise]) -> ExpertiseLevel {
    let domains = project_domains(settings);
    verified
        .iter()
        .filter(|e| domains.is_empty() || domains.iter().any(|d| *d == e.domain.to_string()))
        .map(|e| match e.level {
            Level::Novice => ExpertiseLevel::Novice,
            Level::Practitioner => ExpertiseLevel::Practitioner,
            Level::Expert => ExpertiseLevel::Expert,
        })
        .max()
        .unwrap_or(ExpertiseLevel::None)
}

/// A voter's reliability: the posterior mean of the one-coin model's accuracy given
/// their scored gold answers, with the prior of their expertise level.
pub fn reliability(level: ExpertiseLevel, gold_correct: i64, gold_scored: i64) -> f64 {
    let prior = ReliabilityPriors::default().for_level(level);
    let (c, n) = (gold_correct.max(0) as f64, gold_scored.max(0) as f64);
    (prior.alpha() + c) / (prior.alpha() + prior.beta() + n)
}

/// How far, in log-odds, an item's posterior must clear the decision threshold for the
/// engine to settle it as decided rather than ask an expert for one more judgment.
///
/// The export decides later, with reliabilities that have kept learning: an expert's
/// estimate wanders by a point or two over a project, and a crowd's starts at its prior
/// and may fall to chance. Without a margin an item resting on one expert at 0.91 against
/// the threshold 0.9 settles, and is left out of the export once that expert's estimate
/// reads 0.89. Half a nat moves the bar at 0.9 to 0.937: one more expert judgment on such
/// items buys an export that keeps them.
pub const SETTLE_MARGIN_LOG_ODDS: f64 = 0.5;

/// Whether an item with this posterior settles as decided under `threshold` (the
/// threshold plus [`SETTLE_MARGIN_LOG_ODDS`]; a threshold of 1 takes certainty).
pub fn settles_decided(posterior: f64, threshold: f64) -> bool {
    let bar = if threshold < 1.0 {
        let logit = (threshold / (1.0 - threshold)).ln() + SETTLE_MARGIN_LOG_ODDS;
        1.0 / (1.0 + (-logit).exp())
    } else {
        threshold
    };
    plumbline_quality::decision::reaches(posterior, bar)
}

/// Hidden-gold answers an annotator has given before probation may act on them. The
/// Wilson bound alone would stop someone after two misses (0 of 2 has an upper bound of
/// 0.66): an annotator right 75 % of the time has one chance in 16 of starting that way,
/// and a stop after a handful of judgments leaves too few to show what was wrong with
/// them (a bias test needs dozens). Ten answers are a hundred judgments at a gold rate
/// of 0.1.
pub const PROBATION_MIN_ANSWERS: i64 = 10;

/// True when an annotator with `correct` of `scored` hidden-gold answers right (since
/// their latest reinstatement) is on probation under `min_accuracy` (0 turns it off):
/// at least [`PROBATION_MIN_ANSWERS`] answers, and the Wilson upper bound of their
/// accuracy below the minimum. The engine stops leasing to them; the quality table
/// shows the same verdict.
pub fn on_probation(correct: i64, scored: i64, min_accuracy: f64) -> bool {
    min_accuracy > 0.0
        && scored >= PROBATION_MIN_ANSWERS
        && below_min_accuracy(correct.max(0) as u64, scored.max(0) as u64, min_accuracy)
}

/// The first project requirement `verified` does not meet.
pub(crate) fn missing_requirement(
    settings: &ProjectSettings,
    verified: &[Expertise],
) -> Option<String> {
    settings
        .required_expertise
        .iter()
        .find(|r| !verified.iter().any(|e| e.satisfies(r)))
        .map(|r| r.to_string())
}

/// Parses and validates a payload for `item_body` under `rubric`.
pub(crate) fn validate_payload(
    item_body: &str,
    default_task: TaskKind,
    rubric: &Rubric,
    payload: &str,
) -> WorkResult<ValidatedJudgment> {
    let item = Item::from_json(item_body, default_task)
        .map_err(|e| StoreError::Database(format!("stored item is unreadable: {e}")))?;
    let kind = item.task_or(default_task);
    let parsed = Payload::from_json(kind, payload)?;
    Ok(parsed.validate(&item, rubric)?)
}

/// Normalised Kendall distance between two rankings (tie groups best first): the share
/// of candidate pairs ordered differently, a tie against a strict order counting one
/// half. 0 = same order, 1 = reversed.
pub fn kendall_distance(a: &[Vec<String>], b: &[Vec<String>]) -> f64 {
    let pos = |order: &[Vec<String>]| -> HashMap<String, usize> {
        order
            .iter()
            .enumerate()
            .flat_map(|(i, g)| g.iter().map(move |id| (id.clone(), i)))
            .collect()
    };
    let (pa, pb) = (pos(a), pos(b));
    let mut ids: Vec<&String> = pa.keys().filter(|k| pb.contains_key(*k)).collect();
    ids.sort();
    let (mut pairs, mut dist) = (0u64, 0.0f64);
    for i in 0..ids.len() {
        for j in i + 1..ids.len() {
            let sa = (pa[ids[i]] as i64 - pa[ids[j]] as i64).signum();
            let sb = (pb[ids[i]] as i64 - pb[ids[j]] as i64).signum();
            pairs += 1;
            if sa != sb {
                dist += if sa == 0 || sb == 0 { 0.5 } else { 1.0 };
            }
        }
    }
    if pairs == 0 { 0.0 } else { dist / pairs as f64 }
}

/// Whether two payloads of the same kind agree under the project's thresholds
/// (preference: same winner; ranking: Kendall distance within `ranking_agreement`;
/// rating: every score within `rating_spread`; red team: same outcome; demonstration:
/// free text never conflicts).
pub fn agree(a: &Payload, b: &Payload, settings: &ProjectSettings) -> bool {
    match (a, b) {
        (Payload::Preference(x), Payload::Preference(y)) => x.winner == y.winner,
        (Payload::Ranking(x), Payload::Ranking(y)) => {
            kendall_distance(&x.order, &y.order) <= settings.ranking_agreement + 1e-9
        }
        (Payload::Rating(x), Payload::Rating(y)) => x.scores.iter().all(|(cand, scores)| {
            scores.iter().all(|(crit, s)| {
                y.scores
                    .get(cand)
                    .and_then(|m| m.get(crit))
                    .is_none_or(|t| (s - t).unsigned_abs() <= settings.rating_spread as u64)
            })
        }),
        (Payload::RedTeam(x), Payload::RedTeam(y)) => x.outcome == y.outcome,
        (Payload::Demonstration(_), Payload::Demonstration(_)) => true,
        _ => false,
    }
}

/// Whether every payload agrees with every other (consensus).
pub fn consensus(payloads: &[Payload], settings: &ProjectSettings) -> bool {
    payloads
        .iter()
        .enumerate()
        .all(|(i, a)| payloads[i + 1..].iter().all(|b| agree(a, b, settings)))
}

/// Parses stored payload text of `kind` (already validated when stored).
pub(crate) fn stored_payload(kind: TaskKind, json: &str) -> Result<Payload> {
    Payload::from_json(kind, json)
        .map_err(|e| StoreError::Database(format!("stored judgment is unreadable: {e}")))
}

/// Whether a qualification with `correct` of `total` passes at share `pass`.
pub(crate) fn passes(correct: i64, total: i64, pass: f64) -> bool {
    total > 0 && (correct as f64) >= pass * total as f64 - 1e-9
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(groups: &[&[&str]]) -> Vec<Vec<String>> {
        groups
            .iter()
            .map(|g| g.iter().map(|s| s.to_string()).collect())
            .collect()
    }

    #[test]
    fn kendall_distance_counts_discordant_pairs() {
        let abc = order(&[&["a"], &["b"], &["c"]]);
        assert_eq!(kendall_distance(&abc, &abc), 0.0);
        assert_eq!(
            kendall_distance(&abc, &order(&[&["c"], &["b"], &["a"]])),
            1.0
        );
        let d = kendall_distance(&abc, &order(&[&["b"], &["a"], &["c"]]));
        assert!((d - 1.0 / 3.0).abs() < 1e-12);
        let t = kendall_distance(&abc, &order(&[&["a", "b"], &["c"]]));
        assert!((t - 0.5 / 3.0).abs() < 1e-12);
    }

    fn secret(byte: u8) -> GoldSecret {
        GoldSecret::from_stored(&[byte; 32]).unwrap()
    }

    #[test]
    fn gold_draw_is_deterministic_and_near_the_rate() {
        let k = secret(3);
        let hits = (1..=20_000)
            .filter(|&s| is_gold_draw(&k, UserId(7), s, 0.1))
            .count();
        assert!((1_800..2_200).contains(&hits), "{hits}");
        assert_eq!(
            is_gold_draw(&k, UserId(2), 3, 0.5),
            is_gold_draw(&k, UserId(2), 3, 0.5)
        );
        assert!(!(1..1000).any(|s| is_gold_draw(&k, UserId(1), s, 0.0)));
    }

    #[test]
    fn gold_draw_and_start_depend_on_the_secret() {
        // The same annotator and sequence numbers under two secrets: the draws and the
        // starting points differ (ids alone predict nothing).
        let (a, b) = (secret(1), secret(2));
        let draws = |k: &GoldSecret| -> Vec<bool> {
            (1..=64)
                .map(|s| is_gold_draw(k, UserId(1), s, 0.5))
                .collect()
        };
        assert_ne!(draws(&a), draws(&b));
        let starts =
            |k: &GoldSecret| -> Vec<i64> { (1..=8).map(|s| gold_start(k, UserId(1), s)).collect() };
        assert_ne!(starts(&a), starts(&b));
        assert!(starts(&a).iter().all(|s| *s >= 0));
        // A new start for every lease, not one per annotator.
        let mut distinct = starts(&a);
        distinct.dedup();
        assert_eq!(distinct.len(), 8);
        assert_eq!(gold_start(&a, UserId(1), 5), gold_start(&a, UserId(1), 5));
    }

    #[test]
    fn a_gold_secret_is_32_bytes_and_never_printed() {
        let k = GoldSecret::random().unwrap();
        assert_ne!(k, GoldSecret::random().unwrap());
        assert_eq!(GoldSecret::from_stored(k.as_bytes()).unwrap(), k);
        assert!(GoldSecret::from_stored(&[0; 16]).is_err());
        assert!(GoldSecret::from_stored(&[]).is_err());
        assert_eq!(format!("{:?}", secret(0xab)), "GoldSecret(redacted)");
    }

    #[test]
    fn shuffle_is_a_permutation() {
        let ids: Vec<String> = (0..6).map(|i| i.to_string()).collect();
        let mut s = shuffled(ids.clone());
        s.sort();
        assert_eq!(s, ids);
    }

    #[test]
    fn expertise_levels_satisfy_lower_requirements() {
        let e: Expertise = "banking:practitioner".parse().unwrap();
        let s = satisfied_requirements(&[e]);
        assert_eq!(s, ["banking:novice", "banking:practitioner"]);
    }

    #[test]
    fn qualification_threshold() {
        assert!(passes(4, 5, 0.8));
        assert!(!passes(3, 5, 0.8));
        assert!(!passes(0, 0, 0.0));
    }
}
