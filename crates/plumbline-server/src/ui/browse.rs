//! The item browser (reviewers and leads) and the item page.
//!
//! - `GET /projects/{project}/items`: search by text or id, filters by state, tag,
//!   split, agreement and annotator, 50 items a page in import order. The store does
//!   the filtering ([`plumbline_store::BrowseStore::browse_items`]).
//! - `GET /projects/{project}/items/{item}`: the conversation (with the call's player for
//!   reviewers and leads), the candidates, every judgment with its annotator, the gold
//!   status (leads) and the comment thread. An annotator who has submitted a judgment of
//!   the item sees its conversation, candidates and thread, never the others'
//!   judgments; to anyone else the item is not there (404), so nobody learns of a
//!   thread before judging.
//! - `GET /projects/{project}/judged`: an annotator's own judged items, each with a
//!   link to discuss it.

use super::comments::{ThreadPlace, thread};
use super::dashboard::iso_utc;
use super::judge::{Place, render_conversation};
use super::player::media_player;
use super::review::{show, show_field};
use super::{PageError, PageResult, access, layout, page};
use crate::AppState;
use crate::api::comments::may_discuss;
use crate::auth::{AuthError, Reviewer, Viewer};
use axum::extract::{Path, Query, State};
use maud::{Markup, html};
use plumbline_domain::{Item, ItemId, ProjectRole, Scope};
use plumbline_store::{
    AgreementFilter, BROWSE_PAGE, BrowseFilter, BrowsedItem, ItemState, SplitFilter, Store,
    StoreError,
};
use serde::Deserialize;
use serde_json::Value;

