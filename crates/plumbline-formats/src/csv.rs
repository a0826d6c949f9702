//! CSV (and flat Parquet) rows mapped onto items by a column mapping, given by flags or
//! a TOML file:
//!
//! ```toml
//! id = "ticket"                     # optional; default: a hash of the row's content
//! system = "instructions"           # optional system turn
//! prompt = "question"               # the user turn (required)
//! candidates = ["answer_a", "answer_b"]  # one column per candidate
//! candidate_ids = ["a", "b"]        # optional; default: the column names
//! task = "preference"               # optional; default: the project's task kind
//! tags = "tags"                     # optional; split on `;`
//! metadata = ["channel", "region"]  # optional; copied into the item's metadata
//! winner = "preferred"              # optional; a candidate id (or column) or `tie`:
//!                                   # an external preference judgment, source `csv`
//! ```
//!
//! CSV is read as a stream of records (the `csv` crate): a header row, then one item a
//! record; a record with another field count (a truncated file), invalid UTF-8 or a
//! missing column is refused with its line and the column's name.

use crate::feed::{Feeder, Record, content_id};
use crate::lines::LineError;
use crate::rows::{Row, RowSource, json_type};
use plumbline_domain::judgment::Choice;
use plumbline_domain::{Candidate, Item, Role, TaskKind, Turn};
use plumbline_store::ExternalJudgment;
use serde::Deserialize;
use serde_json::Value;
use std::cell::RefCell;
use std::collections::VecDeque;
use std::io::{self, Read};
use std::rc::Rc;

/// The `external_source` of judgments this importer stores.
pub const SOURCE: &str = "csv";

/// Which column holds what.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// Column of the item id; absent: `csv-` and a hash of the row.
    #[serde(default)]
    pub id: Option<String>,
    /// Column of a system turn.
    #[serde(default)]
    pub system: Option<String>,
    /// Column of the user turn.
    pub prompt: String,
    /// Columns of the candidates, in order.
    #[serde(default)]
    pub candidates: Vec<String>,
    /// Candidate ids; default: the column names.
    #[serde(default)]
    pub candidate_ids: Option<Vec<String>>,
    /// Task kind of every item.
    #[serde(default)]
    pub task: Option<TaskKind>,
    /// Column of `;`-separated tags.
    #[serde(default)]
    pub tags: Option<String>,
    /// Columns copied into metadata.
    #[serde(default)]
    pub metadata: Vec<String>,
    /// Column naming the preferred candidate (id or column name) or `tie`.
    #[serde(default)]
    pub winner: Option<String>,
    /// Column of the path of the call's audio (relative to the file or the media
    /// directory); an empty cell means no audio.
    #[serde(default)]
    pub media: Option<String>,
}

impl Mapping {
    /// Parses a TOML mapping file's text.
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        let m: Mapping = toml::from_str(text).map_err(|e| e.to_string())?;
        m.check()?;
        Ok(m)
    }

    /// Refuses a mapping that cannot work whatever the file.
    pub fn check(&self) -> Result<(), String> {
        if let Some(ids) = &self.candidate_ids
            && ids.len() != self.candidates.len()
        {
            return Err(format!(
                "candidate_ids names {} ids for {} candidate columns",
                ids.len(),
                self.candidates.len()
            ));
        }
        if self.winner.is_some() && self.candidates.len() != 2 {
            return Err("a winner column needs exactly two candidate columns".into());
        }
        Ok(())
    }

    /// Every column the mapping names (checked against the header once).
    pub fn columns(&self) -> Vec<&str> {
        let mut c: Vec<&str> = vec![self.prompt.as_str()];
        c.extend(self.id.as_deref());
        c.extend(self.system.as_deref());
        c.extend(self.candidates.iter().map(String::as_str));
        c.extend(self.tags.as_deref());
        c.extend(self.metadata.iter().map(String::as_str));
        c.extend(self.winner.as_deref());
        c.extend(self.media.as_deref());
        c
    }
}

/// Remembers where the newlines of the bytes read so far are, so a record's byte
/// offset can be turned into its line (the `csv` crate's own line count is off after
/// `\r\n` endings). Only newlines not yet passed by a record are kept: at most one
/// read-ahead buffer's worth.
struct Newlines<R> {
    inner: R,
    offset: u64,
    seen: Rc<RefCell<VecDeque<u64>>>,
}

impl<R: Read> Read for Newlines<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut seen = self.seen.borrow_mut();
        for i in memchr::memchr_iter(b'\n', &buf[..n]) {
            seen.push_back(self.offset + i as u64);
        }
        self.offset += n as u64;
        Ok(n)
    }
}

