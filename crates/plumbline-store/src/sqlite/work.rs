//! The engine's adapter on SQLite: each write reads the context a decision of
//! [`crate::engine`] needs, calls it, and writes its result with its audit events,
//! inside a savepoint of a group commit on the single writer connection (see
//! `group.rs`), so counters and the overlap are exact without locks.

use super::SqliteStore;
use crate::Result;
use crate::audit::{AuditEvent, sqlite_append};
use crate::engine;
use crate::engine::GoldSecret;
use crate::engine::lease::{self, Found, LeaseContext, Source};
use crate::engine::review::{self, GoldVersion};
use crate::engine::submit::{self, Given, Held, SettleContext, SubmitContext, Vote};
use crate::error::StoreError;
use crate::model::now_ms;
use crate::work::*;
use plumbline_domain::{
    AssignmentId, Expertise, GoldId, ItemId, JudgmentId, ProjectId, ProjectSettings, Rubric,
    RubricVersion, TaskKind, UserId,
};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior, params};
use std::collections::HashMap;

/// Expired leases returned per `next` call (the rest on the following calls).
const RECLAIM_BATCH: i64 = 256;

pub(super) fn settings_of(conn: &Connection, project: ProjectId) -> Result<(ProjectSettings, i64)> {
    let (json, version): (String, i64) = conn
        .prepare_cached("SELECT settings, rubric_version FROM projects WHERE id = ?1")?
        .query_row([project.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
    Ok((serde_json::from_str(&json)?, version))
}

fn rubric_of(conn: &Connection, project: ProjectId, version: i64) -> Result<Rubric> {
    let json: String = conn
        .prepare_cached(
            "SELECT rubric FROM rubric_versions WHERE project_id = ?1 AND version = ?2",
        )?
        .query_row(params![project.0, version], |r| r.get(0))?;
    Rubric::from_json(&json)
        .map_err(|e| StoreError::Database(format!("stored rubric v{version} is unreadable: {e}")))
}

pub(super) fn verified_expertise(conn: &Connection, user: UserId) -> Result<Vec<Expertise>> {
    let mut stmt = conn.prepare_cached(
        "SELECT domain, level FROM expertise WHERE user_id = ?1 AND verified_at IS NOT NULL",
    )?;
    let rows = stmt.query_map([user.0], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let mut out = Vec::new();
    for row in rows {
        let (d, l) = row?;
        if let Ok(e) = format!("{d}:{l}").parse() {
            out.push(e);
        }
    }
    Ok(out)
}

fn reclaim(tx: &Connection, project: Option<ProjectId>, now: i64, limit: i64) -> Result<u64> {
    let expired: Vec<(i64, i64)> = {
        let mut stmt = tx.prepare_cached(
            "SELECT id, item_id FROM assignments
             WHERE state = 'leased' AND expires_at < ?1 AND (?2 IS NULL OR project_id = ?2)
             LIMIT ?3",
        )?;
        stmt.query_map(params![now, project.map(|p| p.0), limit], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?
        .collect::<rusqlite::Result<_>>()?
    };
    for (id, item) in &expired {
        tx.prepare_cached("UPDATE assignments SET state = 'expired' WHERE id = ?1")?
            .execute([id])?;
        tx.prepare_cached("UPDATE items SET leases = leases - 1 WHERE id = ?1 AND leases > 0")?
            .execute([item])?;
    }
    Ok(expired.len() as u64)
}

/// `AND` clause admitting items whose `requires` are all in the JSON array `?N`.
fn requires_clause(param: usize) -> String {
    format!(
        "(instr(i.body, '\"requires\":') = 0 OR NOT EXISTS (
            SELECT 1 FROM json_each(i.body, '$.requires') r
            WHERE r.value NOT IN (SELECT value FROM json_each(?{param}))))"
    )
}

fn candidate_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Found> {
    Ok(Found {
        id: r.get(0)?,
        ext_id: r.get(1)?,
        task: r.get(2)?,
        body: r.get(3)?,
    })
}

/// An active, current gold item this annotator has never been assigned, from the
/// lease's secret starting point `start` ([`LeaseContext::gold_start`]).
fn pick_gold(
    tx: &Connection,
    project: ProjectId,
    user: UserId,
    satisfied: &str,
    start: i64,
) -> Result<Option<Found>> {
    // Each lease walks the gold items in id order from its own secret starting point
    // (wrapping round), so gold is spread across annotators and comes in an order nobody
    // can predict; the walk follows the gold index and stops at the first eligible item
    // instead of sorting every gold item by a per-lease key (~1 ms of the writer's time
    // a gold lease with 500 gold items).
    let one = format!(
        "SELECT i.id, i.ext_id, i.task, i.body FROM items i INDEXED BY items_gold
         WHERE i.project_id = ?1 AND i.is_gold = 1 AND i.purged_at IS NULL
           AND i.id {{}} (SELECT m.lo + ?4 % (m.hi - m.lo + 1)
                        FROM (SELECT min(id) AS lo, max(id) AS hi FROM items INDEXED BY items_gold
                              WHERE project_id = ?1 AND is_gold = 1) m)
           AND EXISTS (SELECT 1 FROM gold g WHERE g.item_id = i.id AND g.active = 1 AND g.needs_revalidation = 0)
           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id AND a.user_id = ?2)
           AND {}
         ORDER BY i.id LIMIT 1",
        requires_clause(3)
    );
    let sql = format!(
        "SELECT * FROM ({}) UNION ALL SELECT * FROM ({}) LIMIT 1",
        one.replace("{}", ">="),
        one.replace("{}", "<")
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(params![project.0, user.0, satisfied, start], candidate_row)
        .optional()?)
}

/// Which open items a work pick considers (see [`Source`]).
struct Queue<'a> {
    overlap: u32,
    satisfied: &'a str,
    /// The project's expertise domains, a JSON array (every domain when empty).
    domains: &'a str,
    tag: Option<&'a str>,
    reserve: u32,
    needs_expert: bool,
}

