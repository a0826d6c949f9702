//! Parquet fixtures written by pyarrow (Snappy), the writer Hugging Face datasets use.

use crate::support::*;
use plumbline_domain::TaskKind;
use plumbline_formats::Format;
use plumbline_formats::csv::Mapping;

#[test]
fn dataset_shapes_are_read_from_parquet_as_from_jsonl() {
    for (name, task, format) in [
        ("hh_rlhf", TaskKind::Preference, Format::HhRlhf),
        ("oasst1", TaskKind::Preference, Format::Oasst1),
        ("helpsteer2", TaskKind::Rating, Format::HelpSteer2),
    ] {
        let pq = read(&format!("{name}.parquet"), None, None, task).ok();
        let jl = read(&format!("{name}.jsonl"), None, None, task).ok();
        assert_eq!(pq.outcome.detected.as_ref().unwrap().format, format);
        assert!(
            pq.outcome
                .detected
                .as_ref()
                .unwrap()
                .why
                .contains("Parquet")
        );
        let bodies = |g: &Got| {
            g.items
                .iter()
                .map(|i| (i.ext_id.clone(), i.body.clone(), i.external.clone()))
                .collect::<Vec<_>>()
        };
        let (p, j) = (bodies(&pq), bodies(&jl));
        assert_eq!(p.len(), j.len(), "{name}");
        for (a, b) in p.iter().zip(&j) {
            assert_eq!(a.0, b.0, "{name}");
            assert_eq!(a.2, b.2, "{name}");
        }
    }
}

#[test]
fn flat_parquet_takes_a_column_mapping() {
    let m = Mapping::from_toml(&std::fs::read_to_string(fixture("pairs_mapping.toml")).unwrap())
        .unwrap();
    let got = read("pairs.parquet", None, Some(m), TaskKind::Preference).ok();
    assert_eq!(got.items.len(), 3);
    let e = read("pairs.parquet", None, None, TaskKind::Preference).error();
    assert!(
        e.contains("cannot tell the shape of this Parquet file (columns `ticket`"),
        "{e}"
    );
}

#[test]
fn a_truncated_parquet_file_is_refused() {
    let e = read(
        "hh_rlhf_truncated.parquet",
        None,
        None,
        TaskKind::Preference,
    )
    .error();
    assert!(e.contains("not a readable Parquet file"), "{e}");
    let e = read(
        "hh_rlhf.jsonl",
        Some(Format::Parquet),
        None,
        TaskKind::Preference,
    )
    .error();
    assert!(e.contains("not a Parquet file"), "{e}");
}
