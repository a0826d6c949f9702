//! Judgment payloads: what an annotator submits for each task kind, parsed from the
//! JSON of DESIGN.md and validated against the item and the rubric.
//!
//! Two steps, each returning a typed value or an error that names the field:
//!
//! 1. [`Payload::from_json`] / [`Payload::from_value`] parse the payload for the task
//!    kind of the item (the kind comes from the item, never from the payload).
//!    Unknown fields and duplicate object keys are refused; a payload of another kind
//!    is recognised and reported as such ([`JudgmentError::WrongKind`]).
//! 2. [`Payload::validate`] checks it against the item and the rubric and returns a
//!    [`ValidatedJudgment`]: candidate ids exist (ids, never display positions),
//!    criterion, error and edge-case keys exist, numbers lie in range, and the
//!    priority rule holds (see [`priority`]) unless the annotator marked an override
//!    with a rationale, in which case the judgment is kept and flagged as a priority
//!    inversion.
//!
//! Numbers (`strength`, `severity`, `scores`) are parsed as `i64` so that an
//! out-of-range value is reported by validation with its field path, rather than by
//! the JSON parser without one.

mod demonstration;
mod preference;
pub mod priority;
mod ranking;
mod rating;
mod red_team;
#[cfg(test)]
mod tests;

pub use demonstration::{DemonstrationPayload, levenshtein};
pub use preference::{Choice, MAX_STRENGTH, PreferencePayload, TIE};
pub use priority::{PriorityViolation, check_preference, check_ranking, check_rating};
pub use ranking::RankingPayload;
pub use rating::RatingPayload;
pub use red_team::{
    AttackTurn, MAX_FOLLOW_UP_TURNS, MAX_SEVERITY, MAX_TACTIC_CHARS, Outcome, RedTeamPayload,
};

use crate::error::FieldError;
use crate::item::Item;
use crate::rubric::Rubric;
use crate::task::TaskKind;
use serde::{Serialize, Serializer};
use std::collections::{BTreeMap, HashSet};
use thiserror::Error;

/// Longest rationale accepted, in characters.
pub const MAX_RATIONALE_CHARS: usize = 20_000;

/// Longest demonstration response or red-team attack accepted, in characters. It also
/// bounds the cost of [`levenshtein`] on a submitted response.
pub const MAX_TEXT_CHARS: usize = 50_000;

/// Why a judgment payload was refused.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum JudgmentError {
    /// The text is not JSON at all.
    #[error("{kind} payload is not valid JSON: {message}")]
    Syntax {
        /// The kind that was expected.
        kind: TaskKind,
        /// The parser's message, with position.
        message: String,
    },
    /// JSON of the wrong shape for the expected kind (unknown or missing field, wrong type).
    #[error("not a valid {kind} payload: {message}")]
    Shape {
        /// The kind that was expected.
        kind: TaskKind,
        /// The parser's message (names the field where it can).
        message: String,
    },
    /// The payload belongs to another task kind than the item's.
    #[error(
        "this item is a {expected} task, but the payload is a {found} payload \
         (a {expected} payload has `{}`, a {found} payload has `{}`)",
        signature_field(*.expected),
        signature_field(*.found)
    )]
    WrongKind {
        /// The item's kind.
        expected: TaskKind,
        /// The kind the payload looks like.
        found: TaskKind,
    },
    /// A value breaks a rule; the field path says which.
    #[error("{0}")]
    Invalid(#[from] FieldError),
    /// The judgment breaks the priority rule and carries no override.
    #[error(
        "{explanation} (priority rule; to keep this judgment anyway, mark an override \
         and give the reason in the rationale)"
    )]
    PriorityViolation {
        /// Key of the criterion the rule turned on.
        criterion: String,
        /// What is wrong, naming the candidates and the criterion.
        explanation: String,
    },
}

impl From<PriorityViolation> for JudgmentError {
    fn from(v: PriorityViolation) -> Self {
        JudgmentError::PriorityViolation {
            criterion: v.criterion,
            explanation: v.explanation,
        }
    }
}

/// The field only a payload of `kind` has; used to recognise a payload of the wrong kind.
fn signature_field(kind: TaskKind) -> &'static str {
    match kind {
        TaskKind::Preference => "winner",
        TaskKind::Ranking => "order",
        TaskKind::Rating => "scores",
        TaskKind::Demonstration => "response",
        TaskKind::RedTeam => "attack",
    }
}

