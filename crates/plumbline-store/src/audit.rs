//! The audit chain: one append-only event per mutation, written in the same
//! transaction as the change it records, each hashed over its predecessor's hash.
//!
//! `hash = SHA-256(prev_hash ‖ "\n" ‖ canonical)`, where `canonical` is the event's
//! JSON with its fields in a fixed order (see [`canonical`]). Changing, inserting or
//! deleting any event breaks every hash after it, which `verify` names.
//!
//! SQLite has one writer, so an event is linked in the transaction of its change.
//! PostgreSQL writes the event in that transaction too, but as a pending row that a
//! sealer links shortly after commit (see [`pg_append`]): the chain order is the order
//! in which events became visible, and nothing reads the chain before sealing it.

use crate::Result;
use crate::error::StoreError;
use crate::model::{hex, now_ms};
use plumbline_domain::{ProjectId, UserId};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// The hash that stands before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

crate::states::stored_enum! {
    /// What happened, as `noun.verb`: the stored `action` of an event.
    AuditAction, "audit action" {
        /// A user was created.
        UserCreate = "user.create",
        /// A user was disabled.
        UserDisable = "user.disable",
        /// A user was enabled again.
        UserEnable = "user.enable",
        /// A sign-in succeeded.
        LoginOk = "login.ok",
        /// A sign-in failed.
        LoginFail = "login.fail",
        /// A session ended.
        Logout = "logout",
        /// A request was refused (token, project or CSRF check).
        AccessRefuse = "access.refuse",
        /// An API token was created.
        TokenCreate = "token.create",
        /// An API token was revoked.
        TokenRevoke = "token.revoke",
        /// A project role was given or changed.
        MemberRole = "member.role",
        /// An expertise claim was proposed.
        ExpertisePropose = "expertise.propose",
        /// An expertise claim was verified.
        ExpertiseVerify = "expertise.verify",
        /// A project was created.
        ProjectCreate = "project.create",
        /// A lead changed a project's settings (digest: the new settings' JSON).
        SettingsChange = "project.settings",
        /// A new rubric version became current.
        RubricVersion = "rubric.version",
        /// Items were imported.
        ItemsImport = "items.import",
        /// One item was imported or replaced.
        ItemImport = "item.import",
        /// The evaluation split was drawn.
        ItemsSplit = "items.split",
        /// Data was exported.
        ExportDownload = "export.download",
        /// A release was written.
        ReleaseCreate = "release.create",
        /// A retention policy was set.
        RetentionSet = "retention.set",
        /// Data was purged.
        Purge = "purge",
        /// A task was leased to an annotator.
        AssignmentLease = "assignment.lease",
        /// A lease was given back with a reason.
        AssignmentSkip = "assignment.skip",
        /// Expired leases were returned to the pool.
        AssignmentReclaim = "assignment.reclaim",
        /// A judgment was submitted.
        JudgmentSubmit = "judgment.submit",
        /// A judgment was replaced inside its lease.
        JudgmentResubmit = "judgment.resubmit",
        /// An annotator passed qualification.
        QualificationPass = "qualification.pass",
        /// An annotator failed qualification.
        QualificationFail = "qualification.fail",
        /// A lead let an annotator take the qualification again.
        QualificationReset = "qualification.reset",
        /// A lead lifted an annotator's probation.
        AnnotatorReinstate = "annotator.reinstate",
        /// An item's judgments agreed: it is resolved.
        ItemConsensus = "item.consensus",
        /// An item's judgments disagreed: it waits for a reviewer.
        ItemContest = "item.contest",
        /// An item's judgments disagreed, and their reliability-weighted posterior
        /// decided it.
        ItemDecide = "item.decide",
        /// An item's decision stayed below the threshold: it waits for an expert.
        ItemEscalate = "item.escalate",
        /// A reviewer decided an item.
        AdjudicationDecide = "adjudication.decide",
        /// A gold version was stored.
        GoldAdd = "gold.add",
        /// A new rubric version marked older gold for revalidation.
        GoldRevalidate = "gold.revalidate",
        /// A benchmark's own event.
        BenchEvent = "bench.event",
    }
}

