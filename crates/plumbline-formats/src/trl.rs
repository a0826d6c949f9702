//! TRL's dataset rows, and the public datasets that share their shape.
//!
//! **Preference** ([`pair`]): `chosen` and `rejected` as lists of `{role, content}`
//! messages, with the prompt either explicit (`prompt`, a message list or a text) or
//! implicit (the messages the two conversations share); or TRL's standard form, an
//! explicit `prompt` text and two texts. The prompt becomes the item's context and the
//! two final assistant replies its candidates; the row's choice is stored as an external
//! preference judgment whose strength is the row's `strength` (0–3) when it has one and
//! null (unknown) otherwise. This reads Plumbline's own `preference` and `reward`
//! exports back (the item id, candidate ids and models, split, tags and per-criterion
//! verdicts come back; `provenance` may be an object or its JSON text) and
//! UltraFeedback binarized (`score_chosen`, `score_rejected` and `prompt_id` are kept
//! as metadata).
//!
//! **SFT** ([`Sft`]): `messages`, a conversation ending in an assistant reply, becomes a
//! demonstration item (the context) with the reply as an external demonstration.
//! Consecutive rows with the same `item_id` and context (Plumbline's sft export writes
//! every demonstration of an item) make one item with several demonstrations.
//!
//! Rows without an `item_id` get a content id (`trl-…`, `sft-…`), so a re-import changes
//! nothing.

use crate::feed::{Feeder, Record, content_id, imported_preference};
use crate::lines::LineError;
use crate::rows::{Fields, Row, json_type};
use plumbline_domain::judgment::Choice;
use plumbline_domain::{Candidate, Item, Role, Split, TaskKind, Turn};
use plumbline_store::ExternalJudgment;
use serde_json::{Map, Value};

/// The `external_source` of choices from TRL rows.
pub const SOURCE: &str = "trl";
/// The `external_source` of choices read back from a Plumbline export.
pub const PLUMBLINE: &str = "plumbline";
/// The `external_source` of UltraFeedback binarized choices (rows with scores).
pub const ULTRAFEEDBACK: &str = "ultrafeedback";

/// A plain turn.
pub(crate) fn turn(role: Role, content: impl Into<String>) -> Turn {
    Turn {
        role,
        content: content.into(),
        speaker: None,
        start: None,
        end: None,
        asr_confidence: None,
        interrupted: false,
        overlap: false,
        redacted: Vec::new(),
    }
}

/// Reads a list of `{role, content}` messages named `field`.
pub(crate) fn messages(f: &Fields<'_>, field: &str, v: &Value) -> Result<Vec<Turn>, LineError> {
    let Value::Array(list) = v else {
        return Err(f.error(
            field,
            format!("must be a list of messages, not {}", json_type(v)),
        ));
    };
    list.iter()
        .enumerate()
        .map(|(i, m)| {
            let at = format!("{field}[{i}]");
            let Value::Object(m) = m else {
                return Err(f.error(
                    &at,
                    format!("must be a {{role, content}} message, not {}", json_type(m)),
                ));
            };
            let role = match m.get("role") {
                Some(Value::String(r)) => match r.as_str() {
                    "system" => Role::System,
                    "user" | "human" => Role::User,
                    "assistant" | "gpt" => Role::Assistant,
                    "tool" => Role::Tool,
                    other => {
                        return Err(f.error(
                            &format!("{at}.role"),
                            format!(
                                "unknown role `{other}` (expected system, user, assistant or tool)"
                            ),
                        ));
                    }
                },
                None => return Err(f.error(&format!("{at}.role"), "is missing")),
                Some(v) => {
                    return Err(f.error(
                        &format!("{at}.role"),
                        format!("must be a string, not {}", json_type(v)),
                    ));
                }
            };
            match m.get("content") {
                Some(Value::String(c)) => Ok(turn(role, c.clone())),
                None => Err(f.error(&format!("{at}.content"), "is missing")),
                Some(v) => Err(f.error(
                    &format!("{at}.content"),
                    format!("must be a string, not {}", json_type(v)),
                )),
            }
        })
        .collect()
}

