use crate::support::*;
use plumbline_domain::{Role, TaskKind};
use plumbline_formats::Format;
use plumbline_formats::csv::Mapping;
use serde_json::json;

fn mapping() -> Mapping {
    Mapping::from_toml(&std::fs::read_to_string(fixture("pairs_mapping.toml")).unwrap()).unwrap()
}

#[test]
fn mapped_columns_make_items_and_the_winner_an_external_judgment() {
    let got = read("pairs.csv", None, Some(mapping()), TaskKind::Preference).ok();
    assert_eq!(got.outcome.detected.as_ref().unwrap().format, Format::Csv);
    let items = got.parsed();
    assert_eq!(items.len(), 3);
    assert_eq!(items[0].id, "T-1");
    assert_eq!(items[0].context[0].role, Role::User);
    assert_eq!(items[0].tags, ["edge:bereavement", "channel:chat"]);
    assert_eq!(items[0].metadata["channel"], json!("chat"));
    assert!(items[1].candidates[0].content.contains("\"usually\""));
    assert_eq!(payloads(&got.items[0])[0]["winner"], json!("a"));
    assert_eq!(payloads(&got.items[2])[0]["winner"], json!("tie"));
    assert_eq!(got.items[2].line, 4);
}

#[test]
fn truncated_rows_bad_utf8_and_missing_columns_are_named() {
    let e = read(
        "pairs_truncated.csv",
        None,
        Some(mapping()),
        TaskKind::Preference,
    )
    .error();
    assert!(
        e.starts_with("line 4: has 2 fields where the header has 7"),
        "{e}"
    );
    let e = read(
        "pairs_bad_utf8.csv",
        None,
        Some(mapping()),
        TaskKind::Preference,
    )
    .error();
    assert_eq!(
        e,
        "line 3: field `answer_b`: invalid UTF-8 at byte 6 of the field"
    );
    let mut m = mapping();
    m.prompt = "query".into();
    let e = read("pairs.csv", None, Some(m), TaskKind::Preference).error();
    assert!(
        e.contains("field `query`: the mapping names column `query`, which the file lacks"),
        "{e}"
    );
    let mut m = mapping();
    m.candidates.push("channel".into());
    assert!(m.check().is_err());
}

#[test]
fn an_unknown_winner_is_named() {
    let text = std::fs::read_to_string(fixture("pairs.csv"))
        .unwrap()
        .replacen("answer_a,edge", "answer_c,edge", 1);
    let file = tempfile(&text);
    let got = read_input(
        plumbline_formats::Input::File(file),
        None,
        Some(mapping()),
        options(TaskKind::Preference),
    );
    let e = got.error();
    assert!(
        e.starts_with("line 2: field `preferred`: `answer_c` names no candidate"),
        "{e}"
    );
}

#[test]
fn csv_without_a_mapping_is_not_guessed() {
    let got = read("pairs.csv", None, None, TaskKind::Preference);
    let e = got.error();
    assert!(
        e.contains("cannot tell the format") && e.contains("--prompt-column"),
        "{e}"
    );
}

fn tempfile(text: &str) -> std::fs::File {
    let path = std::env::temp_dir().join(format!(
        "plumbline-formats-{}-{}.csv",
        std::process::id(),
        text.len()
    ));
    std::fs::write(&path, text).unwrap();
    std::fs::File::open(&path).unwrap()
}