/// Rows of a CSV file with a header, as string-valued rows.
pub struct CsvRows<R> {
    reader: ::csv::Reader<Newlines<R>>,
    newlines: Rc<RefCell<VecDeque<u64>>>,
    passed: u64,
    header: Vec<String>,
    record: ::csv::ByteRecord,
    max_bytes: usize,
    bytes: u64,
}

impl<R: Read> CsvRows<R> {
    /// Reads the header; a file without one is refused.
    pub fn new(input: R, max_bytes: usize) -> Result<Self, LineError> {
        let newlines = Rc::new(RefCell::new(VecDeque::new()));
        let mut reader = ::csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .from_reader(Newlines {
                inner: input,
                offset: 0,
                seen: newlines.clone(),
            });
        let header = reader
            .byte_headers()
            .map_err(|e| LineError::new(1, None, format!("cannot read the CSV header: {e}")))?
            .clone();
        let mut names = Vec::with_capacity(header.len());
        for (i, h) in header.iter().enumerate() {
            let name = std::str::from_utf8(h).map_err(|_| {
                LineError::new(
                    1,
                    Some(format!("column {}", i + 1)),
                    "invalid UTF-8 in the header",
                )
            })?;
            names.push(name.trim_start_matches('\u{feff}').to_owned());
        }
        if names.iter().all(|n| n.is_empty()) {
            return Err(LineError::new(
                1,
                None,
                "the file has no CSV header (it is empty)",
            ));
        }
        Ok(CsvRows {
            reader,
            newlines,
            passed: 0,
            header: names,
            record: ::csv::ByteRecord::new(),
            max_bytes,
            bytes: 0,
        })
    }

    /// The column names.
    pub fn header(&self) -> &[String] {
        &self.header
    }

    /// The 1-based line of a record starting at byte `offset` (offsets only grow). After
    /// `\r\n` the reader may report the `\n` as the next record's start, so a newline at
    /// `offset` itself counts as passed.
    fn line_at(&mut self, offset: u64) -> u64 {
        let mut seen = self.newlines.borrow_mut();
        while seen.front().is_some_and(|&nl| nl <= offset) {
            seen.pop_front();
            self.passed += 1;
        }
        self.passed + 1
    }
}

impl<R: Read> RowSource for CsvRows<R> {
    fn next_row(&mut self) -> io::Result<Option<(u64, Result<Row, LineError>)>> {
        match self.reader.read_byte_record(&mut self.record) {
            Ok(false) => Ok(None),
            Ok(true) => {
                self.bytes = self.record.position().map_or(self.bytes, |p| p.byte());
                let line = self.line_at(self.bytes);
                if self.record.as_slice().len() > self.max_bytes {
                    return Ok(Some((
                        line,
                        Err(LineError::new(
                            line,
                            None,
                            format!(
                                "record is longer than the limit of {} bytes",
                                self.max_bytes
                            ),
                        )),
                    )));
                }
                let mut row = Row::new();
                for (name, field) in self.header.iter().zip(self.record.iter()) {
                    match std::str::from_utf8(field) {
                        Ok(s) => {
                            row.insert(name.clone(), Value::String(s.to_owned()));
                        }
                        Err(e) => {
                            return Ok(Some((
                                line,
                                Err(LineError::new(
                                    line,
                                    Some(name.clone()),
                                    format!(
                                        "invalid UTF-8 at byte {} of the field",
                                        e.valid_up_to() + 1
                                    ),
                                )),
                            )));
                        }
                    }
                }
                Ok(Some((line, Ok(row))))
            }
            Err(e) => {
                let line = match e.position() {
                    Some(p) => self.line_at(p.byte()),
                    None => 0,
                };
                let reason = match e.kind() {
                    ::csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!(
                        "has {len} fields where the header has {expected_len} (is the file truncated, or a quote unclosed?)"
                    ),
                    ::csv::ErrorKind::Io(_) => return Err(io::Error::other(e.to_string())),
                    _ => e.to_string(),
                };
                // The reader cannot resynchronise reliably after a broken record.
                Ok(Some((line, Err(LineError::new(line, None, reason)))))
            }
        }
    }

    fn bytes_read(&self) -> u64 {
        self.bytes
    }
}

