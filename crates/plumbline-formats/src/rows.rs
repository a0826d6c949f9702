//! Row sources: the records of JSONL, CSV and Parquet files as JSON objects, so that
//! each dataset shape (HH-RLHF, oasst1, HelpSteer2, a CSV mapping) is written once and
//! read from any container.

use crate::lines::{LineError, LineReader, RawLine};
use serde_json::{Map, Value};
use std::io::{self, BufRead};

/// One row: its line (or record) number and its fields.
pub type Row = Map<String, Value>;

/// A stream of rows; a bad row is reported and reading may go on.
pub trait RowSource {
    /// The next row, `None` at the end.
    fn next_row(&mut self) -> io::Result<Option<(u64, Result<Row, LineError>)>>;
    /// Bytes consumed so far (for progress), when known.
    fn bytes_read(&self) -> u64;
}

/// Rows of a JSONL file: one JSON object a line; blank lines are skipped.
pub struct JsonlRows<R> {
    reader: LineReader<R>,
}

impl<R: BufRead> JsonlRows<R> {
    /// Reads `input` with lines of at most `max_line_bytes`.
    pub fn new(input: R, max_line_bytes: usize) -> Self {
        JsonlRows {
            reader: LineReader::new(input, max_line_bytes),
        }
    }
}

impl<R: BufRead> RowSource for JsonlRows<R> {
    fn next_row(&mut self) -> io::Result<Option<(u64, Result<Row, LineError>)>> {
        loop {
            return Ok(match self.reader.next_line()? {
                None => None,
                Some(RawLine::Text(_, t)) if t.trim().is_empty() => continue,
                Some(RawLine::Text(line, t)) => Some((line, parse_object(line, t))),
                Some(RawLine::Bad(e)) => Some((e.line, Err(e))),
            });
        }
    }

    fn bytes_read(&self) -> u64 {
        self.reader.bytes_read()
    }
}

/// Parses a line as a JSON object, naming the line and the column of a syntax error.
pub fn parse_object(line: u64, text: &str) -> Result<Row, LineError> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(LineError::new(
            line,
            None,
            format!("expected a JSON object, found {}", json_type(&other)),
        )),
        Err(e) => Err(LineError::new(line, None, json_error(&e))),
    }
}

/// serde_json's message with the column (the line is the caller's).
pub fn json_error(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(pos) => format!("{} (column {})", &msg[..pos], e.column()),
        None => msg,
    };
    if e.is_eof() {
        format!("{msg}; the line ends early (is the file truncated?)")
    } else {
        format!("not valid JSON: {msg}")
    }
}

/// "a string", "an array", …
pub fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Field access that names the row's line, the field and what was expected.
pub struct Fields<'a> {
    /// The row's line.
    pub line: u64,
    /// The row.
    pub row: &'a Row,
}

impl<'a> Fields<'a> {
    /// Wraps a row.
    pub fn new(line: u64, row: &'a Row) -> Self {
        Fields { line, row }
    }

    /// A refusal of `field` for `reason`.
    pub fn error(&self, field: &str, reason: impl Into<String>) -> LineError {
        LineError::new(self.line, Some(field.to_owned()), reason)
    }

    /// A string field that must be present.
    pub fn str(&self, field: &str) -> Result<&'a str, LineError> {
        match self.row.get(field) {
            Some(Value::String(s)) => Ok(s),
            None => Err(self.error(field, "is missing")),
            Some(v) => Err(self.error(field, format!("must be a string, not {}", json_type(v)))),
        }
    }

    /// A string field that may be absent or null.
    pub fn opt_str(&self, field: &str) -> Result<Option<&'a str>, LineError> {
        match self.row.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(v) => Err(self.error(field, format!("must be a string, not {}", json_type(v)))),
        }
    }

    /// An integer field that may be absent or null (an integral float is accepted, as
    /// Parquet and pandas write them).
    pub fn opt_int(&self, field: &str) -> Result<Option<i64>, LineError> {
        match self.row.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => match (n.as_i64(), n.as_f64()) {
                (Some(i), _) => Ok(Some(i)),
                (None, Some(f)) if f.fract() == 0.0 && f.abs() < 1e15 => Ok(Some(f as i64)),
                _ => Err(self.error(field, format!("must be a whole number, got {n}"))),
            },
            Some(Value::String(s)) => s
                .trim()
                .parse::<i64>()
                .map(Some)
                .map_err(|_| self.error(field, format!("must be a whole number, got `{s}`"))),
            Some(v) => Err(self.error(
                field,
                format!("must be a whole number, not {}", json_type(v)),
            )),
        }
    }

    /// A boolean field that may be absent or null (false then).
    pub fn flag(&self, field: &str) -> Result<bool, LineError> {
        match self.row.get(field) {
            None | Some(Value::Null) => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
            Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(false),
            Some(v) => Err(self.error(
                field,
                format!("must be true or false, not {}", json_type(v)),
            )),
        }
    }
}

/// Reads every row of `source` into `on_row` until it says stop; bad rows go to
/// `on_bad`. `progress` gets the bytes read now and then.
pub fn drive(
    source: &mut dyn RowSource,
    mut on_row: impl FnMut(u64, Row) -> bool,
    mut on_bad: impl FnMut(LineError) -> bool,
    mut progress: impl FnMut(u64),
) -> io::Result<()> {
    let mut n = 0u64;
    while let Some((line, row)) = source.next_row()? {
        let go_on = match row {
            Ok(row) => on_row(line, row),
            Err(e) => on_bad(e),
        };
        if !go_on {
            break;
        }
        n += 1;
        if n.is_multiple_of(1024) {
            progress(source.bytes_read());
        }
    }
    progress(source.bytes_read());
    Ok(())
}
