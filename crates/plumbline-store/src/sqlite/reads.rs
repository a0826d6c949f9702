//! The engine's reads on SQLite: gold listings, the adjudication queue, progress,
//! item pages and an item's judgments. They decide nothing; each is one read.

use super::SqliteStore;
use super::work::*;
use crate::Result;
use crate::engine::submit;
use crate::error::StoreError;
use crate::model::now_ms;
use crate::work::*;
use plumbline_domain::{AssignmentId, ItemId, JudgmentId, ProjectId, RubricVersion, UserId};
use rusqlite::{Connection, OptionalExtension, params};

impl SqliteStore {
    pub(super) async fn read_gold(
        &self,
        project: ProjectId,
        item: Option<String>,
    ) -> Result<Vec<GoldRecord>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {GOLD_COLUMNS} FROM gold g JOIN items i ON i.id = g.item_id
                 WHERE g.project_id = ?1 AND (?2 IS NULL OR i.ext_id = ?2)
                 ORDER BY g.item_id, g.version DESC"
            ))?;
            let rows = stmt.query_map(params![project.0, item], gold_record)?;
            rows.map(|r| to_gold(r?)).collect()
        })
        .await
    }

    pub(super) async fn read_adjudication_queue(
        &self,
        project: ProjectId,
        limit: u32,
    ) -> Result<Vec<AdjudicationCase>> {
        self.read(move |conn| {
            let items: Vec<(i64, String, String, String)> = conn
                .prepare_cached(
                    "SELECT id, ext_id, task, body FROM items WHERE project_id = ?1 AND state = 'adjudication'
                     ORDER BY updated_at, id LIMIT ?2",
                )?
                .query_map(params![project.0, limit], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for (id, ext, task, body) in items {
                out.push(AdjudicationCase {
                    item_id: ItemId(id),
                    item: ext,
                    task: task.parse().map_err(StoreError::Database)?,
                    body,
                    judgments: judgment_views(conn, project, id)?,
                });
            }
            Ok(out)
        })
        .await
    }

    pub(super) async fn read_progress(&self, project: ProjectId) -> Result<Progress> {
        self.read(move |conn| {
            settings_of(conn, project)?;
            let mut items = ItemCounts::default();
            let mut gold_items = 0;
            {
                let mut stmt = conn.prepare_cached(
                    "SELECT is_gold, state, count(*) FROM items WHERE project_id = ?1 GROUP BY is_gold, state",
                )?;
                let rows = stmt.query_map([project.0], |r| {
                    Ok((r.get::<_, bool>(0)?, r.get::<_, String>(1)?, r.get::<_, i64>(2)?))
                })?;
                for row in rows {
                    let (gold, state, n) = row?;
                    if gold {
                        gold_items += n;
                    } else {
                        items.add(stored(&state)?, n);
                    }
                }
            }
            let (judgments, inversions): (i64, i64) = conn.query_row(
                "SELECT count(*), coalesce(sum(priority_inversion), 0) FROM judgments
                 WHERE project_id = ?1 AND source = 'annotator'",
                [project.0],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            let leases: i64 = conn.query_row(
                "SELECT count(*) FROM assignments WHERE project_id = ?1 AND state = 'leased' AND expires_at >= ?2",
                params![project.0, now_ms()],
                |r| r.get(0),
            )?;
            let adjudications: i64 = conn.query_row(
                "SELECT count(*) FROM adjudications WHERE project_id = ?1",
                [project.0],
                |r| r.get(0),
            )?;
            let mut stmt = conn.prepare_cached(
                "SELECT u.id, u.name, coalesce(c.judgments, 0), a.leased, a.skipped, a.expired,
                   coalesce(c.gold_correct, 0), coalesce(c.gold_scored, 0), coalesce(c.inversions, 0)
                 FROM (SELECT user_id, sum(state = 'leased' AND expires_at >= ?2) AS leased,
                         sum(state = 'skipped') AS skipped,
                         sum(state = 'expired' OR (state = 'leased' AND expires_at < ?2)) AS expired
                       FROM assignments WHERE project_id = ?1 GROUP BY user_id) a
                 JOIN users u ON u.id = a.user_id
                 LEFT JOIN annotator_counts c ON c.project_id = ?1 AND c.user_id = a.user_id
                 ORDER BY u.name",
            )?;
            let annotators = stmt
                .query_map(params![project.0, now_ms()], |r| {
                    Ok(AnnotatorProgress {
                        user: UserId(r.get(0)?),
                        name: r.get(1)?,
                        judgments: r.get(2)?,
                        leased: r.get(3)?,
                        skipped: r.get(4)?,
                        expired: r.get(5)?,
                        gold_correct: r.get(6)?,
                        gold_scored: r.get(7)?,
                        priority_inversions: r.get(8)?,
                    })
                })?
                .collect::<rusqlite::Result<_>>()?;
            Ok(Progress {
                items,
                gold_items,
                judgments,
                leases,
                priority_inversions: inversions,
                adjudications,
                annotators,
            })
        })
        .await
    }

    pub(super) async fn read_items_page(
        &self,
        project: ProjectId,
        filter: ItemFilter,
        after: Option<ItemId>,
        limit: u32,
    ) -> Result<Vec<crate::StoredItem>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, ext_id, task, revision, state, body, content_hash FROM items
                 WHERE project_id = ?1 AND id > ?2 AND (?3 IS NULL OR state = ?3)
                   AND (?4 IS NULL OR is_gold = ?4)
                 ORDER BY id LIMIT ?5",
            )?;
            let mut rows = stmt.query(params![
                project.0,
                after.map_or(0, |a| a.0),
                filter.state.map(|s| s.as_str()),
                filter.gold,
                limit
            ])?;
            let mut out = Vec::new();
            while let Some(r) = rows.next()? {
                out.push(super::to_item(
                    r.get(0)?,
                    r.get(1)?,
                    r.get_ref(2)?.as_str()?,
                    r.get(3)?,
                    r.get_ref(4)?.as_str()?,
                    r.get(5)?,
                    r.get_ref(6)?.as_blob()?,
                )?);
            }
            Ok(out)
        })
        .await
    }

    pub(super) async fn read_training_feedback(
        &self,
        project: ProjectId,
        annotator: UserId,
        item: String,
    ) -> Result<Option<GoldRecord>> {
        self.read(move |conn| {
            // The annotator's own judgment of the item, under the one assignment they can
            // have of it; no row (an unknown item, one they never judged) is no feedback.
            let row: Option<(String, String, String, Option<bool>, i64)> = conn
                .prepare_cached(
                    "SELECT p.settings, coalesce(q.state, 'pending'), a.purpose, j.gold_correct, i.id
                     FROM projects p
                     JOIN items i ON i.project_id = p.id AND i.ext_id = ?3
                     JOIN assignments a ON a.item_id = i.id AND a.user_id = ?2
                     JOIN judgments j ON j.assignment_id = a.id
                     LEFT JOIN qualifications q ON q.project_id = p.id AND q.user_id = ?2
                     WHERE p.id = ?1",
                )?
                .query_row(params![project.0, annotator.0, item], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                })
                .optional()?;
            let Some((settings, state, purpose, gold_correct, item_id)) = row else {
                return Ok(None);
            };
            let settings: plumbline_domain::ProjectSettings = serde_json::from_str(&settings)?;
            if !submit::training_feedback(&settings, stored(&state)?, stored(&purpose)?, gold_correct)
            {
                return Ok(None);
            }
            let raw = conn
                .prepare_cached(&format!(
                    "SELECT {GOLD_COLUMNS} FROM gold g JOIN items i ON i.id = g.item_id
                     WHERE g.item_id = ?1 AND g.active = 1"
                ))?
                .query_row([item_id], gold_record)
                .optional()?;
            raw.map(to_gold).transpose()
        })
        .await
    }

    pub(super) async fn read_judgments_of(
        &self,
        project: ProjectId,
        item: &str,
    ) -> Result<Vec<StoredJudgment>> {
        let item = item.to_owned();
        self.read(move |conn| {
            let (id, _, _, _) = item_by_ext(conn, project, &item)?;
            let rows: Vec<RawJudgment> = conn
                .prepare_cached(
                    "SELECT id, assignment_id, user_id, payload, priority_inversion, time_ms, display_order, gold_correct,
                            created_at, updated_at
                     FROM judgments WHERE item_id = ?1 AND source = 'annotator' ORDER BY id",
                )?
                .query_map([id], |r| {
                    Ok((
                        (r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?),
                        (r.get(5)?, r.get(6)?, r.get(7)?, r.get(8)?, r.get(9)?),
                    ))
                })?
                .collect::<rusqlite::Result<_>>()?;
            let mut out = Vec::new();
            for ((jid, aid, uid, payload, inv), (time, order, gold, created, updated)) in rows {
                let history = conn
                    .prepare_cached("SELECT payload FROM judgment_history WHERE judgment_id = ?1 ORDER BY id")?
                    .query_map([jid], |r| r.get(0))?
                    .collect::<rusqlite::Result<_>>()?;
                out.push(StoredJudgment {
                    id: JudgmentId(jid),
                    assignment: aid.map(AssignmentId),
                    item_id: ItemId(id),
                    user: uid.map(UserId),
                    payload,
                    priority_inversion: inv,
                    time_ms: time,
                    display_order: order.map(|o| serde_json::from_str(&o)).transpose()?,
                    gold_correct: gold,
                    history,
                    submitted_at: created,
                    updated_at: updated,
                });
            }
            Ok(out)
        })
        .await
    }
}

