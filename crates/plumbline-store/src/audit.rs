//! The audit chain: one append-only event per mutation, written in the same
//! transaction as the change it records, each hashed over its predecessor's hash.
//!
//! `hash = HMAC-SHA-256(key, prev_hash ‖ "\n" ‖ canonical)`, where `canonical` is the
//! event's JSON with its fields in a fixed order (see [`canonical`]) and `key` is the
//! audit key ([`AuditTrail`]), kept outside the database: someone holding only the
//! database cannot recompute a hash. Events written before a database had a key are
//! plain `SHA-256(prev_hash ‖ "\n" ‖ canonical)` ([`chain_hash`]); they may only form a
//! prefix of the chain. Changing, inserting or deleting any event breaks every hash
//! after it, which [`ChainCheck`] names; signed checkpoints of the head in an anchor
//! file outside the database catch a cut tail (see [`AuditTrail`]).
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
use std::path::{Path, PathBuf};

/// The hash that stands before the first event.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

crate::states::stored_enum! {
    /// What happened, as `noun.verb`: the stored `action` of an event.
    AuditAction, "audit action" {
        /// A user was created.
        UserCreate = "user.create",
        /// An administrator issued a one-time link to choose a password (earlier
        /// unused links of the user stop working).
        UserInvite = "user.invite",
        /// An invited user chose their password through their link.
        UserInviteAccept = "user.invite_accept",
        /// A user was disabled.
        UserDisable = "user.disable",
        /// A user was enabled again.
        UserEnable = "user.enable",
        /// A user changed their own password (their other sessions ended).
        PasswordChange = "user.password",
        /// An admin reset a user's password (their sessions ended).
        PasswordReset = "user.password_reset",
        /// An admin lifted the login throttle of a name.
        LoginUnlock = "login.unlock",
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
        /// A member was removed from a project.
        MemberRemove = "member.remove",
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
        /// An item's audio was read (served, whole or a range).
        ItemRead = "item.read",
        /// Audio was uploaded to be named by items imported after it.
        MediaUpload = "media.upload",
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
        /// A reviewer proposed a gold answer for a lead to decide.
        GoldCandidatePropose = "gold.candidate.propose",
        /// A lead accepted a proposed gold answer (its `gold.add` follows).
        GoldCandidateAccept = "gold.candidate.accept",
        /// A lead rejected a proposed gold answer.
        GoldCandidateReject = "gold.candidate.reject",
        /// A comment was added to an item's thread (digest: the comment's text).
        CommentAdd = "comment.add",
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

    /// Sets the digest of `content`: stored as the HMAC of its SHA-256 under the audit
    /// key (see [`content_digest`]), so a short text cannot be recovered by hashing
    /// guesses. Until the event is linked it holds the SHA-256, marked to be keyed.
    pub fn digest_of(mut self, content: &[u8]) -> Self {
        self.digest = Some(format!("{TO_KEY}{}", sha256_hex(content)));
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

/// Marks a digest that is keyed when its event is linked ([`AuditEvent::digest_of`]);
/// a digest without it (a release's manifest hash) is stored as given.
const TO_KEY: &str = "k:";

/// The digest an event records for `content`: hex HMAC-SHA-256 under the audit key of
/// the content's hex SHA-256.
pub fn content_digest(key: &AuditKey, content: &[u8]) -> String {
    keyed_digest(key, &sha256_hex(content))
}

fn keyed_digest(key: &AuditKey, sha256: &str) -> String {
    key.mac(&[b"plumbline audit digest\n", sha256.as_bytes()])
}

/// The digest as linked: keyed if it was marked to be.
fn link_digest(key: &AuditKey, digest: Option<String>) -> Option<String> {
    digest.map(|d| match d.strip_prefix(TO_KEY) {
        Some(sha256) => keyed_digest(key, sha256),
        None => d,
    })
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

/// The unkeyed hash of an event whose predecessor hashed to `prev_hash`: how events
/// were hashed before the audit key (accepted only as a prefix of the chain).
pub fn chain_hash(prev_hash: &str, e: &StoredAuditEvent) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical(e).as_bytes());
    hex(&h.finalize())
}

/// The keyed hash of an event whose predecessor hashed to `prev_hash`.
pub fn keyed_hash(key: &AuditKey, prev_hash: &str, e: &StoredAuditEvent) -> String {
    key.mac(&[prev_hash.as_bytes(), b"\n", canonical(e).as_bytes()])
}

/// Checks events in sequence order under `key`, continuing from `prev` (the hash
/// before the first of them, [`GENESIS`] at the start), without an anchor; returns the
/// last hash or names the first broken link. See [`ChainCheck`] for the whole check.
pub fn verify_links<'a>(
    key: &AuditKey,
    prev: (i64, String),
    events: impl IntoIterator<Item = &'a StoredAuditEvent>,
) -> Result<(i64, String), String> {
    let mut check = ChainCheck::new(key, None, None);
    check.prev = prev;
    check.feed(events)?;
    Ok(check.prev)
}

/// Events read per page when walking the chain.
const VERIFY_PAGE: u32 = 20_000;

/// Walks `store`'s whole chain under its audit key and against its anchor file (and the
/// expected head, if given): what verified, or the first broken link.
pub async fn verify_chain<S: crate::IdentityStore>(
    store: &S,
    expect: Option<String>,
) -> Result<Result<Verified, String>> {
    let trail = store.audit_trail();
    let anchor = trail.read_anchor()?;
    let mut check = ChainCheck::new(trail.key(), anchor, expect);
    loop {
        let page = store.audit_events(check.head().0, VERIFY_PAGE).await?;
        if page.is_empty() {
            return Ok(check.finish());
        }
        if let Err(broken) = check.feed(&page) {
            return Ok(Err(broken));
        }
    }
}

/// The audit key: 32 secret bytes that every hash of the chain and every line of the
/// anchor is keyed with. Never stored in the database, never printed.
#[derive(Clone)]
pub struct AuditKey([u8; 32]);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AuditKey(..)")
    }
}

