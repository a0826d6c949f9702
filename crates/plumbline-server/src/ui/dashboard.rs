//! The lead's dashboard: progress, and quality at a glance in server-rendered SVG
//! (agreement by submission order with drift flags, gold accuracy per annotator with
//! Wilson intervals, position and length bias per annotator against 50%, priority
//! inversions, error-taxonomy bars) and a sortable annotator table; the audit log for
//! admins. Statistics come from `plumbline-quality`.

use super::html::{attr, esc};
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{Actor, AuthError, Lead};
use axum::extract::{Query, State};
use plumbline_domain::{Item, Payload, Rubric, UserId};
use plumbline_quality::Estimate;
use plumbline_quality::agreement::{Metric, krippendorff_alpha};
use plumbline_quality::bias::{BiasConfig, PairwiseJudgment, Side, Winner, bias};
use plumbline_quality::drift::{DriftConfig, drift_by_window};
use plumbline_quality::gold::GoldAccuracy;
use plumbline_quality::{Judgment, LabelSet};
use plumbline_store::{Store, StoredJudgment};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Items read for the dashboard (it reads every judgment of each).
pub const ITEM_CAP: u32 = 5_000;

/// Items per point of the agreement-over-time chart.
const WINDOW: usize = 2;

/// Everything the dashboard draws.
#[derive(Default)]
pub struct Quality {
    /// Annotator names by index.
    pub names: Vec<String>,
    /// User ids by index.
    pub users: Vec<UserId>,
    /// Pairwise preference judgments (bias input).
    pub pairwise: Vec<PairwiseJudgment>,
    /// Per preference item with two or more judgments, in submission order: all agree?
    pub agreement: Vec<bool>,
    /// (item index, annotator index, winner category) for alpha.
    pub labels: Vec<Judgment>,
    /// Error tag counts.
    pub errors: BTreeMap<String, u64>,
}

fn annotator_index(q: &mut Quality, user: UserId, name: &str) -> u32 {
    if let Some(i) = q.users.iter().position(|u| *u == user) {
        return i as u32;
    }
    q.users.push(user);
    q.names.push(name.to_owned());
    (q.users.len() - 1) as u32
}

