//! One Label Studio task as a Plumbline item with its annotations as external
//! judgments. What the item is follows from the controls its annotations used:
//!
//! - a Pairwise choice: a `preference` item of the two compared data fields;
//! - a Ranker: a `ranking` item of the ranked list's entries;
//! - a Rating (or a Choices whose name is a rubric criterion and whose choice starts
//!   with a number, such as `5 - Yes`): a `rating` item of the rated response;
//! - only text (TextArea): a `demonstration` item, the text its response.
//!
//! A task nobody annotated is a preference or ranking item when its data holds a pair or
//! a ranked list, else a demonstration item.

use super::SOURCE;
use super::ordered::Json;
use super::task::{Annotation, At, Control, Output, Task};
use crate::feed::{Record, content_id, imported_preference};
use crate::lines::LineError;
use plumbline_domain::judgment::Choice;
use plumbline_domain::{
    Candidate, DemonstrationPayload, Item, RankingPayload, RatingPayload, Role, Scale, TaskKind,
    Turn,
};
use plumbline_store::ExternalJudgment;
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};

/// Data fields read as the prompt, in order of preference.
pub const PROMPT_KEYS: [&str; 5] = ["prompt", "question", "instruction", "input", "text"];

/// Usual names of the two compared fields of a Pairwise task.
pub const PAIRS: [(&str, &str); 5] = [
    ("answer1", "answer2"),
    ("text1", "text2"),
    ("response1", "response2"),
    ("response_a", "response_b"),
    ("left", "right"),
];

/// Data fields naming the models of the two compared fields.
const PAIR_MODELS: (&str, &str) = ("model_a", "model_b");

/// Data fields read as the rated response when no control names one (JSON_MIN names
/// none; `summary` is what the shipped Response Grading template rates).
const RESPONSE_KEYS: [&str; 5] = ["response", "answer", "output", "completion", "summary"];

/// The candidate id of a rated response taken from the end of a dialogue.
pub const DIALOGUE_RESPONSE: &str = "response";

/// The pseudonymous voter of a Label Studio user: the same user is the same voter in
/// every import, two users are two voters, and the user id is not shown.
pub fn pseudonym(user: &str) -> String {
    content_id("ann", &[SOURCE, user])
}

/// The fields of a task that became part of the item (the rest is kept as metadata).
struct Fields<'t> {
    data: &'t [(String, Json)],
    used: HashSet<&'t str>,
}

impl<'t> Fields<'t> {
    fn get(&self, key: &str) -> Option<&'t Json> {
        self.data.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    fn text(&self, key: &str) -> Option<&'t str> {
        self.get(key).and_then(Json::as_str)
    }

    fn take(&mut self, key: &'t str) {
        self.used.insert(key);
    }

    fn key(&self, key: &str) -> Option<&'t str> {
        self.data
            .iter()
            .find(|(k, _)| k == key)
            .map(|(k, _)| k.as_str())
    }

    fn names(&self) -> String {
        let k: Vec<String> = self.data.iter().map(|(k, _)| format!("`{k}`")).collect();
        if k.is_empty() {
            "none".into()
        } else {
            k.join(", ")
        }
    }

    fn rest(&self) -> Map<String, Value> {
        self.data
            .iter()
            .filter(|(k, _)| !self.used.contains(k.as_str()))
            .map(|(k, v)| (k.clone(), v.to_value()))
            .collect()
    }
}

fn turn(role: Role, content: &str, speaker: Option<String>) -> Turn {
    Turn {
        role,
        content: content.to_owned(),
        speaker,
        start: None,
        end: None,
        asr_confidence: None,
        interrupted: false,
        overlap: false,
        redacted: Vec::new(),
    }
}

/// The role a dialogue's speaker plays, when its name says so.
fn role_of(name: &str) -> Option<Role> {
    match name.to_ascii_lowercase().as_str() {
        "user" | "human" | "customer" | "client" | "caller" | "patient" => Some(Role::User),
        "assistant" | "bot" | "chatbot" | "agent" | "ai" | "model" | "gpt" => Some(Role::Assistant),
        "system" => Some(Role::System),
        "tool" | "function" => Some(Role::Tool),
        _ => None,
    }
}

