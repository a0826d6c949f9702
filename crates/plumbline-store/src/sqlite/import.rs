//! Streaming import into SQLite: one transaction for the whole source, rows inserted
//! as they arrive (constant memory), rolled back unless the source finishes cleanly.

use crate::Result;
use crate::import::{
    ExternalKey, import_event, missing_media, new_external, record_conflict, record_refusal,
    same_but_split, split_str,
};
use crate::model::*;
use plumbline_domain::{ProjectId, UserId};
use rusqlite::{Connection, OptionalExtension, params};
use tokio::sync::mpsc;

/// A stored item as an import compares it: id, content hash, revision, body, split.
type Row = (i64, Vec<u8>, i64, String, Option<String>);

pub(super) fn run(
    conn: &mut Connection,
    actor: Option<UserId>,
    project: ProjectId,
    options: ImportOptions,
    mut source: mpsc::Receiver<ImportMsg>,
) -> Result<ImportOutcome> {
    // External judgments are recorded under the rubric version current at import.
    let rubric_version: Option<i64> = conn
        .query_row(
            "SELECT rubric_version FROM projects WHERE id = ?1",
            [project.0],
            |r| r.get(0),
        )
        .optional()?;
    let Some(rubric_version) = rubric_version else {
        return Err(crate::StoreError::NotFound(format!("project {project}")));
    };
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    let mut outcome = ImportOutcome::default();
    let mut commit = false;
    {
        // Insert first and look up only on conflict: new items, the common case, cost
        // one index probe.
        let mut insert = tx.prepare_cached(
            "INSERT INTO items (project_id, ext_id, task, content_hash, body, split, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7) ON CONFLICT (project_id, ext_id) DO NOTHING",
        )?;
        let mut lookup = tx.prepare_cached(
            "SELECT id, content_hash, revision, body, split FROM items WHERE project_id = ?1 AND ext_id = ?2",
        )?;
        let mut archive = tx.prepare_cached(
            "INSERT INTO item_revisions (item_id, revision, content_hash, body, replaced_at)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        let mut replace = tx.prepare_cached(
            "UPDATE items SET task = ?2, content_hash = ?3, body = ?4, split = ?5, revision = revision + 1,
             updated_at = ?6 WHERE id = ?1",
        )?;
        let mut external = tx.prepare_cached(
            "INSERT INTO judgments (project_id, item_id, source, external_source, rubric_version,
             task, payload, rationale, time_ms, created_at, updated_at)
             VALUES (?1, ?2, 'external', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?;
        let mut propose = tx.prepare_cached(crate::gold_candidates::INSERT_SQLITE)?;
        let mut stored_external = tx.prepare_cached(
            "SELECT external_source, task, payload FROM judgments
             WHERE item_id = ?1 AND source = 'external'",
        )?;
        let mut drop_external =
            tx.prepare_cached("DELETE FROM judgments WHERE item_id = ?1 AND source = 'external'")?;
        let now = now_ms();
        let mut store_external =
            |item_id: i64, judgments: &[&ExternalJudgment], outcome: &mut ImportOutcome| {
                for j in judgments {
                    external.execute(params![
                        project.0,
                        item_id,
                        j.source,
                        rubric_version,
                        j.task.as_str(),
                        j.payload,
                        j.rationale,
                        j.time_ms,
                        now
                    ])?;
                    outcome.external_judgments += 1;
                    if j.gold_candidate {
                        outcome.gold_candidates += propose.execute(params![
                            project.0,
                            item_id,
                            j.source,
                            j.payload,
                            j.rationale,
                            now
                        ])? as u64;
                    }
                }
                Ok::<(), crate::StoreError>(())
            };
        'source: while let Some(msg) = source.blocking_recv() {
            let batch = match msg {
                ImportMsg::Items(batch) => batch,
                ImportMsg::Finish { commit: wanted } => {
                    commit = wanted;
                    break;
                }
            };
            for item in batch {
                if let Some(sha) = &item.media_sha256 {
                    let stored = match &item.media {
                        Some(media) => {
                            super::media::put(&tx, media)?;
                            true
                        }
                        None => super::media::exists(&tx, sha)?,
                    };
                    if !stored {
                        let reason = missing_media(&item.ext_id, sha);
                        if record_refusal(&mut outcome, &options, item.line, item.ext_id, reason) {
                            break 'source;
                        }
                        continue;
                    }
                }
                let split = item.split.map(split_str);
                let added = insert.execute(params![
                    project.0,
                    item.ext_id,
                    item.task.as_str(),
                    &item.content_hash[..],
                    item.body,
                    split,
                    now
                ])?;
                if added == 1 {
                    outcome.imported += 1;
                    let item_id = tx.last_insert_rowid();
                    if let Some(sha) = &item.media_sha256 {
                        super::media::link(&tx, item_id, sha)?;
                    }
                    if !item.external.is_empty() {
                        let all: Vec<&ExternalJudgment> = item.external.iter().collect();
                        store_external(item_id, &all, &mut outcome)?;
                    }
                    continue;
                }
                let (id, hash, revision, old_body, stored): Row = lookup
                    .query_row(params![project.0, item.ext_id], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
                    })?;
                let stored = crate::export::parse_split(stored.as_deref())?;
                if hash == item.content_hash
                    || same_but_split(&old_body, stored, &item.body, item.split)
                {
                    // The same item again may bring annotations made since the last
                    // import; those not stored yet are added, the others are not repeated.
                    let fresh = if item.external.is_empty() {
                        Vec::new()
                    } else {
                        let stored: Vec<ExternalKey> = stored_external
                            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                            .collect::<rusqlite::Result<_>>()?;
                        new_external(&item, &stored)
                    };
                    if fresh.is_empty() {
                        outcome.unchanged += 1;
                    } else {
                        store_external(id, &fresh, &mut outcome)?;
                        outcome.annotated += 1;
                    }
                } else if options.update {
                    archive.execute(params![id, revision, hash, old_body, now])?;
                    replace.execute(params![
                        id,
                        item.task.as_str(),
                        &item.content_hash[..],
                        item.body,
                        split,
                        now
                    ])?;
                    // The new revision's prior judgments replace the old revision's.
                    drop_external.execute([id])?;
                    if let Some(sha) = &item.media_sha256 {
                        super::media::link(&tx, id, sha)?;
                    }
                    let all: Vec<&ExternalJudgment> = item.external.iter().collect();
                    store_external(id, &all, &mut outcome)?;
                    outcome.updated += 1;
                } else {
                    if record_conflict(&mut outcome, &options, item.line, item.ext_id) {
                        break 'source;
                    }
                }
            }
        }
    }
    if commit && outcome.conflict_count == 0 {
        crate::audit::sqlite_append(&tx, &import_event(actor, project, &outcome))?;
        tx.commit()?;
        outcome.committed = true;
    }
    Ok(outcome)
}
