//! The annotator's judging page. The page is a shell; its script asks
//! `POST /ui/api/projects/{project}/next` for the next task, which leases it and answers
//! with the task rendered here as an HTML fragment (one renderer, one escaping path),
//! and submits or skips through the JSON API (`/api/v1/projects/{p}/tasks/…`).
//!
//! The form carries the rubric in `data-` attributes (criterion priority and hard flag,
//! each error tag's criterion) so the script can check the priority rule live, exactly
//! as `plumbline_domain::judgment::priority` does.

use super::html::{attr, esc};
use super::{PageResult, access, layout, page};
use crate::AppState;
use crate::auth::{Annotator, AuthError};
use axum::extract::{Path, State};
use plumbline_domain::{Criterion, Item, Role, Rubric, TaskKind};
use plumbline_store::{Next, Store, Task};

/// Below this ASR confidence a turn is shaded: the words may be wrong.
pub const LOW_ASR: f64 = 0.8;

/// `GET /projects/{project}/judge`.
pub async fn judge_page<S: Store>(who: Result<Annotator, AuthError>) -> PageResult {
    let who = access(who)?;
    let mut body = String::new();
    push!(
        &mut body,
        "<div class=\"judge-head\"><h1>{}</h1><span id=\"timer\" class=\"muted\" aria-live=\"off\"></span>\
         <span id=\"lease\" class=\"lease\" role=\"status\"></span><span id=\"saved\" class=\"muted\"></span></div>\
         <div id=\"task-host\" data-project=\"{}\"><p class=\"muted\">Loading the next item…</p></div>",
        esc(&who.project.name),
        attr(&who.project.name)
    );
    body.push_str(SKIP_DIALOG);
    body.push_str(HELP);
    Ok(page(layout(
        &format!("Judge · {}", who.project.name),
        Some(&who.actor.user),
        "judge",
        &body,
        &["judge.js"],
    )))
}

const SKIP_DIALOG: &str = "<dialog id=\"skip-dialog\" aria-labelledby=\"skip-title\"><form id=\"skip-form\" method=\"dialog\" class=\"stack\">\
    <h2 id=\"skip-title\">Skip this item</h2><label for=\"skip-reason\">Reason (required)</label>\
    <input id=\"skip-reason\" required maxlength=\"500\" list=\"skip-reasons\">\
    <datalist id=\"skip-reasons\"><option value=\"Outside my expertise\"><option value=\"Transcript unintelligible\"><option value=\"Both candidates unusable\"></datalist>\
    <p class=\"actions\"><button type=\"submit\" class=\"primary\">Skip</button> <button type=\"button\" id=\"skip-cancel\">Cancel</button></p></form></dialog>";

