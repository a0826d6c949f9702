//! One entry point for every import format: detect (or take) the format, pick the
//! container reader (JSONL, CSV, Parquet, a JSON array) and the shape, and feed the
//! store's import channel.

use crate::csv::{CsvRows, Mapping, check_columns};
use crate::detect::{Format, TextKind, classify, shape_of};
use crate::feed::{Feeder, ReadOptions, ReadSummary};
use crate::lines::LineError;
use crate::rows::{JsonlRows, Row, RowSource, drive};
use crate::{helpsteer2, hh_rlhf, label_studio, oasst1, parquet, trl, ultrafeedback};
use plumbline_store::ImportMsg;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read, Seek};
use tokio::sync::mpsc;

/// Where the bytes come from. Parquet needs a file (its index is at the end).
pub enum Input {
    /// A file on disk.
    File(File),
    /// Standard input or any other stream.
    Stream(Box<dyn BufRead + Send>),
}

/// What was read, and why the format was chosen.
#[derive(Debug, Clone)]
pub struct Detected {
    /// The format read.
    pub format: Format,
    /// How it was told (`--format`, or what auto-detection saw).
    pub why: String,
}

/// The result of an import read: what was detected (when anything was) and the summary.
pub struct ReadOutcome {
    /// The format, when known.
    pub detected: Option<Detected>,
    /// What the reader saw.
    pub summary: ReadSummary,
}

/// Reads `input` as `format` (`None`: detect it), sending items to `sink`.
pub fn read(
    input: Input,
    format: Option<Format>,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
    sink: &mpsc::Sender<ImportMsg>,
    progress: impl FnMut(u64),
) -> io::Result<ReadOutcome> {
    let fail = |e: LineError, detected: Option<Detected>| {
        let mut feed = Feeder::new(sink, opts);
        feed.refuse(e);
        Ok(ReadOutcome {
            detected,
            summary: feed.finish(),
        })
    };
    let stream: Box<dyn BufRead + Send> = match input {
        Input::File(mut file) => {
            let mut magic = [0u8; 4];
            let n = read_up_to(&mut file, &mut magic)?;
            file.rewind()?;
            if n == 4 && &magic == parquet::MAGIC {
                return read_parquet(file, format, mapping, opts, sink, progress);
            }
            if format == Some(Format::Parquet) {
                return fail(
                    LineError::new(
                        0,
                        None,
                        "not a Parquet file (it does not start with `PAR1`)",
                    ),
                    None,
                );
            }
            Box::new(BufReader::with_capacity(1 << 20, file))
        }
        Input::Stream(s) => {
            if format == Some(Format::Parquet) {
                return fail(
                    LineError::new(
                        0,
                        None,
                        "Parquet is read from a file, not from standard input",
                    ),
                    None,
                );
            }
            s
        }
    };
    // A gzip or zstd stream (told by its magic bytes) is read through its decoder.
    let (stream, codec) = crate::compressed::open(stream)?;
    let compressed = |why: String| match codec {
        Some(c) => format!("{c}-compressed: {why}"),
        None => why,
    };
    // Keep the first line aside to look at it, then read it again with the rest.
    let mut stream = stream;
    let mut first = Vec::new();
    (&mut stream)
        .take(opts.max_line_bytes as u64 + 2)
        .read_until(b'\n', &mut first)?;
    let empty = first.iter().all(u8::is_ascii_whitespace);
    let whole: Box<dyn BufRead + Send> = Box::new(Cursor::new(first.clone()).chain(stream));
    let detected = match format {
        Some(f) => Detected {
            format: f,
            why: "named by --format".into(),
        },
        None if empty => {
            return fail(
                LineError::new(0, None, "the file holds no items (it is empty)"),
                None,
            );
        }
        None => match detect_text(&first, mapping.is_some()) {
            Ok(d) => d,
            Err(e) => return fail(e, None),
        },
    };
    let detected = Detected {
        why: compressed(detected.why),
        ..detected
    };
    let summary = read_shape(whole, detected.format, mapping, opts, sink, progress)?;
    Ok(ReadOutcome {
        detected: Some(detected),
        summary,
    })
}

