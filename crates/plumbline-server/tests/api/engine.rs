//! The engine over HTTP: import, next, submit, skip, gold, adjudication, progress,
//! errors as STYLE.md says, the OpenAPI document and /metrics.

use crate::support::App;
use plumbline_domain::{ProjectName, ProjectRole, ProjectSettings, Rubric, Scopes};
use plumbline_server::auth::{new_token_secret, token_hash};
use plumbline_store::{IdentityStore, NewProject, NewUser, Project, Store, WorkStore};
use reqwest::StatusCode;
use serde_json::{Value, json};

pub const RUBRIC: &str = r#"
name = "Retail banking"
[[criteria]]
key = "compliance"
title = "Compliance"
priority = 1
hard = true
[[criteria]]
key = "tone"
title = "Tone"
priority = 2
[[errors]]
key = "escalation_missed"
criterion = "compliance"
severity = "critical"
"#;

/// A client acting as one user with an all-scopes token.
pub struct As {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl As {
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn post_raw(&self, path: &str, body: Vec<u8>, ctype: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("content-type", ctype)
            .body(body)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// `next` in `project`: the task JSON or panics with the reason.
    pub async fn next(&self, project: &str) -> Value {
        let (s, v) = self
            .post(&format!("/api/v1/projects/{project}/tasks/next"), json!({}))
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        assert!(!v["task"].is_null(), "no task: {v}");
        v["task"].clone()
    }

    pub async fn submit(
        &self,
        project: &str,
        assignment: i64,
        payload: Value,
    ) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/projects/{project}/tasks/{assignment}/submit"),
            json!({"payload": payload, "time_ms": 5000}),
        )
        .await
    }
}

/// A user with a role in `project` and a client for them.
pub async fn member(app: &App, project: &Project, name: &str, role: ProjectRole) -> As {
    let user = app
        .store
        .create_user(
            None,
            NewUser {
                name: name.into(),
                password_hash: None,
                is_admin: false,
            },
        )
        .await
        .unwrap();
    app.store
        .add_member(None, project.id, user.id, role)
        .await
        .unwrap();
    let secret = new_token_secret().unwrap();
    app.store
        .create_token(None, user.id, token_hash(&secret), Scopes::all(), None)
        .await
        .unwrap();
    As {
        http: app.http.clone(),
        base: app.base.clone(),
        token: secret,
    }
}

pub async fn engine_project(app: &App, name: &str, settings: ProjectSettings) -> Project {
    app.store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse(name).unwrap(),
                settings,
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap()
}

pub fn ndjson(n: usize) -> Vec<u8> {
    let mut out = String::new();
    for i in 0..n {
        out.push_str(&format!(
            r#"{{"id":"c-{i:04}","context":[{{"role":"user","content":"close my account {i}"}}],"candidates":[{{"id":"a","content":"Sure."}},{{"id":"b","content":"First I need to verify you."}}]}}"#
        ));
        out.push('\n');
    }
    out.into_bytes()
}

pub fn pref(winner: &str) -> Value {
    json!({"winner": winner, "strength": 2, "criteria": {"compliance": winner, "tone": winner}})
}

