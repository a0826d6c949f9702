//! NVIDIA HelpSteer2: one response a row (`prompt`, `response`, `helpfulness`,
//! `correctness`, `coherence`, `complexity`, `verbosity`, each 0–4), the responses to
//! one prompt on consecutive rows.
//!
//! Consecutive rows with the same prompt become one `rating` item whose candidates are
//! the responses (`a`, `b`, … in file order); their five attribute scores become one
//! external rating judgment (`source` `helpsteer2`). The mapping is one to one: each
//! HelpSteer2 attribute is scored as the rubric criterion of the same key, so the
//! project's rubric must define `helpfulness`, `correctness`, `coherence`,
//! `complexity` and `verbosity` with scales that hold 0–4 (their priorities are the
//! project's choice; `tests/fixtures/helpsteer2_rubric.toml` is an example). A
//! multi-turn prompt (turns joined by `<extra_id_1>User` / `<extra_id_1>Assistant`
//! lines) is split into turns. A prompt whose rows are not contiguous is refused.

use crate::feed::{Feeder, Record, content_id};
use crate::lines::LineError;
use crate::rows::{Fields, Row};
use plumbline_domain::{Candidate, Item, RatingPayload, Role, TaskKind, Turn};
use plumbline_store::ExternalJudgment;
use std::collections::{BTreeMap, HashMap};

/// The `external_source` of judgments this importer stores.
pub const SOURCE: &str = "helpsteer2";

/// The attributes, each scored 0–4, as rubric criterion keys.
pub const ATTRIBUTES: [&str; 5] = [
    "helpfulness",
    "correctness",
    "coherence",
    "complexity",
    "verbosity",
];

/// Largest candidate count of one item (the domain's bound for ratings).
const MAX_RESPONSES: usize = 64;

