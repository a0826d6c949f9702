//! Label Studio's task exports, both shapes (`JSON` and `JSON_MIN`) of every LLM
//! template Label Studio ships: Pairwise (with a reason TextArea and a strength
//! Choices or without), the LLM Ranker (with buckets or without), Chatbot Assessment
//! and Response Grading (Rating, Choices), Supervised LLM (TextArea), and tasks whose
//! context is a chat or dialogue (`messages`, `dialogue`: lists of `role`/`content` or
//! `speaker`/`text`).
//!
//! The array is read whole (capped by `max_document_bytes`) and parsed one task at a
//! time, so errors name the line where the task starts, its place and its id. A task
//! becomes one item (`ls-<task id>`, see [`item`] for its kind); its data fields that
//! are not the prompt, context or candidates are kept in the item's metadata (`data`,
//! beside `task_id` and the task's `meta`). Each annotation not cancelled becomes an
//! external judgment whose source names its annotator by a pseudonym
//! (`label-studio/ann-…`), so two annotators are two voters, with `lead_time` as its
//! time on task. An annotation marked ground truth says so in its note and is proposed
//! as a gold candidate, which a lead accepts or rejects: never gold by itself.

pub mod export;
mod item;
mod ordered;
mod task;

pub use item::{DIALOGUE_RESPONSE, PAIRS, PROMPT_KEYS, pseudonym, strength};
pub use ordered::Json;

use crate::feed::Feeder;
use crate::lines::LineError;
use crate::rows::json_error;
use std::io::{self, Read};
use task::{MinRows, Shape};

/// The `external_source` of judgments this importer stores (followed by `/` and the
/// annotator's pseudonym when the export names the annotator).
pub const SOURCE: &str = "label-studio";

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
    let criteria = &feed.options().criteria;
    let mut shape: Option<Shape> = None;
    let mut min_rows = MinRows::default();
    let mut n = 0usize;
    loop {
        pos = skip_ws(text, pos);
        if text[pos..].starts_with(']') && n == 0 {
            break;
        }
        let line = lines.at(text, pos);
        let mut stream = serde_json::Deserializer::from_str(&text[pos..]).into_iter::<Json>();
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
        let this = Shape::of(&value);
        let shape = *shape.get_or_insert(this.unwrap_or(Shape::Full));
        let taken = match (shape, this) {
            (Shape::Full, Some(Shape::Full)) => {
                let read = task::full(line, n, &value).and_then(|t| item::record(t, criteria));
                accept(feed, read)
            }
            (Shape::Min, Some(Shape::Min)) => match min_rows.add(line, n, &value) {
                Ok(()) => true,
                Err(e) => feed.refuse(e),
            },
            (_, got) => feed.refuse(mismatch(line, n, shape, got, &value)),
        };
        if !taken {
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
        return Ok(());
    }
    // JSON_MIN rows are one an annotation: a task is whole only at the end.
    for t in min_rows.into_tasks() {
        if !accept(feed, item::record(t, criteria)) {
            break;
        }
    }
    Ok(())
}

/// Feeds one task's record, counting the annotations it left out.
fn accept(
    feed: &mut Feeder<'_>,
    read: Result<(crate::feed::Record, Vec<&'static str>), LineError>,
) -> bool {
    match read {
        Ok((record, skipped)) => {
            for why in skipped {
                feed.skip(why);
            }
            feed.accept(Ok(record))
        }
        Err(e) => feed.accept(Err(e)),
    }
}

/// Why a task does not fit the export's shape (told by its first task).
fn mismatch(line: u64, n: usize, shape: Shape, got: Option<Shape>, value: &Json) -> LineError {
    let at = task::At { line, n, id: None };
    match (shape, got) {
        (_, None) if value.as_object().is_none() => {
            at.err("", format!("must be an object, not {}", value.kind()))
        }
        (_, None) => at.err(
            "data",
            "is neither a Label Studio task (with a `data` object) nor a JSON_MIN row (with an \
             `id` beside the task's fields)",
        ),
        (Shape::Full, _) => at.err(
            "data",
            "is missing: this row is JSON_MIN, but the export's first task is JSON (with `data`); \
             export the project again in one format",
        ),
        (Shape::Min, _) => at.err(
            "data",
            "this task is JSON (with `data`), but the export's first row is JSON_MIN; export the \
             project again in one format",
        ),
    }
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