fn read_up_to(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..])? {
            0 => break,
            k => n += k,
        }
    }
    Ok(n)
}

fn detect_text(first: &[u8], have_mapping: bool) -> Result<Detected, LineError> {
    match classify(first)? {
        TextKind::JsonArray => Ok(Detected {
            format: Format::LabelStudio,
            why: "a JSON array of tasks".into(),
        }),
        TextKind::JsonLines(keys) => {
            match shape_of(&keys, "JSONL record")? {
                Some((format, why)) => Ok(Detected { format, why }),
                // JSONL of no other shape is read as native items, whose reader names
                // what is missing or wrong line by line.
                None => Ok(Detected {
                    format: Format::Native,
                    why: format!(
                        "JSONL whose first record ({}) fits no dataset shape, read as native items",
                        if keys.is_empty() {
                            "not a whole JSON object".to_owned()
                        } else {
                            let names: Vec<String> = keys.into_iter().map(|(k, _)| k).collect();
                            format!("fields {}", list(&names))
                        }
                    ),
                }),
            }
        }
        TextKind::Other(_) if have_mapping => Ok(Detected {
            format: Format::Csv,
            why: "text that is not JSON, with a column mapping".into(),
        }),
        TextKind::Other(line) => Err(LineError::new(
            1,
            None,
            format!(
                "cannot tell the format: the file is neither JSONL nor a JSON array (it starts \
                 `{}`); if it is CSV, give a column mapping (--prompt-column and \
                 --candidate-column, or --mapping FILE)",
                line.chars().take(80).collect::<String>()
            ),
        )),
    }
}

