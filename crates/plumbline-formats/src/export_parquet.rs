//! Preference pairs as Parquet, the shape TRL and `datasets` read: `prompt`, `chosen`
//! and `rejected` as lists of `{role, content}` structs; `strength` (int64, null when
//! unknown), `margin` (double, null when unknown; reward exports), `item_id`, `split`,
//! `tags` (a list of strings), `provenance` (a struct); `criteria` as JSON text. Written with the `parquet` crate's column writers (no
//! Arrow), Snappy-compressed, in row groups of 4,096 pairs (one row group in memory: at
//! 2–3 KB a pair, 8,192 held some 30 MB more at the peak of a million-pair export).

use crate::export::RowSink;
use crate::export_table::{ColType, Leaf, Ty, leaf_types, pair_provenance};
use crate::pair_row::{Message, PairRow, Provenance};
use bytes::Bytes;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::EnabledStatistics;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::ColumnPath;
use serde_json::Value;
use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

/// Pairs a row group.
const ROW_GROUP: usize = 4096;

/// One text column of a row group: the values' bytes in one buffer, cut into
/// [`ByteArray`]s that share it when the group is written (one allocation a column and
/// group, not one a value).
#[derive(Default)]
struct Texts {
    buf: Vec<u8>,
    ends: Vec<usize>,
}

impl Texts {
    fn push(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        self.ends.push(self.buf.len());
    }

    fn push_json<T: serde::Serialize + ?Sized>(&mut self, v: &T) -> io::Result<()> {
        serde_json::to_writer(&mut self.buf, v)?;
        self.ends.push(self.buf.len());
        Ok(())
    }

    /// The values, leaving the column empty (its buffer moves into the values).
    fn take(&mut self) -> Vec<ByteArray> {
        let shared = Bytes::from(std::mem::take(&mut self.buf));
        let mut start = 0;
        let out = self
            .ends
            .iter()
            .map(|&end| {
                let v = ByteArray::from(shared.slice(start..end));
                start = end;
                v
            })
            .collect();
        self.ends.clear();
        out
    }
}

/// One message-list column: role and content values with their levels.
#[derive(Default)]
struct Messages {
    roles: Vec<ByteArray>,
    contents: Texts,
    def: Vec<i16>,
    rep: Vec<i16>,
}

impl Messages {
    fn push(&mut self, list: Option<&Value>) {
        let items = list
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        let text = |m: &'_ Value, k: &str| -> String {
            m.get(k).and_then(Value::as_str).unwrap_or("").to_owned()
        };
        let owned: Vec<(String, String)> = items
            .iter()
            .map(|m| (text(m, "role"), text(m, "content")))
            .collect();
        self.push_with(
            owned
                .iter()
                .map(|(r, c)| (r.as_str(), Cow::Borrowed(c.as_str()))),
        );
    }

    fn push_messages(&mut self, list: &[Message<'_>]) {
        self.push_with(list.iter().map(|m| (m.role, m.content.text())));
    }

    fn push_with<'s>(&mut self, list: impl Iterator<Item = (&'s str, Cow<'s, str>)>) {
        let mut empty = true;
        for (i, (role, content)) in list.enumerate() {
            self.roles.push(role_bytes(role));
            self.contents.push(content.as_bytes());
            self.def.push(1);
            self.rep.push(if i == 0 { 0 } else { 1 });
            empty = false;
        }
        if empty {
            // An empty list: one level entry, no value.
            self.def.push(0);
            self.rep.push(0);
        }
    }

    fn clear(&mut self) {
        self.roles.clear();
        self.contents = Texts::default();
        self.def.clear();
        self.rep.clear();
    }
}

/// A role as a value without an allocation for the usual names.
fn role_bytes(role: &str) -> ByteArray {
    let known = ["system", "user", "assistant", "tool"];
    match known.iter().find(|k| **k == role) {
        Some(k) => ByteArray::from(Bytes::from_static(k.as_bytes())),
        None => ByteArray::from(role.as_bytes().to_vec()),
    }
}

