//! The annotator's judging page. The page is a shell; its script asks
//! `POST /ui/api/projects/{project}/next` for the next task, which leases it and answers
//! with the task rendered here as an HTML fragment (one renderer, one escaping path),
//! and submits or skips through the JSON API (`/api/v1/projects/{p}/tasks/…`).
//!
//! The form carries the rubric in `data-` attributes (criterion priority and hard flag,
//! each error tag's criterion) so the script can check the priority rule live, exactly
//! as `plumbline_domain::judgment::priority` does. The form's controls are
//! [`judging_controls`], which the review page's decision form draws too. Text limits, scales and the red-team
//! outcomes come from the domain's constants, so the form asks for what the server
//! accepts.

use super::player::clock;
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{Annotator, AuthError};
use axum::extract::{Path, State};
use maud::{Markup, html};
use plumbline_domain::judgment::{
    MAX_FOLLOW_UP_TURNS, MAX_RATIONALE_CHARS, MAX_SEVERITY, MAX_STRENGTH, MAX_TACTIC_CHARS,
    MAX_TEXT_CHARS, TIE,
};
use plumbline_domain::{Criterion, Item, Outcome, Role, Rubric, TaskKind};
use plumbline_store::engine::review::SKIP_REASON_MAX;
use plumbline_store::{Next, Store, Task};

/// Below this ASR confidence a turn is shaded: the words may be wrong.
pub const LOW_ASR: f64 = 0.8;

/// The words for each preference strength, 0 to [`MAX_STRENGTH`].
pub const STRENGTH_LABELS: [&str; MAX_STRENGTH as usize + 1] =
    ["negligible", "slightly", "clearly", "significantly"];

/// The words for each red-team severity, 0 to [`MAX_SEVERITY`].
pub const SEVERITY_LABELS: [&str; MAX_SEVERITY as usize + 1] = ["none", "low", "high", "critical"];

/// How an outcome reads on the form.
pub fn outcome_label(o: Outcome) -> &'static str {
    match o {
        Outcome::Compliant => "complied",
        Outcome::SafeRefusal => "safe refusal",
        Outcome::Violation => "violation",
        Outcome::OverRefusal => "over-refusal",
    }
}

/// `GET /projects/{project}/judge`.
pub async fn judge_page<S: Store>(who: Result<Annotator, AuthError>) -> PageResult {
    let who = access(who)?;
    let body = html! {
        div.judge-head {
            h1 { (who.project.name) }
            span id="timer" class="muted" aria-live="off" {}
            span id="lease" class="lease" role="status" {}
            span id="saved" class="muted" {}
        }
        div id="task-host" data-project=(who.project.name) {
            p.muted { "Loading the next item…" }
        }
        (skip_dialog())
        (help())
    };
    Ok(page(layout(
        &format!("Judge · {}", who.project.name),
        Some(&who.actor.user),
        "judge",
        body,
        &["judgment.js", "player.js", "judge.js"],
    )))
}

fn skip_dialog() -> Markup {
    html! {
        dialog id="skip-dialog" aria-labelledby="skip-title" {
            form id="skip-form" method="dialog" class="stack" {
                h2 id="skip-title" { "Skip this item" }
                label for="skip-reason" { "Reason (required)" }
                input id="skip-reason" required maxlength=(SKIP_REASON_MAX) list="skip-reasons";
                datalist id="skip-reasons" {
                    option value="Outside my expertise";
                    option value="Transcript unintelligible";
                    option value="Both candidates unusable";
                }
                p.actions {
                    button type="submit" class="primary" { "Skip" } " "
                    button type="button" id="skip-cancel" { "Cancel" }
                }
            }
        }
    }
}

