//! The priority rule (DESIGN.md), as pure functions the UI can also call live.
//!
//! Terms: a candidate *carries a hard violation* when `violations` lists for it an
//! error tag whose criterion has `hard = true` ([`Rubric::is_hard_error`]); it is
//! *clean* when it carries none (other, non-hard error tags do not matter here).
//! Criteria are read in priority order (1 first).
//!
//! **Preference** ([`check_preference`]), two halves, checked in this order:
//! 1. *Order*: the overall `winner` equals the value of the highest-priority criterion
//!    not marked `tie`; if every criterion is marked `tie`, the winner is `tie`.
//! 2. *Hard*: a winning candidate that carries a hard violation is refused if some
//!    other candidate is clean. A tie is not a win, so it never breaks this half.
//!
//! **Ranking** ([`check_ranking`]): a ranking states no per-criterion verdicts, so only
//! the hard half applies, pairwise: for every pair X, Y with X in a strictly better
//! group than Y, X must not carry a hard violation while Y is clean. Equivalently,
//! every clean candidate is ranked at or above (possibly tied with) every candidate
//! carrying a hard violation.
//!
//! **Rating** ([`check_rating`]): the scores imply a verdict for each pair by the
//! order half of the rule itself: X beats Y when, on the highest-priority criterion
//! where their scores differ, X scores higher (a lexicographic comparison of the
//! score vectors in priority order; equal vectors are a tie). The order half
//! therefore holds by construction, and the hard half applies to the implied verdict:
//! for every pair, a candidate carrying a hard violation must not beat a clean one.
//! So a hard violator must score strictly lower than a clean candidate on the first
//! criterion where they differ (or score the same everywhere).
//!
//! Each refusal is a [`PriorityViolation`] naming one criterion: for the order half,
//! the deciding criterion (the highest-priority criterion not marked tie, or the
//! highest-priority criterion when all are tie); for the hard half, the criterion of
//! the offending candidate's hard violation (its highest-priority one). Pairs are
//! examined in a fixed order (ranking order; item order), so the report is
//! deterministic.
//!
//! For live use on a partly filled form, a criterion absent from `criteria` (or a
//! score absent from `scores`) is *not yet marked*: the order comparison stops there
//! without a verdict instead of raising a false alarm. Full validation
//! ([`super::Payload::validate`]) requires every criterion anyway.

use super::preference::Choice;
use crate::rubric::{Criterion, ErrorTag, Rubric};
use std::cmp::Ordering;
use std::collections::BTreeMap;
use thiserror::Error;

/// A breach of the priority rule, naming the criterion it turns on.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{explanation}")]
pub struct PriorityViolation {
    /// Key of the criterion the rule turned on.
    pub criterion: String,
    /// What is wrong, phrased for the annotator.
    pub explanation: String,
}

/// Checks a preference judgment against the priority rule.
pub fn check_preference(
    rubric: &Rubric,
    candidates: &[&str],
    winner: &Choice,
    criteria: &BTreeMap<String, Choice>,
    violations: &BTreeMap<String, Vec<String>>,
) -> Result<(), PriorityViolation> {
    let ordered = by_priority(rubric);
    let mut complete = true;
    let mut deciding = None;
    for c in &ordered {
        match criteria.get(c.key.as_str()) {
            None => {
                complete = false;
                break;
            }
            Some(Choice::Tie) => {}
            Some(choice) => {
                deciding = Some((*c, choice));
                break;
            }
        }
    }
    match deciding {
        Some((c, choice)) if choice != winner => {
            return Err(PriorityViolation {
                criterion: c.key.to_string(),
                explanation: format!(
                    "winner is {} but {} wins on `{}`, the highest-priority criterion not marked tie",
                    describe(winner),
                    describe(choice),
                    c.key
                ),
            });
        }
        None if complete && !winner.is_tie() => {
            if let Some(first) = ordered.first() {
                return Err(PriorityViolation {
                    criterion: first.key.to_string(),
                    explanation: format!(
                        "winner is {} but every criterion is marked tie, so the winner must be tie",
                        describe(winner)
                    ),
                });
            }
        }
        _ => {}
    }
    if let Choice::Candidate(w) = winner
        && let Some((tag, crit)) = hard_violation(rubric, violations, w)
        && let Some(clean) = candidates
            .iter()
            .find(|c| **c != w.as_str() && hard_violation(rubric, violations, c).is_none())
    {
        return Err(PriorityViolation {
            criterion: crit.key.to_string(),
            explanation: format!(
                "`{w}` carries hard violation `{}` (criterion `{}`) and cannot beat `{clean}`, which carries none",
                tag.key, crit.key
            ),
        });
    }
    Ok(())
}