/// A dialogue: the first data field that is a list of turns, each `{role, content}`
/// (chat messages, with an optional `speaker`) or `{speaker|author, text}`
/// (Paragraphs). A speaker whose name is no known role speaks as the user, its name kept.
fn dialogue<'t>(fields: &Fields<'t>) -> Option<(&'t str, Vec<Turn>)> {
    const WHO: [&str; 4] = ["role", "speaker", "author", "name"];
    const SAID: [&str; 3] = ["content", "text", "message"];
    'fields: for (key, value) in fields.data {
        let Some(list) = value.as_array().filter(|l| !l.is_empty()) else {
            continue;
        };
        let mut turns = Vec::with_capacity(list.len());
        for entry in list {
            let who = WHO
                .iter()
                .find_map(|k| entry.get(k).and_then(Json::as_str).map(|v| (*k, v)));
            let said = SAID
                .iter()
                .find_map(|k| entry.get(k).and_then(Json::as_str));
            let (Some((who_key, who)), Some(said)) = (who, said) else {
                continue 'fields;
            };
            let role = role_of(who);
            let named = entry
                .get("speaker")
                .and_then(Json::as_str)
                .filter(|_| who_key == "role");
            let speaker = match named {
                Some(s) => Some(s.to_owned()),
                None => (who_key != "role" || role.is_none()).then(|| who.to_owned()),
            };
            turns.push(turn(role.unwrap_or(Role::User), said, speaker));
        }
        return Some((key.as_str(), turns));
    }
    None
}

/// Text of a field for the context: a string, or a list of strings (paragraphs).
fn text_block(v: &Json) -> Option<String> {
    match v {
        Json::Scalar(Value::String(s)) if !s.trim().is_empty() => Some(s.clone()),
        Json::Array(a) if !a.is_empty() && a.iter().all(|x| x.as_str().is_some()) => Some(
            a.iter()
                .filter_map(Json::as_str)
                .collect::<Vec<_>>()
                .join("\n\n"),
        ),
        _ => None,
    }
}

/// The context: the dialogue if the task has one; else the prompt field; else the first
/// text field not used otherwise (Response Grading's `document`).
fn context<'t>(
    fields: &mut Fields<'t>,
    dialogue: Option<(&'t str, Vec<Turn>)>,
) -> Option<Vec<Turn>> {
    if let Some((key, turns)) = dialogue {
        fields.take(key);
        return Some(turns);
    }
    for key in PROMPT_KEYS {
        if let (Some(k), Some(text)) = (fields.key(key), fields.text(key))
            && !fields.used.contains(k)
        {
            fields.take(k);
            return Some(vec![turn(Role::User, text, None)]);
        }
    }
    let (key, text) = fields
        .data
        .iter()
        .filter(|(k, _)| !fields.used.contains(k.as_str()))
        .find_map(|(k, v)| text_block(v).map(|t| (k.as_str(), t)))?;
    fields.take(key);
    Some(vec![turn(Role::User, &text, None)])
}

/// The two compared fields: from `to_name` when it names both, else a usual pair.
fn pair<'t>(fields: &Fields<'t>, to_name: Option<&str>) -> Option<(&'t str, &'t str)> {
    if let Some((l, r)) = to_name.and_then(|t| t.split_once(','))
        && let (Some(l), Some(r)) = (fields.key(l.trim()), fields.key(r.trim()))
    {
        return Some((l, r));
    }
    PAIRS.into_iter().find_map(|(l, r)| {
        let (l, r) = (fields.key(l)?, fields.key(r)?);
        (fields.text(l).is_some() && fields.text(r).is_some()).then_some((l, r))
    })
}

