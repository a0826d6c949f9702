//! Parquet files as rows: the `parquet` crate's record reader (no Arrow), one row
//! group in memory at a time. Strings, numbers, booleans, nulls, lists and structs
//! become JSON values; binary columns are read as text when they hold UTF-8.
//! Compression: every codec other writers use (uncompressed, Snappy, gzip, brotli,
//! lz4, lz4_raw, zstd).

use crate::detect::FieldKind;
use crate::lines::LineError;
use crate::rows::{Row, RowSource};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::Field;
use parquet::record::reader::RowIter;
use serde_json::{Map, Number, Value};
use std::fs::File;
use std::io;

/// The magic bytes a Parquet file starts with.
pub const MAGIC: &[u8; 4] = b"PAR1";

/// Rows of a Parquet file.
pub struct ParquetRows {
    rows: RowIter<'static>,
    n: u64,
    failed: bool,
    /// Rows per row group, as the file's metadata says, to name the group of a bad row.
    groups: Vec<u64>,
}

/// Runs `f` (a call into the `parquet` crate) and turns a panic into its message. The
/// crate panics on some corrupt files (a thrift unwrap, capacity overflow, an RLE
/// index, a bit-width assertion) where it should return an error; a corrupt file must
/// be refused, not bring the process down. The panic hook stays quiet for these.
fn guarded<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    plumbline_media::guard::catch_panic(f)
        .map_err(|why| why.unwrap_or_else(|| "the reader failed".into()))
}

/// Opens a Parquet file: its column names and its rows. A truncated, corrupt or foreign
/// file is refused with the parser's reason.
pub fn open(file: File) -> Result<(Vec<String>, ParquetRows), LineError> {
    let (columns, rows) = open_shaped(file)?;
    Ok((columns.into_iter().map(|(n, _)| n).collect(), rows))
}

/// [`open`], with what each top-level column holds (text, a list, other).
pub fn open_shaped(file: File) -> Result<(Vec<(String, FieldKind)>, ParquetRows), LineError> {
    let opened = guarded(|| {
        let reader = SerializedFileReader::new(file)
            .map_err(|e| format!("not a readable Parquet file (is it truncated?): {e}"))?;
        let columns: Vec<(String, FieldKind)> = reader
            .metadata()
            .file_metadata()
            .schema()
            .get_fields()
            .iter()
            .map(|f| (f.name().to_owned(), kind(f)))
            .collect();
        let groups = reader
            .metadata()
            .row_groups()
            .iter()
            .map(|g| u64::try_from(g.num_rows()).unwrap_or(0))
            .collect();
        Ok::<_, String>((columns, groups, reader.into_iter()))
    });
    let (columns, groups, rows) = match opened {
        Ok(Ok(x)) => x,
        Ok(Err(reason)) => return Err(LineError::new(0, None, reason)),
        Err(panic) => {
            return Err(LineError::new(
                0,
                None,
                format!("not a readable Parquet file: its metadata is corrupt ({panic})"),
            ));
        }
    };
    Ok((
        columns,
        ParquetRows {
            rows,
            n: 0,
            failed: false,
            groups,
        },
    ))
}

/// What a top-level column holds: text, a list, or something else.
fn kind(t: &parquet::schema::types::Type) -> FieldKind {
    use parquet::basic::{ConvertedType, LogicalType, Repetition, Type as Physical};
    let info = t.get_basic_info();
    if info.has_repetition() && info.repetition() == Repetition::REPEATED {
        return FieldKind::List;
    }
    if t.is_group() {
        let list = matches!(info.logical_type_ref(), Some(LogicalType::List))
            || info.converted_type() == ConvertedType::LIST;
        return if list {
            FieldKind::List
        } else {
            FieldKind::Other
        };
    }
    if t.get_physical_type() == Physical::BYTE_ARRAY {
        FieldKind::Text
    } else {
        FieldKind::Other
    }
}

impl ParquetRows {
    /// Where row `n` (1-based) lies: "row group G (rows a to b)", 1-based, when the
    /// metadata says.
    fn place(&self, n: u64) -> String {
        let mut first = 1u64;
        for (g, rows) in self.groups.iter().enumerate() {
            let last = first.saturating_add(*rows);
            if n < last {
                return format!(
                    "row group {} of {} (rows {first} to {})",
                    g + 1,
                    self.groups.len(),
                    last - 1
                );
            }
            first = last;
        }
        format!(
            "past the {} row groups the metadata lists",
            self.groups.len()
        )
    }
}

impl RowSource for ParquetRows {
    fn next_row(&mut self) -> io::Result<Option<(u64, Result<Row, LineError>)>> {
        if self.failed {
            return Ok(None);
        }
        let n = self.n + 1;
        let rows = &mut self.rows;
        let next = guarded(|| {
            rows.next().map(|row| {
                row.map(|row| {
                    let mut map = Map::new();
                    for (name, field) in row.get_column_iter() {
                        map.insert(name.clone(), value(field));
                    }
                    map
                })
            })
        });
        let reason = match next {
            Ok(None) => return Ok(None),
            Ok(Some(Ok(map))) => {
                self.n = n;
                return Ok(Some((n, Ok(map))));
            }
            Ok(Some(Err(e))) => e.to_string(),
            Err(panic) => format!("the file is corrupt ({panic})"),
        };
        // The reader cannot go on past a broken page.
        self.n = n;
        self.failed = true;
        Ok(Some((
            n,
            Err(LineError::new(
                n,
                None,
                format!(
                    "cannot read row {n} of the Parquet file, in {}: {reason}",
                    self.place(n)
                ),
            )),
        )))
    }

    fn bytes_read(&self) -> u64 {
        0
    }
}

fn value(f: &Field) -> Value {
    match f {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(x) => (*x).into(),
        Field::Short(x) => (*x).into(),
        Field::Int(x) => (*x).into(),
        Field::Long(x) => (*x).into(),
        Field::UByte(x) => (*x).into(),
        Field::UShort(x) => (*x).into(),
        Field::UInt(x) => (*x).into(),
        Field::ULong(x) => (*x).into(),
        Field::Float16(x) => float(f64::from(*x)),
        Field::Float(x) => float(f64::from(*x)),
        Field::Double(x) => float(*x),
        Field::Str(s) => Value::String(s.clone()),
        Field::Bytes(b) => match std::str::from_utf8(b.data()) {
            Ok(s) => Value::String(s.to_owned()),
            Err(_) => Value::Null,
        },
        Field::Group(row) => Value::Object(
            row.get_column_iter()
                .map(|(k, v)| (k.clone(), value(v)))
                .collect(),
        ),
        Field::ListInternal(list) => Value::Array(list.elements().iter().map(value).collect()),
        Field::MapInternal(map) => Value::Object(
            map.entries()
                .iter()
                .map(|(k, v)| {
                    let key = match value(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, value(v))
                })
                .collect(),
        ),
        other => Value::String(other.to_string()),
    }
}

fn float(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}
