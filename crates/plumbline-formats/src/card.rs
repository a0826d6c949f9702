//! The dataset card of a release: `README.md` with YAML front matter that makes the release
//! directory a Hugging Face dataset folder (`datasets.load_dataset(dir)`), followed by the
//! datasheet. The front matter names the one data file in `configs` (so no other file of
//! the release is read as data) and declares `dataset_info.features`, derived from the
//! kind's Parquet schema: the same features for JSONL and Parquet, the open-ended maps
//! (JSON text in both) as `json`.

use crate::release::FileFormat;
use crate::run::Kind;
use parquet::basic::{ConvertedType, LogicalType, Repetition, Type as Physical};
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::Type;
use std::fmt::Write as _;

/// Fields that hold an open-ended map, written as the same JSON text in Parquet and
/// JSONL: the `json` feature, which gives the object back from either.
pub const JSON_FIELDS: [&str; 6] = [
    "criteria",
    "scores",
    "violations",
    "payload",
    "mean_rank",
    "spread",
];

/// The Parquet schema (message type text) a data file of `kind` is written with.
pub fn parquet_schema(kind: Kind, criteria: &[String]) -> Result<String, String> {
    use crate::export_table::{columns, schema, sft_columns};
    Ok(match kind.rows() {
        Some(rk) => schema(&columns(rk, criteria)?),
        None if kind == Kind::Sft => schema(&sft_columns()),
        None => crate::export_parquet::schema(kind == Kind::Reward),
    })
}

/// The YAML front matter (between `---` lines, both included) of a release of `kind` in
/// `format` whose data file is `data_name`.
pub fn front_matter(
    kind: Kind,
    format: FileFormat,
    criteria: &[String],
    data_name: &str,
) -> Result<String, String> {
    // Rating's per-criterion columns are Parquet's alone (JSONL has `scores`), and a
    // criterion may share a fixed column's name in JSONL.
    let criteria = match format {
        FileFormat::Parquet => criteria,
        FileFormat::Jsonl => &[],
    };
    let text = parquet_schema(kind, criteria)?;
    let schema = parse_message_type(&text).map_err(|e| e.to_string())?;
    let mut o = String::from("---\n");
    let _ = writeln!(o, "configs:\n- config_name: {}", kind.as_str());
    let _ = writeln!(o, "  default: true\n  data_files:");
    let _ = writeln!(o, "  - split: train\n    path: {data_name}");
    let _ = writeln!(o, "dataset_info:\n  config_name: {}", kind.as_str());
    let _ = writeln!(o, "  features:");
    for field in schema.get_fields() {
        feature(&mut o, field, 2);
    }
    let _ = writeln!(o, "tags:\n- plumbline\n- rlhf\n---");
    Ok(o)
}

/// Appends `field` as an item of a `features` list, `indent` spaces deep.
fn feature(o: &mut String, field: &Type, indent: usize) {
    let pad = " ".repeat(indent);
    let _ = writeln!(o, "{pad}- name: {}", yaml_name(field.name()));
    ty(o, field, indent + 2);
}

/// Appends the type of `field` (`dtype`, `list` or `struct`), `indent` spaces deep.
fn ty(o: &mut String, field: &Type, indent: usize) {
    let pad = " ".repeat(indent);
    if let Some(element) = list_element(field) {
        match dtype(element) {
            Some(d) => {
                let _ = writeln!(o, "{pad}list: {d}");
            }
            None if list_element(element).is_some() => {
                let _ = writeln!(o, "{pad}list:");
                ty(o, element, indent + 2);
            }
            None => {
                let _ = writeln!(o, "{pad}list:");
                for f in element.get_fields() {
                    feature(o, f, indent);
                }
            }
        }
    } else if let Some(d) = dtype(field) {
        let _ = writeln!(o, "{pad}dtype: {d}");
    } else {
        let _ = writeln!(o, "{pad}struct:");
        for f in field.get_fields() {
            feature(o, f, indent);
        }
    }
}

