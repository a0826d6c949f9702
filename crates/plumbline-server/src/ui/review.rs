//! The reviewer's adjudication queue: every judgment of a disagreeing item side by
//! side, with each annotator's verified expertise and gold accuracy, rows that differ
//! highlighted, and a decision form (payload prefilled from a judgment, rationale,
//! promote to gold for leads) that the script posts to
//! `POST /api/v1/projects/{p}/adjudication/{item}`.

use super::html::{attr, esc};
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{AuthError, Reviewer};
use axum::extract::State;
use plumbline_domain::{Item, ProjectRole};
use plumbline_quality::gold::GoldAccuracy;
use plumbline_store::{AdjudicationCase, JudgmentView, Store};
use serde_json::Value;

/// The shortcut list shown under `?`.
const HELP: &str = "<dialog id=\"help\" aria-labelledby=\"help-title\"><h2 id=\"help-title\">Keyboard shortcuts</h2><table class=\"keys\">\
    <tr><td><kbd>1</kbd>–<kbd>9</kbd></td><td>start the decision from that judgment</td></tr>\
    <tr><td><kbd>r</kbd></td><td>write the rationale (<kbd>Esc</kbd> leaves the field)</td></tr>\
    <tr><td><kbd>g</kbd></td><td>promote the decision to gold (leads)</td></tr>\
    <tr><td><kbd>Ctrl</kbd>+<kbd>Enter</kbd></td><td>decide the first open case</td></tr>\
    <tr><td><kbd>?</kbd></td><td>this list</td></tr></table>\
    <p class=\"actions\"><button type=\"button\" id=\"help-close\">Close</button></p></dialog>";

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
    let mut body = String::new();
    push!(
        &mut body,
        "<h1>Adjudication · {}</h1><p class=\"muted\">{} item(s) waiting (oldest first). Rows where judgments differ are highlighted.</p>",
        esc(&who.project.name),
        queue.len()
    );
    if queue.is_empty() {
        body.push_str("<section class=\"panel\"><p>Nothing to adjudicate. Every item is in consensus or still open.</p></section>");
    }
    body.push_str(&format!(
        "<div id=\"cases\" data-project=\"{}\">",
        attr(&who.project.name)
    ));
    for case in &queue {
        render_case(
            &mut body,
            case,
            who.project.settings.task,
            who.role >= ProjectRole::Lead,
        );
    }
    body.push_str("</div>");
    body.push_str(HELP);
    Ok(page(layout(
        &format!("Adjudicate · {}", who.project.name),
        Some(&who.actor.user),
        "review",
        &body,
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

fn render_case(
    out: &mut String,
    case: &AdjudicationCase,
    default_task: plumbline_domain::TaskKind,
    lead: bool,
) {
    let item = Item::from_json(&case.body, default_task).ok();
    push!(
        out,
        "<section class=\"case panel\" data-item=\"{}\"><h2>Item <code>{}</code> <span class=\"muted\">{}</span></h2>",
        attr(&case.item),
        esc(&case.item),
        case.task.as_str()
    );
    if let Some(item) = &item {
        out.push_str(
            "<details><summary>Conversation and candidates</summary><ol class=\"convo short\">",
        );
        for t in &item.context {
            push!(
                out,
                "<li class=\"turn\"><div class=\"meta\"><span class=\"role\">{:?}</span> {}</div><div class=\"text\">{}</div></li>",
                t.role,
                esc(t.speaker.as_deref().unwrap_or("")),
                esc(&t.content)
            );
        }
        out.push_str("</ol><div class=\"cands\">");
        for c in &item.candidates {
            push!(
                out,
                "<article class=\"cand\"><header><code>{}</code> <span class=\"muted\">{} characters</span></header><div class=\"ctext\">{}</div></article>",
                esc(&c.id),
                c.content.chars().count(),
                esc(&c.content)
            );
        }
        out.push_str("</div></details>");
    }
    // Rows: fixed facts first, then every payload field that any judgment carries.
    let js: &[JudgmentView] = &case.judgments;
    out.push_str("<div class=\"scroll\"><table class=\"side\"><thead><tr><th scope=\"col\"></th>");
    for (i, j) in js.iter().enumerate() {
        push!(
            out,
            "<th scope=\"col\">#{} {}</th>",
            i + 1,
            esc(j.annotator_name.as_deref().unwrap_or("external"))
        );
    }
    out.push_str("</tr></thead><tbody>");
    let row = |out: &mut String, label: &str, cells: Vec<String>, compare: bool| {
        let differ = compare && cells.windows(2).any(|w| w[0] != w[1]);
        push!(
            out,
            "<tr{}><th scope=\"row\">{}</th>",
            if differ { " class=\"disagree\"" } else { "" },
            esc(label)
        );
        for c in &cells {
            push!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>");
    };
    row(
        out,
        "expertise",
        js.iter()
            .map(|j| {
                if j.expertise.is_empty() {
                    "—".into()
                } else {
                    j.expertise.join(", ")
                }
            })
            .collect(),
        false,
    );
    row(
        out,
        "gold accuracy",
        js.iter()
            .map(|j| {
                let g =
                    GoldAccuracy::new(j.gold_correct.max(0) as u64, j.gold_scored.max(0) as u64);
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
            })
            .collect(),
        false,
    );
    let mut keys: Vec<String> = Vec::new();
    for j in js {
        if let Value::Object(o) = &j.payload {
            for k in o.keys() {
                if k != "criteria" && !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    let mut crit_keys: Vec<String> = Vec::new();
    for j in js {
        if let Some(Value::Object(c)) = j.payload.get("criteria") {
            for k in c.keys() {
                if !crit_keys.contains(k) {
                    crit_keys.push(k.clone());
                }
            }
        }
    }
    for k in &keys {
        let compare = k != "rationale";
        row(
            out,
            k,
            js.iter().map(|j| show(j.payload.get(k))).collect(),
            compare,
        );
    }
    for k in &crit_keys {
        row(
            out,
            &format!("criterion {k}"),
            js.iter()
                .map(|j| show(j.payload.get("criteria").and_then(|c| c.get(k))))
                .collect(),
            true,
        );
    }
    row(
        out,
        "time on task",
        js.iter()
            .map(|j| {
                j.time_ms
                    .map_or("—".into(), |t| format!("{:.0} s", t as f64 / 1000.0))
            })
            .collect(),
        false,
    );
    out.push_str("</tbody></table></div>");
    // The decision form.
    push!(
        out,
        "<form class=\"decide stack\" data-item=\"{}\"><fieldset class=\"overall\"><legend>Start from</legend>",
        attr(&case.item)
    );
    for (i, j) in js.iter().enumerate() {
        push!(
            out,
            "<label><input type=\"radio\" name=\"from\" data-payload=\"{}\"{}> judgment #{}</label> ",
            attr(&j.payload.to_string()),
            if i == 0 { " checked" } else { "" },
            i + 1
        );
    }
    push!(
        out,
        "</fieldset><label>Decided payload (JSON, candidate ids)<textarea name=\"payload\" rows=\"5\" class=\"mono\">{}</textarea></label>\
         <label>Rationale (required)<textarea name=\"rationale\" rows=\"2\" required></textarea></label>",
        esc(&js
            .first()
            .map(|j| j.payload.to_string())
            .unwrap_or_default())
    );
    if lead {
        out.push_str(
            "<label><input type=\"checkbox\" name=\"gold\"> Promote the decision to gold</label>",
        );
    }
    out.push_str("<p class=\"error\" role=\"alert\" hidden></p><p class=\"actions\"><button type=\"submit\" class=\"primary\">Decide</button></p></form></section>");
}