/// The candidates of a list field, `[{id, title, body|text|content}]` (the LLM
/// Ranker's `items`); a title beside a body names what wrote it.
fn listed<'t>(at: &At, fields: &mut Fields<'t>, key: &'t str) -> Result<Vec<Candidate>, LineError> {
    let list = fields.get(key).and_then(Json::as_array).unwrap_or_default();
    fields.take(key);
    let mut out = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let field = format!("data.{key}[{i}]");
        let id = match entry.get("id").and_then(Json::as_scalar) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Number(x)) => x.to_string(),
            _ => return Err(at.err(format!("{field}.id"), "every listed item needs an id")),
        };
        let title = entry.get("title").and_then(Json::as_str);
        let body = ["body", "text", "content"]
            .iter()
            .find_map(|k| entry.get(k).and_then(Json::as_str));
        let (content, model) = match (body, title) {
            (Some(b), t) => (b, t.map(str::to_owned)),
            (None, Some(t)) => (t, None),
            (None, None) => {
                return Err(at.err(field, "a listed item needs a `body`, `text` or `title`"));
            }
        };
        out.push(Candidate {
            id,
            model,
            content: content.to_owned(),
        });
    }
    Ok(out)
}

/// A strength 0..=3 from a choice such as `2 - Clearly better` or `slightly better`.
pub fn strength(choice: &str) -> Option<i64> {
    let t = choice.trim();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    if !digits.is_empty() {
        let rest = &t[digits.len()..];
        let n: i64 = digits.parse().ok()?;
        let ends = rest.is_empty() || rest.starts_with([' ', '-', ':', '.', ')']);
        return (ends && (0..=plumbline_domain::judgment::MAX_STRENGTH).contains(&n)).then_some(n);
    }
    let word = t
        .split(|c: char| !c.is_alphabetic())
        .next()?
        .to_ascii_lowercase();
    match word.as_str() {
        "negligible" | "unsure" | "same" => Some(0),
        "slight" | "slightly" => Some(1),
        "clear" | "clearly" => Some(2),
        "significantly" | "significant" | "much" | "decisively" | "decisive" => Some(3),
        _ => None,
    }
}

/// A score from a choice that starts with a whole number (`5 - Yes - all answered`).
fn leading_number(choice: &str) -> Option<i64> {
    let t = choice.trim();
    let digits: String = t.chars().take_while(char::is_ascii_digit).collect();
    let rest = &t[digits.len()..];
    let ends = rest.is_empty() || rest.starts_with([' ', '-', ':', '.', ')']);
    if digits.is_empty() || !ends {
        return None;
    }
    digits.parse().ok()
}

/// Whether `o` scores a rubric criterion: a rating, or a numbered choice of a control
/// named as a criterion.
fn scores_criterion(o: &Output, criteria: &BTreeMap<String, Scale>) -> bool {
    match &o.control {
        Control::Rating(_) => true,
        Control::Choices(v) | Control::Words(v) => {
            criteria.contains_key(&o.from_name) && v.len() == 1 && leading_number(&v[0]).is_some()
        }
        _ => false,
    }
}

/// Why an annotation was left out: Label Studio's JSON_MIN leaves out the output of a
/// Rating that names no `toName` (the Chatbot Assessment template's), so such a row
/// holds choices and no rating.
pub const NO_RATING: &str = "Label Studio annotation without a rating (JSON_MIN leaves out a \
                             Rating that has no toName; export JSON to keep it)";