/// `EXISTS` clause: the item has a live or submitted assignment of an annotator with
/// verified expert-level expertise in the domains of parameter `?N`.
fn expert_clause(domains: usize) -> String {
    format!(
        "EXISTS (SELECT 1 FROM assignments x JOIN expertise e ON e.user_id = x.user_id
            WHERE x.item_id = i.id AND x.state IN ('leased', 'submitted')
              AND e.verified_at IS NOT NULL AND e.level = 'expert'
              AND (json_array_length(?{domains}) = 0
                   OR e.domain IN (SELECT value FROM json_each(?{domains}))))"
    )
}

/// The fullest open item below the overlap this annotator may and has not judged;
/// with a tag, only items carrying it; with a reserve, not the reserved last slots of
/// an item without an expert; for an expert, only items without one.
fn pick_work(
    tx: &Connection,
    project: ProjectId,
    user: UserId,
    q: &Queue<'_>,
) -> Result<Option<Found>> {
    let sql = format!(
        "SELECT i.id, i.ext_id, i.task, i.body FROM items i INDEXED BY items_queue
         WHERE i.project_id = ?1 AND i.state = 'open' AND i.is_gold = 0
           AND i.judgments + i.leases < ?3 AND i.purged_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id AND a.user_id = ?2)
           AND {}
           AND (?5 IS NULL OR EXISTS (SELECT 1 FROM json_each(i.body, '$.tags') t WHERE t.value = ?5))
           AND (i.judgments + i.leases + ?6 < ?3 OR {expert})
           AND (?8 = 0 OR NOT {expert})
         ORDER BY i.judgments + i.leases DESC, i.id LIMIT 1",
        requires_clause(4),
        expert = expert_clause(7),
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(
            params![
                project.0,
                user.0,
                q.overlap,
                q.satisfied,
                q.tag,
                q.reserve,
                q.domains,
                q.needs_expert
            ],
            candidate_row,
        )
        .optional()?)
}

/// The fullest escalated item (open, past the overlap, below `max_overlap`) this
/// annotator may and has not judged.
fn pick_escalated(
    tx: &Connection,
    project: ProjectId,
    user: UserId,
    q: &Queue<'_>,
    max_overlap: u32,
) -> Result<Option<Found>> {
    let sql = format!(
        "SELECT i.id, i.ext_id, i.task, i.body FROM items i INDEXED BY items_queue
         WHERE i.project_id = ?1 AND i.state = 'open' AND i.is_gold = 0
           AND i.judgments >= ?3 AND i.judgments + i.leases < ?5 AND i.purged_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id AND a.user_id = ?2)
           AND {}
         ORDER BY i.judgments + i.leases DESC, i.id LIMIT 1",
        requires_clause(4)
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row(
            params![project.0, user.0, q.overlap, q.satisfied, max_overlap],
            candidate_row,
        )
        .optional()?)
}

/// Members of the project with verified expert-level expertise in `domains` (a JSON
/// array; every domain when empty).
fn experts_in_project(tx: &Connection, project: ProjectId, domains: &str) -> Result<u32> {
    Ok(tx
        .prepare_cached(
            "SELECT count(DISTINCT m.user_id) FROM members m JOIN expertise e ON e.user_id = m.user_id
             WHERE m.project_id = ?1 AND e.verified_at IS NOT NULL AND e.level = 'expert'
               AND (json_array_length(?2) = 0 OR e.domain IN (SELECT value FROM json_each(?2)))",
        )?
        .query_row(params![project.0, domains], |r| r.get(0))?)
}