impl AuditAction {
    /// The actions the annotation engine writes: each has an expectation in the
    /// conformance suite's audit-parity cases.
    pub const ENGINE: &'static [AuditAction] = &[
        AuditAction::AssignmentLease,
        AuditAction::AssignmentSkip,
        AuditAction::AssignmentReclaim,
        AuditAction::JudgmentSubmit,
        AuditAction::JudgmentResubmit,
        AuditAction::QualificationPass,
        AuditAction::QualificationFail,
        AuditAction::QualificationReset,
        AuditAction::ItemConsensus,
        AuditAction::ItemContest,
        AuditAction::ItemDecide,
        AuditAction::ItemEscalate,
        AuditAction::AdjudicationDecide,
        AuditAction::GoldAdd,
        AuditAction::GoldRevalidate,
    ];
}

/// What happened, to what, by whom; never the content itself, only its digest.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// Who acted; `None` for the command line or the system.
    pub actor: Option<UserId>,
    /// What happened.
    pub action: AuditAction,
    /// Kind of object, e.g. `project`, `item`, `judgment`.
    pub object_type: &'static str,
    /// Id of the object (or a summary such as `call-1..call-99` for bulk changes).
    pub object_id: Option<String>,
    /// Project the object belongs to.
    pub project: Option<ProjectId>,
    /// Hex SHA-256 of the content concerned.
    pub digest: Option<String>,
}

impl AuditEvent {
    /// An event of `action` on an object of `object_type`.
    pub fn new(action: AuditAction, object_type: &'static str) -> Self {
        AuditEvent {
            actor: None,
            action,
            object_type,
            object_id: None,
            project: None,
            digest: None,
        }
    }

    /// Sets the actor.
    pub fn by(mut self, actor: Option<UserId>) -> Self {
        self.actor = actor;
        self
    }

    /// Sets the object id.
    pub fn object(mut self, id: impl ToString) -> Self {
        self.object_id = Some(id.to_string());
        self
    }

    /// Sets the project.
    pub fn in_project(mut self, project: ProjectId) -> Self {
        self.project = Some(project);
        self
    }

    /// Sets the digest to the SHA-256 of `content`.
    pub fn digest_of(mut self, content: &[u8]) -> Self {
        self.digest = Some(sha256_hex(content));
        self
    }
}

/// A stored audit event, as verified and exported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct StoredAuditEvent {
    /// Position in the chain, from 1.
    pub seq: i64,
    /// Unix milliseconds.
    pub at: i64,
    /// Acting user id, if any.
    pub actor: Option<i64>,
    /// Verb.
    pub action: String,
    /// Kind of object.
    pub object_type: String,
    /// Object id.
    pub object_id: Option<String>,
    /// Project id.
    pub project_id: Option<i64>,
    /// Content digest.
    pub digest: Option<String>,
    /// Hash of the previous event.
    pub prev_hash: String,
    /// Hash of this event.
    pub hash: String,
}

/// Hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex(&Sha256::digest(bytes))
}

/// The canonical encoding hashed into the chain: a JSON array in fixed field order.
pub fn canonical(e: &StoredAuditEvent) -> String {
    serde_json::json!([
        e.seq,
        e.at,
        e.actor,
        e.action,
        e.object_type,
        e.object_id,
        e.project_id,
        e.digest
    ])
    .to_string()
}

/// The hash of an event whose predecessor hashed to `prev_hash`.
pub fn chain_hash(prev_hash: &str, e: &StoredAuditEvent) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical(e).as_bytes());
    hex(&h.finalize())
}

