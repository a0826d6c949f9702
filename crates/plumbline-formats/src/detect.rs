//! `--format auto`: what a file holds, from its first bytes and first record, said out
//! loud; input that fits no format, or more than one, is refused with what was seen.

use crate::lines::LineError;
use std::fmt;

/// A dataset shape Plumbline imports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Native JSONL items.
    Native,
    /// CSV with a column mapping.
    Csv,
    /// Parquet with a column mapping (or a known shape, detected from the columns).
    Parquet,
    /// Anthropic HH-RLHF `chosen`/`rejected` dialogues.
    HhRlhf,
    /// OpenAssistant oasst1 message rows.
    Oasst1,
    /// NVIDIA HelpSteer2 rated responses.
    HelpSteer2,
    /// Label Studio JSON export (pairwise, ranker).
    LabelStudio,
}

impl Format {
    /// The name used by `--format`.
    pub fn name(self) -> &'static str {
        match self {
            Format::Native => "native",
            Format::Csv => "csv",
            Format::Parquet => "parquet",
            Format::HhRlhf => "hh-rlhf",
            Format::Oasst1 => "oasst1",
            Format::HelpSteer2 => "helpsteer2",
            Format::LabelStudio => "label-studio",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The row shapes recognisable from field names, with the fields that mark each.
const SHAPES: [(Format, &[&str]); 4] = [
    (Format::Native, &["id", "context"]),
    (Format::HhRlhf, &["chosen", "rejected"]),
    (
        Format::Oasst1,
        &["message_id", "parent_id", "message_tree_id"],
    ),
    (Format::HelpSteer2, &["prompt", "response", "helpfulness"]),
];

/// The shape whose marking fields `keys` has; `None` when none; an error naming the
/// candidates when several fit.
pub fn shape_of<'a>(
    keys: impl Iterator<Item = &'a str> + Clone,
    what: &str,
) -> Result<Option<(Format, String)>, LineError> {
    let fits: Vec<(Format, &[&str])> = SHAPES
        .into_iter()
        .filter(|(_, marks)| marks.iter().all(|m| keys.clone().any(|k| k == *m)))
        .collect();
    match fits.as_slice() {
        [] => Ok(None),
        [(f, marks)] => Ok(Some((
            *f,
            format!(
                "{what} with {}",
                marks
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))),
        many => Err(LineError::new(
            1,
            None,
            format!(
                "ambiguous input: the {what} fits {} ({}); name the format with --format",
                many.iter()
                    .map(|(f, _)| f.name())
                    .collect::<Vec<_>>()
                    .join(" and "),
                many.iter()
                    .map(|(f, m)| format!("{f} has {}", m.join(", ")))
                    .collect::<Vec<_>>()
                    .join("; ")
            ),
        )),
    }
}

/// What the start of a text file looks like.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextKind {
    /// A JSON array (Label Studio's export).
    JsonArray,
    /// A JSON object on the first line (JSONL); its keys (none when the line is not
    /// a whole object).
    JsonLines(Vec<String>),
    /// Anything else: CSV at best; the first line.
    Other(String),
}

/// Classifies the first line of a text file.
pub fn classify(first_line: &[u8]) -> Result<TextKind, LineError> {
    let text = std::str::from_utf8(first_line).map_err(|e| {
        LineError::new(
            1,
            None,
            format!(
                "invalid UTF-8 at byte {} of the line: this is not a text format Plumbline reads",
                e.valid_up_to() + 1
            ),
        )
    })?;
    let text = text.trim_start_matches('\u{feff}').trim();
    if text.starts_with('[') {
        return Ok(TextKind::JsonArray);
    }
    if text.starts_with('{') {
        // A first line that is not a whole object still reads as JSONL: the native
        // reader then names what is wrong with it.
        return Ok(TextKind::JsonLines(
            match serde_json::from_str::<serde_json::Value>(text) {
                Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
                _ => Vec::new(),
            },
        ));
    }
    Ok(TextKind::Other(text.chars().take(200).collect()))
}