/// A field that is an object, or a string holding one (Parquet's JSON text columns).
fn object<'a>(f: &Fields<'a>, field: &str) -> Result<Option<Map<String, Value>>, LineError> {
    match f.row.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m.clone())),
        Some(Value::String(s)) => match serde_json::from_str(s) {
            Ok(Value::Object(m)) => Ok(Some(m)),
            Ok(Value::Null) => Ok(None),
            _ => Err(f.error(field, "must be an object (or its JSON text)")),
        },
        Some(v) => Err(f.error(field, format!("must be an object, not {}", json_type(v)))),
    }
}

/// The item fields Plumbline's exports carry: split and tags (a list, or its JSON text).
fn split_and_tags(f: &Fields<'_>, item: &mut Item) -> Result<(), LineError> {
    match f.row.get("split") {
        Some(Value::String(s)) if s == "train" => item.split = Some(Split::Train),
        Some(Value::String(s)) if s == "eval" => item.split = Some(Split::Eval),
        // Another dataset's split name (`test`, `validation`) is the source's, not ours.
        Some(Value::String(s)) => {
            item.metadata
                .insert("source_split".into(), Value::String(s.clone()));
        }
        _ => {}
    }
    let tags = match f.row.get("tags") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(s)) => serde_json::from_str::<Value>(s)
            .map_err(|_| f.error("tags", "must be a list of strings (or its JSON text)"))?,
        Some(v) => v.clone(),
    };
    let Value::Array(list) = tags else {
        return Err(f.error("tags", "must be a list of strings"));
    };
    for (i, t) in list.into_iter().enumerate() {
        match t {
            Value::String(s) => item.tags.push(s),
            other => {
                return Err(f.error(
                    &format!("tags[{i}]"),
                    format!("must be a string, not {}", json_type(&other)),
                ));
            }
        }
    }
    Ok(())
}

/// The reply of a conversation's remainder: one assistant message.
fn reply(f: &Fields<'_>, field: &str, rest: &[Turn]) -> Result<String, LineError> {
    match rest {
        [t] if t.role == Role::Assistant => Ok(t.content.clone()),
        [] => Err(f.error(
            field,
            "holds no reply after the prompt (the chosen and rejected conversations are the same)",
        )),
        [t] => Err(f.error(
            field,
            format!(
                "the reply must be an assistant message, not a {:?} one",
                t.role
            )
            .to_lowercase(),
        )),
        more => Err(f.error(
            field,
            format!(
                "the reply after the prompt must be one assistant message, found {}",
                more.len()
            ),
        )),
    }
}