fn judgment_views(conn: &Connection, project: ProjectId, item: i64) -> Result<Vec<JudgmentView>> {
    let mut stmt = conn.prepare_cached(
        "SELECT j.id, j.user_id, u.name, j.payload, j.priority_inversion, j.rubric_version, j.display_order, j.time_ms,
           coalesce(c.gold_correct, 0), coalesce(c.gold_scored, 0)
         FROM judgments j LEFT JOIN users u ON u.id = j.user_id
         LEFT JOIN annotator_counts c ON c.project_id = ?1 AND c.user_id = j.user_id
         WHERE j.item_id = ?2 AND j.source = 'annotator' ORDER BY j.id",
    )?;
    let rows: Vec<_> = stmt
        .query_map(params![project.0, item], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, Option<i64>>(1)?,
                r.get::<_, Option<String>>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, bool>(4)?,
                r.get::<_, i64>(5)?,
                r.get::<_, Option<String>>(6)?,
                r.get::<_, Option<i64>>(7)?,
                r.get::<_, i64>(8)?,
                r.get::<_, i64>(9)?,
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut out = Vec::new();
    for (id, user, name, payload, inv, rv, order, time, correct, scored) in rows {
        let expertise = match user {
            Some(u) => verified_expertise(conn, UserId(u))?
                .iter()
                .map(|e| e.to_string())
                .collect(),
            None => Vec::new(),
        };
        out.push(JudgmentView {
            id: JudgmentId(id),
            annotator: user.map(UserId),
            annotator_name: name,
            expertise,
            gold_correct: correct,
            gold_scored: scored,
            payload: serde_json::from_str(&payload)?,
            priority_inversion: inv,
            rubric_version: RubricVersion(rv as i32),
            display_order: order.map(|o| serde_json::from_str(&o)).transpose()?,
            time_ms: time,
        });
    }
    Ok(out)
}
