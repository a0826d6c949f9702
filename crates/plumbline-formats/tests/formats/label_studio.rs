use crate::support::*;
use plumbline_domain::{Item, Role, Scale, TaskKind};
use plumbline_formats::label_studio::{SOURCE, pseudonym, strength};
use plumbline_formats::{Format, ReadOptions};
use plumbline_store::NewItem;
use serde_json::{Value, json};

/// A project whose rubric has the criteria the shipped templates rate: Chatbot
/// Assessment's `likert_scale` (1–7) and Response Grading's `rating` (1–5).
fn rated_options() -> ReadOptions {
    let mut o = options(TaskKind::Preference);
    o.criteria
        .insert("likert_scale".into(), Scale { min: 1, max: 7 });
    o.criteria.insert("rating".into(), Scale { min: 1, max: 5 });
    o
}

/// Reads one export of `label_studio/`.
fn export(name: &str) -> Got {
    let file = std::fs::File::open(fixture(&format!("label_studio/{name}"))).unwrap();
    read_input(
        plumbline_formats::Input::File(file),
        None,
        None,
        rated_options(),
    )
}

/// An item's judgments as (source, payload, time on task), sorted: JSON and JSON_MIN list
/// a task's annotations in different orders.
fn votes(item: &NewItem) -> Vec<(String, Value, Option<i64>)> {
    let mut v: Vec<_> = item
        .external
        .iter()
        .map(|j| {
            (
                j.source.clone(),
                serde_json::from_str(&j.payload).unwrap(),
                j.time_ms,
            )
        })
        .collect();
    v.sort_by(|a, b| format!("{a:?}").cmp(&format!("{b:?}")));
    v
}

fn voter(user: &str) -> String {
    format!("{SOURCE}/{}", pseudonym(user))
}

#[test]
fn shipped_pairwise_in_both_shapes_keeps_models_extra_data_and_each_annotator() {
    let full = export("pairwise.json").ok();
    let min = export("pairwise.min.json").ok();
    assert_eq!(
        full.outcome.detected.as_ref().unwrap().format,
        Format::LabelStudio
    );
    assert_eq!(
        min.outcome.detected.as_ref().unwrap().format,
        Format::LabelStudio
    );
    let items = full.parsed();
    // Label Studio exports annotated tasks only, in both shapes.
    assert_eq!((items.len(), min.parsed().len()), (2, 2));
    assert_eq!(min.parsed(), items);
    let first = &items[0];
    assert_eq!(first.task, Some(TaskKind::Preference));
    assert_eq!(
        first.context[0].content,
        "My card was stolen abroad. What do I do first?"
    );
    assert_eq!(first.candidates[0].model.as_deref(), Some("plumbline-7b"));
    assert_eq!(first.candidates[1].model.as_deref(), Some("baseline-3b"));
    assert_eq!(first.metadata["task_id"], json!(1));
    assert_eq!(
        first.metadata["data"],
        json!({"model_a": "plumbline-7b", "model_b": "baseline-3b", "conversation_id": "conv-001"})
    );
    // Two annotators are two voters, each with the time they took.
    let both = votes(&full.items[0]);
    assert_eq!(both, votes(&min.items[0]));
    let sources: Vec<&str> = both.iter().map(|v| v.0.as_str()).collect();
    assert_eq!(sources.len(), 2);
    assert_ne!(sources[0], sources[1]);
    assert!(sources.contains(&voter("2").as_str()) && sources.contains(&voter("3").as_str()));
    let times: Vec<Option<i64>> = both.iter().map(|v| v.2).collect();
    assert!(
        times.contains(&Some(12_500)) && times.contains(&Some(30_250)),
        "{times:?}"
    );
    assert_eq!(both[0].1["winner"], json!("answer1"));
    assert_eq!(both[0].1["strength"], Value::Null);
    // Ground truth is proposed as gold, for a lead to accept; nothing else is.
    assert!(full.items[1].external[0].gold_candidate);
    assert!(full.items[0].external.iter().all(|j| !j.gold_candidate));
    let note = full.items[1].external[0].rationale.as_deref().unwrap();
    assert!(
        note.ends_with("; marked ground truth in Label Studio"),
        "{note}"
    );
}