/// The browser's query string, as the filter form sends it (empty fields are unset).
#[derive(Debug, Default, Deserialize)]
pub struct BrowseQuery {
    /// Text or an id.
    pub q: Option<String>,
    /// Item state.
    pub state: Option<String>,
    /// A tag.
    pub tag: Option<String>,
    /// `train`, `eval` or `none`.
    pub split: Option<String>,
    /// `agreed` or `disputed`.
    pub agreement: Option<String>,
    /// An annotator's user name.
    pub annotator: Option<String>,
    /// The last database id of the previous page.
    pub after: Option<i64>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// A field the form can only send from its own options, named when it is not one.
fn pick<T: Copy>(
    field: &str,
    value: Option<&str>,
    parse: fn(&str) -> Option<T>,
    allowed: &str,
    problems: &mut Vec<String>,
) -> Option<T> {
    let v = value?;
    let parsed = parse(v);
    if parsed.is_none() {
        problems.push(format!("{field} `{v}` is not one of {allowed}"));
    }
    parsed
}

/// The first user turn of an item, shortened: what a row of the browser shows.
fn excerpt(body: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(body) else {
        return String::new();
    };
    let turns = v["context"].as_array().cloned().unwrap_or_default();
    let text = turns
        .iter()
        .find(|t| t["role"] == "user")
        .or(turns.first())
        .and_then(|t| t["content"].as_str())
        .unwrap_or_default();
    let short: String = text.chars().take(120).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// The query string of `q` with `after` replaced.
fn query_string(q: &BrowseQuery, after: Option<i64>) -> String {
    let mut parts: Vec<String> = Vec::new();
    for (k, v) in [
        ("q", &q.q),
        ("state", &q.state),
        ("tag", &q.tag),
        ("split", &q.split),
        ("agreement", &q.agreement),
        ("annotator", &q.annotator),
    ] {
        if let Some(v) = set(v) {
            parts.push(format!("{k}={}", encode(v)));
        }
    }
    if let Some(a) = after {
        parts.push(format!("after={a}"));
    }
    parts.join("&")
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn option(value: &str, label: &str, current: Option<&str>) -> Markup {
    html! { option value=(value) selected[current == Some(value)] { (label) } }
}

/// `GET /projects/{project}/items`.
pub async fn browse_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Reviewer, AuthError>,
    Query(q): Query<BrowseQuery>,
) -> PageResult {
    let who = access(who)?;
    let lead = who.role >= ProjectRole::Lead;
    let members = state.store.members(who.project.id).await?;
    let mut problems = Vec::new();
    let annotator = match set(&q.annotator) {
        None => None,
        Some(name) => match members.iter().find(|m| m.user.name == name) {
            Some(m) => Some(m.user.id),
            None => {
                problems.push(format!("`{name}` is not a member of this project"));
                None
            }
        },
    };
    let filter = BrowseFilter {
        search: set(&q.q).map(str::to_owned),
        state: pick(
            "state",
            set(&q.state),
            ItemState::parse,
            "open, adjudication, resolved",
            &mut problems,
        ),
        tag: set(&q.tag).map(str::to_owned),
        split: pick(
            "split",
            set(&q.split),
            SplitFilter::parse,
            "train, eval, none",
            &mut problems,
        ),
        agreement: pick(
            "agreement",
            set(&q.agreement),
            AgreementFilter::parse,
            "agreed, disputed",
            &mut problems,
        ),
        annotator,
    };
    // One row more than a page tells whether a next page exists.
    let mut rows = if problems.is_empty() {
        state
            .store
            .browse_items(who.project.id, filter, q.after.map(ItemId), BROWSE_PAGE + 1)
            .await?
    } else {
        Vec::new()
    };
    let more = rows.len() > BROWSE_PAGE as usize;
    rows.truncate(BROWSE_PAGE as usize);
    let next = more.then(|| rows.last().map(|r| r.item.id.0)).flatten();
    let name = &who.project.name;
    let base = format!("/projects/{name}/items");
    let body = html! {
        h1 { "Items · " (name) }
        form.panel.filters method="get" action=(base) role="search" aria-label="Find items" {
            label.search { "Search text or an item id"
                input type="search" name="q" value=[set(&q.q)] placeholder="words in the prompt or the answers, or an id";
            }
            label { "State"
                select name="state" {
                    (option("", "any", set(&q.state)))
                    @for s in ItemState::ALL { (option(s.as_str(), s.as_str(), set(&q.state))) }
                }
            }
            label { "Tag" input type="text" name="tag" value=[set(&q.tag)]; }
            label { "Split"
                select name="split" {
                    (option("", "any", set(&q.split)))
                    @for s in SplitFilter::ALL { (option(s.as_str(), s.as_str(), set(&q.split))) }
                }
            }
            label { "Agreement"
                select name="agreement" {
                    (option("", "any", set(&q.agreement)))
                    (option("agreed", "agreed (settled by the judgments)", set(&q.agreement)))
                    (option("disputed", "disputed (sent to adjudication)", set(&q.agreement)))
                }
            }
            label { "Judged by"
                select name="annotator" {
                    (option("", "anyone", set(&q.annotator)))
                    @for m in &members { (option(&m.user.name, &m.user.name, set(&q.annotator))) }
                }
            }
            p.actions { button type="submit" class="primary" { "Find" } " " a href=(base) { "Clear" } }
        }
        @for problem in &problems { p.error role="alert" { (problem) } }
        section.panel aria-label="Items found" {
            @if rows.is_empty() {
                p.muted { "No items match." }
            } @else {
                p.muted { (rows.len()) " item(s) on this page, in import order." }
                div.scroll tabindex="0" role="region" aria-label="Items" {
                    table.sortable.items-table {
                        thead { tr {
                            th scope="col" { "Item" } th scope="col" { "Prompt" } th scope="col" { "Task" }
                            th scope="col" { "State" } th scope="col" { "Split" }
                            th scope="col" { "Judgments" } th scope="col" { "Comments" }
                            @if lead { th scope="col" { "Gold" } }
                        } }
                        tbody {
                            @for r in &rows { (row(name, r, lead)) }
                        }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if q.after.is_some() { a href={ (base) "?" (query_string(&q, None)) } { "First page" } }
                @if let Some(n) = next { a href={ (base) "?" (query_string(&q, Some(n))) } rel="next" { "Next page" } }
            }
        }
    };
    Ok(page(layout(
        &format!("Items · {name}"),
        Some(&who.actor.user),
        "items",
        body,
        &[],
    )))
}

fn row(project: &str, r: &BrowsedItem, lead: bool) -> Markup {
    html! {
        tr {
            td { a href={ "/projects/" (project) "/items/" (encode(&r.item.ext_id)) } { code { (r.item.ext_id) } } }
            td.excerpt { (excerpt(&r.item.body)) }
            td { (r.item.task.as_str()) }
            td { (r.item.state.as_str()) }
            td { (r.split.as_deref().unwrap_or("—")) }
            td { (r.judgments) }
            td { (r.comments) }
            @if lead { td { @if r.gold { "gold" } @else { "—" } } }
        }
    }
}

/// The candidates, lettered in stored order.
fn candidates(item: &Item) -> Markup {
    html! {
        @if !item.candidates.is_empty() {
            section.panel aria-labelledby="cands-title" {
                h2 id="cands-title" { "Candidates" }
                ol.judgments {
                    @for (i, c) in item.candidates.iter().enumerate() {
                        li {
                            strong { ((b'A' + (i % 26) as u8) as char) " · " code { (c.id) } }
                            @if let Some(m) = &c.model { " " span.muted { (m) } }
                            p.cbody { (c.content) }
                        }
                    }
                }
            }
        }
    }
}

/// One judgment's payload as rows: its fields, then each criterion.
fn payload_rows(payload: &str) -> Markup {
    let v: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let Value::Object(o) = &v else {
        return html! { dt { "payload" } dd { code { (payload) } } };
    };
    html! {
        @for (k, val) in o {
            @if k != "criteria" { dt { (k) } dd { (show_field(k, Some(val))) } }
        }
        @if let Some(Value::Object(c)) = o.get("criteria") {
            @for (k, val) in c { dt { "criterion " (k) } dd { (show(Some(val))) } }
        }
    }
}

fn when(ms: i64) -> Markup {
    let at = iso_utc(ms);
    html! { time datetime=(at) data-local { (at.replace('T', " ").replace('Z', " UTC")) } }
}

/// A page whose item the caller may not see: the same as an unknown item.
fn not_there(item: &str) -> PageError {
    PageError::Auth(AuthError::NotFound(format!("item `{item}` not found")))
}

/// `GET /projects/{project}/items/{item}`.
pub async fn item_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Viewer, AuthError>,
    Path((_, ext)): Path<(String, String)>,
) -> PageResult {
    let who = access(who)?;
    let reviewer = who.role >= ProjectRole::Reviewer && who.actor.scopes.contains(Scope::Review);
    if !may_discuss(&state.store, &who, &ext).await? {
        return Err(not_there(&ext));
    }
    let (stored, _) = match state.store.item(who.project.id, &ext).await {
        Ok(found) => found,
        Err(StoreError::NotFound(_)) => return Err(not_there(&ext)),
        Err(e) => return Err(e.into()),
    };
    let item = Item::from_json(&stored.body, who.project.settings.task).ok();
    let comments = state.store.comments_of_item(who.project.id, &ext).await?;
    let name = &who.project.name;
    let lead = who.role >= ProjectRole::Lead;
    let details = if reviewer {
        Some(reviewer_details(&state.store, &who, &ext, lead).await?)
    } else {
        None
    };
    let body = html! {
        h1 { "Item " code { (ext) } }
        p.muted {
            (stored.task.as_str())
            @if reviewer { " · " (stored.state.as_str()) }
            " · revision " (stored.revision)
            @if reviewer { " · " a href={ "/projects/" (name) "/items" } { "all items" } }
        }
        @match &item {
            Some(item) => {
                section.panel aria-labelledby="convo-title" {
                    h2 id="convo-title" { "Conversation" }
                    // Call audio: reviewers and leads may hear it at any time (the media
                    // endpoint's rule), annotators only while they hold the lease.
                    @if reviewer { (media_player(name, item, "convo")) }
                    (render_conversation(item, Place { ids: "", tools: false }))
                }
                (candidates(item))
            }
            None => { p.error { "This item's stored text cannot be read." } }
        }
        @if let Some(d) = details { (d) }
        section.panel { (thread(name, &ext, &comments, ThreadPlace { ids: "", nested: false })) }
    };
    Ok(page(layout(
        &format!("Item {ext} · {name}"),
        Some(&who.actor.user),
        "item",
        body,
        &["player.js", "comments.js"],
    )))
}

/// What reviewers and leads see of an item beyond its text: every judgment, and for
/// leads its gold status.
async fn reviewer_details<S: Store>(
    store: &S,
    who: &Viewer,
    ext: &str,
    lead: bool,
) -> Result<Markup, StoreError> {
    let judgments = store.judgments_of(who.project.id, ext).await?;
    let members = store.members(who.project.id).await?;
    let name_of = |u: Option<plumbline_domain::UserId>| -> String {
        match u {
            None => "external".into(),
            Some(id) => members
                .iter()
                .find(|m| m.user.id == id)
                .map_or_else(|| format!("user {}", id.0), |m| m.user.name.clone()),
        }
    };
    let gold = if lead {
        Some(store.gold(who.project.id, Some(ext.to_owned())).await?)
    } else {
        None
    };
    Ok(html! {
        section.panel aria-labelledby="judgments-title" {
            h2 id="judgments-title" { "Judgments (" (judgments.len()) ")" }
            @if judgments.is_empty() { p.muted { "Nobody has judged this item yet." } }
            ol.judgments {
                @for j in &judgments {
                    li {
                        strong { (name_of(j.user)) } " · " (when(j.submitted_at))
                        @if j.updated_at != j.submitted_at { " · changed " (when(j.updated_at)) }
                        dl {
                            (payload_rows(&j.payload))
                            @if let Some(t) = j.time_ms { dt { "time on task" } dd { (format!("{:.0} s", t as f64 / 1000.0)) } }
                            @if j.priority_inversion { dt { "priority rule" } dd { "overridden" } }
                            @if lead {
                                @if let Some(ok) = j.gold_correct {
                                    dt { "gold score" } dd { @if ok { "matches the gold answer" } @else { "misses the gold answer" } }
                                }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(gold) = gold {
            section.panel aria-labelledby="gold-title" {
                h2 id="gold-title" { "Gold" }
                @match gold.iter().find(|g| g.active) {
                    None => p.muted { "Not a gold item." },
                    Some(g) => {
                        p { "Gold item: version " (g.version) " (" (g.origin) ")"
                            @if g.needs_revalidation { " · needs revalidation under the current rubric" } }
                        dl.judgments { (payload_rows(&g.payload.to_string())) }
                    }
                }
            }
        }
    })
}

/// `GET /projects/{project}/judged`: the items the caller judged, each linked to its
/// page (where they may discuss it). Only their own: the list says nothing of others.
pub async fn judged_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<crate::auth::Annotator, AuthError>,
    Query(q): Query<BrowseQuery>,
) -> PageResult {
    let who = access(who)?;
    let filter = BrowseFilter {
        annotator: Some(who.actor.user.id),
        ..BrowseFilter::default()
    };
    let mut rows = state
        .store
        .browse_items(who.project.id, filter, q.after.map(ItemId), BROWSE_PAGE + 1)
        .await?;
    let more = rows.len() > BROWSE_PAGE as usize;
    rows.truncate(BROWSE_PAGE as usize);
    let next = more.then(|| rows.last().map(|r| r.item.id.0)).flatten();
    let name = &who.project.name;
    let body = html! {
        h1 { "Items you judged · " (name) }
        section.panel {
            @if rows.is_empty() { p.muted { "You have not submitted a judgment in this project yet." } }
            ul {
                @for r in &rows {
                    li {
                        a href={ "/projects/" (name) "/items/" (encode(&r.item.ext_id)) } { "Discuss " code { (r.item.ext_id) } }
                        " " span.muted { (excerpt(&r.item.body)) }
                    }
                }
            }
            nav.pager aria-label="Pages" {
                @if let Some(n) = next { a href={ "/projects/" (name) "/judged?after=" (n) } rel="next" { "Next page" } }
            }
        }
    };
    Ok(page(layout(
        &format!("Judged · {name}"),
        Some(&who.actor.user),
        "judged",
        body,
        &[],
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_strings_keep_the_filters_and_encode_them() {
        let q = BrowseQuery {
            q: Some("a&b c".into()),
            state: Some("".into()),
            annotator: Some("ann".into()),
            ..BrowseQuery::default()
        };
        assert_eq!(
            query_string(&q, Some(7)),
            "q=a%26b%20c&annotator=ann&after=7"
        );
        assert_eq!(encode("it-1/é"), "it-1%2F%C3%A9");
    }

    #[test]
    fn excerpts_take_the_first_user_turn() {
        let body = r#"{"id":"x","context":[{"role":"system","content":"sys"},{"role":"user","content":"hello <b>"}],"candidates":[]}"#;
        assert_eq!(excerpt(body), "hello <b>");
        let long = format!(
            r#"{{"id":"x","context":[{{"role":"user","content":"{}"}}]}}"#,
            "é".repeat(130)
        );
        assert_eq!(excerpt(&long).chars().count(), 121);
        assert_eq!(excerpt("not json"), "");
    }
}