/// Collects the dashboard's inputs from the store.
async fn collect<S: Store>(
    store: &S,
    project: &plumbline_store::Project,
    rubric: &Rubric,
) -> Result<Quality, plumbline_store::StoreError> {
    let mut q = Quality::default();
    let progress = store.progress(project.id).await?;
    for a in &progress.annotators {
        annotator_index(&mut q, a.user, &a.name);
    }
    let mut after = None;
    let mut seen = 0u32;
    let mut per_item: Vec<(i64, bool)> = Vec::new();
    let mut item_index = 0u32;
    while seen < ITEM_CAP {
        let page = store.list_items(project.id, after, 500).await?;
        let Some(last) = page.last() else { break };
        after = Some(last.id);
        seen += page.len() as u32;
        for stored in &page {
            let judgments: Vec<StoredJudgment> =
                store.judgments_of(project.id, &stored.ext_id).await?;
            if judgments.is_empty() {
                continue;
            }
            let Ok(item) = Item::from_json(&stored.body, project.settings.task) else {
                continue;
            };
            let kind = item.task_or(project.settings.task);
            let mut winners = Vec::new();
            for j in &judgments {
                let Some(user) = j.user else { continue };
                let Ok(payload) = Payload::from_json(kind, &j.payload) else {
                    continue;
                };
                let ann = annotator_index(&mut q, user, &format!("user {}", user.0));
                let violations = match &payload {
                    Payload::Preference(p) => &p.violations,
                    Payload::Ranking(p) => &p.violations,
                    Payload::Rating(p) => &p.violations,
                    Payload::Demonstration(p) => &p.violations,
                    Payload::RedTeam(p) => &p.violations,
                };
                for tags in violations.values() {
                    for t in tags {
                        *q.errors.entry(t.clone()).or_default() += 1;
                    }
                }
                let Payload::Preference(p) = &payload else {
                    continue;
                };
                let order = j
                    .display_order
                    .clone()
                    .unwrap_or_else(|| item.candidates.iter().map(|c| c.id.clone()).collect());
                if order.len() != 2 {
                    continue;
                }
                let len = |id: &str| item.candidate(id).map(|c| c.content.chars().count() as u32);
                let hard = |id: &str| {
                    p.violations
                        .get(id)
                        .is_some_and(|tags| tags.iter().any(|t| rubric.is_hard_error(t)))
                };
                let winner = match p.winner.candidate() {
                    None => Winner::Tie,
                    Some(w) if w == order[0] => Winner::Left,
                    Some(_) => Winner::Right,
                };
                winners.push((ann, p.winner.to_string(), j.id.0));
                q.pairwise.push(PairwiseJudgment {
                    item: item_index,
                    annotator: ann,
                    left: 0,
                    right: 1,
                    winner,
                    left_len: len(&order[0]),
                    right_len: len(&order[1]),
                    first_shown: Some(Side::Left),
                    left_hard_violation: Some(hard(&order[0])),
                    right_hard_violation: Some(hard(&order[1])),
                    priority_inversion: Some(j.priority_inversion),
                    time: None,
                    rubric_version: None,
                });
            }
            if winners.len() >= 2 {
                let last = winners.iter().map(|w| w.2).max().unwrap_or(0);
                per_item.push((last, winners.iter().all(|w| w.1 == winners[0].1)));
            }
            for (ann, w, _) in &winners {
                let cat = if w == "tie" {
                    2
                } else if item.candidates.first().is_some_and(|c| &c.id == w) {
                    0
                } else {
                    1
                };
                q.labels.push(Judgment {
                    item: item_index,
                    annotator: *ann,
                    label: cat,
                });
            }
            item_index += 1;
        }
        if page.len() < 500 {
            break;
        }
    }
    per_item.sort_by_key(|p| p.0);
    q.agreement = per_item.into_iter().map(|p| p.1).collect();
    Ok(q)
}

fn pct(e: &Estimate) -> Option<f64> {
    e.value().map(|v| v * 100.0)
}

fn fmt_pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.0}%"))
}

