//! The native JSONL item format of DESIGN.md: one item a line.

use crate::lines::{LineError, LineReader, RawLine};
use plumbline_domain::{Item, ItemError, TaskKind};
use plumbline_store::{BATCH, ImportMsg, NewItem};
use sha2::{Digest, Sha256};
use std::collections::HashSet;
use std::io::{self, BufRead};
use tokio::sync::mpsc;

/// How to read a native file.
#[derive(Debug, Clone)]
pub struct NativeOptions {
    /// Task kind of items that name none (the project's).
    pub default_task: TaskKind,
    /// Edge-case keys of the project's rubric; `edge:` tags must name one of them.
    pub edge_cases: HashSet<String>,
    /// Longest line accepted, in bytes.
    pub max_line_bytes: usize,
    /// Report up to this many bad lines instead of stopping at the first.
    pub report_errors: usize,
}

/// Default line cap: 16 MiB, far above any real item and small enough to bound memory.
pub const DEFAULT_MAX_LINE_BYTES: usize = 16 << 20;

/// What the reader saw.
#[derive(Debug, Default)]
pub struct ReadSummary {
    /// Lines that held an item (good or bad).
    pub records: u64,
    /// The bad lines reported (at most `report_errors`, at least the first).
    pub errors: Vec<LineError>,
    /// How many lines were bad in all.
    pub error_count: u64,
    /// Whether the store stopped listening early (it found a conflict).
    pub store_stopped: bool,
}

/// Turns a validated item into the store's input: canonical JSON and its SHA-256.
pub fn encode_item(item: &Item, line: u64, default_task: TaskKind) -> NewItem {
    let body = serde_json::to_string(item).expect("an item always serializes");
    let content_hash: [u8; 32] = Sha256::digest(body.as_bytes()).into();
    NewItem {
        line,
        ext_id: item.id.clone(),
        task: item.task_or(default_task),
        split: item.split,
        body,
        content_hash,
        external: Vec::new(),
    }
}

/// Parses one line into an item checked against the project.
pub fn parse_line(text: &str, line: u64, opts: &NativeOptions) -> Result<Item, LineError> {
    let item = Item::from_json(text, opts.default_task).map_err(|e| match e {
        ItemError::Json(msg) => LineError::new(line, None, msg),
        ItemError::Invalid(f) => LineError::new(line, Some(f.field), f.reason),
    })?;
    for (i, tag) in item.tags.iter().enumerate() {
        if let Some(key) = tag.strip_prefix(plumbline_domain::item::EDGE_TAG_PREFIX)
            && !opts.edge_cases.contains(key)
        {
            return Err(LineError::new(
                line,
                Some(format!("tags[{i}]")),
                format!("edge case `{key}` is not defined by the project's rubric"),
            ));
        }
    }
    Ok(item)
}

/// Reads native JSONL from `input`, sending valid items in batches to `sink` and
/// finishing with a commit request only when every line was good. Once a line is bad
/// no more items are sent (nothing will be stored), but reading goes on to report up
/// to `report_errors` bad lines. `progress` is called with the bytes read so far.
pub fn read_native(
    input: impl BufRead,
    opts: &NativeOptions,
    sink: &mpsc::Sender<ImportMsg>,
    mut progress: impl FnMut(u64),
) -> io::Result<ReadSummary> {
    let mut reader = LineReader::new(input, opts.max_line_bytes);
    let mut summary = ReadSummary::default();
    let mut batch = Vec::with_capacity(BATCH);
    let keep = opts.report_errors.max(1);
    loop {
        let raw = match reader.next_line()? {
            None => break,
            Some(raw) => raw,
        };
        let parsed = match raw {
            RawLine::Text(_, text) if text.trim().is_empty() => continue,
            RawLine::Text(line, text) => {
                parse_line(text, line, opts).map(|item| encode_item(&item, line, opts.default_task))
            }
            RawLine::Bad(e) => Err(e),
        };
        summary.records += 1;
        match parsed {
            Ok(item) if summary.error_count == 0 => {
                batch.push(item);
                if batch.len() == BATCH {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                    if sink.blocking_send(ImportMsg::Items(full)).is_err() {
                        summary.store_stopped = true;
                        return Ok(summary);
                    }
                    progress(reader.bytes_read());
                }
            }
            Ok(_) => {}
            Err(e) => {
                summary.error_count += 1;
                batch.clear();
                if summary.errors.len() < keep {
                    summary.errors.push(e);
                }
                if summary.error_count as usize >= keep {
                    break;
                }
            }
        }
    }
    progress(reader.bytes_read());
    if summary.records == 0 && summary.error_count == 0 {
        summary.error_count = 1;
        summary.errors.push(LineError::new(
            0,
            None,
            "the file holds no items (it is empty)",
        ));
    }
    let clean = summary.error_count == 0;
    if clean && !batch.is_empty() && sink.blocking_send(ImportMsg::Items(batch)).is_err() {
        summary.store_stopped = true;
        return Ok(summary);
    }
    if sink
        .blocking_send(ImportMsg::Finish { commit: clean })
        .is_err()
    {
        summary.store_stopped = true;
    }
    Ok(summary)
}