/// One list-of-strings column (`tags`): values with their levels.
#[derive(Default)]
struct Strings {
    values: Texts,
    def: Vec<i16>,
    rep: Vec<i16>,
}

impl Strings {
    fn push<'s>(&mut self, list: impl Iterator<Item = &'s str>) {
        let mut empty = true;
        for (i, v) in list.enumerate() {
            self.values.push(v.as_bytes());
            self.def.push(1);
            self.rep.push(i16::from(i > 0));
            empty = false;
        }
        if empty {
            self.def.push(0);
            self.rep.push(0);
        }
    }

    fn clear(&mut self) {
        self.values = Texts::default();
        self.def.clear();
        self.rep.clear();
    }
}

/// Appends an optional value and its definition level.
fn push_opt<T>(col: &mut (Vec<T>, Vec<i16>), v: Option<T>) {
    match v {
        Some(v) => {
            col.0.push(v);
            col.1.push(1);
        }
        None => col.1.push(0),
    }
}

/// Buffers a row group of pairs and writes it.
pub struct PairParquetSink {
    writer: Option<SerializedFileWriter<File>>,
    reward: bool,
    rows: usize,
    lists: [Messages; 3],
    strength: (Vec<i64>, Vec<i16>),
    margin: (Vec<f64>, Vec<i16>),
    item_id: Texts,
    split: (Vec<ByteArray>, Vec<i16>),
    criteria: Texts,
    tags: Strings,
    /// The provenance struct's leaf columns.
    provenance: Vec<Leaf>,
    provenance_ty: Ty,
}

pub(crate) fn schema(reward: bool) -> String {
    let list = |name: &str| {
        format!(
            "REQUIRED group {name} (LIST) {{ REPEATED group list {{ REQUIRED group element {{
               REQUIRED BYTE_ARRAY role (UTF8); REQUIRED BYTE_ARRAY content (UTF8); }} }} }}"
        )
    };
    format!(
        "message pair {{ {} {} {} OPTIONAL INT64 strength; {} REQUIRED BYTE_ARRAY item_id (UTF8);
           OPTIONAL BYTE_ARRAY split (UTF8); REQUIRED BYTE_ARRAY criteria (UTF8);
           REQUIRED group tags (LIST) {{ REPEATED group list {{ REQUIRED BYTE_ARRAY element (UTF8); }} }}
           {} }}",
        list("prompt"),
        list("chosen"),
        list("rejected"),
        if reward {
            "OPTIONAL DOUBLE margin;"
        } else {
            ""
        },
        pair_provenance().schema("provenance")
    )
}

fn other(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e.to_string())
}

