//! The reviewer's adjudication queue: every judgment of a disagreeing item side by
//! side, with each annotator's verified expertise and gold accuracy, rows that differ
//! highlighted, and a decision form (payload prefilled from a judgment, rationale,
//! promote to gold for leads) that the script posts to
//! `POST /api/v1/projects/{p}/adjudication/{item}`.

use super::judge::help_dialog;
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{AuthError, Reviewer};
use axum::extract::State;
use maud::{Markup, html};
use plumbline_domain::{Item, ProjectRole};
use plumbline_quality::gold::GoldAccuracy;
use plumbline_store::{AdjudicationCase, JudgmentView, Store};
use serde_json::Value;

/// The shortcut list shown under `?`.
fn help() -> Markup {
    help_dialog(&[
        (
            html! { kbd { "1" } "–" kbd { "9" } },
            html! { "start the decision from that judgment" },
        ),
        (
            html! { kbd { "r" } },
            html! { "write the rationale (" kbd { "Esc" } " leaves the field)" },
        ),
        (
            html! { kbd { "g" } },
            html! { "promote the decision to gold (leads)" },
        ),
        (
            html! { kbd { "Ctrl" } "+" kbd { "Enter" } },
            html! { "decide the first open case" },
        ),
        (html! { kbd { "?" } }, html! { "this list" }),
    ])
}

/// Cases shown on one page.
pub const QUEUE_PAGE: u32 = 20;

/// `GET /projects/{project}/review`.
pub async fn review_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Reviewer, AuthError>,
) -> PageResult {
    let who = access(who)?;
    let queue = state
        .store
        .adjudication_queue(who.project.id, QUEUE_PAGE)
        .await?;
    let lead = who.role >= ProjectRole::Lead;
    let body = html! {
        h1 { "Adjudication · " (who.project.name) }
        p.muted { (queue.len()) " item(s) waiting (oldest first). Rows where judgments differ are highlighted." }
        @if queue.is_empty() {
            section.panel { p { "Nothing to adjudicate. Every item is in consensus or still open." } }
        }
        div id="cases" data-project=(who.project.name) {
            @for case in &queue { (render_case(case, who.project.settings.task, lead)) }
        }
        (help())
    };
    Ok(page(layout(
        &format!("Adjudicate · {}", who.project.name),
        Some(&who.actor.user),
        "review",
        body,
        &["review.js"],
    )))
}

/// A payload value as short text.
pub(super) fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(a)) if a.is_empty() => "—".into(),
        Some(Value::Array(a)) => a
            .iter()
            .map(|x| show(Some(x)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(Value::Object(o)) if o.is_empty() => "—".into(),
        Some(Value::Object(o)) => o
            .iter()
            .map(|(k, v)| format!("{k}: {}", show(Some(v))))
            .collect::<Vec<_>>()
            .join("; "),
        Some(other) => other.to_string(),
    }
}

/// A payload field as short text; a ranking's `order` shows its ties as ties
/// (`[["b"],["c","d"],["a"]]` reads "b, then c = d, then a").
pub(super) fn show_field(key: &str, v: Option<&Value>) -> String {
    match (key, v) {
        ("order", Some(Value::Array(groups)))
            if !groups.is_empty() && groups.iter().all(Value::is_array) =>
        {
            groups
                .iter()
                .map(|g| match g {
                    Value::Array(ids) if !ids.is_empty() => ids
                        .iter()
                        .map(|id| show(Some(id)))
                        .collect::<Vec<_>>()
                        .join(" = "),
                    other => show(Some(other)),
                })
                .collect::<Vec<_>>()
                .join(", then ")
        }
        _ => show(v),
    }
}

/// One comparison row: a label and a cell per judgment, highlighted when `compare`d
/// cells differ.
fn row(label: &str, cells: &[String], compare: bool) -> Markup {
    let differ = compare && cells.windows(2).any(|w| w[0] != w[1]);
    html! {
        tr class=[differ.then_some("disagree")] {
            th scope="row" { (label) }
            @for c in cells { td { (c) } }
        }
    }
}

fn gold_accuracy(j: &JudgmentView) -> String {
    let g = GoldAccuracy::new(j.gold_correct.max(0) as u64, j.gold_scored.max(0) as u64);
    match (g.accuracy.value(), g.lower, g.upper) {
        (Some(a), Some(l), Some(u)) => format!(
            "{:.0}% ({}/{}; 95% CI {:.0}–{:.0}%)",
            a * 100.0,
            g.correct,
            g.total,
            l * 100.0,
            u * 100.0
        ),
        _ => "no gold scored yet".into(),
    }
}