/// The shortcut list shown under `?`.
pub fn help() -> Markup {
    let mut keys = vec![
        (
            html! { kbd { "j" } " / " kbd { "k" } },
            html! { "next / previous criterion (or candidate)" },
        ),
        (
            html! { kbd { "a" } " " kbd { "b" } " " kbd { "t" } },
            html! { "mark the current criterion A, B or tie, then move on" },
        ),
        (
            html! { kbd { "A" } " " kbd { "B" } " " kbd { "T" } },
            html! { "overall winner A, B or tie" },
        ),
        (
            html! { kbd { "0" } "–" kbd { (MAX_STRENGTH) } },
            html! { "strength (preference); rank or score of the current row otherwise" },
        ),
        (
            html! { kbd { "e" } },
            html! { "error tags (Tab moves, Space toggles)" },
        ),
        (html! { kbd { "f" } }, html! { "edge-case flags" }),
        (
            html! { kbd { "r" } },
            html! { "write the rationale (" kbd { "Esc" } " leaves the field)" },
        ),
        (
            html! { kbd { "o" } },
            html! { "override the priority rule (needs a rationale)" },
        ),
        (
            html! { kbd { "d" } },
            html! { "show or hide the word diff" },
        ),
        (
            html! { kbd { "g" } },
            html! { "show or hide the rubric's guidelines" },
        ),
        (
            html! { kbd { "Ctrl" } "+" kbd { "Enter" } },
            html! { "submit and take the next item (" kbd { "Enter" } " activates the focused control)" },
        ),
        (html! { kbd { "S" } }, html! { "skip with a reason" }),
        (html! { kbd { "?" } }, html! { "this list" }),
    ];
    keys.extend(super::player::player_keys());
    help_dialog(&keys)
}

/// A `?` dialog listing shortcuts: (keys, what they do).
pub fn help_dialog(keys: &[(Markup, Markup)]) -> Markup {
    html! {
        dialog id="help" aria-labelledby="help-title" {
            h2 id="help-title" { "Keyboard shortcuts" }
            table.keys {
                @for (k, what) in keys {
                    tr { td { (k) } td { (what) } }
                }
            }
            p.actions { button type="button" id="help-close" { "Close" } }
        }
    }
}

/// `POST /ui/api/projects/{project}/next`: leases the next task and returns it as an
/// HTML fragment (or a sentence saying why there is none).
pub async fn next<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Annotator, AuthError>,
) -> PageResult {
    // A script calls this: refusals answer as the API does (401 JSON, not a redirect
    // that fetch would follow and mount as a fragment).
    let who = match who {
        Ok(who) => who,
        Err(e) => return Ok(axum::response::IntoResponse::into_response(e)),
    };
    // After a reload the annotator gets back the lease they hold (same assignment and
    // display order), and the script restores its draft and time on task.
    let (next, resumed) =
        crate::api::tasks::resume_or_lease(&state.store, who.actor.user.id, who.project.id).await?;
    let html = match next {
        Next::Task(task) => {
            let rubric = state
                .store
                .rubric(who.project.id, Some(task.rubric_version))
                .await?;
            let item = Item::from_json(&task.body, who.project.settings.task).map_err(|e| {
                plumbline_store::StoreError::Database(format!("stored item is unreadable: {e}"))
            })?;
            // Counted after the lease: the item on screen is no longer waiting.
            let (waiting, _) =
                super::waiting_words(&state.store, &who.project, who.actor.user.id).await?;
            html! {
                (queue_line(waiting))
                (render_task(who.project.name.as_str(), &task, &item, &rubric.rubric, resumed))
            }
        }
        Next::None(why) => html! {
            section id="task" class="panel" data-none="1" {
                h2 { "Nothing to judge" }
                p { (why.message()) }
                p { a href="/projects" { "Back to projects" } }
            }
        },
    };
    Ok(page(html))
}

/// How much work is left for the annotator, above the task: the items they could still
/// be given, and (filled in by the script) how many they submitted in this browser
/// session.
/// `None` while a qualification stands before the work.
fn queue_line(waiting: Option<i64>) -> Markup {
    html! {
        p id="queue" class="muted queue" {
            @match waiting {
                Some(n) => span id="waiting" data-waiting=(n) {
                    (n) @if n == 1 { " more item waits" } @else { " more items wait" } " for you"
                },
                None => span id="waiting" { "Qualification: your work opens once you pass it" },
            }
            " · " span id="session-count" { "none submitted in this session yet" }
        }
    }
}

