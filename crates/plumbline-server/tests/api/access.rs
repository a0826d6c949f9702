//! Sessions, CSRF, tokens, throttling and security headers.

use crate::support::*;
use plumbline_domain::ProjectRole;
use plumbline_store::{IdentityStore, now_ms};
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn login(app: &App, name: &str, password: &str) -> reqwest::Response {
    app.http
        .post(app.url("/api/v1/session"))
        .json(&json!({"name": name, "password": password}))
        .send()
        .await
        .unwrap()
}

fn session_cookie(r: &reqwest::Response) -> String {
    let set = r
        .headers()
        .get("set-cookie")
        .expect("a session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    cookie_of(r)
}

#[tokio::test]
async fn login_sets_a_strict_cookie_and_logout_ends_it() {
    let app = App::start().await;
    app.user("nora", false).await;
    let r = login(&app, "nora", &password_of("nora")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let cookie = session_cookie(&r);
    assert!(
        !r.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Secure"),
        "plain HTTP by default"
    );
    let body: Value = r.json().await.unwrap();
    let csrf = body["csrf_token"].as_str().unwrap().to_owned();
    assert_eq!(body["user"]["name"], "nora");
    assert!(body["user"].get("password_hash").is_none());

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
    assert_eq!(me["user"]["name"], "nora");
    assert_eq!(me["csrf_token"], csrf.as_str());

    // A cookie-authenticated change without the CSRF token is refused…
    let r = app
        .http
        .delete(app.url("/api/v1/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("X-CSRF-Token"));
    // …and with the wrong one too.
    let r = app
        .http
        .delete(app.url("/api/v1/session"))
        .header("cookie", &cookie)
        .header("x-csrf-token", "0".repeat(64))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = app
        .http
        .delete(app.url("/api/v1/session"))
        .header("cookie", &cookie)
        .header("x-csrf-token", &csrf)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NO_CONTENT);
    let r = app
        .http
        .get(app.url("/api/v1/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "a revoked session is over"
    );
}

#[tokio::test]
async fn every_login_mints_a_new_session() {
    let app = App::start().await;
    app.user("fix", false).await;
    let first = session_cookie(&login(&app, "fix", &password_of("fix")).await);
    let r = app
        .http
        .post(app.url("/api/v1/session"))
        .header("cookie", &first)
        .json(&json!({"name": "fix", "password": password_of("fix")}))
        .send()
        .await
        .unwrap();
    let second = session_cookie(&r);
    assert_ne!(
        first, second,
        "no session fixation: the id changes at login"
    );
    let old = app
        .http
        .get(app.url("/api/v1/session"))
        .header("cookie", &first)
        .send()
        .await
        .unwrap();
    assert_eq!(
        old.status(),
        StatusCode::UNAUTHORIZED,
        "the session presented at login was ended"
    );
    // A made-up cookie value is never adopted.
    let forged = app
        .http
        .get(app.url("/api/v1/session"))
        .header("cookie", "plumbline_session=attacker-chosen")
        .send()
        .await
        .unwrap();
    assert_eq!(forged.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn password_guessing_is_throttled_and_audited() {
    let app = App::start().await;
    app.user("vic", false).await;
    for _ in 0..5 {
        let r = login(&app, "vic", "wrong-password-guess").await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.text().await.unwrap().contains("wrong name or password"));
    }
    // After five failures the name is locked, even for the right password.
    let r = login(&app, "vic", &password_of("vic")).await;
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().contains_key("retry-after"));
    // Unknown names answer exactly like wrong passwords.
    let r = login(&app, "nobody", "whatever-password").await;
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert!(r.text().await.unwrap().contains("wrong name or password"));
    let events = app.store.audit_events(0, 1000).await.unwrap();
    let fails = events.iter().filter(|e| e.action == "login.fail").count();
    assert_eq!(fails, 6);
    assert!(
        events
            .iter()
            .all(|e| e.digest.as_deref() != Some(&password_of("vic"))),
        "passwords never reach the audit log"
    );
}

#[tokio::test]
async fn tokens_no_expired_and_revoked_are_refused() {
    let app = App::start().await;
    let u = app.user("tom", false).await;
    let (_, live) = app.token(&u, "read", None).await;
    let (_, expired) = app.token(&u, "read", Some(now_ms() - 1000)).await;
    let (revoked_id, revoked) = app.token(&u, "read", None).await;
    app.store.revoke_token(None, revoked_id).await.unwrap();
    let get = |auth: Option<String>| {
        let mut r = app.http.get(app.url("/api/v1/session"));
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        r.send()
    };
    assert_eq!(
        get(Some(format!("Bearer {live}"))).await.unwrap().status(),
        StatusCode::OK
    );
    for bad in [
        None,
        Some(format!("Bearer {expired}")),
        Some(format!("Bearer {revoked}")),
        Some("Bearer plb_nonsense".into()),
        Some(format!("Basic {live}")),
    ] {
        let r = get(bad.clone()).await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{bad:?}");
        assert_eq!(r.headers()["www-authenticate"], "Bearer");
        let body: Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthenticated");
    }
    app.store.set_user_disabled(None, u.id, true).await.unwrap();
    assert_eq!(
        get(Some(format!("Bearer {live}"))).await.unwrap().status(),
        StatusCode::UNAUTHORIZED,
        "disabled users' tokens stop"
    );
}

#[tokio::test]
async fn security_headers_are_on_every_response() {
    let app = App::start().await;
    for path in ["/healthz", "/api/v1/session", "/no/such/page"] {
        let r = app.http.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("script-src 'self'"),
            "{path}: {csp}"
        );
        assert!(
            !csp.contains("'unsafe-inline'")
                || !csp
                    .split(';')
                    .any(|d| d.trim().starts_with("script-src") && d.contains("unsafe-inline"))
        );
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["x-frame-options"], "DENY");
    }
}

#[tokio::test]
async fn project_roles_and_scopes_gate_member_routes() {
    let app = App::start().await;
    let p = app.project("triage").await;
    let mut tokens = Vec::new();
    for (name, role) in [
        ("lead", Some(ProjectRole::Lead)),
        ("rev", Some(ProjectRole::Reviewer)),
        ("ann", Some(ProjectRole::Annotator)),
        ("view", Some(ProjectRole::Viewer)),
        ("outsider", None),
    ] {
        let u = app.user(name, false).await;
        if let Some(role) = role {
            app.member(&p, &u, role).await;
        }
        tokens.push((
            name,
            app.token(&u, "read,annotate,review,import,export,admin", None)
                .await
                .1,
        ));
    }
    let admin = app.user("root", true).await;
    let admin_token = app.token(&admin, "read,admin", None).await.1;
    let get = |t: &str| {
        app.http
            .get(app.url("/api/v1/projects/triage/members"))
            .bearer_auth(t.to_owned())
            .send()
    };
    let put = |t: &str, user: &str| {
        app.http
            .put(app.url(&format!("/api/v1/projects/triage/members/{user}")))
            .bearer_auth(t.to_owned())
            .json(&json!({"role": "annotator"}))
            .send()
    };
    for (name, token) in &tokens {
        let expect_read = if *name == "outsider" {
            StatusCode::NOT_FOUND
        } else {
            StatusCode::OK
        };
        assert_eq!(
            get(token).await.unwrap().status(),
            expect_read,
            "{name} reads members"
        );
        let expect_write = match *name {
            "lead" => StatusCode::OK,
            "outsider" => StatusCode::NOT_FOUND,
            _ => StatusCode::FORBIDDEN,
        };
        assert_eq!(
            put(token, "view").await.unwrap().status(),
            expect_write,
            "{name} sets a role"
        );
    }
    assert_eq!(
        get(&admin_token).await.unwrap().status(),
        StatusCode::OK,
        "admins see every project"
    );
    let unknown = app
        .http
        .get(app.url("/api/v1/projects/nope/members"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    // The lead's read-only token cannot change roles: scope binds as well as role.
    let lead = app.store.user_by_name("lead").await.unwrap();
    let read_only = app.token(&lead, "read", None).await.1;
    let r = put(&read_only, "view").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.text().await.unwrap().contains("`admin` scope"));
    // Audit: admins only; refusals above were audited without content.
    let lead_token = &tokens[0].1;
    let r = app
        .http
        .get(app.url("/api/v1/audit"))
        .bearer_auth(lead_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let events: Vec<Value> = app
        .http
        .get(app.url("/api/v1/audit?action=access.refuse&limit=50"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        events.len() >= 5,
        "refused accesses are audited: {events:?}"
    );
    assert!(events.iter().all(|e| e["action"] == "access.refuse"));
    let roles: Vec<Value> = app
        .http
        .get(app.url("/api/v1/audit?action=member.role"))
        .bearer_auth(&admin_token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        roles.len(),
        5,
        "four members plus the lead's change: {roles:?}"
    );
}

#[tokio::test]
async fn expertise_is_proposed_then_verified_by_a_lead() {
    let app = App::start().await;
    let p = app
        .project_requiring("triage", &["clinical:practitioner"])
        .await;
    let lead = app.user("lena", false).await;
    let nurse = app.user("nico", false).await;
    let stranger = app.user("sam", false).await;
    app.member(&p, &lead, ProjectRole::Lead).await;
    app.member(&p, &nurse, ProjectRole::Annotator).await;
    let lead_t = app.token(&lead, "read,admin", None).await.1;
    let nurse_t = app.token(&nurse, "read,annotate,admin", None).await.1;
    let stranger_t = app.token(&stranger, "read,admin", None).await.1;
    let r = app
        .http
        .post(app.url("/api/v1/users/nico/expertise"))
        .bearer_auth(&nurse_t)
        .json(&json!({"expertise": "clinical:expert"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = app
        .http
        .post(app.url("/api/v1/users/nico/expertise"))
        .bearer_auth(&nurse_t)
        .json(&json!({"expertise": "clinical:guru"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("guru"));
    let verify = |t: &str| {
        app.http
            .post(app.url("/api/v1/users/nico/expertise/clinical/verify"))
            .bearer_auth(t.to_owned())
            .send()
    };
    assert_eq!(
        verify(&nurse_t).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "nobody verifies themselves"
    );
    assert_eq!(
        verify(&stranger_t).await.unwrap().status(),
        StatusCode::FORBIDDEN,
        "only a lead of a shared project"
    );
    let r = verify(&lead_t).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["verified_by"], lead.id.0);
    assert!(v["verified_at"].as_i64().is_some());
}

#[tokio::test]
async fn stored_xss_comes_back_as_inert_json() {
    let app = App::start().await;
    let p = app.project("triage").await;
    let evil = app.user("<script>alert(1)</script>", false).await;
    app.member(&p, &evil, ProjectRole::Annotator).await;
    let admin = app.user("root", true).await;
    let token = app.token(&admin, "read,admin", None).await.1;
    let r = app
        .http
        .get(app.url("/api/v1/projects/triage/members"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["content-type"], "application/json");
    assert_eq!(r.headers()["x-content-type-options"], "nosniff");
    let members: Value = r.json().await.unwrap();
    assert_eq!(
        members[0]["user"]["name"], "<script>alert(1)</script>",
        "returned as data, byte for byte"
    );
}

/// Login CSRF: a cross-site form can post `text/plain` holding JSON, and a browser names
/// the page's site in `Origin`; neither may sign anyone in.
#[tokio::test]
async fn a_login_is_json_from_this_server_only() {
    let app = App::start().await;
    app.user("fix", false).await;
    let body = json!({"name": "fix", "password": password_of("fix")}).to_string();
    let post = |content_type: &'static str, origin: Option<String>| {
        let mut r = app
            .http
            .post(app.url("/api/v1/session"))
            .header("content-type", content_type)
            .body(body.clone());
        if let Some(o) = origin {
            r = r.header("origin", o);
        }
        r.send()
    };
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ] {
        let r = post(content_type, None).await.unwrap();
        assert_eq!(
            r.status(),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{content_type}"
        );
        assert!(r.headers().get("set-cookie").is_none());
        assert!(r.text().await.unwrap().contains("application/json"));
    }
    let r = post("application/json", Some("https://evil.example".into()))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("set-cookie").is_none());
    assert!(r.text().await.unwrap().contains("Origin"));
    // The server's own pages: same host in Origin, or no Origin (a script, curl).
    let own = app.url("");
    let own = own.trim_end_matches('/').to_owned();
    let r = post("application/json; charset=utf-8", Some(own))
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = post("application/json", None).await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
}