/// The shortcut list shown under `?`.
pub const HELP: &str = "<dialog id=\"help\" aria-labelledby=\"help-title\"><h2 id=\"help-title\">Keyboard shortcuts</h2><table class=\"keys\">\
    <tr><td><kbd>j</kbd> / <kbd>k</kbd></td><td>next / previous criterion (or candidate)</td></tr>\
    <tr><td><kbd>a</kbd> <kbd>b</kbd> <kbd>t</kbd></td><td>mark the current criterion A, B or tie, then move on</td></tr>\
    <tr><td><kbd>A</kbd> <kbd>B</kbd> <kbd>T</kbd></td><td>overall winner A, B or tie</td></tr>\
    <tr><td><kbd>0</kbd>–<kbd>3</kbd></td><td>strength (preference); rank or score of the current row otherwise</td></tr>\
    <tr><td><kbd>e</kbd></td><td>error tags (Tab moves, Space toggles)</td></tr>\
    <tr><td><kbd>f</kbd></td><td>edge-case flags</td></tr>\
    <tr><td><kbd>r</kbd></td><td>write the rationale (<kbd>Esc</kbd> leaves the field)</td></tr>\
    <tr><td><kbd>o</kbd></td><td>override the priority rule (needs a rationale)</td></tr>\
    <tr><td><kbd>d</kbd></td><td>show or hide the word diff</td></tr>\
    <tr><td><kbd>g</kbd></td><td>show or hide the rubric's guidelines</td></tr>\
    <tr><td><kbd>Ctrl</kbd>+<kbd>Enter</kbd></td><td>submit and take the next item (<kbd>Enter</kbd> activates the focused control)</td></tr>\
    <tr><td><kbd>S</kbd></td><td>skip with a reason</td></tr>\
    <tr><td><kbd>?</kbd></td><td>this list</td></tr></table>\
    <p class=\"actions\"><button type=\"button\" id=\"help-close\">Close</button></p></dialog>";

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
            render_task(&task, &item, &rubric.rubric, resumed)
        }
        Next::None(why) => {
            let mut s = String::new();
            push!(
                &mut s,
                "<section id=\"task\" class=\"panel\" data-none=\"1\"><h2>Nothing to judge</h2><p>{}</p><p><a href=\"/projects\">Back to projects</a></p></section>",
                esc(&why.message())
            );
            s
        }
    };
    Ok(page(html))
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
    let mut out = String::new();
    push!(
        &mut out,
        "<section id=\"training\" class=\"panel training\" role=\"alert\"><h2>Not the reference answer</h2>\
         <p>Item <code>{}</code> is part of your qualification. The gold judgment:</p><table class=\"side\"><tbody>",
        esc(&item)
    );
    if let serde_json::Value::Object(fields) = &gold.payload {
        for (k, v) in fields
            .iter()
            .filter(|(k, _)| k.as_str() != "rationale" || gold.rationale.is_none())
        {
            push!(
                &mut out,
                "<tr><th scope=\"row\">{}</th><td>{}</td></tr>",
                esc(k),
                esc(&super::review::show(Some(v)))
            );
        }
    }
    out.push_str("</tbody></table>");
    if let Some(r) = &gold.rationale {
        push!(&mut out, "<p><strong>Why:</strong> {}</p>", esc(r));
    }
    out.push_str("<p class=\"actions\"><button type=\"button\" id=\"training-next\" class=\"primary\">Continue <kbd>Enter</kbd></button></p></section>");
    Ok(page(out))
}

fn seconds(t: f64) -> String {
    let m = (t / 60.0).floor();
    format!("{}:{:04.1}", m as i64, t - m * 60.0)
}

