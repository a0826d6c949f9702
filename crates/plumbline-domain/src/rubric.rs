//! The rubric: criteria in priority order, an error taxonomy, edge-case tags.
//!
//! Parsed from the TOML of DESIGN.md by [`Rubric::from_toml`], which checks that
//! priorities are unique and contiguous from 1, keys are slugs and unique, and every
//! error tag names an existing criterion. Criteria are kept sorted by priority.

use crate::slug::Slug;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use thiserror::Error;

/// Why a rubric file was refused.
#[derive(Debug, Error, PartialEq)]
pub enum RubricError {
    /// The file is not TOML of the expected shape (message from the parser, with position).
    #[error("rubric is not valid TOML of the expected shape: {0}")]
    Syntax(String),
    /// The rubric names no criterion.
    #[error("rubric has no [[criteria]]")]
    NoCriteria,
    /// Two criteria share a priority.
    #[error(
        "criteria `{first}` and `{second}` both have priority {priority}; priorities must be unique"
    )]
    DuplicatePriority {
        priority: u32,
        first: String,
        second: String,
    },
    /// Priorities skip a number or do not start at 1.
    #[error(
        "criterion priorities must be contiguous from 1 to {count}; priority {missing} is missing"
    )]
    PriorityGap { count: usize, missing: u32 },
    /// A key appears twice within criteria, errors or edge cases.
    #[error("{what} key `{key}` appears twice")]
    DuplicateKey { what: &'static str, key: String },
    /// An error tag names a criterion the rubric does not have.
    #[error("error tag `{error}` names criterion `{criterion}`, which the rubric does not define")]
    UnknownCriterion { error: String, criterion: String },
    /// A field has an unacceptable value.
    #[error("{field}: {reason}")]
    Invalid { field: String, reason: String },
}

/// Inclusive score range of a criterion for ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scale {
    /// Lowest score.
    pub min: i32,
    /// Highest score.
    pub max: i32,
}

impl Default for Scale {
    fn default() -> Self {
        Scale { min: 1, max: 5 }
    }
}

impl Scale {
    /// True when `score` lies within the range.
    pub fn contains(&self, score: i64) -> bool {
        (self.min as i64..=self.max as i64).contains(&score)
    }
}

/// One criterion; priority 1 is the highest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Stable key used in judgment payloads.
    pub key: Slug,
    /// Human title.
    pub title: String,
    /// 1 = highest; unique and contiguous across the rubric.
    pub priority: u32,
    /// A candidate violating a hard criterion cannot beat one that does not.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hard: bool,
    /// Guidance for annotators.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
    /// Range of rating scores.
    #[serde(default)]
    pub scale: Scale,
    /// What a score means, by point (`"1" = "unusable"`); optional, shown to annotators
    /// beside the rating. Each key is a whole number within `scale`.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub scale_labels: std::collections::BTreeMap<String, String>,
}

/// How bad an error of the taxonomy is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Cosmetic.
    Minor,
    /// Materially worse.
    Major,
    /// Unacceptable in production.
    Critical,
}

/// An error tag of the taxonomy, tied to one criterion.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorTag {
    /// Stable key used in `violations`.
    pub key: Slug,
    /// The criterion this error violates.
    pub criterion: Slug,
    /// How bad it is.
    pub severity: Severity,
    /// Guidance for annotators.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// An edge-case tag; items carry it as `edge:<key>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeCase {
    /// Stable key.
    pub key: Slug,
    /// What makes an item this edge case.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A validated rubric. Criteria are sorted by priority (highest first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rubric {
    /// Display name.
    pub name: String,
    /// Guidelines shown to annotators.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub guidelines: String,
    /// Criteria, highest priority first.
    pub criteria: Vec<Criterion>,
    /// The error taxonomy.
    #[serde(default)]
    pub errors: Vec<ErrorTag>,
    /// Edge-case tags.
    #[serde(default)]
    pub edge_cases: Vec<EdgeCase>,
}

impl Rubric {
    /// Parses and validates a rubric from TOML text.
    pub fn from_toml(text: &str) -> Result<Rubric, RubricError> {
        let raw: Rubric = toml::from_str(text).map_err(|e| RubricError::Syntax(e.to_string()))?;
        raw.validated()
    }

    /// Parses and validates a rubric from its JSON form (as stored and served).
    pub fn from_json(text: &str) -> Result<Rubric, RubricError> {
        let raw: Rubric =
            serde_json::from_str(text).map_err(|e| RubricError::Syntax(e.to_string()))?;
        raw.validated()
    }

    /// Checks the rules of a rubric and sorts the criteria by priority.
    pub fn validated(mut self) -> Result<Rubric, RubricError> {
        if self.name.trim().is_empty() {
            return Err(RubricError::Invalid {
                field: "name".into(),
                reason: "must not be empty".into(),
            });
        }
        if self.criteria.is_empty() {
            return Err(RubricError::NoCriteria);
        }
        unique_keys("criterion", self.criteria.iter().map(|c| &c.key))?;
        unique_keys("error", self.errors.iter().map(|e| &e.key))?;
        unique_keys("edge case", self.edge_cases.iter().map(|e| &e.key))?;
        for c in &self.criteria {
            if c.title.trim().is_empty() {
                return Err(RubricError::Invalid {
                    field: format!("criteria.{}.title", c.key),
                    reason: "must not be empty".into(),
                });
            }
            if c.scale.min >= c.scale.max {
                return Err(RubricError::Invalid {
                    field: format!("criteria.{}.scale", c.key),
                    reason: format!("min ({}) must be below max ({})", c.scale.min, c.scale.max),
                });
            }
            for point in c.scale_labels.keys() {
                if !point
                    .trim()
                    .parse::<i64>()
                    .is_ok_and(|p| c.scale.contains(p))
                {
                    return Err(RubricError::Invalid {
                        field: format!("criteria.{}.scale_labels", c.key),
                        reason: format!(
                            "`{point}` is not a score from {} to {}",
                            c.scale.min, c.scale.max
                        ),
                    });
                }
            }
        }
        self.criteria.sort_by_key(|c| c.priority);
        for pair in self.criteria.windows(2) {
            if pair[0].priority == pair[1].priority {
                return Err(RubricError::DuplicatePriority {
                    priority: pair[0].priority,
                    first: pair[0].key.to_string(),
                    second: pair[1].key.to_string(),
                });
            }
        }
        for (i, c) in self.criteria.iter().enumerate() {
            let expected = i as u32 + 1;
            if c.priority != expected {
                return Err(RubricError::PriorityGap {
                    count: self.criteria.len(),
                    missing: expected,
                });
            }
        }
        for e in &self.errors {
            if self.criterion(e.criterion.as_str()).is_none() {
                return Err(RubricError::UnknownCriterion {
                    error: e.key.to_string(),
                    criterion: e.criterion.to_string(),
                });
            }
        }
        Ok(self)
    }

