//! A lead's workspace in the browser, walked as an administrator would: create a
//! project from the project list (refusals named beside their field), invite a user
//! and issue them a new link, and the invited user choosing a password on the link's
//! page. Screenshots at 1280 px and 768 px; axe-core and layout shift on every page.

use crate::webdriver::{self, Browser};
use crate::{assert_accessible, user};
use plumbline_server::AppState;
use plumbline_store::{IdentityStore, SqliteStore, Store};
use serde_json::{Value, json};

/// Cumulative layout shift of the page so far (buffered `layout-shift` entries not
/// caused by input), which must stay below 0.1.
async fn assert_stable(b: &Browser, page: &str) {
    let cls = b
        .js_async(
            "var done = arguments[arguments.length - 1]; var sum = 0; \
             try { new PerformanceObserver(function (l) { l.getEntries().forEach(function (e) { if (!e.hadRecentInput) sum += e.value; }); }) \
               .observe({type: 'layout-shift', buffered: true}); } catch (e) {} \
             setTimeout(function () { done(sum); }, 300);",
            json!([]),
        )
        .await;
    let cls = cls.as_f64().unwrap_or(0.0);
    assert!(cls < 0.1, "cumulative layout shift {cls} on {page}");
}

/// Checks a page (axe, labels, contrast, layout shift) and saves it at both widths.
async fn check_and_shoot(b: &Browser, page: &str, name: &str) {
    assert_accessible(b, page).await;
    assert_stable(b, page).await;
    b.screenshot(&format!("workspace-{name}-1280")).await;
    b.resize(768, 1024).await;
    b.screenshot(&format!("workspace-{name}-768")).await;
    b.resize(1280, 900).await;
}

