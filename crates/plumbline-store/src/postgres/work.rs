//! The engine's adapter on PostgreSQL: each write reads the context a decision of
//! [`crate::engine`] needs in as few pipelined statements as it can, calls it, and
//! writes its result with its audit events.
//!
//! Any number of server processes share the queue. A lease takes its item's queue row
//! with `FOR NO KEY UPDATE SKIP LOCKED`, and READ COMMITTED re-checks
//! the overlap condition on the locked row, so the overlap stays exact; submissions lock
//! their assignment row. `NO KEY`: the lease changes no key, and a plain `FOR UPDATE`
//! would also block the key-share locks that inserting a judgment or an assignment of
//! the same item takes for its foreign key, until the lease's commit. Nothing lives in
//! process memory.

use super::PgStore;
use super::tx::Tx;
use crate::Result;
use crate::audit::{AuditEvent, PgEvents, pg_pending_insert};
use crate::engine;
use crate::engine::GoldSecret;
use crate::engine::lease::{self, Found, LeaseContext, Source};
use crate::engine::review::{self, GoldVersion};
use crate::engine::submit::{self, Given, Held, SettleContext, SubmitContext, Vote};
use crate::error::StoreError;
use crate::model::now_ms;
use crate::work::*;
use deadpool_postgres::{Client, GenericClient};
use plumbline_domain::{
    AssignmentId, Expertise, GoldId, ItemId, JudgmentId, ProjectId, ProjectSettings, Rubric,
    RubricVersion, TaskKind, UserId,
};
use std::collections::HashMap;
use tokio_postgres::Row;
use tokio_postgres::types::ToSql;

const RECLAIM_BATCH: i64 = 256;

pub(super) async fn settings_of<C: GenericClient>(
    c: &C,
    project: ProjectId,
) -> Result<(ProjectSettings, i64)> {
    let row = q_opt(
        c,
        "SELECT settings, rubric_version FROM projects WHERE id = $1",
        &[&project.0],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
    Ok((serde_json::from_str(row.get(0))?, row.get(1)))
}

async fn rubric_of<C: GenericClient>(c: &C, project: ProjectId, version: i64) -> Result<Rubric> {
    let row = q_one(
        c,
        "SELECT rubric FROM rubric_versions WHERE project_id = $1 AND version = $2",
        &[&project.0, &version],
    )
    .await?;
    Rubric::from_json(row.get(0))
        .map_err(|e| StoreError::Database(format!("stored rubric v{version} is unreadable: {e}")))
}

pub(super) async fn verified_expertise<C: GenericClient>(
    c: &C,
    user: UserId,
) -> Result<Vec<Expertise>> {
    let rows = q(
        c,
        "SELECT domain, level FROM expertise WHERE user_id = $1 AND verified_at IS NOT NULL",
        &[&user.0],
    )
    .await?;
    Ok(rows
        .iter()
        .filter_map(|r| {
            format!("{}:{}", r.get::<_, &str>(0), r.get::<_, &str>(1))
                .parse()
                .ok()
        })
        .collect())
}

// The engine's statements are prepared once per pooled connection (deadpool's cache):
// `query` with SQL text prepares on every call, a second round trip per statement.

pub(super) async fn q<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Vec<Row>> {
    let st = c.prepare_cached(sql).await?;
    Ok(GenericClient::query(c, &st, params).await?)
}

pub(super) async fn q_one<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Row> {
    let st = c.prepare_cached(sql).await?;
    Ok(GenericClient::query_one(c, &st, params).await?)
}

pub(super) async fn q_opt<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<Option<Row>> {
    let st = c.prepare_cached(sql).await?;
    Ok(GenericClient::query_opt(c, &st, params).await?)
}

pub(super) async fn exec<C: GenericClient>(
    c: &C,
    sql: &str,
    params: &[&(dyn ToSql + Sync)],
) -> Result<u64> {
    let st = c.prepare_cached(sql).await?;
    Ok(GenericClient::execute(c, &st, params).await?)
}

async fn reclaim<C: GenericClient>(
    tx: &C,
    project: ProjectId,
    now: i64,
    limit: i64,
) -> Result<u64> {
    let rows = q(
        tx,
        "UPDATE assignments SET state = 'expired' WHERE id IN (
                SELECT id FROM assignments
                WHERE state = 'leased' AND expires_at < $1 AND project_id = $2
                LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING item_id",
        &[&now, &project.0, &limit],
    )
    .await?;
    let items: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
    give_back(tx, items).await
}

/// Takes one live lease each off the queue rows of `items` (the items of expired leases).
async fn give_back<C: GenericClient>(tx: &C, mut items: Vec<i64>) -> Result<u64> {
    // A fixed lock order, so concurrent reclaims cannot deadlock on queue rows.
    items.sort_unstable();
    for item in &items {
        exec(
            tx,
            "UPDATE item_queue SET leases = leases - 1 WHERE item_id = $1 AND leases > 0",
            &[item],
        )
        .await?;
    }
    Ok(items.len() as u64)
}

const REQUIRES: &str = "(position('\"requires\":' in i.body) = 0 OR NOT EXISTS (
    SELECT 1 FROM jsonb_array_elements_text(i.body::jsonb -> 'requires') r WHERE r <> ALL($3::text[])))";

fn candidate(r: &Row) -> Found {
    Found {
        id: r.get(0),
        ext_id: r.get(1),
        task: r.get(2),
        body: r.get(3),
    }
}

