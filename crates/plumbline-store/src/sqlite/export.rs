//! [`ExportStore`] on SQLite.

use super::SqliteStore;
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, sqlite_append};
use crate::error::StoreError;
use crate::export::{
    AdjudicatedVotes, AnnotatorOutcomes, ExportStore, GoldScore, NewRelease, ReleaseRecord,
    SplitRow, parse_split, split_name,
};
use plumbline_domain::{ProjectId, Split, UserId};
use rusqlite::params;
use tokio::sync::mpsc;

impl ExportStore for SqliteStore {
    async fn judged_items(
        &self,
        project: ProjectId,
        task: plumbline_domain::TaskKind,
        sink: mpsc::Sender<Vec<crate::export::JudgedItem>>,
        recycle: Option<crate::export::Recycle>,
    ) -> Result<u64> {
        // One read transaction: the three cursors see one snapshot.
        self.read(move |conn| {
            conn.execute_batch("BEGIN")?;
            let out = judged_items(conn, project, task, &sink, recycle.as_ref());
            let _ = conn.execute_batch("COMMIT");
            out
        })
        .await
    }

    async fn annotator_outcomes(&self, project: ProjectId) -> Result<AnnotatorOutcomes> {
        self.read(move |conn| {
            conn.execute_batch("BEGIN")?;
            let out = annotator_outcomes(conn, project);
            let _ = conn.execute_batch("COMMIT");
            out
        })
        .await
    }

    async fn split_rows(
        &self,
        project: ProjectId,
        sink: mpsc::Sender<Vec<SplitRow>>,
    ) -> Result<u64> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT ext_id, body, split FROM items WHERE project_id = ?1 ORDER BY id",
            )?;
            let mut rows = stmt.query([project.0])?;
            let mut batch = Vec::with_capacity(crate::BATCH);
            let mut sent = 0u64;
            let send = |batch: Vec<SplitRow>| {
                sink.blocking_send(batch)
                    .map_err(|_| StoreError::Invalid("stopped: the receiver went away".into()))
            };
            while let Some(r) = rows.next()? {
                batch.push(SplitRow {
                    ext_id: r.get(0)?,
                    body: r.get(1)?,
                    split: parse_split(r.get::<_, Option<String>>(2)?.as_deref())?,
                });
                if batch.len() == crate::BATCH {
                    sent += batch.len() as u64;
                    send(std::mem::replace(
                        &mut batch,
                        Vec::with_capacity(crate::BATCH),
                    ))?;
                }
            }
            if !batch.is_empty() {
                sent += batch.len() as u64;
                send(batch)?;
            }
            Ok(sent)
        })
        .await
    }

    async fn set_splits(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        splits: Vec<(String, Split)>,
        summary: String,
    ) -> Result<u64> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let mut changed = 0u64;
            {
                let mut update = tx.prepare_cached(
                    "UPDATE items SET split = ?3 WHERE project_id = ?1 AND ext_id = ?2",
                )?;
                for (id, side) in &splits {
                    if update.execute(params![project.0, id, split_name(*side)])? == 0 {
                        return Err(StoreError::NotFound(format!("item `{id}`")));
                    }
                    changed += 1;
                }
            }
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::ItemsSplit, "items")
                    .by(actor)
                    .in_project(project)
                    .object(summary),
            )?;
            tx.commit()?;
            Ok(changed)
        })
        .await
    }

    async fn record_release(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        release: NewRelease,
    ) -> Result<ReleaseRecord> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            let now = crate::model::now_ms();
            tx.execute(
                "INSERT INTO releases (project_id, kind, format, manifest_sha256, location,
                     filters, counts, created_by, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                params![
                    project.0,
                    release.kind,
                    release.format,
                    release.manifest_sha256,
                    release.location,
                    release.filters,
                    release.counts,
                    actor.map(|a| a.0),
                    now
                ],
            )?;
            let id = tx.last_insert_rowid();
            {
                // OR IGNORE: an item exported twice (SFT demonstrations) is one row.
                let mut add = tx.prepare_cached(
                    "INSERT OR IGNORE INTO release_items (release_id, item_id)
                     SELECT ?1, id FROM items WHERE project_id = ?2 AND ext_id = ?3",
                )?;
                let mut exists =
                    tx.prepare_cached("SELECT 1 FROM items WHERE project_id = ?1 AND ext_id = ?2")?;
                for ext in &release.items {
                    if add.execute(params![id, project.0, ext])? == 0
                        && !exists.exists(params![project.0, ext])?
                    {
                        return Err(StoreError::NotFound(format!("item `{ext}`")));
                    }
                }
            }
            let mut event = AuditEvent::new(AuditAction::ReleaseCreate, "release")
                .by(actor)
                .in_project(project)
                .object(&release.manifest_sha256);
            event.digest = Some(release.manifest_sha256.clone());
            sqlite_append(&tx, &event)?;
            tx.commit()?;
            Ok(ReleaseRecord {
                id,
                manifest_sha256: release.manifest_sha256,
                kind: release.kind,
                format: release.format,
                location: release.location,
                filters: release.filters,
                counts: release.counts,
                created_by: actor.map(|a| a.0),
                created_at: now,
            })
        })
        .await
    }

    async fn releases(&self, project: ProjectId) -> Result<Vec<ReleaseRecord>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT id, manifest_sha256, kind, format, location, filters, counts,
                        created_by, created_at
                 FROM releases WHERE project_id = ?1 ORDER BY created_at DESC, id DESC",
            )?;
            let rows = stmt
                .query_map([project.0], |r| {
                    Ok(ReleaseRecord {
                        id: r.get(0)?,
                        manifest_sha256: r.get(1)?,
                        kind: r.get(2)?,
                        format: r.get(3)?,
                        location: r.get(4)?,
                        filters: r.get(5)?,
                        counts: r.get(6)?,
                        created_by: r.get(7)?,
                        created_at: r.get(8)?,
                    })
                })?
                .collect::<std::result::Result<Vec<_>, _>>()?;
            Ok(rows)
        })
        .await
    }

    async fn pseudonym_key(&self, project: ProjectId) -> Result<crate::PseudonymKey> {
        self.read(move |conn| {
            let bytes: Vec<u8> = conn
                .query_row(
                    "SELECT pseudonym_secret FROM projects WHERE id = ?1",
                    [project.0],
                    |r| r.get(0),
                )
                .map_err(|e| match e {
                    rusqlite::Error::QueryReturnedNoRows => {
                        StoreError::NotFound(format!("project {}", project.0))
                    }
                    e => StoreError::from(e),
                })?;
            crate::PseudonymKey::from_stored(&bytes)
        })
        .await
    }
}