/// The annotator's qualification row: state, correct, total, and since when it counts.
fn qualification_row(
    tx: &Connection,
    project: ProjectId,
    user: UserId,
) -> Result<(QualificationState, i64, i64, i64)> {
    let row: Option<(String, i64, i64, i64)> = tx
        .prepare_cached(
            "SELECT state, correct, total, since FROM qualifications WHERE project_id = ?1 AND user_id = ?2",
        )?
        .query_row(params![project.0, user.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    match row {
        None => Ok((QualificationState::Pending, 0, 0, 0)),
        Some((state, correct, total, since)) => Ok((stored(&state)?, correct, total, since)),
    }
}

/// A stored state name as its type.
pub(super) fn stored<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(StoreError::Database)
}

/// The serve counters of the project's edge-case quotas, by tag (`""` is the total).
fn serve_counts(tx: &Connection, project: ProjectId) -> Result<HashMap<String, i64>> {
    tx.prepare_cached("SELECT tag, served FROM serve_counts WHERE project_id = ?1")?
        .query_map([project.0], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()
        .map_err(Into::into)
}

fn next_in(tx: &Connection, user: UserId, project: ProjectId) -> Result<Next> {
    let now = now_ms();
    let (settings, rubric_version, secret): (String, i64, Vec<u8>) = tx
        .prepare_cached("SELECT settings, rubric_version, gold_secret FROM projects WHERE id = ?1")?
        .query_row([project.0], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
    let settings: ProjectSettings = serde_json::from_str(&settings)?;
    let secret = GoldSecret::from_stored(&secret)?;
    let verified = verified_expertise(tx, user)?;
    reclaim(tx, Some(project), now, RECLAIM_BATCH)?;
    // `annotator_counts.seq` is the highest so far (kept by a trigger on `assignments`).
    // `annotator_counts.seq` is the highest so far (kept by a trigger on `assignments`).
    let seq: i64 = tx
        .prepare_cached(
            "SELECT coalesce((SELECT seq FROM annotator_counts WHERE project_id = ?1 AND user_id = ?2), 0) + 1",
        )?
        .query_row(params![project.0, user.0], |r| r.get(0))?;
    // Probation counts the hidden gold judged since the latest reinstatement: the same
    // read as the quality table's, so what leads see is what the engine acts on.
    let hidden = super::leads::hidden_gold(tx, project, user)?;
    let domains = serde_json::to_string(&engine::project_domains(&settings))?;
    let experts = experts_in_project(tx, project, &domains)?;
    let (qualification, _, _, since) = qualification_row(tx, project, user)?;
    let qualification_served = if lease::needs_qualification_count(&settings, qualification) {
        tx.prepare_cached(
            "SELECT count(*) FROM assignments WHERE project_id = ?1 AND user_id = ?2
             AND purpose = 'qualification' AND state IN ('leased', 'submitted') AND leased_at >= ?3",
        )?
        .query_row(params![project.0, user.0, since], |r| r.get(0))?
    } else {
        0
    };
    let served = if lease::needs_serve_counts(&settings) {
        serve_counts(tx, project)?
    } else {
        HashMap::new()
    };
    let ctx = LeaseContext::new(project, user, &settings, &verified, seq, &secret)
        .qualification(qualification, qualification_served)
        .served(&served)
        .experts(experts)
        .gold(hidden.correct, hidden.scored);
    let plan = match lease::plan(&ctx) {
        Ok(plan) => plan,
        Err(no) => return Ok(Next::None(no)),
    };
    let satisfied = serde_json::to_string(&plan.satisfied)?;
    let (c, purpose) = match lease::search_now(&plan, |source| {
        let mut q = Queue {
            overlap: settings.overlap,
            satisfied: &satisfied,
            domains: &domains,
            tag: None,
            reserve: 0,
            needs_expert: false,
        };
        match source {
            Source::Gold => pick_gold(tx, project, user, &satisfied, ctx.gold_start()),
            Source::Work { tag, reserve } => {
                q.tag = tag.as_deref();
                q.reserve = reserve;
                pick_work(tx, project, user, &q)
            }
            Source::NeedsExpert => {
                q.needs_expert = true;
                pick_work(tx, project, user, &q)
            }
            Source::Escalated { max_overlap } => pick_escalated(tx, project, user, &q, max_overlap),
        }
    })? {
        Ok(found) => found,
        Err(no) => return Ok(Next::None(no)),
    };
    let new = lease::lease(&settings, purpose, &c.body, now)?;
    tx.prepare_cached(
        "INSERT INTO assignments (project_id, item_id, user_id, purpose, seq, display_order, state,
                                  leased_at, expires_at, rubric_version)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'leased', ?7, ?8, ?9)",
    )?
    .execute(params![
        project.0,
        c.id,
        user.0,
        purpose.as_str(),
        seq,
        serde_json::to_string(&new.display_order)?,
        new.leased_at,
        new.expires_at,
        rubric_version
    ])?;
    let assignment = AssignmentId(tx.last_insert_rowid());
    tx.prepare_cached("UPDATE items SET leases = leases + 1 WHERE id = ?1")?
        .execute([c.id])?;
    for tag in &new.quota_tags {
        tx.prepare_cached(
            "INSERT INTO serve_counts (project_id, tag, served) VALUES (?1, ?2, 1)
             ON CONFLICT (project_id, tag) DO UPDATE SET served = served + 1",
        )?
        .execute(params![project.0, tag])?;
    }
    sqlite_append(tx, &lease::lease_event(project, user, assignment))?;
    let task = lease::task(c, new, assignment, rubric_version, seq)?;
    Ok(Next::Task(Box::new(task)))
}

/// An assignment as stored: the engine's view of it, and what a judgment copies.
struct AssignmentRow {
    held: Held,
    item_id: i64,
    display_order: String,
    rubric_version: i64,
}

fn assignment_row(
    tx: &Connection,
    project: ProjectId,
    id: AssignmentId,
) -> WorkResult<AssignmentRow> {
    let row = tx
        .prepare_cached(
            "SELECT item_id, user_id, purpose, state, leased_at, expires_at, display_order, rubric_version
             FROM assignments WHERE id = ?1 AND project_id = ?2",
        )?
        .query_row(params![id.0, project.0], |r| {
            Ok((
                (r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?),
                (r.get::<_, String>(3)?, r.get::<_, i64>(4)?, r.get::<_, i64>(5)?),
                (r.get::<_, String>(6)?, r.get::<_, i64>(7)?),
            ))
        })
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("assignment {id} in this project")))?;
    let (
        (item_id, owner, purpose),
        (state, leased_at, expires_at),
        (display_order, rubric_version),
    ) = row;
    Ok(AssignmentRow {
        held: Held {
            id,
            owner: UserId(owner),
            purpose: stored(&purpose)?,
            state: stored(&state)?,
            leased_at,
            expires_at,
        },
        item_id,
        display_order,
        rubric_version,
    })
}