/// An active, current gold item this annotator has never been assigned, from the
/// lease's secret starting point `start` ([`LeaseContext::gold_start`]).
async fn pick_gold<C: GenericClient>(
    tx: &C,
    project: ProjectId,
    user: UserId,
    satisfied: &[String],
    start: i64,
) -> Result<Option<Found>> {
    // Each lease walks the gold items in id order from its own secret starting point
    // (wrapping round), so gold is spread across annotators and comes in an order nobody
    // can predict; the walk follows the gold index and stops at the first eligible item
    // (sorting every gold item by a per-lease key cost ~2 ms a gold lease with 500 gold
    // items).
    let one = format!(
        "SELECT i.id, i.ext_id, i.task, i.body FROM items i
         WHERE i.project_id = $1 AND i.is_gold AND i.purged_at IS NULL
           AND i.id {{}} (SELECT m.lo + $4::bigint % (m.hi - m.lo + 1)
                        FROM (SELECT min(id) AS lo, max(id) AS hi FROM items
                              WHERE project_id = $1 AND is_gold) m)
           -- OFFSET 0 keeps this a per-row check: as a join it sorts every gold item.
           AND EXISTS (SELECT 1 FROM gold g WHERE g.item_id = i.id AND g.active AND NOT g.needs_revalidation
                       OFFSET 0)
           -- And a per-row probe of (item, user) here: as an anti join the planner, from
           -- statistics of a few thousand assignments, read every assignment of the
           -- table into a Materialize on each gold lease (1,062 rows a cycle at 10 %
           -- gold in the bench), and kept that plan while the table grew.
           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id AND a.user_id = $2
                           OFFSET 0)
           AND {REQUIRES}
         ORDER BY i.id LIMIT 1"
    );
    let sql = format!(
        "({}) UNION ALL ({}) LIMIT 1",
        one.replace("{}", ">="),
        one.replace("{}", "<")
    );
    Ok(q_opt(tx, &sql, &[&project.0, &user.0, &satisfied, &start])
        .await?
        .map(|r| candidate(&r)))
}

/// Which open items a work pick considers (see [`Source`]).
struct Queue<'a> {
    overlap: u32,
    satisfied: &'a [String],
    /// The project's expertise domains (every domain when empty).
    domains: &'a [String],
    tag: Option<&'a str>,
    reserve: u32,
    needs_expert: bool,
}

/// `EXISTS` clause: the item has a live or submitted assignment of an annotator with
/// verified expert-level expertise in the domains of parameter `$7`.
const EXPERT: &str = "EXISTS (SELECT 1 FROM assignments x JOIN expertise e ON e.user_id = x.user_id
    WHERE x.item_id = q.item_id AND x.state IN ('leased', 'submitted')
      AND e.verified_at IS NOT NULL AND e.level = 'expert'
      AND (cardinality($7::text[]) = 0 OR e.domain = ANY($7::text[])))";

/// The fullest open item below the overlap this annotator may and has not judged;
/// with a tag, only items carrying it; with a reserve, not the reserved last slots of
/// an item without an expert; for an expert, only items without one.
async fn pick_work<C: GenericClient>(
    tx: &C,
    project: ProjectId,
    user: UserId,
    w: &Queue<'_>,
) -> Result<Option<Found>> {
    // The queue row is locked (the item row is only read): counters change there.
    let sql = format!(
        "SELECT i.id, i.ext_id, i.task, i.body FROM item_queue q JOIN items i ON i.id = q.item_id
         WHERE q.project_id = $1 AND q.state = 'open' AND NOT q.is_gold
           AND q.judgments + q.leases < $4 AND i.purged_at IS NULL
           -- OFFSET 0: a probe of (item, user) for each queue entry the walk passes.
           -- Left to the planner, about two runs in five cached a plan that read the
           -- whole `assignments` table per lease, depending on the statistics of the
           -- moment the plan was made.
           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = q.item_id AND a.user_id = $2
                           OFFSET 0)
           AND {REQUIRES}
           AND ($5::text IS NULL OR jsonb_exists(i.body::jsonb -> 'tags', $5::text))
           AND (q.judgments + q.leases + $6 < $4 OR {EXPERT})
           AND (NOT $8 OR NOT {EXPERT})
         ORDER BY q.judgments + q.leases DESC, q.item_id
         LIMIT 1 FOR NO KEY UPDATE OF q SKIP LOCKED"
    );
    let (overlap, reserve) = (i64::from(w.overlap), i64::from(w.reserve));
    Ok(q_opt(
        tx,
        &sql,
        &[
            &project.0,
            &user.0,
            &w.satisfied,
            &overlap,
            &w.tag,
            &reserve,
            &w.domains,
            &w.needs_expert,
        ],
    )
    .await?
    .map(|r| candidate(&r)))
}

/// The fullest escalated item (open, past the overlap, below `max_overlap`) this
/// annotator may and has not judged.
async fn pick_escalated<C: GenericClient>(
    tx: &C,
    project: ProjectId,
    user: UserId,
    w: &Queue<'_>,
    max_overlap: u32,
) -> Result<Option<Found>> {
    let sql = format!(
        "SELECT i.id, i.ext_id, i.task, i.body FROM item_queue q JOIN items i ON i.id = q.item_id
         WHERE q.project_id = $1 AND q.state = 'open' AND NOT q.is_gold
           AND q.judgments >= $4 AND q.judgments + q.leases < $5 AND i.purged_at IS NULL
           AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = q.item_id AND a.user_id = $2
                           OFFSET 0)
           AND {REQUIRES}
         ORDER BY q.judgments + q.leases DESC, q.item_id
         LIMIT 1 FOR NO KEY UPDATE OF q SKIP LOCKED"
    );
    let (overlap, max) = (i64::from(w.overlap), i64::from(max_overlap));
    Ok(q_opt(
        tx,
        &sql,
        &[&project.0, &user.0, &w.satisfied, &overlap, &max],
    )
    .await?
    .map(|r| candidate(&r)))
}

/// Members of the project with verified expert-level expertise in `domains` (every
/// domain when empty).
async fn experts_in_project<C: GenericClient>(
    c: &C,
    project: ProjectId,
    domains: &[String],
) -> Result<u32> {
    let n: i64 = q_one(
        c,
        "SELECT count(DISTINCT m.user_id) FROM members m JOIN expertise e ON e.user_id = m.user_id
         WHERE m.project_id = $1 AND e.verified_at IS NOT NULL AND e.level = 'expert'
           AND (cardinality($2::text[]) = 0 OR e.domain = ANY($2::text[]))",
        &[&project.0, &domains],
    )
    .await?
    .get(0);
    Ok(n as u32)
}

/// The annotator's qualification row: state, correct, total, and since when it counts.
async fn qualification_row<C: GenericClient>(
    c: &C,
    project: ProjectId,
    user: UserId,
) -> Result<(QualificationState, i64, i64, i64)> {
    match q_opt(
        c,
        "SELECT state, correct, total, since FROM qualifications WHERE project_id = $1 AND user_id = $2",
        &[&project.0, &user.0],
    )
    .await?
    {
        None => Ok((QualificationState::Pending, 0, 0, 0)),
        Some(r) => Ok((stored(r.get(0))?, r.get(1), r.get(2), r.get(3))),
    }
}

