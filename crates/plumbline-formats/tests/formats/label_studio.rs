use crate::support::*;
use plumbline_domain::TaskKind;
use plumbline_formats::Format;
use serde_json::json;

#[test]
fn pairwise_tasks_become_preferences_with_one_judgment_per_annotation() {
    let got = read(
        "label_studio_pairwise.json",
        None,
        None,
        TaskKind::Preference,
    )
    .ok();
    assert_eq!(
        got.outcome.detected.as_ref().unwrap().format,
        Format::LabelStudio
    );
    let items = got.parsed();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].id, "ls-101");
    let ids: Vec<&str> = items[0].candidates.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["answer1", "answer2"]);
    assert_eq!(got.items[0].external.len(), 2);
    assert_eq!(payloads(&got.items[1])[0]["winner"], json!("answer2"));
    assert_eq!(
        got.items[0].external[0].rationale.as_deref(),
        Some("Label Studio annotation 11 by 3")
    );
    // A task nobody annotated is imported without judgments.
    assert!(got.items[2].external.is_empty());
    assert_eq!(got.items[1].line, 56, "the line where task 2 starts");
}

#[test]
fn ranker_tasks_become_rankings() {
    let got = read("label_studio_ranker.json", None, None, TaskKind::Preference).ok();
    let items = got.parsed();
    assert_eq!(items[0].task, Some(TaskKind::Ranking));
    assert_eq!(items[0].candidates.len(), 3);
    assert_eq!(
        payloads(&got.items[0])[0]["order"],
        json!([["r1"], ["r3"], ["r2"]])
    );
    assert_eq!(
        got.items[0].external[0].rationale.as_deref(),
        Some("Label Studio annotation 21 by lead@bank.example")
    );
}

#[test]
fn an_unknown_control_is_named() {
    let e = read(
        "label_studio_unknown_control.json",
        None,
        None,
        TaskKind::Preference,
    )
    .error();
    assert!(e.contains("field `annotations[0].result[1].type`"), "{e}");
    assert!(
        e.contains("task 2: unknown control `choices` (from_name `sentiment`)"),
        "{e}"
    );
}

#[test]
fn truncated_and_malformed_exports_are_refused() {
    let e = read(
        "label_studio_truncated.json",
        None,
        None,
        TaskKind::Preference,
    )
    .error();
    assert!(e.contains("truncated"), "{e}");
    let bad = br#"[{"id": 1, "data": {"answer1": "x", "answer2": "y"}, "annotations": []}]"#;
    let e = read_bytes(
        bad.to_vec(),
        Some(Format::LabelStudio),
        TaskKind::Preference,
    )
    .error();
    assert!(
        e.contains("field `data`: task 1: has no prompt field"),
        "{e}"
    );
    let sel = br#"[{"id": 1, "data": {"prompt": "p", "answer1": "x", "answer2": "y"}, "annotations": [{"id": 1, "result": [{"type": "pairwise", "from_name": "pw", "to_name": "answer1,answer2", "value": {"selected": "middle"}}]}]}]"#;
    let e = read_bytes(
        sel.to_vec(),
        Some(Format::LabelStudio),
        TaskKind::Preference,
    )
    .error();
    assert!(
        e.contains("value.selected`: task 1: must be `left` or `right`"),
        "{e}"
    );
    let e = read_bytes(
        b"{\"id\": 1}".to_vec(),
        Some(Format::LabelStudio),
        TaskKind::Preference,
    )
    .error();
    assert!(e.contains("expected a JSON array of tasks"), "{e}");
}

#[test]
fn documents_over_the_cap_are_refused_before_parsing() {
    let mut opts = options(TaskKind::Preference);
    opts.max_document_bytes = 100;
    let file = std::fs::File::open(fixture("label_studio_pairwise.json")).unwrap();
    let got = read_input(plumbline_formats::Input::File(file), None, None, opts);
    assert!(got.error().contains("larger than the limit of 100 bytes"));
}
