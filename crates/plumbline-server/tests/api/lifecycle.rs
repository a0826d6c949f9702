//! Account lifecycle: password change and reset, member removal, and the login
//! throttle per (name, client address) with budgets for a flood of invented names.

use crate::support::*;
use plumbline_domain::ProjectRole;
use plumbline_server::login_guard::LoginGuard;
use plumbline_store::IdentityStore;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::sync::Arc;

/// A login from client address `from` (the server trusts `X-Forwarded-For` here).
async fn login_from(app: &App, from: &str, name: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/session"))
        .header("x-forwarded-for", from)
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap()
}

/// A signed-in browser: its cookie and CSRF token.
struct Browser {
    cookie: String,
    csrf: String,
}

async fn sign_in(app: &App, name: &str, password: &str) -> Browser {
    let r = login_from(app, "192.0.2.1", name, password).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = cookie_of(&r);
    let v: Value = r.json().await.unwrap();
    Browser {
        cookie,
        csrf: v["csrf_token"].as_str().unwrap().to_owned(),
    }
}

async fn whoami(app: &App, b: &Browser) -> StatusCode {
    app.http
        .get(app.url("/api/v1/session"))
        .header("cookie", &b.cookie)
        .send()
        .await
        .unwrap()
        .status()
}

fn trusting_proxy(state: &mut plumbline_server::AppState<plumbline_store::SqliteStore>) {
    state.session.trust_forwarded_for = true;
}

#[tokio::test]
async fn a_user_changes_their_password_and_their_other_sessions_end() {
    let app = App::start_with(trusting_proxy).await;
    app.user("pat", false).await;
    let old = password_of("pat");
    let here = sign_in(&app, "pat", &old).await;
    let elsewhere = sign_in(&app, "pat", &old).await;
    let change = |current: &str, new: &str| {
        app.http
            .put(app.url("/api/v1/account/password"))
            .header("cookie", &here.cookie)
            .header("x-csrf-token", &here.csrf)
            .json(&json!({"current_password": current, "new_password": new}))
            .send()
    };
    let r = change("not-my-password", "a brand new passphrase")
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("current_password"));
    let r = change(&old, "short").await.unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("new_password"));
    assert_eq!(
        whoami(&app, &elsewhere).await,
        StatusCode::OK,
        "nothing changed yet"
    );
    let r = change(&old, "a brand new passphrase").await.unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    assert_eq!(
        whoami(&app, &here).await,
        StatusCode::OK,
        "the session it was changed from stays"
    );
    assert_eq!(whoami(&app, &elsewhere).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login_from(&app, "192.0.2.1", "pat", &old).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        login_from(&app, "192.0.2.1", "pat", "a brand new passphrase")
            .await
            .status(),
        StatusCode::OK
    );
    let events = app.store.audit_events(0, 1000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "user.password")
            .count(),
        1
    );
}

