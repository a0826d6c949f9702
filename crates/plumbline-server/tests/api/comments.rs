//! An item's comment thread over HTTP: reviewers and leads read and write it; an
//! annotator gets 404 until they have submitted a judgment of the item (blindness
//! first), then reads and writes it too; viewers and outsiders get 404; bad text is
//! refused with the reason; each comment is audited without its text.

use crate::engine::{engine_project, member, ndjson, pref};
use crate::support::App;
use plumbline_domain::{MAX_COMMENT_CHARS, ProjectRole, ProjectSettings};
use plumbline_store::IdentityStore;
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comments_follow_the_blindness_rule() {
    let app = App::start().await;
    let settings = ProjectSettings {
        overlap: 2,
        gold_rate: 0.0,
        ..ProjectSettings::default()
    };
    let p = engine_project(&app, "talk", settings).await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let rev = member(&app, &p, "rita", ProjectRole::Reviewer).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    let viewer = member(&app, &p, "vic", ProjectRole::Viewer).await;
    let other = engine_project(&app, "other", ProjectSettings::default()).await;
    let outsider = member(&app, &other, "otto", ProjectRole::Lead).await;
    let (s, v) = lead
        .post_raw(
            "/api/v1/projects/talk/items",
            ndjson(2),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let path = "/api/v1/projects/talk/items/c-0000/comments";

    // The lead writes; the reviewer reads it and answers.
    let (s, c) = lead
        .post(path, json!({"body": "  Is b too slow? <b>x</b>\r\n"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{c}");
    assert_eq!(
        (
            c["author_name"].as_str(),
            c["body"].as_str(),
            c["item"].as_str()
        ),
        (
            Some("lena"),
            Some("Is b too slow? <b>x</b>"),
            Some("c-0000")
        )
    );
    let (s, _) = rev.post(path, json!({"body": "It is."})).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = rev.get(path).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let names: Vec<&str> = v["comments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["author_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["lena", "rita"]);

    // Bad text is refused with its reason; nothing is stored.
    let too_long = "x".repeat(MAX_COMMENT_CHARS + 1);
    for (body, why) in [
        (json!({"body": " \n "}), "empty"),
        (json!({"body": too_long}), "at most 5000"),
        (json!({"body": "ring\u{7}"}), "U+0007"),
    ] {
        let (s, v) = lead.post(path, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
        assert!(v["error"]["message"].as_str().unwrap().contains(why), "{v}");
    }
    let (s, v) = lead.post(path, json!({"text": "wrong field"})).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = lead
        .post(
            "/api/v1/projects/talk/items/nope/comments",
            json!({"body": "x"}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");

    // Before judging, the annotator cannot tell the thread exists: 404 like an
    // unknown item, for reading and for writing. Viewers and outsiders likewise.
    for who in [&ann, &viewer, &outsider] {
        assert_eq!(who.get(path).await.0, StatusCode::NOT_FOUND);
        assert_eq!(
            who.post(path, json!({"body": "hello"})).await.0,
            StatusCode::NOT_FOUND
        );
    }
    // A lease is not a judgment; a submission is.
    let task = ann.next("talk").await;
    assert_eq!(task["item"], "c-0000");
    assert_eq!(ann.get(path).await.0, StatusCode::NOT_FOUND);
    let (s, v) = ann
        .submit("talk", task["assignment"].as_i64().unwrap(), pref("a"))
        .await;
    assert!(s.is_success(), "{v}");
    let (s, v) = ann.get(path).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["comments"].as_array().unwrap().len(), 2);
    let (s, _) = ann.post(path, json!({"body": "I picked a."})).await;
    assert_eq!(s, StatusCode::CREATED);
    // Still not the thread of an item they did not judge.
    let other_item = "/api/v1/projects/talk/items/c-0001/comments";
    assert_eq!(ann.get(other_item).await.0, StatusCode::NOT_FOUND);

    // Three comments, three events: the item and a digest, never the text.
    let events = app.store.audit_events(0, 1000).await.unwrap();
    let added: Vec<_> = events
        .iter()
        .filter(|e| e.action == "comment.add")
        .collect();
    assert_eq!(added.len(), 3);
    assert!(
        added
            .iter()
            .all(|e| e.object_id.as_deref() == Some("c-0000"))
    );
    assert!(
        !events
            .iter()
            .any(|e| e.digest.as_deref().is_some_and(|d| d.contains("slow")))
    );
}
