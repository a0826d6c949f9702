//! A lead's changes on SQLite: settings, reinstatement, and the probation read.

use super::{PROJECT_COLUMNS, SqliteStore, project_from_row, to_project};
use crate::Result;
use crate::error::StoreError;
use crate::leads::{HiddenGold, Reinstatement, SettingsError, reinstate_event, settings_event};
use crate::model::{Project, now_ms};
use plumbline_domain::{ProjectId, SettingsPatch, UserId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The annotator's scored hidden gold after their last reinstatement (see migration 0010).
pub(crate) fn hidden_gold(
    conn: &Connection,
    project: ProjectId,
    user: UserId,
) -> Result<HiddenGold> {
    let last: Option<(i64, i64)> = conn
        .prepare_cached(
            "SELECT at, after_judgment FROM reinstatements
             WHERE project_id = ?1 AND user_id = ?2 ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![project.0, user.0], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (correct, scored): (i64, i64) = conn
        .prepare_cached(
            "SELECT coalesce(sum(j.gold_correct = 1), 0), count(*)
             FROM judgments j JOIN assignments a ON a.id = j.assignment_id
             WHERE j.project_id = ?1 AND j.user_id = ?2 AND j.gold_correct IS NOT NULL
               AND j.id > ?3 AND a.purpose = 'gold'",
        )?
        .query_row(params![project.0, user.0, last.map_or(0, |l| l.1)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    Ok(HiddenGold {
        correct,
        scored,
        reinstated_at: last.map(|l| l.0),
    })
}

impl SqliteStore {
    pub(super) async fn update_settings_impl(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        patch: SettingsPatch,
    ) -> Result<Project, SettingsError> {
        let changed = self
            .write(move |conn| {
                // IMMEDIATE: the read and the write below see no other writer between them.
                let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
                let raw = tx
                    .query_row(
                        &format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = ?1"),
                        [project.0],
                        project_from_row,
                    )
                    .optional()?
                    .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
                let current = to_project(raw)?;
                let settings = match patch.apply(&current.settings) {
                    Ok(s) => s,
                    Err(e) => return Ok(Err(e)),
                };
                if settings == current.settings {
                    return Ok(Ok(current));
                }
                let json = serde_json::to_string(&settings)?;
                tx.execute(
                    "UPDATE projects SET settings = ?2 WHERE id = ?1",
                    params![project.0, json],
                )?;
                crate::audit::sqlite_append(&tx, &settings_event(actor, &current, &patch, &json))?;
                tx.commit()?;
                Ok(Ok(Project {
                    settings,
                    ..current
                }))
            })
            .await?;
        Ok(changed?)
    }

    pub(super) async fn reinstate_impl(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<Reinstatement> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let lifted = hidden_gold(&tx, project, annotator)?;
            let after: i64 =
                tx.query_row("SELECT coalesce(max(id), 0) FROM judgments", [], |r| {
                    r.get(0)
                })?;
            let at = now_ms();
            tx.execute(
                "INSERT INTO reinstatements
                   (project_id, user_id, reinstated_by, at, after_judgment, gold_correct, gold_scored)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    project.0,
                    annotator.0,
                    actor.map(|a| a.0),
                    at,
                    after,
                    lifted.correct,
                    lifted.scored
                ],
            )?;
            let id = tx.last_insert_rowid();
            crate::audit::sqlite_append(&tx, &reinstate_event(actor, project, annotator, &lifted))?;
            tx.commit()?;
            Ok(Reinstatement {
                id,
                user: annotator,
                by: actor,
                at,
                gold_correct: lifted.correct,
                gold_scored: lifted.scored,
            })
        })
        .await
    }

    pub(super) async fn hidden_gold_impl(
        &self,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<HiddenGold> {
        self.read(move |conn| hidden_gold(conn, project, annotator))
            .await
    }
}