fn active_gold(tx: &Connection, item: i64) -> Result<Option<String>> {
    Ok(tx
        .prepare_cached("SELECT payload FROM gold WHERE item_id = ?1 AND active = 1")?
        .query_row([item], |r| r.get(0))
        .optional()?)
}

fn submit_in(
    tx: &Connection,
    user: UserId,
    project: ProjectId,
    id: AssignmentId,
    submission: Submission,
) -> WorkResult<SubmitOutcome> {
    let now = now_ms();
    let a = assignment_row(tx, project, id)?;
    submit::check_held(&a.held, user, now)?;
    let (settings, _) = settings_of(tx, project)?;
    let (ext_id, body, task, is_gold): (String, String, String, bool) = tx
        .prepare_cached("SELECT ext_id, body, task, is_gold FROM items WHERE id = ?1")?
        .query_row([a.item_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let kind = submit::task_kind(&task)?;
    let rubric = rubric_of(tx, project, a.rubric_version)?;
    let gold = if submit::scores_gold(a.held.purpose, is_gold) {
        active_gold(tx, a.item_id)?
    } else {
        None
    };
    type Existing = (i64, String, Option<String>, Option<i64>, Option<bool>);
    let existing: Option<Existing> = tx
        .prepare_cached(
            "SELECT id, payload, rationale, time_ms, gold_correct FROM judgments WHERE assignment_id = ?1",
        )?
        .query_row([id.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
        })
        .optional()?;
    let ctx = SubmitContext {
        project,
        annotator: user,
        held: &a.held,
        settings: &settings,
        rubric: &rubric,
        item_body: &body,
        kind,
        item_is_gold: is_gold,
        active_gold: gold.as_deref(),
        existing: existing.as_ref().map(|e| Given {
            id: JudgmentId(e.0),
            gold_correct: e.4,
        }),
        now,
    };
    let j = submit::judge(&ctx, &submission)?;
    let judgment = match existing {
        Some((jid, old, old_rationale, old_time, _)) => {
            tx.prepare_cached(
                "INSERT INTO judgment_history (judgment_id, payload, rationale, time_ms, replaced_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![jid, old, old_rationale, old_time, now])?;
            tx.prepare_cached(
                "UPDATE judgments SET payload = ?2, rationale = ?3, priority_inversion = ?4, time_ms = ?5,
                 gold_correct = ?6, updated_at = ?7 WHERE id = ?1",
            )?
            .execute(params![
                jid,
                j.payload_json,
                j.rationale,
                j.priority_inversion,
                j.time_ms,
                j.gold_correct,
                now
            ])?;
            jid
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO judgments (project_id, item_id, assignment_id, user_id, source, rubric_version, task,
                   payload, rationale, display_order, priority_inversion, time_ms, gold_correct, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, 'annotator', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
            )?
            .execute(params![
                project.0,
                a.item_id,
                id.0,
                user.0,
                a.rubric_version,
                kind.as_str(),
                j.payload_json,
                j.rationale,
                a.display_order,
                j.priority_inversion,
                j.time_ms,
                j.gold_correct,
                now
            ])?;
            let jid = tx.last_insert_rowid();
            tx.prepare_cached("UPDATE assignments SET state = 'submitted' WHERE id = ?1")?
                .execute([id.0])?;
            tx.prepare_cached(
                "UPDATE items SET leases = leases - 1, judgments = judgments + 1, updated_at = ?2 WHERE id = ?1",
            )?
            .execute(params![a.item_id, now])?;
            jid
        }
    };
    let mut events = vec![submit::judgment_event(
        project,
        user,
        JudgmentId(judgment),
        &j,
    )];
    if j.recount_qualification {
        events.extend(update_qualification(tx, project, user, &settings, now)?);
    }
    if j.may_settle
        && let Some((_, event)) = settle(
            tx,
            project,
            (&ext_id, &body),
            a.item_id,
            kind,
            &settings,
            now,
        )?
    {
        events.push(event);
    }
    for e in &events {
        sqlite_append(tx, e)?;
    }
    Ok(SubmitOutcome {
        judgment: JudgmentId(judgment),
        resubmitted: j.resubmission,
        priority_inversion: j.priority_inversion,
        time_ms: j.time_ms,
    })
}

/// Settles the item as [`submit::settle`] decides, if it does.
fn settle(
    tx: &Connection,
    project: ProjectId,
    (ext_id, body): (&str, &str),
    item: i64,
    kind: TaskKind,
    settings: &ProjectSettings,
    now: i64,
) -> Result<Option<(ItemState, AuditEvent)>> {
    let (judgments, decided): (i64, bool) = tx
        .prepare_cached(
            "SELECT judgments, EXISTS (SELECT 1 FROM adjudications WHERE item_id = ?1) FROM items WHERE id = ?1",
        )?
        .query_row([item], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if decided || !submit::reaches_overlap(judgments, settings) {
        return Ok(None);
    }
    let rows: Vec<(String, i64, i64, String)> = tx
        .prepare_cached(
            "SELECT j.payload, coalesce(c.gold_correct, 0), coalesce(c.gold_scored, 0),
                (SELECT json_group_array(e.domain || ':' || e.level) FROM expertise e
                 WHERE e.user_id = j.user_id AND e.verified_at IS NOT NULL)
             FROM judgments j
             LEFT JOIN annotator_counts c ON c.project_id = j.project_id AND c.user_id = j.user_id
             WHERE j.item_id = ?1 AND j.source = 'annotator'",
        )?
        .query_map([item], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut votes = Vec::with_capacity(rows.len());
    for (payload, gold_correct, gold_scored, expertise) in rows {
        let verified = parse_expertise(serde_json::from_str(&expertise)?);
        votes.push(Vote {
            payload,
            level: engine::project_level(settings, &verified),
            gold_correct,
            gold_scored,
        });
    }
    let domains = serde_json::to_string(&engine::project_domains(settings))?;
    let ctx = SettleContext {
        project,
        item: ext_id,
        kind,
        item_body: body,
        votes: &votes,
        decided,
        settings,
        experts_in_project: experts_in_project(tx, project, &domains)?,
    };
    let settled = submit::settle(&ctx)?;
    if let Some((state, _)) = &settled {
        tx.prepare_cached(
            "UPDATE items SET state = ?2, resolved_at = CASE WHEN ?2 = 'resolved' THEN ?3 END, updated_at = ?3 WHERE id = ?1",
        )?
        .execute(params![item, state.as_str(), now])?;
    }
    Ok(settled)
}

/// `domain:level` strings as expertise, skipping any that no longer parse.
fn parse_expertise(strings: Vec<String>) -> Vec<Expertise> {
    strings.iter().filter_map(|s| s.parse().ok()).collect()
}

/// Recounts the annotator's qualification answers and stores what
/// [`submit::qualification_outcome`] decides; its event, if any.
fn update_qualification(
    tx: &Connection,
    project: ProjectId,
    user: UserId,
    settings: &ProjectSettings,
    now: i64,
) -> Result<Option<AuditEvent>> {
    let (state, _, _, since) = qualification_row(tx, project, user)?;
    let (total, correct): (i64, i64) = tx
        .prepare_cached(
            "SELECT count(*), coalesce(sum(j.gold_correct = 1), 0) FROM assignments a
             JOIN judgments j ON j.assignment_id = a.id
             WHERE a.project_id = ?1 AND a.user_id = ?2 AND a.purpose = 'qualification' AND a.leased_at >= ?3",
        )?
        .query_row(params![project.0, user.0, since], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let Some((q, event)) =
        submit::qualification_outcome(project, user, state, correct, total, settings)
    else {
        return Ok(None);
    };
    tx.prepare_cached(
        "INSERT INTO qualifications (project_id, user_id, state, correct, total, updated_at, since)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (project_id, user_id) DO UPDATE SET state = ?3, correct = ?4, total = ?5, updated_at = ?6",
    )?
    .execute(params![project.0, user.0, q.state.as_str(), q.correct, q.total, now, since])?;
    Ok(event)
}

pub(super) fn gold_record(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawGold> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
        r.get(10)?,
    ))
}

pub(super) fn to_gold(raw: RawGold) -> Result<GoldRecord> {
    Ok(GoldRecord {
        id: GoldId(raw.0),
        item: raw.1,
        version: raw.2,
        rubric_version: RubricVersion(raw.3 as i32),
        payload: serde_json::from_str(&raw.4)?,
        rationale: raw.5,
        origin: raw.6,
        created_by: raw.7.map(UserId),
        created_at: raw.8,
        active: raw.9,
        needs_revalidation: raw.10,
    })
}

pub(super) const GOLD_COLUMNS: &str =
    "g.id, i.ext_id, g.version, g.rubric_version, g.payload, g.rationale, g.origin,
    g.created_by, g.created_at, g.active, g.needs_revalidation";

/// A gold row as read, before its JSON is parsed.
pub(super) type RawGold = (
    i64,
    String,
    i64,
    i64,
    String,
    Option<String>,
    String,
    Option<i64>,
    i64,
    bool,
    bool,
);

/// A judgment row as read: (id, assignment, user, payload, inversion) and (time on
/// task, display order, gold score, submitted, updated).
pub(super) type RawJudgment = (
    (i64, Option<i64>, Option<i64>, String, bool),
    (Option<i64>, Option<String>, Option<bool>, i64, i64),
);

/// Stores a new gold version (the caller validated the payload) with its event.
fn insert_gold(
    tx: &Transaction<'_>,
    project: ProjectId,
    g: &GoldVersion<'_>,
    now: i64,
) -> Result<GoldRecord> {
    let item = g.item;
    let version: i64 = tx
        .prepare_cached("SELECT coalesce(max(version), 0) + 1 FROM gold WHERE item_id = ?1")?
        .query_row([item], |r| r.get(0))?;
    tx.prepare_cached("UPDATE gold SET active = 0 WHERE item_id = ?1 AND active = 1")?
        .execute([item])?;
    tx.prepare_cached(
        "INSERT INTO gold (project_id, item_id, version, rubric_version, payload, rationale, origin, created_by, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute(params![
        project.0,
        item,
        version,
        g.rubric_version,
        g.payload_json,
        g.rationale,
        g.origin.as_str(),
        g.actor.map(|u| u.0),
        now
    ])?;
    let id = tx.last_insert_rowid();
    tx.prepare_cached("UPDATE items SET is_gold = 1, updated_at = ?2 WHERE id = ?1")?
        .execute(params![item, now])?;
    sqlite_append(
        tx,
        &review::gold_event(g.actor, project, GoldId(id), g.payload_json),
    )?;
    let raw = tx
        .prepare_cached(&format!(
            "SELECT {GOLD_COLUMNS} FROM gold g JOIN items i ON i.id = g.item_id WHERE g.id = ?1"
        ))?
        .query_row([id], gold_record)?;
    to_gold(raw)
}

pub(super) fn item_by_ext(
    tx: &Connection,
    project: ProjectId,
    ext: &str,
) -> Result<(i64, String, String, String)> {
    tx.prepare_cached(
        "SELECT id, body, task, state FROM items WHERE project_id = ?1 AND ext_id = ?2",
    )?
    .query_row(params![project.0, ext], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    })
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("item `{ext}`")))
}