impl AuditKey {
    /// A key from 64 hex digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<AuditKey, String> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err("an audit key is 64 hex digits (32 bytes)".into());
        }
        let mut key = [0u8; 32];
        for (i, k) in key.iter_mut().enumerate() {
            *k = u8::from_str_radix(&text[2 * i..2 * i + 2], 16)
                .map_err(|_| "an audit key is 64 hex digits (32 bytes)".to_owned())?;
        }
        Ok(AuditKey(key))
    }

    /// Hex HMAC-SHA-256 of the concatenated `parts`.
    pub fn mac(&self, parts: &[&[u8]]) -> String {
        use hmac::{KeyInit, Mac};
        let mut m = hmac::Hmac::<sha2_hmac::Sha256>::new_from_slice(&self.0)
            .expect("HMAC takes a key of any length");
        for p in parts {
            m.update(p);
        }
        hex(&m.finalize().into_bytes())
    }
}

/// The environment variable that holds the audit key (64 hex digits); it takes the
/// place of the key file.
pub const KEY_ENV: &str = "PLUMBLINE_AUDIT_KEY";

/// The key file's name in the audit directory.
pub const KEY_FILE: &str = "audit.key";

/// The anchor file's name in the audit directory.
pub const ANCHOR_FILE: &str = "audit.anchor";

/// Least time between two checkpoints written in the background: one short line at
/// most this often while events come in, none while the chain stands still, and one
/// when a process closes the store.
pub const ANCHOR_INTERVAL: std::time::Duration = std::time::Duration::from_secs(10);

/// The audit key and the anchor file, both in the audit directory outside the database
/// (beside the SQLite file, or the directory the operator names).
///
/// The anchor file is append-only text, one signed line per checkpoint:
/// `checkpoint SEQ HASH MAC` says event SEQ hashed to HASH when it was written, and
/// `keyed SEQ HASH MAC`, written once when the key is first used, says also that every
/// event after SEQ is keyed. MAC is the HMAC of the kind, SEQ and HASH under the audit
/// key. Lines are appended without a sync (the cost of a write now and then, never per
/// event); a line lost in a power failure weakens the check, it never breaks it.
pub struct AuditTrail {
    key: AuditKey,
    /// Whether this process created the key file (the chain is cut over now).
    created: Option<PathBuf>,
    anchor: PathBuf,
    /// The last checkpoint this process wrote, and when.
    anchored: std::sync::Mutex<(i64, std::time::Instant)>,
}

impl std::fmt::Debug for AuditTrail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuditTrail")
            .field("anchor", &self.anchor)
            .finish_non_exhaustive()
    }
}