#[test]
fn pairwise_reason_and_strength_fields_become_rationale_and_strength() {
    for name in ["pairwise_reason.json", "pairwise_reason.min.json"] {
        let got = export(name).ok();
        let v = votes(&got.items[0]);
        let by1 = v.iter().find(|x| x.0 == voter("2")).unwrap();
        assert_eq!(by1.1["strength"], json!(3), "{name}");
        assert_eq!(
            by1.1["rationale"],
            json!("Freezing first stops fraud."),
            "{name}"
        );
        let by2 = v.iter().find(|x| x.0 == voter("3")).unwrap();
        assert_eq!(by2.1["strength"], json!(2), "{name}");
        assert!(by2.1.get("rationale").is_none(), "{name}");
        let reasoned = &payloads(&got.items[1])[0];
        assert_eq!(reasoned["winner"], json!("answer2"));
        assert_eq!(reasoned["rationale"], json!("It answers the question."));
    }
    assert_eq!(strength("0 - Negligible"), Some(0));
    assert_eq!(strength("Slightly better"), Some(1));
    assert_eq!(strength("5 - Yes"), None);
    assert_eq!(strength("Reason"), None);
}

#[test]
fn ranker_buckets_rank_in_their_order_with_model_names() {
    for name in ["ranker.json", "ranker.min.json"] {
        let got = export(name).ok();
        let item = &got.parsed()[0];
        assert_eq!(item.task, Some(TaskKind::Ranking));
        let models: Vec<&str> = item
            .candidates
            .iter()
            .filter_map(|c| c.model.as_deref())
            .collect();
        assert_eq!(models, ["LlamaModel", "CobraAI", "OpossumLogic"], "{name}");
        assert_eq!(
            item.context[0].content,
            "My card was stolen abroad. What do I do first?"
        );
        // The annotator instructions (`task`) are kept, not read as the prompt.
        assert!(
            item.metadata["data"]["task"]
                .as_str()
                .unwrap()
                .starts_with("Rank the replies")
        );
        let v = votes(&got.items[0]);
        let by1 = v.iter().find(|x| x.0 == voter("2")).unwrap();
        assert_eq!(
            by1.1["order"],
            json!([["llama_model"], ["opossum_logic"], ["cobra_ai"]]),
            "{name}"
        );
        // An item left in no bucket ranks last.
        let by2 = v.iter().find(|x| x.0 == voter("3")).unwrap();
        assert_eq!(
            by2.1["order"],
            json!([["llama_model"], ["cobra_ai"], ["opossum_logic"]]),
            "{name}"
        );
    }
}

#[test]
fn chatbot_assessment_rates_the_final_reply_of_the_conversation() {
    let got = export("chatbot_assessment.json").ok();
    let item = &got.parsed()[0];
    assert_eq!(item.task, Some(TaskKind::Rating));
    let roles: Vec<Role> = item.context.iter().map(|t| t.role).collect();
    assert_eq!(roles, [Role::User, Role::Assistant, Role::User]);
    assert_eq!(item.candidates[0].id, "response");
    assert_eq!(
        item.candidates[0].content,
        "A one-year fixed deposit pays 3.4%."
    );
    assert_eq!(item.candidates[0].model.as_deref(), Some("plumbline-7b"));
    let v = votes(&got.items[0]);
    let mut scores: Vec<i64> = v
        .iter()
        .map(|x| x.1["scores"]["response"]["likert_scale"].as_i64().unwrap())
        .collect();
    scores.sort();
    assert_eq!(scores, [4, 6]);
    let notes: Vec<&str> = got.items[0]
        .external
        .iter()
        .map(|j| j.rationale.as_deref().unwrap())
        .collect();
    assert!(
        notes[0].ends_with("; fails_to_follow: No; hallucination: No"),
        "{notes:?}"
    );
    // Label Studio's JSON_MIN leaves the Likert rating out (its Rating has no toName):
    // the item is the same, the annotations are left out and said so.
    let min = export("chatbot_assessment.min.json").ok();
    assert_eq!(&min.parsed()[0], item);
    assert!(min.items[0].external.is_empty());
    let skipped: u64 = min.outcome.summary.skipped.values().sum();
    assert_eq!(skipped, 2);
}