/// Converts one TRL preference row into a preference item with its external choice.
pub fn pair(line: u64, row: &Row) -> Result<Record, LineError> {
    let f = Fields::new(line, row);
    let get = |k: &str| f.row.get(k).unwrap_or(&Value::Null);
    let (context, chosen, rejected) = match (get("chosen"), get("rejected")) {
        (Value::String(c), Value::String(r)) => {
            let prompt = f.str("prompt")?;
            (vec![turn(Role::User, prompt)], c.clone(), r.clone())
        }
        (c @ Value::Array(_), r @ Value::Array(_)) => {
            let c = messages(&f, "chosen", c)?;
            let r = messages(&f, "rejected", r)?;
            match get("prompt") {
                Value::Null => {
                    // Implicit prompt: the messages both conversations share.
                    let shared = c.iter().zip(&r).take_while(|(a, b)| a == b).count();
                    let shared = shared.min(c.len().saturating_sub(1));
                    let shared = shared.min(r.len().saturating_sub(1));
                    let context = c[..shared].to_vec();
                    (
                        context,
                        reply(&f, "chosen", &c[shared..])?,
                        reply(&f, "rejected", &r[shared..])?,
                    )
                }
                p => {
                    let prompt = match p {
                        Value::String(p) => vec![turn(Role::User, p.clone())],
                        p => messages(&f, "prompt", p)?,
                    };
                    // Some datasets (UltraFeedback binarized) repeat the prompt at the
                    // start of both conversations.
                    let skip = if c.starts_with(&prompt) && r.starts_with(&prompt) {
                        prompt.len()
                    } else {
                        0
                    };
                    (
                        prompt,
                        reply(&f, "chosen", &c[skip..])?,
                        reply(&f, "rejected", &r[skip..])?,
                    )
                }
            }
        }
        (c, r) => {
            let (field, v) = if matches!(c, Value::Array(_) | Value::String(_)) {
                ("rejected", r)
            } else {
                ("chosen", c)
            };
            return Err(f.error(
                field,
                format!(
                    "must be a list of messages (or a text, with a text prompt) like the other \
                     reply, not {}",
                    json_type(v)
                ),
            ));
        }
    };
    if context.is_empty() {
        return Err(f.error(
            "prompt",
            "the row has no prompt: no `prompt` field, and the chosen and rejected \
             conversations share no message",
        ));
    }
    let provenance = object(&f, "provenance")?.unwrap_or_default();
    let prov_str = |k: &str| provenance.get(k).and_then(Value::as_str).map(str::to_owned);
    let item_id = f.opt_str("item_id")?.map(str::to_owned);
    let id = match &item_id {
        Some(id) => id.clone(),
        None => {
            let ctx = serde_json::to_string(&context).expect("turns serialize");
            content_id("trl", &[&ctx, &chosen, &rejected])
        }
    };
    // Candidate ids: the export's own, else `a` and `b` on a side the id decides.
    let (chosen_id, rejected_id) = match (prov_str("chosen_id"), prov_str("rejected_id")) {
        (Some(c), Some(r)) if c != r && c != "tie" && r != "tie" => (c, r),
        _ => {
            if id.as_bytes().last().is_none_or(|b| b.is_multiple_of(2)) {
                ("a".to_owned(), "b".to_owned())
            } else {
                ("b".to_owned(), "a".to_owned())
            }
        }
    };
    let model = |k: &str| prov_str(k).or_else(|| f.row.get(k)?.as_str().map(str::to_owned));
    let mut candidates = vec![
        Candidate {
            id: chosen_id.clone(),
            model: model("chosen_model"),
            content: chosen,
        },
        Candidate {
            id: rejected_id.clone(),
            model: model("rejected_model"),
            content: rejected,
        },
    ];
    candidates.sort_by(|a, b| a.id.cmp(&b.id));
    let source = if provenance.contains_key("decision") {
        PLUMBLINE
    } else if f.row.contains_key("score_chosen") {
        ULTRAFEEDBACK
    } else {
        SOURCE
    };
    let mut metadata = Map::new();
    metadata.insert("source".into(), source.into());
    for k in ["prompt_id", "score_chosen", "score_rejected"] {
        if let Some(v) = f.row.get(k).filter(|v| !v.is_null()) {
            metadata.insert(k.into(), v.clone());
        }
    }
    let mut item = Item {
        id,
        context,
        candidates,
        task: Some(TaskKind::Preference),
        tags: Vec::new(),
        requires: Vec::new(),
        metadata,
        split: None,
        media: None,
    };
    split_and_tags(&f, &mut item)?;
    let strength = f.opt_int("strength")?;
    if let Some(s) = strength
        && !(0..=plumbline_domain::judgment::MAX_STRENGTH).contains(&s)
    {
        return Err(f.error(
            "strength",
            format!(
                "must be between 0 and {}, got {s}",
                plumbline_domain::judgment::MAX_STRENGTH
            ),
        ));
    }
    // Per-criterion verdicts as the export writes them (`chosen`, `rejected`, `tie`).
    let mut criteria = Map::new();
    for (k, v) in object(&f, "criteria")?.unwrap_or_default() {
        let id = match v.as_str() {
            Some("chosen") => chosen_id.as_str(),
            Some("rejected") => rejected_id.as_str(),
            Some("tie") => "tie",
            _ => {
                return Err(f.error(
                    &format!("criteria.{k}"),
                    "must be `chosen`, `rejected` or `tie`",
                ));
            }
        };
        criteria.insert(k, id.into());
    }
    let payload = imported_preference(&Choice::Candidate(chosen_id), strength, criteria, None);
    Ok(Record {
        line,
        item,
        external: vec![ExternalJudgment {
            source: source.into(),
            task: TaskKind::Preference,
            payload,
            rationale: Some(match source {
                PLUMBLINE => "the decided pair of a Plumbline export".into(),
                ULTRAFEEDBACK => "the UltraFeedback choice (chosen over rejected)".into(),
                _ => "the row's choice (chosen over rejected)".into(),
            }),
            time_ms: None,
            gold_candidate: false,
        }],
    })
}