/// The element of a Parquet LIST group (`group (LIST) { repeated group list { element } }`).
fn list_element(field: &Type) -> Option<&Type> {
    if !field.is_group() {
        return None;
    }
    let info = field.get_basic_info();
    let is_list = info.converted_type() == ConvertedType::LIST
        || matches!(info.logical_type_ref(), Some(LogicalType::List));
    if !is_list {
        return None;
    }
    let repeated = field.get_fields().first()?;
    if repeated.get_basic_info().repetition() != Repetition::REPEATED {
        return None;
    }
    match repeated.get_fields() {
        [element] => Some(element.as_ref()),
        _ => None,
    }
}

/// The `datasets` dtype of a primitive field (None for a group).
fn dtype(field: &Type) -> Option<&'static str> {
    if field.is_group() {
        return None;
    }
    Some(match field.get_physical_type() {
        Physical::BYTE_ARRAY if JSON_FIELDS.contains(&field.name()) => "json",
        Physical::BYTE_ARRAY | Physical::FIXED_LEN_BYTE_ARRAY => "string",
        Physical::INT64 => "int64",
        Physical::INT32 => "int32",
        Physical::DOUBLE => "float64",
        Physical::FLOAT => "float32",
        Physical::BOOLEAN => "bool",
        Physical::INT96 => "string",
    })
}

/// A column name as a YAML scalar: plain when it is a plain word, else double-quoted.
fn yaml_name(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !name.starts_with('-')
        && !matches!(
            name.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n" | "~"
        )
        && name.parse::<f64>().is_err()
    {
        name.to_owned()
    } else {
        serde_json::to_string(name).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preference_card_names_the_data_file_and_every_column() {
        let fm =
            front_matter(Kind::Preference, FileFormat::Jsonl, &[], "preference.jsonl").unwrap();
        assert!(fm.starts_with("---\nconfigs:\n- config_name: preference\n  default: true\n  data_files:\n  - split: train\n    path: preference.jsonl\n"), "{fm}");
        assert!(fm.ends_with("---\n"), "{fm}");
        for needle in [
            "  - name: prompt\n    list:\n    - name: role\n      dtype: string\n    - name: content\n      dtype: string\n",
            "  - name: strength\n    dtype: int64\n",
            "  - name: criteria\n    dtype: json\n",
            "  - name: tags\n    list: string\n",
            "  - name: provenance\n    struct:\n",
            "    - name: decision\n      dtype: string\n",
            "    - name: posterior\n      dtype: float64\n",
            "    - name: vote_weights\n      list:\n      - name: annotator\n        dtype: string\n",
        ] {
            assert!(fm.contains(needle), "missing {needle:?} in\n{fm}");
        }
        assert!(!fm.contains("margin"), "{fm}");
        assert!(!fm.contains("MANIFEST"), "{fm}");
    }

    #[test]
    fn rating_card_has_criterion_columns_in_parquet_only() {
        let criteria = vec!["helpfulness".to_owned(), "yes".to_owned()];
        let pq = front_matter(
            Kind::Rating,
            FileFormat::Parquet,
            &criteria,
            "rating.parquet",
        )
        .unwrap();
        assert!(
            pq.contains("  - name: helpfulness\n    dtype: float64\n"),
            "{pq}"
        );
        assert!(
            pq.contains("  - name: \"yes\"\n    dtype: float64\n"),
            "{pq}"
        );
        assert!(pq.contains("  - name: scores\n    dtype: json\n"), "{pq}");
        assert!(
            pq.contains("      - name: spread\n")
                || pq.contains("    - name: spread\n      dtype: json\n"),
            "{pq}"
        );
        let jl = front_matter(Kind::Rating, FileFormat::Jsonl, &criteria, "rating.jsonl").unwrap();
        assert!(!jl.contains("helpfulness"), "{jl}");
        assert!(jl.contains("  - name: scores\n    dtype: json\n"), "{jl}");
    }

    #[test]
    fn ranking_order_and_reward_margin() {
        let r = front_matter(Kind::Ranking, FileFormat::Parquet, &[], "ranking.parquet").unwrap();
        assert!(
            r.contains("  - name: order\n    list:\n      list: string\n"),
            "{r}"
        );
        assert!(
            r.contains("    - name: mean_rank\n      dtype: json\n"),
            "{r}"
        );
        let w = front_matter(Kind::Reward, FileFormat::Parquet, &[], "reward.parquet").unwrap();
        assert!(w.contains("  - name: margin\n    dtype: float64\n"), "{w}");
    }
}