impl AuditTrail {
    /// The trail in `dir`: the key from [`KEY_ENV`] if set, else from `dir/audit.key`,
    /// created (0600, 32 random bytes as hex) when missing. A key in the environment
    /// that differs from an existing key file is refused: every process writing one
    /// chain needs the same key.
    pub fn open(dir: &Path) -> Result<AuditTrail> {
        let bad = |what: String| StoreError::Invalid(what);
        let file = dir.join(KEY_FILE);
        let read_file = || -> Result<Option<AuditKey>> {
            match std::fs::read_to_string(&file) {
                Ok(text) => AuditKey::from_hex(&text)
                    .map(Some)
                    .map_err(|e| bad(format!("audit key file {}: {e}", file.display()))),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(bad(format!(
                    "cannot read the audit key file {}: {e}",
                    file.display()
                ))),
            }
        };
        let mut created = None;
        let key = match std::env::var(KEY_ENV) {
            Ok(text) => {
                let key = AuditKey::from_hex(&text).map_err(|e| bad(format!("{KEY_ENV}: {e}")))?;
                if read_file()?.is_some_and(|k| k.0 != key.0) {
                    return Err(bad(format!(
                        "{KEY_ENV} differs from the audit key file {}: every process writing \
                         one audit chain needs the same key",
                        file.display()
                    )));
                }
                key
            }
            Err(_) => match read_file()? {
                Some(key) => key,
                None => {
                    let fresh = AuditKey::from_hex(&crate::random_hex(32)?)
                        .map_err(StoreError::Database)?;
                    crate::files::create_dir_all(dir).map_err(|e| {
                        bad(format!("cannot create directory {}: {e}", dir.display()))
                    })?;
                    // Written whole to a temporary name, then linked into place: a process
                    // starting beside this one reads a whole key or makes its own first.
                    let tmp = dir.join(format!(".{KEY_FILE}.{}", crate::random_hex(8)?));
                    crate::files::write(&tmp, format!("{}\n", hex(&fresh.0))).map_err(|e| {
                        bad(format!("cannot write the audit key {}: {e}", tmp.display()))
                    })?;
                    let linked = std::fs::hard_link(&tmp, &file);
                    let _ = std::fs::remove_file(&tmp);
                    match linked {
                        Ok(()) => {
                            created = Some(file.clone());
                            fresh
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_file()?
                            .ok_or_else(|| {
                                bad(format!("the audit key file {} vanished", file.display()))
                            })?,
                        Err(e) => {
                            return Err(bad(format!(
                                "cannot create the audit key {}: {e}",
                                file.display()
                            )));
                        }
                    }
                }
            },
        };
        Ok(AuditTrail {
            key,
            created,
            anchor: dir.join(ANCHOR_FILE),
            anchored: std::sync::Mutex::new((0, std::time::Instant::now())),
        })
    }

    /// The key.
    pub fn key(&self) -> &AuditKey {
        &self.key
    }

    /// The anchor file.
    pub fn anchor_path(&self) -> &Path {
        &self.anchor
    }

    /// Called once at open with the chain's last event: records the cut-over to keyed
    /// hashes in the anchor when it holds none yet (`keyed SEQ HASH`). A key this
    /// process has just made, over a chain whose last event is not a plain unkeyed one,
    /// is refused and removed: that chain is keyed under a key this process lacks.
    pub(crate) fn start(&self, head: Option<&StoredAuditEvent>) -> Result<()> {
        let unkeyed_head = head.is_none_or(|e| chain_hash(&e.prev_hash, e) == e.hash);
        if let Some(file) = &self.created
            && !unkeyed_head
        {
            let _ = std::fs::remove_file(file);
            return Err(StoreError::Invalid(format!(
                "the audit chain is keyed, but {} was missing: restore the audit key \
                 (the file, or {KEY_ENV}) that this database was written with",
                file.display()
            )));
        }
        let has_cut_over = match std::fs::read(&self.anchor) {
            Ok(bytes) => bytes.starts_with(b"keyed "),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
            Err(e) => {
                return Err(StoreError::Database(format!(
                    "cannot read the audit anchor {}: {e}",
                    self.anchor.display()
                )));
            }
        };
        if !has_cut_over && unkeyed_head {
            let (seq, hash) = head.map_or((0, GENESIS), |e| (e.seq, e.hash.as_str()));
            self.write_line("keyed", seq, hash)?;
        }
        Ok(())
    }

    /// Whether a background checkpoint is due ([`ANCHOR_INTERVAL`] since the last).
    pub fn due(&self) -> bool {
        self.anchored
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .elapsed()
            >= ANCHOR_INTERVAL
    }

    /// Appends a checkpoint of the head `(seq, hash)` unless this process has already
    /// checkpointed that far.
    pub fn checkpoint(&self, seq: i64, hash: &str) -> Result<()> {
        let mut last = self.anchored.lock().unwrap_or_else(|p| p.into_inner());
        last.1 = std::time::Instant::now();
        if seq <= last.0 {
            return Ok(());
        }
        self.write_line("checkpoint", seq, hash)?;
        last.0 = seq;
        Ok(())
    }

    fn line_mac(&self, kind: &str, seq: i64, hash: &str) -> String {
        self.key.mac(&[
            b"plumbline audit anchor\n",
            kind.as_bytes(),
            b"\n",
            seq.to_string().as_bytes(),
            b"\n",
            hash.as_bytes(),
        ])
    }

    fn write_line(&self, kind: &str, seq: i64, hash: &str) -> Result<()> {
        use std::io::Write;
        let line = format!("{kind} {seq} {hash} {}\n", self.line_mac(kind, seq, hash));
        // One write of a short line to a file opened for appending: lines of several
        // processes never interleave.
        crate::files::append(&self.anchor)
            .and_then(|mut f| f.write_all(line.as_bytes()))
            .map_err(|e| {
                StoreError::Database(format!(
                    "cannot write the audit anchor {}: {e}",
                    self.anchor.display()
                ))
            })
    }

    /// Reads the anchor file: `None` when there is none. A line that does not parse or
    /// whose signature does not match makes the anchor [`Anchor::forged`].
    pub fn read_anchor(&self) -> Result<Option<Anchor>> {
        let text = match std::fs::read(&self.anchor) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(StoreError::Database(format!(
                    "cannot read the audit anchor {}: {e}",
                    self.anchor.display()
                )));
            }
        };
        let mut anchor = Anchor::default();
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            if raw.is_empty() {
                continue;
            }
            let parsed = std::str::from_utf8(raw).ok().and_then(|line| {
                let mut parts = line.split(' ');
                let kind = parts.next()?;
                let seq: i64 = parts.next()?.parse().ok()?;
                let hash = parts.next()?;
                let mac = parts.next()?;
                (parts.next().is_none()
                    && matches!(kind, "keyed" | "checkpoint")
                    && mac == self.line_mac(kind, seq, hash))
                .then(|| (kind == "keyed", seq, hash.to_owned()))
            });
            let Some((keyed, seq, hash)) = parsed else {
                anchor.forged = Some(format!(
                    "line {} of the anchor {} is not signed by the audit key: the anchor was \
                     edited",
                    i + 1,
                    self.anchor.display()
                ));
                break;
            };
            if keyed {
                anchor.keyed_after = Some(anchor.keyed_after.map_or(seq, |k| k.min(seq)));
            }
            anchor.lines += 1;
            if seq > 0 {
                anchor.checkpoints.insert(seq, hash);
            }
        }
        Ok(Some(anchor))
    }
}