/// Checks events in sequence order, continuing from `prev` (the hash before the first
/// of them, [`GENESIS`] at the start); returns the last hash or names the first broken
/// link.
pub fn verify_links<'a>(
    mut prev: (i64, String),
    events: impl IntoIterator<Item = &'a StoredAuditEvent>,
) -> Result<(i64, String), String> {
    for e in events {
        if e.seq != prev.0 + 1 {
            return Err(format!(
                "event {} follows event {}: events {}..{} are missing",
                e.seq,
                prev.0,
                prev.0 + 1,
                e.seq - 1
            ));
        }
        if e.prev_hash != prev.1 {
            return Err(format!(
                "event {} does not link to event {} (its previous hash differs)",
                e.seq, prev.0
            ));
        }
        if chain_hash(&e.prev_hash, e) != e.hash {
            return Err(format!(
                "event {} ({} {}) was altered: its hash does not match its content",
                e.seq, e.action, e.object_type
            ));
        }
        prev = (e.seq, e.hash.clone());
    }
    Ok(prev)
}

fn stored(seq: i64, prev_hash: String, at: i64, e: &AuditEvent) -> StoredAuditEvent {
    let mut s = StoredAuditEvent {
        seq,
        at,
        actor: e.actor.map(|u| u.0),
        action: e.action.as_str().to_owned(),
        object_type: e.object_type.to_owned(),
        object_id: e.object_id.clone(),
        project_id: e.project.map(|p| p.0),
        digest: e.digest.clone(),
        prev_hash,
        hash: String::new(),
    };
    s.hash = chain_hash(&s.prev_hash, &s);
    s
}

/// Appends `event` inside an SQLite transaction (SQLite has one writer, so the chain's
/// tail cannot move under us). Takes the connection a transaction (or a savepoint of a
/// grouped commit) derefs to; call it only inside one.
pub fn sqlite_append(tx: &rusqlite::Connection, event: &AuditEvent) -> Result<()> {
    // Cached: the engine appends twice a cycle, and parsing this each time showed in
    // the writer's profile.
    let (seq, prev): (i64, String) = tx
        .prepare_cached("SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1")?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))
        .or_else(|e| match e {
            rusqlite::Error::QueryReturnedNoRows => Ok((0, GENESIS.to_owned())),
            e => Err(e),
        })?;
    let s = stored(seq + 1, prev, now_ms(), event);
    tx.prepare_cached(
        "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    )?
    .execute(rusqlite::params![
        s.seq, s.at, s.actor, s.action, s.object_type, s.object_id, s.project_id, s.digest, s.prev_hash, s.hash
    ])?;
    Ok(())
}

/// Arbitrary constant naming the audit chain's lock.
const AUDIT_LOCK: i64 = 0x6175_6469_7400;

/// Events linked per sealing transaction.
const SEAL_BATCH: i64 = 4096;

/// Records `event` inside a PostgreSQL transaction, as a pending event that commits or
/// rolls back with the change it records; [`pg_seal`] links it into the chain later.
///
/// Why not link it here: the chain's tail must not move between reading it and
/// committing, so linking in the transaction means a lock held through every commit's
/// fsync, which serialised every writer of every server process (194 cycles/s for two
/// servers). Pending events are sealed within [`SEAL_INTERVAL`] by the process that
/// wrote them, and before anyone reads the chain.
pub async fn pg_append(tx: &tokio_postgres::Transaction<'_>, event: &AuditEvent) -> Result<()> {
    use tokio_postgres::types::Type;
    let rows = PgEvents::of(std::slice::from_ref(event), now_ms());
    // Typed parameters: one round trip, no statement to prepare first.
    let types = [
        Type::INT8_ARRAY,
        Type::INT8_ARRAY,
        Type::TEXT_ARRAY,
        Type::TEXT_ARRAY,
        Type::TEXT_ARRAY,
        Type::INT8_ARRAY,
        Type::TEXT_ARRAY,
    ];
    let params: Vec<_> = rows.params().into_iter().zip(types).collect();
    tx.query_typed(&pg_pending_insert(1), &params)
        .await
        .map_err(StoreError::from)?;
    mark_pending_written();
    Ok(())
}