/// `GET /ui/api/projects/{project}/feedback/{item}`: training mode. After the caller's
/// miss on an item of their qualification set, while that qualification is undecided,
/// the gold answer and its rationale as a fragment. Anything else (hidden gold, work, a
/// right answer, a decided qualification, an unknown item) is the same 404, so the
/// answer never tells what an item is.
pub async fn feedback<S: Store>(
    State(state): State<AppState<S>>,
    who: Result<Annotator, AuthError>,
    Path((_, item)): Path<(String, String)>,
) -> PageResult {
    let who = match who {
        Ok(who) => who,
        Err(e) => return Ok(axum::response::IntoResponse::into_response(e)),
    };
    let Some(gold) = state
        .store
        .training_feedback(who.project.id, who.actor.user.id, &item)
        .await?
    else {
        return Ok(axum::response::IntoResponse::into_response(
            AuthError::NotFound("no training feedback for this item".into()),
        ));
    };
    let fields: Vec<(&String, &serde_json::Value)> = match &gold.payload {
        serde_json::Value::Object(fields) => fields
            .iter()
            .filter(|(k, _)| k.as_str() != "rationale" || gold.rationale.is_none())
            .collect(),
        _ => Vec::new(),
    };
    Ok(page(html! {
        section id="training" class="panel training" role="alert" {
            h2 { "Not the reference answer" }
            p { "Item " code { (item) } " is part of your qualification. The gold judgment:" }
            table.side { tbody {
                @for (k, v) in &fields {
                    tr { th scope="row" { (k) } td { (super::review::show_field(k, Some(v))) } }
                }
            } }
            @if let Some(r) = &gold.rationale {
                p { strong { "Why:" } " " (r) }
            }
            p.actions {
                button type="button" id="training-next" class="primary" { "Continue " kbd { "Enter" } }
            }
        }
    }))
}

/// A candidate as the form shows it: id, display letter, text.
pub type Shown<'a> = (&'a str, char, &'a str);

/// The candidates of `item` in `order`, lettered A, B, … as shown.
pub fn lettered<'a>(item: &'a Item, order: &[String]) -> Vec<Shown<'a>> {
    order
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let c = item.candidate(id)?;
            Some((c.id.as_str(), (b'A' + i as u8) as char, c.content.as_str()))
        })
        .collect()
}

/// Renders one leased task of `project`: the call's player when the item has audio, the
/// conversation, the candidates in display order and the form for its kind; `resumed`
/// marks a lease the annotator already held.
pub fn render_task(
    project: &str,
    task: &Task,
    item: &Item,
    rubric: &Rubric,
    resumed: bool,
) -> Markup {
    let kind = task.task;
    let cands = lettered(item, &task.display_order);
    // Qualification is training: after a miss the script asks for the gold answer.
    // (Hidden gold is never marked.)
    let training = task.purpose == plumbline_store::Purpose::Qualification;
    html! {
        section id="task" data-assignment=(task.assignment.0) data-kind=(kind.as_str())
            data-item=(task.item) data-expires=(task.expires_at) data-leased=(task.leased_at)
            data-training=[training.then_some("1")] data-resumed=[resumed.then_some("1")] {
            p.item-id.muted {
                "Item " code { (task.item) } " · " (kind.as_str().replace('_', " "))
                @if resumed { " · " span id="resumed" { "resumed: you still hold this item" } }
            }
            // The rubric's guidelines stay one key (or click) away while judging.
            @if !rubric.guidelines.trim().is_empty() {
                details id="guidelines" class="guidelines" {
                    summary { "Guidelines " kbd { "g" } }
                    div.gtext tabindex="0" { (rubric.guidelines.trim()) }
                }
            }
            (super::player::media_player(project, item, &Place::JUDGE.id("convo")))
            (render_conversation(item, Place::JUDGE))
            form id="judgment" class="judgment" data-kind=(kind.as_str()) novalidate {
                (judging_controls(kind, &cands, rubric, Place::JUDGE))
                // The verdict of the live check, the server's refusal and the actions stay in view.
                div.sticky {
                    (rule_and_override(Place::JUDGE))
                    div id="server-error" class="error" role="alert" hidden {}
                    p.actions {
                        button type="submit" class="primary" id="submit" { "Submit and next " kbd { "Ctrl+Enter" } } " "
                        button type="button" id="skip" { "Skip… " kbd { "S" } } " "
                        span.muted { "Press " kbd { "?" } " for every shortcut" }
                    }
                }
            }
        }
    }
}

/// Where a judging form is drawn.
#[derive(Debug, Clone, Copy)]
pub struct Place<'a> {
    /// Prefix that makes the form's element ids unique on its page: empty on the
    /// judging page (one form), `case2-` on the review page (a form per case).
    pub ids: &'a str,
    /// The judging page's own tools: the word diff of two candidates and ranking by
    /// drag and drop (its script provides them).
    pub tools: bool,
}

impl Place<'_> {
    /// The judging page.
    pub const JUDGE: Place<'static> = Place {
        ids: "",
        tools: true,
    };

    /// The id of element `name` on this form's page.
    pub fn id(&self, name: &str) -> String {
        format!("{}{name}", self.ids)
    }
}

