//! Gold stays hidden over HTTP: no answer, count or shape tells an annotator which of
//! their tasks was hidden gold, what the gold answer is, or whether the others agreed.

use crate::engine::{As, engine_project, member, ndjson, pref};
use crate::support::App;
use plumbline_domain::{ProjectRole, ProjectSettings};
use plumbline_store::{IdentityStore, Project, Purpose, WorkStore};
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// Imports `n` items (`c-0000`…) and makes the first `gold` of them gold (answer `a`).
async fn items_with_gold(lead: &As, p: &Project, n: usize, gold: usize) {
    let (s, v) = lead
        .post_raw(
            &format!("/api/v1/projects/{}/items", p.name),
            ndjson(n),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    for i in 0..gold {
        let (s, v) = lead
            .post(
                &format!("/api/v1/projects/{}/gold", p.name),
                json!({"item": format!("c-{i:04}"), "payload": pref("a")}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
}

/// `next` over HTTP, and what the store knows it was for (never sent).
async fn next_with_purpose(app: &App, who: &As, name: &str, p: &Project) -> (Value, Purpose) {
    let t = who.next(&p.name).await;
    let user = app.store.user_by_name(name).await.unwrap().id;
    let held = app.store.held_task(user, p.id).await.unwrap().unwrap();
    assert_eq!(Some(held.assignment.0), t["assignment"].as_i64());
    (t, held.purpose)
}

/// The feedback endpoint: status and body text.
async fn feedback(app: &App, who: &As, p: &Project, item: &str) -> (StatusCode, String) {
    let r = app
        .http
        .get(app.url(&format!("/ui/api/projects/{}/feedback/{item}", p.name)))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

fn assignment(t: &Value) -> i64 {
    t["assignment"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn feedback_only_after_a_qualification_miss_and_never_for_hidden_gold() {
    let app = App::start().await;
    // Hidden gold, no qualification: everyone's qualification reads "pending" here.
    let h = engine_project(
        &app,
        "hidden",
        ProjectSettings {
            overlap: 1,
            gold_rate: 0.5,
            // Gold is answered wrong on purpose here: probation would stop the annotator.
            min_gold_accuracy: 0.0,
            ..ProjectSettings::default()
        },
    )
    .await;
    let lead = member(&app, &h, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &h, "ann", ProjectRole::Annotator).await;
    items_with_gold(&lead, &h, 40, 10).await;
    let (mut gold_item, mut work_item) = (None, None);
    for _ in 0..40 {
        let (t, purpose) = next_with_purpose(&app, &ann, "ann", &h).await;
        let (s, v) = ann.submit("hidden", assignment(&t), pref("b")).await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let item = t["item"].as_str().unwrap().to_owned();
        match purpose {
            Purpose::Gold => gold_item = gold_item.or(Some(item)),
            _ => work_item = work_item.or(Some(item)),
        }
        if gold_item.is_some() && work_item.is_some() {
            break;
        }
    }
    let (gold_item, work_item) = (gold_item.unwrap(), work_item.unwrap());
    let js = app.store.judgments_of(h.id, &gold_item).await.unwrap();
    assert_eq!(js[0].gold_correct, Some(false), "a hidden-gold miss");
    // The same 404 for the missed hidden gold, a work item and an item that does not exist.
    let missed = feedback(&app, &ann, &h, &gold_item).await;
    assert_eq!(missed.0, StatusCode::NOT_FOUND, "{}", missed.1);
    assert!(!missed.1.contains("reference"), "{}", missed.1);
    assert_eq!(feedback(&app, &ann, &h, &work_item).await, missed);
    assert_eq!(feedback(&app, &ann, &h, "no-such-item").await, missed);

    // Qualification: the gold answer after a miss, while the qualification is undecided.
    let q = engine_project(
        &app,
        "qual",
        ProjectSettings {
            overlap: 1,
            gold_rate: 0.0,
            qualification_size: 2,
            qualification_pass: 1.0,
            // Gold is answered wrong on purpose here: probation would stop the annotator.
            min_gold_accuracy: 0.0,
            ..ProjectSettings::default()
        },
    )
    .await;
    let lead_q = member(&app, &q, "lou", ProjectRole::Lead).await;
    let bea = member(&app, &q, "bea", ProjectRole::Annotator).await;
    items_with_gold(&lead_q, &q, 10, 4).await;
    let (first, purpose) = next_with_purpose(&app, &bea, "bea", &q).await;
    assert_eq!(purpose, Purpose::Qualification);
    let first_item = first["item"].as_str().unwrap();
    assert_eq!(
        feedback(&app, &bea, &q, first_item).await,
        missed,
        "nothing before the judgment"
    );
    let (s, _) = bea.submit("qual", assignment(&first), pref("b")).await;
    assert_eq!(s, StatusCode::OK);
    let (s, text) = feedback(&app, &bea, &q, first_item).await;
    assert_eq!(s, StatusCode::OK, "{text}");
    assert!(text.contains("Not the reference answer"), "{text}");
    // Knowing the answer, a resubmission inside the lease does not turn the miss into a
    // pass: the first submission's score stands.
    let (s, v) = bea.submit("qual", assignment(&first), pref("a")).await;
    assert_eq!(
        (s, &v["resubmitted"]),
        (StatusCode::OK, &json!(true)),
        "{v}"
    );
    let (second, _) = next_with_purpose(&app, &bea, "bea", &q).await;
    let (s, _) = bea.submit("qual", assignment(&second), pref("a")).await;
    assert_eq!(s, StatusCode::OK);
    let bea_id = app.store.user_by_name("bea").await.unwrap().id;
    let qual = app.store.qualification(q.id, bea_id).await.unwrap();
    assert_eq!((qual.correct, qual.total), (1, 2), "{qual:?}");
    // Decided: no more feedback, the same 404.
    assert_eq!(feedback(&app, &bea, &q, first_item).await, missed);
    let second_item = second["item"].as_str().unwrap();
    assert_eq!(feedback(&app, &bea, &q, second_item).await, missed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotators_see_only_their_own_figures_without_gold() {
    let app = App::start().await;
    let p = engine_project(
        &app,
        "prog",
        ProjectSettings {
            overlap: 2,
            gold_rate: 0.5,
            // Gold is answered wrong on purpose here: probation would stop the annotator.
            min_gold_accuracy: 0.0,
            ..ProjectSettings::default()
        },
    )
    .await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    let bob = member(&app, &p, "bob", ProjectRole::Annotator).await;
    let rev = member(&app, &p, "rhea", ProjectRole::Reviewer).await;
    let vic = member(&app, &p, "vic", ProjectRole::Viewer).await;
    items_with_gold(&lead, &p, 30, 10).await;
    let path = "/api/v1/projects/prog/progress";
    // Ann's view before and after each of her submissions, gold or work: what moves is
    // her own judgment count and lease, nothing that differs between the two.
    let mut purposes = BTreeSet::new();
    for _ in 0..20 {
        let (t, purpose) = next_with_purpose(&app, &ann, "ann", &p).await;
        let (_, before) = ann.get(path).await;
        let (s, _) = ann.submit("prog", assignment(&t), pref("b")).await;
        assert_eq!(s, StatusCode::OK);
        let (_, after) = ann.get(path).await;
        let row = |v: &Value| v["annotators"][0].clone();
        assert_eq!(
            (
                row(&after)["judgments"].as_i64().unwrap()
                    - row(&before)["judgments"].as_i64().unwrap(),
                row(&before)["leased"].as_i64().unwrap() - row(&after)["leased"].as_i64().unwrap(),
            ),
            (1, 1),
            "{purpose}"
        );
        let (mut b, mut a) = (before.clone(), after.clone());
        for v in [&mut b, &mut a] {
            v["annotators"][0]["judgments"] = json!(0);
            v["annotators"][0]["leased"] = json!(0);
        }
        assert_eq!(b, a, "nothing else moves ({purpose})");
        purposes.insert(purpose.as_str());
    }
    assert_eq!(
        purposes.len(),
        2,
        "both gold and work were served: {purposes:?}"
    );
    bob.next("prog").await;
    let (s, mine) = ann.get(path).await;
    assert_eq!(s, StatusCode::OK);
    let rows = mine["annotators"].as_array().unwrap();
    assert_eq!(rows.len(), 1, "only her own row: {mine}");
    assert_eq!(rows[0]["name"], "ann");
    let text = mine.to_string();
    for hidden in ["gold", "resolved", "adjudication", "bob"] {
        assert!(
            !text.contains(hidden),
            "`{hidden}` in an annotator's progress: {text}"
        );
    }
    let (_, v) = vic.get(path).await;
    assert_eq!(v["annotators"], json!([]), "{v}");
    // Reviewers and leads see every annotator, with gold figures.
    for who in [&rev, &lead] {
        let (s, v) = who.get(path).await;
        assert_eq!(s, StatusCode::OK);
        let rows = v["annotators"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "{v}");
        assert!(rows.iter().all(|r| r.get("gold_scored").is_some()), "{v}");
        assert!(v["items"].get("resolved").is_some(), "{v}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submit_says_only_that_it_was_stored() {
    let app = App::start().await;
    let p = engine_project(
        &app,
        "agree",
        ProjectSettings {
            overlap: 2,
            gold_rate: 0.0,
            ..ProjectSettings::default()
        },
    )
    .await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    let bob = member(&app, &p, "bob", ProjectRole::Annotator).await;
    items_with_gold(&lead, &p, 2, 0).await;
    let a = ann.next("agree").await;
    let (s, _) = ann.submit("agree", assignment(&a), pref("a")).await;
    assert_eq!(s, StatusCode::OK);
    let b = bob.next("agree").await;
    assert_eq!(a["item"], b["item"]);
    // Bob completes the item, disagreeing, then agreeing: the answers differ only in
    // `resubmitted`, so a resubmission cannot probe what Ann said.
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let (s, disagree) = bob.submit("agree", assignment(&b), pref("b")).await;
    assert_eq!(s, StatusCode::OK, "{disagree}");
    let (s, agree) = bob.submit("agree", assignment(&b), pref("a")).await;
    assert_eq!(s, StatusCode::OK, "{agree}");
    let expected: BTreeSet<String> = ["judgment", "resubmitted", "priority_inversion", "time_ms"]
        .map(String::from)
        .into();
    assert_eq!(keys(&disagree), expected, "{disagree}");
    assert_eq!(keys(&agree), expected, "{agree}");
    assert_eq!(disagree["judgment"], agree["judgment"]);
    assert_eq!(
        (&disagree["resubmitted"], &agree["resubmitted"]),
        (&json!(false), &json!(true))
    );
    assert_eq!(disagree["time_ms"], agree["time_ms"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gold_and_work_tasks_look_alike() {
    let app = App::start().await;
    let p = engine_project(
        &app,
        "alike",
        ProjectSettings {
            overlap: 1,
            gold_rate: 0.5,
            lease_seconds: 600,
            ..ProjectSettings::default()
        },
    )
    .await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    items_with_gold(&lead, &p, 50, 20).await;
    let ann_id = app.store.user_by_name("ann").await.unwrap().id;
    let keys = |v: &Value| -> BTreeSet<String> { v.as_object().unwrap().keys().cloned().collect() };
    let mut seen: Vec<(Purpose, BTreeSet<String>, BTreeSet<String>)> = Vec::new();
    let mut last = None;
    for _ in 0..30 {
        let (s, reply) = ann
            .post("/api/v1/projects/alike/tasks/next", json!({}))
            .await;
        assert_eq!(s, StatusCode::OK);
        // `next` after a gold submission answers like after work: a new lease.
        assert_eq!(reply["resumed"], false, "after {last:?}");
        let t = &reply["task"];
        let held = app.store.held_task(ann_id, p.id).await.unwrap().unwrap();
        assert_eq!(
            held.expires_at - held.leased_at,
            600_000,
            "the same lease length"
        );
        let mut order: Vec<&str> = t["display_order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        order.sort();
        assert_eq!(order, ["a", "b"]);
        let (s, out) = ann.submit("alike", assignment(t), pref("a")).await;
        assert_eq!(s, StatusCode::OK);
        seen.push((
            held.purpose,
            keys(&reply).union(&keys(t)).cloned().collect(),
            keys(&out),
        ));
        last = Some(held.purpose);
    }
    let gold: Vec<_> = seen.iter().filter(|s| s.0 == Purpose::Gold).collect();
    let work: Vec<_> = seen.iter().filter(|s| s.0 == Purpose::Work).collect();
    assert!(!gold.is_empty() && !work.is_empty());
    for g in &gold {
        assert_eq!(
            (&g.1, &g.2),
            (&work[0].1, &work[0].2),
            "gold answers like work"
        );
    }
    assert!(
        seen.iter()
            .all(|s| !s.1.contains("purpose") && !s.1.contains("seq"))
    );
}
