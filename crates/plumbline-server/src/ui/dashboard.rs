//! The lead's dashboard: progress, and quality at a glance in server-rendered SVG
//! (agreement and gold accuracy per ISO week by submission time, with drift flags; gold
//! accuracy per annotator with Wilson intervals; position and length bias per annotator
//! against 50% and against gold, flagged by exact binomial tests; priority inversions;
//! error-taxonomy bars) and the sortable annotator table of
//! `plumbline_formats::quality` (reliability, probation with a Reinstate button); the
//! audit log for admins. Statistics come from `plumbline-quality`.

use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{Actor, AuthError, Lead};
use axum::extract::{Query, State};
use maud::{Markup, html};
use plumbline_domain::{Item, Payload, Rubric, UserId};
use plumbline_formats::eval::{Board, EvalError, LabelOptions, Leaderboard, leaderboard};
use plumbline_formats::quality::{AnnotatorQuality, annotator_quality};
use plumbline_quality::Estimate;
use plumbline_quality::agreement::{Metric, krippendorff_alpha};
use plumbline_quality::bias::{
    BiasConfig, DEFAULT_LENGTH_THRESHOLD, PairwiseJudgment, Share, Side, Winner, bias,
};
use plumbline_quality::drift::{DriftConfig, DriftReport, drift_by_window};
use plumbline_quality::gold::GoldAccuracy;
use plumbline_quality::{Judgment, LabelSet};
use plumbline_store::{Store, StoredJudgment};
use serde::Deserialize;
use std::collections::BTreeMap;

/// Items read for the dashboard (it reads every judgment of each).
pub const ITEM_CAP: u32 = 5_000;

/// One annotator's bias against gold: name, (their share, gold's share on the same
/// pairs) in percent when defined, the pairs it rests on, and whether the exact test on
/// the pairs where they and gold differ flags it.
type GoldBiasRow = (String, Option<(f64, f64)>, u64, bool);

/// One annotator's bias against 50%: name, share in percent when defined, the picks it
/// rests on, and the binomial test's flag.
type BiasRow = (String, Option<f64>, u64, bool);

/// A week's departure from the running baseline that raises a drift flag.
const DRIFT_THRESHOLD: f64 = 0.2;

/// Weeks with fewer records are drawn but never flagged (one item is not a trend).
const DRIFT_MIN_RECORDS: usize = 3;

