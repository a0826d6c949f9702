//! Projects and their settings.

use crate::error::FieldError;
use crate::expertise::Expertise;
use crate::task::TaskKind;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest project name, in characters.
pub const MAX_PROJECT_NAME_LEN: usize = 100;

/// A project's name: 1 to 100 characters of letters, digits, space, `_`, `-` and `.`,
/// other than `.` and `..`; used to address the project on the command line and in
/// paths (releases).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProjectName(String);

impl ProjectName {
    /// Parses a project name, saying why it is refused.
    pub fn parse(s: &str) -> Result<Self, String> {
        if matches!(s.trim(), "." | "..") {
            return Err(format!(
                "project name `{s}` is refused: `.` and `..` name directories, not projects"
            ));
        }
        let ok = !s.trim().is_empty()
            && s.chars().count() <= MAX_PROJECT_NAME_LEN
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(format!(
                "project name `{s}` must be 1 to 100 letters, digits, spaces, `_`, `-` or `.`"
            ))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ProjectName {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        Self::parse(&s)
    }
}

impl From<ProjectName> for String {
    fn from(n: ProjectName) -> String {
        n.0
    }
}

impl fmt::Display for ProjectName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A quota: at least `min_share` of served items should carry `tag` until met.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EdgeCaseQuota {
    /// The tag, e.g. `edge:bereavement`.
    pub tag: String,
    /// Share of served items in (0, 1].
    pub min_share: f64,
}

/// Largest score spread at which ratings count as agreeing: wider than any scale.
pub const MAX_RATING_SPREAD: u32 = 100;

/// Largest qualification set: more gold than anyone judges before starting work.
pub const MAX_QUALIFICATION_SIZE: u32 = 1000;

/// How a project hands out and checks work. Defaults are sensible for a pilot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ProjectSettings {
    /// Default task kind of its items.
    pub task: TaskKind,
    /// Judgments wanted per item.
    pub overlap: u32,
    /// Share of served work that is hidden gold, in [0, 1).
    pub gold_rate: f64,
    /// How long an assignment's lease lasts, in seconds.
    pub lease_seconds: u32,
    /// Gold items an annotator judges before regular work; 0 disables qualification.
    pub qualification_size: u32,
    /// Share of qualification items to get right to pass, in [0, 1].
    pub qualification_pass: f64,
    /// Expertise every annotator of the project needs (verified).
    pub required_expertise: Vec<Expertise>,
    /// Edge-case quotas.
    pub edge_case_quotas: Vec<EdgeCaseQuota>,
    /// Largest Kendall distance (normalised, 0..1) at which ranking judgments count as agreeing.
    pub ranking_agreement: f64,
    /// Largest score spread at which rating judgments count as agreeing.
    pub rating_spread: u32,
    /// Expert judgments each item should get before others; `None`: 1 when the project
    /// has members with verified expert-level expertise, else 0.
    pub min_experts: Option<u32>,
    /// Most judgments an item may get when its decision stays below
    /// `decision_threshold` after `overlap` (the extra ones go to experts); `None`:
    /// `overlap + 2`.
    pub max_overlap: Option<u32>,
    /// Least posterior of an item's decided label; below it an item is escalated (up to
    /// `max_overlap`), then adjudicated. In (0.5, 1].
    pub decision_threshold: f64,
    /// Hidden-gold accuracy an annotator must be able to reach: when the upper end of
    /// its Wilson interval falls below this, the annotator is on probation (no more
    /// work) until a lead reinstates them. 0 disables probation.
    pub min_gold_accuracy: f64,
}

impl Default for ProjectSettings {
    fn default() -> Self {
        ProjectSettings {
            task: TaskKind::Preference,
            overlap: 3,
            gold_rate: 0.1,
            lease_seconds: 900,
            qualification_size: 0,
            qualification_pass: 0.8,
            required_expertise: Vec::new(),
            edge_case_quotas: Vec::new(),
            ranking_agreement: 0.2,
            rating_spread: 1,
            min_experts: None,
            max_overlap: None,
            decision_threshold: 0.9,
            min_gold_accuracy: 0.7,
        }
    }
}