/// Feeds TRL preference rows to `feed`; false when reading should stop.
pub fn on_pair(feed: &mut Feeder<'_>, line: u64, row: &Row) -> bool {
    feed.accept(pair(line, row))
}

/// Groups consecutive SFT rows of one item.
#[derive(Default)]
pub struct Sft {
    pending: Option<Record>,
}

impl Sft {
    /// A fresh reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one row; false when reading should stop.
    pub fn on_row(&mut self, feed: &mut Feeder<'_>, line: u64, row: &Row) -> bool {
        let record = match sft_record(line, row) {
            Ok(r) => r,
            Err(e) => return feed.refuse(e),
        };
        if let Some(p) = &mut self.pending
            && p.item.id == record.item.id
            && p.item.context == record.item.context
        {
            feed.summary.rows += 1;
            p.external.extend(record.external);
            return true;
        }
        let done = self.pending.replace(record);
        match done {
            Some(r) => feed.accept(Ok(r)),
            None => true,
        }
    }

    /// Sends the item being read; false when reading should stop.
    pub fn flush(&mut self, feed: &mut Feeder<'_>) -> bool {
        match self.pending.take() {
            Some(r) => feed.accept(Ok(r)),
            None => true,
        }
    }
}

fn sft_record(line: u64, row: &Row) -> Result<Record, LineError> {
    let f = Fields::new(line, row);
    let mut turns = messages(
        &f,
        "messages",
        f.row.get("messages").unwrap_or(&Value::Null),
    )?;
    let last = match turns.pop() {
        Some(t) if t.role == Role::Assistant => t,
        Some(_) => {
            return Err(f.error(
                "messages",
                "must end with the assistant reply to learn from",
            ));
        }
        None => return Err(f.error("messages", "is empty")),
    };
    if turns.is_empty() {
        return Err(f.error(
            "messages",
            "holds only the reply: a prompt message must come before it",
        ));
    }
    if last.content.trim().is_empty() {
        return Err(f.error("messages", "the final assistant reply is blank"));
    }
    let provenance = object(&f, "provenance")?.unwrap_or_default();
    let source = if provenance.contains_key("source") {
        PLUMBLINE
    } else {
        SOURCE
    };
    let id = match f.opt_str("item_id")? {
        Some(id) => id.to_owned(),
        None => {
            let ctx = serde_json::to_string(&turns).expect("turns serialize");
            content_id("sft", &[&ctx, &last.content])
        }
    };
    let mut metadata = Map::new();
    metadata.insert("source".into(), source.into());
    let mut item = Item {
        id,
        context: turns,
        candidates: Vec::new(),
        task: Some(TaskKind::Demonstration),
        tags: Vec::new(),
        requires: Vec::new(),
        metadata,
        split: None,
        media: None,
    };
    split_and_tags(&f, &mut item)?;
    let mut payload = Map::new();
    payload.insert("response".into(), last.content.into());
    Ok(Record {
        line,
        item,
        external: vec![ExternalJudgment {
            source: source.into(),
            task: TaskKind::Demonstration,
            payload: Value::Object(payload).to_string(),
            rationale: Some("the row's final assistant reply".into()),
            time_ms: None,
            gold_candidate: false,
        }],
    })
}
