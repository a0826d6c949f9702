//! The authorization matrix: every endpoint × every project role × missing, expired and
//! revoked credentials, plus the scope each endpoint needs. The expectations are
//! written here independently of the handlers, so a handler that takes the wrong
//! extractor fails this test.

use crate::support::*;
use plumbline_domain::ProjectRole;
use plumbline_store::{IdentityStore, now_ms};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const OUT: u8 = 1;
const VIEW: u8 = 2;
const ANN: u8 = 4;
const REV: u8 = 8;
const LEAD: u8 = 16;
const MEMBERS: u8 = VIEW | ANN | REV | LEAD;
const ANYONE: u8 = OUT | MEMBERS;
const NOBODY: u8 = 0;

/// One endpoint: how to call it, who may, and which token scope it needs.
struct Op {
    method: Method,
    path: &'static str,
    allowed: u8,
    scope: Option<&'static str>,
    body: Option<Value>,
}

fn op(method: Method, path: &'static str, allowed: u8, scope: Option<&'static str>) -> Op {
    let body = (method != Method::GET && method != Method::DELETE).then(|| json!({}));
    Op {
        method,
        path,
        allowed,
        scope,
        body,
    }
}

impl Op {
    fn with_body(mut self, body: Value) -> Op {
        self.body = Some(body);
        self
    }
}