/// A judgment payload of one of the five task kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// A vs B.
    Preference(PreferencePayload),
    /// An order of N candidates, ties allowed.
    Ranking(RankingPayload),
    /// Scores per candidate and criterion.
    Rating(RatingPayload),
    /// A written or rewritten ideal response.
    Demonstration(DemonstrationPayload),
    /// An attack and the model's outcome.
    RedTeam(RedTeamPayload),
}

/// Serializes as the JSON object of the inner payload (the kind is stored beside it).
impl Serialize for Payload {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Payload::Preference(p) => p.serialize(s),
            Payload::Ranking(p) => p.serialize(s),
            Payload::Rating(p) => p.serialize(s),
            Payload::Demonstration(p) => p.serialize(s),
            Payload::RedTeam(p) => p.serialize(s),
        }
    }
}

/// Borrowed view of the fields every kind shares.
struct Common<'a> {
    violations: &'a BTreeMap<String, Vec<String>>,
    rationale: &'a str,
    edge_cases: &'a [String],
    priority_override: bool,
}

macro_rules! common {
    ($p:expr) => {
        Common {
            violations: &$p.violations,
            rationale: &$p.rationale,
            edge_cases: &$p.edge_cases,
            priority_override: $p.priority_override,
        }
    };
}

impl Payload {
    /// Parses JSON text as a payload for an item of `kind`.
    pub fn from_json(kind: TaskKind, json: &str) -> Result<Payload, JudgmentError> {
        let value: serde_json::Value =
            serde_json::from_str(json).map_err(|e| JudgmentError::Syntax {
                kind,
                message: positioned(&e),
            })?;
        precheck(kind, &value)?;
        // Parse the text itself (not the value) so that duplicate keys are caught and
        // shape errors carry a position.
        let shape = |e: serde_json::Error| JudgmentError::Shape {
            kind,
            message: positioned(&e),
        };
        Ok(match kind {
            TaskKind::Preference => Payload::Preference(serde_json::from_str(json).map_err(shape)?),
            TaskKind::Ranking => Payload::Ranking(serde_json::from_str(json).map_err(shape)?),
            TaskKind::Rating => Payload::Rating(serde_json::from_str(json).map_err(shape)?),
            TaskKind::Demonstration => {
                Payload::Demonstration(serde_json::from_str(json).map_err(shape)?)
            }
            TaskKind::RedTeam => Payload::RedTeam(serde_json::from_str(json).map_err(shape)?),
        })
    }

    /// Parses an already-decoded JSON value as a payload for an item of `kind` (a
    /// duplicate key is no longer visible in a value; [`Self::from_json`] refuses it).
    pub fn from_value(kind: TaskKind, value: &serde_json::Value) -> Result<Payload, JudgmentError> {
        precheck(kind, value)?;
        let shape = |e: serde_json::Error| JudgmentError::Shape {
            kind,
            message: e.to_string(),
        };
        Ok(match kind {
            TaskKind::Preference => {
                Payload::Preference(serde::Deserialize::deserialize(value).map_err(shape)?)
            }
            TaskKind::Ranking => {
                Payload::Ranking(serde::Deserialize::deserialize(value).map_err(shape)?)
            }
            TaskKind::Rating => {
                Payload::Rating(serde::Deserialize::deserialize(value).map_err(shape)?)
            }
            TaskKind::Demonstration => {
                Payload::Demonstration(serde::Deserialize::deserialize(value).map_err(shape)?)
            }
            TaskKind::RedTeam => {
                Payload::RedTeam(serde::Deserialize::deserialize(value).map_err(shape)?)
            }
        })
    }

    /// The task kind of this payload.
    pub fn kind(&self) -> TaskKind {
        match self {
            Payload::Preference(_) => TaskKind::Preference,
            Payload::Ranking(_) => TaskKind::Ranking,
            Payload::Rating(_) => TaskKind::Rating,
            Payload::Demonstration(_) => TaskKind::Demonstration,
            Payload::RedTeam(_) => TaskKind::RedTeam,
        }
    }