/// A stored state name as its type.
pub(super) fn stored<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(StoreError::Database)
}

/// Records `events` in order through the audit chain's one pending insert.
async fn write_events<C: GenericClient>(c: &C, events: &[AuditEvent], now: i64) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let rows = PgEvents::of(events, now);
    exec(c, &pg_pending_insert(1), &rows.params()).await?;
    crate::audit::mark_pending_written();
    Ok(())
}

/// `params` followed by the parameters of `events` (for a statement that ends with
/// [`pg_pending_insert`] at the next parameter number).
fn with_events<'a>(
    params: &[&'a (dyn ToSql + Sync)],
    events: &'a PgEvents,
) -> Vec<&'a (dyn ToSql + Sync)> {
    params.iter().copied().chain(events.params()).collect()
}

/// What a lease needs to know before it picks, read (and expired leases of the project
/// returned) in one statement: the project's settings and rubric version, the annotator's
/// verified expertise, their next sequence number and qualification row, the id the
/// lease will have (so its audit event is complete before it is written), the quota
/// counters, their hidden-gold answers since their latest reinstatement (along the
/// partial index of gold judgments; the same count as `leads::hidden_gold`), the
/// project's expert members (in the domains its settings require), the project's gold
/// secret, and with `$5` whether a lease is held.
const NEXT_CONTEXT: &str = "WITH expired AS (
        UPDATE assignments SET state = 'expired' WHERE id IN (
            SELECT id FROM assignments
            WHERE state = 'leased' AND expires_at < $3 AND project_id = $1
            LIMIT $4 FOR UPDATE SKIP LOCKED)
        RETURNING item_id)
    SELECT p.settings, p.rubric_version,
        ARRAY(SELECT e.domain || ':' || e.level FROM expertise e
              WHERE e.user_id = $2 AND e.verified_at IS NOT NULL),
        (SELECT coalesce(max(a.seq), 0) + 1 FROM assignments a
         WHERE a.project_id = $1 AND a.user_id = $2),
        coalesce(ql.state, 'pending'), coalesce(ql.since, 0),
        ARRAY(SELECT item_id FROM expired),
        CASE WHEN $5 THEN EXISTS (SELECT 1 FROM assignments h
            WHERE h.state = 'leased' AND h.expires_at >= $3 AND h.project_id = $1 AND h.user_id = $2) END,
        nextval(pg_get_serial_sequence('assignments', 'id')),
        ARRAY(SELECT s.tag FROM serve_counts s WHERE s.project_id = $1),
        ARRAY(SELECT s.served FROM serve_counts s WHERE s.project_id = $1),
        (SELECT ARRAY[count(*) FILTER (WHERE g.gold_correct), count(*)]
         FROM judgments g JOIN assignments ga ON ga.id = g.assignment_id
         WHERE g.project_id = $1 AND g.user_id = $2 AND g.gold_correct IS NOT NULL AND ga.purpose = 'gold'
           AND g.id > coalesce((SELECT r.after_judgment FROM reinstatements r
                                WHERE r.project_id = $1 AND r.user_id = $2 ORDER BY r.id DESC LIMIT 1), 0)),
        (SELECT count(DISTINCT m.user_id) FROM members m JOIN expertise e ON e.user_id = m.user_id
         WHERE m.project_id = $1 AND e.verified_at IS NOT NULL AND e.level = 'expert'
           AND (coalesce(jsonb_array_length(p.settings::jsonb -> 'required_expertise'), 0) = 0
                OR e.domain IN (SELECT split_part(r, ':', 1)
                                FROM jsonb_array_elements_text(p.settings::jsonb -> 'required_expertise') r))),
        p.gold_secret
    FROM projects p LEFT JOIN qualifications ql ON ql.project_id = p.id AND ql.user_id = $2
    WHERE p.id = $1";

/// A new lease (`false`), or with `resume` the annotator's held lease if they have one
/// (`true`). One transaction.
async fn next_in(
    c: &Client,
    user: UserId,
    project: ProjectId,
    resume: bool,
) -> Result<(Next, bool)> {
    let now = now_ms();
    let (tx, row) = Tx::begin(
        c,
        NEXT_CONTEXT,
        &[&project.0, &user.0, &now, &RECLAIM_BATCH, &resume],
    )
    .await?;
    let row = row.ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
    // The queue rows of the leases that just expired, before anything else is decided.
    give_back(c, row.get(6)).await?;
    if row.get::<_, Option<bool>>(7) == Some(true)
        && let Some(held) = held_in(c, project, user, now).await?
    {
        tx.commit().await?;
        return Ok((Next::Task(Box::new(held)), true));
    }
    let next = lease_in(c, tx, user, project, now, &row).await?;
    Ok((next, false))
}

