//! The item browser, the item page and its comment thread, as a lead, a reviewer and
//! an annotator use them: search by text and by id, filter by state and annotator,
//! open an item with all its judgments, post a comment; the reviewer reads it (on the
//! item page and under the adjudication case); an annotator neither reads nor learns of
//! a thread before judging the item (404 from the API, no thread drawn) and reads it
//! after. Every page is checked by axe-core; screenshots at 1280 and 768 px.

use crate::support;
use crate::webdriver::Browser;
use crate::{assert_accessible, item_line, judge_by_store, login, user};
use plumbline_domain::{CommentBody, ProjectRole, TaskKind};
use plumbline_store::{BrowseStore, IdentityStore};
use serde_json::{Value, json};

const ROWS: &str = "return Array.from(document.querySelectorAll('.items-table tbody td:first-child code')).map(function (c) { return c.textContent; });";

async fn rows(b: &Browser) -> Value {
    b.js(ROWS, json!([])).await
}

/// Sets the filter form's `select` named `name` to `value` and submits the form.
async fn filter(b: &Browser, name: &str, value: &str) {
    b.js(
        "document.querySelector('form.filters [name=' + arguments[0] + ']').value = arguments[1]; \
         document.querySelector('form.filters').submit(); return true;",
        json!([name, value]),
    )
    .await;
    b.wait_for(
        "the filtered list",
        &format!(
            "return document.readyState === 'complete' && location.search.indexOf('{name}={value}') >= 0;"
        ),
    )
    .await;
}

/// `GET` of `url` from the page (with the session cookie): the status.
async fn status_of(b: &Browser, url: &str) -> i64 {
    b.js_async(
        "var done = arguments[arguments.length - 1]; \
         fetch(arguments[0], {credentials: 'same-origin'}).then(function (r) { done(r.status); }, function () { done(0); });",
        json!([url]),
    )
    .await
    .as_i64()
    .unwrap()
}

/// The layout shift of the page since it loaded, without shifts after input (CLS).
async fn layout_shift(b: &Browser) -> f64 {
    b.js_async(
        "var done = arguments[arguments.length - 1], sum = 0; \
         new PerformanceObserver(function (list) { list.getEntries().forEach(function (e) { if (!e.hadRecentInput) sum += e.value; }); }) \
           .observe({type: 'layout-shift', buffered: true}); \
         setTimeout(function () { done(sum); }, 500);",
        json!([]),
    )
    .await
    .as_f64()
    .unwrap()
}

