//! Trust under attack: no answer carries a project's secrets, each write needs its write
//! scope, and expertise is proposed, verified and replaced only by those with authority
//! in its domain over the user.

use crate::support::*;
use plumbline_domain::ProjectRole;
use plumbline_store::{IdentityStore, Store};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn get(app: &App, token: &str, path: &str) -> (StatusCode, String) {
    let r = app
        .http
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

async fn send(
    app: &App,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Value,
) -> (StatusCode, String) {
    let r = app
        .http
        .request(method, app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    (r.status(), r.text().await.unwrap())
}

#[tokio::test]
async fn no_answer_carries_the_split_salt() {
    let app = App::start().await;
    let p = app.project("triage").await;
    let salt = p.split_salt.clone();
    assert_eq!(salt.len(), 32);
    let view = app.user("view", false).await;
    app.member(&p, &view, ProjectRole::Viewer).await;
    let lead = app.user("lead", false).await;
    app.member(&p, &lead, ProjectRole::Lead).await;
    let root = app.user("root", true).await;
    let all = "read,annotate,review,import,export,admin";
    let view = app.token(&view, "read", None).await.1;
    let lead = app.token(&lead, all, None).await.1;
    let root = app.token(&root, all, None).await.1;

    let mut bodies = Vec::new();
    for (token, path) in [
        (&view, "/api/v1/projects"),
        (&view, "/api/v1/projects/triage"),
        (&lead, "/api/v1/projects"),
        (&lead, "/api/v1/projects/triage"),
        (&root, "/api/v1/projects"),
        (&root, "/api/v1/projects/triage"),
        (&lead, "/api/v1/projects/triage/members"),
        (&lead, "/api/v1/projects/triage/progress"),
    ] {
        let (status, text) = get(&app, token, path).await;
        assert_eq!(status, StatusCode::OK, "{path}: {text}");
        bodies.push((path, text));
    }
    let (status, text) = send(
        &app,
        reqwest::Method::PATCH,
        &lead,
        "/api/v1/projects/triage",
        json!({"overlap": 3}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{text}");
    bodies.push(("PATCH /api/v1/projects/triage", text));
    let (status, text) = send(
        &app,
        reqwest::Method::POST,
        &root,
        "/api/v1/projects",
        json!({"name": "second", "rubric": RUBRIC}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{text}");
    bodies.push(("POST /api/v1/projects", text));
    let second = app.store.project_by_name("second").await.unwrap();
    for (path, text) in &bodies {
        assert!(!text.contains("split_salt"), "{path}: {text}");
        assert!(!text.contains("secret"), "{path}: {text}");
        assert!(
            !text.contains(&salt) && !text.contains(&second.split_salt),
            "{path} sends the salt: {text}"
        );
    }
}

#[tokio::test]
async fn writes_need_their_write_scope() {
    let app = App::start().await;
    let p = app.project("triage").await;
    let lead = app.user("lead", false).await;
    app.member(&p, &lead, ProjectRole::Lead).await;
    let ann = app.user("ann", false).await;
    app.member(&p, &ann, ProjectRole::Annotator).await;

    // `read,review` may adjudicate but not promote to gold: that needs what `POST /gold`
    // needs (the `admin` scope), even from a lead.
    let review = app.token(&lead, "read,review", None).await.1;
    let decision = json!({"payload": {"winner": "a"}, "rationale": "r", "promote_to_gold": true});
    let (status, text) = send(
        &app,
        reqwest::Method::POST,
        &review,
        "/api/v1/projects/triage/adjudication/call-1",
        decision.clone(),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(
        text.contains("promoting a decision to gold") && text.contains("`admin` scope"),
        "{text}"
    );
    let (status, text) = send(
        &app,
        reqwest::Method::POST,
        &review,
        "/api/v1/projects/triage/gold",
        json!({"item": "call-1", "payload": {"winner": "a"}}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    // Without promotion the same token gets past access (the item does not exist).
    let mut plain = decision.clone();
    plain["promote_to_gold"] = json!(false);
    let (status, text) = send(
        &app,
        reqwest::Method::POST,
        &review,
        "/api/v1/projects/triage/adjudication/call-1",
        plain,
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{text}");

    // A `read` token cannot propose expertise, not even one's own.
    let read = app.token(&ann, "read", None).await.1;
    let (status, text) = send(
        &app,
        reqwest::Method::POST,
        &read,
        "/api/v1/users/ann/expertise",
        json!({"expertise": "clinical:expert"}),
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(text.contains("`admin` scope"), "{text}");
    assert!(app.store.expertise(ann.id).await.unwrap().is_empty());
    // A `read` token of a user still lists projects; a token without it does not.
    let annotate = app.token(&ann, "annotate", None).await.1;
    assert_eq!(get(&app, &read, "/api/v1/projects").await.0, StatusCode::OK);
    assert_eq!(
        get(&app, &annotate, "/api/v1/projects").await.0,
        StatusCode::FORBIDDEN
    );
    let r = app
        .http
        .get(app.url("/projects"))
        .bearer_auth(&annotate)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::FORBIDDEN,
        "the projects page reads too"
    );
}

#[tokio::test]
async fn expertise_authority_follows_the_domains_a_lead_answers_for() {
    let app = App::start().await;
    let banking = app.project_requiring("banking", &["banking:novice"]).await;
    let clinic = app
        .project_requiring("clinic", &["clinical:practitioner"])
        .await;
    let open = app.project("open").await;
    let la = app.user("la", false).await;
    let lb = app.user("lb", false).await;
    let u = app.user("u", false).await;
    let v = app.user("v", false).await;
    let root = app.user("root", true).await;
    app.member(&banking, &la, ProjectRole::Lead).await;
    app.member(&open, &la, ProjectRole::Lead).await;
    app.member(&clinic, &lb, ProjectRole::Lead).await;
    for p in [&banking, &clinic, &open] {
        app.member(p, &u, ProjectRole::Annotator).await;
    }
    app.member(&clinic, &v, ProjectRole::Annotator).await;
    app.member(&open, &v, ProjectRole::Annotator).await;
    let all = "read,annotate,review,import,export,admin";
    let la_t = app.token(&la, all, None).await.1;
    let lb_t = app.token(&lb, all, None).await.1;
    let u_t = app.token(&u, all, None).await.1;
    let root_t = app.token(&root, all, None).await.1;
    let propose = |token: &str, user: &str, e: &str| {
        let token = token.to_owned();
        let path = format!("/api/v1/users/{user}/expertise");
        let body = json!({"expertise": e});
        let app = &app;
        async move { send(app, reqwest::Method::POST, &token, &path, body).await }
    };
    let verify = |token: &str, user: &str, domain: &str| {
        let token = token.to_owned();
        let path = format!("/api/v1/users/{user}/expertise/{domain}/verify");
        let app = &app;
        async move { send(app, reqwest::Method::POST, &token, &path, json!({})).await }
    };
    let claim = |user: plumbline_domain::UserId, domain: &'static str| {
        let store = app.store.clone();
        async move {
            store
                .expertise(user)
                .await
                .unwrap()
                .into_iter()
                .find(|c| c.expertise.domain.as_str() == domain)
                .map(|c| (c.expertise.to_string(), c.verified_by.is_some()))
        }
    };

    // The admin verifies u's clinical expertise; clinic relies on it.
    assert_eq!(
        propose(&root_t, "u", "clinical:expert").await.0,
        StatusCode::OK
    );
    assert_eq!(verify(&root_t, "u", "clinical").await.0, StatusCode::OK);
    // The lead of banking (and of open, which requires nothing) cannot turn it into an
    // unverified novice claim…
    let (status, text) = propose(&la_t, "u", "clinical:novice").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(
        text.contains("`clinical`") && text.contains("`banking`") && text.contains("`open`"),
        "{text}"
    );
    assert_eq!(
        claim(u.id, "clinical").await,
        Some(("clinical:expert".into(), true))
    );
    // …nor verify a claim in a domain none of their projects requires.
    assert_eq!(
        propose(&u_t, "u", "cardiology:expert").await.0,
        StatusCode::OK
    );
    let (status, text) = verify(&la_t, "u", "cardiology").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(text.contains("`cardiology`"), "{text}");
    assert_eq!(
        claim(u.id, "cardiology").await,
        Some(("cardiology:expert".into(), false))
    );
    // In banking's own domain the lead proposes and verifies.
    assert_eq!(
        propose(&la_t, "u", "banking:practitioner").await.0,
        StatusCode::OK
    );
    assert_eq!(verify(&la_t, "u", "banking").await.0, StatusCode::OK);
    // A user may not replace their own verified claim (it would unverify it)…
    let (status, text) = propose(&u_t, "u", "banking:expert").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{text}");
    assert!(
        text.contains("replacing the verified claim banking:practitioner"),
        "{text}"
    );
    assert_eq!(
        claim(u.id, "banking").await,
        Some(("banking:practitioner".into(), true))
    );
    // …the lead of the project requiring the domain may.
    assert_eq!(
        propose(&lb_t, "u", "clinical:practitioner").await.0,
        StatusCode::OK
    );
    assert_eq!(
        claim(u.id, "clinical").await,
        Some(("clinical:practitioner".into(), false))
    );
    // Only for members of their projects: v is not in banking.
    let (status, text) = propose(&la_t, "v", "banking:expert").await;
    assert_eq!(
        status,
        StatusCode::FORBIDDEN,
        "v shares `open` with la: {text}"
    );
    let (status, text) = propose(&lb_t, "la", "clinical:expert").await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "la is in none of lb's projects: {text}"
    );
    // The admin keeps full authority.
    assert_eq!(
        propose(&root_t, "v", "cardiology:novice").await.0,
        StatusCode::OK
    );
    assert_eq!(verify(&root_t, "v", "cardiology").await.0, StatusCode::OK);

    // Every change and every refusal is in the audit chain.
    let events = app.store.audit_events(0, 1000).await.unwrap();
    let count = |action: &str| events.iter().filter(|e| e.action == action).count();
    assert_eq!(count("expertise.propose"), 5);
    assert_eq!(count("expertise.verify"), 3);
    let refused = events
        .iter()
        .filter(|e| e.action == "access.refuse" && e.object_type == "expertise")
        .count();
    assert_eq!(refused, 4);
}

#[tokio::test]
async fn dot_names_are_no_projects() {
    let app = App::start().await;
    let root = app.user("root", true).await;
    let root = app.token(&root, "read,admin", None).await.1;
    for name in [".", ".."] {
        let (status, text) = send(
            &app,
            reqwest::Method::POST,
            &root,
            "/api/v1/projects",
            json!({"name": name, "rubric": RUBRIC}),
        )
        .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {text}");
        assert!(text.contains("`.` and `..`"), "{text}");
    }
    assert!(app.store.list_projects().await.unwrap().is_empty());
}