/// The lease decision of [`next_in`], given its context row.
async fn lease_in(
    tx: &Client,
    finish: Tx<'_>,
    user: UserId,
    project: ProjectId,
    now: i64,
    row: &Row,
) -> Result<Next> {
    let settings: ProjectSettings = serde_json::from_str(row.get(0))?;
    let rubric_version: i64 = row.get(1);
    let verified: Vec<Expertise> = row
        .get::<_, Vec<String>>(2)
        .iter()
        .filter_map(|e| e.parse().ok())
        .collect();
    let seq: i64 = row.get(3);
    let (qualification, since): (QualificationState, i64) = (stored(row.get(4))?, row.get(5));
    let assignment = AssignmentId(row.get(8));
    let qualification_served = if lease::needs_qualification_count(&settings, qualification) {
        q_one(
            tx,
            "SELECT count(*) FROM assignments WHERE project_id = $1 AND user_id = $2
             AND purpose = 'qualification' AND state IN ('leased', 'submitted') AND leased_at >= $3",
            &[&project.0, &user.0, &since],
        )
        .await?
        .get(0)
    } else {
        0
    };
    let served: HashMap<String, i64> = row
        .get::<_, Vec<String>>(9)
        .into_iter()
        .zip(row.get::<_, Vec<i64>>(10))
        .collect();
    let domains = engine::project_domains(&settings);
    // Hidden gold since the latest reinstatement: [right, scored].
    let hidden: Vec<i64> = row.get(11);
    if hidden.len() != 2 {
        return Err(StoreError::Database(
            "the hidden-gold count is not a pair".into(),
        ));
    }
    let experts = row.get::<_, i64>(12) as u32;
    let secret = GoldSecret::from_stored(row.get(13))?;
    let ctx = LeaseContext::new(project, user, &settings, &verified, seq, &secret)
        .qualification(qualification, qualification_served)
        .served(&served)
        .experts(experts)
        .gold(hidden[0], hidden[1]);
    let plan = lease::plan(&ctx);
    let searched = match &plan {
        Err(no) => Err(no.clone()),
        Ok(plan) => {
            let (settings, domains) = (&settings, &domains);
            let start = ctx.gold_start();
            lease::search(plan, |source| async move {
                let mut q = Queue {
                    overlap: settings.overlap,
                    satisfied: &plan.satisfied,
                    domains,
                    tag: None,
                    reserve: 0,
                    needs_expert: false,
                };
                match source {
                    Source::Gold => pick_gold(tx, project, user, &plan.satisfied, start).await,
                    Source::Work { tag, reserve } => {
                        q.tag = tag.as_deref();
                        q.reserve = reserve;
                        pick_work(tx, project, user, &q).await
                    }
                    Source::NeedsExpert => {
                        q.needs_expert = true;
                        pick_work(tx, project, user, &q).await
                    }
                    Source::Escalated { max_overlap } => {
                        pick_escalated(tx, project, user, &q, max_overlap).await
                    }
                }
            })
            .await?
        }
    };
    let (c, purpose) = match searched {
        Ok(found) => found,
        Err(no) => {
            finish.commit().await?;
            return Ok(Next::None(no));
        }
    };
    let new = lease::lease(&settings, purpose, &c.body, now)?;
    let display_json = serde_json::to_string(&new.display_order)?;
    let events = PgEvents::of(&[lease::lease_event(project, user, assignment)], now);
    // The lease, its queue row's counter and its audit event in one statement.
    let insert = format!(
        "WITH a AS (
            INSERT INTO assignments (id, project_id, item_id, user_id, purpose, seq, display_order, state,
                                     leased_at, expires_at, rubric_version)
            OVERRIDING SYSTEM VALUE
            VALUES ($1, $2, $3, $4, $5, $6, $7, 'leased', $8, $9, $10)),
         q AS (UPDATE item_queue SET leases = leases + 1 WHERE item_id = $3),
         e AS ({})
         SELECT $1::bigint",
        pg_pending_insert(11)
    );
    let purpose_name = purpose.as_str();
    let params = with_events(
        &[
            &assignment.0,
            &project.0,
            &c.id,
            &user.0,
            &purpose_name,
            &seq,
            &display_json,
            &new.leased_at,
            &new.expires_at,
            &rubric_version,
        ],
        &events,
    );
    if new.quota_tags.is_empty() {
        // The usual lease: its one write and the commit in one round trip.
        finish.commit_with(&insert, &params).await?;
    } else {
        q_one(tx, &insert, &params).await?;
        exec(
            tx,
            "INSERT INTO serve_counts (project_id, tag, served) SELECT $1, unnest($2::text[]), 1
             ON CONFLICT (project_id, tag) DO UPDATE SET served = serve_counts.served + 1",
            &[&project.0, &new.quota_tags],
        )
        .await?;
        finish.commit().await?;
    }
    crate::audit::mark_pending_written();
    let task = lease::task(c, new, assignment, rubric_version, seq)?;
    Ok(Next::Task(Box::new(task)))
}

/// The assignment in the first six columns of `r` (`item_id, user_id, purpose, state,
/// leased_at, expires_at`), as the engine sees it.
fn held_of(r: &Row, id: AssignmentId) -> Result<Held> {
    Ok(Held {
        id,
        owner: UserId(r.get(1)),
        purpose: stored(r.get(2))?,
        state: stored(r.get(3))?,
        leased_at: r.get(4),
        expires_at: r.get(5),
    })
}

/// Settles the item as [`submit::settle`] decides, if it does, with its event.
#[allow(clippy::too_many_arguments)]
async fn settle<C: GenericClient>(
    tx: &C,
    project: ProjectId,
    (ext_id, body): (&str, &str),
    item: i64,
    kind: TaskKind,
    settings: &ProjectSettings,
    now: i64,
) -> Result<Option<ItemState>> {
    let domains = engine::project_domains(settings);
    let by_item: [&(dyn ToSql + Sync); 1] = [&item];
    let (r, experts) = tokio::try_join!(
        q_one(
            tx,
            "SELECT EXISTS (SELECT 1 FROM adjudications d WHERE d.item_id = $1),
                ARRAY(SELECT j.payload FROM judgments j WHERE j.item_id = $1 AND j.source = 'annotator' ORDER BY j.id),
                ARRAY(SELECT (SELECT count(*) FILTER (WHERE g.gold_correct) FROM judgments g
                              WHERE g.project_id = j.project_id AND g.user_id = j.user_id AND g.gold_correct IS NOT NULL)
                      FROM judgments j WHERE j.item_id = $1 AND j.source = 'annotator' ORDER BY j.id),
                ARRAY(SELECT (SELECT count(*) FROM judgments g
                              WHERE g.project_id = j.project_id AND g.user_id = j.user_id AND g.gold_correct IS NOT NULL)
                      FROM judgments j WHERE j.item_id = $1 AND j.source = 'annotator' ORDER BY j.id),
                ARRAY(SELECT (SELECT string_agg(e.domain || ':' || e.level, ',') FROM expertise e
                              WHERE e.user_id = j.user_id AND e.verified_at IS NOT NULL)
                      FROM judgments j WHERE j.item_id = $1 AND j.source = 'annotator' ORDER BY j.id)",
            &by_item,
        ),
        experts_in_project(tx, project, &domains),
    )?;
    let decided: bool = r.get(0);
    let payloads: Vec<String> = r.get(1);
    let (correct, scored): (Vec<i64>, Vec<i64>) = (r.get(2), r.get(3));
    let expertise: Vec<Option<String>> = r.get(4);
    let votes: Vec<Vote<String>> = payloads
        .into_iter()
        .zip(correct.into_iter().zip(scored))
        .zip(expertise)
        .map(|((payload, (gold_correct, gold_scored)), e)| {
            let verified: Vec<Expertise> = e
                .unwrap_or_default()
                .split(',')
                .filter_map(|s| s.parse().ok())
                .collect();
            Vote {
                payload,
                level: engine::project_level(settings, &verified),
                gold_correct,
                gold_scored,
            }
        })
        .collect();
    let ctx = SettleContext {
        project,
        item: ext_id,
        kind,
        item_body: body,
        votes: &votes,
        decided,
        settings,
        experts_in_project: experts,
    };
    let Some((state, event)) = submit::settle(&ctx)? else {
        return Ok(None);
    };
    let events = PgEvents::of(&[event], now);
    // The trigger `items_queue_mirror` moves the queue row with the item.
    let sql = format!(
        "WITH e AS ({}) UPDATE items SET state = $2,
            resolved_at = CASE WHEN $2 = 'resolved' THEN $3::bigint END, updated_at = $3
         WHERE id = $1",
        pg_pending_insert(4)
    );
    exec(
        tx,
        &sql,
        &with_events(&[&item, &state.as_str(), &now], &events),
    )
    .await?;
    crate::audit::mark_pending_written();
    Ok(Some(state))
}