impl PairParquetSink {
    /// Creates `path`; `reward` adds the `margin` column.
    pub fn create(path: &Path, reward: bool) -> io::Result<Self> {
        let schema = Arc::new(parse_message_type(&schema(reward)).map_err(other)?);
        // Texts are long and distinct: dictionary encoding and min/max statistics on them
        // cost a hash and comparisons of every value and save nothing. Roles and splits
        // (a handful of values) keep their dictionary.
        let mut props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_dictionary_enabled(false)
            .set_statistics_enabled(EnabledStatistics::None);
        for list in ["prompt", "chosen", "rejected"] {
            props = props.set_column_dictionary_enabled(
                ColumnPath::from(vec![
                    list.to_owned(),
                    "list".to_owned(),
                    "element".to_owned(),
                    "role".to_owned(),
                ]),
                true,
            );
        }
        let props = Arc::new(
            props
                .set_column_dictionary_enabled(ColumnPath::from("split"), true)
                .set_column_statistics_enabled(
                    ColumnPath::from("strength"),
                    EnabledStatistics::Chunk,
                )
                .build(),
        );
        let file = plumbline_store::files::create(path)?;
        Ok(PairParquetSink {
            writer: Some(SerializedFileWriter::new(file, schema, props).map_err(other)?),
            reward,
            rows: 0,
            lists: Default::default(),
            strength: Default::default(),
            margin: Default::default(),
            item_id: Texts::default(),
            split: Default::default(),
            criteria: Texts::default(),
            tags: Strings::default(),
            provenance: (0..pair_provenance().count())
                .map(|_| Leaf::default())
                .collect(),
            provenance_ty: pair_provenance(),
        })
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.rows == 0 {
            return Ok(());
        }
        let writer = self.writer.as_mut().expect("open until finished");
        let mut group = writer.next_row_group().map_err(other)?;
        let mut index = 0;
        while let Some(mut col) = group.next_column().map_err(other)? {
            match index {
                0..=5 => {
                    let m = &mut self.lists[index / 2];
                    let contents;
                    let values = if index % 2 == 0 {
                        &m.roles
                    } else {
                        contents = m.contents.take();
                        &contents
                    };
                    col.typed::<ByteArrayType>()
                        .write_batch(values, Some(&m.def), Some(&m.rep))
                        .map_err(other)?;
                }
                6 => {
                    col.typed::<Int64Type>()
                        .write_batch(&self.strength.0, Some(&self.strength.1), None)
                        .map_err(other)?;
                }
                _ => {
                    // After strength: [margin], item_id, split, criteria, tags, provenance.
                    let k = index - 7 + usize::from(!self.reward);
                    match k {
                        0 => {
                            col.typed::<DoubleType>()
                                .write_batch(&self.margin.0, Some(&self.margin.1), None)
                                .map_err(other)?;
                        }
                        1 => {
                            col.typed::<ByteArrayType>()
                                .write_batch(&self.item_id.take(), None, None)
                                .map_err(other)?;
                        }
                        2 => {
                            col.typed::<ByteArrayType>()
                                .write_batch(&self.split.0, Some(&self.split.1), None)
                                .map_err(other)?;
                        }
                        3 => {
                            col.typed::<ByteArrayType>()
                                .write_batch(&self.criteria.take(), None, None)
                                .map_err(other)?;
                        }
                        4 => {
                            let t = &mut self.tags;
                            col.typed::<ByteArrayType>()
                                .write_batch(&t.values.take(), Some(&t.def), Some(&t.rep))
                                .map_err(other)?;
                        }
                        _ => {
                            let leaves = leaf_types(&ColType::Nested(pair_provenance()));
                            let (ty, repeated) = &leaves[k - 5];
                            let l = &self.provenance[k - 5];
                            let rep = repeated.then_some(&l.rep[..]);
                            match ty {
                                ColType::Int => col
                                    .typed::<Int64Type>()
                                    .write_batch(&l.ints, Some(&l.def), rep)
                                    .map(|_| ()),
                                ColType::Double => col
                                    .typed::<DoubleType>()
                                    .write_batch(&l.doubles, Some(&l.def), rep)
                                    .map(|_| ()),
                                _ => col
                                    .typed::<ByteArrayType>()
                                    .write_batch(&l.bytes, Some(&l.def), rep)
                                    .map(|_| ()),
                            }
                            .map_err(other)?;
                        }
                    }
                }
            }
            col.close().map_err(other)?;
            index += 1;
        }
        group.close().map_err(other)?;
        for m in &mut self.lists {
            m.clear();
        }
        self.strength.0.clear();
        self.strength.1.clear();
        self.margin.0.clear();
        self.margin.1.clear();
        self.split.0.clear();
        self.split.1.clear();
        self.tags.clear();
        for l in &mut self.provenance {
            l.clear();
        }
        self.rows = 0;
        Ok(())
    }
}