/// What the anchor file says about the chain.
#[derive(Debug, Default)]
pub struct Anchor {
    /// Every event after this one is keyed.
    pub keyed_after: Option<i64>,
    /// Checkpointed hashes by sequence number.
    pub checkpoints: std::collections::BTreeMap<i64, String>,
    /// Signed lines read.
    pub lines: usize,
    /// Why the anchor itself cannot be trusted, if it cannot.
    pub forged: Option<String>,
}

/// The whole check of the chain, fed page by page: links, keyed hashes (unkeyed only
/// as a prefix, and never after the anchor's cut-over), the anchor's checkpoints, the
/// head an auditor expects.
pub struct ChainCheck<'k> {
    key: &'k AuditKey,
    prev: (i64, String),
    keyed_seen: bool,
    keyed_after: Option<i64>,
    checkpoints: std::collections::BTreeMap<i64, String>,
    forged_anchor: Option<String>,
    expect: Option<String>,
    expect_seen: bool,
    unkeyed: i64,
}

/// A chain that verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// Events in the chain.
    pub events: i64,
    /// Hash of the last event ([`GENESIS`] when empty).
    pub head: String,
    /// Events hashed before the audit key (a prefix).
    pub unkeyed: i64,
    /// The last checkpointed event, if the anchor holds any.
    pub anchored: Option<i64>,
}