fn gold_candidate_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<RawCandidate> {
    Ok((
        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
        (
            r.get(5)?,
            r.get(6)?,
            r.get(7)?,
            r.get(8)?,
            r.get(9)?,
            r.get(10)?,
        ),
    ))
}

/// A gold candidate row as read, before its JSON is parsed.
type RawCandidate = (
    (i64, String, String, Option<i64>, String),
    (
        Option<String>,
        String,
        Option<i64>,
        Option<i64>,
        Option<i64>,
        i64,
    ),
);

fn to_candidate(raw: RawCandidate) -> Result<crate::GoldCandidate> {
    let (
        (id, item, source, proposed_by, payload),
        (note, state, decided_by, decided_at, gold, created_at),
    ) = raw;
    Ok(crate::GoldCandidate {
        id,
        item,
        source,
        proposed_by: proposed_by.map(UserId),
        payload: serde_json::from_str(&payload)?,
        note,
        state,
        decided_by: decided_by.map(UserId),
        decided_at,
        gold: gold.map(GoldId),
        created_at,
    })
}

fn candidate_by_id(tx: &Connection, project: ProjectId, id: i64) -> Result<crate::GoldCandidate> {
    let raw = tx
        .prepare_cached(&format!(
            "SELECT {} FROM gold_candidates c JOIN items i ON i.id = c.item_id
             WHERE c.project_id = ?1 AND c.id = ?2",
            crate::gold_candidates::COLUMNS
        ))?
        .query_row(params![project.0, id], gold_candidate_row)
        .optional()?
        .ok_or_else(|| crate::gold_candidates::not_found(id, project))?;
    to_candidate(raw)
}