impl RowSink for PairParquetSink {
    fn write(&mut self, row: &Value) -> io::Result<()> {
        for (i, key) in ["prompt", "chosen", "rejected"].into_iter().enumerate() {
            self.lists[i].push(row.get(key));
        }
        match row.get("strength").and_then(Value::as_i64) {
            Some(s) => {
                self.strength.0.push(s);
                self.strength.1.push(1);
            }
            None => self.strength.1.push(0),
        }
        if self.reward {
            push_opt(&mut self.margin, row.get("margin").and_then(Value::as_f64));
        }
        self.item_id.push(
            row.get("item_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .as_bytes(),
        );
        match row.get("split").and_then(Value::as_str) {
            Some(s) => {
                self.split.0.push(ByteArray::from(s.as_bytes().to_vec()));
                self.split.1.push(1);
            }
            None => self.split.1.push(0),
        }
        match row.get("criteria") {
            // The JSON text already (rows from [`crate::export::row_value`]).
            Some(Value::String(text)) => self.criteria.push(text.as_bytes()),
            other => self.criteria.push_json(other.unwrap_or(&Value::Null))?,
        }
        self.tags.push(
            row.get("tags")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str),
        );
        self.provenance_ty
            .shred(row.get("provenance"), &mut self.provenance, 0, 0, 0);
        self.rows += 1;
        if self.rows == ROW_GROUP {
            self.flush()?;
        }
        Ok(())
    }