fn settings() -> ProjectSettings {
    ProjectSettings {
        overlap: 2,
        gold_rate: 0.0,
        ..ProjectSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn next_gives_the_held_lease_back() {
    let app = App::start().await;
    let p = engine_project(&app, "hold", settings()).await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    let bob = member(&app, &p, "bob", ProjectRole::Annotator).await;
    let (s, v) = lead
        .post_raw(
            "/api/v1/projects/hold/items",
            ndjson(3),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    // A second `next` (a reload, a retried request) returns the same lease, not another.
    let (_, first) = ann
        .post("/api/v1/projects/hold/tasks/next", json!({}))
        .await;
    assert_eq!(first["resumed"], false, "{first}");
    let (_, again) = ann
        .post("/api/v1/projects/hold/tasks/next", json!({}))
        .await;
    assert_eq!(again["resumed"], true, "{again}");
    assert_eq!(
        again["task"], first["task"],
        "same assignment, order and expiry"
    );
    let progress = app.store.progress(p.id).await.unwrap();
    assert_eq!(progress.leases, 1, "one lease, not two");
    // Another annotator's `next` is their own.
    let b = bob.next("hold").await;
    assert_ne!(b["assignment"], first["task"]["assignment"]);
    // Once submitted, `next` leases a new item.
    let a = first["task"]["assignment"].as_i64().unwrap();
    let (s, v) = ann.submit("hold", a, pref("a")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let (_, third) = ann
        .post("/api/v1/projects/hold/tasks/next", json!({}))
        .await;
    assert_eq!(third["resumed"], false, "{third}");
    assert_ne!(third["task"]["assignment"].as_i64(), Some(a));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn annotate_loop_over_http() {
    let app = App::start().await;
    let p = engine_project(&app, "bank", settings()).await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    let bob = member(&app, &p, "bob", ProjectRole::Annotator).await;
    let viewer = member(&app, &p, "vic", ProjectRole::Viewer).await;
    let reviewer = member(&app, &p, "rhea", ProjectRole::Reviewer).await;

    // Import: only leads with the import scope; an annotator gets 403.
    let (s, _) = ann
        .post_raw(
            "/api/v1/projects/bank/items",
            ndjson(3),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = lead
        .post_raw(
            "/api/v1/projects/bank/items",
            ndjson(3),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["imported"], 3);
    // A bad line: 422 naming line and field, nothing stored.
    let mut bad = ndjson(1);
    bad.extend_from_slice(b"{\"id\":\"x\",\"candidates\":[{\"id\":\"a\",\"content\":\"1\"},{\"id\":\"a\",\"content\":\"2\"}]}\n");
    let (s, v) = lead
        .post_raw("/api/v1/projects/bank/items", bad, "application/x-ndjson")
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["line"], 2, "{v}");
    // Item listings are for reviewers and leads: annotators and viewers judge and
    // watch blind.
    let (s, _) = viewer.get("/api/v1/projects/bank/items").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = ann.get("/api/v1/projects/bank/items/c-0001").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, v) = reviewer.get("/api/v1/projects/bank/items?limit=2").await;
    assert_eq!(v["items"].as_array().unwrap().len(), 2);
    let after = v["next"].as_i64().unwrap();
    let (_, v) = reviewer
        .get(&format!(
            "/api/v1/projects/bank/items?after={after}&limit=2"
        ))
        .await;
    assert_eq!(v["items"].as_array().unwrap().len(), 1);
    assert!(v["next"].is_null());
    let (s, _) = reviewer.get("/api/v1/projects/bank/items?gold=true").await;
    assert_eq!(s, StatusCode::FORBIDDEN, "gold stays hidden from non-leads");
    let (s, v) = reviewer
        .get("/api/v1/projects/bank/items?state=closed")
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    let (s, v) = reviewer.get("/api/v1/projects/bank/items/c-0001").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["item"]["ext_id"], "c-0001");

    // A viewer cannot take work.
    let (s, _) = viewer
        .post("/api/v1/projects/bank/tasks/next", json!({}))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let t = ann.next("bank").await;
    let a = t["assignment"].as_i64().unwrap();
    let shown: Vec<&str> = t["content"]["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    let order: Vec<&str> = t["display_order"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap())
        .collect();
    assert_eq!(shown, order, "candidates arrive in display order");
    assert!(
        t.get("purpose").is_none(),
        "hidden gold is indistinguishable"
    );

    // Bad input: 4xx naming the problem, nothing stored.
    let cases = [
        (
            json!({"winner": "c", "strength": 1, "criteria": {"compliance": "c", "tone": "c"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payload",
            "unknown candidate `c`",
        ),
        (
            json!({"winner": "a", "strength": 9, "criteria": {"compliance": "a", "tone": "a"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payload",
            "strength",
        ),
        (
            json!({"winner": "a", "strength": 1, "criteria": {"compliance": "a"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_payload",
            "tone",
        ),
        (
            json!({"order": [["a"], ["b"]]}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "wrong_kind",
            "ranking",
        ),
        (
            json!({"winner": "a", "strength": 2, "criteria": {"compliance": "b", "tone": "a"}}),
            StatusCode::UNPROCESSABLE_ENTITY,
            "priority_rule",
            "compliance",
        ),
    ];
    for (payload, status, code, needle) in cases {
        let (s, v) = ann.submit("bank", a, payload.clone()).await;
        assert_eq!(s, status, "{payload}: {v}");
        assert_eq!(v["error"]["code"], code, "{v}");
        let msg = v["error"]["message"].as_str().unwrap();
        assert!(msg.contains(needle), "{msg}");
    }
    let (s, v) = ann
        .post_raw(
            &format!("/api/v1/projects/bank/tasks/{a}/submit"),
            b"{\"payload\": {\"winner\": ".to_vec(),
            "application/json",
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"]["code"], "bad_request");
    let (_, v) = ann
        .submit(
            "bank",
            a,
            json!({"winner": "a", "strength": 2, "criteria": {"compliance": "b", "tone": "a"}}),
        )
        .await;
    assert_eq!(v["error"]["criterion"], "compliance");
    assert!(
        app.store
            .judgments_of(p.id, t["item"].as_str().unwrap())
            .await
            .unwrap()
            .is_empty()
    );

    // Someone else's assignment.
    let (s, v) = bob.submit("bank", a, pref("a")).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    // Override with a rationale: kept and flagged; resubmission edits.
    let mut over =
        json!({"winner": "a", "strength": 2, "criteria": {"compliance": "b", "tone": "a"}});
    over["override"] = json!(true);
    over["rationale"] = json!("b promises a fee waiver it cannot give");
    let (s, v) = ann.submit("bank", a, over).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["priority_inversion"], true);
    assert_eq!(v["time_ms"], 5000);
    let (s, v) = ann.submit("bank", a, pref("a")).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["resubmitted"], true);
    let js = app
        .store
        .judgments_of(p.id, t["item"].as_str().unwrap())
        .await
        .unwrap();
    assert_eq!((js.len(), js[0].history.len()), (1, 1));

    // Bob judges the same item differently: adjudication.
    let tb = bob.next("bank").await;
    assert_eq!(tb["item"], t["item"]);
    let (s, v) = bob
        .submit("bank", tb["assignment"].as_i64().unwrap(), pref("b"))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(
        v.get("item_state").is_none(),
        "nothing about consensus: {v}"
    );

    // Skip with a reason; an empty reason is 422.
    let t2 = ann.next("bank").await;
    let a2 = t2["assignment"].as_i64().unwrap();
    let (s, _) = ann
        .post(
            &format!("/api/v1/projects/bank/tasks/{a2}/skip"),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = ann
        .post(
            &format!("/api/v1/projects/bank/tasks/{a2}/skip"),
            json!({"reason": "needs Welsh"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = ann.submit("bank", a2, pref("a")).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "lease_expired");
    let (s, _) = ann.submit("bank", 999_999, pref("a")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = ann.submit("bank", -1, pref("a")).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, v) = ann
        .post(
            "/api/v1/projects/bank/tasks/abc/submit",
            json!({"payload": pref("a")}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");

    // Adjudication: reviewers only; promotion to gold: leads only.
    let (s, _) = ann.get("/api/v1/projects/bank/adjudication").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let rev = member(&app, &p, "rita", ProjectRole::Reviewer).await;
    let (s, v) = rev.get("/api/v1/projects/bank/adjudication").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 1);
    assert_eq!(v[0]["judgments"].as_array().unwrap().len(), 2);
    let item = t["item"].as_str().unwrap();
    let path = format!("/api/v1/projects/bank/adjudication/{item}");
    let (s, _) = rev
        .post(
            &path,
            json!({"payload": pref("a"), "rationale": "b is right", "promote_to_gold": true}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = lead
        .post(&path, json!({"payload": pref("a"), "rationale": "a verifies identity", "promote_to_gold": true}))
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert!(v["gold"].is_i64());
    let (s, _) = rev
        .post(&path, json!({"payload": pref("a"), "rationale": "again"}))
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // Gold: leads only.
    let (s, _) = ann.get("/api/v1/projects/bank/gold").await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, v) = lead
        .post(
            "/api/v1/projects/bank/gold",
            json!({"item": "c-0002", "payload": pref("b")}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, v) = lead
        .post(
            "/api/v1/projects/bank/gold",
            json!({"item": "nope", "payload": pref("b")}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    let (_, v) = lead.get("/api/v1/projects/bank/gold").await;
    assert_eq!(v.as_array().unwrap().len(), 2);
    // A reviewer proposes gold; it waits for a lead, who accepts it.
    let (s, _) = ann
        .post(
            "/api/v1/projects/bank/gold/candidates",
            json!({"item": "c-0002", "payload": pref("a")}),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "annotators do not propose gold");
    let (s, v) = rev
        .post(
            "/api/v1/projects/bank/gold/candidates",
            json!({"item": "c-0002", "payload": {"winner": "a"}}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validated as it is proposed: {v}"
    );
    let (s, v) = rev
        .post(
            "/api/v1/projects/bank/gold/candidates",
            json!({"item": "c-0002", "payload": pref("a")}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["item"].as_str()),
        (Some("pending"), Some("c-0002"))
    );
    let proposed = v["id"].as_i64().unwrap();
    let (s, _) = rev
        .post(
            "/api/v1/projects/bank/gold/candidates",
            json!({"item": "c-0002", "payload": pref("a")}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "the same proposal twice");
    let (_, v) = lead.get("/api/v1/projects/bank/gold").await;
    assert_eq!(v.as_array().unwrap().len(), 2, "not gold by itself");
    let (_, v) = lead
        .get("/api/v1/projects/bank/gold/candidates?state=pending")
        .await;
    assert_eq!(v[0]["id"].as_i64(), Some(proposed), "{v}");
    let (s, v) = lead
        .post(
            &format!("/api/v1/projects/bank/gold/candidates/{proposed}/accept"),
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = lead.get("/api/v1/projects/bank/gold?item=c-0002").await;
    assert_eq!(v[0]["origin"], "expert", "{v}");
    let (s, _) = lead
        .post("/api/v1/projects/bank/qualifications/ann/reset", json!({}))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Progress and the rubric.
    let (s, v) = viewer.get("/api/v1/projects/bank/progress").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["items"]["total"], 1, "{v}");
    assert_eq!(
        v["annotators"],
        json!([]),
        "a viewer has no row of their own"
    );
    let (s, v) = reviewer.get("/api/v1/projects/bank/progress").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["judgments"], 2);
    assert_eq!(
        v["gold_items"], 2,
        "the promoted decision and c-0002 are gold"
    );
    assert_eq!(
        v["priority_inversions"], 0,
        "the resubmission replaced the override"
    );
    let (s, v) = viewer.get("/api/v1/projects/bank/rubrics/current").await;
    assert_eq!((s, v["version"].as_i64()), (StatusCode::OK, Some(1)));
    let (s, _) = viewer.get("/api/v1/projects/bank/rubrics/zz").await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    let (s, v) = lead
        .post(
            "/api/v1/projects/bank/rubrics",
            json!({"toml": RUBRIC.replace("Retail banking", "Retail banking 2")}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, v) = lead.get("/api/v1/projects/bank/gold?item=c-0002").await;
    assert_eq!(v[0]["needs_revalidation"], true);
    let (s, v) = viewer.get("/api/v1/projects").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v.as_array().unwrap().len(), 1);
    app.store.check_integrity().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_limits_and_documents() {
    let app = App::start().await;
    let p = engine_project(
        &app,
        "bank",
        ProjectSettings {
            lease_seconds: 1,
            ..settings()
        },
    )
    .await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    // No token: 401 with the error body.
    let r = app
        .http
        .post(app.url("/api/v1/projects/bank/tasks/next"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "unauthenticated");
    // A project that does not exist (or that you are not in): 404.
    let (s, v) = ann
        .post("/api/v1/projects/nope/tasks/next", json!({}))
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("nope"));
    // Nothing to do yet: 200 with the reason.
    let (s, v) = ann
        .post("/api/v1/projects/bank/tasks/next", json!({}))
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["task"].is_null());
    assert_eq!(v["reason"]["reason"], "drained");
    // An expired lease: 409.
    let (s, _) = lead
        .post_raw(
            "/api/v1/projects/bank/items",
            ndjson(1),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let t = ann.next("bank").await;
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (s, v) = ann
        .submit("bank", t["assignment"].as_i64().unwrap(), pref("a"))
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(v["error"]["code"], "lease_expired");
    // An oversized body: 413 in our error shape.
    let big = vec![b' '; plumbline_server::api::JSON_BODY_LIMIT + 10];
    let (s, v) = ann
        .post_raw(
            &format!("/api/v1/projects/bank/tasks/{}/submit", t["assignment"]),
            big,
            "application/json",
        )
        .await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["error"]["code"], "too_large");
    // Unknown fields in the envelope are named.
    let (s, v) = ann
        .post(
            &format!("/api/v1/projects/bank/tasks/{}/submit", t["assignment"]),
            json!({"payload": pref("a"), "seconds": 3}),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(
        v["error"]["message"].as_str().unwrap().contains("seconds"),
        "{v}"
    );
    // Page size is capped.
    let (s, v) = lead.get("/api/v1/projects/bank/items?limit=100000").await;
    assert_eq!(s, StatusCode::OK);
    assert!(v["items"].as_array().unwrap().len() <= 500);
    // The OpenAPI document lists every route.
    let doc: Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    for path in [
        "/api/v1/projects",
        "/api/v1/projects/{project}/items",
        "/api/v1/projects/{project}/tasks/next",
        "/api/v1/projects/{project}/tasks/{assignment}/submit",
        "/api/v1/projects/{project}/tasks/{assignment}/skip",
        "/api/v1/projects/{project}/adjudication/{item}",
        "/api/v1/projects/{project}/gold",
        "/api/v1/projects/{project}/progress",
        "/api/v1/projects/{project}/rubrics",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from OpenAPI"
        );
    }
    // /metrics in the Prometheus text format.
    let text = app
        .http
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("# TYPE plumbline_http_requests_total counter"));
    assert!(
        text.contains("route=\"/api/v1/projects/{project}/tasks/next\""),
        "{text}"
    );
    assert!(text.contains("process_resident_memory_bytes"));
}
