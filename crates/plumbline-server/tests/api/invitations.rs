//! Invitations over HTTP: an administrator creates a user without a password and gets
//! a one-time link; the link's page and `accept` set the password once and sign in.

use crate::support::*;
use plumbline_domain::ProjectRole;
use plumbline_store::{IdentityStore, InvitationStore};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn invite(app: &App, token: &str, body: Value) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/users/invitations"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

async fn accept(app: &App, secret: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/invitations/accept"))
        .json(&json!({"token": secret, "password": password}))
        .send()
        .await
        .unwrap()
}

async fn page(app: &App, path: &str) -> (StatusCode, String) {
    let r = app.http.get(app.url(path)).send().await.unwrap();
    (r.status(), r.text().await.unwrap())
}

fn secret_of(reply: &Value) -> String {
    reply["path"]
        .as_str()
        .unwrap()
        .trim_start_matches("/invite/")
        .to_owned()
}

#[tokio::test]
async fn an_invited_user_chooses_a_password_once_and_is_signed_in() {
    let app = App::start().await;
    let project = app.project("triage").await;
    let root = app.user("root", true).await;
    let admin = app.token(&root, "read,admin", None).await.1;

    let r = invite(
        &app,
        &admin,
        json!({"name": "ivy", "project": "triage", "role": "reviewer"}),
    )
    .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let reply: Value = r.json().await.unwrap();
    assert_eq!(reply["user"]["name"], "ivy");
    let secret = secret_of(&reply);
    assert_eq!(secret.len(), 64, "256 random bits as hex");
    assert_eq!(reply["link"], app.url(&format!("/invite/{secret}")));
    let ivy = app.store.user_by_name("ivy").await.unwrap();
    assert!(
        app.store.password_hash("ivy").await.unwrap().is_none(),
        "no password until the link is used"
    );
    assert_eq!(
        app.store.member_role(project.id, ivy.id).await.unwrap(),
        Some(ProjectRole::Reviewer)
    );

    let (status, html) = page(&app, &format!("/invite/{secret}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(html.contains("Welcome, ivy"), "{html}");

    // The password rules of every other form; a refused choice consumes nothing.
    let r = accept(&app, &secret, "short").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("12 characters"),
        "{e}"
    );
    // Like a login, it must be JSON (no cross-site form can post it).
    let r = app
        .http
        .post(app.url("/api/v1/invitations/accept"))
        .header("content-type", "text/plain")
        .body(json!({"token": secret, "password": "ivy-chooses-this-one"}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);

    let r = accept(&app, &secret, "ivy-chooses-this-one").await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = cookie_of(&r);
    let me: Value = app
        .http
        .get(app.url("/api/v1/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(me["user"]["name"], "ivy");
    let login = app
        .http
        .post(app.url("/api/v1/session"))
        .json(&json!({"name": "ivy", "password": "ivy-chooses-this-one"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), StatusCode::OK);

    // Single use: the link is spent, and says so.
    let r = accept(&app, &secret, "someone-else-tries-this").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (status, html) = page(&app, &format!("/invite/{secret}")).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("used already"), "{html}");
    let (status, _) = page(&app, &format!("/invite/{}", "0".repeat(64))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        accept(&app, &"0".repeat(64), "long-enough-password")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    let actions: Vec<String> = app
        .store
        .audit_events(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("user.invite"))
        .collect();
    assert_eq!(actions, ["user.invite", "user.invite_accept"]);
}

#[tokio::test]
async fn a_new_link_replaces_the_old_and_refusals_leave_nothing() {
    let app = App::start().await;
    app.project("triage").await;
    let root = app.user("root", true).await;
    let admin = app.token(&root, "read,admin", None).await.1;
    let lead = app.user("lee", false).await;
    let not_admin = app.token(&lead, "read,admin", None).await.1;

    assert_eq!(
        invite(&app, &not_admin, json!({"name": "x1"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        invite(&app, &admin, json!({"name": "has space"}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_eq!(
        invite(&app, &admin, json!({"name": "lee"})).await.status(),
        StatusCode::CONFLICT
    );
    assert_eq!(
        invite(&app, &admin, json!({"name": "x2", "role": "lead"}))
            .await
            .status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a role needs its project"
    );
    assert_eq!(
        invite(&app, &admin, json!({"name": "x3", "project": "nowhere"}))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        invite(
            &app,
            &admin,
            json!({"name": "x4", "project": "triage", "role": "boss"})
        )
        .await
        .status(),
        StatusCode::UNPROCESSABLE_ENTITY
    );
    for name in ["x1", "x2", "x3", "x4"] {
        assert!(
            app.store.user_by_name(name).await.is_err(),
            "{name} was not created"
        );
    }

    let first: Value = invite(&app, &admin, json!({"name": "olga", "admin": true}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(first["user"]["is_admin"], true);
    let reissue = |token: String| {
        app.http
            .post(app.url("/api/v1/users/olga/invitations"))
            .bearer_auth(token)
            .send()
    };
    assert_eq!(
        reissue(not_admin.clone()).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    let r = reissue(admin.clone()).await.unwrap();
    assert_eq!(r.status(), StatusCode::CREATED);
    let second: Value = r.json().await.unwrap();
    assert_ne!(secret_of(&first), secret_of(&second));
    assert_eq!(app.store.open_invitations().await.unwrap().len(), 1);

    let r = accept(&app, &secret_of(&first), "olga-picks-a-password").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let e: Value = r.json().await.unwrap();
    assert!(
        e["error"]["message"].as_str().unwrap().contains("replaced"),
        "{e}"
    );
    let (status, html) = page(&app, &format!("/invite/{}", secret_of(&first))).await;
    assert_eq!(status, StatusCode::GONE);
    assert!(html.contains("newer one"), "{html}");
    assert_eq!(
        accept(&app, &secret_of(&second), "olga-picks-a-password")
            .await
            .status(),
        StatusCode::OK
    );
    let missing = app
        .http
        .post(app.url("/api/v1/users/nobody/invitations"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
}