fn list(keys: &[String]) -> String {
    keys.iter()
        .map(|k| format!("`{k}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn read_parquet(
    file: File,
    format: Option<Format>,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
    sink: &mpsc::Sender<ImportMsg>,
    progress: impl FnMut(u64),
) -> io::Result<ReadOutcome> {
    let mut feed = Feeder::new(sink, opts);
    let (columns, mut rows) = match parquet::open_shaped(file) {
        Ok(x) => x,
        Err(e) => {
            feed.refuse(e);
            return Ok(ReadOutcome {
                detected: None,
                summary: feed.finish(),
            });
        }
    };
    let names: Vec<String> = columns.iter().map(|(n, _)| n.clone()).collect();
    let detected = match format {
        None | Some(Format::Parquet | Format::Csv) if mapping.is_some() => Ok(Detected {
            format: Format::Parquet,
            why: "Parquet with a column mapping".into(),
        }),
        Some(
            f @ (Format::HhRlhf
            | Format::Oasst1
            | Format::HelpSteer2
            | Format::Trl
            | Format::TrlSft
            | Format::UltraFeedback
            | Format::HelpSteer2Preference),
        ) => Ok(Detected {
            format: f,
            why: "named by --format (a Parquet file)".into(),
        }),
        Some(f @ (Format::Native | Format::LabelStudio)) => Err(LineError::new(
            0,
            None,
            format!("this is a Parquet file; {f} is read from JSON"),
        )),
        _ => match shape_of(&columns, "Parquet schema") {
            Ok(Some((Format::Native, _))) | Ok(None) => Err(LineError::new(
                0,
                None,
                format!(
                    "cannot tell the shape of this Parquet file (columns {}); give a column \
                     mapping (--prompt-column, --candidate-column or --mapping FILE) or --format",
                    list(&names)
                ),
            )),
            Ok(Some((f, why))) => Ok(Detected { format: f, why }),
            Err(e) => Err(e),
        },
    };
    let detected = match detected {
        Ok(d) => d,
        Err(e) => {
            feed.refuse(e);
            return Ok(ReadOutcome {
                detected: None,
                summary: feed.finish(),
            });
        }
    };
    if detected.format == Format::Parquet
        && let Some(m) = mapping
        && let Err(e) = check_columns(m, &names)
    {
        feed.refuse(e);
    } else {
        rows_into(&mut rows, detected.format, mapping, &mut feed, progress)?;
    }
    Ok(ReadOutcome {
        detected: Some(detected),
        summary: feed.finish(),
    })
}

/// Reads a text stream of a known format.
fn read_shape(
    input: Box<dyn BufRead + Send>,
    format: Format,
    mapping: Option<&Mapping>,
    opts: &ReadOptions,
    sink: &mpsc::Sender<ImportMsg>,
    mut progress: impl FnMut(u64),
) -> io::Result<ReadSummary> {
    if format == Format::Native {
        return crate::native::read_native(input, opts, sink, progress);
    }
    let mut feed = Feeder::new(sink, opts);
    match format {
        Format::LabelStudio => label_studio::read(input, &mut feed, &mut progress)?,
        Format::Csv | Format::Parquet => match mapping {
            None => {
                feed.refuse(LineError::new(
                    0,
                    None,
                    "CSV needs a column mapping: --prompt-column and --candidate-column (and \
                     optionally --id-column, --winner-column, …) or --mapping FILE",
                ));
            }
            Some(m) => match CsvRows::new(input, opts.max_line_bytes) {
                Err(e) => {
                    feed.refuse(e);
                }
                Ok(mut rows) => match check_columns(m, rows.header()) {
                    Err(e) => {
                        feed.refuse(e);
                    }
                    Ok(()) => rows_into(&mut rows, Format::Csv, mapping, &mut feed, progress)?,
                },
            },
        },
        _ => {
            let mut rows = JsonlRows::new(input, opts.max_line_bytes);
            rows_into(&mut rows, format, mapping, &mut feed, progress)?;
        }
    }
    Ok(feed.finish())
}

/// Feeds every row of `rows` through the converter of `format`.
fn rows_into(
    rows: &mut dyn RowSource,
    format: Format,
    mapping: Option<&Mapping>,
    feed: &mut Feeder<'_>,
    progress: impl FnMut(u64),
) -> io::Result<()> {
    enum Shape<'m> {
        Hh,
        Trl,
        Sft(Box<trl::Sft>),
        Uf,
        Hs2Pref,
        Oasst(oasst1::Trees),
        Hs2(helpsteer2::Groups),
        Mapped(&'m Mapping),
    }
    let mut shape = match format {
        Format::HhRlhf => Shape::Hh,
        Format::Trl => Shape::Trl,
        Format::TrlSft => Shape::Sft(Box::new(trl::Sft::new())),
        Format::UltraFeedback => Shape::Uf,
        Format::HelpSteer2Preference => Shape::Hs2Pref,
        Format::Oasst1 => Shape::Oasst(oasst1::Trees::new()),
        Format::HelpSteer2 => {
            if let Err(e) = helpsteer2::check_rubric(&feed.options().criteria) {
                feed.refuse(e);
                return Ok(());
            }
            Shape::Hs2(helpsteer2::Groups::new())
        }
        _ => match mapping {
            Some(m) => Shape::Mapped(m),
            None => {
                feed.refuse(LineError::new(0, None, "a column mapping is needed"));
                return Ok(());
            }
        },
    };
    // Both closures need the feeder; a cell lets them take turns.
    let feed = std::cell::RefCell::new(feed);
    drive(
        rows,
        |line, row: Row| {
            let mut f = feed.borrow_mut();
            let f: &mut Feeder<'_> = &mut f;
            match &mut shape {
                Shape::Hh => hh_rlhf::on_row(f, line, &row),
                Shape::Trl => trl::on_pair(f, line, &row),
                Shape::Sft(s) => s.on_row(f, line, &row),
                Shape::Uf => ultrafeedback::on_row(f, line, &row),
                Shape::Hs2Pref => ultrafeedback::on_hs2_preference(f, line, &row),
                Shape::Oasst(t) => t.on_row(f, line, &row),
                Shape::Hs2(g) => g.on_row(f, line, &row),
                Shape::Mapped(m) => crate::csv::on_row(m, f, line, &row),
            }
        },
        |e| feed.borrow_mut().refuse(e),
        progress,
    )?;
    let f = feed.into_inner();
    match &mut shape {
        Shape::Oasst(t) => {
            t.flush(f);
        }
        Shape::Hs2(g) => {
            g.flush(f);
        }
        Shape::Sft(s) => {
            s.flush(f);
        }
        _ => {}
    }
    Ok(())
}
