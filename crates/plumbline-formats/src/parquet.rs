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
}

/// Opens a Parquet file: its column names and its rows. A truncated or foreign file is
/// refused with the parser's reason.
pub fn open(file: File) -> Result<(Vec<String>, ParquetRows), LineError> {
    let (columns, rows) = open_shaped(file)?;
    Ok((columns.into_iter().map(|(n, _)| n).collect(), rows))
}

/// [`open`], with what each top-level column holds (text, a list, other).
pub fn open_shaped(file: File) -> Result<(Vec<(String, FieldKind)>, ParquetRows), LineError> {
    let reader = SerializedFileReader::new(file).map_err(|e| {
        LineError::new(
            0,
            None,
            format!("not a readable Parquet file (is it truncated?): {e}"),
        )
    })?;
    let columns = reader
        .metadata()
        .file_metadata()
        .schema()
        .get_fields()
        .iter()
        .map(|f| (f.name().to_owned(), kind(f)))
        .collect();
    Ok((
        columns,
        ParquetRows {
            rows: reader.into_iter(),
            n: 0,
            failed: false,
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

impl RowSource for ParquetRows {
    fn next_row(&mut self) -> io::Result<Option<(u64, Result<Row, LineError>)>> {
        if self.failed {
            return Ok(None);
        }
        let Some(row) = self.rows.next() else {
            return Ok(None);
        };
        self.n += 1;
        Ok(Some(match row {
            Ok(row) => {
                let mut map = Map::new();
                for (name, field) in row.get_column_iter() {
                    map.insert(name.clone(), value(field));
                }
                (self.n, Ok(map))
            }
            Err(e) => {
                // The reader cannot go on past a broken page.
                self.failed = true;
                (
                    self.n,
                    Err(LineError::new(
                        self.n,
                        None,
                        format!("cannot read row {} of the Parquet file: {e}", self.n),
                    )),
                )
            }
        }))
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
