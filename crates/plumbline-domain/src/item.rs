//! Items: a context (a multi-turn conversation, possibly a call transcript) and the
//! candidate responses to judge, with tags, required expertise and metadata.

use crate::error::FieldError;
use crate::expertise::Expertise;
use crate::media::{MediaRef, TimeRange};
use crate::task::TaskKind;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use thiserror::Error;

/// Who speaks a turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Instructions to the model.
    System,
    /// The person (customer, patient, claimant).
    User,
    /// The model or the human agent it stands in for.
    Assistant,
    /// Output of a tool call.
    Tool,
}

/// One message of the context; the optional fields describe transcripts of real calls.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Turn {
    /// Who speaks.
    pub role: Role,
    /// What was said.
    pub content: String,
    /// Speaker label in a transcript (`customer`, `agent`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speaker: Option<String>,
    /// Start time in seconds from the start of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<f64>,
    /// End time in seconds from the start of the call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<f64>,
    /// Speech-recognition confidence in [0, 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub asr_confidence: Option<f64>,
    /// The speaker was cut off.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
    /// The turn overlaps the previous speaker.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub overlap: bool,
    /// Spans of this turn silenced in the item's audio (set by import from the audio's
    /// redaction ranges), so a reader knows why the recording is quiet there.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub redacted: Vec<TimeRange>,
}

/// A model response to judge.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Candidate {
    /// Unique within the item; judgment payloads name candidates by this id.
    pub id: String,
    /// The model that produced it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The response text.
    pub content: String,
}

/// Which dataset split an item belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Split {
    /// Training data.
    Train,
    /// Held-out evaluation data.
    Eval,
}

/// One item of the native format. Construct through [`Item::from_json`] or
/// [`Item::validate`] so that its invariants hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Item {
    /// Unique within a project.
    pub id: String,
    /// The conversation so far.
    #[serde(default)]
    pub context: Vec<Turn>,
    /// Responses to judge.
    #[serde(default)]
    pub candidates: Vec<Candidate>,
    /// Task kind; absent means the project's default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task: Option<TaskKind>,
    /// Free tags; `edge:<key>` marks an edge case of the rubric.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Expertise an annotator needs to be served this item.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Expertise>,
    /// Arbitrary JSON object carried through to exports.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub metadata: serde_json::Map<String, serde_json::Value>,
    /// The call's audio; turns' `start`/`end` are times in it. Kept before `split`,
    /// which stays the last field of the canonical JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaRef>,
    /// Fixed split; absent means the evaluation-split policy decides.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub split: Option<Split>,
}

/// Why an item line was refused.
#[derive(Debug, Error, PartialEq)]
pub enum ItemError {
    /// Not JSON, or JSON of the wrong shape (serde's message names the field and column).
    #[error("{0}")]
    Json(String),
    /// JSON of the right shape whose values break a rule.
    #[error("{0}")]
    Invalid(#[from] FieldError),
}

/// The tag prefix that marks an edge case.
pub const EDGE_TAG_PREFIX: &str = "edge:";

/// Longest item id accepted.
pub const MAX_ID_LEN: usize = 256;

impl Item {
    /// Parses one native JSONL line and validates it, with `default_task` standing for
    /// an absent `task`.
    pub fn from_json(line: &str, default_task: TaskKind) -> Result<Item, ItemError> {
        let item: Item =
            serde_json::from_str(line).map_err(|e| ItemError::Json(json_message(&e)))?;
        item.validate(default_task)?;
        Ok(item)
    }

    /// The task kind this item is judged as.
    pub fn task_or(&self, default_task: TaskKind) -> TaskKind {
        self.task.unwrap_or(default_task)
    }

    /// The edge-case keys among the tags (`edge:bereavement` gives `bereavement`).
    pub fn edge_cases(&self) -> impl Iterator<Item = &str> {
        self.tags
            .iter()
            .filter_map(|t| t.strip_prefix(EDGE_TAG_PREFIX))
    }

    /// The candidate with `id`, if any.
    pub fn candidate(&self, id: &str) -> Option<&Candidate> {
        self.candidates.iter().find(|c| c.id == id)
    }

