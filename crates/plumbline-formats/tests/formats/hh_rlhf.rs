use crate::support::*;
use plumbline_domain::{Role, TaskKind};
use plumbline_formats::Format;
use serde_json::json;

#[test]
fn shared_prefix_becomes_context_and_the_choice_an_external_judgment() {
    let got = read("hh_rlhf.jsonl", None, None, TaskKind::Preference).ok();
    let detected = got.outcome.detected.clone().unwrap();
    assert_eq!(detected.format, Format::HhRlhf);
    assert!(detected.why.contains("`chosen`"), "{}", detected.why);
    let items = got.parsed();
    assert_eq!(items.len(), 4);
    // Line 2: a four-turn dialogue; three shared turns, then the two replies.
    let two = &items[1];
    let roles: Vec<Role> = two.context.iter().map(|t| t.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
    assert_eq!(two.context[2].content, "I never made it.");
    assert_eq!(two.task, Some(TaskKind::Preference));
    let stored = &got.items[1];
    assert_eq!(stored.external.len(), 1);
    let j = &stored.external[0];
    assert_eq!(
        (j.source.as_str(), j.task),
        ("hh-rlhf", TaskKind::Preference)
    );
    let winner = payloads(stored)[0]["winner"].as_str().unwrap().to_owned();
    let chosen = two.candidate(&winner).unwrap();
    assert!(
        chosen.content.starts_with("Then report it as unauthorised"),
        "{}",
        chosen.content
    );
    // HH records no strength: unknown, not 0.
    assert_eq!(payloads(stored)[0]["strength"], json!(null));
    // The chosen reply is not always candidate `a`.
    let winners: Vec<String> = got
        .items
        .iter()
        .map(|i| payloads(i)[0]["winner"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        winners.contains(&"a".to_owned()) && winners.contains(&"b".to_owned()),
        "{winners:?}"
    );
}

#[test]
fn ids_are_stable_across_reads() {
    let a = read(
        "hh_rlhf.jsonl",
        Some(Format::HhRlhf),
        None,
        TaskKind::Preference,
    )
    .ok();
    let b = read(
        "hh_rlhf.jsonl",
        Some(Format::HhRlhf),
        None,
        TaskKind::Preference,
    )
    .ok();
    let ids = |g: &Got| g.items.iter().map(|i| i.ext_id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b));
    assert!(ids(&a)[0].starts_with("hh-"));
}

#[test]
fn dialogues_without_a_shared_prefix_are_refused_by_line() {
    let e = read("hh_rlhf_no_prefix.jsonl", None, None, TaskKind::Preference).error();
    assert!(e.starts_with("line 3: field `rejected`: "), "{e}");
    assert!(e.contains("share no prefix"), "{e}");
}

#[test]
fn dialogues_differing_before_the_last_reply_are_refused() {
    let line = json!({
        "chosen": "\n\nHuman: Hi\n\nAssistant: Hello\n\nHuman: Rates?\n\nAssistant: 4%",
        "rejected": "\n\nHuman: Hi\n\nAssistant: Go away\n\nHuman: Rates?\n\nAssistant: 4%",
    });
    let e = read_bytes(
        line.to_string().into_bytes(),
        Some(Format::HhRlhf),
        TaskKind::Preference,
    )
    .error();
    assert!(
        e.contains("line 1") && e.contains("differ at turn 2"),
        "{e}"
    );
}

#[test]
fn truncated_files_missing_fields_and_bad_utf8_are_named() {
    let e = read("hh_rlhf_truncated.jsonl", None, None, TaskKind::Preference).error();
    assert!(e.starts_with("line 3: ") && e.contains("truncated"), "{e}");
    let e = read_bytes(
        br#"{"chosen": "\n\nHuman: x\n\nAssistant: y"}"#.to_vec(),
        Some(Format::HhRlhf),
        TaskKind::Preference,
    )
    .error();
    assert_eq!(e, "line 1: field `rejected`: is missing");
    let e = read_bytes(
        br#"{"chosen": 3, "rejected": "x"}"#.to_vec(),
        Some(Format::HhRlhf),
        TaskKind::Preference,
    )
    .error();
    assert!(
        e.contains("field `chosen`: must be a string, not a number"),
        "{e}"
    );
    let mut bytes = std::fs::read(fixture("hh_rlhf.jsonl")).unwrap();
    bytes.extend_from_slice(b"{\"chosen\": \"\xff\"}\n");
    let e = read_bytes(bytes, None, TaskKind::Preference).error();
    assert!(e.starts_with("line 5: invalid UTF-8"), "{e}");
}