async fn sign_out(b: &Browser) {
    b.click("#logout").await;
    b.wait_for("the login page", "return location.pathname === '/login';")
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn item_browser_and_comments() {
    if !support::browser_present("the item browser test") {
        return;
    }
    let (dir, store) = support::scratch_store("browse").await;
    let project = support::preference_project(&store, "browse", 2).await;
    let loan = json!({"id": "loan-1", "task": "preference",
        "context": [{"role": "user", "content": "Why did my Overdraft Ceiling drop last week?"}],
        "candidates": [{"id": "a", "content": "Your limit was reviewed."}, {"id": "b", "content": "No idea."}]})
    .to_string();
    let lines: Vec<String> = (1..=6).map(item_line).chain([loan]).collect();
    support::import_lines(&store, &project, TaskKind::Preference, &lines).await;
    let lead = user(&store, "lena", false).await;
    let rita = user(&store, "rita", false).await;
    let ada = user(&store, "ada", false).await;
    let ben = user(&store, "ben", false).await;
    let cal = user(&store, "cal", false).await;
    for (u, role) in [
        (&lead, ProjectRole::Lead),
        (&rita, ProjectRole::Reviewer),
        (&ada, ProjectRole::Annotator),
        (&ben, ProjectRole::Annotator),
        (&cal, ProjectRole::Annotator),
    ] {
        store
            .add_member(None, project.id, u.id, role)
            .await
            .unwrap();
    }
    // call-01: Ada and Ben disagree (adjudication); call-02: they agree (resolved).
    judge_by_store(&store, &ada, &project, true).await;
    judge_by_store(&store, &ben, &project, false).await;
    judge_by_store(&store, &ada, &project, true).await;
    judge_by_store(&store, &ben, &project, true).await;
    // A thread on call-03, which Cal will judge next.
    store
        .add_comment(
            rita.id,
            project.id,
            "call-03",
            CommentBody::parse("Watch the card number in turn 3").unwrap(),
        )
        .await
        .unwrap();
    let (base, _stop) = support::serve(&store).await;
    let items_url = format!("{base}/projects/browse/items");
    let b = Browser::start(1280, 900).await;

    // The lead finds the browser from the project list.
    login(&b, &base, "lena").await;
    b.click("a[href='/projects/browse/items']").await;
    b.wait_for(
        "the item browser",
        "return location.pathname === '/projects/browse/items' && !!document.querySelector('.items-table');",
    )
    .await;
    assert_eq!(
        rows(&b).await,
        json!([
            "call-01", "call-02", "call-03", "call-04", "call-05", "call-06", "loan-1"
        ])
    );
    assert_accessible(&b, "the item browser").await;
    crate::assert_no_injection(&b, "the item browser").await;
    let cls = layout_shift(&b).await;
    assert!(cls < 0.1, "the item browser shifts its layout: CLS {cls}");
    b.screenshot("browse-items-1280").await;
    b.resize(768, 1024).await;
    b.screenshot("browse-items-768").await;
    assert_accessible(&b, "the item browser at 768 px").await;
    b.resize(1280, 900).await;

    // Search by text (case-insensitively), then by id.
    b.type_into("form.filters input[name=q]", "overdraft ceiling")
        .await;
    b.click("form.filters button[type=submit]").await;
    b.wait_for(
        "the text search",
        "return location.search.indexOf('q=overdraft') >= 0 && document.readyState === 'complete';",
    )
    .await;
    assert_eq!(rows(&b).await, json!(["loan-1"]));
    b.goto(&items_url).await;
    b.type_into("form.filters input[name=q]", "call-04").await;
    b.click("form.filters button[type=submit]").await;
    b.wait_for(
        "the id search",
        "return location.search.indexOf('q=call-04') >= 0 && document.readyState === 'complete';",
    )
    .await;
    assert_eq!(rows(&b).await, json!(["call-04"]));

    // Filter by state, then by annotator.
    b.goto(&items_url).await;
    filter(&b, "state", "adjudication").await;
    assert_eq!(rows(&b).await, json!(["call-01"]));
    filter(&b, "state", "resolved").await;
    assert_eq!(rows(&b).await, json!(["call-02"]));
    b.goto(&items_url).await;
    filter(&b, "annotator", "ada").await;
    assert_eq!(rows(&b).await, json!(["call-01", "call-02"]));
    assert_accessible(&b, "the filtered item browser").await;

    // Open an item: its conversation, both judgments by name, ties and all.
    b.click(".items-table a[href='/projects/browse/items/call-01']")
        .await;
    b.wait_for(
        "the item page",
        "return location.pathname === '/projects/browse/items/call-01' && !!document.querySelector('section.thread');",
    )
    .await;
    let page = b
        .js(
            "return {judges: Array.from(document.querySelectorAll('section[aria-labelledby=judgments-title] .judgments > li > strong')).map(function (s) { return s.textContent; }), \
             text: document.querySelector('main').innerText};",
            json!([]),
        )
        .await;
    assert_eq!(page["judges"], json!(["ada", "ben"]));
    let text = page["text"].as_str().unwrap();
    assert!(text.contains("Judgments (2)"), "{text}");
    assert!(
        text.contains("ada thinks a <b>wins</b>"),
        "rationale shown as text"
    );
    assert!(text.contains("Comments (0)") && text.contains("No comments yet."));
    assert_accessible(&b, "the item page").await;
    crate::assert_no_injection(&b, "the item page").await;

    // The lead posts a comment; it appends as text and survives a reload.
    let comment = "Ben may be right: <b>refund</b> first?";
    b.type_into("#comment", comment).await;
    b.click("section.thread button[type=submit]").await;
    b.wait_for(
        "the posted comment",
        "return document.querySelectorAll('li.comment').length === 1;",
    )
    .await;
    let shown = b
        .js(
            "return {body: document.querySelector('li.comment .cbody').textContent, count: document.querySelector('.thread .count').textContent, bold: document.querySelectorAll('.cbody b').length, field: document.querySelector('#comment').value};",
            json!([]),
        )
        .await;
    assert_eq!(
        shown,
        json!({"body": comment, "count": "1", "bold": 0, "field": ""})
    );
    b.goto(&format!("{items_url}/call-01")).await;
    let after = b
        .js(
            "return Array.from(document.querySelectorAll('li.comment')).map(function (l) { return l.innerText; });",
            json!([]),
        )
        .await;
    assert_eq!(after.as_array().unwrap().len(), 1);
    let cls = layout_shift(&b).await;
    assert!(cls < 0.1, "the item page shifts its layout: CLS {cls}");
    assert!(after[0].as_str().unwrap().contains("lena"));
    assert!(after[0].as_str().unwrap().contains(comment));
    b.screenshot("browse-item-1280").await;
    b.js(
        "document.querySelector('#judgments-title').scrollIntoView(); return true;",
        json!([]),
    )
    .await;
    b.screenshot("browse-item-judgments-1280").await;
    b.resize(768, 1024).await;
    b.screenshot("browse-item-768").await;
    assert_accessible(&b, "the item page at 768 px").await;
    b.resize(1280, 900).await;
    // A blank comment is refused with a message, not sent.
    b.type_into("#comment", "   ").await;
    b.click("section.thread button[type=submit]").await;
    b.wait_for(
        "the refusal",
        "var e = document.querySelector('.thread .error'); return !e.hidden && /Write something/.test(e.textContent);",
    )
    .await;
    sign_out(&b).await;

    // The reviewer reads it on the item page and under the adjudication case.
    login(&b, &base, "rita").await;
    b.goto(&format!("{items_url}/call-01")).await;
    let text = b
        .js(
            "return document.querySelector('section.thread').innerText;",
            json!([]),
        )
        .await;
    assert!(text.as_str().unwrap().contains(comment), "{text}");
    b.goto(&format!("{base}/projects/browse/review")).await;
    b.wait_for(
        "the thread under the case",
        "var t = document.querySelector('section.case[data-item=\"call-01\"] section.thread'); return !!t && t.innerText.indexOf('refund') >= 0;",
    )
    .await;
    assert_accessible(&b, "the review page with a thread").await;
    sign_out(&b).await;

    // An annotator who has not judged call-03 learns nothing of its thread.
    login(&b, &base, "cal").await;
    let api = "/api/v1/projects/browse/items/call-03/comments";
    assert_eq!(status_of(&b, api).await, 404);
    assert_eq!(status_of(&b, "/projects/browse/items/call-03").await, 404);
    b.goto(&format!("{items_url}/call-03")).await;
    let v = b
        .js(
            "return {thread: !!document.querySelector('section.thread'), text: document.body.innerText};",
            json!([]),
        )
        .await;
    assert_eq!(v["thread"], json!(false));
    assert!(!v["text"].as_str().unwrap().contains("card number"));
    assert_eq!(status_of(&b, "/projects/browse/items").await, 403);
    // After judging it, they read the thread from their judged items.
    judge_by_store(&store, &cal, &project, true).await;
    assert_eq!(status_of(&b, api).await, 200);
    b.goto(&format!("{base}/projects")).await;
    b.click("a[href='/projects/browse/judged']").await;
    b.wait_for(
        "the judged items",
        "return location.pathname === '/projects/browse/judged';",
    )
    .await;
    assert_accessible(&b, "the judged items").await;
    crate::assert_no_injection(&b, "the judged items").await;
    b.click("a[href='/projects/browse/items/call-03']").await;
    b.wait_for(
        "the thread",
        "var t = document.querySelector('section.thread'); return !!t && t.innerText.indexOf('card number') >= 0;",
    )
    .await;
    let v = b
        .js(
            "return {judgments: !!document.querySelector('#judgments-title'), gold: !!document.querySelector('#gold-title')};",
            json!([]),
        )
        .await;
    assert_eq!(
        v,
        json!({"judgments": false, "gold": false}),
        "an annotator sees no one else's judgments"
    );
    assert_accessible(&b, "the item page of an annotator").await;
    b.type_into("#comment", "I flagged it too").await;
    b.click("section.thread button[type=submit]").await;
    b.wait_for(
        "the annotator's comment",
        "return document.querySelectorAll('li.comment').length === 2;",
    )
    .await;
    let thread = store.comments_of_item(project.id, "call-03").await.unwrap();
    assert_eq!(thread.len(), 2);
    assert_eq!(thread[1].author_name, "cal");
    b.quit().await;
    let _ = std::fs::remove_dir_all(&dir);
}