    fn write_pair(&mut self, row: &PairRow<'_>) -> io::Result<()> {
        self.lists[0].push_messages(&row.prompt);
        self.lists[1].push_messages(&row.chosen);
        self.lists[2].push_messages(&row.rejected);
        match row.strength {
            Some(s) => {
                self.strength.0.push(s);
                self.strength.1.push(1);
            }
            None => self.strength.1.push(0),
        }
        if self.reward {
            push_opt(&mut self.margin, row.margin.flatten());
        }
        self.item_id.push(row.item_id.as_bytes());
        match row.split {
            Some(s) => {
                self.split.0.push(ByteArray::from(s.as_bytes().to_vec()));
                self.split.1.push(1);
            }
            None => self.split.1.push(0),
        }
        self.criteria.push(row.criteria.json_text().as_bytes());
        self.tags.push(row.tags.iter().map(String::as_str));
        shred_provenance(&row.provenance, &mut self.provenance);
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

/// A pair's provenance into its 16 leaf columns, as [`Ty::shred`] over
/// [`pair_provenance`] would from its JSON (a test holds the two equal), without building
/// the JSON: a map a row was a third of the Parquet export's time.
///
/// Levels: the struct is present (1); a field inside is defined at 2; `external_sources`
/// and `vote_weights` are empty at 2, and their elements' fields defined at 4 and 5 (4 for
/// a vote field that is null), each element after the first repeated at level 1.
fn shred_provenance(p: &Provenance<'_>, leaves: &mut [Leaf]) {
    fn int(l: &mut Leaf, v: Option<i64>, d: i16, r: i16) {
        if let Some(v) = v {
            l.ints.push(v);
        }
        l.def.push(d + i16::from(v.is_some()));
        l.rep.push(r);
    }
    fn double(l: &mut Leaf, v: Option<f64>, d: i16, r: i16) {
        if let Some(v) = v {
            l.doubles.push(v);
        }
        l.def.push(d + i16::from(v.is_some()));
        l.rep.push(r);
    }
    fn text(l: &mut Leaf, v: Option<&str>, d: i16, r: i16) {
        if let Some(v) = v {
            l.bytes.push(ByteArray::from(v.as_bytes().to_vec()));
        }
        l.def.push(d + i16::from(v.is_some()));
        l.rep.push(r);
    }
    let [
        judgments,
        chosen_id,
        chosen_model,
        decision,
        sources,
        method,
        posterior,
        rejected_id,
        rejected_model,
        rubric_version,
        annotator,
        choice,
        external_source,
        reliability,
        weight,
        votes,
    ] = leaves
    else {
        unreachable!("the pair provenance has 16 leaves");
    };
    int(judgments, Some(p.annotator_judgments as i64), 1, 0);
    text(chosen_id, Some(p.chosen_id), 1, 0);
    text(chosen_model, p.chosen_model, 1, 0);
    text(decision, Some(p.decision), 1, 0);
    if p.external_sources.is_empty() {
        sources.def.push(2);
        sources.rep.push(0);
    }
    for (i, s) in p.external_sources.iter().enumerate() {
        text(sources, Some(s), 3, i16::from(i > 0));
    }
    text(method, Some(p.method), 1, 0);
    double(posterior, p.posterior, 1, 0);
    text(rejected_id, Some(p.rejected_id), 1, 0);
    text(rejected_model, p.rejected_model, 1, 0);
    int(rubric_version, p.rubric_version, 1, 0);
    if p.vote_weights.is_empty() {
        for l in [
            &mut *annotator,
            &mut *choice,
            &mut *external_source,
            &mut *reliability,
            &mut *weight,
        ] {
            l.def.push(2);
            l.rep.push(0);
        }
    }
    for (i, v) in p.vote_weights.iter().enumerate() {
        let r = i16::from(i > 0);
        text(annotator, v.annotator, 4, r);
        text(choice, Some(v.choice), 4, r);
        text(external_source, v.external_source, 4, r);
        double(reliability, Some(v.reliability), 4, r);
        double(weight, v.weight, 4, r);
    }
    int(votes, Some(p.votes as i64), 1, 0);
}

#[cfg(test)]
mod provenance_tests {
    use super::*;
    use crate::pair_row::VoteWeight;

    fn leaves() -> Vec<Leaf> {
        (0..pair_provenance().count())
            .map(|_| Leaf::default())
            .collect()
    }

    fn same(a: &[Leaf], b: &[Leaf]) {
        assert_eq!(a.len(), b.len());
        for (i, (x, y)) in a.iter().zip(b).enumerate() {
            assert_eq!(x.def, y.def, "definition levels of leaf {i}");
            assert_eq!(x.rep, y.rep, "repetition levels of leaf {i}");
            assert_eq!(x.bytes, y.bytes, "text of leaf {i}");
            assert_eq!(x.ints, y.ints, "integers of leaf {i}");
            assert_eq!(x.doubles, y.doubles, "doubles of leaf {i}");
        }
    }

    #[test]
    fn the_direct_shredder_matches_the_generic_one() {
        let vote = |annotator: Option<&'static str>, weight: Option<f64>| VoteWeight {
            annotator,
            choice: "a",
            external_source: annotator.is_none().then_some("hh-rlhf"),
            reliability: 0.8,
            weight,
        };
        let cases = [
            Provenance {
                annotator_judgments: 3,
                chosen_id: "a",
                chosen_model: Some("m1"),
                decision: "reliability",
                external_sources: vec!["hh-rlhf", "label-studio"],
                method: "reliability",
                posterior: Some(0.97),
                rejected_id: "b",
                rejected_model: None,
                rubric_version: Some(2),
                vote_weights: vec![vote(Some("ann-1"), Some(1.3)), vote(None, None)],
                votes: 2,
            },
            Provenance {
                annotator_judgments: 0,
                chosen_id: "b",
                chosen_model: None,
                decision: "gold",
                external_sources: vec![],
                method: "dawid-skene",
                posterior: None,
                rejected_id: "a",
                rejected_model: Some("m2"),
                rubric_version: None,
                vote_weights: vec![],
                votes: 0,
            },
        ];
        let (mut direct, mut generic) = (leaves(), leaves());
        for p in &cases {
            shred_provenance(p, &mut direct);
            let v = serde_json::to_value(p).unwrap();
            pair_provenance().shred(Some(&v), &mut generic, 0, 0, 0);
        }
        same(&direct, &generic);
    }
}
