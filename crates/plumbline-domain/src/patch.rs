//! A change to some of a project's settings after its creation: the fields named are
//! changed, the rest kept, and the result is range-checked as a whole.

use crate::error::FieldError;
use crate::project::{EdgeCaseQuota, ProjectSettings};
use serde::Serialize;
use serde_json::{Map, Value};

/// The settings a lead may change after creation, in the order they are listed.
pub const CHANGEABLE: &[&str] = &[
    "overlap",
    "gold_rate",
    "lease_seconds",
    "qualification_size",
    "qualification_pass",
    "min_experts",
    "max_overlap",
    "min_gold_accuracy",
    "decision_threshold",
    "ranking_agreement",
    "rating_spread",
    "edge_case_quotas",
];

/// Some of a project's settings to change; `None` leaves a setting as it is.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SettingsPatch {
    /// Judgments wanted per item.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub overlap: Option<u32>,
    /// Share of served work that is hidden gold.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gold_rate: Option<f64>,
    /// Lease length, seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lease_seconds: Option<u32>,
    /// Gold items judged before regular work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualification_size: Option<u32>,
    /// Share of the qualification set to get right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qualification_pass: Option<f64>,
    /// Expert judgments per item; `Some(None)` returns it to automatic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_experts: Option<Option<u32>>,
    /// Most judgments per item with escalation; `Some(None)` returns it to automatic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_overlap: Option<Option<u32>>,
    /// Hidden-gold accuracy below which an annotator is on probation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub min_gold_accuracy: Option<f64>,
    /// Least posterior of a decided label.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision_threshold: Option<f64>,
    /// Largest normalised Kendall distance at which rankings agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranking_agreement: Option<f64>,
    /// Largest score spread at which ratings agree.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating_spread: Option<u32>,
    /// The edge-case quotas, replaced whole (an empty list removes them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edge_case_quotas: Option<Vec<EdgeCaseQuota>>,
}

fn whole(field: &str, v: &Value) -> Result<u32, FieldError> {
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| FieldError::new(field, format!("must be a whole number, not {v}")))
}

fn number(field: &str, v: &Value) -> Result<f64, FieldError> {
    v.as_f64()
        .ok_or_else(|| FieldError::new(field, format!("must be a number, not {v}")))
}

fn whole_or_auto(field: &str, v: &Value) -> Result<Option<u32>, FieldError> {
    if v.is_null() {
        return Ok(None);
    }
    v.as_u64()
        .and_then(|n| u32::try_from(n).ok())
        .map(Some)
        .ok_or_else(|| {
            FieldError::new(
                field,
                format!("must be a whole number, or null for automatic; not {v}"),
            )
        })
}