impl<'k> ChainCheck<'k> {
    /// A check under `key`, against `anchor` if there is one, and requiring an event
    /// hashed to `expect` if given.
    pub fn new(key: &'k AuditKey, anchor: Option<Anchor>, expect: Option<String>) -> Self {
        let anchor = anchor.unwrap_or_default();
        ChainCheck {
            key,
            prev: (0, GENESIS.to_owned()),
            keyed_seen: false,
            keyed_after: anchor.keyed_after,
            checkpoints: anchor.checkpoints,
            forged_anchor: anchor.forged,
            expect: expect.map(|e| e.trim().to_ascii_lowercase()),
            expect_seen: false,
            unkeyed: 0,
        }
    }

    /// The last event checked: its sequence number and hash.
    pub fn head(&self) -> (i64, &str) {
        (self.prev.0, &self.prev.1)
    }

    /// Checks the next events, in sequence order; names the first broken link.
    pub fn feed<'a>(
        &mut self,
        events: impl IntoIterator<Item = &'a StoredAuditEvent>,
    ) -> Result<(), String> {
        if let Some(forged) = &self.forged_anchor {
            return Err(forged.clone());
        }
        for e in events {
            let prev = &self.prev;
            if e.seq != prev.0 + 1 {
                return Err(if e.seq <= prev.0 {
                    format!(
                        "event {} comes after event {}: the chain was reordered",
                        e.seq, prev.0
                    )
                } else {
                    format!(
                        "event {} follows event {}: events {}..{} are missing",
                        e.seq,
                        prev.0,
                        prev.0 + 1,
                        e.seq - 1
                    )
                });
            }
            if e.prev_hash != prev.1 {
                return Err(format!(
                    "event {} does not link to event {} (its previous hash differs)",
                    e.seq, prev.0
                ));
            }
            if keyed_hash(self.key, &e.prev_hash, e) == e.hash {
                self.keyed_seen = true;
            } else {
                let must_be_keyed = self.keyed_seen || self.keyed_after.is_some_and(|k| e.seq > k);
                if must_be_keyed || chain_hash(&e.prev_hash, e) != e.hash {
                    return Err(format!(
                        "event {} ({} {}) was altered or forged: its hash does not match its \
                         content under the audit key",
                        e.seq, e.action, e.object_type
                    ));
                }
                self.unkeyed += 1;
            }
            if let Some(h) = self.checkpoints.get(&e.seq)
                && *h != e.hash
            {
                return Err(format!(
                    "event {} differs from the anchor's checkpoint of it: the chain was \
                     rewritten at or before event {}",
                    e.seq, e.seq
                ));
            }
            if self.expect.as_deref() == Some(e.hash.as_str()) {
                self.expect_seen = true;
            }
            self.prev = (e.seq, e.hash.clone());
        }
        Ok(())
    }

    /// Ends the check: the chain must reach the anchor's last checkpoint and hold the
    /// expected hash.
    pub fn finish(self) -> Result<Verified, String> {
        if let Some(forged) = self.forged_anchor {
            return Err(forged);
        }
        let (events, head) = self.prev;
        let anchored = self.checkpoints.keys().next_back().copied();
        if let Some(last) = anchored.filter(|&last| last > events) {
            return Err(if events == 0 {
                format!(
                    "the chain is empty, but the anchor checkpointed event {last}: every \
                     event was deleted"
                )
            } else {
                format!(
                    "the chain ends at event {events}, but the anchor checkpointed event \
                     {last}: events {}..{last} (at least) were deleted",
                    events + 1
                )
            });
        }
        if let Some(expect) = self.expect
            && !self.expect_seen
            && !(expect == GENESIS && events == 0)
        {
            return Err(format!(
                "no event of the chain (1..{events}) has the expected hash {expect}: the \
                 chain was cut or rewritten"
            ));
        }
        Ok(Verified {
            events,
            head,
            unkeyed: self.unkeyed,
            anchored,
        })
    }
}

fn stored(
    key: &AuditKey,
    seq: i64,
    prev_hash: String,
    at: i64,
    e: &AuditEvent,
) -> StoredAuditEvent {
    let mut s = StoredAuditEvent {
        seq,
        at,
        actor: e.actor.map(|u| u.0),
        action: e.action.as_str().to_owned(),
        object_type: e.object_type.to_owned(),
        object_id: e.object_id.clone(),
        project_id: e.project.map(|p| p.0),
        digest: link_digest(key, e.digest.clone()),
        prev_hash,
        hash: String::new(),
    };
    s.hash = keyed_hash(key, &s.prev_hash, &s);
    s
}

/// The audit key of each open SQLite database, by the writer connection's file name:
/// [`sqlite_append`] is handed only a connection.
static SQLITE_KEYS: std::sync::RwLock<std::collections::BTreeMap<String, AuditKey>> =
    std::sync::RwLock::new(std::collections::BTreeMap::new());

