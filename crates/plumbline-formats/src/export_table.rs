//! Parquet for the export kinds other than preference pairs: a table described by a
//! list of [`Column`]s, each read from a path into the JSON row. Message and candidate
//! lists become lists of structs of UTF-8 fields, lists of strings lists of UTF-8, a
//! ranking's order a list of lists; the open-ended maps (keys are criteria or candidate
//! ids) become JSON text, and [`json_text_paths`] tells the JSONL writer to write the same
//! text, so one kind has one schema in both formats. Snappy, row groups of 8,192 rows
//! (one in memory).

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
    /// Any JSON value as its text (`null` when absent); never null itself. JSONL rows
    /// carry the same text (see [`json_text_paths`]).
    Json,
    /// A nullable list of lists of strings (a ranking's `order`: groups best first).
    StringLists,
    /// A list of structs with these nullable UTF-8 fields (`[{role, content}]`, …).
    Structs(Vec<&'static str>),
    /// A nullable list of strings (`tags`, `edge_cases`, `display_order`); a non-string
    /// element is written as its JSON text.
    Strings,
    /// A nested value (`provenance`): a struct of nullable fields, lists and structs.
    Nested(Ty),
}

/// The type of a nested value; every level is nullable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ty {
    /// UTF-8 text (any other JSON value is written as its JSON text).
    Text,
    /// An open-ended map as its JSON text, in JSONL as in Parquet.
    Json,
    /// 64-bit integer.
    Int,
    /// Double.
    Double,
    /// A list.
    List(Box<Ty>),
    /// A struct of named fields, in this order.
    Struct(Vec<(&'static str, Ty)>),
}

impl Ty {
    /// Its leaf columns, in schema order: their kind and whether a list holds them.
    fn leaves(&self, in_list: bool, out: &mut Vec<(ColType, bool)>) {
        match self {
            Ty::Text | Ty::Json => out.push((ColType::Text, in_list)),
            Ty::Int => out.push((ColType::Int, in_list)),
            Ty::Double => out.push((ColType::Double, in_list)),
            Ty::List(e) => e.leaves(true, out),
            Ty::Struct(fields) => fields.iter().for_each(|(_, t)| t.leaves(in_list, out)),
        }
    }

    pub(crate) fn count(&self) -> usize {
        let mut v = Vec::new();
        self.leaves(false, &mut v);
        v.len()
    }

    pub(crate) fn schema(&self, name: &str) -> String {
        match self {
            Ty::Text | Ty::Json => format!("OPTIONAL BYTE_ARRAY {name} (UTF8);"),
            Ty::Int => format!("OPTIONAL INT64 {name};"),
            Ty::Double => format!("OPTIONAL DOUBLE {name};"),
            Ty::List(e) => format!(
                "OPTIONAL group {name} (LIST) {{ REPEATED group list {{ {} }} }}",
                e.schema("element")
            ),
            Ty::Struct(fields) => format!(
                "OPTIONAL group {name} {{ {} }}",
                fields.iter().map(|(n, t)| t.schema(n)).collect::<String>()
            ),
        }
    }

    /// Appends `v` to the leaves with its definition and repetition levels (Dremel):
    /// `d` levels defined above it, repetition `r` for its first leaf value, `depth`
    /// repeated levels above it.
    pub(crate) fn shred(&self, v: Option<&Value>, leaves: &mut [Leaf], d: i16, r: i16, depth: i16) {
        let v = v.filter(|x| !x.is_null());
        let absent = |leaves: &mut [Leaf], d: i16| {
            for l in leaves {
                l.def.push(d);
                l.rep.push(r);
            }
        };
        match self {
            Ty::Text | Ty::Json | Ty::Int | Ty::Double => {
                let l = &mut leaves[0];
                let defined = match (self, v) {
                    (Ty::Text, Some(Value::String(s))) => {
                        l.bytes.push(text(s));
                        true
                    }
                    (Ty::Text | Ty::Json, Some(x)) => {
                        l.bytes.push(text(&x.to_string()));
                        true
                    }
                    (Ty::Int, Some(x)) => x.as_i64().map(|i| l.ints.push(i)).is_some(),
                    (Ty::Double, Some(x)) => x.as_f64().map(|f| l.doubles.push(f)).is_some(),
                    _ => false,
                };
                l.def.push(if defined { d + 1 } else { d });
                l.rep.push(r);
            }
            Ty::Struct(fields) => {
                let Some(obj) = v.and_then(Value::as_object) else {
                    return absent(leaves, d);
                };
                let mut at = 0;
                for (name, t) in fields {
                    let n = t.count();
                    t.shred(obj.get(*name), &mut leaves[at..at + n], d + 1, r, depth);
                    at += n;
                }
            }
            Ty::List(e) => match v.and_then(Value::as_array) {
                None => absent(leaves, d),
                Some(items) if items.is_empty() => absent(leaves, d + 1),
                Some(items) => {
                    for (i, x) in items.iter().enumerate() {
                        let r = if i == 0 { r } else { depth + 1 };
                        e.shred(Some(x), leaves, d + 2, r, depth + 1);
                    }
                }
            },
        }
    }
}

/// A vote's weight in a pair's provenance.
fn vote_weight() -> Ty {
    Ty::Struct(vec![
        ("annotator", Ty::Text),
        ("choice", Ty::Text),
        ("external_source", Ty::Text),
        ("reliability", Ty::Double),
        ("weight", Ty::Double),
    ])
}

/// The provenance of preference and reward pairs (docs/EXPORTS.md), fields in the JSONL
/// order.
pub fn pair_provenance() -> Ty {
    Ty::Struct(vec![
        ("annotator_judgments", Ty::Int),
        ("chosen_id", Ty::Text),
        ("chosen_model", Ty::Text),
        ("decision", Ty::Text),
        ("external_sources", Ty::List(Box::new(Ty::Text))),
        ("method", Ty::Text),
        ("posterior", Ty::Double),
        ("rejected_id", Ty::Text),
        ("rejected_model", Ty::Text),
        ("rubric_version", Ty::Int),
        ("vote_weights", Ty::List(Box::new(vote_weight()))),
        ("votes", Ty::Int),
    ])
}

/// The provenance of each kind's rows (`None`: sft). The per-candidate and
/// per-criterion maps of ranking and rating rows (`mean_rank`, `spread`) are
/// open-ended: JSON text, in both formats.
fn provenance(kind: Option<RowKind>) -> Ty {
    use Ty::*;
    let list = |t: Ty| List(Box::new(t));
    match kind {
        None => Struct(vec![
            ("decision", Text),
            ("method", Text),
            ("posterior", Double),
            ("source", Text),
            ("vote_weights", list(vote_weight())),
        ]),
        Some(RowKind::Ranking) => Struct(vec![
            ("agreement", Double),
            ("annotators", list(Text)),
            ("decision", Text),
            ("mean_rank", Json),
            ("rubric_version", Int),
            ("votes", Int),
        ]),
        Some(RowKind::Rating) => Struct(vec![
            ("agreement", Double),
            ("annotators", list(Text)),
            ("decision", Text),
            ("raters", Int),
            ("spread", Json),
        ]),
        Some(RowKind::RedTeam) | Some(RowKind::Full) | Some(RowKind::LabelStudio) => Struct(vec![
            ("adjudicated_outcome", Text),
            ("adjudicated_severity", Int),
            ("rubric_version", Int),
        ]),
    }
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
            col("tags", Strings),
            col("provenance", Nested(provenance(Some(kind)))),
        ]
    };
    let mut cols = match kind {
        RowKind::LabelStudio => {
            return Err("label-studio tasks are written as one JSON array, not as Parquet".into());
        }
        RowKind::Ranking => {
            let mut c = vec![
                col("prompt", messages()),
                col("candidates", Structs(vec!["id", "model", "content"])),
                col("order", StringLists),
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
                col("reply", Text),
                col("turns", Structs(vec!["attack", "reply"])),
                col("tactic", Text),
                col("outcome", Text),
                col("severity", Int),
                col("violations", Json),
                col("edge_cases", Strings),
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
            col("display_order", Strings),
            col("payload", Json),
            col("prompt", messages()),
            col("candidates", Structs(vec!["id", "model", "content"])),
            col("split", Text),
            col("tags", Strings),
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
        col("tags", ColType::Strings),
        col("provenance", ColType::Nested(provenance(None))),
    ]
}

/// An open-ended map of a row, written as its JSON text in both formats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonText {
    /// Keys from the row to the value.
    pub path: Vec<String>,
    /// Whether the text is written when the value is absent or null (`"null"`, as the
    /// Parquet column is required) or the field stays null (a nullable nested field).
    pub required: bool,
}