#[tokio::test]
async fn an_admin_resets_a_password_once_and_ends_every_session() {
    let app = App::start_with(trusting_proxy).await;
    let root = app.user("root", true).await;
    let (_, admin) = app.token(&root, "read,admin", None).await;
    let plain = app.user("plain", false).await;
    let (_, not_admin) = app.token(&plain, "read,admin", None).await;
    app.user("sam", false).await;
    let session = sign_in(&app, "sam", &password_of("sam")).await;
    let reset = |token: &str, body: Option<Value>| {
        let mut r = app
            .http
            .put(app.url("/api/v1/users/sam/password"))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send()
    };
    assert_eq!(
        reset(&not_admin, None).await.unwrap().status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(whoami(&app, &session).await, StatusCode::OK);
    let r = reset(&admin, None).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    let generated = v["password"].as_str().unwrap().to_owned();
    assert!(generated.len() >= 12, "{v}");
    assert_eq!(v["user"]["name"], "sam");
    assert_eq!(whoami(&app, &session).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        login_from(&app, "192.0.2.1", "sam", &generated)
            .await
            .status(),
        StatusCode::OK
    );
    // A chosen password is not echoed back.
    let r = reset(&admin, Some(json!({"password": "chosen by the admin"})))
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    assert!(v.get("password").is_none(), "{v}");
    let r = reset(&admin, Some(json!({"password": "short"})))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = app
        .http
        .put(app.url("/api/v1/users/nobody/password"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let events = app.store.audit_events(0, 1000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "user.password_reset")
            .count(),
        2
    );
}

#[tokio::test]
async fn a_lead_removes_a_member_but_not_the_last_lead() {
    let app = App::start().await;
    let p = app.project("ward").await;
    let lead = app.user("lee", false).await;
    app.member(&p, &lead, ProjectRole::Lead).await;
    let (_, lead_t) = app.token(&lead, "read,admin", None).await;
    let ann = app.user("ann", false).await;
    app.member(&p, &ann, ProjectRole::Annotator).await;
    let (_, ann_t) = app.token(&ann, "read,annotate", None).await;
    let remove = |who: &str| {
        app.http
            .delete(app.url(&format!("/api/v1/projects/ward/members/{who}")))
            .bearer_auth(&lead_t)
            .send()
    };
    let project_seen = |t: String| {
        let app = &app;
        async move {
            app.http
                .get(app.url("/api/v1/projects/ward"))
                .bearer_auth(t)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(project_seen(ann_t.clone()).await, StatusCode::OK);
    // An annotator cannot remove anyone.
    let r = app
        .http
        .delete(app.url("/api/v1/projects/ward/members/lee"))
        .bearer_auth(&ann_t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = remove("ann").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let members: Value = r.json().await.unwrap();
    assert_eq!(members.as_array().unwrap().len(), 1, "{members}");
    assert_eq!(project_seen(ann_t).await, StatusCode::NOT_FOUND);
    assert_eq!(remove("ann").await.unwrap().status(), StatusCode::NOT_FOUND);
    let r = remove("lee").await.unwrap();
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert!(r.text().await.unwrap().contains("last lead"));
    let events = app.store.audit_events(0, 1000).await.unwrap();
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "member.remove")
            .count(),
        1
    );
}

#[tokio::test]
async fn the_throttle_is_per_name_and_address_and_an_admin_lifts_it() {
    let app = App::start_with(trusting_proxy).await;
    let root = app.user("root", true).await;
    let (_, admin) = app.token(&root, "read,admin", None).await;
    app.user("vic", false).await;
    let right = password_of("vic");
    for _ in 0..5 {
        let r = login_from(&app, "198.51.100.7", "vic", "a wrong guess here").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login_from(&app, "198.51.100.7", "vic", &right).await;
    assert_eq!(
        r.status(),
        StatusCode::TOO_MANY_REQUESTS,
        "locked from the guessing address"
    );
    let r = login_from(&app, "203.0.113.20", "vic", &right).await;
    assert_eq!(
        r.status(),
        StatusCode::OK,
        "a guesser elsewhere does not lock vic out"
    );
    // A successful login elsewhere does not free the guessing address.
    let r = login_from(&app, "198.51.100.7", "vic", &right).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    let r = app
        .http
        .delete(app.url("/api/v1/login-throttles/vic"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["lifted"], 1, "{v}");
    let r = login_from(&app, "198.51.100.7", "vic", &right).await;
    assert_eq!(r.status(), StatusCode::OK, "lifted");
    let events = app.store.audit_events(0, 1000).await.unwrap();
    assert!(events.iter().any(|e| e.action == "login.unlock"));
}

/// Throttle rows and audit events hold no invented name as typed.
#[tokio::test]
async fn unknown_names_are_stored_only_as_keyed_digests() {
    let app = App::start_with(trusting_proxy).await;
    let invented = "Invented-Name-Or-A-Password-Typed-In-The-Wrong-Box";
    let r = login_from(&app, "192.0.2.50", invented, "whatever password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    let conn = rusqlite::Connection::open(app.dir.join("db.sqlite")).unwrap();
    let keys: Vec<String> = conn
        .prepare("SELECT name FROM login_throttle")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(keys.len(), 1);
    assert!(
        !keys[0].contains(invented) && !keys[0].contains("192.0.2.50"),
        "{keys:?}"
    );
    let events = app.store.audit_events(0, 1000).await.unwrap();
    let fail = events.iter().find(|e| e.action == "login.fail").unwrap();
    let subject = fail.object_id.clone().unwrap();
    assert!(
        subject.starts_with("unknown:") && !subject.contains(invented),
        "{subject}"
    );
}

/// A flood of invented names from many addresses stores at most the budget, and a real
/// user still logs in at once; one address spending its budget is refused for every
/// name until the window passes, while others are not.
#[tokio::test]
async fn floods_of_invented_names_stay_within_their_budgets() {
    let app = App::start_with(|state| {
        trusting_proxy(state);
        state.login_guard = Arc::new(LoginGuard::with_budgets(8, 10));
    })
    .await;
    app.user("real", false).await;
    for i in 0..40 {
        let from = format!("10.1.{}.{}", i / 200, i % 200);
        let r = login_from(&app, &from, &format!("invented-{i}"), "guess guess guess").await;
        assert_eq!(
            r.status(),
            StatusCode::UNAUTHORIZED,
            "{i}: answered like any failure"
        );
    }
    let events = app.store.audit_events(0, 10_000).await.unwrap();
    let fails = events.iter().filter(|e| e.action == "login.fail").count();
    assert_eq!(fails, 10, "only the budget is recorded");
    let conn = rusqlite::Connection::open(app.dir.join("db.sqlite")).unwrap();
    let rows: i64 = conn
        .query_row("SELECT count(*) FROM login_throttle", [], |r| r.get(0))
        .unwrap();
    assert_eq!(rows, 10);
    let started = std::time::Instant::now();
    let r = login_from(&app, "10.9.9.9", "real", &password_of("real")).await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    // One address trying many names spends its own budget.
    for i in 0..8 {
        let r = login_from(&app, "10.7.7.7", &format!("spray-{i}"), "guess guess guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
    let r = login_from(&app, "10.7.7.7", "real", &password_of("real")).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.text().await.unwrap().contains("from this address"));
    let r = login_from(&app, "10.8.8.8", "real", &password_of("real")).await;
    assert_eq!(r.status(), StatusCode::OK);
}