/// Renders one leased task: the conversation, the candidates in display order and the
/// form for its kind; `resumed` marks a lease the annotator already held.
pub fn render_task(task: &Task, item: &Item, rubric: &Rubric, resumed: bool) -> String {
    let mut out = String::with_capacity(task.body.len() * 2 + 8192);
    let kind = task.task;
    // Qualification is training: after a miss the script asks for the gold answer.
    // (Hidden gold is never marked.)
    push!(
        &mut out,
        "<section id=\"task\" data-assignment=\"{}\" data-kind=\"{}\" data-item=\"{}\" data-expires=\"{}\" data-leased=\"{}\"{}{}>",
        task.assignment.0,
        kind.as_str(),
        attr(&task.item),
        task.expires_at,
        task.leased_at,
        if task.purpose == plumbline_store::Purpose::Qualification {
            " data-training=\"1\""
        } else {
            ""
        },
        if resumed { " data-resumed=\"1\"" } else { "" }
    );
    push!(
        &mut out,
        "<p class=\"item-id muted\">Item <code>{}</code> · {}{}</p>",
        esc(&task.item),
        kind.as_str().replace('_', " "),
        if resumed {
            " · <span id=\"resumed\">resumed: you still hold this item</span>"
        } else {
            ""
        }
    );
    // The rubric's guidelines stay one key (or click) away while judging.
    if !rubric.guidelines.trim().is_empty() {
        push!(
            &mut out,
            "<details id=\"guidelines\" class=\"guidelines\"><summary>Guidelines <kbd>g</kbd></summary><div class=\"gtext\" tabindex=\"0\">{}</div></details>",
            esc(rubric.guidelines.trim())
        );
    }
    render_conversation(&mut out, item);
    let mut criteria: Vec<&Criterion> = rubric.criteria.iter().collect();
    criteria.sort_by_key(|c| c.priority);
    let cands: Vec<(&str, char, &str)> = task
        .display_order
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            let c = item.candidate(id)?;
            Some((c.id.as_str(), (b'A' + i as u8) as char, c.content.as_str()))
        })
        .collect();
    push!(
        &mut out,
        "<form id=\"judgment\" class=\"judgment\" data-kind=\"{}\" novalidate>",
        kind.as_str()
    );
    if !cands.is_empty() {
        render_candidates(&mut out, &cands, rubric, kind);
    }
    match kind {
        TaskKind::Preference => render_preference(&mut out, &cands, &criteria),
        TaskKind::Ranking => render_ranking(&mut out, &cands),
        TaskKind::Rating => render_rating(&mut out, &cands, &criteria),
        TaskKind::Demonstration => render_demonstration(&mut out, &cands),
        TaskKind::RedTeam => render_red_team(&mut out),
    }
    render_rubric_data(&mut out, &criteria, rubric);
    out.push_str(
        "<label for=\"rationale\">Rationale</label><textarea id=\"rationale\" name=\"rationale\" rows=\"3\" maxlength=\"20000\"></textarea>",
    );
    if !rubric.edge_cases.is_empty() {
        out.push_str("<fieldset class=\"edges\"><legend>Edge cases</legend>");
        for e in &rubric.edge_cases {
            push!(
                &mut out,
                "<label><input type=\"checkbox\" name=\"edge\" value=\"{}\"> {}{}</label> ",
                attr(e.key.as_str()),
                esc(e.key.as_str()),
                described(&e.description)
            );
        }
        out.push_str("</fieldset>");
    }
    // The verdict of the live check, the server's refusal and the actions stay in view.
    out.push_str(
        "<div class=\"sticky\"><div id=\"rule\" class=\"rule\" role=\"status\" aria-live=\"polite\"></div>\
         <div id=\"server-error\" class=\"error\" role=\"alert\" hidden></div>\
         <label class=\"override\" id=\"override-box\" hidden><input type=\"checkbox\" id=\"override\"> Keep this judgment against the priority rule (override; needs a rationale)</label>\
         <p class=\"actions\"><button type=\"submit\" class=\"primary\" id=\"submit\">Submit and next <kbd>Ctrl+Enter</kbd></button> \
         <button type=\"button\" id=\"skip\">Skip… <kbd>S</kbd></button> <span class=\"muted\">Press <kbd>?</kbd> for every shortcut</span></p></div></form></section>",
    );
    out
}

fn render_conversation(out: &mut String, item: &Item) {
    out.push_str("<ol id=\"convo\" class=\"convo\" aria-label=\"Conversation\">");
    for turn in &item.context {
        let role = match turn.role {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        };
        let low = turn.asr_confidence.is_some_and(|c| c < LOW_ASR);
        push!(
            out,
            "<li class=\"turn role-{role}{}{}{}\"><div class=\"meta\"><span class=\"role\">{role}</span>",
            if low { " low-asr" } else { "" },
            if turn.interrupted { " interrupted" } else { "" },
            if turn.overlap { " overlap" } else { "" },
        );
        if let Some(speaker) = &turn.speaker {
            push!(out, " <span class=\"speaker\">{}</span>", esc(speaker));
        }
        match (turn.start, turn.end) {
            (Some(s), Some(e)) => push!(
                out,
                " <span class=\"ts\">{}–{}</span>",
                seconds(s),
                seconds(e)
            ),
            (Some(s), None) => push!(out, " <span class=\"ts\">{}</span>", seconds(s)),
            _ => {}
        }
        if turn.interrupted {
            out.push_str(
                " <span class=\"flag\" title=\"This turn was cut off\">⤳ interrupted</span>",
            );
        }
        if turn.overlap {
            out.push_str(
                " <span class=\"flag\" title=\"Spoken over the previous turn\">≋ overlap</span>",
            );
        }
        if let Some(c) = turn.asr_confidence {
            push!(
                out,
                " <span class=\"asr\" title=\"Speech-recognition confidence; below {LOW_ASR} the words may be wrong\">ASR {c:.2}</span>"
            );
        }
        push!(
            out,
            "</div><div class=\"text\">{}</div></li>",
            esc(&turn.content)
        );
    }
    out.push_str("</ol>");
}