/// Items and judgment rows of returned batches, to refill.
#[derive(Default)]
struct Spares {
    items: Vec<crate::export::JudgedItem>,
    rows: Vec<crate::export::JudgmentRow>,
}

impl Spares {
    /// Takes what the consumer has sent back, when out of spare items.
    fn restock(&mut self, recycle: Option<&crate::export::Recycle>) {
        if !self.items.is_empty() {
            return;
        }
        if let Some(batch) = recycle.and_then(|r| r.try_recv().ok()) {
            for mut item in batch {
                self.rows.append(&mut item.judgments);
                self.items.push(item);
            }
        }
    }
}

fn text(v: rusqlite::types::ValueRef<'_>) -> Result<&str> {
    v.as_str()
        .map_err(|e| StoreError::Database(format!("stored text: {e}")))
}

fn opt_text(v: rusqlite::types::ValueRef<'_>) -> Result<Option<&str>> {
    v.as_str_or_null()
        .map_err(|e| StoreError::Database(format!("stored text: {e}")))
}

/// Sets `dst` to `src`, reusing its buffer.
fn refill(dst: &mut String, src: &str) {
    dst.clear();
    dst.push_str(src);
}

fn refill_opt(dst: &mut Option<String>, src: Option<&str>) {
    match (dst.as_mut(), src) {
        (Some(d), Some(s)) => refill(d, s),
        (_, s) => *dst = s.map(str::to_owned),
    }
}

