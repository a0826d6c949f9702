//! A lead's changes on PostgreSQL: settings, reinstatement, and the probation read.

use super::{PROJECT_COLUMNS, PgStore, to_project};
use crate::Result;
use crate::error::StoreError;
use crate::leads::{HiddenGold, Reinstatement, SettingsError, reinstate_event, settings_event};
use crate::model::{Project, now_ms};
use deadpool_postgres::GenericClient;
use plumbline_domain::{ProjectId, SettingsPatch, UserId};

/// The annotator's scored hidden gold after their last reinstatement (see migration 0010).
pub(crate) async fn hidden_gold<C: GenericClient>(
    c: &C,
    project: ProjectId,
    user: UserId,
) -> Result<HiddenGold> {
    let last = c
        .query_opt(
            "SELECT at, after_judgment FROM reinstatements
             WHERE project_id = $1 AND user_id = $2 ORDER BY id DESC LIMIT 1",
            &[&project.0, &user.0],
        )
        .await?
        .map(|r| (r.get::<_, i64>(0), r.get::<_, i64>(1)));
    let row = c
        .query_one(
            "SELECT count(*) FILTER (WHERE j.gold_correct), count(*)
             FROM judgments j JOIN assignments a ON a.id = j.assignment_id
             WHERE j.project_id = $1 AND j.user_id = $2 AND j.gold_correct IS NOT NULL
               AND j.id > $3 AND a.purpose = 'gold'",
            &[&project.0, &user.0, &last.map_or(0, |l| l.1)],
        )
        .await?;
    Ok(HiddenGold {
        correct: row.get(0),
        scored: row.get(1),
        reinstated_at: last.map(|l| l.0),
    })
}

impl PgStore {
    pub(super) async fn update_settings_impl(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        patch: SettingsPatch,
    ) -> Result<Project, SettingsError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await.map_err(StoreError::from)?;
        // The row lock keeps two concurrent changes from losing one another.
        let row = tx
            .query_opt(
                &format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1 FOR UPDATE"),
                &[&project.0],
            )
            .await
            .map_err(StoreError::from)?
            .ok_or_else(|| StoreError::NotFound(format!("project {project}")))?;
        let current = to_project(&row)?;
        let settings = patch.apply(&current.settings)?;
        if settings == current.settings {
            return Ok(current);
        }
        let json = serde_json::to_string(&settings).map_err(StoreError::from)?;
        tx.execute(
            "UPDATE projects SET settings = $2 WHERE id = $1",
            &[&project.0, &json],
        )
        .await
        .map_err(StoreError::from)?;
        crate::audit::pg_append(&tx, &settings_event(actor, &current, &patch, &json)).await?;
        tx.commit().await.map_err(StoreError::from)?;
        Ok(Project {
            settings,
            ..current
        })
    }

    pub(super) async fn reinstate_impl(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<Reinstatement> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let lifted = hidden_gold(&tx, project, annotator).await?;
        let after: i64 = tx
            .query_one("SELECT coalesce(max(id), 0) FROM judgments", &[])
            .await?
            .get(0);
        let at = now_ms();
        let id: i64 = tx
            .query_one(
                "INSERT INTO reinstatements
                   (project_id, user_id, reinstated_by, at, after_judgment, gold_correct, gold_scored)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[
                    &project.0,
                    &annotator.0,
                    &actor.map(|a| a.0),
                    &at,
                    &after,
                    &lifted.correct,
                    &lifted.scored,
                ],
            )
            .await?
            .get(0);
        crate::audit::pg_append(&tx, &reinstate_event(actor, project, annotator, &lifted)).await?;
        tx.commit().await?;
        Ok(Reinstatement {
            id,
            user: annotator,
            by: actor,
            at,
            gold_correct: lifted.correct,
            gold_scored: lifted.scored,
        })
    }

    pub(super) async fn hidden_gold_impl(
        &self,
        project: ProjectId,
        annotator: UserId,
    ) -> Result<HiddenGold> {
        let client = self.client().await?;
        hidden_gold(&client, project, annotator).await
    }
}
