//! Parquet for the export kinds other than preference pairs: a table described by a
//! list of [`Column`]s, each read from a path into the JSON row. Message and candidate
//! lists become lists of structs of UTF-8 fields; objects and free-form lists become
//! JSON text (documented per kind). Snappy, row groups of 8,192 rows (one in memory).

use crate::export::RowSink;
use crate::kinds::RowKind;
use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::Value;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

const ROW_GROUP: usize = 8192;

/// The type of a column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColType {
    /// UTF-8 text; null when absent or not a string.
    Text,
    /// 64-bit integer, nullable.
    Int,
    /// Double, nullable.
    Double,
    /// Boolean, nullable.
    Bool,
    /// Any JSON value as its text (`null` when absent); never null itself.
    Json,
    /// A list of structs with these nullable UTF-8 fields (`[{role, content}]`, …).
    Structs(Vec<&'static str>),
}

/// One column: its name, where in the row its value is, and its type.
#[derive(Debug, Clone)]
pub struct Column {
    /// Column name.
    pub name: String,
    /// Keys from the row to the value.
    pub path: Vec<String>,
    /// Type.
    pub ty: ColType,
}

fn col(name: &str, ty: ColType) -> Column {
    Column {
        name: name.to_owned(),
        path: vec![name.to_owned()],
        ty,
    }
}

fn messages() -> ColType {
    ColType::Structs(vec!["role", "content"])
}

/// The Parquet columns of an export kind; `criteria` (rating only) become one double
/// column each, HelpSteer-style. A criterion named like a fixed column is refused.
pub fn columns(kind: RowKind, criteria: &[String]) -> Result<Vec<Column>, String> {
    use ColType::*;
    let tail = || {
        vec![
            col("item_id", Text),
            col("split", Text),
            col("tags", Json),
            col("provenance", Json),
        ]
    };
    let mut cols = match kind {
        RowKind::Ranking => {
            let mut c = vec![
                col("prompt", messages()),
                col("candidates", Structs(vec!["id", "model", "content"])),
                col("order", Json),
            ];
            c.extend(tail());
            c
        }
        RowKind::Rating => {
            let mut c = vec![
                col("prompt", messages()),
                col("response", Text),
                col("candidate_id", Text),
                col("model", Text),
            ];
            for k in criteria {
                c.push(Column {
                    name: k.clone(),
                    path: vec!["scores".into(), k.clone()],
                    ty: Double,
                });
            }
            c.push(col("scores", Json));
            c.extend(tail());
            c
        }
        RowKind::RedTeam => {
            let mut c = vec![
                col("prompt", messages()),
                col("attack", Text),
                col("tactic", Text),
                col("outcome", Text),
                col("severity", Int),
                col("violations", Json),
                col("edge_cases", Json),
                col("annotator", Text),
                col("external_source", Text),
            ];
            c.extend(tail());
            c
        }
        RowKind::Full => vec![
            col("item_id", Text),
            col("task", Text),
            col("annotator", Text),
            col("external_source", Text),
            col("expertise", Text),
            col("rubric_version", Int),
            col("gold", Bool),
            col("gold_correct", Bool),
            col("time_ms", Int),
            col("display_order", Json),
            col("payload", Json),
            col("prompt", messages()),
            col("candidates", Structs(vec!["id", "model", "content"])),
            col("split", Text),
            col("tags", Json),
        ],
    };
    let mut names = std::collections::HashSet::new();
    for c in &cols {
        if !names.insert(c.name.clone()) {
            return Err(format!(
                "criterion `{}` has the name of a fixed column; rename it or export JSONL",
                c.name
            ));
        }
    }
    cols.shrink_to_fit();
    Ok(cols)
}

/// The Parquet columns of SFT rows: `messages` and the item's id, split, tags and
/// provenance.
pub fn sft_columns() -> Vec<Column> {
    vec![
        col("messages", messages()),
        col("item_id", ColType::Text),
        col("split", ColType::Text),
        col("tags", ColType::Json),
        col("provenance", ColType::Json),
    ]
}