async fn text(b: &Browser, css: &str) -> String {
    b.js(
        "var e = document.querySelector(arguments[0]); return e && !e.hidden ? e.textContent : '';",
        json!([css]),
    )
    .await
    .as_str()
    .unwrap_or_default()
    .to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lead_workspace() {
    if let Some(why) = webdriver::unavailable() {
        if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("browser tests cannot run in CI: {why}");
        }
        eprintln!("\n!!!!!!!! SKIPPING the workspace browser test: {why} !!!!!!!!\n");
        return;
    }
    let dir = std::env::temp_dir().join(format!("plumbline-ui-workspace-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();
    user(&store, "root", true).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (_stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(plumbline_server::serve(listener, AppState::new(store.clone()), async {
        let _ = stopped.await;
    }));
    let b = Browser::start(1280, 900).await;
    // The confirmations of this walk are always accepted.
    let accept_confirms = "window.confirm = function () { return true; }; return true;";

    b.goto(&format!("{base}/login")).await;
    b.type_into("#name", "root").await;
    b.type_into("#password", &crate::password("root")).await;
    b.click("#login button[type=submit]").await;
    b.wait_for("the project list", "return location.pathname === '/projects';").await;

    // 1. A new project: a bad name and a bad rubric are named beside their fields.
    let _ = b.find("#new-project-form").await;
    check_and_shoot(&b, "the project list with the new-project form", "projects").await;
    b.type_into("#np-name", "bad/name").await;
    b.click("#new-project-form button[type=submit]").await;
    b.wait_for("the name refusal", "return !document.getElementById('np-name-error').hidden;").await;
    assert!(text(&b, "#np-name-error").await.contains("must be 1 to 100"), "{}", text(&b, "#np-name-error").await);
    assert_eq!(b.js("return document.activeElement.id;", json!([])).await, json!("np-name"));
    b.js("document.getElementById('np-name').value = 'support desk'; document.getElementById('np-rubric').value = 'name = \"x\"'; return true;", json!([])).await;
    b.click("#new-project-form button[type=submit]").await;
    b.wait_for("the rubric refusal", "return !document.getElementById('np-rubric-error').hidden;").await;
    assert!(text(&b, "#np-rubric-error").await.starts_with("rubric:"));
    assert_eq!(text(&b, "#np-name-error").await, "", "the name is no longer refused");
    // A template fills the rubric; the task kind is chosen.
    b.js(
        "var f = document.getElementById('new-project-form'); f.template.value = 'clinical'; \
         f.template.dispatchEvent(new Event('change')); f.task.value = 'ranking'; return true;",
        json!([]),
    )
    .await;
    let rubric = b.js("return document.getElementById('np-rubric').value;", json!([])).await;
    assert!(rubric.as_str().unwrap().contains("[[criteria]]"), "{rubric}");
    b.click("#new-project-form button[type=submit]").await;
    b.wait_for("the new project's setup page", "return location.pathname === '/projects/support%20desk/setup';").await;
    let created = store.project_by_name("support desk").await.unwrap();
    assert_eq!(created.settings.task.as_str(), "ranking");
    let current = store.rubric(created.id, None).await.unwrap();
    assert_eq!(
        current.rubric.name,
        plumbline_domain::Rubric::from_toml(include_str!("../../../../examples/clinical/rubric.toml")).unwrap().name
    );

    // 2. Invite a user into the new project; the link is shown once.
    b.goto(&format!("{base}/admin/users")).await;
    let _ = b.find("#invite-form").await;
    b.type_into("#invite-form input[name=name]", "ines").await;
    b.js("var f = document.getElementById('invite-form'); f.project.value = 'support desk'; f.role.value = 'annotator'; return true;", json!([])).await;
    b.click("#invite-form button[type=submit]").await;
    b.wait_for("the link", "return !document.getElementById('invite-result').hidden;").await;
    let first = b.js("return document.getElementById('invite-link').value;", json!([])).await;
    let first = first.as_str().unwrap().to_owned();
    assert!(first.starts_with(&format!("{base}/invite/")), "{first}");
    assert!(store.password_hash("ines").await.unwrap().is_none());
    check_and_shoot(&b, "the users page with a link", "users").await;
    // A name taken is refused in place.
    b.type_into("#invite-form input[name=name]", "root").await;
    b.click("#invite-form button[type=submit]").await;
    b.wait_for("the refusal", "return !document.getElementById('invite-error').hidden;").await;
    assert!(text(&b, "#invite-error").await.contains("exists already"));
    // The list shows her as invited; a new link replaces the first.
    b.goto(&format!("{base}/admin/users")).await;
    let row: Value = b
        .js("var r = Array.prototype.find.call(document.querySelectorAll('#users tbody tr'), function (r) { return r.cells[0].textContent === 'ines'; }); return r ? r.cells[2].textContent : null;", json!([]))
        .await;
    assert!(row.as_str().unwrap().starts_with("invited; link open until"), "{row}");
    b.js(accept_confirms, json!([])).await;
    b.click("button[data-reissue=ines]").await;
    b.wait_for("the new link", "return !document.getElementById('invite-result').hidden;").await;
    let second = b.js("return document.getElementById('invite-link').value;", json!([])).await;
    let second = second.as_str().unwrap().to_owned();
    assert_ne!(first, second);

    // The invited user, in a browser without the admin's session.
    b.js(accept_confirms, json!([])).await;
    b.click("#logout").await;
    b.wait_for("the login page", "return location.pathname === '/login';").await;
    b.goto(&first).await;
    let _ = b.find("main h1").await;
    assert!(text(&b, "main").await.contains("replaced by a newer one"));
    check_and_shoot(&b, "a replaced invitation link", "invite-replaced").await;
    b.goto(&second).await;
    let _ = b.find("#invite-accept").await;
    check_and_shoot(&b, "the invitation page", "invite").await;
    b.type_into("#new-password", "ines-own-password").await;
    b.type_into("#again-password", "ines-own-passwordX").await;
    b.click("#invite-accept button[type=submit]").await;
    b.wait_for("the mismatch", "return !document.getElementById('accept-error').hidden;").await;
    b.js("document.getElementById('again-password').value = 'ines-own-password'; return true;", json!([])).await;
    b.click("#invite-accept button[type=submit]").await;
    b.wait_for("her project list", "return location.pathname === '/projects' && !!document.querySelector('.project');").await;
    assert!(text(&b, ".project h2").await.contains("support desk"));
    // The link is spent.
    b.goto(&second).await;
    let _ = b.find("main h1").await;
    assert!(text(&b, "main").await.contains("used already"));
    b.quit().await;
    let _ = std::fs::remove_dir_all(&dir);
}