/// Recounts the annotator's qualification answers and stores what
/// [`submit::qualification_outcome`] decides, with its event.
async fn update_qualification<C: GenericClient>(
    tx: &C,
    project: ProjectId,
    user: UserId,
    settings: &ProjectSettings,
    now: i64,
) -> Result<()> {
    let (state, _, _, since) = qualification_row(tx, project, user).await?;
    let r = q_one(
        tx,
        "SELECT count(*), count(*) FILTER (WHERE j.gold_correct) FROM assignments a
         JOIN judgments j ON j.assignment_id = a.id
         WHERE a.project_id = $1 AND a.user_id = $2 AND a.purpose = 'qualification' AND a.leased_at >= $3",
        &[&project.0, &user.0, &since],
    )
    .await?;
    let Some((q, event)) =
        submit::qualification_outcome(project, user, state, r.get(1), r.get(0), settings)
    else {
        return Ok(());
    };
    exec(tx,
        "INSERT INTO qualifications (project_id, user_id, state, correct, total, updated_at, since)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (project_id, user_id) DO UPDATE SET state = $3, correct = $4, total = $5, updated_at = $6",
        &[&project.0, &user.0, &q.state.as_str(), &q.correct, &q.total, &now, &since],
    )
    .await?;
    write_events(tx, event.as_slice(), now).await
}

/// What a submission needs, in one statement: the assignment (locked), the project's
/// settings, the item, the rubric version of the lease, the judgment already given
/// under it if any (with its gold score, which a resubmission keeps), else the id the
/// new judgment will have (so its audit event is complete before it is written).
const SUBMIT_CONTEXT: &str =
    "SELECT a.item_id, a.user_id, a.purpose, a.state, a.leased_at, a.expires_at,
        a.display_order, a.rubric_version, p.settings, i.body, i.task, i.is_gold, r.rubric,
        j.id, j.payload, j.rationale, j.time_ms, i.ext_id,
        CASE WHEN j.id IS NULL THEN nextval(pg_get_serial_sequence('judgments', 'id')) END,
        j.gold_correct
    FROM assignments a
    JOIN projects p ON p.id = a.project_id
    JOIN items i ON i.id = a.item_id
    JOIN rubric_versions r ON r.project_id = a.project_id AND r.version = a.rubric_version
    LEFT JOIN judgments j ON j.assignment_id = a.id
    WHERE a.id = $1 AND a.project_id = $2
    FOR UPDATE OF a";

/// One transaction; its BEGIN travels with the first read.
async fn submit_in(
    tx: &Client,
    user: UserId,
    project: ProjectId,
    id: AssignmentId,
    submission: Submission,
) -> WorkResult<SubmitOutcome> {
    let now = now_ms();
    let (finish, r) = Tx::begin(tx, SUBMIT_CONTEXT, &[&id.0, &project.0]).await?;
    let r = r.ok_or_else(|| StoreError::NotFound(format!("assignment {id} in this project")))?;
    let held = held_of(&r, id)?;
    submit::check_held(&held, user, now)?;
    let item_id: i64 = r.get(0);
    let (display_order, rubric_version): (&str, i64) = (r.get(6), r.get(7));
    let settings: ProjectSettings = serde_json::from_str(r.get(8)).map_err(StoreError::from)?;
    let (body, is_gold, ext_id): (&str, bool, &str) = (r.get(9), r.get(11), r.get(17));
    let kind = submit::task_kind(r.get(10))?;
    let rubric = Rubric::from_json(r.get(12)).map_err(|e| {
        StoreError::Database(format!(
            "stored rubric v{rubric_version} is unreadable: {e}"
        ))
    })?;
    let gold = if submit::scores_gold(held.purpose, is_gold) {
        q_opt(
            tx,
            "SELECT payload FROM gold WHERE item_id = $1 AND active",
            &[&item_id],
        )
        .await?
        .map(|g| g.get::<_, String>(0))
    } else {
        None
    };
    let existing = r.get::<_, Option<i64>>(13).map(|id| Given {
        id: JudgmentId(id),
        gold_correct: r.get(19),
    });
    let ctx = SubmitContext {
        project,
        annotator: user,
        held: &held,
        settings: &settings,
        rubric: &rubric,
        item_body: body,
        kind,
        item_is_gold: is_gold,
        active_gold: gold.as_deref(),
        existing,
        now,
    };
    let j = submit::judge(&ctx, &submission)?;
    let judgment = match existing {
        Some(given) => given.id,
        None => JudgmentId(r.get(18)),
    };
    let events = PgEvents::of(&[submit::judgment_event(project, user, judgment, &j)], now);
    // The item's judgment count after this submission, when it is a new one (its queue
    // row is locked by then, so concurrent submissions on the item take turns).
    let counted: Option<i64> = if j.resubmission {
        let sql = format!(
            "WITH h AS (
                INSERT INTO judgment_history (judgment_id, payload, rationale, time_ms, replaced_at)
                VALUES ($1, $8, $9, $10, $7)),
             e AS ({})
             UPDATE judgments SET payload = $2, rationale = $3, priority_inversion = $4, time_ms = $5,
                gold_correct = $6, updated_at = $7 WHERE id = $1",
            pg_pending_insert(11)
        );
        let (old, old_rationale, old_time): (String, Option<String>, Option<i64>) =
            (r.get(14), r.get(15), r.get(16));
        let params = with_events(
            &[
                &judgment.0,
                &j.payload_json,
                &j.rationale,
                &j.priority_inversion,
                &j.time_ms,
                &j.gold_correct,
                &now,
                &old,
                &old_rationale,
                &old_time,
            ],
            &events,
        );
        exec(tx, &sql, &params).await?;
        None
    } else {
        let sql = format!(
            "WITH j AS (
                INSERT INTO judgments (id, project_id, item_id, assignment_id, user_id, source, rubric_version, task,
                   payload, rationale, display_order, priority_inversion, time_ms, gold_correct, created_at, updated_at)
                OVERRIDING SYSTEM VALUE
                VALUES ($1, $2, $3, $4, $5, 'annotator', $6, $7, $8, $9, $10, $11, $12, $13, $14, $14)),
             a AS (UPDATE assignments SET state = 'submitted' WHERE id = $4),
             e AS ({})
             UPDATE item_queue SET leases = leases - 1, judgments = judgments + 1
             WHERE item_id = $3 RETURNING judgments",
            pg_pending_insert(15)
        );
        let kind_name = kind.as_str();
        let params = with_events(
            &[
                &judgment.0,
                &project.0,
                &item_id,
                &id.0,
                &user.0,
                &rubric_version,
                &kind_name,
                &j.payload_json,
                &j.rationale,
                &display_order,
                &j.priority_inversion,
                &j.time_ms,
                &j.gold_correct,
                &now,
            ],
            &events,
        );
        let row = q_one(tx, &sql, &params).await?;
        Some(row.get(0))
    };
    crate::audit::mark_pending_written();
    if j.recount_qualification {
        update_qualification(tx, project, user, &settings, now).await?;
    }
    match counted {
        Some(n) if !submit::reaches_overlap(n, &settings) => {}
        _ if j.may_settle => {
            settle(tx, project, (ext_id, body), item_id, kind, &settings, now).await?;
        }
        _ => {}
    }
    finish.commit().await?;
    Ok(SubmitOutcome {
        judgment,
        resubmitted: j.resubmission,
        priority_inversion: j.priority_inversion,
        time_ms: j.time_ms,
    })
}