    /// Checks the rules of an item: id, turns, candidate ids unique, candidate count
    /// for its task kind, tags.
    pub fn validate(&self, default_task: TaskKind) -> Result<(), FieldError> {
        check_id("id", &self.id, MAX_ID_LEN)?;
        let task = self.task_or(default_task);
        if self.context.is_empty() && task != TaskKind::RedTeam {
            return Err(FieldError::new(
                "context",
                format!("must hold at least one turn for a {task} item"),
            ));
        }
        for (i, turn) in self.context.iter().enumerate() {
            check_turn(i, turn)?;
        }
        let (min, max) = task.candidate_bounds();
        let n = self.candidates.len();
        if n < min || n > max {
            let want = if min == max {
                format!("exactly {min}")
            } else {
                format!("between {min} and {max}")
            };
            return Err(FieldError::new(
                "candidates",
                format!("a {task} item needs {want} candidates, this one has {n}"),
            ));
        }
        let mut seen = HashSet::with_capacity(n);
        for (i, c) in self.candidates.iter().enumerate() {
            let field = format!("candidates[{i}].id");
            check_id(&field, &c.id, 64)?;
            if c.id == "tie" {
                // Payloads write a tie as "tie"; a candidate of that name would be ambiguous.
                return Err(FieldError::new(
                    field,
                    "`tie` is reserved and cannot be a candidate id",
                ));
            }
            if !seen.insert(c.id.as_str()) {
                return Err(FieldError::new(
                    field,
                    format!("candidate id `{}` appears twice", c.id),
                ));
            }
        }
        if let Some(media) = &self.media {
            media.validate()?;
        }
        for (i, tag) in self.tags.iter().enumerate() {
            if tag.trim().is_empty() || tag.len() > 128 || tag.chars().any(char::is_control) {
                return Err(FieldError::new(
                    format!("tags[{i}]"),
                    "a tag must be 1 to 128 characters without control characters",
                ));
            }
        }
        Ok(())
    }
}

fn check_id(field: &str, id: &str, max: usize) -> Result<(), FieldError> {
    if id.trim().is_empty() {
        return Err(FieldError::new(field, "must not be empty"));
    }
    if id.len() > max {
        return Err(FieldError::new(
            field,
            format!("is longer than {max} bytes"),
        ));
    }
    if id.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(())
}

fn check_turn(i: usize, turn: &Turn) -> Result<(), FieldError> {
    let field = |name: &str| format!("context[{i}].{name}");
    for (name, value) in [("start", turn.start), ("end", turn.end)] {
        if let Some(v) = value
            && (!v.is_finite() || v < 0.0)
        {
            return Err(FieldError::new(
                field(name),
                "must be a non-negative number of seconds",
            ));
        }
    }
    if let (Some(s), Some(e)) = (turn.start, turn.end)
        && e < s
    {
        return Err(FieldError::new(
            field("end"),
            format!("ends ({e}) before it starts ({s})"),
        ));
    }
    if let Some(c) = turn.asr_confidence
        && !(0.0..=1.0).contains(&c)
    {
        return Err(FieldError::new(
            field("asr_confidence"),
            "must lie between 0 and 1",
        ));
    }
    Ok(())
}

/// serde_json's message without its trailing position (the caller adds line context),
/// keeping the column, which helps in long lines.
fn json_message(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    match msg.rfind(" at line ") {
        Some(pos) => format!("{} (column {})", &msg[..pos], e.column()),
        None => msg,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"{"id": "call-000123",
 "context": [
   {"role": "user", "speaker": "customer", "content": "I want to close my account, my husband died", "start": 3.2, "end": 7.9, "asr_confidence": 0.81},
   {"role": "assistant", "speaker": "agent", "content": "I'm sorry for your loss...", "interrupted": true}],
 "candidates": [
   {"id": "a", "model": "assist-v3", "content": "..."},
   {"id": "b", "model": "assist-v4", "content": "..."}],
 "task": "preference",
 "tags": ["edge:bereavement", "channel:voice"],
 "requires": ["banking:expert"],
 "metadata": {"call_id": "C-77", "customer_state": "distressed"}}"#;

    fn parse(s: &str) -> Result<Item, ItemError> {
        Item::from_json(s, TaskKind::Preference)
    }

    #[test]
    fn parses_design_example_and_round_trips() {
        let item = parse(GOOD).unwrap();
        assert_eq!(item.edge_cases().collect::<Vec<_>>(), ["bereavement"]);
        let again = parse(&serde_json::to_string(&item).unwrap()).unwrap();
        assert_eq!(again, item);
    }

    #[test]
    fn duplicate_candidate_ids_are_named() {
        let bad = GOOD.replace(r#""id": "b""#, r#""id": "a""#);
        let err = parse(&bad).unwrap_err().to_string();
        assert!(
            err.contains("candidates[1].id") && err.contains("twice"),
            "{err}"
        );
    }

    #[test]
    fn unknown_task_and_fields_are_named() {
        let err = parse(&GOOD.replace("\"preference\"", "\"essay\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("essay"), "{err}");
        let err = parse(&GOOD.replace("\"tags\"", "\"tagz\""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("tagz"), "{err}");
        let err = parse(&GOOD.replace("\"content\": \"...\"}", "\"content\": 7}"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("invalid type"), "{err}");
    }

    #[test]
    fn tie_is_not_a_candidate_id() {
        let err = parse(&GOOD.replace(r#""id": "b""#, r#""id": "tie""#))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("candidates[1].id") && err.contains("reserved"),
            "{err}"
        );
    }

    #[test]
    fn candidate_count_follows_task_kind() {
        let err = parse(&GOOD.replace("\"preference\"", "\"ranking\"")).map(|_| ());
        assert!(err.is_ok());
        let one = r#"{"id":"x","context":[{"role":"user","content":"hi"}],"candidates":[{"id":"a","content":"yo"}]}"#;
        let err = parse(one).unwrap_err().to_string();
        assert!(err.contains("exactly 2"), "{err}");
        assert!(Item::from_json(one, TaskKind::Rating).is_ok());
    }

    #[test]
    fn transcript_fields_are_checked() {
        let err = parse(&GOOD.replace("0.81", "1.5")).unwrap_err().to_string();
        assert!(err.contains("context[0].asr_confidence"), "{err}");
        let err = parse(&GOOD.replace("\"end\": 7.9", "\"end\": 1.0"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("context[0].end"), "{err}");
        let err = parse(&GOOD.replace("banking:expert", "banking:guru"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("guru"), "{err}");
    }
}