impl ProjectSettings {
    /// Checks every setting's range, naming the first that is out of it.
    pub fn validate(&self) -> Result<(), FieldError> {
        if !(1..=100).contains(&self.overlap) {
            return Err(FieldError::new("overlap", "must be between 1 and 100"));
        }
        if !(0.0..1.0).contains(&self.gold_rate) {
            return Err(FieldError::new(
                "gold_rate",
                "must be at least 0 and below 1",
            ));
        }
        if !(10..=7 * 24 * 3600).contains(&self.lease_seconds) {
            return Err(FieldError::new(
                "lease_seconds",
                "must be between 10 seconds and 7 days",
            ));
        }
        if self.qualification_size > MAX_QUALIFICATION_SIZE {
            return Err(FieldError::new(
                "qualification_size",
                format!("must be between 0 and {MAX_QUALIFICATION_SIZE}"),
            ));
        }
        if !(0.0..=1.0).contains(&self.qualification_pass) {
            return Err(FieldError::new(
                "qualification_pass",
                "must lie between 0 and 1",
            ));
        }
        for (i, q) in self.edge_case_quotas.iter().enumerate() {
            if q.tag.trim().is_empty() {
                return Err(FieldError::new(
                    format!("edge_case_quotas[{i}].tag"),
                    "must not be empty",
                ));
            }
            if !(q.min_share > 0.0 && q.min_share <= 1.0) {
                return Err(FieldError::new(
                    format!("edge_case_quotas[{i}].min_share"),
                    "must be above 0 and at most 1",
                ));
            }
        }
        if !(0.0..=1.0).contains(&self.ranking_agreement) {
            return Err(FieldError::new(
                "ranking_agreement",
                "must lie between 0 and 1",
            ));
        }
        if self.rating_spread > MAX_RATING_SPREAD {
            return Err(FieldError::new(
                "rating_spread",
                format!("must be at most {MAX_RATING_SPREAD}"),
            ));
        }
        if let Some(m) = self.max_overlap
            && !(self.overlap..=100).contains(&m)
        {
            return Err(FieldError::new(
                "max_overlap",
                format!("must be between overlap ({}) and 100", self.overlap),
            ));
        }
        if let Some(e) = self.min_experts
            && e > self.effective_max_overlap()
        {
            return Err(FieldError::new(
                "min_experts",
                format!(
                    "must be at most max_overlap ({})",
                    self.effective_max_overlap()
                ),
            ));
        }
        if !(self.decision_threshold > 0.5 && self.decision_threshold <= 1.0) {
            return Err(FieldError::new(
                "decision_threshold",
                "must be above 0.5 and at most 1",
            ));
        }
        if !(0.0..=1.0).contains(&self.min_gold_accuracy) {
            return Err(FieldError::new(
                "min_gold_accuracy",
                "must lie between 0 and 1",
            ));
        }
        Ok(())
    }

    /// The most judgments an item may get, escalation included.
    pub fn effective_max_overlap(&self) -> u32 {
        self.max_overlap
            .unwrap_or(self.overlap.saturating_add(2).min(100))
    }

    /// Expert judgments each item should get, given whether the project has verified
    /// experts among its members.
    pub fn effective_min_experts(&self, has_experts: bool) -> u32 {
        self.min_experts.unwrap_or(u32::from(has_experts))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid_and_ranges_checked() {
        let s = ProjectSettings::default();
        s.validate().unwrap();
        let bad = ProjectSettings {
            overlap: 0,
            ..s.clone()
        };
        assert_eq!(bad.validate().unwrap_err().field, "overlap");
        let bad = ProjectSettings {
            gold_rate: 1.0,
            ..s
        };
        assert_eq!(bad.validate().unwrap_err().field, "gold_rate");
        let s = ProjectSettings::default();
        assert_eq!(s.effective_max_overlap(), 5);
        assert_eq!(s.effective_min_experts(true), 1);
        assert_eq!(s.effective_min_experts(false), 0);
        for (bad, field) in [
            (
                ProjectSettings {
                    max_overlap: Some(2),
                    ..s.clone()
                },
                "max_overlap",
            ),
            (
                ProjectSettings {
                    min_experts: Some(6),
                    ..s.clone()
                },
                "min_experts",
            ),
            (
                ProjectSettings {
                    decision_threshold: 0.5,
                    ..s.clone()
                },
                "decision_threshold",
            ),
            (
                ProjectSettings {
                    min_gold_accuracy: 1.5,
                    ..s.clone()
                },
                "min_gold_accuracy",
            ),
        ] {
            assert_eq!(bad.validate().unwrap_err().field, field);
        }
        let old: ProjectSettings = serde_json::from_str(r#"{"overlap":3}"#).unwrap();
        assert_eq!(
            old.decision_threshold, 0.9,
            "settings stored before these fields read"
        );
    }

    #[test]
    fn project_names() {
        assert!(ProjectName::parse("banking pilot-2").is_ok());
        assert!(ProjectName::parse("").is_err());
        assert!(ProjectName::parse("a/b").is_err());
        for dots in [".", "..", " .. "] {
            let e = ProjectName::parse(dots).unwrap_err();
            assert!(e.contains("`.` and `..`"), "{e}");
        }
        assert!(ProjectName::parse("...").is_ok());
        assert!(ProjectName::parse("v1.2").is_ok());
    }
}