fn ops() -> Vec<Op> {
    use Method as M;
    vec![
        op(M::GET, "/api/v1/session", ANYONE, None),
        // With a bearer token, logout ends no session and answers 204.
        op(M::DELETE, "/api/v1/session", ANYONE, None),
        op(M::GET, "/api/v1/projects", ANYONE, Some("read")),
        op(M::POST, "/api/v1/projects", NOBODY, Some("admin")),
        op(M::GET, "/api/v1/projects/triage", MEMBERS, Some("read")),
        // Settings: leads only; an annotator's or a reviewer's PATCH is refused.
        op(M::PATCH, "/api/v1/projects/triage", LEAD, Some("admin")),
        op(
            M::GET,
            "/api/v1/projects/triage/quality",
            LEAD,
            Some("admin"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/annotators/ann/reinstate",
            LEAD,
            Some("admin"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/rubrics",
            MEMBERS,
            Some("read"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/rubrics/1",
            MEMBERS,
            Some("read"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/rubrics",
            LEAD,
            Some("admin"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/items",
            LEAD,
            Some("import"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/items",
            REV | LEAD,
            Some("review"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/items/call-1",
            REV | LEAD,
            Some("review"),
        ),
        // Audio: past access control for every member; the handler then hides the
        // item from viewers and from annotators without its lease (404, media.rs).
        op(
            M::GET,
            "/api/v1/projects/triage/items/call-1/media",
            MEMBERS,
            Some("read"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/items/call-1/media/peaks",
            MEMBERS,
            Some("read"),
        ),
        // An item's thread: past access control for every member; the handler then
        // hides it from viewers and from annotators who have not judged the item (404,
        // comments.rs).
        op(
            M::GET,
            "/api/v1/projects/triage/items/call-1/comments",
            MEMBERS,
            Some("read"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/items/call-1/comments",
            MEMBERS,
            Some("read"),
        )
        .with_body(json!({"body": "a note"})),
        op(
            M::POST,
            "/api/v1/projects/triage/media",
            LEAD,
            Some("import"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/tasks/next",
            ANN | REV | LEAD,
            Some("annotate"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/tasks/999999/submit",
            ANN | REV | LEAD,
            Some("annotate"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/tasks/999999/skip",
            ANN | REV | LEAD,
            Some("annotate"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/adjudication",
            REV | LEAD,
            Some("review"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/adjudication/call-1",
            REV | LEAD,
            Some("review"),
        ),
        // Promoting the decision to gold needs what `POST /gold` needs.
        op(
            M::POST,
            "/api/v1/projects/triage/adjudication/call-1",
            LEAD,
            Some("admin"),
        )
        .with_body(json!({"payload": {"winner": "a"}, "rationale": "r", "promote_to_gold": true})),
        op(M::GET, "/api/v1/projects/triage/gold", LEAD, Some("admin")),
        op(M::POST, "/api/v1/projects/triage/gold", LEAD, Some("admin")),
        op(
            M::GET,
            "/api/v1/projects/triage/gold/candidates",
            LEAD,
            Some("admin"),
        ),
        // A reviewer (or lead) proposes gold; an empty body reaches the handler's 400.
        op(
            M::POST,
            "/api/v1/projects/triage/gold/candidates",
            REV | LEAD,
            Some("review"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/gold/candidates/999999/accept",
            LEAD,
            Some("admin"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/gold/candidates/999999/reject",
            LEAD,
            Some("admin"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/qualifications/ann/reset",
            LEAD,
            Some("admin"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/progress",
            MEMBERS,
            Some("read"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/members",
            MEMBERS,
            Some("read"),
        ),
        op(
            M::PUT,
            "/api/v1/projects/triage/members/view",
            LEAD,
            Some("admin"),
        ),
        // `root` (the admin) is no member: the lead's removal reaches the handler and
        // answers 404 without changing who else may act in this table.
        op(
            M::DELETE,
            "/api/v1/projects/triage/members/root",
            LEAD,
            Some("admin"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/export",
            LEAD,
            Some("export"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/releases",
            LEAD,
            Some("export"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/releases",
            LEAD,
            Some("export"),
        ),
        op(
            M::POST,
            "/api/v1/projects/triage/split",
            LEAD,
            Some("admin"),
        ),
        op(
            M::GET,
            "/api/v1/projects/triage/leaderboard",
            LEAD,
            Some("admin"),
        ),
        op(M::GET, "/api/v1/users", NOBODY, Some("admin")),
        op(M::POST, "/api/v1/users", NOBODY, Some("admin")),
        op(M::GET, "/api/v1/audit", NOBODY, Some("admin")),
        // Invitations are an admin's; the rubric converter is anyone's who may read.
        op(M::POST, "/api/v1/users/invitations", NOBODY, Some("admin")),
        op(
            M::POST,
            "/api/v1/users/ann/invitations",
            NOBODY,
            Some("admin"),
        ),
        op(M::POST, "/api/v1/rubrics/convert", ANYONE, Some("read")),
        // Anyone signed in changes their own password (an empty body reaches the
        // handler's 400); resets and throttle lifts are an admin's.
        op(M::PUT, "/api/v1/account/password", ANYONE, None),
        op(M::PUT, "/api/v1/users/ann/password", NOBODY, Some("admin")),
        op(
            M::DELETE,
            "/api/v1/login-throttles/ann",
            NOBODY,
            Some("admin"),
        ),
        // `ann` may read and propose their own expertise; a lead of a shared project may
        // too (in a domain it requires: `clinical`). Proposing is a write: `admin` scope.
        op(
            M::GET,
            "/api/v1/users/ann/expertise",
            ANN | LEAD,
            Some("read"),
        ),
        op(
            M::POST,
            "/api/v1/users/ann/expertise",
            ANN | LEAD,
            Some("admin"),
        )
        .with_body(json!({"expertise": "clinical:novice"})),
        op(
            M::POST,
            "/api/v1/users/ann/expertise/clinical/verify",
            LEAD,
            Some("admin"),
        ),
    ]
}

/// Refused by the access layer: no credential, wrong role or scope, or a project the
/// caller may not know of. Anything else (200, 400, 404 of an item, 409, 422…) got
/// past access control to the handler's own checks.
async fn refused(r: reqwest::Response) -> (bool, String) {
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    let hidden_project =
        status == StatusCode::NOT_FOUND && text.contains("project `triage` not found");
    let hidden_user = status == StatusCode::NOT_FOUND && text.contains("user `ann` not found");
    let denied = status == StatusCode::UNAUTHORIZED
        || status == StatusCode::FORBIDDEN
        || hidden_project
        || hidden_user;
    (denied, format!("{status} {text}"))
}

async fn call(app: &App, op: &Op, token: Option<&str>) -> reqwest::Response {
    let mut req = app.http.request(op.method.clone(), app.url(op.path));
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(body) = &op.body {
        req = req.json(body);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn every_endpoint_by_role_scope_and_credential() {
    let app = App::start().await;
    // It requires `clinical`, so its lead has authority over members' clinical expertise.
    let p = app.project_requiring("triage", &["clinical:novice"]).await;
    let all_scopes = "read,annotate,review,import,export,admin";
    let mut people = Vec::new();
    for (name, bit, role) in [
        ("out", OUT, None),
        ("view", VIEW, Some(ProjectRole::Viewer)),
        ("ann", ANN, Some(ProjectRole::Annotator)),
        ("rev", REV, Some(ProjectRole::Reviewer)),
        ("lead", LEAD, Some(ProjectRole::Lead)),
    ] {
        let u = app.user(name, false).await;
        if let Some(role) = role {
            app.member(&p, &u, role).await;
        }
        people.push((
            name,
            bit,
            u,
            app.token(
                &app.store.user_by_name(name).await.unwrap(),
                all_scopes,
                None,
            )
            .await
            .1,
        ));
    }
    let lead = app.store.user_by_name("lead").await.unwrap();
    let (revoked_id, revoked) = app.token(&lead, all_scopes, None).await;
    app.store.revoke_token(None, revoked_id).await.unwrap();
    let expired = app.token(&lead, all_scopes, Some(now_ms() - 1)).await.1;
    let admin = app.user("root", true).await;
    let admin_token = app.token(&admin, all_scopes, None).await.1;

    let mut failures = Vec::new();
    for op in ops() {
        for (label, token) in [
            ("no token", None),
            ("expired token", Some(expired.as_str())),
            ("revoked token", Some(revoked.as_str())),
        ] {
            let r = call(&app, &op, token).await;
            if r.status() != StatusCode::UNAUTHORIZED {
                failures.push(format!(
                    "{} {} with {label}: {}",
                    op.method,
                    op.path,
                    r.status()
                ));
            }
        }
        for (name, bit, _, token) in &people {
            let (denied, said) = refused(call(&app, &op, Some(token)).await).await;
            let allowed = op.allowed & bit != 0;
            if allowed == denied {
                failures.push(format!(
                    "{} {} as {name}: expected {}, got {said}",
                    op.method,
                    op.path,
                    if allowed { "access" } else { "refusal" }
                ));
            }
        }
        // Admins pass every access rule (their project role counts as lead)…
        let (denied, said) = refused(call(&app, &op, Some(&admin_token)).await).await;
        if denied {
            failures.push(format!(
                "{} {} as admin: refused: {said}",
                op.method, op.path
            ));
        }
        // …but a token without the endpoint's scope does not.
        if let Some(scope) = op.scope {
            let others: Vec<&str> = all_scopes.split(',').filter(|s| *s != scope).collect();
            let narrow = app.token(&admin, &others.join(","), None).await.1;
            let r = call(&app, &op, Some(&narrow)).await;
            if r.status() != StatusCode::FORBIDDEN {
                failures.push(format!(
                    "{} {} without scope {scope}: {}",
                    op.method,
                    op.path,
                    r.status()
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "authorization matrix failures:\n{}",
        failures.join("\n")
    );
}

#[tokio::test]
async fn public_endpoints_need_no_credentials() {
    let app = App::start().await;
    for path in ["/healthz", "/api/v1/openapi.json", "/metrics"] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::OK, "{path}");
    }
    let r = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({"name": "x", "password": "y"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "login itself is open, and says no"
    );
    let r = app
        .http
        .post(app.url("/api/v1/invitations/accept"))
        .json(&json!({"token": "0".repeat(64), "password": "long-enough-password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::NOT_FOUND,
        "accepting an invitation is open too (the link is the credential), and knows no such link"
    );
}

/// True when the concrete `path` fits the OpenAPI template (`{name}` = one segment).
fn fits(template: &str, path: &str) -> bool {
    let t: Vec<&str> = template.split('/').collect();
    let p: Vec<&str> = path.split('/').collect();
    t.len() == p.len() && t.iter().zip(&p).all(|(a, b)| a.starts_with('{') || a == b)
}

#[tokio::test]
async fn the_matrix_covers_every_documented_endpoint() {
    let app = App::start().await;
    let doc: Value = app
        .http
        .get(app.url("/api/v1/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let public = ["/api/v1/openapi.json", "/healthz", "/metrics"];
    let table = ops();
    let mut missing = Vec::new();
    for (template, methods) in doc["paths"].as_object().unwrap() {
        for method in methods.as_object().unwrap().keys() {
            let covered = public.contains(&template.as_str())
                || ((template == "/api/v1/session" || template == "/api/v1/invitations/accept")
                    && method == "post")
                || table.iter().any(|op| {
                    op.method.as_str().eq_ignore_ascii_case(method) && fits(template, op.path)
                });
            if !covered {
                missing.push(format!("{} {template}", method.to_uppercase()));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "endpoints without an authorization expectation: {missing:?}"
    );
    assert!(
        doc["paths"].as_object().unwrap().len() >= 10,
        "the document lists the API"
    );
}