impl SettingsPatch {
    /// Parses a JSON object naming the settings to change; a field that is not a
    /// changeable setting, or a value of the wrong type, is refused by its name.
    pub fn from_json(text: &str) -> Result<SettingsPatch, FieldError> {
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => SettingsPatch::from_map(&map),
            Ok(_) => Err(FieldError::new(
                "",
                "the settings to change must be a JSON object",
            )),
            Err(e) => Err(FieldError::new("", format!("not JSON: {e}"))),
        }
    }

    /// The patch of a JSON object's fields (see [`from_json`](Self::from_json)).
    pub fn from_map(map: &Map<String, Value>) -> Result<SettingsPatch, FieldError> {
        let mut p = SettingsPatch::default();
        for (key, v) in map {
            let k = key.as_str();
            match k {
                "overlap" => p.overlap = Some(whole(k, v)?),
                "gold_rate" => p.gold_rate = Some(number(k, v)?),
                "lease_seconds" => p.lease_seconds = Some(whole(k, v)?),
                "qualification_size" => p.qualification_size = Some(whole(k, v)?),
                "qualification_pass" => p.qualification_pass = Some(number(k, v)?),
                "min_experts" => p.min_experts = Some(whole_or_auto(k, v)?),
                "max_overlap" => p.max_overlap = Some(whole_or_auto(k, v)?),
                "min_gold_accuracy" => p.min_gold_accuracy = Some(number(k, v)?),
                "decision_threshold" => p.decision_threshold = Some(number(k, v)?),
                "ranking_agreement" => p.ranking_agreement = Some(number(k, v)?),
                "rating_spread" => p.rating_spread = Some(whole(k, v)?),
                "edge_case_quotas" => {
                    p.edge_case_quotas = Some(serde_json::from_value(v.clone()).map_err(|e| {
                        FieldError::new(
                            k,
                            format!("must be a list of {{\"tag\", \"min_share\"}}: {e}"),
                        )
                    })?)
                }
                _ => {
                    return Err(FieldError::new(
                        k,
                        format!(
                            "is not a setting that can be changed (changeable: {})",
                            CHANGEABLE.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(p)
    }

    /// The settings this patch names, in [`CHANGEABLE`] order.
    pub fn fields(&self) -> Vec<&'static str> {
        let named = [
            self.overlap.is_some(),
            self.gold_rate.is_some(),
            self.lease_seconds.is_some(),
            self.qualification_size.is_some(),
            self.qualification_pass.is_some(),
            self.min_experts.is_some(),
            self.max_overlap.is_some(),
            self.min_gold_accuracy.is_some(),
            self.decision_threshold.is_some(),
            self.ranking_agreement.is_some(),
            self.rating_spread.is_some(),
            self.edge_case_quotas.is_some(),
        ];
        CHANGEABLE
            .iter()
            .zip(named)
            .filter_map(|(f, n)| n.then_some(*f))
            .collect()
    }

    /// True when the patch names no setting.
    pub fn is_empty(&self) -> bool {
        self.fields().is_empty()
    }

    /// `current` with this patch's settings changed, range-checked as a whole: the
    /// first setting out of its range is named (which may be one the patch left alone,
    /// such as `max_overlap` below a raised `overlap`). An empty patch is refused.
    pub fn apply(&self, current: &ProjectSettings) -> Result<ProjectSettings, FieldError> {
        if self.is_empty() {
            return Err(FieldError::new(
                "",
                format!(
                    "name at least one setting to change: {}",
                    CHANGEABLE.join(", ")
                ),
            ));
        }
        let mut s = current.clone();
        if let Some(v) = self.overlap {
            s.overlap = v;
        }
        if let Some(v) = self.gold_rate {
            s.gold_rate = v;
        }
        if let Some(v) = self.lease_seconds {
            s.lease_seconds = v;
        }
        if let Some(v) = self.qualification_size {
            s.qualification_size = v;
        }
        if let Some(v) = self.qualification_pass {
            s.qualification_pass = v;
        }
        if let Some(v) = self.min_experts {
            s.min_experts = v;
        }
        if let Some(v) = self.max_overlap {
            s.max_overlap = v;
        }
        if let Some(v) = self.min_gold_accuracy {
            s.min_gold_accuracy = v;
        }
        if let Some(v) = self.decision_threshold {
            s.decision_threshold = v;
        }
        if let Some(v) = self.ranking_agreement {
            s.ranking_agreement = v;
        }
        if let Some(v) = self.rating_spread {
            s.rating_spread = v;
        }
        if let Some(v) = &self.edge_case_quotas {
            s.edge_case_quotas = v.clone();
        }
        s.validate()?;
        Ok(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_rules_of_rankings_and_ratings_change_in_range() {
        let p =
            SettingsPatch::from_json(r#"{"ranking_agreement": 0.3, "rating_spread": 2}"#).unwrap();
        assert_eq!(p.fields(), ["ranking_agreement", "rating_spread"]);
        let s = p.apply(&ProjectSettings::default()).unwrap();
        assert_eq!((s.ranking_agreement, s.rating_spread), (0.3, 2));
        let e = SettingsPatch::from_json(r#"{"ranking_agreement": 1.5}"#)
            .unwrap()
            .apply(&ProjectSettings::default())
            .unwrap_err();
        assert_eq!(e.field, "ranking_agreement");
        let e = SettingsPatch::from_json(r#"{"rating_spread": 101}"#)
            .unwrap()
            .apply(&ProjectSettings::default())
            .unwrap_err();
        assert_eq!(e.field, "rating_spread");
    }

    #[test]
    fn edge_case_quotas_are_replaced_whole_and_checked() {
        let p = SettingsPatch::from_json(
            r#"{"edge_case_quotas": [{"tag": "edge:bereavement", "min_share": 0.05}]}"#,
        )
        .unwrap();
        let s = p.apply(&ProjectSettings::default()).unwrap();
        assert_eq!(s.edge_case_quotas.len(), 1);
        assert_eq!(s.edge_case_quotas[0].tag, "edge:bereavement");
        let cleared = SettingsPatch::from_json(r#"{"edge_case_quotas": []}"#)
            .unwrap()
            .apply(&s)
            .unwrap();
        assert!(cleared.edge_case_quotas.is_empty());
        let e = SettingsPatch::from_json(r#"{"edge_case_quotas": [{"tag": "x", "min_share": 2}]}"#)
            .unwrap()
            .apply(&s)
            .unwrap_err();
        assert_eq!(e.field, "edge_case_quotas[0].min_share");
        let e = SettingsPatch::from_json(r#"{"edge_case_quotas": [{"tag": "x"}]}"#).unwrap_err();
        assert_eq!(e.field, "edge_case_quotas");
    }

    #[test]
    fn a_patch_changes_only_what_it_names() {
        let p = SettingsPatch::from_json(r#"{"overlap": 4, "max_overlap": null}"#).unwrap();
        assert_eq!(p.fields(), ["overlap", "max_overlap"]);
        let before = ProjectSettings {
            max_overlap: Some(7),
            ..ProjectSettings::default()
        };
        let after = p.apply(&before).unwrap();
        assert_eq!(after.overlap, 4);
        assert_eq!(after.max_overlap, None, "null returns it to automatic");
        assert_eq!(after.gold_rate, before.gold_rate);
    }

    #[test]
    fn unknown_fields_wrong_types_and_ranges_are_named() {
        let field = |text: &str| SettingsPatch::from_json(text).unwrap_err().field;
        assert_eq!(field(r#"{"task": "ranking"}"#), "task");
        assert_eq!(field(r#"{"overlap": "4"}"#), "overlap");
        assert_eq!(field(r#"{"overlap": -1}"#), "overlap");
        assert_eq!(field(r#"{"gold_rate": null}"#), "gold_rate");
        assert_eq!(field("[1]"), "");
        let s = ProjectSettings::default();
        for (text, f) in [
            (r#"{"overlap": 0}"#, "overlap"),
            (r#"{"gold_rate": 1}"#, "gold_rate"),
            (r#"{"lease_seconds": 5}"#, "lease_seconds"),
            (r#"{"qualification_size": 100000}"#, "qualification_size"),
            (r#"{"qualification_pass": 2}"#, "qualification_pass"),
            (r#"{"min_experts": 9}"#, "min_experts"),
            (r#"{"max_overlap": 1}"#, "max_overlap"),
            (r#"{"min_gold_accuracy": -0.1}"#, "min_gold_accuracy"),
            (r#"{"decision_threshold": 0.4}"#, "decision_threshold"),
        ] {
            let p = SettingsPatch::from_json(text).unwrap();
            assert_eq!(p.apply(&s).unwrap_err().field, f, "{text}");
        }
        assert!(SettingsPatch::default().apply(&s).is_err(), "empty patch");
    }
}
