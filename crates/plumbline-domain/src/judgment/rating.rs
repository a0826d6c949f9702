//! Rating: a score for every candidate on every criterion, within the criterion's scale.

use super::priority::{PriorityViolation, check_rating};
use super::{or_none, unique, unknown_candidate};
use crate::error::FieldError;
use crate::item::Item;
use crate::rubric::Rubric;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `{"scores": {"a": {"correctness": 4, ...}, ...}, ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RatingPayload {
    /// Score per candidate id, then per criterion key.
    #[serde(deserialize_with = "unique::nested")]
    pub scores: BTreeMap<String, BTreeMap<String, i64>>,
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

impl RatingPayload {
    pub(super) fn check_fields(&self, item: &Item, rubric: &Rubric) -> Result<(), FieldError> {
        for (cand, row) in &self.scores {
            let field = format!("scores.{cand}");
            if item.candidate(cand).is_none() {
                return Err(unknown_candidate(&field, cand, item));
            }
            for (key, &score) in row {
                let field = format!("{field}.{key}");
                let Some(crit) = rubric.criterion(key) else {
                    return Err(FieldError::new(
                        field,
                        format!(
                            "unknown criterion `{key}`; the rubric's criteria are {}",
                            or_none(rubric.criteria.iter().map(|c| c.key.as_str()))
                        ),
                    ));
                };
                if !crit.scale.contains(score) {
                    return Err(FieldError::new(
                        field,
                        format!(
                            "{score} is outside the scale of `{key}` ({} to {})",
                            crit.scale.min, crit.scale.max
                        ),
                    ));
                }
            }
            let missing: Vec<&str> = rubric
                .criteria
                .iter()
                .map(|c| c.key.as_str())
                .filter(|k| !row.contains_key(*k))
                .collect();
            if !missing.is_empty() {
                return Err(FieldError::new(
                    field,
                    format!(
                        "missing {}: every candidate is scored on every criterion",
                        or_none(missing.into_iter())
                    ),
                ));
            }
        }
        let missing: Vec<&str> = item
            .candidates
            .iter()
            .map(|c| c.id.as_str())
            .filter(|id| !self.scores.contains_key(*id))
            .collect();
        if !missing.is_empty() {
            return Err(FieldError::new(
                "scores",
                format!(
                    "no scores for {}: every candidate is scored on every criterion",
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
        check_rating(rubric, &ids, &self.scores, &self.violations)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fixtures::{banking, item, refused};
    use super::super::{JudgmentError, Payload, ValidatedJudgment};
    use crate::task::TaskKind;

    fn check(json: &str) -> Result<ValidatedJudgment, JudgmentError> {
        Payload::from_json(TaskKind::Rating, json)?
            .validate(&item(TaskKind::Rating, &["a", "b"]), &banking())
    }

    // banking(): compliance (hard, scale 0..=2), correctness, resolution, tone (1..=5).
    const OK: &str = r#"{"scores": {
        "a": {"compliance": 2, "correctness": 4, "resolution": 3, "tone": 5},
        "b": {"compliance": 0, "correctness": 5, "resolution": 5, "tone": 5}},
        "violations": {"b": ["escalation_missed"]}}"#;

    #[test]
    fn complete_scores_are_accepted_and_round_trip() {
        let v = check(OK).unwrap();
        assert!(!v.priority_inversion());
        let json = serde_json::to_string(v.payload()).unwrap();
        assert_eq!(
            &Payload::from_json(TaskKind::Rating, &json).unwrap(),
            v.payload()
        );
    }

    #[test]
    fn coverage_and_scale_errors_are_named() {
        let e = refused(check(&OK.replace(r#", "tone": 5}}"#, "}}")));
        assert_eq!(
            e,
            "field `scores.b`: missing `tone`: every candidate is scored on every criterion"
        );
        let e = refused(check(
            &OK.replace(r#""correctness": 4"#, r#""correctness": 6"#),
        ));
        assert_eq!(
            e,
            "field `scores.a.correctness`: 6 is outside the scale of `correctness` (1 to 5)"
        );
        let e = refused(check(
            &OK.replace(r#""tone": 5},"#, r#""tone": 5, "empathy": 3},"#),
        ));
        assert!(
            e.starts_with("field `scores.a.empathy`: unknown criterion `empathy`"),
            "{e}"
        );
        let e = refused(check(&OK.replace(r#""a": {"#, r#""c": {"#)));
        assert!(
            e.starts_with("field `scores.c`: unknown candidate `c`"),
            "{e}"
        );
        let e = refused(check(
            r#"{"scores": {"a": {"compliance": 2, "correctness": 4, "resolution": 3, "tone": 5}}}"#,
        ));
        assert!(e.starts_with("field `scores`: no scores for `b`"), "{e}");
        let e = refused(check(
            &OK.replace(r#""tone": 5},"#, r#""tone": 5, "tone": 4},"#),
        ));
        assert!(e.contains("key `tone` appears twice"), "{e}");
        let e = refused(check(
            &OK.replace(r#""correctness": 4"#, r#""correctness": 4.5"#),
        ));
        assert!(
            e.starts_with("not a valid rating payload: invalid type: floating point"),
            "{e}"
        );
    }

    #[test]
    fn hard_violator_scored_above_clean_candidate_is_refused() {
        // b ties a on compliance but leads on correctness while carrying a hard violation.
        let json = OK.replace(r#""compliance": 0"#, r#""compliance": 2"#);
        let err = check(&json).unwrap_err();
        assert!(matches!(
            &err,
            JudgmentError::PriorityViolation { criterion, .. } if criterion == "compliance"
        ));
        assert!(
            err.to_string().starts_with(
                "`b` carries hard violation `escalation_missed` (criterion `compliance`) yet its scores put it \
                 above `a`, which carries none (they first differ on `correctness`: 5 vs 4)"
            ),
            "{err}"
        );
    }
}