/// Marks candidate `id` decided.
fn decide_candidate(
    tx: &Connection,
    id: i64,
    state: &str,
    actor: Option<UserId>,
    gold: Option<GoldId>,
    now: i64,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE gold_candidates SET state = ?2, decided_by = ?3, decided_at = ?4, gold_id = ?5 WHERE id = ?1",
    )?
    .execute(params![id, state, actor.map(|u| u.0), now, gold.map(|g| g.0)])?;
    Ok(())
}

fn immediate(conn: &mut Connection) -> Result<Transaction<'_>> {
    Ok(conn.transaction_with_behavior(TransactionBehavior::Immediate)?)
}

/// Commits `tx` when the engine's decision went through; a refusal is handed back and
/// the transaction rolls back as it drops.
fn commit_decided<T>(tx: Transaction<'_>, decided: WorkResult<T>) -> Result<WorkResult<T>> {
    match decided {
        Ok(v) => {
            tx.commit()?;
            Ok(Ok(v))
        }
        Err(e) => Ok(Err(e)),
    }
}

impl WorkStore for SqliteStore {
    async fn next_task(&self, annotator: UserId, project: ProjectId) -> Result<Next> {
        self.write_grouped(move |conn| Ok(next_in(conn, annotator, project)?))
            .await
            .map_err(|e| match e {
                WorkError::Store(e) => e,
                other => StoreError::Database(other.to_string()),
            })
    }

    async fn submit(
        &self,
        annotator: UserId,
        project: ProjectId,
        assignment: AssignmentId,
        submission: Submission,
    ) -> WorkResult<SubmitOutcome> {
        self.write_grouped(move |conn| submit_in(conn, annotator, project, assignment, submission))
            .await
    }

    async fn held_or_next(&self, annotator: UserId, project: ProjectId) -> Result<(Next, bool)> {
        if let Some(held) = self.held_task(annotator, project).await? {
            return Ok((Next::Task(Box::new(held)), true));
        }
        Ok((self.next_task(annotator, project).await?, false))
    }

    async fn held_task(&self, annotator: UserId, project: ProjectId) -> Result<Option<Task>> {
        self.read(move |conn| {
            // The partial index holds only leased rows, so this reads the live leases of
            // the whole database (a few per active annotator), never a user's history.
            let row = conn
                .prepare_cached(
                    "SELECT a.id, a.item_id, i.ext_id, i.task, i.body, a.display_order, a.rubric_version,
                            a.seq, a.leased_at, a.expires_at, a.purpose
                     FROM assignments a INDEXED BY assignments_live JOIN items i ON i.id = a.item_id
                     WHERE a.state = 'leased' AND a.expires_at >= ?1 AND a.project_id = ?2 AND a.user_id = ?3
                     ORDER BY a.id LIMIT 1",
                )?
                .query_row(params![now_ms(), project.0, annotator.0], |r| {
                    Ok((
                        (r.get::<_, i64>(0)?, r.get::<_, i64>(1)?, r.get::<_, String>(2)?),
                        (r.get::<_, String>(3)?, r.get::<_, String>(4)?, r.get::<_, String>(5)?),
                        (r.get::<_, i64>(6)?, r.get::<_, i64>(7)?, r.get::<_, i64>(8)?),
                        (r.get::<_, i64>(9)?, r.get::<_, String>(10)?),
                    ))
                })
                .optional()?;
            let Some(((id, item, ext), (task, body, order), (version, seq, leased), (expires, purpose))) =
                row
            else {
                return Ok(None);
            };
            Ok(Some(Task {
                assignment: AssignmentId(id),
                item_id: ItemId(item),
                item: ext,
                task: submit::task_kind(&task)?,
                body,
                display_order: serde_json::from_str(&order)?,
                rubric_version: RubricVersion(version as i32),
                seq,
                leased_at: leased,
                expires_at: expires,
                purpose: stored(&purpose)?,
            }))
        })
        .await
    }