/// Everything the dashboard draws.
#[derive(Default)]
pub struct Quality {
    /// Annotator names by index.
    pub names: Vec<String>,
    /// User ids by index.
    pub users: Vec<UserId>,
    /// Per preference item with two or more judgments: (its last submission, Unix
    /// seconds; do all agree on the winner?).
    pub agreement: Vec<(i64, bool)>,
    /// Per scored gold judgment: (submitted, Unix seconds; correct?).
    pub gold_scores: Vec<(i64, bool)>,
    /// Annotators' non-tie judgments of gold items whose gold has a winner…
    pub on_gold: Vec<PairwiseJudgment>,
    /// …and the same pairs, shown the same way, with the gold answer as the pick: bias
    /// of `on_gold` minus bias of this is the bias against gold.
    pub gold_reference: Vec<PairwiseJudgment>,
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
    // The winner of each item's active gold, by item id (preference gold only).
    let gold_winner: std::collections::HashMap<String, String> = store
        .gold(project.id, None)
        .await?
        .into_iter()
        .filter(|g| g.active)
        .filter_map(|g| Some((g.item, g.payload.get("winner")?.as_str()?.to_owned())))
        .collect();
    let mut after = None;
    let mut seen = 0u32;
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
            let mut last_submit = 0i64;
            for j in &judgments {
                let Some(user) = j.user else { continue };
                if let Some(correct) = j.gold_correct {
                    q.gold_scores.push((j.submitted_at / 1000, correct));
                }
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
                winners.push((ann, p.winner.to_string()));
                last_submit = last_submit.max(j.submitted_at);
                let judged = PairwiseJudgment {
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
                    time: Some(j.submitted_at / 1000),
                    rubric_version: None,
                };
                // Against gold: only pairs where both the annotator and the gold pick a
                // side, so both shares rest on exactly the same pairs.
                let gold_side = match gold_winner.get(&stored.ext_id).map(String::as_str) {
                    Some(w) if w == order[0] => Some(Winner::Left),
                    Some(w) if w == order[1] => Some(Winner::Right),
                    _ => None,
                };
                if let Some(gold_side) = gold_side
                    && winner != Winner::Tie
                {
                    q.gold_reference.push(PairwiseJudgment {
                        winner: gold_side,
                        ..judged.clone()
                    });
                    q.on_gold.push(judged);
                }
            }
            if winners.len() >= 2 {
                q.agreement.push((
                    last_submit / 1000,
                    winners.iter().all(|w| w.1 == winners[0].1),
                ));
            }
            for (ann, w) in &winners {
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
    Ok(q)
}

fn pct(e: &Estimate) -> Option<f64> {
    e.value().map(|v| v * 100.0)
}

fn fmt_pct(v: Option<f64>) -> String {
    v.map_or("—".into(), |v| format!("{v:.0}%"))
}

/// The mark of a flagged figure in the annotator table.
fn flagged(on: bool) -> Markup {
    html! { @if on { " " span.flag { "flagged" } } }
}

/// A bias share with its test: percent, p, and the flag.
fn bias_cell(s: &Share) -> Markup {
    html! {
        @match (pct(&s.share), s.p_value) {
            (Some(v), Some(p)) => {
                (format!("{v:.0}%")) " " small.muted { "n=" (s.n) " · p=" (fmt_p(p)) } (flagged(s.flagged))
            }
            _ => { "—" }
        }
    }
}

/// A p-value in two significant digits, small ones in scientific notation.
fn fmt_p(p: f64) -> String {
    if p < 0.001 {
        format!("{p:.1e}")
    } else {
        format!("{p:.3}")
    }
}

/// Probation: the hidden gold it rests on and a Reinstate button, or its absence.
fn probation_cell(project: &plumbline_store::Project, a: &AnnotatorQuality) -> Markup {
    let h = &a.probation.hidden_gold;
    let record = html! {
        small.muted {
            (h.correct) "/" (h.total) " hidden gold"
            @if a.probation.reinstated_at.is_some() { " since reinstated" }
        }
    };
    if !a.probation.on_probation {
        return html! { "no " (record) };
    }
    let url = format!(
        "/api/v1/projects/{}/annotators/{}/reinstate",
        super::members::pct(&project.name),
        super::members::pct(&a.name)
    );
    html! {
        span.probation { "on probation" } " " (record) " "
        button type="button" data-call="POST" data-url=(url) aria-label={ "Reinstate " (a.name) } { "Reinstate" }
    }
}

/// Per annotator, exact tests of bias against gold on the pairs where the annotator and
/// the gold answer picked different sides (McNemar's exact test: with no bias beyond the
/// gold answer's, the two ways of differing are equally likely): (position: the annotator
/// took the left side, length: the annotator took the longer side).
fn against_gold_tests(
    on_gold: &[PairwiseJudgment],
    reference: &[PairwiseJudgment],
    annotators: usize,
) -> Vec<(Share, Share)> {
    let mut counts = vec![[(0u64, 0u64); 2]; annotators];
    for (a, g) in on_gold.iter().zip(reference) {
        if a.winner == g.winner {
            continue;
        }
        let i = a.annotator as usize;
        if i >= counts.len() {
            counts.resize(i + 1, [(0, 0); 2]);
        }
        counts[i][0].0 += u64::from(a.winner == Winner::Left);
        counts[i][0].1 += 1;
        if let (Some(l), Some(r)) = (a.left_len, a.right_len)
            && l.abs_diff(r) > DEFAULT_LENGTH_THRESHOLD
        {
            let longer = if l > r { Winner::Left } else { Winner::Right };
            counts[i][1].0 += u64::from(a.winner == longer);
            counts[i][1].1 += 1;
        }
    }
    counts
        .iter()
        .map(|[p, l]| (Share::tested(p.0, p.1), Share::tested(l.0, l.1)))
        .collect()
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
    let quality = annotator_quality(store, project).await?;
    // The models' board; labels that cannot be decided are a reason shown, not a failure.
    let board = match leaderboard(
        store,
        project,
        LabelOptions {
            include_external: false,
            threshold: None,
        },
    )
    .await
    {
        Ok(board) => Ok(board),
        Err(EvalError::Store(e)) => return Err(e.into()),
        Err(other) => Err(other.to_string()),
    };
    let judged_gold = bias(&q.on_gold, q.names.len(), BiasConfig::default());
    let gold_ref = bias(&q.gold_reference, q.names.len(), BiasConfig::default());
    let differ = against_gold_tests(&q.on_gold, &q.gold_reference, q.names.len());
    // Per annotator: (annotator's share, gold's share on the same pairs, pairs), percent.
    let against_gold = |i: usize, share: fn(&plumbline_quality::bias::BiasStats) -> &Share| {
        let a = judged_gold.per_annotator.get(i).map(share)?;
        let g = gold_ref.per_annotator.get(i).map(share)?;
        Some((pct(&a.share)?, pct(&g.share)?, a.n))
    };
    let gold_rows = |share: fn(&plumbline_quality::bias::BiasStats) -> &Share,
                     flag: fn(&(Share, Share)) -> &Share|
     -> Vec<GoldBiasRow> {
        q.names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                let v = against_gold(i, share);
                (
                    n.clone(),
                    v.map(|v| (v.0, v.1)),
                    v.map_or(0, |v| v.2),
                    differ.get(i).is_some_and(|d| flag(d).flagged),
                )
            })
            .collect()
    };
    let pos_gold = gold_rows(|s| &s.position, |d| &d.0);
    let len_gold = gold_rows(|s| &s.length, |d| &d.1);
    // Progress tiles.
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
    let on_probation = quality
        .annotators
        .iter()
        .filter(|a| a.probation.on_probation)
        .count();
    let tiles: [(String, &str); 11] = [
        (progress.items.open.to_string(), "open"),
        (
            progress.items.adjudication.to_string(),
            "awaiting adjudication",
        ),
        (progress.items.resolved.to_string(), "resolved"),
        (progress.gold_items.to_string(), "gold items"),
        (progress.judgments.to_string(), "judgments"),
        (progress.leases.to_string(), "live leases"),
        (
            progress.priority_inversions.to_string(),
            "priority inversions",
        ),
        (
            alpha.map_or("—".into(), |a| format!("{a:.2}")),
            "α on winner",
        ),
        (
            fmt_pct(pct(&quality.experts.item_share)),
            "of items with an expert judgment",
        ),
        (
            fmt_pct(pct(&quality.experts.judgment_share)),
            "of judgments by experts",
        ),
        (on_probation.to_string(), "on probation"),
    ];

    // Agreement and gold accuracy per ISO week of submission, with drift flags.
    let agreement = weekly(&q.agreement);
    let gold_weekly = weekly(&q.gold_scores);
    let series = [
        ("Agreement", "line", &agreement),
        ("Gold accuracy", "line2", &gold_weekly),
    ];
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
    let bias_rows = |share: fn(&AnnotatorQuality) -> &Share| -> Vec<BiasRow> {
        quality
            .annotators
            .iter()
            .map(|a| {
                let s = share(a);
                (a.name.clone(), pct(&s.share), s.n, s.flagged)
            })
            .collect()
    };
    let (pos, len) = (bias_rows(|a| &a.position), bias_rows(|a| &a.length));
    let inv: Vec<(String, f64)> = progress
        .annotators
        .iter()
        .map(|a| (a.name.clone(), a.priority_inversions as f64))
        .collect();
    let errs: Vec<(String, f64)> = q
        .errors
        .iter()
        .map(|(k, v)| (k.clone(), *v as f64))
        .collect();

    // Drift flags in words.
    let mut drift: Vec<String> = Vec::new();
    for (name, _, report) in &series {
        for p in report.points.iter().filter(|p| p.flagged) {
            drift.push(format!(
                "{name} in {}: {} against a baseline of {} ({} records)",
                iso_week(p.key),
                fmt_pct(pct(&p.value)),
                fmt_pct(pct(&p.baseline)),
                p.records
            ));
        }
    }

    let body = html! {
        h1 { "Dashboard · " (project.name) }
        div.tiles {
            @for (figure, what) in &tiles { div { b { (figure) } " " (what) } }
        }
        div.charts {
            (chart_panel(
                "Agreement over time",
                &format!(
                    "Per ISO week (Monday, UTC) of submission: the share of items whose judgments agree on the winner (solid; an item counts in the week of its last judgment) and the share of hidden gold judged correctly (dashed). Red points depart from the running baseline of earlier weeks by more than {:.0} points (drift; weeks with fewer than {DRIFT_MIN_RECORDS} records are not flagged).",
                    DRIFT_THRESHOLD * 100.0
                ),
                week_chart(&series),
            ))
            (chart_panel(
                "Gold accuracy per annotator",
                "Share of hidden gold judged correctly, with the Wilson 95% interval.",
                interval_chart(&gold),
            ))
            (chart_panel(
                "Position bias",
                "Share of non-tie picks of the left (first-shown) candidate; 50% is unbiased. Red: the exact binomial test rejects 50% at p < 0.01 (all of the project's judgments).",
                bias_chart(&pos),
            ))
            (chart_panel(
                "Length bias",
                "Share of non-tie picks of the longer candidate when lengths differ by more than 30 characters; 50% is length-blind. Red: the exact binomial test rejects 50% at p < 0.01.",
                bias_chart(&len),
            ))
            (chart_panel(
                "Position bias against gold",
                "On hidden gold where both picked a side: the annotator's share of left picks (filled) against the gold answer's share on the same pairs as shown to them (ring). The gap is the bias beyond what the items call for; red when the exact test on the pairs where the two differ rejects no bias at p < 0.01.",
                gold_bias_chart(&pos_gold, "Position bias against gold"),
            ))
            (chart_panel(
                "Length bias against gold",
                "On the same gold pairs whose lengths differ by more than 30 characters: the annotator's share of longer picks (filled) against the gold answer's (ring).",
                gold_bias_chart(&len_gold, "Length bias against gold"),
            ))
            (chart_panel(
                "Priority inversions",
                "Judgments kept against the priority rule by an override, per annotator.",
                bar_chart(&inv),
            ))
            (chart_panel(
                "Error taxonomy",
                "Error tags marked on candidates, all judgments.",
                bar_chart(&errs),
            ))
        }
        (leaderboard_panel(&board))
        section.panel id="drift" {
            h2 { "Drift flags" }
            @if drift.is_empty() {
                p { "None: agreement and gold accuracy stay within " (format!("{:.0}", DRIFT_THRESHOLD * 100.0)) " points of their running baselines." }
            } @else {
                ul.flags { @for f in &drift { li { (f) } } }
            }
        }
        // The annotator table: the quality table of `plumbline report` and the API, with
        // the dashboard's figures against gold and the lease counts.
        (annotator_table(project, &quality, &q, &progress, &pos_gold, &len_gold))
    };
    Ok(page(layout(
        &format!("Dashboard · {}", project.name),
        Some(&who.actor.user),
        "dashboard",
        body,
        &[],
    )))
}