/// Checks a ranking (best group first) against the priority rule, pairwise.
pub fn check_ranking(
    rubric: &Rubric,
    order: &[Vec<String>],
    violations: &BTreeMap<String, Vec<String>>,
) -> Result<(), PriorityViolation> {
    for (i, group) in order.iter().enumerate() {
        for x in group {
            let Some((tag, crit)) = hard_violation(rubric, violations, x) else {
                continue;
            };
            let below = order[i + 1..].iter().flatten();
            if let Some(clean) = below
                .into_iter()
                .find(|y| hard_violation(rubric, violations, y).is_none())
            {
                return Err(PriorityViolation {
                    criterion: crit.key.to_string(),
                    explanation: format!(
                        "`{x}` carries hard violation `{}` (criterion `{}`) and is ranked above `{clean}`, which carries none",
                        tag.key, crit.key
                    ),
                });
            }
        }
    }
    Ok(())
}

/// Checks ratings against the priority rule, pairwise on the verdicts the scores imply.
pub fn check_rating(
    rubric: &Rubric,
    candidates: &[&str],
    scores: &BTreeMap<String, BTreeMap<String, i64>>,
    violations: &BTreeMap<String, Vec<String>>,
) -> Result<(), PriorityViolation> {
    let ordered = by_priority(rubric);
    for x in candidates {
        let Some((tag, crit)) = hard_violation(rubric, violations, x) else {
            continue;
        };
        for y in candidates {
            if x == y || hard_violation(rubric, violations, y).is_some() {
                continue;
            }
            if let Some((Ordering::Greater, on, sx, sy)) = first_difference(&ordered, scores, x, y)
            {
                return Err(PriorityViolation {
                    criterion: crit.key.to_string(),
                    explanation: format!(
                        "`{x}` carries hard violation `{}` (criterion `{}`) yet its scores put it above `{y}`, \
                         which carries none (they first differ on `{}`: {sx} vs {sy})",
                        tag.key, crit.key, on.key
                    ),
                });
            }
        }
    }
    Ok(())
}

/// The rubric's criteria in priority order, whether or not the rubric was validated.
fn by_priority(rubric: &Rubric) -> Vec<&Criterion> {
    let mut v: Vec<&Criterion> = rubric.criteria.iter().collect();
    v.sort_by_key(|c| c.priority);
    v
}

/// The hard violation `candidate` carries whose criterion has the highest priority.
fn hard_violation<'r>(
    rubric: &'r Rubric,
    violations: &BTreeMap<String, Vec<String>>,
    candidate: &str,
) -> Option<(&'r ErrorTag, &'r Criterion)> {
    violations
        .get(candidate)?
        .iter()
        .filter_map(|key| {
            let tag = rubric.error(key)?;
            let crit = rubric.criterion(tag.criterion.as_str())?;
            crit.hard.then_some((tag, crit))
        })
        .min_by_key(|(_, crit)| crit.priority)
}

/// How `x`'s scores compare with `y`'s on the first criterion (priority order) where
/// they differ; `None` for equal vectors or when a score is not yet given.
fn first_difference<'c>(
    ordered: &[&'c Criterion],
    scores: &BTreeMap<String, BTreeMap<String, i64>>,
    x: &str,
    y: &str,
) -> Option<(Ordering, &'c Criterion, i64, i64)> {
    let (sx, sy) = (scores.get(x)?, scores.get(y)?);
    for c in ordered {
        let (a, b) = (*sx.get(c.key.as_str())?, *sy.get(c.key.as_str())?);
        if a != b {
            return Some((a.cmp(&b), c, a, b));
        }
    }
    None
}

