use crate::support::*;
use plumbline_domain::{Role, TaskKind};
use plumbline_formats::Format;
use serde_json::json;

#[test]
fn sibling_replies_become_ranked_candidates_with_the_path_as_context() {
    let got = read("oasst1.jsonl", None, None, TaskKind::Preference).ok();
    assert_eq!(
        got.outcome.detected.as_ref().unwrap().format,
        Format::Oasst1
    );
    let items = got.parsed();
    // The root's three replies, and the follow-up's two live replies; the Spanish tree
    // has one reply only and makes no item.
    assert_eq!(items.len(), 2);
    let root = &items[0];
    assert_eq!(root.id, "oasst1-6ab24d72-0181-4594-a9cd-deaf170242fb");
    assert_eq!(root.task, Some(TaskKind::Ranking));
    assert_eq!(root.candidates.len(), 3);
    assert_eq!(root.tags, ["lang:en"]);
    assert_eq!(
        payloads(&got.items[0])[0]["order"],
        json!([
            ["c8e83833-ecbc-44fe-b6db-735228c25a1c"],
            ["343ee2d4-87ae-41fd-a768-bdd65959dc4a"],
            ["6708c47f-05c9-4346-b3d2-40b2bd24fde4"]
        ])
    );
    let follow = &items[1];
    let path: Vec<(Role, &str)> = follow
        .context
        .iter()
        .map(|t| (t.role, t.content.as_str()))
        .collect();
    assert_eq!(path.len(), 3);
    assert_eq!(path[0], (Role::User, "Explain what an overdraft fee is."));
    assert_eq!(path[2], (Role::User, "How can I avoid it?"));
    // The deleted reply is not a candidate.
    assert_eq!(follow.candidates.len(), 2);
    assert!(
        follow
            .candidates
            .iter()
            .all(|c| !c.content.contains("removed"))
    );
    let skipped = &got.outcome.summary.skipped;
    assert_eq!(skipped.get("deleted oasst1 message"), Some(&1));
    assert_eq!(skipped.get("oasst1 prompt with a single reply"), Some(&1));
    assert_eq!(got.items[1].external[0].source, "oasst1");
}

#[test]
fn an_orphan_row_is_named_by_line() {
    let e = read("oasst1_orphan.jsonl", None, None, TaskKind::Preference).error();
    assert!(
        e.starts_with("line 7: field `parent_id`: parent message `ffffffff"),
        "{e}"
    );
    assert!(e.contains("orphan"), "{e}");
}

#[test]
fn unknown_roles_and_scattered_trees_are_refused() {
    let text = std::fs::read_to_string(fixture("oasst1.jsonl")).unwrap();
    let bad = text.replacen("\"role\": \"assistant\"", "\"role\": \"moderator\"", 1);
    let e = read_bytes(bad.into_bytes(), None, TaskKind::Preference).error();
    assert!(
        e.starts_with("line 2: field `role`: unknown role `moderator`"),
        "{e}"
    );
    // The first tree's rows split by the second tree's.
    let lines: Vec<&str> = text.lines().collect();
    let mut scattered: Vec<&str> = lines[..3].to_vec();
    scattered.extend(&lines[8..]);
    scattered.extend(&lines[3..8]);
    let e = read_bytes(
        scattered.join("\n").into_bytes(),
        Some(Format::Oasst1),
        TaskKind::Preference,
    )
    .error();
    assert!(
        e.contains("field `message_tree_id`") && e.contains("not contiguous"),
        "{e}"
    );
}

#[test]
fn a_parent_cycle_is_refused_not_followed() {
    let rows = [
        json!({"message_id": "t", "parent_id": null, "message_tree_id": "t", "role": "prompter", "text": "q"}),
        json!({"message_id": "x", "parent_id": "y", "message_tree_id": "t", "role": "prompter", "text": "a"}),
        json!({"message_id": "y", "parent_id": "x", "message_tree_id": "t", "role": "assistant", "text": "b"}),
    ];
    let text: Vec<String> = rows.iter().map(|r| r.to_string()).collect();
    let e = read_bytes(
        text.join("\n").into_bytes(),
        Some(Format::Oasst1),
        TaskKind::Preference,
    )
    .error();
    assert!(e.contains("line 2") && e.contains("cycle"), "{e}");
}