/// `GET /projects/{project}/dashboard`.
pub async fn dashboard_page<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Lead, AuthError>,
) -> PageResult {
    let who = access(who)?;
    let store = &state.store;
    let project = &who.project;
    let rubric = store.rubric(project.id, None).await?;
    let progress = store.progress(project.id).await?;
    let q = collect(store, project, &rubric.rubric).await?;
    let report = bias(&q.pairwise, q.names.len(), BiasConfig::default());
    let mut body = String::new();
    push!(&mut body, "<h1>Dashboard · {}</h1>", esc(&project.name));

    // Progress tiles.
    let get = |k: &str| progress.items.get(k).copied().unwrap_or(0);
    let alpha = LabelSet::new(
        q.labels
            .iter()
            .map(|l| l.item as usize + 1)
            .max()
            .unwrap_or(0),
        q.names.len(),
        3,
        &q.labels,
    )
    .ok()
    .and_then(|ls| krippendorff_alpha(&ls, Metric::Nominal).ok())
    .and_then(|r| r.alpha.value());
    push!(
        &mut body,
        "<div class=\"tiles\"><div><b>{}</b> open</div><div><b>{}</b> awaiting adjudication</div><div><b>{}</b> resolved</div>\
         <div><b>{}</b> gold items</div><div><b>{}</b> judgments</div><div><b>{}</b> live leases</div>\
         <div><b>{}</b> priority inversions</div><div><b>{}</b> α on winner</div></div>",
        get("open"),
        get("adjudication"),
        get("resolved"),
        progress.gold_items,
        progress.judgments,
        progress.leases,
        progress.priority_inversions,
        alpha.map_or("—".into(), |a| format!("{a:.2}"))
    );

    body.push_str("<div class=\"charts\">");
    // Agreement over submission order, with drift flags.
    let records: Vec<(i64, bool)> = q
        .agreement
        .iter()
        .enumerate()
        .map(|(i, a)| (i as i64, *a))
        .collect();
    let share = |g: &[&(i64, bool)]| {
        if g.is_empty() {
            Estimate::Undefined(plumbline_quality::Undefined::NoData)
        } else {
            Estimate::Value(g.iter().filter(|r| r.1).count() as f64 / g.len() as f64)
        }
    };
    let drift = drift_by_window(
        &records,
        |r| Some(r.0),
        &share,
        &DriftConfig {
            window_seconds: WINDOW as i64,
            origin: 0,
            threshold: 0.2,
            ..DriftConfig::default()
        },
    )
    .ok();
    let points: Vec<(f64, bool)> = drift
        .as_ref()
        .map(|d| {
            d.points
                .iter()
                .filter_map(|p| Some((p.value.value()?, p.flagged)))
                .collect()
        })
        .unwrap_or_default();
    chart_panel(
        &mut body,
        "Agreement over time",
        &format!(
            "Share of items whose judgments agree on the winner, {WINDOW} items a point, in order of their last judgment. Red points depart from the running baseline by more than 20 points (drift)."
        ),
        &line_chart(&points),
    );

    // Gold accuracy per annotator.
    let gold: Vec<(String, GoldAccuracy)> = q
        .users
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let a = progress.annotators.iter().find(|a| a.user == *u);
            (
                q.names[i].clone(),
                GoldAccuracy::new(
                    a.map_or(0, |a| a.gold_correct.max(0) as u64),
                    a.map_or(0, |a| a.gold_scored.max(0) as u64),
                ),
            )
        })
        .collect();
    chart_panel(
        &mut body,
        "Gold accuracy per annotator",
        "Share of hidden gold judged correctly, with the Wilson 95% interval.",
        &interval_chart(&gold),
    );

    let per = &report.per_annotator;
    let pos: Vec<(String, Option<f64>, u64)> = q
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                n.clone(),
                per.get(i).and_then(|s| pct(&s.position.share)),
                per.get(i).map_or(0, |s| s.position.n),
            )
        })
        .collect();
    let len: Vec<(String, Option<f64>, u64)> = q
        .names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            (
                n.clone(),
                per.get(i).and_then(|s| pct(&s.length.share)),
                per.get(i).map_or(0, |s| s.length.n),
            )
        })
        .collect();
    chart_panel(
        &mut body,
        "Position bias",
        "Share of non-tie picks of the left (first-shown) candidate; 50% is unbiased.",
        &bias_chart(&pos),
    );
    chart_panel(
        &mut body,
        "Length bias",
        "Share of non-tie picks of the longer candidate when lengths differ by more than 30 characters; 50% is length-blind.",
        &bias_chart(&len),
    );
    let inv: Vec<(String, f64)> = progress
        .annotators
        .iter()
        .map(|a| (a.name.clone(), a.priority_inversions as f64))
        .collect();
    chart_panel(
        &mut body,
        "Priority inversions",
        "Judgments kept against the priority rule by an override, per annotator.",
        &bar_chart(&inv),
    );
    let errs: Vec<(String, f64)> = q
        .errors
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();
    chart_panel(
        &mut body,
        "Error taxonomy",
        "Error tags marked on candidates, all judgments.",
        &bar_chart(&errs),
    );
    body.push_str("</div>");

    // Drift flags in words.
    if let Some(d) = &drift {
        let flagged: Vec<String> = d
            .points
            .iter()
            .filter(|p| p.flagged)
            .map(|p| {
                format!(
                    "items {}–{}: {} against {}",
                    p.key + 1,
                    p.key + WINDOW as i64,
                    fmt_pct(pct(&p.value)),
                    fmt_pct(pct(&p.baseline))
                )
            })
            .collect();
        push!(
            &mut body,
            "<section class=\"panel\"><h2>Drift flags</h2><p>{}</p></section>",
            if flagged.is_empty() {
                "None: agreement stays within 20 points of its running baseline.".to_owned()
            } else {
                esc(&flagged.join("; ")).to_string()
            }
        );
    }

    // The annotator table.
    body.push_str("<section class=\"panel\"><h2>Annotators</h2><div class=\"scroll\"><table class=\"sortable\" id=\"annotators\"><thead><tr>\
        <th scope=\"col\" data-sort=\"text\"><button type=\"button\">Annotator</button></th><th scope=\"col\"><button type=\"button\">Judgments</button></th>\
        <th scope=\"col\"><button type=\"button\">Gold accuracy</button></th><th scope=\"col\"><button type=\"button\">Position (left %)</button></th>\
        <th scope=\"col\"><button type=\"button\">Length (longer %)</button></th><th scope=\"col\"><button type=\"button\">Inversions</button></th>\
        <th scope=\"col\"><button type=\"button\">Skipped</button></th><th scope=\"col\"><button type=\"button\">Expired</button></th></tr></thead><tbody>");
    for a in &progress.annotators {
        let i = q.users.iter().position(|u| *u == a.user);
        let g = GoldAccuracy::new(a.gold_correct.max(0) as u64, a.gold_scored.max(0) as u64);
        let p = i
            .and_then(|i| per.get(i))
            .and_then(|s| pct(&s.position.share));
        let l = i
            .and_then(|i| per.get(i))
            .and_then(|s| pct(&s.length.share));
        push!(
            &mut body,
            "<tr><td>{}</td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{} <small class=\"muted\">{}/{}</small></td><td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            esc(&a.name),
            a.judgments,
            a.judgments,
            g.accuracy.value().unwrap_or(-1.0),
            fmt_pct(pct(&g.accuracy)),
            g.correct,
            g.total,
            p.unwrap_or(-1.0),
            fmt_pct(p),
            l.unwrap_or(-1.0),
            fmt_pct(l),
            a.priority_inversions,
            a.skipped,
            a.expired
        );
    }
    body.push_str("</tbody></table></div></section>");
    Ok(page(layout(
        &format!("Dashboard · {}", project.name),
        Some(&who.actor.user),
        "dashboard",
        &body,
        &[],
    )))
}

