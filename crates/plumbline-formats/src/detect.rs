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
    /// TRL preference rows: `chosen`/`rejected` message lists (with an optional
    /// `prompt`), or an explicit `prompt` and two texts; Plumbline's own preference and
    /// reward exports; UltraFeedback binarized.
    Trl,
    /// TRL conversational SFT rows (`messages`); Plumbline's own sft exports.
    TrlSft,
    /// UltraFeedback: a prompt and rated `completions`.
    UltraFeedback,
    /// NVIDIA HelpSteer2 preference rows (`response_1`, `response_2`,
    /// `preference_strength`).
    HelpSteer2Preference,
}

impl Format {
    /// Every format, in the order `--format` lists them.
    pub const ALL: [Format; 11] = [
        Format::Native,
        Format::Csv,
        Format::Parquet,
        Format::HhRlhf,
        Format::Oasst1,
        Format::HelpSteer2,
        Format::LabelStudio,
        Format::Trl,
        Format::TrlSft,
        Format::UltraFeedback,
        Format::HelpSteer2Preference,
    ];

    /// The format `--format` calls `name`.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

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
            Format::Trl => "trl",
            Format::TrlSft => "trl-sft",
            Format::UltraFeedback => "ultrafeedback",
            Format::HelpSteer2Preference => "helpsteer2-preference",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What a field of the first record (or a Parquet column) holds, as far as telling
/// shapes apart needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldKind {
    /// A string (a Parquet byte array).
    Text,
    /// A list (a Parquet LIST or repeated field).
    List,
    /// Anything else: a number, a boolean, an object, null.
    Other,
}

impl FieldKind {
    /// The kind of a JSON value.
    pub fn of(v: &serde_json::Value) -> FieldKind {
        match v {
            serde_json::Value::String(_) => FieldKind::Text,
            serde_json::Value::Array(_) => FieldKind::List,
            _ => FieldKind::Other,
        }
    }
}

/// What a shape asks of a field.
#[derive(Clone, Copy)]
enum Want {
    /// Present, of any kind.
    Any,
    /// A string.
    Text,
    /// A list.
    List,
    /// Present, not a list.
    NotList,
}

impl Want {
    fn fits(self, k: FieldKind) -> bool {
        match self {
            Want::Any => true,
            Want::Text => k == FieldKind::Text,
            Want::List => k == FieldKind::List,
            Want::NotList => k != FieldKind::List,
        }
    }

    fn says(self) -> &'static str {
        match self {
            Want::Any | Want::NotList => "",
            Want::Text => " (text)",
            Want::List => " (a list)",
        }
    }
}

/// A row shape: the fields that mark it and the fields it never has.
struct Shape {
    format: Format,
    marks: &'static [(&'static str, Want)],
    absent: &'static [&'static str],
}

/// The row shapes recognisable from field names (and, where names are shared, from
/// whether the fields are lists or text).
const SHAPES: [Shape; 11] = [
    Shape {
        format: Format::Native,
        marks: &[("id", Want::Any), ("context", Want::Any)],
        absent: &[],
    },
    // Native items whose context is a speech-recognition transcript (`whisper.rs`).
    Shape {
        format: Format::Native,
        marks: &[("id", Want::Any), ("transcript", Want::Any)],
        absent: &[],
    },
    // HH-RLHF: whole dialogues as text, no separate prompt.
    Shape {
        format: Format::HhRlhf,
        marks: &[("chosen", Want::NotList), ("rejected", Want::NotList)],
        absent: &["prompt"],
    },
    // TRL's conversational preference rows (Plumbline's own preference and reward
    // exports, UltraFeedback binarized): message lists.
    Shape {
        format: Format::Trl,
        marks: &[("chosen", Want::List), ("rejected", Want::List)],
        absent: &[],
    },
    // TRL's standard preference rows: an explicit prompt and two texts.
    Shape {
        format: Format::Trl,
        marks: &[
            ("prompt", Want::Text),
            ("chosen", Want::NotList),
            ("rejected", Want::NotList),
        ],
        absent: &[],
    },
    // TRL's conversational SFT rows (Plumbline's own sft exports).
    Shape {
        format: Format::TrlSft,
        marks: &[("messages", Want::List)],
        absent: &["chosen", "rejected", "context"],
    },
    Shape {
        format: Format::Oasst1,
        marks: &[
            ("message_id", Want::Any),
            ("parent_id", Want::Any),
            ("message_tree_id", Want::Any),
        ],
        absent: &[],
    },
    Shape {
        format: Format::HelpSteer2,
        marks: &[
            ("prompt", Want::Any),
            ("response", Want::Any),
            ("helpfulness", Want::Any),
        ],
        absent: &[],
    },
    Shape {
        format: Format::HelpSteer2Preference,
        marks: &[
            ("prompt", Want::Any),
            ("response_1", Want::Any),
            ("response_2", Want::Any),
            ("preference_strength", Want::Any),
        ],
        absent: &[],
    },
    Shape {
        format: Format::UltraFeedback,
        marks: &[("instruction", Want::Any), ("completions", Want::List)],
        absent: &[],
    },
    Shape {
        format: Format::UltraFeedback,
        marks: &[("prompt", Want::Any), ("completions", Want::List)],
        absent: &[],
    },
];

/// The shape whose marking fields `fields` has; `None` when none; an error naming the
/// candidates when several fit.
pub fn shape_of(
    fields: &[(String, FieldKind)],
    what: &str,
) -> Result<Option<(Format, String)>, LineError> {
    let kind = |name: &str| fields.iter().find(|(k, _)| k == name).map(|(_, v)| *v);
    let mut fits: Vec<&Shape> = Vec::new();
    for shape in &SHAPES {
        let fit = shape
            .marks
            .iter()
            .all(|(m, want)| kind(m).is_some_and(|k| want.fits(k)))
            && shape.absent.iter().all(|a| kind(a).is_none());
        if fit && !fits.iter().any(|f| f.format == shape.format) {
            fits.push(shape);
        }
    }
    let marks = |s: &Shape| {
        s.marks
            .iter()
            .map(|(m, w)| format!("`{m}`{}", w.says()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match fits.as_slice() {
        [] => Ok(None),
        [s] => Ok(Some((s.format, format!("{what} with {}", marks(s))))),
        many => Err(LineError::new(
            1,
            None,
            format!(
                "ambiguous input: the {what} fits {} ({}); name the format with --format",
                many.iter()
                    .map(|s| s.format.name())
                    .collect::<Vec<_>>()
                    .join(" and "),
                many.iter()
                    .map(|s| format!("{} has {}", s.format, marks(s)))
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
    /// A JSON object on the first line (JSONL); its fields (none when the line is not
    /// a whole object).
    JsonLines(Vec<(String, FieldKind)>),
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
                Ok(serde_json::Value::Object(m)) => m
                    .iter()
                    .map(|(k, v)| (k.clone(), FieldKind::of(v)))
                    .collect(),
                _ => Vec::new(),
            },
        ));
    }
    Ok(TextKind::Other(text.chars().take(200).collect()))
}

#[cfg(test)]
mod names {
    use super::Format;

    #[test]
    fn every_format_is_found_by_its_name() {
        for f in Format::ALL {
            assert_eq!(Format::from_name(f.name()), Some(f));
        }
        assert_eq!(Format::from_name("auto"), None);
    }
}