#[test]
fn response_grading_rates_the_summary_of_the_document() {
    for name in ["response_grading.json", "response_grading.min.json"] {
        let got = export(name).ok();
        let item = &got.parsed()[0];
        assert_eq!(item.task, Some(TaskKind::Rating));
        assert!(
            item.context[0]
                .content
                .starts_with("Our savings account pays 2.1%")
        );
        assert!(item.context[0].content.contains("\n\nFixed deposits"));
        assert_eq!(item.candidates[0].id, "summary");
        let v = votes(&got.items[0]);
        let stars: Vec<&Value> = v
            .iter()
            .map(|x| &x.1["scores"]["summary"]["rating"])
            .collect();
        assert!(
            stars.contains(&&json!(5)) && stars.contains(&&json!(4)),
            "{name}"
        );
    }
    // A rubric without the rated criterion: refused, saying what to add.
    let file = std::fs::File::open(fixture("label_studio/response_grading.json")).unwrap();
    let got = read_input(
        plumbline_formats::Input::File(file),
        None,
        None,
        options(TaskKind::Preference),
    );
    let e = got.error();
    assert!(e.contains("task 1 (id 8)"), "{e}");
    assert!(e.contains("annotations[0].result[0]"), "{e}");
    assert!(e.contains("add a criterion `rating`"), "{e}");
}

#[test]
fn supervised_llm_text_is_a_demonstration() {
    for name in ["supervised_llm.json", "supervised_llm.min.json"] {
        let got = export(name).ok();
        let item = &got.parsed()[0];
        assert_eq!(item.task, Some(TaskKind::Demonstration));
        assert!(item.candidates.is_empty());
        let p = &payloads(&got.items[0])[0];
        assert!(
            p["response"]
                .as_str()
                .unwrap()
                .starts_with("Sorry about that"),
            "{name}"
        );
        assert_eq!(got.items[0].external[0].time_ms, Some(60_000));
        assert_eq!(
            item.metadata["data"],
            json!({"conversation_id": "conv-030"})
        );
    }
}

#[test]
fn a_dialogue_is_the_context_with_its_speakers() {
    for name in ["dialogue_pairwise.json", "dialogue_pairwise.min.json"] {
        let got = export(name).ok();
        let item: &Item = &got.parsed()[0];
        let said: Vec<(Role, Option<&str>, &str)> = item
            .context
            .iter()
            .map(|t| (t.role, t.speaker.as_deref(), t.content.as_str()))
            .collect();
        assert_eq!(
            said[0],
            (Role::User, Some("user"), "Hi, I need help with my card.")
        );
        assert_eq!(said[1].0, Role::Assistant);
        assert_eq!(said.len(), 3, "{name}");
        assert_eq!(
            item.metadata["data"]["prompt"],
            json!("Reply to the customer.")
        );
        assert_eq!(got.items[0].external.len(), 2);
    }
}

#[test]
fn mixed_shapes_and_unreadable_min_outputs_are_named() {
    let mixed = br#"[{"id": 1, "data": {"prompt": "p", "answer1": "x", "answer2": "y"}},
 {"prompt": "p", "answer1": "x", "answer2": "y", "id": 2, "comparison": [{"selected": "left"}]}]"#;
    let e = read_bytes(mixed.to_vec(), None, TaskKind::Preference).error();
    assert!(e.contains("line 2"), "{e}");
    assert!(
        e.contains("task 2: is missing: this row is JSON_MIN"),
        "{e}"
    );
    let odd = br#"[{"prompt": "p", "id": 7, "score": {"x": 1}, "annotator": 1}]"#;
    let e = read_bytes(odd.to_vec(), None, TaskKind::Preference).error();
    assert!(
        e.contains("field `score`: task 1 (id 7): cannot tell which control wrote an object"),
        "{e}"
    );
}

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
        Some(format!("Label Studio annotation 11 by {}", pseudonym("3")).as_str())
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
        Some(format!("Label Studio annotation 21 by {}", pseudonym("5")).as_str())
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
        e.contains("task 2 (id 102): unknown control `labels` (from_name `product`)"),
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
        e.contains("field `data`: task 1 (id 1): has no prompt field"),
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
        e.contains("value.selected`: task 1 (id 1): must be `left` or `right`"),
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