fn chart_panel(out: &mut String, title: &str, note: &str, svg: &str) {
    push!(
        out,
        "<section class=\"panel chart\"><h2>{}</h2><p class=\"muted\">{}</p>{svg}</section>",
        esc(title),
        esc(note)
    );
}

const W: f64 = 420.0;

fn empty_chart() -> String {
    "<p class=\"muted\">Not enough judgments yet.</p>".into()
}

/// Points in 0..1 as a line, with a 50% guide; flagged points in red.
fn line_chart(points: &[(f64, bool)]) -> String {
    if points.is_empty() {
        return empty_chart();
    }
    let h = 160.0;
    let (l, r, t, b) = (36.0, 10.0, 10.0, 20.0);
    let x = |i: usize| {
        l + (W - l - r)
            * if points.len() == 1 {
                0.5
            } else {
                i as f64 / (points.len() - 1) as f64
            }
    };
    let y = |v: f64| t + (h - t - b) * (1.0 - v);
    let mut s = format!(
        "<svg viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"Agreement by window\" class=\"svg\">"
    );
    for v in [0.0, 0.5, 1.0] {
        push!(
            &mut s,
            "<line x1=\"{l}\" x2=\"{}\" y1=\"{:.1}\" y2=\"{:.1}\" class=\"grid\"/><text x=\"{}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">{:.0}%</text>",
            W - r,
            y(v),
            y(v),
            l - 4.0,
            y(v) + 4.0,
            v * 100.0
        );
    }
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{:.1},{:.1}", x(i), y(p.0)))
        .collect();
    push!(
        &mut s,
        "<polyline points=\"{}\" class=\"line\"/>",
        path.join(" ")
    );
    for (i, p) in points.iter().enumerate() {
        push!(
            &mut s,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"4\" class=\"{}\"><title>{:.0}%{}</title></circle>",
            x(i),
            y(p.0),
            if p.1 { "flag" } else { "dot" },
            p.0 * 100.0,
            if p.1 { " (drift)" } else { "" }
        );
    }
    s.push_str("</svg>");
    s
}