    fn common(&self) -> Common<'_> {
        match self {
            Payload::Preference(p) => common!(p),
            Payload::Ranking(p) => common!(p),
            Payload::Rating(p) => common!(p),
            Payload::Demonstration(p) => common!(p),
            Payload::RedTeam(p) => common!(p),
        }
    }

    /// Error tags marked per candidate id.
    pub fn violations(&self) -> &BTreeMap<String, Vec<String>> {
        self.common().violations
    }

    /// The annotator's rationale (may be empty).
    pub fn rationale(&self) -> &str {
        self.common().rationale
    }

    /// Edge-case keys the annotator flagged.
    pub fn edge_cases(&self) -> &[String] {
        self.common().edge_cases
    }

    /// True when the annotator overrides the priority rule.
    pub fn is_override(&self) -> bool {
        self.common().priority_override
    }

    /// Checks the payload against `item` (whose `task`, when set, must be this kind) and
    /// `rubric`, including the priority rule.
    pub fn validate(
        self,
        item: &Item,
        rubric: &Rubric,
    ) -> Result<ValidatedJudgment, JudgmentError> {
        if let Some(task) = item.task
            && task != self.kind()
        {
            return Err(JudgmentError::WrongKind {
                expected: task,
                found: self.kind(),
            });
        }
        match &self {
            Payload::Preference(p) => p.check_fields(item, rubric)?,
            Payload::Ranking(p) => p.check_fields(item)?,
            Payload::Rating(p) => p.check_fields(item, rubric)?,
            Payload::Demonstration(p) => p.check_fields(item)?,
            Payload::RedTeam(p) => p.check_fields(!item.candidates.is_empty())?,
        }
        check_common(&self.common(), item, rubric)?;
        let rule = match &self {
            Payload::Preference(p) => p.check_priority(item, rubric),
            Payload::Ranking(p) => p.check_priority(rubric),
            Payload::Rating(p) => p.check_priority(item, rubric),
            Payload::Demonstration(_) | Payload::RedTeam(_) => Ok(()),
        };
        let inversion = match rule {
            Ok(()) => None,
            // check_common has already required a rationale for an override.
            Err(v) if self.is_override() => Some(v),
            Err(v) => return Err(v.into()),
        };
        Ok(ValidatedJudgment {
            payload: self,
            inversion,
        })
    }
}

/// A payload known to be valid for its item and rubric. Only [`Payload::validate`]
/// makes one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedJudgment {
    payload: Payload,
    inversion: Option<PriorityViolation>,
}

impl ValidatedJudgment {
    /// The validated payload.
    pub fn payload(&self) -> &Payload {
        &self.payload
    }

    /// The validated payload, by value.
    pub fn into_payload(self) -> Payload {
        self.payload
    }

    /// The task kind.
    pub fn kind(&self) -> TaskKind {
        self.payload.kind()
    }

    /// True when the judgment breaks the priority rule and was kept by an override.
    pub fn priority_inversion(&self) -> bool {
        self.inversion.is_some()
    }

    /// The rule the override set aside, when [`Self::priority_inversion`] is true.
    pub fn inversion(&self) -> Option<&PriorityViolation> {
        self.inversion.as_ref()
    }
}

/// Refuses what serde would report poorly: a non-object, or a payload of another kind.
fn precheck(kind: TaskKind, value: &serde_json::Value) -> Result<(), JudgmentError> {
    let Some(obj) = value.as_object() else {
        return Err(JudgmentError::Shape {
            kind,
            message: format!("a payload must be a JSON object, not {}", json_type(value)),
        });
    };
    if !obj.contains_key(signature_field(kind))
        && let Some(found) = TaskKind::ALL
            .into_iter()
            .find(|k| *k != kind && obj.contains_key(signature_field(*k)))
    {
        return Err(JudgmentError::WrongKind {
            expected: kind,
            found,
        });
    }
    Ok(())
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "an array",
        serde_json::Value::Object(_) => "an object",
    }
}

/// serde_json's message with its position as "(line L, column C)".
fn positioned(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(pos) => format!("{} (line {}, column {})", &msg[..pos], e.line(), e.column()),
        None => msg,
    }
}

/// Checks the fields every kind shares.
fn check_common(c: &Common<'_>, item: &Item, rubric: &Rubric) -> Result<(), FieldError> {
    for (cand, tags) in c.violations {
        let field = format!("violations.{cand}");
        check_candidate(&field, cand, item)?;
        let mut seen = HashSet::new();
        for (i, tag) in tags.iter().enumerate() {
            let field = format!("{field}[{i}]");
            if rubric.error(tag).is_none() {
                return Err(FieldError::new(
                    field,
                    format!(
                        "unknown error tag `{tag}`; the rubric's error tags are {}",
                        or_none(rubric.errors.iter().map(|e| e.key.as_str()))
                    ),
                ));
            }
            if !seen.insert(tag.as_str()) {
                return Err(FieldError::new(
                    field,
                    format!("error tag `{tag}` appears twice for candidate `{cand}`"),
                ));
            }
        }
    }
    let mut seen = HashSet::new();
    for (i, key) in c.edge_cases.iter().enumerate() {
        let field = format!("edge_cases[{i}]");
        if rubric.edge_case(key).is_none() {
            return Err(FieldError::new(
                field,
                format!(
                    "unknown edge case `{key}`; the rubric's edge cases are {}",
                    or_none(rubric.edge_cases.iter().map(|e| e.key.as_str()))
                ),
            ));
        }
        if !seen.insert(key.as_str()) {
            return Err(FieldError::new(
                field,
                format!("edge case `{key}` appears twice"),
            ));
        }
    }
    check_max_chars("rationale", c.rationale, MAX_RATIONALE_CHARS)?;
    if c.priority_override && c.rationale.trim().is_empty() {
        return Err(FieldError::new(
            "rationale",
            "an override of the priority rule needs a rationale saying why",
        ));
    }
    Ok(())
}