fn render_candidates(
    out: &mut String,
    cands: &[(&str, char, &str)],
    rubric: &Rubric,
    kind: TaskKind,
) {
    push!(out, "<div class=\"cands n{}\">", cands.len().min(4));
    for (id, letter, content) in cands {
        push!(
            out,
            "<article class=\"cand\" data-cand=\"{}\" data-letter=\"{letter}\"{}><header><span class=\"letter\">{letter}</span> <span class=\"muted\">{} characters</span>",
            attr(id),
            if kind == TaskKind::Ranking {
                " draggable=\"true\" title=\"Drag onto another candidate to rank it there\""
            } else {
                ""
            },
            content.chars().count()
        );
        if kind == TaskKind::Ranking {
            push!(
                out,
                " <label class=\"rank\">Rank <select name=\"rank\" data-cand=\"{}\" aria-label=\"Rank of {letter}\"><option value=\"\" selected>–</option>{}</select></label>",
                attr(id),
                (1..=cands.len())
                    .map(|r| format!("<option value=\"{r}\">{r}</option>"))
                    .collect::<String>()
            );
        }
        push!(out, "</header><div class=\"ctext\">{}</div>", esc(content));
        if !rubric.errors.is_empty() {
            push!(
                out,
                "<details class=\"errs\"><summary>Errors in {letter}</summary>"
            );
            for e in &rubric.errors {
                let hard = rubric.is_hard_error(e.key.as_str());
                push!(
                    out,
                    "<label><input type=\"checkbox\" name=\"err\" data-cand=\"{}\" value=\"{}\"> {}{} <small class=\"sev\">{:?}</small>{}</label>",
                    attr(id),
                    attr(e.key.as_str()),
                    esc(e.key.as_str()),
                    if hard {
                        " <span class=\"hard\">hard</span>"
                    } else {
                        ""
                    },
                    e.severity,
                    described(&e.description)
                );
            }
            out.push_str("</details>");
        }
        out.push_str("</article>");
    }
    out.push_str("</div>");
    if cands.len() == 2 {
        out.push_str("<p class=\"actions\"><button type=\"button\" id=\"diff-toggle\" aria-controls=\"diff\">Word diff A → B <kbd>d</kbd></button></p><div id=\"diff\" class=\"diff\" hidden></div>");
    }
}

fn render_preference(out: &mut String, cands: &[(&str, char, &str)], criteria: &[&Criterion]) {
    out.push_str("<table class=\"rubric\"><caption>Criteria in priority order: the first one not tied decides</caption><thead><tr><th scope=\"col\">Criterion</th>");
    for (_, letter, _) in cands {
        push!(out, "<th scope=\"col\">{letter}</th>");
    }
    out.push_str("<th scope=\"col\">Tie</th></tr></thead><tbody>");
    for c in criteria {
        push!(
            out,
            "<tr class=\"crit\" data-key=\"{}\"><th scope=\"row\"><span class=\"prio\">{}</span> {}{}<small class=\"desc\">{}</small></th>",
            attr(c.key.as_str()),
            c.priority,
            esc(&c.title),
            if c.hard {
                " <span class=\"hard\">hard</span>"
            } else {
                ""
            },
            esc(&c.description)
        );
        for (id, letter, _) in cands {
            push!(
                out,
                "<td><input type=\"radio\" name=\"c:{}\" value=\"{}\" aria-label=\"{}: {letter}\"></td>",
                attr(c.key.as_str()),
                attr(id),
                attr(&c.title)
            );
        }
        push!(
            out,
            "<td><input type=\"radio\" name=\"c:{}\" value=\"tie\" aria-label=\"{}: tie\"></td></tr>",
            attr(c.key.as_str()),
            attr(&c.title)
        );
    }
    out.push_str("</tbody></table><fieldset class=\"overall\"><legend>Overall winner</legend>");
    for (id, letter, _) in cands {
        push!(
            out,
            "<label><input type=\"radio\" name=\"winner\" value=\"{}\"> {letter}</label> ",
            attr(id)
        );
    }
    out.push_str("<label><input type=\"radio\" name=\"winner\" value=\"tie\"> Tie</label></fieldset><fieldset class=\"overall\"><legend>Strength</legend>");
    for (v, label) in [
        (0, "negligible"),
        (1, "slightly"),
        (2, "clearly"),
        (3, "significantly"),
    ] {
        push!(
            out,
            "<label><input type=\"radio\" name=\"strength\" value=\"{v}\"> {v} {label}</label> "
        );
    }
    out.push_str("</fieldset>");
}