fn describe(choice: &Choice) -> String {
    match choice {
        Choice::Tie => "tie".to_owned(),
        Choice::Candidate(id) => format!("`{id}`"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUBRIC: &str = r#"
name = "Retail banking support"
[[criteria]]
key = "compliance"
title = "Compliance"
priority = 1
hard = true
[[criteria]]
key = "correctness"
title = "Correctness"
priority = 2
[[criteria]]
key = "tone"
title = "Tone"
priority = 3
[[errors]]
key = "escalation_missed"
criterion = "compliance"
severity = "critical"
[[errors]]
key = "rude"
criterion = "tone"
severity = "minor"
"#;

    fn rubric() -> Rubric {
        Rubric::from_toml(RUBRIC).unwrap()
    }

    fn choice(s: &str) -> Choice {
        Choice::from(s.to_owned())
    }

    fn criteria(pairs: &[(&str, &str)]) -> BTreeMap<String, Choice> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), choice(v)))
            .collect()
    }

    fn violations(pairs: &[(&str, &[&str])]) -> BTreeMap<String, Vec<String>> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.iter().map(|s| s.to_string()).collect()))
            .collect()
    }

    const AB: &[&str] = &["a", "b"];

    #[test]
    fn preference_winner_must_follow_first_non_tie_criterion() {
        let c = criteria(&[("compliance", "tie"), ("correctness", "a"), ("tone", "b")]);
        let none = violations(&[]);
        assert!(check_preference(&rubric(), AB, &choice("a"), &c, &none).is_ok());
        let err = check_preference(&rubric(), AB, &choice("b"), &c, &none).unwrap_err();
        assert_eq!(err.criterion, "correctness");
        assert_eq!(
            err.explanation,
            "winner is `b` but `a` wins on `correctness`, the highest-priority criterion not marked tie"
        );
        let err = check_preference(&rubric(), AB, &choice("tie"), &c, &none).unwrap_err();
        assert!(
            err.explanation
                .starts_with("winner is tie but `a` wins on `correctness`")
        );
    }

    #[test]
    fn preference_all_tie_requires_tie() {
        let c = criteria(&[
            ("compliance", "tie"),
            ("correctness", "tie"),
            ("tone", "tie"),
        ]);
        let none = violations(&[]);
        assert!(check_preference(&rubric(), AB, &choice("tie"), &c, &none).is_ok());
        let err = check_preference(&rubric(), AB, &choice("a"), &c, &none).unwrap_err();
        assert_eq!(err.criterion, "compliance");
        assert!(
            err.explanation.contains("every criterion is marked tie"),
            "{err}"
        );
    }

    #[test]
    fn preference_hard_violator_cannot_beat_clean_candidate() {
        let c = criteria(&[("compliance", "tie"), ("correctness", "b"), ("tone", "b")]);
        let v = violations(&[("b", &["rude", "escalation_missed"]), ("a", &["rude"])]);
        let err = check_preference(&rubric(), AB, &choice("b"), &c, &v).unwrap_err();
        assert_eq!(err.criterion, "compliance");
        assert_eq!(
            err.explanation,
            "`b` carries hard violation `escalation_missed` (criterion `compliance`) and cannot beat `a`, which carries none"
        );
        // Both carry hard violations: allowed.
        let v = violations(&[("b", &["escalation_missed"]), ("a", &["escalation_missed"])]);
        assert!(check_preference(&rubric(), AB, &choice("b"), &c, &v).is_ok());
        // A non-hard violation on the winner does not matter.
        let v = violations(&[("b", &["rude"])]);
        assert!(check_preference(&rubric(), AB, &choice("b"), &c, &v).is_ok());
    }

    #[test]
    fn preference_partial_form_raises_no_false_alarm() {
        let none = violations(&[]);
        let c = criteria(&[("correctness", "a")]);
        assert!(check_preference(&rubric(), AB, &choice("b"), &c, &none).is_ok());
        let c = criteria(&[("compliance", "tie"), ("correctness", "tie")]);
        assert!(check_preference(&rubric(), AB, &choice("a"), &c, &none).is_ok());
        let c = criteria(&[("compliance", "a")]);
        assert!(check_preference(&rubric(), AB, &choice("b"), &c, &none).is_err());
    }

    #[test]
    fn ranking_hard_violator_may_tie_but_not_lead_a_clean_candidate() {
        let r = rubric();
        let v = violations(&[("b", &["escalation_missed"]), ("c", &["rude"])]);
        let order = |g: &[&[&str]]| -> Vec<Vec<String>> {
            g.iter()
                .map(|x| x.iter().map(|s| s.to_string()).collect())
                .collect()
        };
        assert!(check_ranking(&r, &order(&[&["a"], &["c"], &["b"]]), &v).is_ok());
        assert!(check_ranking(&r, &order(&[&["a", "b", "c"]]), &v).is_ok());
        let err = check_ranking(&r, &order(&[&["a"], &["b"], &["c"]]), &v).unwrap_err();
        assert_eq!(err.criterion, "compliance");
        assert_eq!(
            err.explanation,
            "`b` carries hard violation `escalation_missed` (criterion `compliance`) and is ranked above `c`, which carries none"
        );
    }

    #[test]
    fn rating_hard_violator_must_not_win_lexicographically() {
        let r = rubric();
        let v = violations(&[("x", &["escalation_missed"])]);
        let scores = |x: [i64; 3], y: [i64; 3]| -> BTreeMap<String, BTreeMap<String, i64>> {
            let keys = ["compliance", "correctness", "tone"];
            let row = |s: [i64; 3]| keys.iter().map(|k| k.to_string()).zip(s).collect();
            BTreeMap::from([("x".to_owned(), row(x)), ("y".to_owned(), row(y))])
        };
        let xy = &["x", "y"];
        assert!(check_rating(&r, xy, &scores([2, 5, 5], [3, 1, 1]), &v).is_ok());
        assert!(check_rating(&r, xy, &scores([3, 3, 3], [3, 3, 3]), &v).is_ok());
        assert!(check_rating(&r, xy, &scores([3, 2, 5], [3, 3, 1]), &v).is_ok());
        let err = check_rating(&r, xy, &scores([3, 5, 1], [3, 2, 5]), &v).unwrap_err();
        assert_eq!(err.criterion, "compliance");
        assert_eq!(
            err.explanation,
            "`x` carries hard violation `escalation_missed` (criterion `compliance`) yet its scores put it above `y`, \
             which carries none (they first differ on `correctness`: 5 vs 2)"
        );
    }
}
