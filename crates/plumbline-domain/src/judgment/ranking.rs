//! Ranking: an order of all candidates, best first, with ties.

use super::priority::{PriorityViolation, check_ranking};
use super::{or_none, unique, unknown_candidate};
use crate::error::FieldError;
use crate::item::Item;
use crate::rubric::Rubric;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// `{"order": [["b"], ["a", "c"]], ...}`: groups best first; a group of several is a tie.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RankingPayload {
    /// Tie groups, best first; together a partition of the item's candidate ids.
    pub order: Vec<Vec<String>>,
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

impl RankingPayload {
    /// The 0-based group of each candidate (equal numbers are ties); meaningful once validated.
    pub fn positions(&self) -> HashMap<&str, usize> {
        self.order
            .iter()
            .enumerate()
            .flat_map(|(i, g)| g.iter().map(move |id| (id.as_str(), i)))
            .collect()
    }

    pub(super) fn check_fields(&self, item: &Item) -> Result<(), FieldError> {
        let mut seen: HashMap<&str, (usize, usize)> = HashMap::new();
        for (i, group) in self.order.iter().enumerate() {
            if group.is_empty() {
                return Err(FieldError::new(
                    format!("order[{i}]"),
                    "a tie group must name at least one candidate",
                ));
            }
            for (j, id) in group.iter().enumerate() {
                let field = format!("order[{i}][{j}]");
                if item.candidate(id).is_none() {
                    return Err(unknown_candidate(&field, id, item));
                }
                if let Some((fi, fj)) = seen.insert(id, (i, j)) {
                    return Err(FieldError::new(
                        field,
                        format!(
                            "candidate `{id}` appears twice (first at order[{fi}][{fj}]); \
                             each candidate is ranked exactly once"
                        ),
                    ));
                }
            }
        }
        let missing: Vec<&str> = item
            .candidates
            .iter()
            .map(|c| c.id.as_str())
            .filter(|id| !seen.contains_key(id))
            .collect();
        if !missing.is_empty() {
            return Err(FieldError::new(
                "order",
                format!(
                    "missing candidate{} {}: each candidate is ranked exactly once",
                    if missing.len() == 1 { "" } else { "s" },
                    or_none(missing.into_iter())
                ),
            ));
        }
        Ok(())
    }

    pub(super) fn check_priority(&self, rubric: &Rubric) -> Result<(), PriorityViolation> {
        check_ranking(rubric, &self.order, &self.violations)
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::fixtures::{banking, item, refused};
    use super::super::{JudgmentError, Payload, ValidatedJudgment};
    use crate::task::TaskKind;

    fn check(json: &str) -> Result<ValidatedJudgment, JudgmentError> {
        Payload::from_json(TaskKind::Ranking, json)?
            .validate(&item(TaskKind::Ranking, &["a", "b", "c"]), &banking())
    }

    #[test]
    fn partition_is_accepted_and_round_trips() {
        let v = check(r#"{"order": [["b"], ["a", "c"]], "violations": {"a": ["escalation_missed"], "c": ["escalation_missed"]}}"#)
            .unwrap();
        let Payload::Ranking(r) = v.payload() else {
            panic!("not a ranking")
        };
        assert_eq!(r.positions()["c"], 1);
        let json = serde_json::to_string(v.payload()).unwrap();
        assert_eq!(
            &Payload::from_json(TaskKind::Ranking, &json).unwrap(),
            v.payload()
        );
    }

    #[test]
    fn partition_errors_are_named() {
        let e = refused(check(r#"{"order": [["b"], ["a"]]}"#));
        assert_eq!(
            e,
            "field `order`: missing candidate `c`: each candidate is ranked exactly once"
        );
        let e = refused(check(r#"{"order": [["b", "a"], ["a", "c"]]}"#));
        assert!(
            e.starts_with(
                "field `order[1][0]`: candidate `a` appears twice (first at order[0][1])"
            ),
            "{e}"
        );
        let e = refused(check(r#"{"order": [["b"], ["a", "c", "d"]]}"#));
        assert!(
            e.starts_with("field `order[1][2]`: unknown candidate `d`"),
            "{e}"
        );
        let e = refused(check(r#"{"order": [["b"], [], ["a", "c"]]}"#));
        assert!(
            e.starts_with("field `order[1]`: a tie group must name"),
            "{e}"
        );
    }

    #[test]
    fn hard_violator_above_clean_candidate_is_refused() {
        let json = r#"{"order": [["b"], ["a", "c"]], "violations": {"b": ["escalation_missed"]}}"#;
        let e = refused(check(json));
        assert!(
            e.starts_with("`b` carries hard violation `escalation_missed` (criterion `compliance`) and is ranked above `a`, which carries none"),
            "{e}"
        );
        let with_override = r#"{"order": [["b"], ["a", "c"]], "violations": {"b": ["escalation_missed"]}, "override": true, "rationale": "a and c are useless"}"#;
        assert!(check(with_override).unwrap().priority_inversion());
    }
}