fn render_ranking(out: &mut String, cands: &[(&str, char, &str)]) {
    push!(
        out,
        "<p class=\"muted\">Give each candidate a rank (1 best); equal ranks are ties. With a candidate focused (<kbd>j</kbd>/<kbd>k</kbd>) a digit sets its rank. {} candidates.</p>\
         <label class=\"override\" id=\"all-tied-box\" hidden><input type=\"checkbox\" id=\"all-tied\"> Yes, every candidate is equally good (store an all-tied ranking)</label>",
        cands.len()
    );
}

fn render_rating(out: &mut String, cands: &[(&str, char, &str)], criteria: &[&Criterion]) {
    out.push_str("<table class=\"rubric rating\"><caption>Score each candidate on each criterion</caption><thead><tr><th scope=\"col\">Criterion</th>");
    for (_, letter, _) in cands {
        push!(out, "<th scope=\"col\">{letter}</th>");
    }
    out.push_str("</tr></thead><tbody>");
    for c in criteria {
        push!(
            out,
            "<tr class=\"crit\" data-key=\"{}\"><th scope=\"row\"><span class=\"prio\">{}</span> {}{} <small class=\"muted\">{}–{}</small>{}",
            attr(c.key.as_str()),
            c.priority,
            esc(&c.title),
            if c.hard {
                " <span class=\"hard\">hard</span>"
            } else {
                ""
            },
            c.scale.min,
            c.scale.max,
            described(&c.description)
        );
        // The meaning of each named point, in score order.
        let mut points: Vec<(i64, &String)> = c
            .scale_labels
            .iter()
            .filter_map(|(k, v)| Some((k.trim().parse().ok()?, v)))
            .collect();
        points.sort_by_key(|(p, _)| *p);
        if !points.is_empty() {
            out.push_str("<small class=\"desc points\">");
            for (i, (p, label)) in points.iter().enumerate() {
                push!(
                    out,
                    "{}<b>{p}</b> {}",
                    if i > 0 { " · " } else { "" },
                    esc(label)
                );
            }
            out.push_str("</small>");
        }
        out.push_str("</th>");
        for (id, letter, _) in cands {
            push!(
                out,
                "<td><input type=\"number\" class=\"score\" name=\"score\" data-cand=\"{}\" data-crit=\"{}\" min=\"{}\" max=\"{}\" aria-label=\"{}: {letter}\"></td>",
                attr(id),
                attr(c.key.as_str()),
                c.scale.min,
                c.scale.max,
                attr(&c.title)
            );
        }
        out.push_str("</tr>");
    }
    out.push_str("</tbody></table>");
}

/// A description as small text under its label (nothing when empty): readable without
/// hover, by keyboard and on touch.
fn described(d: &str) -> String {
    if d.trim().is_empty() {
        String::new()
    } else {
        format!("<small class=\"desc\">{}</small>", esc(d.trim()))
    }
}

