//! Label Studio's JSON export of pairwise and ranker projects: one JSON array of tasks,
//! each with `id`, `data` and `annotations[].result[]` (`from_name`, `to_name`,
//! `type`, `value`).
//!
//! The array is read whole (capped by `max_document_bytes`) and parsed one task at a
//! time, so errors name the line where the task starts. A task becomes one item
//! (`ls-<task id>`):
//!
//! - `pairwise` results (`value.selected` `left`/`right`): a `preference` item whose
//!   candidates are the two compared data fields, named by `to_name` (`"text1,text2"`)
//!   or, when the result names one, found among the usual pairs (`answer1`/`answer2`,
//!   `text1`/`text2`, `response1`/`response2`, `response_a`/`response_b`); the candidate
//!   id is the data field's name;
//! - `ranker` results (`value.ranker` `{list: [ids best first]}`): a `ranking` item
//!   whose candidates are the items of the ranked list (`data[to_name]` or
//!   `data.items`: `{id, body|text|title}`).
//!
//! The context is one user turn from `data.prompt` (or `question`, `instruction`,
//! `input`, `text`). Every annotation that was not cancelled becomes an external
//! judgment (`source` `label-studio`). Any other control type is refused, naming it.

use crate::feed::{Feeder, Record};
use crate::lines::LineError;
use crate::rows::{json_error, json_type};
use plumbline_domain::judgment::Choice;
use plumbline_domain::{Candidate, Item, RankingPayload, Role, TaskKind, Turn};
use plumbline_store::ExternalJudgment;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::io::{self, Read};

/// The `external_source` of judgments this importer stores.
pub const SOURCE: &str = "label-studio";

const PROMPT_KEYS: [&str; 5] = ["prompt", "question", "instruction", "input", "text"];
const PAIRS: [(&str, &str); 5] = [
    ("answer1", "answer2"),
    ("text1", "text2"),
    ("response1", "response2"),
    ("response_a", "response_b"),
    ("left", "right"),
];

/// Reads a Label Studio export from `input` into `feed`.
pub fn read(
    input: impl Read,
    feed: &mut Feeder<'_>,
    mut progress: impl FnMut(u64),
) -> io::Result<()> {
    let cap = feed.options().max_document_bytes;
    let mut bytes = Vec::new();
    input.take(cap + 1).read_to_end(&mut bytes)?;
    progress(bytes.len() as u64);
    if bytes.len() as u64 > cap {
        feed.refuse(LineError::new(
            0,
            None,
            format!("a Label Studio export is read whole and this one is larger than the limit of {cap} bytes"),
        ));
        return Ok(());
    }
    let text = match std::str::from_utf8(&bytes) {
        Ok(t) => t,
        Err(e) => {
            let at = e.valid_up_to();
            let line = 1 + memchr::memchr_iter(b'\n', &bytes[..at]).count() as u64;
            feed.refuse(LineError::new(line, None, "invalid UTF-8"));
            return Ok(());
        }
    };
    let mut pos = skip_ws(text, 0);
    let mut lines = Lines::default();
    if !text[pos..].starts_with('[') {
        feed.refuse(LineError::new(
            lines.at(text, pos),
            None,
            "expected a JSON array of tasks (Label Studio's JSON export)",
        ));
        return Ok(());
    }
    pos += 1;
    let mut n = 0usize;
    loop {
        pos = skip_ws(text, pos);
        if text[pos..].starts_with(']') && n == 0 {
            break;
        }
        let line = lines.at(text, pos);
        let mut stream = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<Value>();
        let value = match stream.next() {
            Some(Ok(v)) => v,
            Some(Err(e)) => {
                feed.refuse(LineError::new(
                    line + e.line() as u64 - 1,
                    None,
                    format!("task {}: {}", n + 1, json_error(&e)),
                ));
                return Ok(());
            }
            None => {
                feed.refuse(LineError::new(
                    line,
                    None,
                    "the array ends early (is the file truncated?)",
                ));
                return Ok(());
            }
        };
        pos += stream.byte_offset();
        n += 1;
        if !feed.accept(task(line, n, &value)) {
            return Ok(());
        }
        pos = skip_ws(text, pos);
        match text[pos..].chars().next() {
            Some(',') => pos += 1,
            Some(']') => break,
            Some(c) => {
                feed.refuse(LineError::new(
                    lines.at(text, pos),
                    None,
                    format!("expected `,` or `]` after task {n}, found `{c}`"),
                ));
                return Ok(());
            }
            None => {
                feed.refuse(LineError::new(
                    lines.at(text, pos),
                    None,
                    "the array ends early (is the file truncated?)",
                ));
                return Ok(());
            }
        }
    }
    let rest = skip_ws(text, pos + 1);
    if rest < text.len() {
        feed.refuse(LineError::new(
            lines.at(text, rest),
            None,
            "text after the end of the task array",
        ));
    }
    Ok(())
}