/// Refuses a rubric that cannot hold HelpSteer2 scores, naming what is missing.
pub fn check_rubric(criteria: &BTreeMap<String, plumbline_domain::Scale>) -> Result<(), LineError> {
    let mut problems = Vec::new();
    for key in ATTRIBUTES {
        match criteria.get(key) {
            None => problems.push(format!("no criterion `{key}`")),
            Some(s) if !(s.contains(0) && s.contains(4)) => problems.push(format!(
                "criterion `{key}` has the scale {}..{}, which does not hold 0..4",
                s.min, s.max
            )),
            Some(_) => {}
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(LineError::new(
        0,
        None,
        format!(
            "HelpSteer2 scores map one to one onto rubric criteria helpfulness, correctness, \
             coherence, complexity and verbosity with a 0..4 scale; the project's rubric has {}",
            problems.join(", ")
        ),
    ))
}

struct Response {
    line: u64,
    text: String,
    scores: BTreeMap<String, i64>,
}

/// Groups consecutive rows by prompt.
#[derive(Default)]
pub struct Groups {
    prompt: Option<String>,
    first_line: u64,
    responses: Vec<Response>,
    seen: HashMap<String, u64>,
}

impl Groups {
    /// A fresh reader.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one row; false when reading should stop.
    pub fn on_row(&mut self, feed: &mut Feeder<'_>, line: u64, row: &Row) -> bool {
        feed.summary.rows += 1;
        let f = Fields::new(line, row);
        let parsed = (|| {
            let prompt = f.str("prompt")?;
            let text = f.str("response")?.to_owned();
            let mut scores = BTreeMap::new();
            for key in ATTRIBUTES {
                let Some(v) = f.opt_int(key)? else {
                    return Err(f.error(
                        key,
                        "is missing (a HelpSteer2 row scores all five attributes)",
                    ));
                };
                if !(0..=4).contains(&v) {
                    return Err(f.error(key, format!("must be between 0 and 4, got {v}")));
                }
                scores.insert(key.to_owned(), v);
            }
            Ok((prompt, Response { line, text, scores }))
        })();
        let (prompt, response) = match parsed {
            Ok(p) => p,
            Err(e) => return feed.refuse(e),
        };
        if self.prompt.as_deref() != Some(prompt) {
            if !self.flush(feed) {
                return false;
            }
            let key = content_id("hs2", &[prompt]);
            if let Some(first) = self.seen.get(&key) {
                return feed.refuse(LineError::new(
                    line,
                    Some("prompt".into()),
                    format!(
                        "this prompt's responses began at line {first} and other rows came \
                         between; keep the rows of a prompt together"
                    ),
                ));
            }
            self.seen.insert(key, line);
            self.prompt = Some(prompt.to_owned());
            self.first_line = line;
        }
        if self.responses.len() == MAX_RESPONSES {
            return feed.refuse(LineError::new(
                line,
                Some("prompt".into()),
                format!("more than {MAX_RESPONSES} responses to one prompt"),
            ));
        }
        self.responses.push(response);
        true
    }

    /// Turns the prompt being read into an item; false when reading should stop.
    pub fn flush(&mut self, feed: &mut Feeder<'_>) -> bool {
        let Some(prompt) = self.prompt.take() else {
            return true;
        };
        let responses = std::mem::take(&mut self.responses);
        let ids: Vec<String> = (0..responses.len()).map(candidate_id).collect();
        let candidates = responses
            .iter()
            .zip(&ids)
            .map(|(r, id)| Candidate {
                id: id.clone(),
                model: None,
                content: r.text.clone(),
            })
            .collect();
        let payload = RatingPayload {
            scores: responses
                .iter()
                .zip(&ids)
                .map(|(r, id)| (id.clone(), r.scores.clone()))
                .collect(),
            violations: Default::default(),
            rationale: String::new(),
            edge_cases: Vec::new(),
            priority_override: false,
        };
        let mut metadata = serde_json::Map::new();
        metadata.insert("source".into(), SOURCE.into());
        metadata.insert(
            "rows".into(),
            responses.iter().map(|r| r.line).collect::<Vec<_>>().into(),
        );
        let item = Item {
            id: content_id("hs2", &[&prompt]),
            context: prompt_turns(&prompt),
            candidates,
            task: Some(TaskKind::Rating),
            tags: Vec::new(),
            requires: Vec::new(),
            metadata,
            split: None,
            media: None,
        };
        feed.accept(Ok(Record {
            line: self.first_line,
            item,
            external: vec![ExternalJudgment {
                source: SOURCE.into(),
                task: TaskKind::Rating,
                payload: serde_json::to_string(&payload).expect("a payload serializes"),
                rationale: Some("HelpSteer2 attribute scores (0-4)".into()),
                time_ms: None,
                gold_candidate: false,
            }],
        }))
    }
}

/// `a`, `b`, …, `z`, `aa`, `ab`, …
pub(crate) fn candidate_id(i: usize) -> String {
    let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
    if i < 26 {
        letter(i).to_string()
    } else {
        format!("{}{}", letter(i / 26 - 1), letter(i))
    }
}

/// Splits a HelpSteer2 prompt into turns at its `<extra_id_1>` role lines.
pub(crate) fn prompt_turns(prompt: &str) -> Vec<Turn> {
    const MARK: &str = "<extra_id_1>";
    let turn = |role, content: &str| Turn {
        role,
        content: content.trim().to_owned(),
        speaker: None,
        start: None,
        end: None,
        asr_confidence: None,
        interrupted: false,
        overlap: false,
        redacted: Vec::new(),
    };
    let mut parts = prompt.split(MARK);
    let mut turns = vec![turn(Role::User, parts.next().unwrap_or(""))];
    for part in parts {
        let (role, rest) = if let Some(rest) = part.strip_prefix("Assistant") {
            (Role::Assistant, rest)
        } else if let Some(rest) = part.strip_prefix("User") {
            (Role::User, rest)
        } else {
            // An unknown marker stays text of the turn it interrupts.
            let last = turns.last_mut().expect("one turn at least");
            last.content.push_str(MARK);
            last.content.push_str(part);
            continue;
        };
        turns.push(turn(role, rest));
    }
    turns
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn multi_turn_prompts_are_split() {
        let t =
            prompt_turns("Hi there\n<extra_id_1>Assistant\nHello!\n<extra_id_1>User\nWhat is 2+2?");
        let got: Vec<(Role, &str)> = t.iter().map(|t| (t.role, t.content.as_str())).collect();
        assert_eq!(
            got,
            [
                (Role::User, "Hi there"),
                (Role::Assistant, "Hello!"),
                (Role::User, "What is 2+2?")
            ]
        );
        assert_eq!(candidate_id(0), "a");
        assert_eq!(candidate_id(27), "ab");
    }
}