/// Where the open-ended maps of rows with these columns are: the `Json` columns and the
/// `Json` fields of nested ones. The JSONL writer writes the value at each as its JSON
/// text, the text the Parquet writer writes.
pub fn json_text_paths(cols: &[Column]) -> Vec<JsonText> {
    fn nested(t: &Ty, at: &[String], out: &mut Vec<JsonText>) {
        match t {
            Ty::Json => out.push(JsonText {
                path: at.to_vec(),
                required: false,
            }),
            Ty::Struct(fields) => {
                for (name, t) in fields {
                    let mut p = at.to_vec();
                    p.push((*name).to_owned());
                    nested(t, &p, out);
                }
            }
            // No list holds an open-ended map.
            Ty::List(_) | Ty::Text | Ty::Int | Ty::Double => {}
        }
    }
    let mut out = Vec::new();
    for c in cols {
        match &c.ty {
            ColType::Json => out.push(JsonText {
                path: c.path.clone(),
                required: true,
            }),
            ColType::Nested(t) => nested(t, &c.path, &mut out),
            _ => {}
        }
    }
    out
}

/// `row` with the value at each of `paths` replaced by its JSON text.
pub fn with_json_text(row: &Value, paths: &[JsonText]) -> Value {
    let mut row = row.clone();
    for p in paths {
        let Some((last, parents)) = p.path.split_last() else {
            continue;
        };
        let mut at = Some(&mut row);
        for k in parents {
            at = at.and_then(|v| v.get_mut(k));
        }
        let Some(Value::Object(obj)) = at else {
            continue;
        };
        match obj.get_mut(last) {
            Some(v) if !v.is_null() => *v = Value::String(v.to_string()),
            _ if p.required => {
                obj.insert(last.clone(), Value::String("null".into()));
            }
            _ => {}
        }
    }
    row
}