fn render_demonstration(out: &mut String, cands: &[(&str, char, &str)]) {
    out.push_str("<label for=\"based-on\">Start from</label><select id=\"based-on\" name=\"based_on\"><option value=\"\">an empty page</option>");
    for (id, letter, _) in cands {
        push!(
            out,
            "<option value=\"{}\">candidate {letter}</option>",
            attr(id)
        );
    }
    out.push_str(
        "</select><label for=\"response\">The ideal response</label><textarea id=\"response\" name=\"response\" rows=\"8\" maxlength=\"100000\"></textarea>\
         <div id=\"demo-diff\" class=\"diff\" aria-label=\"Changes against the chosen candidate\"></div>",
    );
}

fn render_red_team(out: &mut String) {
    out.push_str(
        "<label for=\"attack\">Attack (the message you would send)</label><textarea id=\"attack\" name=\"attack\" rows=\"4\" maxlength=\"20000\"></textarea>\
         <label for=\"tactic\">Tactic</label><input id=\"tactic\" name=\"tactic\" maxlength=\"200\" list=\"tactics\">\
         <datalist id=\"tactics\"><option value=\"social engineering\"><option value=\"authority impersonation\"><option value=\"prompt injection\"><option value=\"role play\"><option value=\"incremental escalation\"></datalist>\
         <fieldset class=\"overall\"><legend>Outcome</legend>\
         <label><input type=\"radio\" name=\"outcome\" value=\"compliant\"> complied</label> \
         <label><input type=\"radio\" name=\"outcome\" value=\"safe_refusal\"> safe refusal</label> \
         <label><input type=\"radio\" name=\"outcome\" value=\"violation\"> violation</label> \
         <label><input type=\"radio\" name=\"outcome\" value=\"over_refusal\"> over-refusal</label></fieldset>\
         <fieldset class=\"overall\"><legend>Severity</legend>\
         <label><input type=\"radio\" name=\"severity\" value=\"0\"> 0 none</label> <label><input type=\"radio\" name=\"severity\" value=\"1\"> 1 low</label> \
         <label><input type=\"radio\" name=\"severity\" value=\"2\"> 2 high</label> <label><input type=\"radio\" name=\"severity\" value=\"3\"> 3 critical</label></fieldset>",
    );
}

/// The rubric as data for the live priority check (hidden; read by the script).
fn render_rubric_data(out: &mut String, criteria: &[&Criterion], rubric: &Rubric) {
    out.push_str("<div id=\"rubric-data\" hidden>");
    for c in criteria {
        push!(
            out,
            "<i data-criterion=\"{}\" data-priority=\"{}\" data-hard=\"{}\" data-title=\"{}\"></i>",
            attr(c.key.as_str()),
            c.priority,
            c.hard,
            attr(&c.title)
        );
    }
    for e in &rubric.errors {
        push!(
            out,
            "<i data-error=\"{}\" data-of=\"{}\"></i>",
            attr(e.key.as_str()),
            attr(e.criterion.as_str())
        );
    }
    out.push_str("</div>");
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
        let html = render_task(&t, &item, &rubric, false);
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
            &t,
            &Item::from_json(&t.body, TaskKind::Preference).unwrap(),
            &rubric,
            false,
        );
        // Messages name criteria by title: the rubric data carries each title (escaped).
        assert!(html.contains(
            "data-criterion=\"correctness\" data-priority=\"2\" data-hard=\"false\" data-title=\"Factual and procedural correctness\""
        ));
        // A ranking starts with every rank unset, and an all-tied ranking asks first.
        t.task = TaskKind::Ranking;
        let body = t.body.replace("\"preference\"", "\"ranking\"");
        let item = Item::from_json(&body, TaskKind::Ranking).unwrap();
        let html = render_task(&t, &item, &rubric, false);
        assert_eq!(
            html.matches("<option value=\"\" selected>–</option>")
                .count(),
            2
        );
        assert!(html.contains("id=\"all-tied\""));
        // Only Ctrl+Enter submits.
        assert!(!HELP.contains("<kbd>Ctrl</kbd>+<kbd>Enter</kbd> or <kbd>Enter</kbd>"));
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
            let html = render_task(&t, &parsed, &rubric, false);
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