/// The judgments side by side: fixed facts first, then every payload field that any
/// judgment carries.
fn comparison(js: &[JudgmentView]) -> Markup {
    let mut keys: Vec<String> = Vec::new();
    let mut crit_keys: Vec<String> = Vec::new();
    for j in js {
        if let Value::Object(o) = &j.payload {
            for k in o.keys() {
                if k != "criteria" && !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        if let Some(Value::Object(c)) = j.payload.get("criteria") {
            for k in c.keys() {
                if !crit_keys.contains(k) {
                    crit_keys.push(k.clone());
                }
            }
        }
    }
    let expertise: Vec<String> = js
        .iter()
        .map(|j| {
            if j.expertise.is_empty() {
                "—".into()
            } else {
                j.expertise.join(", ")
            }
        })
        .collect();
    let gold: Vec<String> = js.iter().map(gold_accuracy).collect();
    let time: Vec<String> = js
        .iter()
        .map(|j| {
            j.time_ms
                .map_or("—".into(), |t| format!("{:.0} s", t as f64 / 1000.0))
        })
        .collect();
    html! {
        div.scroll { table.side {
            thead { tr {
                th scope="col" {}
                @for (i, j) in js.iter().enumerate() {
                    th scope="col" { "#" (i + 1) " " (j.annotator_name.as_deref().unwrap_or("external")) }
                }
            } }
            tbody {
                (row("expertise", &expertise, false))
                (row("gold accuracy", &gold, false))
                @for k in &keys {
                    (row(k, &js.iter().map(|j| show_field(k, j.payload.get(k))).collect::<Vec<_>>(), k != "rationale"))
                }
                @for k in &crit_keys {
                    (row(
                        &format!("criterion {k}"),
                        &js.iter().map(|j| show(j.payload.get("criteria").and_then(|c| c.get(k)))).collect::<Vec<_>>(),
                        true,
                    ))
                }
                (row("time on task", &time, false))
            }
        } }
    }
}

fn render_case(
    case: &AdjudicationCase,
    default_task: plumbline_domain::TaskKind,
    lead: bool,
) -> Markup {
    let item = Item::from_json(&case.body, default_task).ok();
    let js: &[JudgmentView] = &case.judgments;
    html! {
        section.case.panel data-item=(case.item) {
            h2 { "Item " code { (case.item) } " " span.muted { (case.task.as_str()) } }
            @if let Some(item) = &item {
                details {
                    summary { "Conversation and candidates" }
                    ol.convo.short {
                        @for t in &item.context {
                            li.turn {
                                div.meta { span.role { (format!("{:?}", t.role)) } " " (t.speaker.as_deref().unwrap_or("")) }
                                div.text { (t.content) }
                            }
                        }
                    }
                    div.cands {
                        @for c in &item.candidates {
                            article.cand {
                                header { code { (c.id) } " " span.muted { (c.content.chars().count()) " characters" } }
                                div.ctext { (c.content) }
                            }
                        }
                    }
                }
            }
            (comparison(js))
            form.decide.stack data-item=(case.item) {
                fieldset.overall {
                    legend { "Start from" }
                    @for (i, j) in js.iter().enumerate() {
                        label {
                            input type="radio" name="from" data-payload=(j.payload.to_string()) checked[i == 0];
                            " judgment #" (i + 1)
                        } " "
                    }
                }
                label {
                    "Decided payload (JSON, candidate ids)"
                    textarea name="payload" rows="5" class="mono" {
                        (js.first().map(|j| j.payload.to_string()).unwrap_or_default())
                    }
                }
                label { "Rationale (required)" textarea name="rationale" rows="2" required {} }
                @if lead {
                    label { input type="checkbox" name="gold"; " Promote the decision to gold" }
                }
                p.error role="alert" hidden {}
                p.actions { button type="submit" class="primary" { "Decide" } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rankings_show_their_ties() {
        let order = json!([["b"], ["c", "d"], ["a"]]);
        assert_eq!(show_field("order", Some(&order)), "b, then c = d, then a");
        // Other fields and other shapes read as before.
        assert_eq!(show_field("winner", Some(&json!("a"))), "a");
        assert_eq!(show_field("order", Some(&json!(["a", "b"]))), "a, b");
    }
}