fn schema(cols: &[Column]) -> String {
    let mut s = String::from("message row {");
    for c in cols {
        let n = &c.name;
        s.push_str(&match &c.ty {
            ColType::Text => format!("OPTIONAL BYTE_ARRAY {n} (UTF8);"),
            ColType::Int => format!("OPTIONAL INT64 {n};"),
            ColType::Double => format!("OPTIONAL DOUBLE {n};"),
            ColType::Bool => format!("OPTIONAL BOOLEAN {n};"),
            ColType::Json => format!("REQUIRED BYTE_ARRAY {n} (UTF8);"),
            ColType::Structs(fields) => {
                let f: String = fields
                    .iter()
                    .map(|f| format!("OPTIONAL BYTE_ARRAY {f} (UTF8);"))
                    .collect();
                format!(
                    "REQUIRED group {n} (LIST) {{ REPEATED group list {{ REQUIRED group element {{ {f} }} }} }}"
                )
            }
        });
    }
    s.push('}');
    s
}

/// Values and levels of one leaf column.
#[derive(Default)]
struct Leaf {
    bytes: Vec<ByteArray>,
    ints: Vec<i64>,
    doubles: Vec<f64>,
    bools: Vec<bool>,
    def: Vec<i16>,
    rep: Vec<i16>,
}

impl Leaf {
    fn clear(&mut self) {
        self.bytes.clear();
        self.ints.clear();
        self.doubles.clear();
        self.bools.clear();
        self.def.clear();
        self.rep.clear();
    }
}

/// Buffers a row group of rows and writes it.
pub struct TableParquetSink {
    writer: Option<SerializedFileWriter<File>>,
    cols: Vec<Column>,
    /// One entry per leaf, in schema order (a struct list has one leaf a field).
    leaves: Vec<Leaf>,
    rows: usize,
}

fn other(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e.to_string())
}

fn text(v: &str) -> ByteArray {
    ByteArray::from(v.as_bytes().to_vec())
}

