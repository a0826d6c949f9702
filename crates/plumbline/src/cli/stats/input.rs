//! Reading long-format CSV or JSONL files into rows of named fields, with line numbers.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};

/// File format; inferred from the extension when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Comma-separated values with a header line.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

/// The input file and how to print.
#[derive(Debug, Args)]
pub struct InputArgs {
    /// The labelled file (long format, CSV with a header line or JSONL).
    #[arg(long, short = 'i')]
    pub input: PathBuf,
    /// Format of the input files [default: from the extension: .jsonl/.ndjson are JSONL, the rest CSV].
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

/// One data row: its line number and the requested columns' values (`None`: absent or empty).
#[derive(Debug, Clone)]
pub struct Row {
    /// 1-based line number in the file.
    pub line: u64,
    /// Values in the order of the columns asked for.
    pub fields: Vec<Option<String>>,
}

impl Row {
    /// The value of column `i`, which must be a required column (present and non-empty).
    pub fn req(&self, i: usize) -> &str {
        self.fields[i].as_deref().unwrap_or_default()
    }
}

/// Rows of one file, with the path for messages.
#[derive(Debug)]
pub struct Table {
    /// The file, as given.
    pub path: PathBuf,
    /// Data rows in file order.
    pub rows: Vec<Row>,
}

impl Table {
    /// "FILE: line N" for messages.
    pub fn at(&self, line: u64) -> String {
        format!("{}: line {line}", self.path.display())
    }
}

fn format_of(path: &Path, given: Option<Format>) -> Format {
    given.unwrap_or_else(|| {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("jsonl" | "ndjson") => Format::Jsonl,
            _ => Format::Csv,
        }
    })
}

/// Reads `path`, keeping the `required` columns (each must be present and non-empty on every
/// row, except those listed in `may_be_empty`) and the `optional` ones.
pub fn read(
    path: &Path,
    format: Option<Format>,
    required: &[&str],
    may_be_empty: &[&str],
    optional: &[&str],
) -> anyhow::Result<Table> {
    let columns: Vec<&str> = required.iter().chain(optional).copied().collect();
    let rows = match format_of(path, format) {
        Format::Csv => read_csv(path, &columns, required.len())?,
        Format::Jsonl => read_jsonl(path, &columns, required.len())?,
    };
    let table = Table {
        path: path.to_path_buf(),
        rows,
    };
    for row in &table.rows {
        for (i, name) in required.iter().enumerate() {
            if row.fields[i].is_none() && !may_be_empty.contains(name) {
                bail!("{}: the '{name}' field is empty", table.at(row.line));
            }
        }
    }
    if table.rows.is_empty() {
        bail!(
            "{}: no data rows (the file has a header only, or only blank lines)",
            path.display()
        );
    }
    Ok(table)
}

fn read_csv(path: &Path, columns: &[&str], n_required: usize) -> anyhow::Result<Vec<Row>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .flexible(false)
        .from_reader(BufReader::new(file));
    let headers = rdr.headers().map_err(|e| csv_error(path, e))?.clone();
    if headers.is_empty() || (headers.len() == 1 && headers[0].is_empty()) {
        bail!(
            "{}: the file is empty (expected a header line with the columns {})",
            path.display(),
            columns[..n_required].join(",")
        );
    }
    let mut index = Vec::with_capacity(columns.len());
    for (c, name) in columns.iter().enumerate() {
        let pos = headers.iter().position(|h| h.eq_ignore_ascii_case(name));
        if pos.is_none() && c < n_required {
            bail!(
                "{}: line 1: missing column '{name}' (the header has: {})",
                path.display(),
                headers.iter().collect::<Vec<_>>().join(", ")
            );
        }
        index.push(pos);
    }
    let mut rows = Vec::new();
    let mut record = csv::StringRecord::new();
    loop {
        match rdr.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                let line = record.position().map_or(0, csv::Position::line);
                let fields = index
                    .iter()
                    .map(|i| {
                        i.and_then(|i| record.get(i))
                            .filter(|s| !s.is_empty())
                            .map(str::to_owned)
                    })
                    .collect();
                rows.push(Row { line, fields });
            }
            Err(e) => return Err(csv_error(path, e)),
        }
    }
    Ok(rows)
}

fn csv_error(path: &Path, e: csv::Error) -> anyhow::Error {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            pos,
            expected_len,
            len,
        } => anyhow::anyhow!(
            "{}: line {}: the row has {len} fields but the header has {expected_len}",
            path.display(),
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        csv::ErrorKind::Utf8 { pos, .. } => anyhow::anyhow!(
            "{}: line {}: not valid UTF-8",
            path.display(),
            pos.as_ref().map_or(0, csv::Position::line)
        ),
        _ => anyhow::anyhow!("{}: {e}", path.display()),
    }
}

fn read_jsonl(path: &Path, columns: &[&str], n_required: usize) -> anyhow::Result<Vec<Row>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut rows = Vec::new();
    let mut any_line = false;
    for (n, line) in BufReader::new(file).lines().enumerate() {
        let line_no = n as u64 + 1;
        let text =
            line.with_context(|| format!("{}: line {line_no}: cannot read", path.display()))?;
        if text.trim().is_empty() {
            continue;
        }
        any_line = true;
        let value: serde_json::Value = serde_json::from_str(&text)
            .with_context(|| format!("{}: line {line_no}: not valid JSON", path.display()))?;
        let Some(obj) = value.as_object() else {
            bail!("{}: line {line_no}: expected a JSON object", path.display());
        };
        let mut fields = Vec::with_capacity(columns.len());
        for (c, name) in columns.iter().enumerate() {
            let field = match obj.get(*name) {
                None if c < n_required => {
                    bail!("{}: line {line_no}: missing field '{name}'", path.display())
                }
                None | Some(serde_json::Value::Null) => None,
                Some(serde_json::Value::String(s)) => {
                    Some(s.trim().to_owned()).filter(|s| !s.is_empty())
                }
                Some(serde_json::Value::Number(x)) => Some(x.to_string()),
                Some(serde_json::Value::Bool(b)) => Some(b.to_string()),
                Some(_) => bail!(
                    "{}: line {line_no}: field '{name}' must be a string, a number or a boolean",
                    path.display()
                ),
            };
            fields.push(field);
        }
        rows.push(Row {
            line: line_no,
            fields,
        });
    }
    if !any_line {
        bail!("{}: the file is empty", path.display());
    }
    Ok(rows)
}