fn label_width(names: &[&str]) -> f64 {
    (names
        .iter()
        .map(|n| n.chars().count())
        .max()
        .unwrap_or(4)
        .min(22) as f64
        * 7.0
        + 10.0)
        .max(60.0)
}

/// Horizontal bars of accuracy with interval whiskers.
fn interval_chart(rows: &[(String, GoldAccuracy)]) -> String {
    if rows.is_empty() {
        return empty_chart();
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let lw = label_width(&names);
    let h = 24.0 * rows.len() as f64 + 24.0;
    let span = W - lw - 90.0;
    let mut s = format!(
        "<svg viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"Gold accuracy per annotator\" class=\"svg\">"
    );
    for (i, (name, g)) in rows.iter().enumerate() {
        let yy = 8.0 + 24.0 * i as f64;
        push!(
            &mut s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">{}</text>",
            lw - 6.0,
            yy + 12.0,
            esc(name)
        );
        match (g.accuracy.value(), g.lower, g.upper) {
            (Some(a), Some(lo), Some(hi)) => {
                push!(
                    &mut s,
                    "<rect x=\"{lw}\" y=\"{yy:.1}\" width=\"{:.1}\" height=\"16\" class=\"bar\"/>",
                    span * a
                );
                push!(
                    &mut s,
                    "<line x1=\"{:.1}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" class=\"whisker\"/>",
                    lw + span * lo,
                    lw + span * hi,
                    yy + 8.0,
                    yy + 8.0
                );
                push!(
                    &mut s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\">{:.0}% ({}/{})</text>",
                    lw + span + 4.0,
                    yy + 12.0,
                    a * 100.0,
                    g.correct,
                    g.total
                );
            }
            _ => push!(
                &mut s,
                "<text x=\"{lw}\" y=\"{:.1}\" class=\"ax muted\">no gold scored</text>",
                yy + 12.0
            ),
        }
    }
    push!(
        &mut s,
        "<line x1=\"{lw}\" x2=\"{lw}\" y1=\"4\" y2=\"{:.1}\" class=\"grid\"/></svg>",
        h - 16.0
    );
    s
}

/// Dots per annotator on a 0–100% axis with the 50% line.
fn bias_chart(rows: &[(String, Option<f64>, u64)]) -> String {
    if rows.is_empty() {
        return empty_chart();
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let lw = label_width(&names);
    let h = 24.0 * rows.len() as f64 + 28.0;
    let span = W - lw - 90.0;
    let mut s = format!(
        "<svg viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"Bias per annotator against 50%\" class=\"svg\">"
    );
    let mid = lw + span * 0.5;
    push!(
        &mut s,
        "<line x1=\"{mid:.1}\" x2=\"{mid:.1}\" y1=\"2\" y2=\"{:.1}\" class=\"half\"/><text x=\"{mid:.1}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"middle\">50%</text>",
        h - 16.0,
        h - 4.0
    );
    push!(
        &mut s,
        "<text x=\"{lw}\" y=\"{:.1}\" class=\"ax\">0%</text><text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">100%</text>",
        h - 4.0,
        lw + span,
        h - 4.0
    );
    for (i, (name, v, n)) in rows.iter().enumerate() {
        let yy = 8.0 + 24.0 * i as f64;
        push!(
            &mut s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">{}</text><line x1=\"{lw}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" class=\"grid\"/>",
            lw - 6.0,
            yy + 12.0,
            esc(name),
            lw + span,
            yy + 8.0,
            yy + 8.0
        );
        match v {
            Some(v) => {
                let far = (v - 50.0).abs() > 15.0;
                push!(
                    &mut s,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" class=\"{}\"><title>{v:.0}% of {n}</title></circle><text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\">{v:.0}% (n={n})</text>",
                    lw + span * v / 100.0,
                    yy + 8.0,
                    if far { "flag" } else { "dot" },
                    lw + span + 4.0,
                    yy + 12.0
                );
            }
            None => push!(
                &mut s,
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\">n=0</text>",
                lw + span + 4.0,
                yy + 12.0
            ),
        }
    }
    s.push_str("</svg>");
    s
}

/// Horizontal count bars.
fn bar_chart(rows: &[(String, f64)]) -> String {
    if rows.is_empty() {
        return empty_chart();
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let lw = label_width(&names);
    let h = 22.0 * rows.len() as f64 + 8.0;
    let max = rows.iter().map(|r| r.1).fold(1.0, f64::max);
    let span = W - lw - 40.0;
    let mut s =
        format!("<svg viewBox=\"0 0 {W} {h}\" role=\"img\" aria-label=\"Counts\" class=\"svg\">");
    for (i, (name, v)) in rows.iter().enumerate() {
        let yy = 4.0 + 22.0 * i as f64;
        push!(
            &mut s,
            "<text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\" text-anchor=\"end\">{}</text><rect x=\"{lw}\" y=\"{yy:.1}\" width=\"{:.1}\" height=\"15\" class=\"bar\"/><text x=\"{:.1}\" y=\"{:.1}\" class=\"ax\">{v}</text>",
            lw - 6.0,
            yy + 12.0,
            esc(name),
            span * v / max,
            lw + span * v / max + 4.0,
            yy + 12.0
        );
    }
    s.push_str("</svg>");
    s
}

/// Paging of the audit log.
#[derive(Debug, Deserialize)]
pub struct AuditQuery {
    /// Show events after this sequence number.
    #[serde(default)]
    pub after: i64,
}

/// `GET /admin/audit`: the audit chain, 200 events a page (admins only).
pub async fn audit<S: Store>(
    State(state): State<AppState<S>>,
    actor: Result<Actor, AuthError>,
    Query(q): Query<AuditQuery>,
) -> PageResult {
    let actor = access(actor)?;
    access(actor.require_admin())?;
    let events = state.store.audit_events(q.after, 200).await?;
    let mut body = String::from(
        "<h1>Audit log</h1><p class=\"muted\">Append-only and hash-chained; ids and digests, never content. <code>plumbline audit verify</code> checks the chain.</p><div class=\"scroll\"><table class=\"audit\"><thead><tr><th scope=\"col\">#</th><th scope=\"col\">When (UTC ms)</th><th scope=\"col\">Actor</th><th scope=\"col\">Action</th><th scope=\"col\">Object</th><th scope=\"col\">Project</th><th scope=\"col\">Hash</th></tr></thead><tbody>",
    );
    for e in &events {
        push!(
            &mut body,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{} {}</td><td>{}</td><td><code>{}</code></td></tr>",
            e.seq,
            e.at,
            e.actor.map_or("—".into(), |a| a.to_string()),
            esc(&e.action),
            esc(&e.object_type),
            esc(e.object_id.as_deref().unwrap_or("")),
            e.project_id.map_or("—".into(), |p| p.to_string()),
            esc(e.hash.get(..12).unwrap_or(&e.hash))
        );
    }
    body.push_str("</tbody></table></div>");
    if let Some(last) = events.last()
        && events.len() == 200
    {
        push!(
            &mut body,
            "<p><a href=\"/admin/audit?after={}\">Older events →</a></p>",
            last.seq
        );
    }
    let _ = attr;
    Ok(page(layout(
        "Audit log",
        Some(&actor.user),
        "audit",
        &body,
        &[],
    )))
}