pub(super) const GOLD_COLUMNS: &str =
    "g.id, i.ext_id, g.version, g.rubric_version, g.payload, g.rationale, g.origin,
    g.created_by, g.created_at, g.active, g.needs_revalidation";

pub(super) fn to_gold(r: &Row) -> Result<GoldRecord> {
    Ok(GoldRecord {
        id: GoldId(r.get(0)),
        item: r.get(1),
        version: r.get(2),
        rubric_version: RubricVersion(r.get::<_, i64>(3) as i32),
        payload: serde_json::from_str(r.get(4))?,
        rationale: r.get(5),
        origin: r.get(6),
        created_by: r.get::<_, Option<i64>>(7).map(UserId),
        created_at: r.get(8),
        active: r.get(9),
        needs_revalidation: r.get(10),
    })
}

/// Stores a new gold version (the caller validated the payload) with its event.
async fn insert_gold<C: GenericClient>(
    tx: &C,
    project: ProjectId,
    g: &GoldVersion<'_>,
    now: i64,
) -> Result<GoldRecord> {
    let item = g.item;
    // Lock the item so two new gold versions get distinct numbers.
    exec(
        tx,
        "UPDATE items SET is_gold = TRUE, updated_at = $2 WHERE id = $1",
        &[&item, &now],
    )
    .await?;
    let version: i64 = q_one(
        tx,
        "SELECT coalesce(max(version), 0) + 1 FROM gold WHERE item_id = $1",
        &[&item],
    )
    .await?
    .get(0);
    exec(
        tx,
        "UPDATE gold SET active = FALSE WHERE item_id = $1 AND active",
        &[&item],
    )
    .await?;
    let actor_id = g.actor.map(|u| u.0);
    let id: i64 = q_one(
tx,
            "INSERT INTO gold (project_id, item_id, version, rubric_version, payload, rationale, origin, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
            &[&project.0, &item, &version, &g.rubric_version, &g.payload_json, &g.rationale, &g.origin.as_str(), &actor_id, &now],
        )
        .await?
        .get(0);
    let row = q_one(
        tx,
        &format!(
            "SELECT {GOLD_COLUMNS} FROM gold g JOIN items i ON i.id = g.item_id WHERE g.id = $1"
        ),
        &[&id],
    )
    .await?;
    write_events(
        tx,
        &[review::gold_event(
            g.actor,
            project,
            GoldId(id),
            g.payload_json,
        )],
        now,
    )
    .await?;
    to_gold(&row)
}

fn to_candidate(r: &Row) -> Result<crate::GoldCandidate> {
    Ok(crate::GoldCandidate {
        id: r.get(0),
        item: r.get(1),
        source: r.get(2),
        proposed_by: r.get::<_, Option<i64>>(3).map(UserId),
        payload: serde_json::from_str(r.get(4))?,
        note: r.get(5),
        state: r.get(6),
        decided_by: r.get::<_, Option<i64>>(7).map(UserId),
        decided_at: r.get(8),
        gold: r.get::<_, Option<i64>>(9).map(GoldId),
        created_at: r.get(10),
    })
}

/// Candidate `id` of the project, its row locked for the decision.
async fn candidate_by_id<C: GenericClient>(
    c: &C,
    project: ProjectId,
    id: i64,
) -> Result<crate::GoldCandidate> {
    let r = q_opt(
        c,
        &format!(
            "SELECT {} FROM gold_candidates c JOIN items i ON i.id = c.item_id
             WHERE c.project_id = $1 AND c.id = $2 FOR UPDATE OF c",
            crate::gold_candidates::COLUMNS
        ),
        &[&project.0, &id],
    )
    .await?
    .ok_or_else(|| crate::gold_candidates::not_found(id, project))?;
    to_candidate(&r)
}