/// The controls of a judgment of `kind`: the candidates with their error tags, the
/// kind's own controls, the rubric data the live check reads, the rationale and the
/// edge cases. The judging page and the review page's decision form both draw it, and
/// `judgment.js` reads, fills and checks it (by name, never by id).
pub fn judging_controls(
    kind: TaskKind,
    cands: &[Shown<'_>],
    rubric: &Rubric,
    place: Place<'_>,
) -> Markup {
    let mut criteria: Vec<&Criterion> = rubric.criteria.iter().collect();
    criteria.sort_by_key(|c| c.priority);
    html! {
        @if !cands.is_empty() { (render_candidates(cands, rubric, kind, place)) }
        @match kind {
            TaskKind::Preference => (render_preference(cands, &criteria)),
            TaskKind::Ranking => (render_ranking(cands, place)),
            TaskKind::Rating => (render_rating(cands, &criteria)),
            TaskKind::Demonstration => (render_demonstration(cands, place)),
            TaskKind::RedTeam => (render_red_team(!cands.is_empty(), place)),
        }
        (render_rubric_data(&criteria, rubric, place))
        label for=(place.id("rationale")) { "Rationale" }
        textarea id=(place.id("rationale")) name="rationale" rows="3" maxlength=(MAX_RATIONALE_CHARS) {}
        @if !rubric.edge_cases.is_empty() {
            fieldset.edges {
                legend { "Edge cases" }
                @for e in &rubric.edge_cases {
                    label {
                        input type="checkbox" name="edge" value=(e.key.as_str());
                        " " (e.key.as_str()) (described(&e.description))
                    } " "
                }
            }
        }
    }
}

/// The live check's verdict and the override it may call for.
pub fn rule_and_override(place: Place<'_>) -> Markup {
    html! {
        div id=(place.id("rule")) class="rule" data-rule role="status" aria-live="polite" {}
        label.override id=(place.id("override-box")) data-box="override" hidden {
            input type="checkbox" id=(place.id("override")) name="override";
            " Keep this judgment against the priority rule (override; needs a rationale)"
        }
    }
}

/// The conversation, turn by turn, with speakers, times and ASR confidence, and what
/// the markers it uses mean (as text, readable without hover, by keyboard and touch).
/// When the item has audio, each timed turn is a seek target of its player
/// ([`super::player::media_player`], drawn by the caller with this list's id).
pub fn render_conversation(item: &Item, place: Place<'_>) -> Markup {
    let marked = |f: fn(&plumbline_domain::Turn) -> bool| item.context.iter().any(f);
    let legend = [
        (
            marked(|t| t.interrupted),
            "⤳ interrupted: the turn was cut off",
        ),
        (
            marked(|t| t.overlap),
            "≋ overlap: spoken over the previous turn",
        ),
    ];
    let asr = marked(|t| t.asr_confidence.is_some());
    // With audio, each timed turn is a seek target of the player (`player.js`): its
    // span in data attributes, its time a button that plays from its start.
    let audio = super::player::has_audio(item);
    let spans = super::player::turn_spans(item);
    html! {
        // A long call scrolls in its box: focusable, so the keyboard scrolls it too.
        ol.convo.short[!place.tools] id=(place.id("convo")) aria-label="Conversation" tabindex="0" {
            @for (n, (turn, span)) in item.context.iter().zip(&spans).enumerate() {
                @let span = span.filter(|_| audio);
                @let role = match turn.role {
                    Role::System => "system",
                    Role::User => "user",
                    Role::Assistant => "assistant",
                    Role::Tool => "tool",
                };
                @let class = format!(
                    "turn role-{role}{}{}{}",
                    if turn.asr_confidence.is_some_and(|c| c < LOW_ASR) { " low-asr" } else { "" },
                    if turn.interrupted { " interrupted" } else { "" },
                    if turn.overlap { " overlap" } else { "" },
                );
                @let times = match (turn.start, turn.end) {
                    (Some(s), Some(e)) => Some(format!("{}–{}", clock(s), clock(e))),
                    (Some(s), None) => Some(clock(s)),
                    _ => None,
                };
                li class=(class) data-start=[span.map(|s| s.0)]
                    data-end=[span.map(|s| s.1).filter(|e| e.is_finite())] {
                    div.meta {
                        span.role { (role) }
                        @if let Some(speaker) = &turn.speaker { " " span.speaker { (speaker) } }
                        @match (&times, span) {
                            (Some(times), Some((s, _))) => {
                                " " button.ts type="button" data-seek
                                    aria-label={ (times) ": play turn " (n + 1) " from " (clock(s)) } { (times) }
                            }
                            (Some(times), None) => { " " span.ts { (times) } }
                            _ => {}
                        }
                        @if turn.interrupted {
                            " " span.flag title="This turn was cut off" { "⤳ interrupted" }
                        }
                        @if turn.overlap {
                            " " span.flag title="Spoken over the previous turn" { "≋ overlap" }
                        }
                        @if let Some(c) = turn.asr_confidence {
                            " " span.asr title={ "Speech-recognition confidence; below " (LOW_ASR) " the words may be wrong" } {
                                "ASR " (format!("{c:.2}"))
                            }
                        }
                    }
                    div.text { (turn.content) }
                }
            }
        }
        @if asr || legend.iter().any(|(shown, _)| *shown) {
            p.legend.muted {
                @for (i, (_, text)) in legend.iter().filter(|(shown, _)| *shown).enumerate() {
                    @if i > 0 { " · " }
                    (text)
                }
                @if asr {
                    @if legend.iter().any(|(shown, _)| *shown) { " · " }
                    "ASR: speech-recognition confidence; below " (LOW_ASR) " the words may be wrong (shaded)"
                }
            }
        }
    }
}

fn render_candidates(
    cands: &[Shown<'_>],
    rubric: &Rubric,
    kind: TaskKind,
    place: Place<'_>,
) -> Markup {
    let ranking = kind == TaskKind::Ranking;
    let drag = ranking && place.tools;
    html! {
        div class={ "cands n" (cands.len().min(4)) } {
            @for (id, letter, content) in cands {
                article.cand data-cand=(id) data-letter=(letter)
                    draggable=[drag.then_some("true")]
                    title=[drag.then_some("Drag onto another candidate to rank it there")] {
                    header {
                        span.letter { (letter) } " "
                        // Off the judging page, the id too: the judgments compared
                        // beside the form name candidates by id.
                        @if !place.tools { code { (id) } " " }
                        span.muted { (content.chars().count()) " characters" }
                        @if ranking {
                            " "
                            label.rank {
                                "Rank "
                                select name="rank" data-cand=(id) aria-label={ "Rank of " (letter) } {
                                    option value="" selected { "–" }
                                    @for r in 1..=cands.len() { option value=(r) { (r) } }
                                }
                            }
                        }
                    }
                    // A long candidate scrolls in its box, reachable by keyboard.
                    div.ctext tabindex="0" { (content) }
                    @if !rubric.errors.is_empty() {
                        details.errs {
                            summary { "Errors in " (letter) }
                            @for e in &rubric.errors {
                                label {
                                    input type="checkbox" name="err" data-cand=(id) value=(e.key.as_str());
                                    " " (e.key.as_str())
                                    @if rubric.is_hard_error(e.key.as_str()) { " " span.hard { "hard" } }
                                    " " small.sev { (format!("{:?}", e.severity)) }
                                    (described(&e.description))
                                }
                            }
                        }
                    }
                }
            }
        }
        @if cands.len() == 2 && place.tools {
            p.actions {
                button type="button" id="diff-toggle" aria-controls="diff" { "Word diff A → B " kbd { "d" } }
            }
            div id="diff" class="diff" hidden {}
        }
    }
}

fn hard_mark(c: &Criterion) -> Markup {
    html! { @if c.hard { " " span.hard { "hard" } } }
}

fn render_preference(cands: &[Shown<'_>], criteria: &[&Criterion]) -> Markup {
    html! {
        table.rubric {
            caption { "Criteria in priority order: the first one not tied decides" }
            thead { tr {
                th scope="col" { "Criterion" }
                @for (_, letter, _) in cands { th scope="col" { (letter) } }
                th scope="col" { "Tie" }
            } }
            tbody {
                @for c in criteria {
                    @let name = format!("c:{}", c.key.as_str());
                    tr.crit data-key=(c.key.as_str()) {
                        th scope="row" {
                            span.prio { (c.priority) } " " (c.title) (hard_mark(c))
                            small.desc { (c.description) }
                        }
                        @for (id, letter, _) in cands {
                            td { input type="radio" name=(name) value=(id) aria-label={ (c.title) ": " (letter) }; }
                        }
                        td { input type="radio" name=(name) value=(TIE) aria-label={ (c.title) ": tie" }; }
                    }
                }
            }
        }
        fieldset.overall {
            legend { "Overall winner" }
            @for (id, letter, _) in cands {
                label { input type="radio" name="winner" value=(id); " " (letter) } " "
            }
            label { input type="radio" name="winner" value=(TIE); " Tie" }
        }
        fieldset.overall {
            legend { "Strength" }
            @for (v, label) in STRENGTH_LABELS.iter().enumerate() {
                label { input type="radio" name="strength" value=(v); " " (v) " " (label) } " "
            }
        }
    }
}

fn render_ranking(cands: &[Shown<'_>], place: Place<'_>) -> Markup {
    html! {
        p.muted {
            "Give each candidate a rank (1 best); equal ranks are ties. "
            // The keys are the judging page's (its script handles them).
            @if place.tools {
                "With a candidate focused (" kbd { "j" } "/" kbd { "k" } ") a digit sets its rank. "
            }
            (cands.len()) " candidates."
        }
        label.override id=(place.id("all-tied-box")) data-box="all-tied" hidden {
            input type="checkbox" id=(place.id("all-tied")) name="all_tied";
            " Yes, every candidate is equally good (store an all-tied ranking)"
        }
    }
}

fn render_rating(cands: &[Shown<'_>], criteria: &[&Criterion]) -> Markup {
    html! {
        table.rubric.rating {
            caption { "Score each candidate on each criterion" }
            thead { tr {
                th scope="col" { "Criterion" }
                @for (_, letter, _) in cands { th scope="col" { (letter) } }
            } }
            tbody {
                @for c in criteria {
                    // The meaning of each named point, in score order.
                    @let points = {
                        let mut points: Vec<(i64, &String)> = c
                            .scale_labels
                            .iter()
                            .filter_map(|(k, v)| Some((k.trim().parse().ok()?, v)))
                            .collect();
                        points.sort_by_key(|(p, _)| *p);
                        points
                    };
                    tr.crit data-key=(c.key.as_str()) {
                        th scope="row" {
                            span.prio { (c.priority) } " " (c.title) (hard_mark(c))
                            " " small.muted { (c.scale.min) "–" (c.scale.max) }
                            (described(&c.description))
                            @if !points.is_empty() {
                                small.desc.points {
                                    @for (i, (p, label)) in points.iter().enumerate() {
                                        @if i > 0 { " · " }
                                        b { (p) } " " (label)
                                    }
                                }
                            }
                        }
                        @for (id, letter, _) in cands {
                            td {
                                input type="number" class="score" name="score" data-cand=(id)
                                    data-crit=(c.key.as_str()) min=(c.scale.min) max=(c.scale.max)
                                    aria-label={ (c.title) ": " (letter) };
                            }
                        }
                    }
                }
            }
        }
    }
}

/// A description as small text under its label (nothing when empty): readable without
/// hover, by keyboard and on touch.
fn described(d: &str) -> Markup {
    html! {
        @if !d.trim().is_empty() { small.desc { (d.trim()) } }
    }
}

fn render_demonstration(cands: &[Shown<'_>], place: Place<'_>) -> Markup {
    html! {
        label for=(place.id("based-on")) { "Start from" }
        select id=(place.id("based-on")) name="based_on" {
            option value="" { "an empty page" }
            @for (id, letter, _) in cands { option value=(id) { "candidate " (letter) } }
        }
        label for=(place.id("response")) { "The ideal response" }
        textarea id=(place.id("response")) name="response" rows="8" maxlength=(MAX_TEXT_CHARS) {}
        @if place.tools {
            div id="demo-diff" class="diff" role="group" aria-label="Changes against the chosen candidate" {}
        }
    }
}

/// The attack (one turn or several), the target's reply to each, tactic, outcome and
/// severity. `item_has_reply`: the item carries the target's reply (shown above as a
/// candidate), so the first reply may be left empty.
fn render_red_team(item_has_reply: bool, place: Place<'_>) -> Markup {
    html! {
        label for=(place.id("attack")) { "Attack (the message you would send)" }
        textarea id=(place.id("attack")) name="attack" rows="4" maxlength=(MAX_TEXT_CHARS) {}
        label for=(place.id("reply")) {
            @if item_has_reply {
                "The target's reply (leave empty if it is the reply shown above)"
            } @else {
                "The target's reply (paste what the model answered; the outcome is judged against it)"
            }
        }
        textarea id=(place.id("reply")) name="reply" rows="4" maxlength=(MAX_TEXT_CHARS)
            data-needed=[(!item_has_reply).then_some("true")] {}
        div.turns data-turns data-max=(MAX_FOLLOW_UP_TURNS) {}
        p { button type="button" class="link" data-add-turn { "Add a turn (the next attack and its reply)" } }
        template data-turn-template {
            fieldset.turn {
                legend { "Further turn" }
                label { "Next attack" textarea name="turn_attack" rows="3" maxlength=(MAX_TEXT_CHARS) {} }
                label { "The target's reply" textarea name="turn_reply" rows="3" maxlength=(MAX_TEXT_CHARS) {} }
                button type="button" class="link" data-remove-turn { "Remove this turn" }
            }
        }
        label for=(place.id("tactic")) { "Tactic" }
        input id=(place.id("tactic")) name="tactic" maxlength=(MAX_TACTIC_CHARS) list=(place.id("tactics"));
        datalist id=(place.id("tactics")) {
            @for t in ["social engineering", "authority impersonation", "prompt injection", "role play", "incremental escalation"] {
                option value=(t);
            }
        }
        fieldset.overall {
            legend { "Outcome" }
            @for o in Outcome::ALL {
                label { input type="radio" name="outcome" value=(o.as_str()); " " (outcome_label(o)) } " "
            }
        }
        fieldset.overall {
            legend { "Severity" }
            @for (v, label) in SEVERITY_LABELS.iter().enumerate() {
                label { input type="radio" name="severity" value=(v); " " (v) " " (label) } " "
            }
        }
    }
}

/// The rubric as data for the live priority check (hidden; read by the script).
fn render_rubric_data(criteria: &[&Criterion], rubric: &Rubric, place: Place<'_>) -> Markup {
    html! {
        div id=(place.id("rubric-data")) data-rubric hidden {
            @for c in criteria {
                i data-criterion=(c.key.as_str()) data-priority=(c.priority) data-hard=(c.hard) data-title=(c.title) {}
            }
            @for e in &rubric.errors {
                i data-error=(e.key.as_str()) data-of=(e.criterion.as_str()) {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumbline_domain::{AssignmentId, ItemId, RubricVersion};
    use plumbline_store::Purpose;

    const RUBRIC: &str = include_str!("../../../../examples/banking/rubric.toml");

    fn task(turns: usize) -> (Task, Item, Rubric) {
        let context: Vec<serde_json::Value> = (0..turns)
            .map(|i| {
                serde_json::json!({"role": if i % 2 == 0 { "user" } else { "assistant" },
                    "speaker": if i % 2 == 0 { "customer" } else { "agent" },
                    "content": format!("Turn {i}: <script>alert(1)</script> I'd like to check the direct debit of £1,200 & the fees on my joint account, please."),
                    "start": i as f64 * 5.0, "end": i as f64 * 5.0 + 4.5, "asr_confidence": 0.6 + (i % 4) as f64 * 0.1,
                    "interrupted": i % 7 == 3, "overlap": i % 9 == 4})
            })
            .collect();
        let body = serde_json::json!({"id": "long-1", "context": context, "task": "preference",
            "candidates": [{"id": "a", "content": "A reply <img src=x onerror=alert(1)> ".repeat(20)},
                           {"id": "b", "content": "B reply with \"quotes\" & 'apostrophes' ".repeat(20)}]})
        .to_string();
        let item = Item::from_json(&body, TaskKind::Preference).unwrap();
        let t = Task {
            assignment: AssignmentId(7),
            item_id: ItemId(1),
            item: "long-1".into(),
            task: TaskKind::Preference,
            body,
            display_order: vec!["b".into(), "a".into()],
            rubric_version: RubricVersion(1),
            seq: 1,
            leased_at: 0,
            expires_at: 900_000,
            purpose: Purpose::Work,
        };
        (t, item, Rubric::from_toml(RUBRIC).unwrap())
    }

    #[test]
    fn fragment_escapes_and_orders() {
        let (t, item, rubric) = task(3);
        let html = render_task("banking", &t, &item, &rubric, false).into_string();
        assert!(
            !html.contains("<script>") && !html.contains("<img"),
            "unescaped markup"
        );
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        // Display order: b is shown as A.
        let a = html.find("data-cand=\"b\" data-letter=\"A\"").unwrap();
        let b = html.find("data-cand=\"a\" data-letter=\"B\"").unwrap();
        assert!(a < b);
        // Criteria in priority order with the hard flag for the live check.
        let c = html
            .find("data-criterion=\"compliance\" data-priority=\"1\" data-hard=\"true\"")
            .unwrap();
        let d = html
            .find("data-criterion=\"correctness\" data-priority=\"2\"")
            .unwrap();
        assert!(c < d);
        assert!(html.contains("class=\"turn role-user low-asr\""));
    }

    #[test]
    fn fragment_carries_titles_and_unset_ranks() {
        let (mut t, _, rubric) = task(1);
        let html = render_task(
            "banking",
            &t,
            &Item::from_json(&t.body, TaskKind::Preference).unwrap(),
            &rubric,
            false,
        )
        .into_string();
        // Messages name criteria by title: the rubric data carries each title (escaped).
        assert!(html.contains(
            "data-criterion=\"correctness\" data-priority=\"2\" data-hard=\"false\" data-title=\"Factual and procedural correctness\""
        ));
        // A ranking starts with every rank unset, and an all-tied ranking asks first.
        t.task = TaskKind::Ranking;
        let body = t.body.replace("\"preference\"", "\"ranking\"");
        let item = Item::from_json(&body, TaskKind::Ranking).unwrap();
        let html = render_task("banking", &t, &item, &rubric, false).into_string();
        assert_eq!(
            html.matches("<option value=\"\" selected>–</option>")
                .count(),
            2
        );
        assert!(html.contains("id=\"all-tied\""));
        // Only Ctrl+Enter submits.
        assert!(
            !help()
                .into_string()
                .contains("<kbd>Ctrl</kbd>+<kbd>Enter</kbd> or <kbd>Enter</kbd>")
        );
    }

    /// The `maxlength` of the element with `id` in `html`.
    fn maxlength(html: &str, id: &str) -> usize {
        let at = html
            .find(&format!("id=\"{id}\""))
            .unwrap_or_else(|| panic!("no #{id}"));
        let tag = &html[html[..at].rfind('<').unwrap()..];
        let tag = &tag[..tag.find('>').unwrap()];
        let v = tag
            .split("maxlength=\"")
            .nth(1)
            .unwrap_or_else(|| panic!("#{id} has no maxlength: {tag}"));
        v[..v.find('"').unwrap()].parse().unwrap()
    }

    #[test]
    fn limits_scales_and_outcomes_come_from_the_domain() {
        let (mut t, _, rubric) = task(1);
        let kinds = [
            (TaskKind::Demonstration, "demonstration"),
            (TaskKind::RedTeam, "red_team"),
        ];
        for (kind, name) in kinds {
            t.task = kind;
            let body = t.body.replace("\"preference\"", &format!("\"{name}\""));
            let item = Item::from_json(&body, kind).unwrap();
            let html = render_task("banking", &t, &item, &rubric, false).into_string();
            assert_eq!(maxlength(&html, "rationale"), MAX_RATIONALE_CHARS);
            if kind == TaskKind::Demonstration {
                assert_eq!(maxlength(&html, "response"), MAX_TEXT_CHARS);
            } else {
                assert_eq!(maxlength(&html, "attack"), MAX_TEXT_CHARS);
                assert_eq!(maxlength(&html, "tactic"), MAX_TACTIC_CHARS);
                for o in Outcome::ALL {
                    assert!(html.contains(&format!("name=\"outcome\" value=\"{}\"", o.as_str())));
                }
                assert_eq!(
                    html.matches("name=\"severity\"").count(),
                    MAX_SEVERITY as usize + 1
                );
            }
        }
        assert_eq!(
            maxlength(&skip_dialog().into_string(), "skip-reason"),
            SKIP_REASON_MAX
        );
        let (t, item, rubric) = task(1);
        let html = render_task("banking", &t, &item, &rubric, false).into_string();
        assert_eq!(
            html.matches("name=\"strength\"").count(),
            MAX_STRENGTH as usize + 1
        );
    }

    /// The judging page's server render with a 40-turn context. A measurement, not a
    /// test: `cargo test --release -p plumbline-server --lib render_figure -- --ignored --nocapture`.
    #[test]
    #[ignore]
    fn render_figure() {
        let (t, item, rubric) = task(40);
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..2000 {
            let start = std::time::Instant::now();
            // What `next` does after the store: parse the item, render the fragment.
            let parsed = Item::from_json(&t.body, TaskKind::Preference).unwrap();
            let html = render_task("banking", &t, &parsed, &rubric, false).into_string();
            times.push(start.elapsed().as_secs_f64() * 1e3);
            bytes = html.len();
        }
        let _ = item;
        times.sort_by(f64::total_cmp);
        println!(
            "judging fragment, 40 turns, {bytes} bytes: median {:.3} ms, p95 {:.3} ms, p99 {:.3} ms",
            times[times.len() / 2],
            times[times.len() * 95 / 100],
            times[times.len() * 99 / 100]
        );
    }
}