/// Refuses a mapping naming a column the file lacks.
pub fn check_columns(mapping: &Mapping, header: &[String]) -> Result<(), LineError> {
    for c in mapping.columns() {
        if !header.iter().any(|h| h == c) {
            return Err(LineError::new(
                1,
                Some(c.to_owned()),
                format!(
                    "the mapping names column `{c}`, which the file lacks; its columns are {}",
                    header
                        .iter()
                        .map(|h| format!("`{h}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(())
}

fn text<'a>(row: &'a Row, line: u64, col: &str) -> Result<&'a str, LineError> {
    match row.get(col) {
        Some(Value::String(s)) => Ok(s),
        Some(Value::Null) | None => Err(LineError::new(line, Some(col.to_owned()), "is missing")),
        Some(v) => Err(LineError::new(
            line,
            Some(col.to_owned()),
            format!("must be text, not {}", json_type(v)),
        )),
    }
}

fn turn(role: Role, content: &str) -> Turn {
    Turn {
        role,
        content: content.to_owned(),
        speaker: None,
        start: None,
        end: None,
        asr_confidence: None,
        interrupted: false,
        overlap: false,
        redacted: Vec::new(),
    }
}

/// One mapped row as an item.
pub fn record(mapping: &Mapping, line: u64, row: &Row) -> Result<Record, LineError> {
    let mut context = Vec::new();
    if let Some(col) = &mapping.system {
        let s = text(row, line, col)?;
        if !s.trim().is_empty() {
            context.push(turn(Role::System, s));
        }
    }
    let prompt = text(row, line, &mapping.prompt)?;
    context.push(turn(Role::User, prompt));
    let mut candidates = Vec::with_capacity(mapping.candidates.len());
    for (i, col) in mapping.candidates.iter().enumerate() {
        let id = mapping
            .candidate_ids
            .as_ref()
            .map_or(col.as_str(), |ids| ids[i].as_str());
        candidates.push(Candidate {
            id: id.to_owned(),
            model: None,
            content: text(row, line, col)?.to_owned(),
        });
    }
    let id = match &mapping.id {
        Some(col) => text(row, line, col)?.to_owned(),
        None => {
            let mut parts: Vec<&str> = vec![prompt];
            parts.extend(candidates.iter().map(|c| c.content.as_str()));
            content_id("csv", &parts)
        }
    };
    let tags = match &mapping.tags {
        Some(col) => text(row, line, col)?
            .split(';')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        None => Vec::new(),
    };
    let mut metadata = serde_json::Map::new();
    for col in &mapping.metadata {
        metadata.insert(col.clone(), row.get(col).cloned().unwrap_or(Value::Null));
    }
    let mut external = Vec::new();
    if let Some(col) = &mapping.winner {
        let w = text(row, line, col)?.trim();
        let choice = if w.eq_ignore_ascii_case("tie") {
            Some(Choice::Tie)
        } else if w.is_empty() {
            None
        } else {
            let pos = mapping
                .candidates
                .iter()
                .position(|c| c == w)
                .or_else(|| candidates.iter().position(|c| c.id == w));
            match pos {
                Some(p) => Some(Choice::Candidate(candidates[p].id.clone())),
                None => {
                    return Err(LineError::new(
                        line,
                        Some(col.clone()),
                        format!(
                            "`{w}` names no candidate (expected {} or `tie`)",
                            candidates
                                .iter()
                                .map(|c| format!("`{}`", c.id))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    ));
                }
            }
        };
        if let Some(winner) = choice {
            external.push(ExternalJudgment {
                source: SOURCE.into(),
                task: TaskKind::Preference,
                payload: crate::feed::imported_preference(&winner, None, Default::default(), None),
                rationale: Some(format!("column `{col}` of the imported file")),
                time_ms: None,
                gold_candidate: false,
            });
        }
    }
    let item = Item {
        id,
        context,
        candidates,
        // A winner column makes preference judgments, so its items are preference items.
        task: mapping
            .task
            .or(mapping.winner.as_ref().map(|_| TaskKind::Preference)),
        tags,
        requires: Vec::new(),
        metadata,
        split: None,
        media: match &mapping.media {
            Some(col) => {
                let path = text(row, line, col)?.trim();
                (!path.is_empty()).then(|| plumbline_domain::MediaRef {
                    path: Some(path.to_owned()),
                    ..Default::default()
                })
            }
            None => None,
        },
    };
    if !external.is_empty() && item.task != Some(TaskKind::Preference) {
        return Err(LineError::new(
            line,
            mapping.winner.clone(),
            "a winner column makes preference judgments, but the items are not preference items",
        ));
    }
    Ok(Record {
        line,
        item,
        external,
    })
}

/// Feeds a mapped row; false when reading should stop.
pub fn on_row(mapping: &Mapping, feed: &mut Feeder<'_>, line: u64, row: &Row) -> bool {
    feed.accept(record(mapping, line, row))
}
