//! The native JSONL item format of DESIGN.md: one item a line.

use crate::feed::{Feeder, Record};
use crate::lines::{LineError, LineReader, RawLine};
use plumbline_domain::{Item, ItemError};
use plumbline_store::ImportMsg;
use std::io::{self, BufRead};
use tokio::sync::mpsc;

pub use crate::feed::{
    DEFAULT_MAX_LINE_BYTES, ReadOptions as NativeOptions, ReadSummary, encode_item,
};

/// Parses one line into an item checked against the project.
/// A line may give a speech-recognition `transcript` in place of `context`
/// ([`crate::whisper`]).
pub fn parse_line(text: &str, line: u64, opts: &NativeOptions) -> Result<Item, LineError> {
    let expanded = if crate::whisper::may_hold(text) {
        crate::whisper::expand_line(text, line, opts)?
    } else {
        None
    };
    let text = expanded.as_deref().unwrap_or(text);
    let item = Item::from_json(text, opts.default_task).map_err(|e| match e {
        ItemError::Json(msg) => LineError::new(line, None, msg),
        ItemError::Invalid(f) => LineError::new(line, Some(f.field), f.reason),
    })?;
    crate::feed::check_item(&item, line, opts)?;
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
    let mut feed = Feeder::new(sink, opts);
    let mut n = 0u64;
    while let Some(raw) = reader.next_line()? {
        let record = match raw {
            RawLine::Text(_, text) if text.trim().is_empty() => continue,
            RawLine::Text(line, text) => parse_line(text, line, opts).map(|item| Record {
                line,
                item,
                external: Vec::new(),
            }),
            RawLine::Bad(e) => Err(e),
        };
        if !feed.accept(record) {
            break;
        }
        n += 1;
        if n.is_multiple_of(1024) {
            progress(reader.bytes_read());
        }
    }
    progress(reader.bytes_read());
    Ok(feed.finish())
}