pub(crate) fn schema(cols: &[Column]) -> String {
    let mut s = String::from("message row {");
    for c in cols {
        let n = &c.name;
        s.push_str(&match &c.ty {
            ColType::Text => format!("OPTIONAL BYTE_ARRAY {n} (UTF8);"),
            ColType::Int => format!("OPTIONAL INT64 {n};"),
            ColType::Double => format!("OPTIONAL DOUBLE {n};"),
            ColType::Bool => format!("OPTIONAL BOOLEAN {n};"),
            ColType::Json => format!("REQUIRED BYTE_ARRAY {n} (UTF8);"),
            ColType::Strings => format!(
                "OPTIONAL group {n} (LIST) {{ REPEATED group list {{ REQUIRED BYTE_ARRAY element (UTF8); }} }}"
            ),
            ColType::StringLists => format!(
                "OPTIONAL group {n} (LIST) {{ REPEATED group list {{ REQUIRED group element (LIST) {{ REPEATED group list {{ REQUIRED BYTE_ARRAY element (UTF8); }} }} }} }}"
            ),
            ColType::Nested(t) => t.schema(n),
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
pub(crate) struct Leaf {
    pub(crate) bytes: Vec<ByteArray>,
    pub(crate) ints: Vec<i64>,
    pub(crate) doubles: Vec<f64>,
    pub(crate) bools: Vec<bool>,
    pub(crate) def: Vec<i16>,
    pub(crate) rep: Vec<i16>,
}

impl Leaf {
    pub(crate) fn clear(&mut self) {
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

/// The leaf columns of a column: their type and whether a list holds them.
pub(crate) fn leaf_types(ty: &ColType) -> Vec<(ColType, bool)> {
    match ty {
        ColType::Structs(f) => f.iter().map(|_| (ColType::Text, true)).collect(),
        ColType::Strings | ColType::StringLists => vec![(ColType::Text, true)],
        ColType::Nested(t) => {
            let mut v = Vec::new();
            t.leaves(false, &mut v);
            v
        }
        other => vec![(other.clone(), false)],
    }
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
        let n_leaves = cols.iter().map(|c| leaf_types(&c.ty).len()).sum();
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
            for (ty, repeated) in leaf_types(&c.ty) {
                let l = &self.leaves[leaf];
                let mut w = group
                    .next_column()
                    .map_err(other)?
                    .ok_or_else(|| io::Error::other("the schema has fewer columns"))?;
                let rep = repeated.then_some(&l.rep[..]);
                let def = (ty != ColType::Json).then_some(&l.def[..]);
                match ty {
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
                ColType::Nested(t) => {
                    let n = t.count();
                    t.shred(v, &mut self.leaves[leaf..leaf + n], 0, 0, 0);
                    leaf += n;
                    continue;
                }
                ColType::Strings => {
                    // Levels: 0 null, 1 an empty list, 2 an element.
                    let l = &mut self.leaves[leaf];
                    let Some(items) = v.and_then(Value::as_array) else {
                        l.def.push(0);
                        l.rep.push(0);
                        leaf += 1;
                        continue;
                    };
                    if items.is_empty() {
                        l.def.push(1);
                        l.rep.push(0);
                    }
                    for (i, x) in items.iter().enumerate() {
                        l.rep.push(i16::from(i > 0));
                        l.def.push(2);
                        l.bytes.push(match x {
                            Value::String(s) => text(s),
                            other => text(&other.to_string()),
                        });
                    }
                }
                ColType::StringLists => {
                    // Levels: def 0 null, 1 no groups, 2 an empty group, 3 an id;
                    // rep 0 a new row, 1 a new group, 2 the next id of a group.
                    let l = &mut self.leaves[leaf];
                    let Some(groups) = v.and_then(Value::as_array) else {
                        l.def.push(0);
                        l.rep.push(0);
                        leaf += 1;
                        continue;
                    };
                    if groups.is_empty() {
                        l.def.push(1);
                        l.rep.push(0);
                    }
                    for (g, group) in groups.iter().enumerate() {
                        let first = i16::from(g > 0);
                        let ids = group.as_array().map_or(&[][..], Vec::as_slice);
                        if ids.is_empty() {
                            l.def.push(2);
                            l.rep.push(first);
                        }
                        for (i, x) in ids.iter().enumerate() {
                            l.rep.push(if i == 0 { first } else { 2 });
                            l.def.push(3);
                            l.bytes.push(match x {
                                Value::String(s) => text(s),
                                other => text(&other.to_string()),
                            });
                        }
                    }
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
        // Tags are a list of strings, as in JSONL.
        assert!(rows[0].contains("tags: []"), "{}", rows[0]);
        assert!(rows[1].contains("tags: [\"x\"]"), "{}", rows[1]);
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(columns(RowKind::Rating, &["response".into()]).is_err());
    }

    /// Drops nulls, so a struct read back (every field present) compares with the JSON
    /// object it came from (absent fields left out).
    fn pruned(v: &Value) -> Value {
        match v {
            Value::Object(m) => Value::Object(
                m.iter()
                    .filter(|(_, x)| !x.is_null())
                    .map(|(k, x)| (k.clone(), pruned(x)))
                    .collect(),
            ),
            Value::Array(a) => Value::Array(a.iter().map(pruned).collect()),
            other => other.clone(),
        }
    }

    #[test]
    fn provenance_is_a_struct_that_reads_back_as_written() {
        use crate::rows::RowSource;
        let dir = std::env::temp_dir().join(format!("plumbline-nested-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("sft.parquet");
        let provenances = [
            json!({"decision": "reliability", "method": "reliability", "posterior": 0.93,
                   "source": "preference winner", "vote_weights": [
                       {"annotator": "ann-1", "choice": "a", "external_source": null, "reliability": 0.9, "weight": 2.19},
                       {"annotator": null, "choice": "tie", "external_source": "hh-rlhf", "reliability": 0.7, "weight": 0.0}]}),
            json!({"source": "demonstration"}),
            json!({"decision": "single", "method": "majority", "posterior": null,
                   "source": "preference winner", "vote_weights": []}),
            json!({"decision": "gold", "method": "dawid-skene", "posterior": null,
                   "source": "preference winner", "vote_weights": [
                       {"annotator": "ann-2", "choice": "b", "external_source": null, "reliability": 0.5, "weight": null}]}),
        ];
        let mut sink = TableParquetSink::create(&path, sft_columns()).unwrap();
        for (i, p) in provenances.iter().enumerate() {
            sink.write(&json!({
                "messages": [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}],
                "item_id": format!("i{i}"), "split": null, "tags": [], "provenance": p,
            }))
            .unwrap();
        }
        sink.finish().unwrap();
        let (_, mut rows) = crate::parquet::open(File::open(&path).unwrap()).unwrap();
        for p in &provenances {
            let (_, row) = rows.next_row().unwrap().unwrap();
            assert_eq!(pruned(&row.unwrap()["provenance"]), pruned(p));
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
