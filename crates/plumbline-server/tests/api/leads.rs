//! A lead's controls over HTTP: settings changed by PATCH (partial, range-checked with
//! the field named, audited, leads only, CSRF for sessions), the per-annotator quality
//! table, and reinstatement of an annotator on probation.

use crate::engine::{As, engine_project, member, pref};
use crate::support::{App, cookie_of, password_of};
use plumbline_domain::{ProjectRole, ProjectSettings, TaskKind, UserId};
use plumbline_store::{
    IdentityStore, ImportMsg, ImportOptions, NewGold, NewItem, Next, NoTask, Project, Purpose,
    Store, Submission, WorkStore,
};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn patch(who: &As, path: &str, body: &str) -> (StatusCode, Value) {
    let r = who
        .http
        .patch(format!("{}{path}", who.base))
        .bearer_auth(&who.token)
        .header("content-type", "application/json")
        .body(body.to_owned())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let text = r.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn events(app: &App, action: &str) -> Vec<plumbline_store::audit::StoredAuditEvent> {
    app.store
        .audit_events(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == action)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn settings_change_by_patch_for_leads_only() {
    let app = App::start().await;
    let p = engine_project(&app, "tune", ProjectSettings::default()).await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    let rev = member(&app, &p, "rev", ProjectRole::Reviewer).await;
    let path = "/api/v1/projects/tune";

    let (s, v) = patch(
        &lead,
        path,
        r#"{"overlap": 4, "lease_seconds": 1200, "max_overlap": 6, "min_gold_accuracy": 0.6}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["settings"]["overlap"], 4);
    assert_eq!(v["settings"]["max_overlap"], 6);
    assert_eq!(v["settings"]["gold_rate"], 0.1, "left alone");
    let (_, got) = lead.get(path).await;
    assert_eq!(got["settings"], v["settings"]);
    let e = events(&app, "project.settings").await;
    assert_eq!(e.len(), 1);
    assert_eq!(
        e[0].object_id.as_deref(),
        Some("tune: overlap, lease_seconds, max_overlap, min_gold_accuracy")
    );
    let lena = app.store.user_by_name("lena").await.unwrap();
    assert_eq!(e[0].actor, Some(lena.id.0));

    // A bad value changes nothing and names its field.
    for (body, field) in [
        (r#"{"gold_rate": 1.5}"#, "gold_rate"),
        (r#"{"overlap": 7}"#, "max_overlap"),
        (
            r#"{"overlap": 5, "qualification_pass": 2}"#,
            "qualification_pass",
        ),
        (r#"{"decision_threshold": 0.5}"#, "decision_threshold"),
        (r#"{"min_experts": 7}"#, "min_experts"),
        (r#"{"task": "ranking"}"#, "task"),
        (r#"{"overlap": "four"}"#, "overlap"),
    ] {
        let (s, v) = patch(&lead, path, body).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        assert_eq!(v["error"]["field"], field, "{body}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{v}"
        );
    }
    let (s, v) = patch(&lead, path, "{}").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("at least one")
    );
    let (s, _) = patch(&lead, path, "[1, 2]").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, _) = patch(&lead, path, "{\"overlap\": ").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    // Annotators and reviewers may not change settings.
    for who in [&ann, &rev] {
        let (s, v) = patch(who, path, r#"{"overlap": 1}"#).await;
        assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    }
    let (_, after) = lead.get(path).await;
    assert_eq!(
        after["settings"], got["settings"],
        "refusals changed nothing"
    );
    assert_eq!(events(&app, "project.settings").await.len(), 1);

    // From the setup page: a session must echo its CSRF token.
    let nora = app.user("nora", false).await;
    app.member(&p, &nora, ProjectRole::Lead).await;
    let login = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({"name": "nora", "password": password_of("nora")}))
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&login);
    let csrf = login.json::<Value>().await.unwrap()["csrf_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let send = |token: Option<&str>| {
        let mut r = app
            .http
            .patch(app.url(path))
            .header("cookie", &cookie)
            .json(&json!({"gold_rate": 0.2}));
        if let Some(t) = token {
            r = r.header("x-csrf-token", t);
        }
        r.send()
    };
    assert_eq!(send(None).await.unwrap().status(), StatusCode::FORBIDDEN);
    assert_eq!(send(Some(&csrf)).await.unwrap().status(), StatusCode::OK);
    let page = app
        .http
        .get(app.url("/projects/tune/setup"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"name="gold_rate" value="0.2" data-initial="0.2""#),
        "the setup form shows the stored settings"
    );
    assert!(page.contains(r#"name="max_overlap" value="6""#), "{page}");
}

/// A preference item whose candidates differ in length by more than 30 characters.
fn item(n: usize) -> NewItem {
    let id = format!("q-{n:03}");
    let body = format!(
        r#"{{"id":"{id}","context":[{{"role":"user","content":"question {n}"}}],"candidates":[{{"id":"a","content":"Short."}},{{"id":"b","content":"A much longer answer that goes on and on about the account."}}]}}"#
    );
    let mut hash = [0u8; 32];
    for (i, b) in body.bytes().enumerate() {
        hash[i % 32] = hash[i % 32].wrapping_mul(31).wrapping_add(b);
    }
    NewItem {
        line: n as u64,
        ext_id: id,
        task: TaskKind::Preference,
        split: None,
        content_hash: hash,
        body,
        external: Vec::new(),
        media_sha256: None,
        media: None,
    }
}

async fn import(app: &App, p: &Project, n: usize) {
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(ImportMsg::Items((0..n).map(item).collect()))
        .await
        .unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    let out = app
        .store
        .import_items(None, p.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    assert!(out.committed);
}

/// `user` judges `n` tasks: hidden gold with `gold_answer`, other work always "b" (the
/// longer candidate). Returns the hidden gold judged.
async fn judge(app: &App, p: &Project, user: UserId, n: usize, gold_answer: &str) -> usize {
    let mut hidden = 0;
    for _ in 0..n {
        let Next::Task(t) = app.store.next_task(user, p.id).await.unwrap() else {
            break;
        };
        let answer = if t.purpose == Purpose::Gold {
            hidden += 1;
            gold_answer
        } else {
            "b"
        };
        app.store
            .submit(
                user,
                p.id,
                t.assignment,
                Submission {
                    payload: pref(answer).to_string(),
                    time_ms: Some(3000),
                },
            )
            .await
            .unwrap();
    }
    hidden
}

fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["annotators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap_or_else(|| panic!("no row for {name}: {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quality_table_and_reinstatement() {
    let app = App::start().await;
    let p = engine_project(
        &app,
        "qual",
        ProjectSettings {
            overlap: 2,
            gold_rate: 0.6,
            // Off while ann judges enough for her length bias to show; on below.
            min_gold_accuracy: 0.0,
            ..ProjectSettings::default()
        },
    )
    .await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    member(&app, &p, "bob", ProjectRole::Annotator).await;
    member(&app, &p, "new", ProjectRole::Annotator).await;
    import(&app, &p, 60).await;
    for n in 0..20 {
        app.store
            .add_gold(
                None,
                p.id,
                NewGold {
                    item: format!("q-{n:03}"),
                    payload: pref("a").to_string(),
                },
            )
            .await
            .unwrap();
    }
    let ann_id = app.store.user_by_name("ann").await.unwrap().id;
    let bob = app.store.user_by_name("bob").await.unwrap();
    app.store
        .propose_expertise(None, bob.id, "banking:expert".parse().unwrap())
        .await
        .unwrap();
    app.store
        .verify_expertise(None, bob.id, "banking")
        .await
        .unwrap();
    let wrong = judge(&app, &p, ann_id, 35, "b").await;
    let right = judge(&app, &p, bob.id, 25, "a").await;
    assert!(
        wrong >= 10 && right >= 3,
        "hidden gold served: {wrong}, {right}"
    );
    let (s, v) = patch(
        &lead,
        "/api/v1/projects/qual",
        r#"{"min_gold_accuracy":0.7}"#,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        matches!(
            app.store.next_task(ann_id, p.id).await.unwrap(),
            Next::None(NoTask::Probation { .. })
        ),
        "probation follows her record once it is on"
    );

    let (s, report) = lead.get("/api/v1/projects/qual/quality").await;
    assert_eq!(s, StatusCode::OK, "{report}");
    let a = row(&report, "ann");
    assert_eq!(a["probation"]["on_probation"], true, "{a}");
    assert_eq!(a["probation"]["hidden_gold"]["total"], wrong as u64);
    assert_eq!(a["gold"]["correct"], 0);
    assert_eq!(a["gold"]["total"], wrong as u64);
    assert!(a["gold"]["upper"].as_f64().unwrap() < 0.7, "{a}");
    assert_eq!(a["expertise"], "none");
    let r = &a["reliability"];
    assert!(
        r["mean"].as_f64().unwrap() < 0.65 && r["lower"].as_f64() < r["mean"].as_f64(),
        "below the unverified prior: {r}"
    );
    // Every non-tie pick of ann's work went to the longer candidate.
    assert_eq!(a["length"]["hits"], a["length"]["n"]);
    assert!(a["length"]["p_value"].as_f64().unwrap() < 0.01, "{a}");
    assert_eq!(a["length"]["flagged"], true);
    assert!(a["length"]["effect"].as_f64().unwrap() > 0.4);
    assert!(a["position"]["p_value"].is_number());
    let b = row(&report, "bob");
    assert_eq!(b["probation"]["on_probation"], false);
    assert_eq!(b["expertise"], "expert");
    assert!(b["reliability"]["mean"].as_f64().unwrap() > 0.9, "{b}");
    let fresh = row(&report, "new");
    assert_eq!(
        fresh["judgments"], 0,
        "members who have not started are listed"
    );
    assert!(
        (fresh["reliability"]["mean"].as_f64().unwrap() - 0.65).abs() < 1e-9,
        "the prior alone: {fresh}"
    );
    let x = &report["experts"];
    assert!(x["items_with_expert"].as_u64().unwrap() > 0, "{x}");
    assert!(
        x["expert_judgments"].as_u64() < x["judgments"].as_u64(),
        "{x}"
    );
    assert!(x["judgment_share"]["value"].as_f64().unwrap() > 0.0, "{x}");

    // The models' leaderboard on the eval split: these items are not split and name no
    // models, so every board says why it is undefined rather than inventing strengths.
    let (s, board) = lead.get("/api/v1/projects/qual/leaderboard").await;
    assert_eq!(s, StatusCode::OK, "{board}");
    assert_eq!(board["labels"], 0, "{board}");
    assert!(board["overall"]["undefined"].is_string(), "{board}");
    assert_eq!(board["overall"]["models"], json!([]));
    let (s, _) = lead
        .get("/api/v1/projects/qual/leaderboard?include_external=maybe")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Annotators never see the table or the leaderboard, and may not reinstate.
    let (s, _) = ann.get("/api/v1/projects/qual/quality").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = ann.get("/api/v1/projects/qual/leaderboard").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let reinstate = "/api/v1/projects/qual/annotators/ann/reinstate";
    let (s, _) = ann.post(reinstate, json!({})).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert!(events(&app, "annotator.reinstate").await.is_empty());
    // bob is in good standing, `nobody` is no member.
    let (s, v) = lead
        .post("/api/v1/projects/qual/annotators/bob/reinstate", json!({}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("not on probation")
    );
    let (s, _) = lead
        .post(
            "/api/v1/projects/qual/annotators/nobody/reinstate",
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);

    let (s, v) = lead.post(reinstate, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["gold_scored"], wrong as u64);
    assert_eq!(v["gold_correct"], 0);
    let e = events(&app, "annotator.reinstate").await;
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].object_id, Some(ann_id.to_string()));
    let (_, report) = lead.get("/api/v1/projects/qual/quality").await;
    let a = row(&report, "ann");
    assert_eq!(a["probation"]["on_probation"], false, "{a}");
    assert_eq!(a["probation"]["hidden_gold"]["total"], 0);
    assert!(a["probation"]["reinstated_at"].is_number());
    assert_eq!(
        a["gold"]["total"], wrong as u64,
        "gold accuracy keeps the history"
    );
    let (s, _) = lead.post(reinstate, json!({})).await;
    assert_eq!(s, StatusCode::CONFLICT, "no longer on probation");

    // The dashboard shows the table with its flags and the tests.
    let nora = app.user("nora", false).await;
    app.member(&p, &nora, ProjectRole::Lead).await;
    let login = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({"name": "nora", "password": password_of("nora")}))
        .send()
        .await
        .unwrap();
    let cookie = cookie_of(&login);
    let page = app
        .http
        .get(app.url("/projects/qual/dashboard"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("of items with an expert judgment"), "tiles");
    assert!(
        page.contains("<span class=\"flag\">flagged</span>"),
        "bias flags"
    );
    assert!(page.contains("since reinstated"));
}
