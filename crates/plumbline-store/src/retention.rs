//! Retention: a per-project policy, and the purge that removes conversation,
//! candidate and free-text judgment content while keeping ids, labels, hashes and
//! the audit chain; the audio no remaining item names goes whole. After a purge the text is gone from the database files too
//! (SQLite: secure_delete, WAL truncation and VACUUM; PostgreSQL: VACUUM FULL of the
//! tables that held it).

use crate::Result;
use plumbline_domain::{ProjectId, UserId};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::future::Future;

/// What replaces purged text.
pub const PURGED: &str = "[purged]";

/// When a project's item text may be purged. Absent rules never fire.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Purge this many days after the item was resolved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_resolved_days: Option<u32>,
    /// Purge this many days after the item was first in a release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_release_days: Option<u32>,
}

impl RetentionPolicy {
    /// The latest resolution and release times (Unix ms) at which an item is due at `now`.
    pub fn cutoffs(&self, now: i64) -> (Option<i64>, Option<i64>) {
        let days = |d: u32| now - i64::from(d) * 86_400_000;
        (
            self.after_resolved_days.map(days),
            self.after_release_days.map(days),
        )
    }

    /// True when an item resolved at `resolved_at` and first released at `released_at`
    /// is due for purge at `now`.
    pub fn is_due(&self, resolved_at: Option<i64>, released_at: Option<i64>, now: i64) -> bool {
        let (resolved_cut, released_cut) = self.cutoffs(now);
        let before =
            |t: Option<i64>, cut: Option<i64>| matches!((t, cut), (Some(t), Some(c)) if t <= c);
        before(resolved_at, resolved_cut) || before(released_at, released_cut)
    }
}

/// Which items a purge takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PurgeScope {
    /// Those the project's policy says are due.
    Due,
    /// Every item of the project (end of contract, erasure request).
    Everything,
}

/// What a purge removed (or, dry, would remove).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct PurgeReport {
    /// Items whose text was (or would be) purged.
    pub items: u64,
    /// Earlier revisions purged with them.
    pub revisions: u64,
    /// Judgments (and their history) whose free text was purged.
    pub judgments: u64,
    /// Audio files removed (those no remaining item names; not counted on a dry run).
    pub media: u64,
    /// Comments deleted from the purged items' threads (not counted on a dry run).
    pub comments: u64,
    /// Whether this was a dry run.
    pub dry_run: bool,
}

/// Retention policies and purges.
pub trait RetentionStore: Send + Sync {
    /// Sets (or clears) a project's retention policy.
    fn set_retention(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        policy: Option<RetentionPolicy>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// A project's retention policy, if any.
    fn retention(
        &self,
        project: ProjectId,
    ) -> impl Future<Output = Result<Option<RetentionPolicy>>> + Send;

    /// Purges the text of a project's items in `scope`; with `dry_run`, only counts.
    fn purge(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        scope: PurgeScope,
        dry_run: bool,
    ) -> impl Future<Output = Result<PurgeReport>> + Send;
}

fn blank(v: &mut Value, key: &str) {
    if let Some(Value::String(s)) = v.get_mut(key) {
        *s = PURGED.to_owned();
    }
}

/// An item body with every turn's and candidate's content replaced; ids, roles,
/// speakers, timing, tags and metadata stay.
pub fn purge_item_body(body: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(body) else {
        return body.to_owned();
    };
    for list in ["context", "candidates"] {
        if let Some(Value::Array(entries)) = v.get_mut(list) {
            entries.iter_mut().for_each(|e| blank(e, "content"));
        }
    }
    // The audio's bytes go with the purge; its hash would only name what is gone.
    if let Some(Value::Object(media)) = v.get_mut("media") {
        media.remove("sha256");
        media.remove("path");
    }
    v.to_string()
}

/// A judgment payload with its free text (rationale, written response, attack and the
/// target's reply, every further attack turn) replaced; labels, scores, winners, tactic
/// and tags stay.
pub fn purge_payload(payload: &str) -> String {
    let Ok(mut v) = serde_json::from_str::<Value>(payload) else {
        return payload.to_owned();
    };
    for key in ["rationale", "response", "attack", "reply"] {
        blank(&mut v, key);
    }
    if let Some(Value::Array(turns)) = v.get_mut("turns") {
        for t in turns {
            blank(t, "attack");
            blank(t, "reply");
        }
    }
    v.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_due_dates() {
        let day = 86_400_000;
        let p = RetentionPolicy {
            after_resolved_days: Some(30),
            after_release_days: None,
        };
        assert!(p.is_due(Some(0), None, 31 * day));
        assert!(!p.is_due(Some(0), None, 29 * day));
        assert!(!p.is_due(None, Some(0), 400 * day), "release rule absent");
        assert!(!RetentionPolicy::default().is_due(Some(0), Some(0), 1000 * day));
    }

    #[test]
    fn purge_keeps_structure_and_labels() {
        let body = r#"{"id":"x","context":[{"role":"user","speaker":"customer","content":"my card 4929 is lost","start":1.0}],"candidates":[{"id":"a","content":"secret"}],"tags":["edge:x"]}"#;
        let purged = purge_item_body(body);
        assert!(!purged.contains("4929") && !purged.contains("secret"));
        let v: Value = serde_json::from_str(&purged).unwrap();
        assert_eq!(v["context"][0]["speaker"], "customer");
        assert_eq!(v["candidates"][0]["id"], "a");
        assert_eq!(v["tags"][0], "edge:x");
        let payload =
            purge_payload(r#"{"winner":"a","rationale":"patient said 4929","strength":2}"#);
        assert!(!payload.contains("4929") && payload.contains("\"winner\":\"a\""));
        let attack = purge_payload(
            r#"{"attack":"read me 4929","reply":"card 4929","turns":[{"attack":"4929?","reply":"yes 4929"}],"outcome":"violation","tactic":"role play"}"#,
        );
        assert!(!attack.contains("4929"), "{attack}");
        assert!(attack.contains("\"outcome\":\"violation\"") && attack.contains("role play"));
    }
}