    async fn skip(
        &self,
        annotator: UserId,
        project: ProjectId,
        assignment: AssignmentId,
        reason: String,
    ) -> WorkResult<()> {
        review::check_skip_reason(&reason)?;
        self.write_grouped(move |tx| {
            let a = assignment_row(tx, project, assignment)?;
            review::check_skip(&a.held, annotator, now_ms())?;
            tx.prepare_cached(
                "UPDATE assignments SET state = 'skipped', skip_reason = ?2 WHERE id = ?1",
            )?
            .execute(params![assignment.0, reason])?;
            tx.prepare_cached("UPDATE items SET leases = leases - 1 WHERE id = ?1 AND leases > 0")?
                .execute([a.item_id])?;
            sqlite_append(
                tx,
                &review::skip_event(project, annotator, assignment, &reason),
            )?;
            Ok(())
        })
        .await
    }

    async fn reclaim_expired(&self, project: ProjectId) -> Result<u64> {
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let n = reclaim(&tx, Some(project), now_ms(), i64::MAX)?;
            if let Some(event) = review::reclaim_event(project, n) {
                sqlite_append(&tx, &event)?;
            }
            tx.commit()?;
            Ok(n)
        })
        .await
    }

    async fn qualification(&self, project: ProjectId, annotator: UserId) -> Result<Qualification> {
        self.read(move |conn| {
            let (state, correct, total, _) = qualification_row(conn, project, annotator)?;
            Ok(Qualification {
                state,
                correct,
                total,
            })
        })
        .await
    }

    async fn reset_qualification(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<()> {
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let now = now_ms();
            tx.execute(
                "INSERT INTO qualifications (project_id, user_id, state, correct, total, updated_at, reset_by, since)
                 VALUES (?1, ?2, 'pending', 0, 0, ?3, ?4, ?3)
                 ON CONFLICT (project_id, user_id) DO UPDATE
                 SET state = 'pending', correct = 0, total = 0, updated_at = ?3, reset_by = ?4, since = ?3",
                params![project.0, annotator.0, now, actor.map(|u| u.0)],
            )?;
            sqlite_append(&tx, &review::reset_event(actor, project, annotator))?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn add_gold(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        gold: NewGold,
    ) -> WorkResult<GoldRecord> {
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let run = || -> WorkResult<GoldRecord> {
                let (_, version) = settings_of(&tx, project)?;
                let (item, body, task, _) = item_by_ext(&tx, project, &gold.item)?;
                let rubric = rubric_of(&tx, project, version)?;
                let r =
                    review::reference(&body, submit::task_kind(&task)?, &rubric, &gold.payload)?;
                let g = GoldVersion::expert(actor, item, version, &r);
                Ok(insert_gold(&tx, project, &g, now_ms())?)
            };
            let decided = run();
            commit_decided(tx, decided)
        })
        .await?
    }

    async fn gold(&self, project: ProjectId, item: Option<String>) -> Result<Vec<GoldRecord>> {
        self.read_gold(project, item).await
    }

    async fn gold_candidates(
        &self,
        project: ProjectId,
        state: Option<String>,
    ) -> Result<Vec<crate::GoldCandidate>> {
        crate::gold_candidates::check_state(state.as_deref())?;
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {} FROM gold_candidates c JOIN items i ON i.id = c.item_id
                 WHERE c.project_id = ?1 AND (?2 IS NULL OR c.state = ?2) ORDER BY c.id",
                crate::gold_candidates::COLUMNS
            ))?;
            let rows = stmt.query_map(params![project.0, state], gold_candidate_row)?;
            rows.map(|r| to_candidate(r?)).collect()
        })
        .await
    }

    async fn accept_gold_candidate(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        id: i64,
        payload: Option<String>,
    ) -> WorkResult<GoldRecord> {
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let run = || -> WorkResult<GoldRecord> {
                let c = candidate_by_id(&tx, project, id)?;
                crate::gold_candidates::check_pending(id, &c.state)?;
                let (_, version) = settings_of(&tx, project)?;
                let (item, body, task, _) = item_by_ext(&tx, project, &c.item)?;
                let rubric = rubric_of(&tx, project, version)?;
                let given = payload.clone().unwrap_or_else(|| c.payload.to_string());
                let r = review::reference(&body, submit::task_kind(&task)?, &rubric, &given)?;
                let mut g = GoldVersion::expert(actor, item, version, &r);
                if c.proposed_by.is_none() {
                    g.origin = review::GoldOrigin::Import;
                }
                let now = now_ms();
                let gold = insert_gold(&tx, project, &g, now)?;
                decide_candidate(&tx, id, "accepted", actor, Some(gold.id), now)?;
                sqlite_append(
                    &tx,
                    &crate::gold_candidates::event(
                        crate::audit::AuditAction::GoldCandidateAccept,
                        actor,
                        project,
                        id,
                        &c.item,
                    ),
                )?;
                Ok(gold)
            };
            let decided = run();
            commit_decided(tx, decided)
        })
        .await?
    }

    async fn propose_gold_candidate(
        &self,
        reviewer: UserId,
        project: ProjectId,
        item: String,
        payload: String,
    ) -> WorkResult<crate::GoldCandidate> {
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let run = || -> WorkResult<crate::GoldCandidate> {
                let (_, version) = settings_of(&tx, project)?;
                let (item_id, body, task, _) = item_by_ext(&tx, project, &item)?;
                let rubric = rubric_of(&tx, project, version)?;
                let r = review::reference(&body, submit::task_kind(&task)?, &rubric, &payload)?;
                let id: i64 = tx
                    .prepare_cached(crate::gold_candidates::PROPOSE_SQLITE)?
                    .query_row(
                        params![
                            project.0,
                            item_id,
                            crate::gold_candidates::reviewer_source(reviewer),
                            reviewer.0,
                            r.payload_json,
                            r.rationale,
                            now_ms()
                        ],
                        |row| row.get(0),
                    )
                    .map_err(|e| match StoreError::from(e) {
                        StoreError::Conflict(_) => crate::gold_candidates::proposed_twice(&item),
                        other => other,
                    })?;
                sqlite_append(
                    &tx,
                    &crate::gold_candidates::event(
                        crate::audit::AuditAction::GoldCandidatePropose,
                        Some(reviewer),
                        project,
                        id,
                        &item,
                    ),
                )?;
                Ok(candidate_by_id(&tx, project, id)?)
            };
            let decided = run();
            commit_decided(tx, decided)
        })
        .await?
    }

    async fn reject_gold_candidate(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        id: i64,
    ) -> Result<crate::GoldCandidate> {
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let c = candidate_by_id(&tx, project, id)?;
            crate::gold_candidates::check_pending(id, &c.state)?;
            decide_candidate(&tx, id, "rejected", actor, None, now_ms())?;
            sqlite_append(
                &tx,
                &crate::gold_candidates::event(
                    crate::audit::AuditAction::GoldCandidateReject,
                    actor,
                    project,
                    id,
                    &c.item,
                ),
            )?;
            let decided = candidate_by_id(&tx, project, id)?;
            tx.commit()?;
            Ok(decided)
        })
        .await
    }

    async fn adjudication_queue(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> Result<Vec<AdjudicationCase>> {
        self.read_adjudication_queue(project, limit).await
    }

    async fn adjudicate(
        &self,
        reviewer: UserId,
        project: ProjectId,
        decision: Decision,
    ) -> WorkResult<DecisionRecord> {
        review::check_decision(&decision)?;
        self.write(move |conn| {
            let tx = immediate(conn)?;
            let run = || -> WorkResult<DecisionRecord> {
                let now = now_ms();
                let (_, version) = settings_of(&tx, project)?;
                let (item, body, task, state) = item_by_ext(&tx, project, &decision.item)?;
                review::check_adjudicable(&decision.item, stored(&state)?)?;
                let rubric = rubric_of(&tx, project, version)?;
                let json = review::reference(&body, submit::task_kind(&task)?, &rubric, &decision.payload)?
                    .payload_json;
                tx.prepare_cached(
                    "INSERT INTO adjudications (project_id, item_id, reviewer_id, rubric_version, payload, rationale, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                )?
                .execute(params![project.0, item, reviewer.0, version, json, decision.rationale, now])?;
                let id = tx.last_insert_rowid();
                tx.prepare_cached(
                    "UPDATE items SET state = 'resolved', resolved_at = ?2, updated_at = ?2 WHERE id = ?1",
                )?
                .execute(params![item, now])?;
                sqlite_append(&tx, &review::decision_event(reviewer, project, &decision.item, &json))?;
                let gold = if decision.promote_to_gold {
                    let g = GoldVersion::promoted(reviewer, item, version, &json, &decision);
                    let g = insert_gold(&tx, project, &g, now)?;
                    tx.prepare_cached("UPDATE adjudications SET gold_id = ?2 WHERE id = ?1")?
                        .execute(params![id, g.id.0])?;
                    Some(g.id)
                } else {
                    None
                };
                Ok(DecisionRecord { id, item: decision.item.clone(), gold })
            };
            let decided = run();
            commit_decided(tx, decided)
        })
        .await?
    }

    async fn progress(&self, project: ProjectId) -> Result<Progress> {
        self.read_progress(project).await
    }

    async fn waiting_for(&self, annotator: UserId, project: ProjectId) -> Result<i64> {
        self.read(move |conn| {
            let (settings, _) = settings_of(conn, project)?;
            let verified = verified_expertise(conn, annotator)?;
            let satisfied = serde_json::to_string(&engine::satisfied_requirements(&verified))?;
            let sql = format!(
                "SELECT count(*) FROM items i INDEXED BY items_queue
                 WHERE i.project_id = ?1 AND i.state = 'open' AND i.is_gold = 0
                   AND i.judgments + i.leases < ?3 AND i.purged_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id AND a.user_id = ?2)
                   AND {}",
                requires_clause(4)
            );
            Ok(conn
                .prepare_cached(&sql)?
                .query_row(params![project.0, annotator.0, settings.overlap, satisfied], |r| r.get(0))?)
        })
        .await
    }

    async fn items_page(
        &self,
        project: ProjectId,
        filter: ItemFilter,
        after: Option<ItemId>,
        limit: u32,
    ) -> Result<Vec<crate::StoredItem>> {
        self.read_items_page(project, filter, after, limit).await
    }

    async fn training_feedback(
        &self,
        project: ProjectId,
        annotator: UserId,
        item: &str,
    ) -> Result<Option<GoldRecord>> {
        self.read_training_feedback(project, annotator, item.to_owned())
            .await
    }

    async fn judgments_of(&self, project: ProjectId, item: &str) -> Result<Vec<StoredJudgment>> {
        self.read_judgments_of(project, item).await
    }
}
