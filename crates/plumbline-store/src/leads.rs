//! What a lead changes once a project runs: its settings, and an annotator's probation
//! (a reinstatement), with the hidden-gold read that probation rests on.

use crate::StoreError;
use crate::audit::{AuditAction, AuditEvent};
use crate::model::Project;
use plumbline_domain::{FieldError, ProjectId, SettingsPatch, UserId};
use serde::Serialize;
use thiserror::Error;

/// Why a settings change was refused.
#[derive(Debug, Error)]
pub enum SettingsError {
    /// The store refused or failed (an unknown project, the database).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A setting is out of its range, or the patch names none; nothing was changed.
    #[error(transparent)]
    Field(#[from] FieldError),
}

/// An annotator's hidden-gold judgments in a project since a lead last reinstated them
/// (all of them if never): what probation is decided on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HiddenGold {
    /// Scored right against the item's gold.
    pub correct: i64,
    /// Scored at all.
    pub scored: i64,
    /// When the last reinstatement was, Unix milliseconds; `None`: never reinstated.
    pub reinstated_at: Option<i64>,
}

/// A recorded reinstatement: from then on, probation counts only hidden gold judged after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Reinstatement {
    /// Database id.
    pub id: i64,
    /// The annotator.
    pub user: UserId,
    /// The lead who reinstated them (`None`: the command line).
    pub by: Option<UserId>,
    /// When, Unix milliseconds.
    pub at: i64,
    /// The hidden-gold record it set aside: correct answers…
    pub gold_correct: i64,
    /// …of this many scored since the previous reinstatement.
    pub gold_scored: i64,
}

/// `project.settings` on `project`, naming the settings `patch` changes (never their
/// values); the digest covers `json`, the new settings.
pub(crate) fn settings_event(
    actor: Option<UserId>,
    project: &Project,
    patch: &SettingsPatch,
    json: &str,
) -> AuditEvent {
    AuditEvent::new(AuditAction::SettingsChange, "project")
        .by(actor)
        .object(format!("{}: {}", project.name, patch.fields().join(", ")))
        .in_project(project.id)
        .digest_of(json.as_bytes())
}

/// `annotator.reinstate` of `annotator`; the digest covers the record set aside.
pub(crate) fn reinstate_event(
    actor: Option<UserId>,
    project: ProjectId,
    annotator: UserId,
    lifted: &HiddenGold,
) -> AuditEvent {
    AuditEvent::new(AuditAction::AnnotatorReinstate, "user")
        .by(actor)
        .object(annotator)
        .in_project(project)
        .digest_of(format!("{}/{}", lifted.correct, lifted.scored).as_bytes())
}
