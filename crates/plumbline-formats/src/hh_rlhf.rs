//! Anthropic HH-RLHF: one JSON object a line (or a Parquet row) with `chosen` and
//! `rejected`, each a whole dialogue written as `\n\nHuman: …\n\nAssistant: …`.
//!
//! The turns the two dialogues share become the item's context; the two final
//! assistant replies, which differ, become candidates `a` and `b` (which of them is the
//! chosen one is decided by a bit of the item id, so position says nothing); the
//! original choice is stored as an external preference judgment (`source` `hh-rlhf`,
//! strength null: HH records no margin), never as gold. The item id is `hh-` and 16 hex
//! digits of the SHA-256 of the chosen dialogue and the rejected reply (which together
//! determine the line), so importing the file again changes nothing. A line whose dialogues share no turn, or differ before their final reply,
//! is refused with its line number.

use crate::feed::{Feeder, Record, content_id, imported_preference};
use crate::lines::LineError;
use crate::rows::{Fields, Row};
use plumbline_domain::judgment::Choice;
use plumbline_domain::{Candidate, Item, Role, TaskKind, Turn};
use plumbline_store::ExternalJudgment;

/// The `external_source` of judgments this importer stores.
pub const SOURCE: &str = "hh-rlhf";

const HUMAN: &str = "\n\nHuman:";
const ASSISTANT: &str = "\n\nAssistant:";

/// Splits an HH dialogue into turns; `field` names it in errors.
pub fn split_dialogue(text: &str, line: u64, field: &str) -> Result<Vec<Turn>, LineError> {
    // Some copies drop the leading blank lines; put them back so every turn has a marker.
    let owned;
    let text = if text.starts_with("Human:") {
        owned = format!("\n\n{text}");
        owned.as_str()
    } else {
        text
    };
    let mut marks: Vec<(usize, Role, usize)> = Vec::new();
    let mut at = 0;
    while let Some(off) = text[at..].find("\n\n") {
        let pos = at + off;
        let rest = &text[pos..];
        if rest.starts_with(HUMAN) {
            marks.push((pos, Role::User, HUMAN.len()));
            at = pos + HUMAN.len();
        } else if rest.starts_with(ASSISTANT) {
            marks.push((pos, Role::Assistant, ASSISTANT.len()));
            at = pos + ASSISTANT.len();
        } else {
            at = pos + 1;
        }
    }
    let Some(&(first, _, _)) = marks.first() else {
        return Err(LineError::new(
            line,
            Some(field.to_owned()),
            "holds no `\\n\\nHuman:` or `\\n\\nAssistant:` turn marker",
        ));
    };
    if !text[..first].trim().is_empty() {
        return Err(LineError::new(
            line,
            Some(field.to_owned()),
            "text before the first `\\n\\nHuman:` marker",
        ));
    }
    let mut turns = Vec::with_capacity(marks.len());
    for (i, &(pos, role, len)) in marks.iter().enumerate() {
        let end = marks.get(i + 1).map_or(text.len(), |m| m.0);
        turns.push(Turn {
            role,
            content: text[pos + len..end].trim().to_owned(),
            speaker: None,
            start: None,
            end: None,
            asr_confidence: None,
            interrupted: false,
            overlap: false,
            redacted: Vec::new(),
        });
    }
    Ok(turns)
}

/// Converts one HH row into a preference item with its external judgment.
pub fn record(line: u64, row: &Row) -> Result<Record, LineError> {
    let f = Fields::new(line, row);
    let chosen_text = f.str("chosen")?;
    let rejected_text = f.str("rejected")?;
    let chosen = split_dialogue(chosen_text, line, "chosen")?;
    let rejected = split_dialogue(rejected_text, line, "rejected")?;
    let shared = chosen
        .iter()
        .zip(&rejected)
        .take_while(|(a, b)| a.role == b.role && a.content == b.content)
        .count();
    if shared == 0 {
        return Err(f.error(
            "rejected",
            "the chosen and rejected dialogues share no prefix (their first turns differ); \
             HH-RLHF pairs continue one conversation",
        ));
    }
    let identical = shared == chosen.len() && shared == rejected.len();
    if !identical && (chosen.len() != shared + 1 || rejected.len() != shared + 1) {
        return Err(f.error(
            "rejected",
            format!(
                "the dialogues differ at turn {} but not only in their final assistant reply \
                 (chosen has {} turns, rejected {})",
                shared + 1,
                chosen.len(),
                rejected.len()
            ),
        ));
    }
    // Either way each dialogue is now the context plus one final reply (for identical
    // dialogues, the last turn is both replies).
    let (mut context, mut rejected) = (chosen, rejected);
    let chosen_reply = context.pop().expect("at least one turn");
    let rejected_reply = rejected.pop().expect("at least one turn");
    for (field, reply) in [("chosen", &chosen_reply), ("rejected", &rejected_reply)] {
        if reply.role != Role::Assistant {
            return Err(f.error(
                field,
                "the final turn must be an `Assistant:` reply to compare",
            ));
        }
    }
    if context.is_empty() {
        return Err(f.error("chosen", "the dialogue has no turn before the replies"));
    }
    // The chosen dialogue and the rejected reply determine the pair (the rest of the
    // rejected dialogue equals the chosen one's), so they alone are hashed.
    let id = content_id("hh", &[chosen_text, &rejected_reply.content]);
    // The id's last hex digit decides the side, so `a` is not always the chosen reply.
    let chosen_first = id.as_bytes()[id.len() - 1].is_multiple_of(2);
    let (a, b) = if chosen_first {
        (chosen_reply.content, rejected_reply.content)
    } else {
        (rejected_reply.content, chosen_reply.content)
    };
    let winner = if chosen_first { "a" } else { "b" };
    let mut metadata = serde_json::Map::new();
    metadata.insert("source".into(), SOURCE.into());
    let item = Item {
        id,
        context,
        candidates: vec![
            Candidate {
                id: "a".into(),
                model: None,
                content: a,
            },
            Candidate {
                id: "b".into(),
                model: None,
                content: b,
            },
        ],
        task: Some(TaskKind::Preference),
        tags: Vec::new(),
        requires: Vec::new(),
        metadata,
        split: None,
        media: None,
    };
    Ok(Record {
        line,
        item,
        external: vec![ExternalJudgment {
            source: SOURCE.into(),
            task: TaskKind::Preference,
            payload: imported_preference(
                &Choice::Candidate(winner.into()),
                None,
                Default::default(),
                None,
            ),
            rationale: Some("the original HH-RLHF choice (chosen over rejected)".into()),
            time_ms: None,
            gold_candidate: false,
        }],
    })
}

/// Feeds HH rows to `feed`; false when reading should stop.
pub fn on_row(feed: &mut Feeder<'_>, line: u64, row: &Row) -> bool {
    feed.accept(record(line, row))
}