/// The insert every PostgreSQL audit event goes through, as pending rows: the events
/// as seven parallel arrays in parameters `$first` to `$first + 6` ([`PgEvents`]), so
/// one statement, or one CTE of a larger statement, records any number of them in order.
pub(crate) fn pg_pending_insert(first: usize) -> String {
    let p = |i: usize, ty: &str| format!("${}::{ty}[]", first + i);
    format!(
        "INSERT INTO audit_pending (at, actor, action, object_type, object_id, project_id, digest)
         SELECT * FROM unnest({}, {}, {}, {}, {}, {}, {})",
        p(0, "bigint"),
        p(1, "bigint"),
        p(2, "text"),
        p(3, "text"),
        p(4, "text"),
        p(5, "bigint"),
        p(6, "text"),
    )
}

/// Events as the parameters of [`pg_pending_insert`].
pub(crate) struct PgEvents {
    at: Vec<i64>,
    actor: Vec<Option<i64>>,
    action: Vec<&'static str>,
    object_type: Vec<&'static str>,
    object_id: Vec<Option<String>>,
    project: Vec<Option<i64>>,
    digest: Vec<Option<String>>,
}

impl PgEvents {
    /// `events`, in order, all at `at`.
    pub(crate) fn of(events: &[AuditEvent], at: i64) -> PgEvents {
        PgEvents {
            at: vec![at; events.len()],
            actor: events.iter().map(|e| e.actor.map(|u| u.0)).collect(),
            action: events.iter().map(|e| e.action.as_str()).collect(),
            object_type: events.iter().map(|e| e.object_type).collect(),
            object_id: events.iter().map(|e| e.object_id.clone()).collect(),
            project: events.iter().map(|e| e.project.map(|p| p.0)).collect(),
            digest: events.iter().map(|e| e.digest.clone()).collect(),
        }
    }

    /// The seven parameters, in [`pg_pending_insert`]'s order.
    pub(crate) fn params(&self) -> [&(dyn tokio_postgres::types::ToSql + Sync); 7] {
        [
            &self.at,
            &self.actor,
            &self.action,
            &self.object_type,
            &self.object_id,
            &self.project,
            &self.digest,
        ]
    }
}

/// Set when this process wrote a pending event that its sealer has not yet swept.
static PENDING_WRITTEN: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// How often a server's sealer looks for events this process wrote.
pub const SEAL_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// How often it sweeps regardless (events of a process that died before sealing).
pub const SWEEP_INTERVAL: std::time::Duration = std::time::Duration::from_secs(5);

/// Whether this process wrote pending events since the last call (and clears the flag).
pub fn take_pending_written() -> bool {
    PENDING_WRITTEN.swap(false, std::sync::atomic::Ordering::Relaxed)
}

/// Asks this process's sealer to look again (after a failed pass).
pub fn mark_pending_written() {
    PENDING_WRITTEN.store(true, std::sync::atomic::Ordering::Relaxed);
}