    /// The criterion with `key`, if any.
    pub fn criterion(&self, key: &str) -> Option<&Criterion> {
        self.criteria.iter().find(|c| c.key.as_str() == key)
    }

    /// The error tag with `key`, if any.
    pub fn error(&self, key: &str) -> Option<&ErrorTag> {
        self.errors.iter().find(|e| e.key.as_str() == key)
    }

    /// The edge case with `key`, if any.
    pub fn edge_case(&self, key: &str) -> Option<&EdgeCase> {
        self.edge_cases.iter().find(|e| e.key.as_str() == key)
    }

    /// True when the error tag `key` violates a hard criterion.
    pub fn is_hard_error(&self, key: &str) -> bool {
        self.error(key)
            .and_then(|e| self.criterion(e.criterion.as_str()))
            .is_some_and(|c| c.hard)
    }

    /// Serializes to pretty TOML (the file shape users edit).
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a rubric always serializes to TOML")
    }
}

fn unique_keys<'a>(
    what: &'static str,
    keys: impl Iterator<Item = &'a Slug>,
) -> Result<(), RubricError> {
    let mut seen = HashSet::new();
    for k in keys {
        if !seen.insert(k.as_str()) {
            return Err(RubricError::DuplicateKey {
                what,
                key: k.to_string(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const BANKING: &str = r#"
name = "Retail banking support"

[[criteria]]
key = "compliance"
title = "Regulatory compliance"
priority = 1
hard = true
description = "Follows disclosure, identity-verification and escalation policy."

[[criteria]]
key = "correctness"
title = "Factual and procedural correctness"
priority = 2

[[criteria]]
key = "tone"
title = "Tone and empathy"
priority = 4

[[criteria]]
key = "resolution"
title = "Resolves the customer's need"
priority = 3

[[errors]]
key = "escalation_missed"
criterion = "compliance"
severity = "critical"

[[edge_cases]]
key = "bereavement"
"#;

    #[test]
    fn parses_design_example_and_sorts_by_priority() {
        let r = Rubric::from_toml(BANKING).unwrap();
        let keys: Vec<_> = r.criteria.iter().map(|c| c.key.as_str()).collect();
        assert_eq!(keys, ["compliance", "correctness", "resolution", "tone"]);
        assert!(r.is_hard_error("escalation_missed"));
        assert_eq!(r.criteria[1].scale, Scale::default());
        let again = Rubric::from_toml(&r.to_toml()).unwrap();
        assert_eq!(again, r);
    }

    #[test]
    fn scale_labels_name_points_within_the_scale() {
        let text = BANKING.replace(
            "priority = 2\n",
            "priority = 2\nscale_labels = { \"1\" = \"wrong\", \"5\" = \"exact\" }\n",
        );
        let r = Rubric::from_toml(&text).unwrap();
        assert_eq!(r.criteria[1].scale_labels["5"], "exact");
        assert_eq!(Rubric::from_toml(&r.to_toml()).unwrap(), r);
        let bad = text.replace("\"5\" = ", "\"6\" = ");
        assert!(matches!(
            Rubric::from_toml(&bad),
            Err(RubricError::Invalid { field, .. }) if field == "criteria.correctness.scale_labels"
        ));
    }

    #[test]
    fn duplicate_priority_is_refused() {
        let text = BANKING.replace("priority = 4", "priority = 3");
        assert!(matches!(
            Rubric::from_toml(&text),
            Err(RubricError::DuplicatePriority { priority: 3, .. })
        ));
    }

    #[test]
    fn gap_in_priorities_is_refused() {
        let text = BANKING.replace("priority = 4", "priority = 5");
        assert_eq!(
            Rubric::from_toml(&text),
            Err(RubricError::PriorityGap {
                count: 4,
                missing: 4
            })
        );
    }

    #[test]
    fn error_tag_naming_no_criterion_is_refused() {
        let text = BANKING.replace("criterion = \"compliance\"", "criterion = \"legal\"");
        let err = Rubric::from_toml(&text).unwrap_err();
        assert!(err.to_string().contains("`legal`"), "{err}");
    }

    #[test]
    fn non_slug_key_and_unknown_field_are_refused() {
        let text = BANKING.replace("key = \"tone\"", "key = \"Tone and empathy\"");
        assert!(matches!(
            Rubric::from_toml(&text),
            Err(RubricError::Syntax(_))
        ));
        let text = BANKING.replace("hard = true", "hard = true\nhardness = 3");
        let err = Rubric::from_toml(&text).unwrap_err().to_string();
        assert!(err.contains("hardness"), "{err}");
    }
}