/// The sortable annotator table.
fn annotator_table(
    project: &plumbline_store::Project,
    quality: &plumbline_formats::quality::QualityReport,
    q: &Quality,
    progress: &plumbline_store::Progress,
    pos_gold: &[GoldBiasRow],
    len_gold: &[GoldBiasRow],
) -> Markup {
    const COLUMNS: [&str; 11] = [
        "Judgments",
        "Level",
        "Reliability",
        "Gold accuracy",
        "Position (left)",
        "Length (longer)",
        "Position vs gold",
        "Length vs gold",
        "Inversions",
        "Skipped, expired",
        "Probation",
    ];
    html! {
        section.panel {
            h2 { "Annotators" }
            p.muted {
                "Reliability: posterior mean and " (format!("{:.0}", quality.credible_level * 100.0))
                "% credible interval from the prior of the verified level, gold and qualification answers, and agreement with adjudications. "
                "Gold accuracy with its Wilson 95% interval. Bias: the share, the exact binomial test's p against 50%, flagged below p = "
                (quality.bias_flag_p) ". "
                "Probation: hidden gold since the last reinstatement whose Wilson upper bound is below "
                (project.settings.min_gold_accuracy) "."
            }
            p id="members-error" class="error" role="alert" hidden {}
            div.scroll { table.sortable id="annotators" {
                thead { tr {
                    th scope="col" data-sort="text" { button type="button" { "Annotator" } }
                    @for c in COLUMNS { th scope="col" { button type="button" { (c) } } }
                } }
                tbody {
                    @for a in &quality.annotators {
                        @let i = q.users.iter().position(|u| *u == a.user);
                        @let counts = progress.annotators.iter().find(|p| p.user == a.user);
                        // Points above (or below) the gold answer's share on the same pairs.
                        @let gap = |rows: &[GoldBiasRow]| {
                            i.and_then(|i| rows.get(i))
                                .and_then(|r| r.1.map(|v| (v.0 - v.1, r.2, r.3)))
                        };
                        @let (pg, lg) = (gap(pos_gold), gap(len_gold));
                        @let g = &a.gold;
                        @let r = &a.reliability;
                        tr {
                            td { (a.name) }
                            td data-v=(a.judgments) { (a.judgments) }
                            td { (a.expertise) }
                            td data-v=(format!("{:.4}", r.mean)) {
                                (format!("{:.2}", r.mean)) " " small.muted { (format!("{:.2}–{:.2}", r.lower, r.upper)) }
                            }
                            td data-v=(g.accuracy.value().unwrap_or(-1.0)) {
                                (fmt_pct(pct(&g.accuracy))) " "
                                small.muted {
                                    (g.correct) "/" (g.total)
                                    @if let (Some(lo), Some(hi)) = (g.lower, g.upper) {
                                        (format!(" · {:.0}–{:.0}%", lo * 100.0, hi * 100.0))
                                    }
                                }
                            }
                            td data-v=(a.position.share.value().unwrap_or(-1.0)) { (bias_cell(&a.position)) }
                            td data-v=(a.length.share.value().unwrap_or(-1.0)) { (bias_cell(&a.length)) }
                            td data-v=(pg.map_or(-1000.0, |g| g.0.abs())) { (points(pg)) }
                            td data-v=(lg.map_or(-1000.0, |g| g.0.abs())) { (points(lg)) }
                            td { (a.inversions) }
                            td { (counts.map_or(0, |c| c.skipped)) ", " (counts.map_or(0, |c| c.expired)) }
                            td { (probation_cell(project, a)) }
                        }
                    }
                }
            } }
        }
    }
}

