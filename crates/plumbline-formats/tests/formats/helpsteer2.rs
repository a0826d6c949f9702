use crate::support::*;
use plumbline_domain::{Role, TaskKind};
use plumbline_formats::Format;
use serde_json::json;

#[test]
fn responses_to_one_prompt_become_one_rated_item() {
    let got = read("helpsteer2.jsonl", None, None, TaskKind::Rating).ok();
    assert_eq!(
        got.outcome.detected.as_ref().unwrap().format,
        Format::HelpSteer2
    );
    let items = got.parsed();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].candidates.len(), 2);
    assert_eq!(items[0].task, Some(TaskKind::Rating));
    assert_eq!(
        payloads(&got.items[0])[0]["scores"]["b"],
        json!({"helpfulness": 1, "correctness": 2, "coherence": 3, "complexity": 0, "verbosity": 0})
    );
    // The multi-turn prompt is split at its <extra_id_1> lines.
    let roles: Vec<Role> = items[1].context.iter().map(|t| t.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
    assert_eq!(got.items[1].line, 3);
}

#[test]
fn out_of_range_scores_are_named() {
    let e = read(
        "helpsteer2_out_of_range.jsonl",
        None,
        None,
        TaskKind::Rating,
    )
    .error();
    assert_eq!(
        e,
        "line 4: field `verbosity`: must be between 0 and 4, got 7"
    );
}

#[test]
fn a_rubric_without_the_attributes_is_refused_with_the_mapping() {
    let file = std::fs::File::open(fixture("helpsteer2.jsonl")).unwrap();
    let got = read_input(
        plumbline_formats::Input::File(file),
        None,
        None,
        plumbline_formats::ReadOptions::new(TaskKind::Rating),
    );
    let e = got.error();
    assert!(
        e.contains("no criterion `helpfulness`") && e.contains("0..4"),
        "{e}"
    );
}

#[test]
fn a_prompt_whose_rows_are_apart_is_refused() {
    let text = std::fs::read_to_string(fixture("helpsteer2.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let moved = [lines[0], lines[2], lines[3], lines[1]].join("\n");
    let e = read_bytes(moved.into_bytes(), None, TaskKind::Rating).error();
    assert!(
        e.starts_with("line 4: field `prompt`: this prompt's responses began at line 1"),
        "{e}"
    );
}
