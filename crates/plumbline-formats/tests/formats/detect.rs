use crate::support::*;
use plumbline_domain::TaskKind;
use plumbline_formats::Format;
use serde_json::json;

#[test]
fn ambiguous_records_are_refused_naming_the_candidates() {
    let line = json!({"chosen": "x", "rejected": "y", "message_id": "m", "parent_id": null, "message_tree_id": "m"});
    let e = read_bytes(line.to_string().into_bytes(), None, TaskKind::Preference).error();
    assert!(e.contains("ambiguous input"), "{e}");
    assert!(e.contains("hh-rlhf and oasst1"), "{e}");
    assert!(e.contains("--format"), "{e}");
}

#[test]
fn native_jsonl_is_the_fallback_and_says_so() {
    let line = json!({"id": "x", "context": [{"role": "user", "content": "hi"}], "candidates": [{"id": "a", "content": "1"}, {"id": "b", "content": "2"}]});
    let got = read_bytes(line.to_string().into_bytes(), None, TaskKind::Preference).ok();
    assert_eq!(got.outcome.detected.unwrap().format, Format::Native);
    // A first line of another shape is still read as native, whose reader names the fault.
    let got = read_bytes(br#"{"context": []}"#.to_vec(), None, TaskKind::Preference);
    assert!(got.error().contains("missing field `id`"));
}

#[test]
fn binary_and_empty_input_are_refused() {
    let e = read_bytes(b"\xff\xfe\x00garbage".to_vec(), None, TaskKind::Preference).error();
    assert!(e.contains("invalid UTF-8"), "{e}");
    let e = read_bytes(Vec::new(), None, TaskKind::Preference).error();
    assert!(e.contains("holds no items"), "{e}");
    let e = read_bytes(Vec::new(), Some(Format::HhRlhf), TaskKind::Preference).error();
    assert!(e.contains("holds no items"), "{e}");
}

#[test]
fn an_explicit_format_is_obeyed_and_its_refusals_named() {
    let e = read(
        "oasst1.jsonl",
        Some(Format::HhRlhf),
        None,
        TaskKind::Preference,
    )
    .error();
    assert_eq!(e, "line 1: field `chosen`: is missing");
    assert_eq!(
        read(
            "hh_rlhf.jsonl",
            Some(Format::HhRlhf),
            None,
            TaskKind::Preference
        )
        .outcome
        .detected
        .unwrap()
        .why,
        "named by --format"
    );
}