/// Marks candidate `id` decided.
async fn decide_candidate<C: GenericClient>(
    c: &C,
    id: i64,
    state: &str,
    actor: Option<UserId>,
    gold: Option<GoldId>,
    now: i64,
) -> Result<()> {
    exec(
        c,
        "UPDATE gold_candidates SET state = $2, decided_by = $3, decided_at = $4, gold_id = $5 WHERE id = $1",
        &[&id, &state, &actor.map(|u| u.0), &now, &gold.map(|g| g.0)],
    )
    .await?;
    Ok(())
}

pub(super) async fn item_by_ext<C: GenericClient>(
    c: &C,
    project: ProjectId,
    ext: &str,
) -> Result<(i64, String, String, String)> {
    let r = q_opt(
        c,
        "SELECT id, body, task, state FROM items WHERE project_id = $1 AND ext_id = $2",
        &[&project.0, &ext],
    )
    .await?
    .ok_or_else(|| StoreError::NotFound(format!("item `{ext}`")))?;
    Ok((r.get(0), r.get(1), r.get(2), r.get(3)))
}

/// The annotator's oldest live lease in the project. `state = 'leased'` matches the
/// partial index of live leases: a few rows per active annotator, never a user's history.
async fn held_in<C: GenericClient>(
    c: &C,
    project: ProjectId,
    annotator: UserId,
    now: i64,
) -> Result<Option<Task>> {
    let Some(r) = q_opt(
        c,
        "SELECT a.id, a.item_id, i.ext_id, i.task, i.body, a.display_order, a.rubric_version,
                a.seq, a.leased_at, a.expires_at, a.purpose
         FROM assignments a JOIN items i ON i.id = a.item_id
         WHERE a.state = 'leased' AND a.expires_at >= $1 AND a.project_id = $2 AND a.user_id = $3
         ORDER BY a.id LIMIT 1",
        &[&now, &project.0, &annotator.0],
    )
    .await?
    else {
        return Ok(None);
    };
    Ok(Some(Task {
        assignment: AssignmentId(r.get(0)),
        item_id: ItemId(r.get(1)),
        item: r.get(2),
        task: submit::task_kind(r.get(3))?,
        body: r.get(4),
        display_order: serde_json::from_str(r.get::<_, &str>(5))?,
        rubric_version: RubricVersion(r.get::<_, i64>(6) as i32),
        seq: r.get(7),
        leased_at: r.get(8),
        expires_at: r.get(9),
        purpose: stored(r.get(10))?,
    }))
}

impl WorkStore for PgStore {
    async fn next_task(&self, annotator: UserId, project: ProjectId) -> Result<Next> {
        let client = self.client().await?;
        Ok(next_in(&client, annotator, project, false).await?.0)
    }

    async fn submit(
        &self,
        annotator: UserId,
        project: ProjectId,
        assignment: AssignmentId,
        submission: Submission,
    ) -> WorkResult<SubmitOutcome> {
        let client = self.client().await?;
        submit_in(&client, annotator, project, assignment, submission).await
    }

    async fn held_task(&self, annotator: UserId, project: ProjectId) -> Result<Option<Task>> {
        let client = self.client().await?;
        held_in(&client, project, annotator, now_ms()).await
    }

    async fn held_or_next(&self, annotator: UserId, project: ProjectId) -> Result<(Next, bool)> {
        let client = self.client().await?;
        next_in(&client, annotator, project, true).await
    }

    async fn skip(
        &self,
        annotator: UserId,
        project: ProjectId,
        assignment: AssignmentId,
        reason: String,
    ) -> WorkResult<()> {
        review::check_skip_reason(&reason)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let now = now_ms();
        let r = q_opt(
            &tx,
            "SELECT item_id, user_id, purpose, state, leased_at, expires_at
             FROM assignments WHERE id = $1 AND project_id = $2 FOR UPDATE",
            &[&assignment.0, &project.0],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("assignment {assignment} in this project")))?;
        review::check_skip(&held_of(&r, assignment)?, annotator, now)?;
        let item: i64 = r.get(0);
        exec(
            &tx,
            "WITH q AS (UPDATE item_queue SET leases = leases - 1 WHERE item_id = $3 AND leases > 0)
             UPDATE assignments SET state = 'skipped', skip_reason = $2 WHERE id = $1",
            &[&assignment.0, &reason, &item],
        )
        .await?;
        let event = review::skip_event(project, annotator, assignment, &reason);
        write_events(&tx, &[event], now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(())
    }

    async fn reclaim_expired(&self, project: ProjectId) -> Result<u64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = now_ms();
        let n = reclaim(&tx, project, now, i64::MAX).await?;
        write_events(&tx, review::reclaim_event(project, n).as_slice(), now).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn qualification(&self, project: ProjectId, annotator: UserId) -> Result<Qualification> {
        let client = self.client().await?;
        let (state, correct, total, _) = qualification_row(&client, project, annotator).await?;
        Ok(Qualification {
            state,
            correct,
            total,
        })
    }

    async fn reset_qualification(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = now_ms();
        let actor_id = actor.map(|u| u.0);
        exec(&tx,
            "INSERT INTO qualifications (project_id, user_id, state, correct, total, updated_at, reset_by, since)
             VALUES ($1, $2, 'pending', 0, 0, $3, $4, $3)
             ON CONFLICT (project_id, user_id) DO UPDATE
             SET state = 'pending', correct = 0, total = 0, updated_at = $3, reset_by = $4, since = $3",
            &[&project.0, &annotator.0, &now, &actor_id],
        )
        .await?;
        write_events(&tx, &[review::reset_event(actor, project, annotator)], now).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_gold(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        gold: NewGold,
    ) -> WorkResult<GoldRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let (_, version) = settings_of(&tx, project).await?;
        let (item, body, task, _) = item_by_ext(&tx, project, &gold.item).await?;
        let rubric = rubric_of(&tx, project, version).await?;
        let r = review::reference(&body, submit::task_kind(&task)?, &rubric, &gold.payload)?;
        let now = now_ms();
        let g = GoldVersion::expert(actor, item, version, &r);
        let g = insert_gold(&tx, project, &g, now).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(g)
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
        let client = self.client().await?;
        let rows = q(
            &client,
            &format!(
                "SELECT {} FROM gold_candidates c JOIN items i ON i.id = c.item_id
                 WHERE c.project_id = $1 AND ($2::TEXT IS NULL OR c.state = $2) ORDER BY c.id",
                crate::gold_candidates::COLUMNS
            ),
            &[&project.0, &state],
        )
        .await?;
        rows.iter().map(to_candidate).collect()
    }