fn skip_ws(text: &str, mut pos: usize) -> usize {
    let b = text.as_bytes();
    while pos < b.len() && b[pos].is_ascii_whitespace() {
        pos += 1;
    }
    pos
}

/// Counts lines incrementally as the position moves forward.
#[derive(Default)]
struct Lines {
    pos: usize,
    line: u64,
}

impl Lines {
    fn at(&mut self, text: &str, pos: usize) -> u64 {
        if pos >= self.pos {
            self.line += memchr::memchr_iter(b'\n', &text.as_bytes()[self.pos..pos]).count() as u64;
            self.pos = pos;
        }
        self.line + 1
    }
}

fn err(line: u64, n: usize, field: impl Into<String>, reason: impl Into<String>) -> LineError {
    LineError::new(
        line,
        Some(field.into()),
        format!("task {n}: {}", reason.into()),
    )
}

/// One Label Studio task as an item with its annotations.
fn task(line: u64, n: usize, value: &Value) -> Result<Record, LineError> {
    let Some(task) = value.as_object() else {
        return Err(LineError::new(
            line,
            None,
            format!("task {n}: must be an object, not {}", json_type(value)),
        ));
    };
    let id = match task.get("id") {
        Some(Value::Number(x)) => x.to_string(),
        Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
        _ => return Err(err(line, n, "id", "must be the task's number or string id")),
    };
    let Some(data) = task.get("data").and_then(Value::as_object) else {
        return Err(err(
            line,
            n,
            "data",
            "must be an object holding the task's fields",
        ));
    };
    let prompt = PROMPT_KEYS
        .iter()
        .find_map(|k| data.get(*k).and_then(Value::as_str).map(|s| (*k, s)));
    let Some((prompt_key, prompt)) = prompt else {
        return Err(err(
            line,
            n,
            "data",
            format!(
                "has no prompt field (one of {}); fields are {}",
                PROMPT_KEYS.join(", "),
                keys(data)
            ),
        ));
    };
    // Collect the results of live annotations, with their paths for messages.
    let mut results: Vec<(String, &Map<String, Value>, String)> = Vec::new();
    let annotations = match task.get("annotations") {
        None | Some(Value::Null) => &Vec::new(),
        Some(Value::Array(a)) => a,
        Some(v) => {
            return Err(err(
                line,
                n,
                "annotations",
                format!("must be an array, not {}", json_type(v)),
            ));
        }
    };
    for (i, a) in annotations.iter().enumerate() {
        if a.get("was_cancelled").and_then(Value::as_bool) == Some(true) {
            continue;
        }
        let text = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        let by = match a.get("completed_by") {
            Some(Value::Object(u)) => u.get("email").or(u.get("id")).map(text),
            Some(v) if !v.is_null() => Some(text(v)),
            _ => None,
        };
        let note = match (a.get("id"), by) {
            (Some(aid), Some(by)) => format!("Label Studio annotation {aid} by {by}"),
            (Some(aid), None) => format!("Label Studio annotation {aid}"),
            _ => "Label Studio annotation".to_owned(),
        };
        let Some(list) = a.get("result").and_then(Value::as_array) else {
            return Err(err(
                line,
                n,
                format!("annotations[{i}].result"),
                "must be an array",
            ));
        };
        for (j, r) in list.iter().enumerate() {
            let path = format!("annotations[{i}].result[{j}]");
            let Some(r) = r.as_object() else {
                return Err(err(line, n, path, "must be an object"));
            };
            results.push((path, r, note.clone()));
        }
    }
    let mut kind: Option<&str> = None;
    for (path, r, _) in &results {
        let t = r.get("type").and_then(Value::as_str).unwrap_or("");
        if t != "pairwise" && t != "ranker" {
            let from = r.get("from_name").and_then(Value::as_str).unwrap_or("?");
            return Err(err(
                line,
                n,
                format!("{path}.type"),
                format!(
                    "unknown control `{t}` (from_name `{from}`); this importer reads `pairwise` \
                     and `ranker` results only"
                ),
            ));
        }
        if kind.is_some_and(|k| k != t) {
            return Err(err(
                line,
                n,
                format!("{path}.type"),
                "a task mixes pairwise and ranker results",
            ));
        }
        kind = Some(t);
    }
    let turn = Turn {
        role: Role::User,
        content: prompt.to_owned(),
        speaker: None,
        start: None,
        end: None,
        asr_confidence: None,
        interrupted: false,
        overlap: false,
        redacted: Vec::new(),
    };
    let mut metadata = Map::new();
    metadata.insert("source".into(), SOURCE.into());
    metadata.insert(
        "task_id".into(),
        task.get("id").cloned().unwrap_or(Value::Null),
    );
    let mut item = Item {
        id: format!("ls-{id}"),
        context: vec![turn],
        candidates: Vec::new(),
        task: None,
        tags: Vec::new(),
        requires: Vec::new(),
        metadata,
        split: None,
        media: None,
    };
    let ranker = kind == Some("ranker") || (kind.is_none() && pair(data, None).is_none());
    let mut external = Vec::new();
    if !ranker {
        let first_to = results
            .first()
            .and_then(|(_, r, _)| r.get("to_name").and_then(Value::as_str));
        let Some((left, right)) = pair(data, first_to) else {
            return Err(err(
                line,
                n,
                "data",
                format!(
                    "cannot tell the two compared fields: give them in `to_name` (\"text1,text2\") \
                     or use a usual pair such as answer1/answer2; fields are {}",
                    keys(data)
                ),
            ));
        };
        for key in [left, right] {
            let Some(content) = data.get(key).and_then(Value::as_str) else {
                return Err(err(
                    line,
                    n,
                    format!("data.{key}"),
                    "must be the text of a compared response",
                ));
            };
            item.candidates.push(Candidate {
                id: key.to_owned(),
                model: None,
                content: content.to_owned(),
            });
        }
        if left == prompt_key || right == prompt_key {
            return Err(err(
                line,
                n,
                "data",
                format!("`{prompt_key}` is both the prompt and a compared response"),
            ));
        }
        item.task = Some(TaskKind::Preference);
        for (path, r, note) in &results {
            let selected = r
                .get("value")
                .and_then(|v| v.get("selected"))
                .and_then(Value::as_str);
            let winner = match selected {
                Some("left") => left,
                Some("right") => right,
                other => {
                    return Err(err(
                        line,
                        n,
                        format!("{path}.value.selected"),
                        format!("must be `left` or `right`, got {other:?}"),
                    ));
                }
            };
            let payload = crate::feed::imported_preference(
                &Choice::Candidate(winner.to_owned()),
                None,
                Default::default(),
                None,
            );
            external.push(judgment(TaskKind::Preference, Ok(payload), note));
        }
    } else {
        let to = results
            .first()
            .and_then(|(_, r, _)| r.get("to_name").and_then(Value::as_str));
        let list_key = to
            .filter(|k| data.get(*k).is_some_and(Value::is_array))
            .unwrap_or("items");
        let Some(list) = data.get(list_key).and_then(Value::as_array) else {
            return Err(err(
                line,
                n,
                "data",
                format!(
                    "neither a pair of compared fields nor a ranked list (`{list_key}`); fields are {}",
                    keys(data)
                ),
            ));
        };
        for (i, entry) in list.iter().enumerate() {
            let field = format!("data.{list_key}[{i}]");
            let cid = match entry.get("id") {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(x)) => x.to_string(),
                _ => {
                    return Err(err(
                        line,
                        n,
                        format!("{field}.id"),
                        "every ranked item needs an id",
                    ));
                }
            };
            let content = ["body", "text", "content", "title"]
                .iter()
                .find_map(|k| entry.get(*k).and_then(Value::as_str));
            let Some(content) = content else {
                return Err(err(
                    line,
                    n,
                    field,
                    "a ranked item needs a `body`, `text` or `title`",
                ));
            };
            item.candidates.push(Candidate {
                id: cid,
                model: None,
                content: content.to_owned(),
            });
        }
        item.task = Some(TaskKind::Ranking);
        for (path, r, note) in &results {
            let field = format!("{path}.value.ranker");
            let Some(ranked) = r
                .get("value")
                .and_then(|v| v.get("ranker"))
                .and_then(Value::as_object)
            else {
                return Err(err(
                    line,
                    n,
                    field,
                    "must be an object {list: [ids best first]}",
                ));
            };
            let lists: Vec<(&String, &Value)> =
                ranked.iter().filter(|(k, _)| k.as_str() != "_").collect();
            let [(_, order)] = lists.as_slice() else {
                return Err(err(
                    line,
                    n,
                    field,
                    format!(
                        "holds {} lists; ranker results with buckets are not read",
                        lists.len()
                    ),
                ));
            };
            let ids: Vec<String> = match order.as_array() {
                Some(a) => a
                    .iter()
                    .map(|v| match v {
                        Value::String(s) => Ok(s.clone()),
                        Value::Number(x) => Ok(x.to_string()),
                        _ => Err(err(
                            line,
                            n,
                            field.clone(),
                            "ids must be strings or numbers",
                        )),
                    })
                    .collect::<Result<_, _>>()?,
                None => return Err(err(line, n, field, "the ranked list must be an array")),
            };
            let known: HashSet<&str> = item.candidates.iter().map(|c| c.id.as_str()).collect();
            let named: HashSet<&str> = ids.iter().map(String::as_str).collect();
            if let Some(bad) = ids.iter().find(|i| !known.contains(i.as_str())) {
                return Err(err(
                    line,
                    n,
                    field,
                    format!("names `{bad}`, which is not in data.{list_key}"),
                ));
            }
            if named.len() != ids.len() || named.len() != known.len() {
                return Err(err(
                    line,
                    n,
                    field,
                    format!(
                        "ranks {} of the {} listed items (each exactly once is needed)",
                        named.len(),
                        known.len()
                    ),
                ));
            }
            let payload = RankingPayload {
                order: ids.into_iter().map(|i| vec![i]).collect(),
                violations: Default::default(),
                rationale: String::new(),
                edge_cases: Vec::new(),
                priority_override: false,
            };
            external.push(judgment(
                TaskKind::Ranking,
                serde_json::to_string(&payload),
                note,
            ));
        }
    }
    Ok(Record {
        line,
        item,
        external,
    })
}

fn judgment(task: TaskKind, payload: serde_json::Result<String>, note: &str) -> ExternalJudgment {
    ExternalJudgment {
        source: SOURCE.into(),
        task,
        payload: payload.expect("a payload serializes"),
        rationale: Some(note.to_owned()),
    }
}

/// The two compared data fields: from `to_name` when it names both, else a usual pair.
fn pair<'a>(data: &'a Map<String, Value>, to_name: Option<&'a str>) -> Option<(&'a str, &'a str)> {
    if let Some((l, r)) = to_name.and_then(|t| t.split_once(','))
        && data.contains_key(l.trim())
        && data.contains_key(r.trim())
    {
        return Some((l.trim(), r.trim()));
    }
    PAIRS.into_iter().find(|(l, r)| {
        data.get(*l).is_some_and(Value::is_string) && data.get(*r).is_some_and(Value::is_string)
    })
}

fn keys(data: &Map<String, Value>) -> String {
    let k: Vec<String> = data.keys().map(|k| format!("`{k}`")).collect();
    if k.is_empty() {
        "none".into()
    } else {
        k.join(", ")
    }
}