/// Streams judged items by merging four cursors ordered by item id, refilling the
/// batches that come back on `recycle`.
pub(super) fn judged_items(
    conn: &rusqlite::Connection,
    project: ProjectId,
    task: plumbline_domain::TaskKind,
    sink: &mpsc::Sender<Vec<crate::export::JudgedItem>>,
    recycle: Option<&crate::export::Recycle>,
) -> Result<u64> {
    use crate::export::{JudgedItem, JudgmentRow};
    let mut items = conn.prepare(
        "SELECT id, ext_id, body, split, is_gold FROM items
         WHERE project_id = ?1 AND task = ?2 ORDER BY id",
    )?;
    let mut judgments = conn.prepare(
        "SELECT item_id, user_id, external_source, payload, rubric_version, time_ms,
                display_order, gold_correct FROM judgments
         WHERE project_id = ?1 AND task = ?2 ORDER BY item_id, id",
    )?;
    let mut adjudications = conn.prepare(
        "SELECT item_id, payload, rubric_version FROM adjudications
         WHERE project_id = ?1 ORDER BY item_id, id",
    )?;
    let mut gold = conn.prepare(
        "SELECT item_id, payload, rubric_version FROM gold
         WHERE project_id = ?1 AND active = 1 ORDER BY item_id, id",
    )?;
    let mut items = items.query(params![project.0, task.as_str()])?;
    let mut judgments = judgments.query(params![project.0, task.as_str()])?;
    let mut adjudications = adjudications.query(params![project.0])?;
    let mut gold = gold.query(params![project.0])?;
    let mut spares = Spares::default();
    // The next judgment row (its item id and the row, in a spare's buffers), if any.
    let read_j = |rows: &mut rusqlite::Rows<'_>,
                  spares: &mut Spares|
     -> Result<Option<(i64, JudgmentRow)>> {
        let Some(r) = rows.next()? else {
            return Ok(None);
        };
        let mut row = spares.rows.pop().unwrap_or_default();
        row.annotator = r.get(1)?;
        refill_opt(&mut row.external_source, opt_text(r.get_ref(2)?)?);
        refill(&mut row.payload, text(r.get_ref(3)?)?);
        row.rubric_version = r.get(4)?;
        row.time_ms = r.get(5)?;
        refill_opt(&mut row.display_order, opt_text(r.get_ref(6)?)?);
        row.gold_correct = r.get::<_, Option<i64>>(7)?.map(|g| g != 0);
        Ok(Some((r.get(0)?, row)))
    };
    let read_a = |rows: &mut rusqlite::Rows<'_>| -> Result<Option<(i64, (String, i64))>> {
        Ok(match rows.next()? {
            None => None,
            Some(r) => Some((r.get(0)?, (r.get(1)?, r.get(2)?))),
        })
    };
    let mut next_j = read_j(&mut judgments, &mut spares)?;
    let mut next_a = read_a(&mut adjudications)?;
    // Adjudications and gold have the same shape: (item id, (payload, rubric version)).
    let mut next_g = read_a(&mut gold)?;
    let mut batch = Vec::with_capacity(crate::BATCH);
    let mut sent = 0u64;
    let send = |batch: Vec<JudgedItem>| {
        sink.blocking_send(batch)
            .map_err(|_| StoreError::Invalid("export stopped: the receiver went away".into()))
    };
    while let Some(r) = items.next()? {
        let id: i64 = r.get(0)?;
        spares.restock(recycle);
        let mut item = spares.items.pop().unwrap_or_default();
        refill(&mut item.ext_id, text(r.get_ref(1)?)?);
        refill(&mut item.body, text(r.get_ref(2)?)?);
        // Read in place: no string allocated per item for the split.
        item.split = parse_split(opt_text(r.get_ref(3)?)?)?;
        item.is_gold = r.get(4)?;
        item.adjudication = None;
        item.adjudication_rubric_version = None;
        item.gold = None;
        item.gold_rubric_version = None;
        // Skip rows of items not exported (other kinds), keep this item's.
        while let Some((jid, _)) = &next_j {
            if *jid > id {
                break;
            }
            let (jid, row) = next_j.take().expect("peeked");
            if jid == id {
                item.judgments.push(row);
            } else {
                spares.rows.push(row);
            }
            next_j = read_j(&mut judgments, &mut spares)?;
        }
        while let Some((aid, _)) = &next_a {
            if *aid > id {
                break;
            }
            let (aid, (payload, version)) = next_a.take().expect("peeked");
            if aid == id {
                item.adjudication = Some(payload);
                item.adjudication_rubric_version = Some(version);
            }
            next_a = read_a(&mut adjudications)?;
        }
        while let Some((gid, _)) = &next_g {
            if *gid > id {
                break;
            }
            let (gid, (payload, version)) = next_g.take().expect("peeked");
            if gid == id {
                item.gold = Some(payload);
                item.gold_rubric_version = Some(version);
            }
            next_g = read_a(&mut gold)?;
        }
        batch.push(item);
        if batch.len() == crate::BATCH {
            sent += batch.len() as u64;
            send(std::mem::replace(
                &mut batch,
                Vec::with_capacity(crate::BATCH),
            ))?;
        }
    }
    if !batch.is_empty() {
        sent += batch.len() as u64;
        send(batch)?;
    }
    Ok(sent)
}

/// Gold scores from `annotator_counts` (kept by triggers, checked by `check_integrity`),
/// and preference winners on adjudicated items against the latest adjudication.
fn annotator_outcomes(
    conn: &rusqlite::Connection,
    project: ProjectId,
) -> Result<AnnotatorOutcomes> {
    let mut gold = conn.prepare_cached(
        "SELECT user_id, gold_correct, gold_scored FROM annotator_counts
         WHERE project_id = ?1 AND gold_scored > 0 ORDER BY user_id",
    )?;
    let gold = gold
        .query_map([project.0], |r| {
            Ok(GoldScore {
                annotator: r.get(0)?,
                right: r.get::<_, i64>(1)?.max(0) as u64,
                scored: r.get::<_, i64>(2)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut adjudicated = conn.prepare_cached(
        "SELECT j.user_id,
                CASE json_type(j.payload, '$.winner') WHEN 'text' THEN json_extract(j.payload, '$.winner') END,
                CASE json_type(a.payload, '$.winner') WHEN 'text' THEN json_extract(a.payload, '$.winner') END,
                count(*)
         FROM adjudications a
         JOIN judgments j ON j.item_id = a.item_id
         WHERE a.project_id = ?1
           AND a.id = (SELECT max(l.id) FROM adjudications l WHERE l.item_id = a.item_id)
           AND j.task = 'preference' AND j.user_id IS NOT NULL AND j.gold_correct IS NULL
         GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
    )?;
    let adjudicated = adjudicated
        .query_map([project.0], |r| {
            Ok(AdjudicatedVotes {
                annotator: r.get(0)?,
                vote: r.get(1)?,
                decided: r.get(2)?,
                count: r.get::<_, i64>(3)?.max(0) as u64,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut adjudicated = adjudicated;
    adjudicated.sort();
    Ok(AnnotatorOutcomes { gold, adjudicated })
}
