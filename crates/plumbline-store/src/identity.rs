//! Identity and access in the store: users, project members and their roles,
//! expertise with verification, API tokens, and reading the audit chain.

use crate::Result;
use crate::audit::{AuditEvent, StoredAuditEvent};
use plumbline_domain::{Expertise, ProjectId, ProjectRole, Scopes, UserId};
use serde::Serialize;
use std::future::Future;

/// What a token-authenticated request in a project reads before anything else (see
/// [`IdentityStore::project_access`]).
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    /// The token whose secret hashes to the given hash, live or not.
    pub token: Option<TokenRecord>,
    /// The project of the given name.
    pub project: Option<crate::model::Project>,
    /// The token user's role in that project, if they are a member.
    pub role: Option<ProjectRole>,
}

/// A user to create.
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Unique login name.
    pub name: String,
    /// Argon2id PHC string, or `None` for a user who cannot log in (API tokens only).
    pub password_hash: Option<String>,
    /// Instance administrator.
    pub is_admin: bool,
}

/// A stored user. The password hash is never part of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct User {
    /// Database id.
    pub id: UserId,
    /// Login name.
    pub name: String,
    /// Instance administrator.
    pub is_admin: bool,
    /// Disabled users cannot log in or use tokens.
    pub disabled: bool,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
}

/// One expertise claim of a user, with who verified it and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct ExpertiseRecord {
    /// The claim.
    #[schema(value_type = String)]
    pub expertise: Expertise,
    /// Who proposed it (`None`: the command line).
    pub proposed_by: Option<UserId>,
    /// Who verified it; routing only counts verified expertise.
    pub verified_by: Option<UserId>,
    /// When it was verified, Unix milliseconds.
    pub verified_at: Option<i64>,
}

/// A member of a project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Member {
    /// The user.
    pub user: User,
    /// Their role in the project.
    pub role: ProjectRole,
}

/// An API token as stored: only the SHA-256 of its secret.
#[derive(Debug, Clone, Serialize)]
pub struct TokenRecord {
    /// Token id (shown in listings, used to revoke).
    pub id: i64,
    /// Owner.
    pub user: User,
    /// What it may do.
    #[serde(serialize_with = "scopes_as_string")]
    pub scopes: Scopes,
    /// Creation time, Unix milliseconds.
    pub created_at: i64,
    /// Expiry, Unix milliseconds; `None` never expires.
    pub expires_at: Option<i64>,
    /// When it was revoked.
    pub revoked_at: Option<i64>,
}

fn scopes_as_string<S: serde::Serializer>(s: &Scopes, ser: S) -> Result<S::Ok, S::Error> {
    ser.serialize_str(&s.to_string())
}

impl TokenRecord {
    /// True when the token may be used at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.revoked_at.is_none() && self.expires_at.is_none_or(|e| now < e) && !self.user.disabled
    }
}

/// A live browser session, as the server sees it.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    /// Whose session.
    pub user: User,
    /// The token that cookie-authenticated mutations must echo (CSRF).
    pub csrf_token: String,
}

/// What a page of the audit log is narrowed to; `None` fields do not narrow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    /// Only this action (`login.fail`).
    pub action: Option<String>,
    /// Only events by this user id.
    pub actor: Option<i64>,
    /// Only events in this project id.
    pub project: Option<i64>,
    /// Only events at or after this time, Unix ms.
    pub since: Option<i64>,
}

/// How long sessions live.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// A session unused this long (ms) ends.
    pub idle_ms: i64,
    /// A session ends this long (ms) after login, however busy.
    pub absolute_ms: i64,
}

/// Users, roles, expertise, tokens, sessions and the audit log.
pub trait IdentityStore: Send + Sync {
    /// Creates a user; a taken name is a conflict.
    fn create_user(
        &self,
        actor: Option<UserId>,
        new: NewUser,
    ) -> impl Future<Output = Result<User>> + Send;