/// Reads one task into a record, with the reasons of annotations left out.
pub fn record(
    task: Task,
    criteria: &BTreeMap<String, Scale>,
) -> Result<(Record, Vec<&'static str>), LineError> {
    let at = At {
        line: task.line,
        n: task.n,
        id: Some(task.id.clone()),
    };
    let mut fields = Fields {
        data: &task.data,
        used: HashSet::new(),
    };
    let hint = Hint::read(&at, &mut fields)?;
    let outputs = || task.annotations.iter().flat_map(|a| &a.outputs);
    let pairwise = outputs().find(|o| matches!(o.control, Control::Pairwise(_)));
    let ranker = outputs().find(|o| matches!(o.control, Control::Ranker(_)));
    if let (Some(p), Some(r)) = (pairwise, ranker) {
        return Err(at.err(
            &r.path,
            format!(
                "the task mixes a pairwise choice (`{}`) and a ranker",
                p.from_name
            ),
        ));
    }
    let rated = outputs().any(|o| scores_criterion(o, criteria));
    let texts = outputs().any(|o| matches!(o.control, Control::Text(_) | Control::Words(_)));
    let talk = dialogue(&fields);
    // A conversation that ends with the model's reply, judged with choices and no text
    // written, is an assessment of that reply (Chatbot Assessment), not a demonstration.
    let assessed = talk
        .as_ref()
        .and_then(|(_, t)| t.last())
        .is_some_and(|t| t.role == Role::Assistant)
        && outputs().next().is_some()
        && !outputs().any(|o| matches!(o.control, Control::Text(_)));
    let kind = if pairwise.is_some() {
        TaskKind::Preference
    } else if ranker.is_some() {
        TaskKind::Ranking
    } else if rated || assessed {
        TaskKind::Rating
    } else if texts {
        TaskKind::Demonstration
    } else if let Some(kind) = hint.as_ref().and_then(|h| h.task) {
        kind
    } else if pair(&fields, None).is_some() {
        TaskKind::Preference
    } else if fields.get("items").and_then(Json::as_array).is_some() {
        TaskKind::Ranking
    } else {
        TaskKind::Demonstration
    };
    let mut candidates = Vec::new();
    let mut talk_response: Option<Turn> = None;
    match kind {
        TaskKind::Preference => {
            let to = pairwise.and_then(|o| o.to_name.as_deref());
            let Some((l, r)) = pair(&fields, to) else {
                return Err(at.err(
                    "data",
                    format!(
                        "cannot tell the two compared fields: give them in `to_name` \
                         (\"text1,text2\") or use a usual pair such as answer1/answer2; fields are {}",
                        fields.names()
                    ),
                ));
            };
            for (key, model_key) in [(l, PAIR_MODELS.0), (r, PAIR_MODELS.1)] {
                let Some(content) = fields.text(key) else {
                    return Err(at.err(
                        format!("data.{key}"),
                        "must be the text of a compared response",
                    ));
                };
                fields.take(key);
                let model = fields
                    .text(model_key)
                    .or_else(|| fields.text(&format!("{key}_model")))
                    .map(str::to_owned);
                candidates.push(Candidate {
                    id: key.to_owned(),
                    model,
                    content: content.to_owned(),
                });
            }
        }
        TaskKind::Ranking => {
            let to = ranker.and_then(|o| o.to_name.as_deref());
            let list_key = to
                .and_then(|k| fields.key(k))
                .filter(|k| fields.get(k).is_some_and(|v| v.as_array().is_some()))
                .or_else(|| fields.key("items"));
            let Some(list_key) =
                list_key.filter(|k| fields.get(k).is_some_and(|v| v.as_array().is_some()))
            else {
                return Err(at.err(
                    "data",
                    format!(
                        "holds no ranked list (`{}`); fields are {}",
                        to.unwrap_or("items"),
                        fields.names()
                    ),
                ));
            };
            candidates = listed(&at, &mut fields, list_key)?;
        }
        TaskKind::Rating => {
            for o in outputs().filter(|o| matches!(o.control, Control::Rating(_))) {
                if let Some(key) = o.to_name.as_deref().and_then(|k| fields.key(k))
                    && let Some(text) = fields.text(key)
                    && !candidates.iter().any(|c: &Candidate| c.id == key)
                {
                    fields.take(key);
                    candidates.push(Candidate {
                        id: key.to_owned(),
                        model: fields.text("model").map(str::to_owned),
                        content: text.to_owned(),
                    });
                }
            }
            if candidates.is_empty() {
                let ends_with_reply = talk
                    .as_ref()
                    .and_then(|(_, t)| t.last())
                    .is_some_and(|t| t.role == Role::Assistant);
                if let Some(key) = RESPONSE_KEYS.iter().find_map(|k| fields.key(k))
                    && let Some(text) = fields.text(key)
                {
                    fields.take(key);
                    candidates.push(Candidate {
                        id: key.to_owned(),
                        model: fields.text("model").map(str::to_owned),
                        content: text.to_owned(),
                    });
                } else if let Some(key) = fields
                    .key("items")
                    .filter(|k| fields.get(k).is_some_and(|v| v.as_array().is_some()))
                {
                    candidates = listed(&at, &mut fields, key)?;
                } else if ends_with_reply {
                    talk_response = talk.as_ref().and_then(|(_, t)| t.last().cloned());
                } else {
                    return Err(at.err(
                        "data",
                        format!(
                            "is rated but holds no response to rate: name a text field in the \
                             rating's `to_name`, give a `response` field, or end the dialogue with \
                             an assistant turn; fields are {}",
                            fields.names()
                        ),
                    ));
                }
            }
        }
        TaskKind::Demonstration => {
            // Responses to rewrite, when the task lists them.
            if let Some(key) = fields
                .key("items")
                .filter(|k| fields.get(k).is_some_and(|v| v.as_array().is_some()))
            {
                candidates = listed(&at, &mut fields, key)?;
            }
        }
        _ => {}
    }
    // A dialogue that ends with the rated reply: the reply is the candidate, the turns
    // before it the context.
    let talk = match (talk, &talk_response) {
        (Some((key, mut turns)), Some(reply)) => {
            turns.pop();
            candidates.push(Candidate {
                id: DIALOGUE_RESPONSE.to_owned(),
                model: fields.text("model").map(str::to_owned),
                content: reply.content.clone(),
            });
            Some((key, turns)).filter(|(_, t)| !t.is_empty())
        }
        (t, _) => t,
    };
    let Some(context) = context(&mut fields, talk) else {
        return Err(at.err(
            "data",
            format!(
                "has no prompt field (one of {}) nor a dialogue; fields are {}",
                PROMPT_KEYS.join(", "),
                fields.names()
            ),
        ));
    };
    if let Some(ids) = hint.as_ref().and_then(|h| h.candidate_ids.as_ref()) {
        if ids.len() != candidates.len() {
            return Err(at.err(
                format!("data.{}.candidate_ids", super::export::HINT),
                format!(
                    "names {} candidates, the task holds {}",
                    ids.len(),
                    candidates.len()
                ),
            ));
        }
        for (c, id) in candidates.iter_mut().zip(ids) {
            c.id.clone_from(id);
        }
    }
    let mut external = Vec::new();
    let mut skipped = Vec::new();
    for a in &task.annotations {
        match judgment(&at, kind, a, &candidates, criteria)? {
            Judged::One(j) => external.push(j),
            Judged::Empty => {}
            Judged::Skipped(why) => skipped.push(why),
        }
    }
    let rest = fields.rest();
    let (id, tags, metadata) = match hint {
        Some(mut h) => {
            let (id, tags) = (std::mem::take(&mut h.item_id), std::mem::take(&mut h.tags));
            (id, tags, h.metadata_with(rest, &candidates))
        }
        None => {
            let mut metadata = Map::new();
            metadata.insert("source".into(), SOURCE.into());
            metadata.insert("task_id".into(), task.id_value.clone());
            if !rest.is_empty() {
                metadata.insert("data".into(), Value::Object(rest));
            }
            if let Some(meta) = &task.meta {
                metadata.insert("meta".into(), meta.clone());
            }
            (format!("ls-{}", task.id), Vec::new(), metadata)
        }
    };
    let item = Item {
        id,
        context,
        candidates,
        task: Some(kind),
        tags,
        requires: Vec::new(),
        metadata,
        split: None,
        media: None,
    };
    let record = Record {
        line: task.line,
        item,
        external,
    };
    Ok((record, skipped))
}

