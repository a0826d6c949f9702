//! A lead's workspace in the browser, walked as an administrator would: create a
//! project from the project list (refusals named beside their field), invite a user
//! and issue them a new link, and the invited user choosing a password on the link's
//! page. Screenshots at 1280 px and 768 px; axe-core and layout shift on every page.

use crate::support;
use crate::webdriver::Browser;
use crate::{assert_accessible, user};
use plumbline_store::{IdentityStore, ItemFilter, Project, SqliteStore, Store, WorkStore};
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

/// Checks a page (axe, labels, contrast, layout shift, nothing wider than a tablet)
/// and saves it at both widths, scrolled to `part`.
async fn check_and_shoot(b: &Browser, page: &str, name: &str, part: &str) {
    assert_accessible(b, page).await;
    b.js(
        "document.querySelector(arguments[0]).scrollIntoView(); return true;",
        json!([part]),
    )
    .await;
    assert_stable(b, page).await;
    b.screenshot(&format!("workspace-{name}-1280")).await;
    b.resize(768, 1024).await;
    // Nothing is wider than a tablet's screen: no sideways scrolling.
    let wide = b
        .js(
            "var w = document.documentElement.clientWidth, out = []; \
             document.querySelectorAll('main *').forEach(function (e) { var r = e.getBoundingClientRect(); \
               if (r.right > w + 1 && !e.closest('.scroll')) out.push(e.tagName + '#' + e.id + '.' + e.className + ' ' + Math.round(r.right)); }); \
             return out.slice(0, 5);",
            json!([]),
        )
        .await;
    assert_eq!(wide, json!([]), "wider than 768 px on {page}");
    b.js(
        "document.querySelector(arguments[0]).scrollIntoView(); return true;",
        json!([part]),
    )
    .await;
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
    if !support::browser_present("the workspace browser test") {
        return;
    }
    let (dir, store) = support::scratch_store("workspace").await;
    user(&store, "root", true).await;
    let (base, _stop) = support::serve(&store).await;
    let b = Browser::start(1280, 900).await;
    // The confirmations of this walk are always accepted.
    let accept_confirms = "window.confirm = function () { return true; }; return true;";

    b.goto(&format!("{base}/login")).await;
    b.type_into("#name", "root").await;
    b.type_into("#password", &crate::password("root")).await;
    b.click("#login button[type=submit]").await;
    b.wait_for(
        "the project list",
        "return location.pathname === '/projects';",
    )
    .await;

    // 1. A new project: a bad name and a bad rubric are named beside their fields.
    // With no project yet, the form is open.
    b.wait_for(
        "the open form",
        "return document.getElementById('new-project').open;",
    )
    .await;
    check_and_shoot(
        &b,
        "the project list with the new-project form",
        "projects",
        "main h1",
    )
    .await;
    b.type_into("#np-name", "bad/name").await;
    b.click("#new-project-form button[type=submit]").await;
    b.wait_for(
        "the name refusal",
        "return !document.getElementById('np-name-error').hidden;",
    )
    .await;
    assert!(
        text(&b, "#np-name-error")
            .await
            .contains("must be 1 to 100"),
        "{}",
        text(&b, "#np-name-error").await
    );
    assert_eq!(
        b.js("return document.activeElement.id;", json!([])).await,
        json!("np-name")
    );
    b.js("document.getElementById('np-name').value = 'support desk'; document.getElementById('np-rubric').value = 'name = \"x\"'; return true;", json!([])).await;
    b.click("#new-project-form button[type=submit]").await;
    b.wait_for(
        "the rubric refusal",
        "return !document.getElementById('np-rubric-error').hidden;",
    )
    .await;
    assert!(text(&b, "#np-rubric-error").await.starts_with("rubric:"));
    assert_eq!(
        text(&b, "#np-name-error").await,
        "",
        "the name is no longer refused"
    );
    // A template fills the rubric; the task kind is chosen.
    b.js(
        "var f = document.getElementById('new-project-form'); f.template.value = 'clinical'; \
         f.template.dispatchEvent(new Event('change')); f.task.value = 'rating'; f.task.value = 'preference'; return true;",
        json!([]),
    )
    .await;
    let rubric = b
        .js(
            "return document.getElementById('np-rubric').value;",
            json!([]),
        )
        .await;
    assert!(
        rubric.as_str().unwrap().contains("[[criteria]]"),
        "{rubric}"
    );
    b.click("#new-project-form button[type=submit]").await;
    b.wait_for(
        "the new project's setup page",
        "return location.pathname === '/projects/support%20desk/setup';",
    )
    .await;
    let created = store.project_by_name("support desk").await.unwrap();
    assert_eq!(created.settings.task.as_str(), "preference");
    let current = store.rubric(created.id, None).await.unwrap();
    assert_eq!(
        current.rubric.name,
        plumbline_domain::Rubric::from_toml(include_str!(
            "../../../../examples/clinical/rubric.toml"
        ))
        .unwrap()
        .name
    );

    setup_page(&b, &dir, &store, &created).await;

    // 2. Invite a user into the new project; the link is shown once.
    b.goto(&format!("{base}/admin/users")).await;
    let _ = b.find("#invite-form").await;
    b.type_into("#invite-form input[name=name]", "ines").await;
    b.js("var f = document.getElementById('invite-form'); f.project.value = 'support desk'; f.role.value = 'annotator'; return true;", json!([])).await;
    b.click("#invite-form button[type=submit]").await;
    b.wait_for(
        "the link",
        "return !document.getElementById('invite-result').hidden;",
    )
    .await;
    let first = b
        .js(
            "return document.getElementById('invite-link').value;",
            json!([]),
        )
        .await;
    let first = first.as_str().unwrap().to_owned();
    assert!(first.starts_with(&format!("{base}/invite/")), "{first}");
    assert!(store.password_hash("ines").await.unwrap().is_none());
    check_and_shoot(&b, "the users page with a link", "users", "main h1").await;
    // A name taken is refused in place.
    b.type_into("#invite-form input[name=name]", "root").await;
    b.click("#invite-form button[type=submit]").await;
    b.wait_for(
        "the refusal",
        "return !document.getElementById('invite-error').hidden;",
    )
    .await;
    assert!(text(&b, "#invite-error").await.contains("exists already"));
    // The list shows her as invited; a new link replaces the first.
    b.goto(&format!("{base}/admin/users")).await;
    let row: Value = b
        .js("var r = Array.prototype.find.call(document.querySelectorAll('#users tbody tr'), function (r) { return r.cells[0].textContent === 'ines'; }); return r ? r.cells[2].textContent : null;", json!([]))
        .await;
    assert!(
        row.as_str()
            .unwrap()
            .starts_with("invited; link open until"),
        "{row}"
    );
    b.js(accept_confirms, json!([])).await;
    b.click("button[data-reissue=ines]").await;
    b.wait_for(
        "the new link",
        "return !document.getElementById('invite-result').hidden;",
    )
    .await;
    let second = b
        .js(
            "return document.getElementById('invite-link').value;",
            json!([]),
        )
        .await;
    let second = second.as_str().unwrap().to_owned();
    assert_ne!(first, second);

    // The invited user, in a browser without the admin's session.
    b.js(accept_confirms, json!([])).await;
    b.click("#logout").await;
    b.wait_for("the login page", "return location.pathname === '/login';")
        .await;
    b.goto(&first).await;
    let _ = b.find("main h1").await;
    assert!(text(&b, "main").await.contains("replaced by a newer one"));
    check_and_shoot(
        &b,
        "a replaced invitation link",
        "invite-replaced",
        "main h1",
    )
    .await;
    b.goto(&second).await;
    let _ = b.find("#invite-accept").await;
    check_and_shoot(&b, "the invitation page", "invite", "main h1").await;
    b.type_into("#new-password", "ines-own-password").await;
    b.type_into("#again-password", "ines-own-passwordX").await;
    b.click("#invite-accept button[type=submit]").await;
    b.wait_for(
        "the mismatch",
        "return !document.getElementById('accept-error').hidden;",
    )
    .await;
    b.js(
        "document.getElementById('again-password').value = 'ines-own-password'; return true;",
        json!([]),
    )
    .await;
    b.click("#invite-accept button[type=submit]").await;
    b.wait_for(
        "her project list",
        "return location.pathname === '/projects' && !!document.querySelector('.project');",
    )
    .await;
    assert!(text(&b, ".project h2").await.contains("support desk"));
    // The link is spent.
    b.goto(&second).await;
    let _ = b.find("main h1").await;
    assert!(text(&b, "main").await.contains("used already"));
    b.quit().await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Waits until the paragraph `css` shows, and returns its text.
async fn shown(b: &Browser, what: &str, css: &str) -> String {
    b.wait_for(
        what,
        &format!("var e = document.querySelector('{css}'); return !!e && !e.hidden;"),
    )
    .await;
    text(b, css).await
}

/// 3–6 on the new project's setup page: every setting, the rubric's form editor, an
/// upload in another format with its error list, the export form's filters.
async fn setup_page(b: &Browser, dir: &std::path::Path, store: &SqliteStore, project: &Project) {
    let _ = b.find("#settings-form").await;
    // 3. Settings: a value out of range is named beside its field; nothing changes.
    b.js("var f = document.getElementById('settings-form'); f.ranking_agreement.value = '1.5'; f.rating_spread.value = '2'; return true;", json!([])).await;
    b.click("#settings-form button[type=submit]").await;
    let refused = shown(b, "the settings refusal", "#settings-error").await;
    assert!(refused.contains("ranking_agreement"), "{refused}");
    assert_eq!(
        b.js("return document.querySelector('#settings-form input[name=ranking_agreement]').getAttribute('aria-invalid');", json!([])).await,
        json!("true")
    );
    b.js(
        "var f = document.getElementById('settings-form'); f.ranking_agreement.value = '0.3'; \
         f.edge_case_quotas.value = 'edge:bereavement=0.05, edge:fraud=2'; return true;",
        json!([]),
    )
    .await;
    b.click("#settings-form button[type=submit]").await;
    let refused = shown(b, "the quota refusal", "#settings-error").await;
    assert!(
        refused.contains("edge_case_quotas[1].min_share"),
        "{refused}"
    );
    b.js(
        "document.getElementById('settings-form').edge_case_quotas.value = 'edge:bereavement=0.05, edge:fraud=0.1'; return true;",
        json!([]),
    )
    .await;
    b.click("#settings-form button[type=submit]").await;
    shown(b, "the saved settings", "#settings-done").await;
    let now = store
        .project_by_name(project.name.as_str())
        .await
        .unwrap()
        .settings;
    assert_eq!((now.ranking_agreement, now.rating_spread), (0.3, 2));
    let quotas: Vec<(String, f64)> = now
        .edge_case_quotas
        .iter()
        .map(|q| (q.tag.clone(), q.min_share))
        .collect();
    assert_eq!(
        quotas,
        [
            ("edge:bereavement".to_owned(), 0.05),
            ("edge:fraud".to_owned(), 0.1)
        ]
    );

    // 4. The rubric's form: the TOML is parsed into it; criteria move; it saves as TOML.
    b.click("#rubric-tab-form").await;
    b.wait_for(
        "the rubric form",
        "return !document.getElementById('rubric-editor').hidden;",
    )
    .await;
    let keys = "return Array.prototype.map.call(document.querySelectorAll('[data-list=criterion] > fieldset [data-f=key]'), function (i) { return i.value; });";
    let before = b.js(keys, json!([])).await;
    let before: Vec<String> = serde_json::from_value(before).unwrap();
    assert!(before.len() >= 2, "{before:?}");
    check_and_shoot(
        b,
        "the rubric's form editor",
        "rubric-form",
        "#rubric-tab-form",
    )
    .await;
    b.js("document.querySelectorAll('[data-list=criterion] > fieldset')[1].querySelector('[data-act=up]').click(); return true;", json!([])).await;
    b.click("button[data-add=edge]").await;
    b.js(
        "var rows = document.querySelectorAll('[data-list=edge] > fieldset'); var last = rows[rows.length - 1]; \
         last.querySelector('[data-f=key]').value = 'bereavement'; last.querySelector('[data-f=description]').value = 'A caller mentions a death.'; \
         document.querySelector('#rubric-editor [data-f=name]').value = 'Clinical triage, v2'; return true;",
        json!([]),
    )
    .await;
    b.click("#rubric-tab-toml").await;
    b.wait_for(
        "the TOML again",
        "return !document.getElementById('rubric-toml-panel').hidden;",
    )
    .await;
    let toml = b
        .js(
            "return document.getElementById('rubric-toml').value;",
            json!([]),
        )
        .await;
    let parsed = plumbline_domain::Rubric::from_toml(toml.as_str().unwrap()).unwrap();
    assert_eq!(parsed.name, "Clinical triage, v2");
    assert_eq!(
        parsed.criteria[0].key.as_str(),
        before[1],
        "the moved criterion has the first priority"
    );
    assert!(parsed.edge_case("bereavement").is_some());
    // Back to the form, and save from there.
    b.click("#rubric-tab-form").await;
    b.wait_for(
        "the rubric form",
        "return !document.getElementById('rubric-editor').hidden;",
    )
    .await;
    b.click("#rubric-editor [data-act=save]").await;
    let saved = shown(b, "the saved version", "#rubric-editor-error").await;
    assert!(saved.contains("Saved as version 2"), "{saved}");
    let current = store.rubric(project.id, None).await.unwrap();
    assert_eq!(current.version.0, 2);
    assert_eq!(current.rubric, parsed);

    // 5. Upload in another format: every bad record listed, nothing stored; then stored.
    let hh = |n: usize| {
        json!({"chosen": format!("\n\nHuman: question {n}\n\nAssistant: good {n}"),
                               "rejected": format!("\n\nHuman: question {n}\n\nAssistant: bad {n}")}).to_string()
    };
    let bad = dir.join("hh-bad.jsonl");
    std::fs::write(
        &bad,
        format!(
            "{}\n{{\"chosen\": 1}}\n{}\n{{\"chosen\": \"x\"}}\n",
            hh(1),
            hh(2)
        ),
    )
    .unwrap();
    b.type_into("#import-form input[type=file]", bad.to_str().unwrap())
        .await;
    b.click("#import-form button[type=submit]").await;
    shown(b, "the refused upload", "#import-error").await;
    let listed = b.js("return Array.prototype.map.call(document.querySelectorAll('#import-error-list li'), function (l) { return l.textContent; });", json!([])).await;
    let listed: Vec<String> = serde_json::from_value(listed).unwrap();
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(
        listed[0].starts_with("line 2") && listed[1].starts_with("line 4"),
        "{listed:?}"
    );
    assert!(
        store
            .items_page(project.id, ItemFilter::default(), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    check_and_shoot(
        b,
        "the setup page with an upload refused",
        "setup-import-refused",
        "#import",
    )
    .await;
    let good = dir.join("hh-good.jsonl");
    std::fs::write(&good, format!("{}\n{}\n{}\n", hh(1), hh(2), hh(3))).unwrap();
    b.type_into("#import-form input[type=file]", good.to_str().unwrap())
        .await;
    b.click("#import-form button[type=submit]").await;
    let done = shown(b, "the upload", "#import-done").await;
    assert!(
        done.starts_with("3 imported") && done.contains("hh-rlhf"),
        "{done}"
    );

    // 6. The export form carries every filter; the endpoint takes what it sends.
    b.js(
        "var f = document.getElementById('export-form'); f.rubric_version.value = '2'; f.min_expertise.value = 'practitioner'; \
         f.tags.value = 'edge:bereavement'; f.min_agreement.value = '0.5'; f.decision.value = 'majority'; return true;",
        json!([]),
    )
    .await;
    let names = b.js("return Array.prototype.map.call(document.getElementById('export-form').elements, function (e) { return e.name; }).filter(Boolean);", json!([])).await;
    for filter in [
        "kind",
        "format",
        "split",
        "tags",
        "rubric_version",
        "min_agreement",
        "min_expertise",
        "decision",
        "threshold",
        "include_external",
    ] {
        assert!(
            names.as_array().unwrap().iter().any(|n| n == filter),
            "the export form lacks {filter}: {names}"
        );
    }
    b.wait_for(
        "the filtered export",
        "if (!window.__exported) { var f = document.getElementById('export-form'); window.__exported = 'pending'; \
         fetch(f.action + '?' + new URLSearchParams(new FormData(f)).toString(), {credentials: 'same-origin'}) \
         .then(function (r) { window.__exported = String(r.status); }); } return window.__exported === '200';",
    )
    .await;
}