/// Registers the key [`sqlite_append`] hashes with on `conn`'s database.
pub(crate) fn register_sqlite_key(conn: &rusqlite::Connection, key: &AuditKey) {
    if let Some(path) = conn.path() {
        SQLITE_KEYS
            .write()
            .unwrap_or_else(|p| p.into_inner())
            .insert(path.to_owned(), key.clone());
    }
}

fn sqlite_key(conn: &rusqlite::Connection) -> Result<AuditKey> {
    conn.path()
        .and_then(|path| {
            SQLITE_KEYS
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .get(path)
                .cloned()
        })
        .ok_or_else(|| StoreError::Database("no audit key for this SQLite database".into()))
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
    let s = stored(&sqlite_key(tx)?, seq + 1, prev, now_ms(), event);
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
/// Returns the last event it linked (sequence number and hash), if any.
pub async fn pg_seal(
    client: &mut tokio_postgres::Client,
    key: &AuditKey,
) -> Result<Option<(i64, String)>> {
    let mut head = None;
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
            return Ok(head);
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
            e.digest = link_digest(key, e.digest.take());
            e.prev_hash = std::mem::take(&mut prev);
            e.hash = keyed_hash(key, &e.prev_hash, &e);
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
        head = Some((seq, prev));
        if (n as i64) < SEAL_BATCH {
            return Ok(head);
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

    fn key() -> AuditKey {
        AuditKey::from_hex(&"ab".repeat(32)).unwrap()
    }

    fn chain(n: i64, keyed_from: i64) -> Vec<StoredAuditEvent> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = stored(
                    &key(),
                    seq,
                    prev.clone(),
                    1000 + seq,
                    &AuditEvent::new(AuditAction::ItemImport, "item").object(seq),
                );
                if seq < keyed_from {
                    e.hash = chain_hash(&e.prev_hash, &e);
                }
                prev = e.hash.clone();
                e
            })
            .collect()
    }

    fn check(events: &[StoredAuditEvent], anchor: Option<Anchor>) -> Result<Verified, String> {
        let key = key();
        let mut c = ChainCheck::new(&key, anchor, None);
        c.feed(events)?;
        c.finish()
    }

    #[test]
    fn intact_chain_verifies_and_any_edit_is_named() {
        let events = chain(5, 1);
        assert_eq!(check(&events, None).unwrap().events, 5);
        let mut edited = events.clone();
        edited[2].object_id = Some("forged".into());
        assert!(check(&edited, None).unwrap_err().contains("event 3"));
        let mut deleted = events.clone();
        deleted.remove(1);
        assert!(
            check(&deleted, None)
                .unwrap_err()
                .contains("event 3 follows event 1")
        );
        // Rehashing the last event without the key is caught.
        let mut relinked = events;
        relinked[4].actor = Some(7);
        relinked[4].hash = chain_hash(&relinked[4].prev_hash, &relinked[4]);
        assert!(check(&relinked, None).unwrap_err().contains("event 5"));
    }

    #[test]
    fn unkeyed_events_verify_only_as_a_prefix() {
        let legacy = chain(6, 4);
        assert_eq!(check(&legacy, None).unwrap().unkeyed, 3);
        // Past the anchor's cut-over, an unkeyed event is refused.
        let anchor = Anchor {
            keyed_after: Some(2),
            ..Anchor::default()
        };
        assert!(
            check(&legacy, Some(anchor))
                .unwrap_err()
                .contains("event 3")
        );
    }

    #[test]
    fn a_cut_tail_is_caught_by_the_anchor_and_by_the_expected_head() {
        let events = chain(5, 1);
        let mut anchor = Anchor::default();
        anchor.checkpoints.insert(5, events[4].hash.clone());
        assert!(
            check(&events[..3], Some(anchor))
                .unwrap_err()
                .contains("ends at event 3")
        );
        let key = key();
        let mut c = ChainCheck::new(&key, None, Some(events[4].hash.clone()));
        c.feed(&events[..4]).unwrap();
        assert!(c.finish().unwrap_err().contains("expected hash"));
    }

    #[test]
    fn keys_parse_from_hex_only() {
        assert!(AuditKey::from_hex("ab").is_err());
        assert!(AuditKey::from_hex(&"zz".repeat(32)).is_err());
        assert!(AuditKey::from_hex(&format!(" {}\n", "0f".repeat(32))).is_ok());
    }
}