impl TableParquetSink {
    /// Creates `path` with these columns.
    pub fn create(path: &Path, cols: Vec<Column>) -> io::Result<Self> {
        let schema = Arc::new(parse_message_type(&schema(&cols)).map_err(other)?);
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build(),
        );
        let n_leaves = cols
            .iter()
            .map(|c| match &c.ty {
                ColType::Structs(f) => f.len(),
                _ => 1,
            })
            .sum();
        let file = plumbline_store::files::create(path)?;
        Ok(TableParquetSink {
            writer: Some(SerializedFileWriter::new(file, schema, props).map_err(other)?),
            cols,
            leaves: (0..n_leaves).map(|_| Leaf::default()).collect(),
            rows: 0,
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let writer = self.writer.as_mut().expect("open until finished");
        let mut group = writer.next_row_group().map_err(other)?;
        let mut leaf = 0;
        for c in &self.cols {
            let fields = match &c.ty {
                ColType::Structs(f) => f.len(),
                _ => 1,
            };
            for _ in 0..fields {
                let l = &self.leaves[leaf];
                let mut w = group
                    .next_column()
                    .map_err(other)?
                    .ok_or_else(|| io::Error::other("the schema has fewer columns"))?;
                let rep = matches!(c.ty, ColType::Structs(_)).then_some(&l.rep[..]);
                let def = (c.ty != ColType::Json).then_some(&l.def[..]);
                match c.ty {
                    ColType::Int => {
                        w.typed::<Int64Type>()
                            .write_batch(&l.ints, def, rep)
                            .map_err(other)?;
                    }
                    ColType::Double => {
                        w.typed::<DoubleType>()
                            .write_batch(&l.doubles, def, rep)
                            .map_err(other)?;
                    }
                    ColType::Bool => {
                        w.typed::<BoolType>()
                            .write_batch(&l.bools, def, rep)
                            .map_err(other)?;
                    }
                    _ => {
                        w.typed::<ByteArrayType>()
                            .write_batch(&l.bytes, def, rep)
                            .map_err(other)?;
                    }
                }
                w.close().map_err(other)?;
                leaf += 1;
            }
        }
        group.close().map_err(other)?;
        for l in &mut self.leaves {
            l.clear();
        }
        self.rows = 0;
        Ok(())
    }
}

impl RowSink for TableParquetSink {
    fn write(&mut self, row: &Value) -> io::Result<()> {
        let mut leaf = 0;
        for c in &self.cols {
            let mut v = Some(row);
            for k in &c.path {
                v = v.and_then(|x| x.get(k));
            }
            let v = v.filter(|x| !x.is_null());
            match &c.ty {
                ColType::Structs(fields) => {
                    let items = v.and_then(Value::as_array).map_or(&[][..], Vec::as_slice);
                    for (f, name) in fields.iter().enumerate() {
                        let l = &mut self.leaves[leaf + f];
                        if items.is_empty() {
                            l.def.push(0);
                            l.rep.push(0);
                        }
                        for (i, m) in items.iter().enumerate() {
                            l.rep.push(i16::from(i > 0));
                            match m.get(*name).and_then(Value::as_str) {
                                Some(s) => {
                                    l.bytes.push(text(s));
                                    l.def.push(2);
                                }
                                None => l.def.push(1),
                            }
                        }
                    }
                    leaf += fields.len();
                    continue;
                }
                ColType::Json => {
                    let t = v.map_or_else(|| "null".to_owned(), Value::to_string);
                    self.leaves[leaf]
                        .bytes
                        .push(ByteArray::from(t.into_bytes()));
                }
                ColType::Text => {
                    let l = &mut self.leaves[leaf];
                    match v.and_then(Value::as_str) {
                        Some(s) => {
                            l.bytes.push(text(s));
                            l.def.push(1);
                        }
                        None => l.def.push(0),
                    }
                }
                ColType::Int => {
                    let l = &mut self.leaves[leaf];
                    match v.and_then(Value::as_i64) {
                        Some(x) => {
                            l.ints.push(x);
                            l.def.push(1);
                        }
                        None => l.def.push(0),
                    }
                }
                ColType::Double => {
                    let l = &mut self.leaves[leaf];
                    match v.and_then(Value::as_f64) {
                        Some(x) => {
                            l.doubles.push(x);
                            l.def.push(1);
                        }
                        None => l.def.push(0),
                    }
                }
                ColType::Bool => {
                    let l = &mut self.leaves[leaf];
                    match v.and_then(Value::as_bool) {
                        Some(x) => {
                            l.bools.push(x);
                            l.def.push(1);
                        }
                        None => l.def.push(0),
                    }
                }
            }
            leaf += 1;
        }
        self.rows += 1;
        if self.rows == ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        self.flush()?;
        if let Some(w) = self.writer.take() {
            w.close().map_err(other)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use serde_json::json;

    #[test]
    fn rating_rows_round_trip_through_the_parquet_reader() {
        let dir = std::env::temp_dir().join(format!("plumbline-table-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("r.parquet");
        let cols = columns(RowKind::Rating, &["helpful".into(), "safe".into()]).unwrap();
        let mut sink = TableParquetSink::create(&path, cols).unwrap();
        sink.write(&json!({
            "prompt": [{"role": "user", "content": "Q"}],
            "response": "A", "candidate_id": "a", "model": null,
            "scores": {"helpful": 3.5}, "item_id": "i1", "split": null,
            "tags": [], "provenance": {"decision": "mean"},
        }))
        .unwrap();
        sink.write(&json!({
            "prompt": [], "response": "B", "candidate_id": "b", "model": "m",
            "scores": {"helpful": 1.0, "safe": 4.0}, "item_id": "i2", "split": "eval",
            "tags": ["x"], "provenance": {},
        }))
        .unwrap();
        sink.finish().unwrap();
        let reader = SerializedFileReader::new(File::open(&path).unwrap()).unwrap();
        assert_eq!(reader.metadata().file_metadata().num_rows(), 2);
        let rows: Vec<String> = reader
            .get_row_iter(None)
            .unwrap()
            .map(|r| r.unwrap().to_string())
            .collect();
        assert!(rows[0].contains("helpful: 3.5"), "{}", rows[0]);
        assert!(rows[0].contains("safe: null"), "{}", rows[0]);
        assert!(rows[1].contains("safe: 4.0"), "{}", rows[1]);
        assert!(rows[1].contains("prompt: []"), "{}", rows[1]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(columns(RowKind::Rating, &["response".into()]).is_err());
    }
}