/// What a task exported by Plumbline carries for the way back (see
/// [`super::export`]): the item's id, kind, candidate ids, tags and metadata.
struct Hint {
    item_id: String,
    task: Option<TaskKind>,
    candidate_ids: Option<Vec<String>>,
    tags: Vec<String>,
    metadata: Map<String, Value>,
}

impl Hint {
    fn read(at: &At, fields: &mut Fields<'_>) -> Result<Option<Hint>, LineError> {
        let Some(key) = fields.key(super::export::HINT) else {
            return Ok(None);
        };
        let field = |name: &str| format!("data.{key}.{name}");
        let value = fields.get(key).map(Json::to_value).unwrap_or_default();
        let Some(item_id) = value.get("item_id").and_then(Value::as_str) else {
            // Someone else's field of that name: ordinary data.
            return Ok(None);
        };
        fields.take(key);
        let task = match value.get("task") {
            None | Some(Value::Null) => None,
            Some(t) => Some(
                serde_json::from_value::<TaskKind>(t.clone())
                    .map_err(|_| at.err(field("task"), format!("is not a task kind: {t}")))?,
            ),
        };
        let strings = |name: &str| -> Result<Option<Vec<String>>, LineError> {
            match value.get(name) {
                None | Some(Value::Null) => Ok(None),
                Some(v) => serde_json::from_value(v.clone())
                    .map(Some)
                    .map_err(|_| at.err(field(name), "must be a list of strings")),
            }
        };
        let metadata = match value.get("metadata") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(m)) => m.clone(),
            Some(_) => return Err(at.err(field("metadata"), "must be an object")),
        };
        Ok(Some(Hint {
            item_id: item_id.to_owned(),
            task,
            candidate_ids: strings("candidate_ids")?,
            tags: strings("tags")?.unwrap_or_default(),
            metadata,
        }))
    }

    /// The item's metadata with the task's other data fields that it does not hold
    /// already (fields added in Label Studio) under `data`. The candidates' models,
    /// which the export wrote beside them, are not data.
    fn metadata_with(
        mut self,
        rest: Map<String, Value>,
        candidates: &[Candidate],
    ) -> Map<String, Value> {
        let known = self
            .metadata
            .get("data")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let models: Vec<&str> = candidates
            .iter()
            .filter_map(|c| c.model.as_deref())
            .collect();
        let added: Map<String, Value> = rest
            .into_iter()
            .filter(|(k, v)| known.get(k) != Some(v))
            .filter(|(k, v)| {
                !(["model_a", "model_b", "model"].contains(&k.as_str())
                    && v.as_str().is_some_and(|m| models.contains(&m)))
            })
            .collect();
        if !added.is_empty() {
            let mut data = known;
            data.extend(added);
            self.metadata.insert("data".into(), Value::Object(data));
        }
        self.metadata
    }
}