/// The models' Bradley-Terry leaderboard on the eval split, overall and per edge-case
/// tag, or why there is none.
fn leaderboard_panel(board: &Result<Leaderboard, String>) -> Markup {
    html! {
        section.panel id="leaderboard" {
            h2 { "Models on the eval split" }
            @match board {
                Err(why) => { p { "No leaderboard: " (why) } }
                Ok(board) => {
                    p.muted {
                        "Bradley-Terry strength of each candidate model (log scale, the models' mean at 0) with its 95% interval, "
                        "from the decided preference labels of eval items (posterior at least " (board.threshold) "): "
                        (board.labels) " decided pair(s)"
                        @if board.without_two_models > 0 {
                            ", of which " (board.without_two_models) " without a model on both sides or with one model on both"
                        }
                        ". Ties count half a win."
                    }
                    @if board.labels == 0 {
                        p { "No leaderboard: no eval item has a decided label yet (items join the eval split on import or with "
                            code { "plumbline split" } ")." }
                    } @else {
                        (board_table("Overall", &board.overall))
                        @for (tag, b) in &board.by_tag { (board_table(tag, b)) }
                    }
                }
            }
        }
    }
}

/// One board: models strongest first, or why no strengths were fitted.
fn board_table(title: &str, board: &Board) -> Markup {
    html! {
        @match &board.undefined {
            Some(why) => {
                p.board { strong { (title) } ": no board (" (why) "; " (board.pairs) " pair(s))." }
            }
            None => {
                table.side.board {
                    caption { (title) " · " (board.pairs) " pair(s)" }
                    thead { tr {
                        th scope="col" { "Model" }
                        th scope="col" { "Strength" }
                        th scope="col" { "95% interval" }
                        th scope="col" { "Wins / comparisons" }
                    } }
                    tbody {
                        @for m in &board.models {
                            tr {
                                td { (m.model) }
                                td { (format!("{:+.2}", m.log_strength)) }
                                td { (format!("{:+.2} to {:+.2}", m.lower, m.upper)) }
                                td { (m.wins) " / " (m.comparisons) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A gap against gold in points, with the pairs it rests on and the flag.
fn points(v: Option<(f64, u64, bool)>) -> Markup {
    html! {
        @match v {
            Some((v, n, on)) => { (format!("{v:+.0}")) " pts " small.muted { "n=" (n) } (flagged(on)) }
            None => { "—" }
        }
    }
}

fn chart_panel(title: &str, note: &str, svg: Markup) -> Markup {
    html! {
        section.panel.chart {
            h2 { (title) }
            p.muted { (note) }
            (svg)
        }
    }
}

const W: f64 = 420.0;

/// A coordinate with one decimal.
fn c1(v: f64) -> String {
    format!("{v:.1}")
}

fn empty_chart() -> Markup {
    html! { p.muted { "Not enough judgments yet." } }
}

/// The weekly share of `records` (Unix seconds, hit?) against its running baseline.
fn weekly(records: &[(i64, bool)]) -> DriftReport<i64> {
    let share = |g: &[&(i64, bool)]| {
        if g.is_empty() {
            Estimate::Undefined(plumbline_quality::Undefined::NoData)
        } else {
            Estimate::Value(g.iter().filter(|r| r.1).count() as f64 / g.len() as f64)
        }
    };
    let config = DriftConfig {
        threshold: DRIFT_THRESHOLD,
        min_records: DRIFT_MIN_RECORDS,
        // The default window is a week starting Monday 00:00 UTC: ISO weeks.
        ..DriftConfig::default()
    };
    drift_by_window(records, |r| Some(r.0), &share, &config).unwrap_or(DriftReport {
        points: Vec::new(),
        skipped: 0,
        threshold: DRIFT_THRESHOLD,
    })
}

/// The ISO 8601 week (`2026-W48`) of a window starting on a Monday, Unix seconds.
pub fn iso_week(monday: i64) -> String {
    // The ISO year is the one holding the week's Thursday; its week 1 holds 4 January.
    let thursday = monday.div_euclid(86_400) + 3;
    let (year, _, _) = civil(thursday);
    let jan1 = days_from_civil(year, 1, 1);
    format!("{year}-W{:02}", (thursday - jan1) / 7 + 1)
}

/// (year, month, day) of a day count since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Weekly series in 0..1 on one week axis with a 50% guide; flagged points in red.
fn week_chart(series: &[(&str, &str, &DriftReport<i64>)]) -> Markup {
    let mut weeks: Vec<i64> = series
        .iter()
        .flat_map(|s| s.2.points.iter().filter(|p| p.value.value().is_some()))
        .map(|p| p.key)
        .collect();
    weeks.sort_unstable();
    weeks.dedup();
    if weeks.is_empty() {
        return empty_chart();
    }
    let h = 180.0;
    let (l, r, t, b) = (36.0, 14.0, 10.0, 34.0);
    let x = |k: i64| {
        let i = weeks.iter().position(|w| *w == k).unwrap_or(0);
        l + (W - l - r)
            * if weeks.len() == 1 {
                0.5
            } else {
                i as f64 / (weeks.len() - 1) as f64
            }
    };
    let y = |v: f64| t + (h - t - b) * (1.0 - v);
    // Week labels, thinned to at most eight; the end labels hang inward so they stay
    // inside the chart.
    let every = weeks.len().div_ceil(8);
    let labels: Vec<(i64, &str)> = weeks
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || i + 1 == weeks.len())
        .map(|(i, w)| {
            let anchor = match (i, weeks.len()) {
                (_, 1) => "middle",
                (0, _) => "start",
                (i, n) if i + 1 == n => "end",
                _ => "middle",
            };
            (*w, anchor)
        })
        .collect();
    html! {
        svg viewBox={ "0 0 " (W) " " (h) } role="img" aria-label="Agreement and gold accuracy per ISO week" class="svg" {
            @for v in [0.0, 0.5, 1.0] {
                line x1=(l) x2=(W - r) y1=(c1(y(v))) y2=(c1(y(v))) class="grid" {}
                text x=(l - 4.0) y=(c1(y(v) + 4.0)) class="ax" text-anchor="end" { (format!("{:.0}%", v * 100.0)) }
            }
            @for (w, anchor) in &labels {
                text x=(c1(x(*w))) y=(c1(h - b + 16.0)) class="ax" text-anchor=(anchor) { (iso_week(*w)) }
            }
            @for (name, class, report) in series {
                @let points: Vec<(i64, f64, bool, usize)> = report
                    .points
                    .iter()
                    .filter_map(|p| Some((p.key, p.value.value()?, p.flagged, p.records)))
                    .collect();
                polyline points=(points.iter().map(|p| format!("{:.1},{:.1}", x(p.0), y(p.1))).collect::<Vec<_>>().join(" ")) class=(class) {}
                @for p in &points {
                    circle cx=(c1(x(p.0))) cy=(c1(y(p.1))) r="4" class=(if p.2 { "flag" } else { "dot" }) {
                        title {
                            (name) " " (iso_week(p.0)) ": " (format!("{:.0}", p.1 * 100.0)) "% of " (p.3)
                            @if p.2 { " (drift)" }
                        }
                    }
                }
            }
            text x=(l) y=(c1(h - 2.0)) class="ax" { "── agreement   ╌╌ gold accuracy" }
        }
    }
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

/// A row's name at the left of a horizontal chart.
fn row_label(lw: f64, yy: f64, name: &str) -> Markup {
    html! {
        text x=(c1(lw - 6.0)) y=(c1(yy + 12.0)) class="ax" text-anchor="end" { (name) }
    }
}

/// Horizontal bars of accuracy with interval whiskers.
fn interval_chart(rows: &[(String, GoldAccuracy)]) -> Markup {
    if rows.is_empty() {
        return empty_chart();
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let lw = label_width(&names);
    let h = 24.0 * rows.len() as f64 + 24.0;
    let span = W - lw - 90.0;
    html! {
        svg viewBox={ "0 0 " (W) " " (h) } role="img" aria-label="Gold accuracy per annotator" class="svg" {
            @for (i, (name, g)) in rows.iter().enumerate() {
                @let yy = 8.0 + 24.0 * i as f64;
                (row_label(lw, yy, name))
                @match (g.accuracy.value(), g.lower, g.upper) {
                    (Some(a), Some(lo), Some(hi)) => {
                        rect x=(lw) y=(c1(yy)) width=(c1(span * a)) height="16" class="bar" {}
                        line x1=(c1(lw + span * lo)) x2=(c1(lw + span * hi)) y1=(c1(yy + 8.0)) y2=(c1(yy + 8.0)) class="whisker" {}
                        text x=(c1(lw + span + 4.0)) y=(c1(yy + 12.0)) class="ax" {
                            (format!("{:.0}%", a * 100.0)) " (" (g.correct) "/" (g.total) ")"
                        }
                    }
                    _ => {
                        text x=(lw) y=(c1(yy + 12.0)) class="ax muted" { "no gold scored" }
                    }
                }
            }
            line x1=(lw) x2=(lw) y1="4" y2=(c1(h - 16.0)) class="grid" {}
        }
    }
}

/// Dots per annotator on a 0–100% axis with the 50% line; red where the binomial test
/// flags the share.
fn bias_chart(rows: &[BiasRow]) -> Markup {
    if rows.is_empty() {
        return empty_chart();
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let lw = label_width(&names);
    let h = 24.0 * rows.len() as f64 + 28.0;
    let span = W - lw - 90.0;
    let mid = lw + span * 0.5;
    html! {
        svg viewBox={ "0 0 " (W) " " (h) } role="img" aria-label="Bias per annotator against 50%" class="svg" {
            line x1=(c1(mid)) x2=(c1(mid)) y1="2" y2=(c1(h - 16.0)) class="half" {}
            text x=(c1(mid)) y=(c1(h - 4.0)) class="ax" text-anchor="middle" { "50%" }
            text x=(lw) y=(c1(h - 4.0)) class="ax" { "0%" }
            text x=(c1(lw + span)) y=(c1(h - 4.0)) class="ax" text-anchor="end" { "100%" }
            @for (i, (name, v, n, flagged)) in rows.iter().enumerate() {
                @let yy = 8.0 + 24.0 * i as f64;
                (row_label(lw, yy, name))
                line x1=(lw) x2=(c1(lw + span)) y1=(c1(yy + 8.0)) y2=(c1(yy + 8.0)) class="grid" {}
                @match v {
                    Some(v) => {
                        circle cx=(c1(lw + span * v / 100.0)) cy=(c1(yy + 8.0)) r="5" class=(if *flagged { "flag" } else { "dot" }) {
                            title { (format!("{v:.0}")) "% of " (n) }
                        }
                        text x=(c1(lw + span + 4.0)) y=(c1(yy + 12.0)) class="ax" { (format!("{v:.0}")) "% (n=" (n) ")" }
                    }
                    None => {
                        text x=(c1(lw + span + 4.0)) y=(c1(yy + 12.0)) class="ax" { "n=0" }
                    }
                }
            }
        }
    }
}

/// Per annotator, their share (dot) against the gold answer's share on the same pairs
/// (ring) on a 0–100% axis; red where the exact test on the differing pairs flags it.
fn gold_bias_chart(rows: &[GoldBiasRow], label: &str) -> Markup {
    if rows.iter().all(|r| r.1.is_none()) {
        return html! { p.muted { "No judged gold with a winner yet." } };
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let lw = label_width(&names);
    let h = 24.0 * rows.len() as f64 + 28.0;
    let span = W - lw - 110.0;
    html! {
        svg viewBox={ "0 0 " (W) " " (h) } role="img" aria-label=(label) class="svg" {
            text x=(lw) y=(c1(h - 4.0)) class="ax" { "0%" }
            text x=(c1(lw + span)) y=(c1(h - 4.0)) class="ax" text-anchor="end" { "100%" }
            @for (i, (name, v, n, flagged)) in rows.iter().enumerate() {
                @let yy = 8.0 + 24.0 * i as f64;
                @let mid = c1(yy + 8.0);
                (row_label(lw, yy, name))
                line x1=(lw) x2=(c1(lw + span)) y1=(mid) y2=(mid) class="grid" {}
                @match v {
                    Some((a, g)) => {
                        @let (xa, xg) = (c1(lw + span * a / 100.0), c1(lw + span * g / 100.0));
                        line x1=(xa) x2=(xg) y1=(mid) y2=(mid) class="whisker" {}
                        circle cx=(xg) cy=(mid) r="5" class="ring" { title { "gold " (format!("{g:.0}")) "%" } }
                        circle cx=(xa) cy=(mid) r="5" class=(if *flagged { "flag" } else { "dot" }) {
                            title { (format!("{a:.0}% against gold {g:.0}% of ")) (n) }
                        }
                        text x=(c1(lw + span + 6.0)) y=(c1(yy + 12.0)) class="ax" { (format!("{:+.0}", a - g)) " pts (n=" (n) ")" }
                    }
                    None => {
                        text x=(c1(lw + span + 6.0)) y=(c1(yy + 12.0)) class="ax" { "n=0" }
                    }
                }
            }
        }
    }
}

/// Horizontal count bars.
fn bar_chart(rows: &[(String, f64)]) -> Markup {
    if rows.is_empty() {
        return empty_chart();
    }
    let names: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    let lw = label_width(&names);
    let h = 22.0 * rows.len() as f64 + 8.0;
    let max = rows.iter().map(|r| r.1).fold(1.0, f64::max);
    let span = W - lw - 40.0;
    html! {
        svg viewBox={ "0 0 " (W) " " (h) } role="img" aria-label="Counts" class="svg" {
            @for (i, (name, v)) in rows.iter().enumerate() {
                @let yy = 4.0 + 22.0 * i as f64;
                (row_label(lw, yy, name))
                rect x=(lw) y=(c1(yy)) width=(c1(span * v / max)) height="15" class="bar" {}
                text x=(c1(lw + span * v / max + 4.0)) y=(c1(yy + 12.0)) class="ax" { (v) }
            }
        }
    }
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
    let older = events.last().filter(|_| events.len() == 200).map(|e| e.seq);
    let body = html! {
        h1 { "Audit log" }
        p.muted {
            "Append-only and hash-chained; ids and digests, never content. "
            code { "plumbline audit verify" } " checks the chain."
        }
        div.scroll tabindex="0" role="region" aria-label="Audit events" { table.audit {
            thead { tr {
                @for c in ["#", "When (UTC ms)", "Actor", "Action", "Object", "Project", "Hash"] {
                    th scope="col" { (c) }
                }
            } }
            tbody {
                @for e in &events {
                    tr {
                        td { (e.seq) }
                        td { (e.at) }
                        td { (e.actor.map_or("—".into(), |a| a.to_string())) }
                        td { (e.action) }
                        td { (e.object_type) " " (e.object_id.as_deref().unwrap_or("")) }
                        td { (e.project_id.map_or("—".into(), |p| p.to_string())) }
                        td { code { (e.hash.get(..12).unwrap_or(&e.hash)) } }
                    }
                }
            }
        } }
        @if let Some(seq) = older {
            p { a href={ "/admin/audit?after=" (seq) } { "Older events →" } }
        }
    };
    Ok(page(layout(
        "Audit log",
        Some(&actor.user),
        "audit",
        body,
        &[],
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strength(
        model: &str,
        log_strength: f64,
        wins: f64,
    ) -> plumbline_formats::eval::ModelStrength {
        plumbline_formats::eval::ModelStrength {
            model: model.into(),
            log_strength,
            std_error: 0.5,
            lower: log_strength - 0.98,
            upper: log_strength + 0.98,
            wins,
            comparisons: 10,
        }
    }

    #[test]
    fn leaderboard_shows_strengths_overall_and_per_tag_or_why_not() {
        let board = Leaderboard {
            labels: 12,
            without_two_models: 2,
            overall: Board {
                pairs: 10,
                models: vec![strength("gpt<b>", 0.4, 7.0), strength("llama", -0.4, 3.0)],
                undefined: None,
            },
            by_tag: [(
                "edge:suspected_fraud".to_owned(),
                Board {
                    pairs: 3,
                    models: Vec::new(),
                    undefined: Some("fewer than two models compared".into()),
                },
            )]
            .into_iter()
            .collect(),
            by_criterion: BTreeMap::new(),
            threshold: 0.9,
        };
        let html = leaderboard_panel(&Ok(board)).into_string();
        assert!(
            html.contains(
                "<td>gpt&lt;b&gt;</td><td>+0.40</td><td>-0.58 to +1.38</td><td>7 / 10</td>"
            ),
            "{html}"
        );
        assert!(html.contains("<td>llama</td><td>-0.40</td>"));
        assert!(html.contains("12 decided pair(s), of which 2 without"));
        assert!(html.contains("<strong>edge:suspected_fraud</strong>: no board (fewer than two models compared; 3 pair(s))."));
        // No labels, or labels that cannot be decided: the panel says why.
        let empty = Leaderboard {
            labels: 0,
            without_two_models: 0,
            overall: Board {
                pairs: 0,
                models: Vec::new(),
                undefined: Some("fewer than two models compared".into()),
            },
            by_tag: BTreeMap::new(),
            by_criterion: BTreeMap::new(),
            threshold: 0.9,
        };
        assert!(
            leaderboard_panel(&Ok(empty))
                .into_string()
                .contains("no eval item has a decided label yet")
        );
        assert!(
            leaderboard_panel(&Err("not a preference project".into()))
                .into_string()
                .contains("No leaderboard: not a preference project")
        );
    }

    #[test]
    fn iso_weeks_of_mondays() {
        // Mondays (00:00 UTC) and their ISO weeks, including years whose week 1 starts
        // in December or whose last week is 53.
        for (monday, week) in [
            (1_795_392_000, "2026-W48"),
            (1_609_113_600, "2020-W53"),
            (1_735_516_800, "2025-W01"),
            (345_600, "1970-W02"),
        ] {
            assert_eq!(iso_week(monday), week);
        }
    }

    #[test]
    fn weekly_drift_flags_a_week_that_departs() {
        let week = plumbline_quality::drift::WEEK;
        let monday = 1_795_392_000;
        // Two weeks of full agreement, then a week of disagreement.
        let mut records: Vec<(i64, bool)> = (0..4).map(|i| (monday + i * 3600, true)).collect();
        records.extend((0..4).map(|i| (monday + week + i * 3600, true)));
        records.extend((0..4).map(|i| (monday + 2 * week + i * 3600, i == 0)));
        let report = weekly(&records);
        assert_eq!(report.points.len(), 3);
        assert_eq!(report.points[0].key, monday);
        let flags: Vec<bool> = report.points.iter().map(|p| p.flagged).collect();
        assert_eq!(flags, [false, false, true]);
        // A week of too few records is drawn but never flagged.
        let report = weekly(&[
            (monday, true),
            (monday + 1, true),
            (monday + 2, true),
            (monday + week, false),
        ]);
        assert!(!report.points[1].flagged);
    }
}