/// Links every committed pending event into the chain, oldest pending id first, and
/// returns how many it linked. Sealers of all processes take turns under an advisory
/// lock; each batch moves events from `audit_pending` to `audit_events` in one
/// transaction, so an event is either pending or linked, never lost or linked twice.
pub async fn pg_seal(client: &mut tokio_postgres::Client) -> Result<u64> {
    let mut sealed = 0u64;
    loop {
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&AUDIT_LOCK])
            .await?;
        let rows = tx
            .query(
                "DELETE FROM audit_pending WHERE id IN
                   (SELECT id FROM audit_pending ORDER BY id LIMIT $1)
                 RETURNING id, at, actor, action, object_type, object_id, project_id, digest",
                &[&SEAL_BATCH],
            )
            .await?;
        if rows.is_empty() {
            tx.commit().await?;
            return Ok(sealed);
        }
        let mut pending: Vec<(i64, StoredAuditEvent)> = rows
            .iter()
            .map(|r| {
                (
                    r.get(0),
                    StoredAuditEvent {
                        seq: 0,
                        at: r.get(1),
                        actor: r.get(2),
                        action: r.get(3),
                        object_type: r.get(4),
                        object_id: r.get(5),
                        project_id: r.get(6),
                        digest: r.get(7),
                        prev_hash: String::new(),
                        hash: String::new(),
                    },
                )
            })
            .collect();
        pending.sort_by_key(|(id, _)| *id);
        let (mut seq, mut prev) = match tx
            .query_opt(
                "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .await?
        {
            Some(r) => (r.get::<_, i64>(0), r.get::<_, String>(1)),
            None => (0, GENESIS.to_owned()),
        };
        let n = pending.len();
        let mut cols = SealColumns::with_capacity(n);
        for (_, mut e) in pending {
            seq += 1;
            e.seq = seq;
            e.prev_hash = std::mem::take(&mut prev);
            e.hash = chain_hash(&e.prev_hash, &e);
            prev = e.hash.clone();
            cols.push(e);
        }
        tx.execute(
            "INSERT INTO audit_events (seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash)
             OVERRIDING SYSTEM VALUE
             SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::text[],
                                  $6::text[], $7::bigint[], $8::text[], $9::text[], $10::text[])",
            &[
                &cols.seq, &cols.at, &cols.actor, &cols.action, &cols.object_type, &cols.object_id,
                &cols.project_id, &cols.digest, &cols.prev_hash, &cols.hash,
            ],
        )
        .await?;
        tx.commit().await?;
        sealed += n as u64;
        if (n as i64) < SEAL_BATCH {
            return Ok(sealed);
        }
    }
}

/// A batch of linked events as one array per column, for a single `unnest` insert.
#[derive(Default)]
struct SealColumns {
    seq: Vec<i64>,
    at: Vec<i64>,
    actor: Vec<Option<i64>>,
    action: Vec<String>,
    object_type: Vec<String>,
    object_id: Vec<Option<String>>,
    project_id: Vec<Option<i64>>,
    digest: Vec<Option<String>>,
    prev_hash: Vec<String>,
    hash: Vec<String>,
}

impl SealColumns {
    fn with_capacity(n: usize) -> Self {
        SealColumns {
            seq: Vec::with_capacity(n),
            at: Vec::with_capacity(n),
            actor: Vec::with_capacity(n),
            action: Vec::with_capacity(n),
            object_type: Vec::with_capacity(n),
            object_id: Vec::with_capacity(n),
            project_id: Vec::with_capacity(n),
            digest: Vec::with_capacity(n),
            prev_hash: Vec::with_capacity(n),
            hash: Vec::with_capacity(n),
        }
    }

    fn push(&mut self, e: StoredAuditEvent) {
        self.seq.push(e.seq);
        self.at.push(e.at);
        self.actor.push(e.actor);
        self.action.push(e.action);
        self.object_type.push(e.object_type);
        self.object_id.push(e.object_id);
        self.project_id.push(e.project_id);
        self.digest.push(e.digest);
        self.prev_hash.push(e.prev_hash);
        self.hash.push(e.hash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredAuditEvent> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let e = stored(
                    seq,
                    prev.clone(),
                    1000 + seq,
                    &AuditEvent::new(AuditAction::ItemImport, "item").object(seq),
                );
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    #[test]
    fn intact_chain_verifies_and_any_edit_is_named() {
        let events = chain(5);
        assert!(verify_links((0, GENESIS.into()), &events).is_ok());
        let mut edited = events.clone();
        edited[2].object_id = Some("forged".into());
        assert!(
            verify_links((0, GENESIS.into()), &edited)
                .unwrap_err()
                .contains("event 3")
        );
        let mut deleted = events.clone();
        deleted.remove(1);
        assert!(
            verify_links((0, GENESIS.into()), &deleted)
                .unwrap_err()
                .contains("event 3 follows event 1")
        );
        let mut relinked = events;
        relinked.remove(4);
        relinked[3].actor = Some(7);
        relinked[3].hash = chain_hash(&relinked[3].prev_hash, &relinked[3]);
        // Rehashing one event is caught only if later events exist; the tail is what
        // `verify` reports as the last hash, for auditors to pin.
        assert!(verify_links((0, GENESIS.into()), &relinked).is_ok());
    }
}