    async fn accept_gold_candidate(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        id: i64,
        payload: Option<String>,
    ) -> WorkResult<GoldRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let c = candidate_by_id(&tx, project, id).await?;
        crate::gold_candidates::check_pending(id, &c.state)?;
        let (_, version) = settings_of(&tx, project).await?;
        let (item, body, task, _) = item_by_ext(&tx, project, &c.item).await?;
        let rubric = rubric_of(&tx, project, version).await?;
        let given = payload.unwrap_or_else(|| c.payload.to_string());
        let r = review::reference(&body, submit::task_kind(&task)?, &rubric, &given)?;
        let mut g = GoldVersion::expert(actor, item, version, &r);
        if c.proposed_by.is_none() {
            g.origin = review::GoldOrigin::Import;
        }
        let now = now_ms();
        let gold = insert_gold(&tx, project, &g, now).await?;
        decide_candidate(&tx, id, "accepted", actor, Some(gold.id), now).await?;
        write_events(
            &tx,
            &[crate::gold_candidates::event(
                crate::audit::AuditAction::GoldCandidateAccept,
                actor,
                project,
                id,
                &c.item,
            )],
            now,
        )
        .await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(gold)
    }

    async fn propose_gold_candidate(
        &self,
        reviewer: UserId,
        project: ProjectId,
        item: String,
        payload: String,
    ) -> WorkResult<crate::GoldCandidate> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let (_, version) = settings_of(&tx, project).await?;
        let (item_id, body, task, _) = item_by_ext(&tx, project, &item).await?;
        let rubric = rubric_of(&tx, project, version).await?;
        let r = review::reference(&body, submit::task_kind(&task)?, &rubric, &payload)?;
        let now = now_ms();
        let id: i64 = tx
            .query_one(
                crate::gold_candidates::PROPOSE_POSTGRES,
                &[
                    &project.0,
                    &item_id,
                    &crate::gold_candidates::reviewer_source(reviewer),
                    &reviewer.0,
                    &r.payload_json,
                    &r.rationale,
                    &now,
                ],
            )
            .await
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => crate::gold_candidates::proposed_twice(&item),
                other => other,
            })?
            .get(0);
        write_events(
            &tx,
            &[crate::gold_candidates::event(
                crate::audit::AuditAction::GoldCandidatePropose,
                Some(reviewer),
                project,
                id,
                &item,
            )],
            now,
        )
        .await?;
        let c = candidate_by_id(&tx, project, id).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(c)
    }

    async fn reject_gold_candidate(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        id: i64,
    ) -> Result<crate::GoldCandidate> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let c = candidate_by_id(&tx, project, id).await?;
        crate::gold_candidates::check_pending(id, &c.state)?;
        let now = now_ms();
        decide_candidate(&tx, id, "rejected", actor, None, now).await?;
        write_events(
            &tx,
            &[crate::gold_candidates::event(
                crate::audit::AuditAction::GoldCandidateReject,
                actor,
                project,
                id,
                &c.item,
            )],
            now,
        )
        .await?;
        let decided = candidate_by_id(&tx, project, id).await?;
        tx.commit().await?;
        Ok(decided)
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
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        let now = now_ms();
        let (_, version) = settings_of(&tx, project).await?;
        let (item, body, task, _) = item_by_ext(&tx, project, &decision.item).await?;
        // Lock the item, then re-read its state, so two reviewers cannot both decide.
        let state: String = q_one(
            &tx,
            "SELECT state FROM items WHERE id = $1 FOR UPDATE",
            &[&item],
        )
        .await?
        .get(0);
        review::check_adjudicable(&decision.item, stored(&state)?)?;
        let rubric = rubric_of(&tx, project, version).await?;
        let json = review::reference(&body, submit::task_kind(&task)?, &rubric, &decision.payload)?
            .payload_json;
        write_events(
            &tx,
            &[review::decision_event(
                reviewer,
                project,
                &decision.item,
                &json,
            )],
            now,
        )
        .await?;
        let id: i64 = q_one(
&tx,
                "INSERT INTO adjudications (project_id, item_id, reviewer_id, rubric_version, payload, rationale, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[&project.0, &item, &reviewer.0, &version, &json, &decision.rationale, &now],
            )
            .await?
            .get(0);
        exec(
            &tx,
            "UPDATE items SET state = 'resolved', resolved_at = $2, updated_at = $2 WHERE id = $1",
            &[&item, &now],
        )
        .await?;
        let gold = if decision.promote_to_gold {
            let g = GoldVersion::promoted(reviewer, item, version, &json, &decision);
            let g = insert_gold(&tx, project, &g, now).await?;
            exec(
                &tx,
                "UPDATE adjudications SET gold_id = $2 WHERE id = $1",
                &[&id, &g.id.0],
            )
            .await?;
            Some(g.id)
        } else {
            None
        };
        tx.commit().await.map_err(StoreError::from)?;
        Ok(DecisionRecord {
            id,
            item: decision.item,
            gold,
        })
    }

    async fn progress(&self, project: ProjectId) -> Result<Progress> {
        self.read_progress(project).await
    }

    async fn waiting_for(&self, annotator: UserId, project: ProjectId) -> Result<i64> {
        let client = self.client().await?;
        let (settings, _) = settings_of(&client, project).await?;
        let verified = verified_expertise(&client, annotator).await?;
        let satisfied = crate::engine::satisfied_requirements(&verified);
        let overlap = i64::from(settings.overlap);
        let row = q_one(
            &client,
            &format!(
                "SELECT count(*) FROM item_queue q JOIN items i ON i.id = q.item_id
                 WHERE q.project_id = $1 AND q.state = 'open' AND NOT q.is_gold
                   AND q.judgments + q.leases < $4 AND i.purged_at IS NULL
                   AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = q.item_id AND a.user_id = $2)
                   AND {REQUIRES}"
            ),
            &[&project.0, &annotator.0, &satisfied, &overlap],
        )
        .await?;
        Ok(row.get(0))
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
        self.read_training_feedback(project, annotator, item).await
    }

    async fn judgments_of(&self, project: ProjectId, item: &str) -> Result<Vec<StoredJudgment>> {
        self.read_judgments_of(project, item).await
    }
}
