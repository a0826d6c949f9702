//! The reviewer's adjudication queue: every judgment of a disagreeing item side by
//! side, with each annotator's verified expertise and gold accuracy, rows that differ
//! highlighted (a ranking's ties shown as ties), and a decision form that the script
//! posts to `POST /api/v1/projects/{p}/adjudication/{item}`. The form is the task
//! kind's own judging form ([`judging_controls`], checked live by `judgment.js` against
//! the project's current rubric, which the decision is validated against), prefilled
//! from the judgment the reviewer starts from, with the rationale and, for leads,
//! promotion to gold. A case whose item has call audio shows its player
//! ([`media_player`]) above the conversation. Under each case, the item's comment thread.

use super::comments::{ThreadPlace, thread};
use super::judge::{
    Place, help_dialog, judging_controls, lettered, render_conversation, rule_and_override,
};
use super::player::{media_player, player_keys};
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{AuthError, Reviewer};
use axum::extract::State;
use maud::{Markup, html};
use plumbline_domain::{Item, ProjectRole, Rubric};
use plumbline_quality::gold::GoldAccuracy;
use plumbline_store::{AdjudicationCase, JudgmentView, Store};
use serde_json::Value;

/// The shortcut list shown under `?`.
fn help() -> Markup {
    let mut keys = vec![
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
            html! { "promote the decision to gold (leads) or propose it as gold (reviewers)" },
        ),
        (
            html! { kbd { "Ctrl" } "+" kbd { "Enter" } },
            html! { "decide the first open case" },
        ),
        (html! { kbd { "?" } }, html! { "this list" }),
    ];
    keys.extend(player_keys());
    help_dialog(&keys)
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
    let rubric = state.store.rubric(who.project.id, None).await?.rubric;
    let mut threads = Vec::with_capacity(queue.len());
    for case in &queue {
        threads.push(
            state
                .store
                .comments_of_item(who.project.id, &case.item)
                .await?,
        );
    }
    let body = html! {
        h1 { "Adjudication · " (who.project.name) }
        p.muted { (queue.len()) " item(s) waiting (oldest first). Rows where judgments differ are highlighted." }
        @if queue.is_empty() {
            section.panel { p { "Nothing to adjudicate. Every item is in consensus or still open." } }
        }
        div id="cases" data-project=(who.project.name) {
            @for (n, (case, comments)) in queue.iter().zip(&threads).enumerate() {
                (render_case(who.project.name.as_str(), case, n, &rubric, who.project.settings.task, lead, thread(
                    &who.project.name,
                    &case.item,
                    comments,
                    ThreadPlace { ids: &format!("case{n}-"), nested: true },
                )))
            }
        }
        (help())
    };
    Ok(page(layout(
        &format!("Adjudicate · {}", who.project.name),
        Some(&who.actor.user),
        "review",
        body,
        &["judgment.js", "player.js", "review.js", "comments.js"],
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
/// judgment carries, for `item`.
fn comparison(js: &[JudgmentView], item: &str) -> Markup {
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
        // The box scrolls sideways with many judgments: focusable, so a keyboard can too.
        div.scroll tabindex="0" role="region" aria-label={ "The judgments of item " (item) " side by side" } { table.side {
            thead { tr {
                th scope="col" { "Field" }
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

/// One case: the conversation, the judgments compared, and the decision form.
fn render_case(
    project: &str,
    case: &AdjudicationCase,
    n: usize,
    rubric: &Rubric,
    default_task: plumbline_domain::TaskKind,
    lead: bool,
    comments: Markup,
) -> Markup {
    let item = Item::from_json(&case.body, default_task).ok();
    let js: &[JudgmentView] = &case.judgments;
    let ids = format!("case{n}-");
    let place = Place {
        ids: &ids,
        tools: false,
    };
    html! {
        section.case.panel data-item=(case.item) {
            h2 { "Item " code { (case.item) } " " span.muted { (case.task.as_str()) } }
            @if let Some(item) = &item {
                (media_player(project, item, &place.id("convo")))
                details {
                    summary { "Conversation" }
                    (render_conversation(item, place))
                }
            }
            (comparison(js, &case.item))
            @match &item {
                Some(item) => {
                    @let order: Vec<String> = item.candidates.iter().map(|c| c.id.clone()).collect();
                    form.decide.stack data-item=(case.item) data-kind=(case.task.as_str()) novalidate {
                        fieldset.overall {
                            legend { "Start from" }
                            @for (i, j) in js.iter().enumerate() {
                                label {
                                    input type="radio" name="from" data-payload=(j.payload.to_string()) checked[i == 0];
                                    " judgment #" (i + 1)
                                } " "
                            }
                        }
                        (judging_controls(case.task, &lettered(item, &order), rubric, place))
                        (rule_and_override(place))
                        @if lead {
                            label { input type="checkbox" name="gold"; " Promote the decision to gold" }
                        } @else {
                            label { input type="checkbox" name="propose"; " Propose the decision as gold (a lead accepts or rejects it)" }
                        }
                        p.error role="alert" hidden {}
                        p.actions {
                            button type="submit" class="primary" { "Decide" } " "
                            span.muted { "The rationale is required." }
                        }
                    }
                }
                None => {
                    p.error { "This item's stored text cannot be read, so it cannot be decided here." }
                }
            }
            (comments)
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn case(item: &str, order: Value) -> AdjudicationCase {
        let body = json!({"id": item, "task": "ranking",
            "context": [{"role": "user", "content": "Which is best <b>here</b>?"}],
            "candidates": [{"id": "a", "content": "A"}, {"id": "b", "content": "B"},
                           {"id": "c", "content": "C <script>x</script>"}]});
        AdjudicationCase {
            item_id: plumbline_domain::ItemId(1),
            item: item.into(),
            task: plumbline_domain::TaskKind::Ranking,
            body: body.to_string(),
            judgments: vec![JudgmentView {
                id: plumbline_domain::JudgmentId(1),
                annotator: None,
                annotator_name: Some("ada".into()),
                expertise: Vec::new(),
                gold_correct: 0,
                gold_scored: 0,
                payload: json!({"order": order}),
                priority_inversion: false,
                rubric_version: plumbline_domain::RubricVersion(1),
                display_order: None,
                time_ms: None,
            }],
        }
    }

    #[test]
    fn each_case_is_the_kinds_own_form_with_ids_of_its_own() {
        let rubric =
            Rubric::from_toml(include_str!("../../../../examples/banking/rubric.toml")).unwrap();
        let tied = json!([["b"], ["a", "c"]]);
        let html = html! {
            @for (n, c) in [case("one", tied.clone()), case("two", tied)].iter().enumerate() {
                (render_case("banking", c, n, &rubric, plumbline_domain::TaskKind::Ranking, false, html! {}))
            }
        }
        .into_string();
        // The ranking control, once per case and candidate, and no JSON box.
        assert_eq!(html.matches("<select name=\"rank\"").count(), 6);
        assert!(!html.contains("name=\"payload\""));
        assert!(html.contains("b, then a = c"));
        assert!(!html.contains("<script>x"));
        // No id appears twice on the page.
        let ids: Vec<&str> = html
            .split(" id=\"")
            .skip(1)
            .map(|s| &s[..s.find('"').unwrap()])
            .collect();
        let unique: std::collections::HashSet<&&str> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");
        assert!(ids.contains(&"case1-rationale"));
    }

    #[test]
    fn leads_promote_and_reviewers_propose_gold() {
        let rubric =
            Rubric::from_toml(include_str!("../../../../examples/banking/rubric.toml")).unwrap();
        let c = case("one", json!([["a"], ["b"], ["c"]]));
        let kind = plumbline_domain::TaskKind::Ranking;
        let reviewer = render_case("banking", &c, 0, &rubric, kind, false, html! {}).into_string();
        assert!(reviewer.contains("name=\"propose\"") && !reviewer.contains("name=\"gold\""));
        let lead = render_case("banking", &c, 0, &rubric, kind, true, html! {}).into_string();
        assert!(lead.contains("name=\"gold\"") && !lead.contains("name=\"propose\""));
    }

    #[test]
    fn rankings_show_their_ties() {
        let order = json!([["b"], ["c", "d"], ["a"]]);
        assert_eq!(show_field("order", Some(&order)), "b, then c = d, then a");
        // Other fields and other shapes read as before.
        assert_eq!(show_field("winner", Some(&json!("a"))), "a");
        assert_eq!(show_field("order", Some(&json!(["a", "b"]))), "a, b");
    }
}