/// Refuses `id` unless it is a candidate of `item`.
fn check_candidate(field: &str, id: &str, item: &Item) -> Result<(), FieldError> {
    if item.candidate(id).is_some() {
        Ok(())
    } else {
        Err(unknown_candidate(field, id, item))
    }
}

fn unknown_candidate(field: &str, id: &str, item: &Item) -> FieldError {
    FieldError::new(
        field,
        format!(
            "unknown candidate `{id}`; the item's candidates are {} \
             (payloads name candidates by id, never by display position)",
            or_none(item.candidates.iter().map(|c| c.id.as_str()))
        ),
    )
}

/// Refuses a text longer than `max` characters.
fn check_max_chars(field: &str, text: &str, max: usize) -> Result<(), FieldError> {
    let n = text.chars().count();
    if n > max {
        return Err(FieldError::new(
            field,
            format!("is {n} characters long; the limit is {max}"),
        ));
    }
    Ok(())
}

/// Refuses an empty or blank text.
fn check_not_blank(field: &str, text: &str) -> Result<(), FieldError> {
    if text.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    Ok(())
}

/// Refuses a number outside `0..=max`.
fn check_range(field: &str, value: i64, max: i64) -> Result<(), FieldError> {
    if !(0..=max).contains(&value) {
        return Err(FieldError::new(
            field,
            format!("must be between 0 and {max}, got {value}"),
        ));
    }
    Ok(())
}

/// "`a`, `b`, `c`", at most 12 keys then "…"; "none" when empty.
fn or_none<'a>(keys: impl Iterator<Item = &'a str>) -> String {
    const SHOWN: usize = 12;
    let mut out = String::new();
    for (i, k) in keys.enumerate() {
        if i == SHOWN {
            out.push_str(", …");
            break;
        }
        if i > 0 {
            out.push_str(", ");
        }
        out.push('`');
        out.push_str(k);
        out.push('`');
    }
    if out.is_empty() {
        out.push_str("none");
    }
    out
}

/// Deserializers for JSON objects that refuse a key appearing twice (serde's maps
/// would silently keep the last one, hiding e.g. a criterion marked twice).
mod unique {
    use serde::de::{Deserialize, Deserializer, Error, MapAccess, Visitor};
    use std::collections::BTreeMap;
    use std::fmt;
    use std::marker::PhantomData;

    struct Unique<V>(BTreeMap<String, V>);

    impl<'de, V: Deserialize<'de>> Deserialize<'de> for Unique<V> {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct Visit<V>(PhantomData<V>);
            impl<'de, V: Deserialize<'de>> Visitor<'de> for Visit<V> {
                type Value = Unique<V>;
                fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str("an object")
                }
                fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Unique<V>, A::Error> {
                    let mut out = BTreeMap::new();
                    while let Some(key) = map.next_key::<String>()? {
                        if out.contains_key(&key) {
                            return Err(A::Error::custom(format!("key `{key}` appears twice")));
                        }
                        let value = map.next_value()?;
                        out.insert(key, value);
                    }
                    Ok(Unique(out))
                }
            }
            d.deserialize_map(Visit(PhantomData))
        }
    }

    /// An object with unique keys.
    pub fn map<'de, D, V>(d: D) -> Result<BTreeMap<String, V>, D::Error>
    where
        D: Deserializer<'de>,
        V: Deserialize<'de>,
    {
        Unique::deserialize(d).map(|u| u.0)
    }

    /// An object of objects, with unique keys at both levels.
    pub fn nested<'de, D, V>(d: D) -> Result<BTreeMap<String, BTreeMap<String, V>>, D::Error>
    where
        D: Deserializer<'de>,
        V: Deserialize<'de>,
    {
        let outer: Unique<Unique<V>> = Unique::deserialize(d)?;
        Ok(outer.0.into_iter().map(|(k, v)| (k, v.0)).collect())
    }
}
