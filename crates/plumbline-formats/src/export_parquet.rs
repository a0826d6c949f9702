//! Preference pairs as Parquet, the shape TRL and `datasets` read: `prompt`, `chosen`
//! and `rejected` as lists of `{role, content}` structs; `strength` (int64, null when
//! unknown), `margin` (double, reward exports), `item_id`, `split`; `criteria`, `tags` and
//! `provenance` as JSON text. Written with the `parquet` crate's column writers (no
//! Arrow), Snappy-compressed, in row groups of 8,192 pairs (one row group in memory).

use crate::export::RowSink;
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use serde_json::Value;
use std::fs::File;
use std::io;
use std::path::Path;
use std::sync::Arc;

const ROW_GROUP: usize = 8192;

/// One message-list column: role and content values with their levels.
#[derive(Default)]
struct Messages {
    roles: Vec<ByteArray>,
    contents: Vec<ByteArray>,
    def: Vec<i16>,
    rep: Vec<i16>,
}

impl Messages {
    fn push(&mut self, list: Option<&Value>) {
        let items = list
            .and_then(Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        if items.is_empty() {
            // An empty list: one level entry, no value.
            self.def.push(0);
            self.rep.push(0);
            return;
        }
        for (i, m) in items.iter().enumerate() {
            let text = |k: &str| {
                ByteArray::from(
                    m.get(k)
                        .and_then(Value::as_str)
                        .unwrap_or("")
                        .as_bytes()
                        .to_vec(),
                )
            };
            self.roles.push(text("role"));
            self.contents.push(text("content"));
            self.def.push(1);
            self.rep.push(if i == 0 { 0 } else { 1 });
        }
    }

    fn clear(&mut self) {
        self.roles.clear();
        self.contents.clear();
        self.def.clear();
        self.rep.clear();
    }
}

/// Buffers a row group of pairs and writes it.
pub struct PairParquetSink {
    writer: Option<SerializedFileWriter<File>>,
    reward: bool,
    rows: usize,
    lists: [Messages; 3],
    strength: (Vec<i64>, Vec<i16>),
    margin: Vec<f64>,
    item_id: Vec<ByteArray>,
    split: (Vec<ByteArray>, Vec<i16>),
    criteria: Vec<ByteArray>,
    tags: Vec<ByteArray>,
    provenance: Vec<ByteArray>,
}

fn schema(reward: bool) -> String {
    let list = |name: &str| {
        format!(
            "REQUIRED group {name} (LIST) {{ REPEATED group list {{ REQUIRED group element {{
               REQUIRED BYTE_ARRAY role (UTF8); REQUIRED BYTE_ARRAY content (UTF8); }} }} }}"
        )
    };
    format!(
        "message pair {{ {} {} {} OPTIONAL INT64 strength; {} REQUIRED BYTE_ARRAY item_id (UTF8);
           OPTIONAL BYTE_ARRAY split (UTF8); REQUIRED BYTE_ARRAY criteria (UTF8);
           REQUIRED BYTE_ARRAY tags (UTF8); REQUIRED BYTE_ARRAY provenance (UTF8); }}",
        list("prompt"),
        list("chosen"),
        list("rejected"),
        if reward {
            "REQUIRED DOUBLE margin;"
        } else {
            ""
        }
    )
}

fn other(e: parquet::errors::ParquetError) -> io::Error {
    io::Error::other(e.to_string())
}

impl PairParquetSink {
    /// Creates `path`; `reward` adds the `margin` column.
    pub fn create(path: &Path, reward: bool) -> io::Result<Self> {
        let schema = Arc::new(parse_message_type(&schema(reward)).map_err(other)?);
        let props = Arc::new(
            WriterProperties::builder()
                .set_compression(Compression::SNAPPY)
                .build(),
        );
        let file = File::create(path)?;
        Ok(PairParquetSink {
            writer: Some(SerializedFileWriter::new(file, schema, props).map_err(other)?),
            reward,
            rows: 0,
            lists: Default::default(),
            strength: Default::default(),
            margin: Vec::new(),
            item_id: Vec::new(),
            split: Default::default(),
            criteria: Vec::new(),
            tags: Vec::new(),
            provenance: Vec::new(),
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
                    let m = &self.lists[index / 2];
                    let values = if index % 2 == 0 {
                        &m.roles
                    } else {
                        &m.contents
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
                                .write_batch(&self.margin, None, None)
                                .map_err(other)?;
                        }
                        1 => {
                            col.typed::<ByteArrayType>()
                                .write_batch(&self.item_id, None, None)
                                .map_err(other)?;
                        }
                        2 => {
                            col.typed::<ByteArrayType>()
                                .write_batch(&self.split.0, Some(&self.split.1), None)
                                .map_err(other)?;
                        }
                        3 => {
                            col.typed::<ByteArrayType>()
                                .write_batch(&self.criteria, None, None)
                                .map_err(other)?;
                        }
                        4 => {
                            col.typed::<ByteArrayType>()
                                .write_batch(&self.tags, None, None)
                                .map_err(other)?;
                        }
                        _ => {
                            col.typed::<ByteArrayType>()
                                .write_batch(&self.provenance, None, None)
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
        self.margin.clear();
        self.item_id.clear();
        self.split.0.clear();
        self.split.1.clear();
        self.criteria.clear();
        self.tags.clear();
        self.provenance.clear();
        self.rows = 0;
        Ok(())
    }
}

fn json_text(v: Option<&Value>) -> ByteArray {
    ByteArray::from(
        v.map_or_else(|| "null".to_owned(), Value::to_string)
            .into_bytes(),
    )
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
            self.margin
                .push(row.get("margin").and_then(Value::as_f64).unwrap_or(0.0));
        }
        self.item_id.push(ByteArray::from(
            row.get("item_id")
                .and_then(Value::as_str)
                .unwrap_or("")
                .as_bytes()
                .to_vec(),
        ));
        match row.get("split").and_then(Value::as_str) {
            Some(s) => {
                self.split.0.push(ByteArray::from(s.as_bytes().to_vec()));
                self.split.1.push(1);
            }
            None => self.split.1.push(0),
        }
        self.criteria.push(json_text(row.get("criteria")));
        self.tags.push(json_text(row.get("tags")));
        self.provenance.push(json_text(row.get("provenance")));
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
