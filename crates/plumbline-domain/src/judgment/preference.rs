//! Preference: A vs B, with a strength and a verdict per criterion.

use super::priority::{PriorityViolation, check_preference};
use super::{check_candidate, check_range, or_none, unique};
use crate::error::FieldError;
use crate::item::Item;
use crate::rubric::Rubric;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// The word that marks a tie where a candidate id is expected.
pub const TIE: &str = "tie";

/// Largest preference strength (0 negligible/unsure, 1 slightly, 2 clearly,
/// 3 significantly better: the Llama 2 margin scale).
pub const MAX_STRENGTH: i64 = 3;

/// A candidate id or a tie; on the wire, the id or the string `"tie"`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub enum Choice {
    /// Neither candidate is better.
    Tie,
    /// The candidate with this id is better.
    Candidate(String),
}

impl Choice {
    /// True for a tie.
    pub fn is_tie(&self) -> bool {
        matches!(self, Choice::Tie)
    }

    /// The chosen candidate id, if not a tie.
    pub fn candidate(&self) -> Option<&str> {
        match self {
            Choice::Tie => None,
            Choice::Candidate(id) => Some(id),
        }
    }
}

impl From<String> for Choice {
    fn from(s: String) -> Self {
        if s == TIE {
            Choice::Tie
        } else {
            Choice::Candidate(s)
        }
    }
}

impl From<Choice> for String {
    fn from(c: Choice) -> String {
        match c {
            Choice::Tie => TIE.to_owned(),
            Choice::Candidate(id) => id,
        }
    }
}

impl fmt::Display for Choice {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.candidate().unwrap_or(TIE))
    }
}

/// `{"winner": "a", "strength": 2, "criteria": {"compliance": "a", ...}, ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PreferencePayload {
    /// The better candidate overall, or a tie.
    pub winner: Choice,
    /// How much better, 0..=3 ([`MAX_STRENGTH`]); 0 for a tie.
    pub strength: i64,
    /// Verdict per criterion key; must cover every criterion of the rubric.
    #[serde(default, deserialize_with = "unique::map")]
    pub criteria: BTreeMap<String, Choice>,
    /// Error tags per candidate id.
    #[serde(
        default,
        deserialize_with = "unique::map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub violations: BTreeMap<String, Vec<String>>,
    /// Why; required with an override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rationale: String,
    /// Edge-case keys of the rubric that apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edge_cases: Vec<String>,
    /// Keeps a judgment that breaks the priority rule (JSON `override`).
    #[serde(
        default,
        rename = "override",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub priority_override: bool,
}