    /// The user called `name`.
    fn user_by_name(&self, name: &str) -> impl Future<Output = Result<User>> + Send;

    /// The user with `id`.
    fn user_by_id(&self, id: UserId) -> impl Future<Output = Result<User>> + Send;

    /// The password hash of an enabled user called `name`, for login.
    fn password_hash(
        &self,
        name: &str,
    ) -> impl Future<Output = Result<Option<(User, String)>>> + Send;

    /// Every user, by name.
    fn list_users(&self) -> impl Future<Output = Result<Vec<User>>> + Send;

    /// Disables (or re-enables) a user; their tokens stop working at once.
    fn set_user_disabled(
        &self,
        actor: Option<UserId>,
        user: UserId,
        disabled: bool,
    ) -> impl Future<Output = Result<User>> + Send;

    /// Replaces a user's password hash (`None`: the user cannot log in) and ends every
    /// session of theirs except `keep` (the session a user changed their own password
    /// from). Audited as `user.password` when `actor` is the user, else as a reset.
    /// Tokens are separate credentials and stay.
    fn set_password(
        &self,
        actor: Option<UserId>,
        user: UserId,
        phc: Option<String>,
        keep: Option<[u8; 32]>,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Gives `user` a `role` in `project` (replacing any earlier role).
    fn add_member(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Takes `user` out of `project`: they no longer see it, and their open leases
    /// there go back to the pool; what they submitted stays. Not a member: not found;
    /// the project's last lead: a conflict.
    fn remove_member(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        user: UserId,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The role of `user` in `project`, if a member.
    fn member_role(
        &self,
        project: ProjectId,
        user: UserId,
    ) -> impl Future<Output = Result<Option<ProjectRole>>> + Send;

    /// The members of a project, by name.
    fn members(&self, project: ProjectId) -> impl Future<Output = Result<Vec<Member>>> + Send;

    /// Records an expertise claim (unverified). A claim for a domain the user already
    /// has replaces it and clears its verification.
    fn propose_expertise(
        &self,
        actor: Option<UserId>,
        user: UserId,
        expertise: Expertise,
    ) -> impl Future<Output = Result<()>> + Send;

    /// Verifies the user's claim in `domain`, recording who and when.
    fn verify_expertise(
        &self,
        actor: Option<UserId>,
        user: UserId,
        domain: &str,
    ) -> impl Future<Output = Result<ExpertiseRecord>> + Send;

    /// Every expertise claim of a user.
    fn expertise(&self, user: UserId) -> impl Future<Output = Result<Vec<ExpertiseRecord>>> + Send;

    /// Stores a token by the SHA-256 of its secret; returns its id.
    fn create_token(
        &self,
        actor: Option<UserId>,
        user: UserId,
        secret_hash: [u8; 32],
        scopes: Scopes,
        expires_at: Option<i64>,
    ) -> impl Future<Output = Result<i64>> + Send;

    /// Revokes a token; revoking twice is a conflict.
    fn revoke_token(
        &self,
        actor: Option<UserId>,
        id: i64,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The token whose secret hashes to `secret_hash`, live or not.
    fn token_by_hash(
        &self,
        secret_hash: [u8; 32],
    ) -> impl Future<Output = Result<Option<TokenRecord>>> + Send;

    /// [`token_by_hash`](Self::token_by_hash), the project called `project` and the
    /// token user's [`member_role`](Self::member_role) there, read together (one
    /// statement on PostgreSQL, one reader on SQLite): every token-authenticated
    /// request in a project needs all three before it does anything.
    fn project_access(
        &self,
        secret_hash: [u8; 32],
        project: &str,
    ) -> impl Future<Output = Result<ProjectAccess>> + Send;

    /// Every token of a user.
    fn tokens(&self, user: UserId) -> impl Future<Output = Result<Vec<TokenRecord>>> + Send;

    /// Starts a session keyed by the SHA-256 of its cookie secret; records the login.
    fn create_session(
        &self,
        user: UserId,
        secret_hash: [u8; 32],
        csrf_token: String,
        limits: SessionLimits,
    ) -> impl Future<Output = Result<()>> + Send;

    /// The live session for `secret_hash` (not revoked, within its idle and absolute
    /// limits, its user enabled), marking it used at `now`.
    fn touch_session(
        &self,
        secret_hash: [u8; 32],
        limits: SessionLimits,
    ) -> impl Future<Output = Result<Option<SessionRecord>>> + Send;

    /// Ends a session (logout); unknown sessions are ignored.
    fn revoke_session(&self, secret_hash: [u8; 32]) -> impl Future<Output = Result<()>> + Send;

    /// Until when (Unix ms) logins under throttle `key` are refused after repeated
    /// failures. A key is the server's keyed digest of a (name, client address) pair,
    /// `NAME_DIGEST/CLIENT_DIGEST`, so no name is stored as typed.
    fn login_locked_until(&self, key: &str) -> impl Future<Output = Result<Option<i64>>> + Send;

    /// Records a failed login under `key` (and its `login.fail` audit event naming
    /// `subject`: the user's name, or a digest for a name that is no user's); returns
    /// until when further attempts are refused: doubling back-off after the fifth.
    fn record_login_failure(
        &self,
        key: &str,
        subject: &str,
    ) -> impl Future<Output = Result<i64>> + Send;

    /// Forgets the failures of `key` after a successful login.
    fn clear_login_failures(&self, key: &str) -> impl Future<Output = Result<()>> + Send;

    /// Lifts every throttle of one name, from every client address (`name_digest`: the
    /// part of the keys before `/`); audited as `login.unlock` of `subject`. Returns the
    /// number of throttles lifted.
    fn lift_login_throttle(
        &self,
        actor: Option<UserId>,
        name_digest: &str,
        subject: &str,
    ) -> impl Future<Output = Result<u64>> + Send;

    /// Appends an event that records no other change (a failed login, a refused access).
    fn record_event(&self, event: AuditEvent) -> impl Future<Output = Result<()>> + Send;

    /// Links audit events of committed transactions into the chain. PostgreSQL
    /// writes events pending and seals them shortly after commit; readers of the chain
    /// and a short-lived process before it exits call this. SQLite links at write time.
    fn seal_audit(&self) -> impl Future<Output = Result<()>> + Send;

    /// The audit key and the anchor file this store writes the chain with.
    fn audit_trail(&self) -> &crate::audit::AuditTrail;

    /// Seals the chain and writes a checkpoint of its head to the anchor file now
    /// (unless this process already did that far). Every command calls it before it
    /// exits; a serving process also writes one every `ANCHOR_INTERVAL` while events
    /// come in.
    fn anchor_audit(&self) -> impl Future<Output = Result<()>> + Send;

    /// Audit events with `seq < before` (every event when `None`) that pass `filter`,
    /// newest first, at most `limit` (sealed first): a page of the readable log.
    fn audit_events_newest(
        &self,
        before: Option<i64>,
        limit: u32,
        filter: AuditFilter,
    ) -> impl Future<Output = Result<Vec<StoredAuditEvent>>> + Send;

    /// Audit events with `seq > after`, oldest first, at most `limit` (sealed first).
    fn audit_events(
        &self,
        after: i64,
        limit: u32,
    ) -> impl Future<Output = Result<Vec<StoredAuditEvent>>> + Send;
}

/// Failures allowed before back-off starts.
pub const FREE_LOGIN_FAILURES: i64 = 5;

/// The lock after `failures` consecutive failures: none up to five, then 2^(n-5)
/// seconds, capped at 15 minutes.
pub fn login_backoff_ms(failures: i64) -> i64 {
    if failures < FREE_LOGIN_FAILURES {
        0
    } else {
        let exp = (failures - FREE_LOGIN_FAILURES).min(10) as u32;
        (1000i64 << exp).min(15 * 60 * 1000)
    }
}
