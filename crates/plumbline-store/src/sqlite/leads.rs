//! A lead's changes on SQLite: settings, reinstatement, and the probation read.

use super::{PROJECT_COLUMNS, SqliteStore, project_from_row, to_project};
use crate::Result;
use crate::error::StoreError;
use crate::leads::{HiddenGold, Reinstatement, SettingsError, reinstate_event, settings_event};
use crate::model::{Project, now_ms};
use plumbline_domain::{ProjectId, SettingsPatch, UserId};
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};

/// The annotator's scored hidden gold after their last reinstatement: their running
/// hidden-gold counts (migration 0013) less what the reinstatements set aside (0010),
/// one row read and a few, whatever the annotator has judged.
pub(crate) fn hidden_gold(
    conn: &Connection,
    project: ProjectId,
    user: UserId,
) -> Result<HiddenGold> {
    let (correct, scored, reinstated_at): (i64, i64, Option<i64>) = conn
        .prepare_cached(
            "SELECT coalesce((SELECT hidden_correct FROM annotator_counts
                              WHERE project_id = ?1 AND user_id = ?2), 0)
                      - coalesce(sum(r.gold_correct), 0),
                    coalesce((SELECT hidden_scored FROM annotator_counts
                              WHERE project_id = ?1 AND user_id = ?2), 0)
                      - coalesce(sum(r.gold_scored), 0),
                    max(r.at)
             FROM reinstatements r WHERE r.project_id = ?1 AND r.user_id = ?2",
        )?
        .query_row(params![project.0, user.0], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
    Ok(HiddenGold {
        correct,
        scored,
        reinstated_at,
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