impl PreferencePayload {
    pub(super) fn check_fields(&self, item: &Item, rubric: &Rubric) -> Result<(), FieldError> {
        if item.candidate(TIE).is_some() {
            return Err(FieldError::new(
                "winner",
                "the item has a candidate with id `tie`, which a preference payload cannot tell \
                 from a tie; rename the candidate",
            ));
        }
        check_choice("winner", &self.winner, item)?;
        check_range("strength", self.strength, MAX_STRENGTH)?;
        if self.winner.is_tie() && self.strength != 0 {
            return Err(FieldError::new(
                "strength",
                format!(
                    "must be 0 when the winner is tie (strength says how much better the winner is), got {}",
                    self.strength
                ),
            ));
        }
        for (key, choice) in &self.criteria {
            let field = format!("criteria.{key}");
            if rubric.criterion(key).is_none() {
                return Err(FieldError::new(
                    field,
                    format!(
                        "unknown criterion `{key}`; the rubric's criteria are {}",
                        or_none(rubric.criteria.iter().map(|c| c.key.as_str()))
                    ),
                ));
            }
            check_choice(&field, choice, item)?;
        }
        let missing: Vec<&str> = rubric
            .criteria
            .iter()
            .map(|c| c.key.as_str())
            .filter(|k| !self.criteria.contains_key(*k))
            .collect();
        if !missing.is_empty() {
            return Err(FieldError::new(
                "criteria",
                format!(
                    "missing {}: every criterion of the rubric must be marked with a candidate id or `tie`",
                    or_none(missing.into_iter())
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn check_priority(
        &self,
        item: &Item,
        rubric: &Rubric,
    ) -> Result<(), PriorityViolation> {
        let ids: Vec<&str> = item.candidates.iter().map(|c| c.id.as_str()).collect();
        check_preference(rubric, &ids, &self.winner, &self.criteria, &self.violations)
    }
}

fn check_choice(field: &str, choice: &Choice, item: &Item) -> Result<(), FieldError> {
    match choice {
        Choice::Tie => Ok(()),
        Choice::Candidate(id) => check_candidate(field, id, item),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fixtures::{banking, item, refused};
    use super::super::{JudgmentError, Payload};
    use crate::task::TaskKind;

    fn check(json: &str) -> Result<super::super::ValidatedJudgment, JudgmentError> {
        Payload::from_json(TaskKind::Preference, json)?
            .validate(&item(TaskKind::Preference, &["a", "b"]), &banking())
    }

    const OK: &str = r#"{"winner": "a", "strength": 2,
        "criteria": {"compliance": "a", "correctness": "tie", "resolution": "b", "tone": "b"},
        "violations": {"b": ["escalation_missed"], "a": []}, "rationale": "b missed the escalation",
        "edge_cases": ["bereavement"]}"#;

    #[test]
    fn design_example_is_accepted_and_round_trips() {
        let v = check(OK).unwrap();
        assert!(!v.priority_inversion());
        let json = serde_json::to_string(v.payload()).unwrap();
        let again = Payload::from_json(TaskKind::Preference, &json).unwrap();
        assert_eq!(&again, v.payload());
        assert!(!json.contains("override"), "{json}");
    }

    #[test]
    fn unknown_candidates_are_named() {
        let e = refused(check(&OK.replace(r#""winner": "a""#, r#""winner": "A""#)));
        assert!(e.contains("field `winner`: unknown candidate `A`"), "{e}");
        assert!(
            e.contains("`a`, `b`") && e.contains("display position"),
            "{e}"
        );
        let e = refused(check(&OK.replace(r#""tone": "b""#, r#""tone": "2""#)));
        assert!(
            e.contains("field `criteria.tone`: unknown candidate `2`"),
            "{e}"
        );
        let e = refused(check(&OK.replace(r#""a": []"#, r#""c": []"#)));
        assert!(
            e.contains("field `violations.c`: unknown candidate `c`"),
            "{e}"
        );
    }

    #[test]
    fn criteria_must_be_exactly_the_rubrics() {
        let e = refused(check(&OK.replace(r#", "tone": "b""#, "")));
        assert!(e.contains("field `criteria`: missing `tone`"), "{e}");
        let e = refused(check(&OK.replace(r#""tone": "b""#, r#""empathy": "b""#)));
        assert!(
            e.contains("field `criteria.empathy`: unknown criterion `empathy`"),
            "{e}"
        );
        let e = refused(check(
            &OK.replace(r#""tone": "b""#, r#""tone": "b", "tone": "a""#),
        ));
        assert!(e.contains("key `tone` appears twice"), "{e}");
        let e = refused(check(&OK.replace(r#""criteria""#, r#""criterias""#)));
        assert!(e.contains("unknown field `criterias`"), "{e}");
    }

    #[test]
    fn strength_is_checked() {
        let e = refused(check(&OK.replace(r#""strength": 2"#, r#""strength": 4"#)));
        assert_eq!(e, "field `strength`: must be between 0 and 3, got 4");
        let e = refused(check(&OK.replace(r#""strength": 2"#, r#""strength": -1"#)));
        assert!(e.contains("got -1"), "{e}");
        let tie = OK
            .replace(r#""winner": "a""#, r#""winner": "tie""#)
            .replace(r#""compliance": "a""#, r#""compliance": "tie""#)
            .replace(
                r#""resolution": "b", "tone": "b""#,
                r#""resolution": "tie", "tone": "tie""#,
            );
        let e = refused(check(&tie));
        assert!(e.contains("must be 0 when the winner is tie"), "{e}");
        assert!(check(&tie.replace(r#""strength": 2"#, r#""strength": 0"#)).is_ok());
    }

    #[test]
    fn tags_and_edge_cases_are_checked() {
        let e = refused(check(
            &OK.replace(r#"["escalation_missed"]"#, r#"["rudeness"]"#),
        ));
        assert!(
            e.contains("field `violations.b[0]`: unknown error tag `rudeness`"),
            "{e}"
        );
        let e = refused(check(&OK.replace(
            r#"["escalation_missed"]"#,
            r#"["escalation_missed", "escalation_missed"]"#,
        )));
        assert!(
            e.contains("field `violations.b[1]`") && e.contains("twice"),
            "{e}"
        );
        let e = refused(check(&OK.replace(r#"["bereavement"]"#, r#"["fraud"]"#)));
        assert!(
            e.contains("field `edge_cases[0]`: unknown edge case `fraud`"),
            "{e}"
        );
        assert!(e.contains("`bereavement`"), "{e}");
    }

    #[test]
    fn a_candidate_named_tie_is_refused() {
        // Item::validate refuses such ids at import; this guards items built otherwise.
        let mut odd = item(TaskKind::Preference, &["a", "b"]);
        odd.candidates[1].id = "tie".into();
        let e = Payload::from_json(TaskKind::Preference, OK)
            .unwrap()
            .validate(&odd, &banking())
            .unwrap_err()
            .to_string();
        assert!(e.contains("candidate with id `tie`"), "{e}");
    }

    #[test]
    fn inversion_is_refused_then_kept_with_override() {
        let inverted = OK.replace(r#""winner": "a""#, r#""winner": "b""#);
        let err = check(&inverted).unwrap_err();
        assert!(matches!(
            &err,
            JudgmentError::PriorityViolation { criterion, .. } if criterion == "compliance"
        ));
        let e = err.to_string();
        assert!(
            e.starts_with("winner is `b` but `a` wins on `compliance`, the highest-priority criterion not marked tie"),
            "{e}"
        );
        assert!(e.contains("override"), "{e}");
        let kept = check(&inverted.replace(r#""edge_cases""#, r#""override": true, "edge_cases""#))
            .unwrap();
        assert!(kept.priority_inversion());
        assert_eq!(kept.inversion().unwrap().criterion, "compliance");
        let json = serde_json::to_string(kept.payload()).unwrap();
        assert!(json.contains(r#""override":true"#), "{json}");
    }

    #[test]
    fn override_needs_a_rationale() {
        let no_reason = OK
            .replace(r#""winner": "a""#, r#""winner": "b""#)
            .replace(r#""b missed the escalation""#, r#""  ""#)
            .replace(r#""edge_cases""#, r#""override": true, "edge_cases""#);
        let e = refused(check(&no_reason));
        assert_eq!(
            e,
            "field `rationale`: an override of the priority rule needs a rationale saying why"
        );
    }

    #[test]
    fn hard_violation_on_winner_is_refused() {
        let json = OK
            .replace(r#""compliance": "a""#, r#""compliance": "tie""#)
            .replace(r#""winner": "a""#, r#""winner": "b""#)
            .replace(r#""correctness": "tie""#, r#""correctness": "b""#);
        let e = refused(check(&json));
        assert!(
            e.starts_with("`b` carries hard violation `escalation_missed` (criterion `compliance`) and cannot beat `a`, which carries none"),
            "{e}"
        );
    }
}