/// What became of one annotation.
enum Judged {
    One(ExternalJudgment),
    /// Submitted with no results.
    Empty,
    /// Left out, for this reason.
    Skipped(&'static str),
}

/// One annotation as an external judgment of the item's kind.
fn judgment(
    at: &At,
    kind: TaskKind,
    a: &Annotation,
    candidates: &[Candidate],
    criteria: &BTreeMap<String, Scale>,
) -> Result<Judged, LineError> {
    if a.outputs.is_empty() {
        return Ok(Judged::Empty);
    }
    let voter = a.by.as_deref().map(pseudonym);
    let mut notes: Vec<String> = Vec::new();
    let mut said: Vec<&str> = Vec::new();
    let payload = match kind {
        TaskKind::Preference => {
            let mut winner = None;
            let mut strong = None;
            for o in &a.outputs {
                match &o.control {
                    Control::Pairwise(side) => {
                        if winner.is_some() {
                            return Err(
                                at.err(&o.path, "a second pairwise choice in one annotation")
                            );
                        }
                        winner = Some(if side == "left" {
                            &candidates[0].id
                        } else {
                            &candidates[1].id
                        });
                    }
                    Control::Choices(v) | Control::Words(v)
                        if v.len() == 1 && strength(&v[0]).is_some() =>
                    {
                        if strong.is_some() {
                            return Err(
                                at.err(&o.path, "a second strength choice in one annotation")
                            );
                        }
                        strong = strength(&v[0]);
                    }
                    Control::Text(t) | Control::Words(t) => {
                        said.extend(t.iter().map(String::as_str))
                    }
                    Control::Choices(v) => notes.push(format!("{}: {}", o.from_name, v.join(", "))),
                    other => return Err(unexpected(at, o, other, kind)),
                }
            }
            let Some(winner) = winner else {
                return Err(at.err(&a.path, "has results but no pairwise choice"));
            };
            let rationale = said.join("\n\n");
            imported_preference(
                &Choice::Candidate(winner.clone()),
                strong,
                Map::new(),
                Some(&rationale),
            )
        }
        TaskKind::Ranking => {
            let mut order = None;
            for o in &a.outputs {
                match &o.control {
                    Control::Ranker(lists) => {
                        if order.is_some() {
                            return Err(at.err(&o.path, "a second ranker in one annotation"));
                        }
                        order = Some(rank(at, o, lists, candidates)?);
                    }
                    Control::Text(t) | Control::Words(t) => {
                        said.extend(t.iter().map(String::as_str))
                    }
                    Control::Choices(v) => notes.push(format!("{}: {}", o.from_name, v.join(", "))),
                    other => return Err(unexpected(at, o, other, kind)),
                }
            }
            let Some(order) = order else {
                return Err(at.err(&a.path, "has results but no ranking"));
            };
            serde_json::to_string(&RankingPayload {
                order,
                violations: Default::default(),
                rationale: said.join("\n\n"),
                edge_cases: Vec::new(),
                priority_override: false,
            })
            .expect("a ranking serializes")
        }
        TaskKind::Rating => {
            let mut scores: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
            for o in &a.outputs {
                let score = match &o.control {
                    Control::Rating(stars) => Some(*stars),
                    Control::Choices(v) | Control::Words(v) if scores_criterion(o, criteria) => {
                        leading_number(&v[0])
                    }
                    _ => None,
                };
                if let Some(score) = score {
                    let cand = rated(at, o, candidates)?;
                    check_score(at, o, score, criteria)?;
                    scores
                        .entry(cand)
                        .or_default()
                        .insert(o.from_name.clone(), score);
                    continue;
                }
                match &o.control {
                    Control::Text(t) | Control::Words(t) => {
                        said.extend(t.iter().map(String::as_str))
                    }
                    Control::Choices(v) => notes.push(format!("{}: {}", o.from_name, v.join(", "))),
                    other => return Err(unexpected(at, o, other, kind)),
                }
            }
            if scores.is_empty() {
                return Ok(Judged::Skipped(NO_RATING));
            }
            serde_json::to_string(&RatingPayload {
                scores,
                violations: Default::default(),
                rationale: said.join("\n\n"),
                edge_cases: Vec::new(),
                priority_override: false,
            })
            .expect("a rating serializes")
        }
        _ => {
            let mut response: Option<String> = None;
            for o in &a.outputs {
                match &o.control {
                    Control::Text(t) | Control::Words(t) if response.is_none() => {
                        response = Some(t.join("\n"));
                    }
                    Control::Text(t) | Control::Words(t) => {
                        said.extend(t.iter().map(String::as_str))
                    }
                    Control::Choices(v) => notes.push(format!("{}: {}", o.from_name, v.join(", "))),
                    other => return Err(unexpected(at, o, other, kind)),
                }
            }
            let Some(response) = response.filter(|r| !r.trim().is_empty()) else {
                return Err(at.err(&a.path, "has results but no written response"));
            };
            serde_json::to_string(&DemonstrationPayload {
                response,
                based_on: None,
                violations: Default::default(),
                rationale: said.join("\n\n"),
                edge_cases: Vec::new(),
                priority_override: false,
            })
            .expect("a demonstration serializes")
        }
    };
    let mut note = match (&a.id, &voter) {
        (Some(id), Some(v)) => format!("Label Studio annotation {id} by {v}"),
        (Some(id), None) => format!("Label Studio annotation {id}"),
        (None, Some(v)) => format!("Label Studio annotation by {v}"),
        (None, None) => "Label Studio annotation".to_owned(),
    };
    for n in notes {
        note.push_str("; ");
        note.push_str(&n);
    }
    if a.ground_truth {
        note.push_str("; marked ground truth in Label Studio");
    }
    Ok(Judged::One(ExternalJudgment {
        source: voter.map_or_else(|| SOURCE.to_owned(), |v| format!("{SOURCE}/{v}")),
        task: kind,
        payload,
        rationale: Some(note),
        time_ms: a.lead_time.map(|s| (s * 1000.0).round() as i64),
        gold_candidate: a.ground_truth,
    }))
}

fn unexpected(at: &At, o: &Output, control: &Control, kind: TaskKind) -> LineError {
    let what = match control {
        Control::Pairwise(_) => "a pairwise choice",
        Control::Ranker(_) => "a ranker",
        Control::Rating(_) => "a rating",
        Control::Choices(_) | Control::Words(_) => "a choice",
        Control::Text(_) => "a text",
    };
    at.err(
        &o.path,
        format!("{what} (`{}`) in a task read as a {kind} item", o.from_name),
    )
}

/// The candidate a rating scores: the one its `to_name` names, else the only one.
fn rated(at: &At, o: &Output, candidates: &[Candidate]) -> Result<String, LineError> {
    if let Some(c) = o
        .to_name
        .as_deref()
        .and_then(|t| candidates.iter().find(|c| c.id == t))
    {
        return Ok(c.id.clone());
    }
    match candidates {
        [only] => Ok(only.id.clone()),
        _ => Err(at.err(
            &o.path,
            format!(
                "cannot tell which response `{}` rates: its to_name names none of {}",
                o.from_name,
                candidates
                    .iter()
                    .map(|c| format!("`{}`", c.id))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        )),
    }
}

fn check_score(
    at: &At,
    o: &Output,
    score: i64,
    criteria: &BTreeMap<String, Scale>,
) -> Result<(), LineError> {
    let Some(scale) = criteria.get(&o.from_name) else {
        let known: Vec<String> = criteria.keys().map(|k| format!("`{k}`")).collect();
        return Err(at.err(
            &o.path,
            format!(
                "the rating `{}` scores a criterion the project's rubric does not define \
                 (its criteria: {}); add a criterion `{}` whose scale holds the ratings",
                o.from_name,
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                },
                o.from_name
            ),
        ));
    };
    if !scale.contains(score) {
        return Err(at.err(
            &o.path,
            format!(
                "{score} is outside the scale of `{}` ({} to {})",
                o.from_name, scale.min, scale.max
            ),
        ));
    }
    Ok(())
}

/// A ranker's lists as ranks, best first. Without buckets the one list is the order.
/// With buckets, their order (the labelling config's) is the rank: each bucket's items
/// in the order they were placed, then the items left in no bucket (`_`, or not named)
/// tied last.
fn rank(
    at: &At,
    o: &Output,
    lists: &[(String, Vec<String>)],
    candidates: &[Candidate],
) -> Result<Vec<Vec<String>>, LineError> {
    const UNPLACED: &str = "_";
    let known: HashSet<&str> = candidates.iter().map(|c| c.id.as_str()).collect();
    let mut seen: HashSet<&str> = HashSet::new();
    let mut order: Vec<Vec<String>> = Vec::new();
    for (name, ids) in lists.iter().filter(|(n, _)| n != UNPLACED) {
        for id in ids {
            if !known.contains(id.as_str()) {
                return Err(at.err(
                    format!("{}.{name}", o.path),
                    format!("names `{id}`, which is not in the task's ranked list"),
                ));
            }
            if !seen.insert(id) {
                return Err(at.err(format!("{}.{name}", o.path), format!("ranks `{id}` twice")));
            }
            order.push(vec![id.clone()]);
        }
    }
    if order.is_empty() {
        return Err(at.err(&o.path, "places no item"));
    }
    let last: Vec<String> = candidates
        .iter()
        .filter(|c| !seen.contains(c.id.as_str()))
        .map(|c| c.id.clone())
        .collect();
    if !last.is_empty() {
        order.push(last);
    }
    Ok(order)
}
