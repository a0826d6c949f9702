//! Identity on PostgreSQL.

use super::PgStore;
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, StoredAuditEvent, pg_append};
use crate::error::StoreError;
use crate::identity::*;
use crate::model::now_ms;
use plumbline_domain::{Expertise, ProjectId, ProjectRole, Scopes, UserId};
use tokio_postgres::Row;

pub(super) const USER_COLUMNS: &str = "u.id, u.name, u.is_admin, u.disabled, u.created_at";

pub(super) fn user(r: &Row, at: usize) -> User {
    User {
        id: UserId(r.get(at)),
        name: r.get(at + 1),
        is_admin: r.get(at + 2),
        disabled: r.get(at + 3),
        created_at: r.get(at + 4),
    }
}

fn parse<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(StoreError::Database)
}

const TOKEN_SELECT: &str = "SELECT t.id, t.scopes, t.created_at, t.expires_at, t.revoked_at, u.id, u.name, u.is_admin, u.disabled, u.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id";

fn token(r: &Row) -> Result<TokenRecord> {
    Ok(TokenRecord {
        id: r.get(0),
        scopes: parse::<Scopes>(r.get(1))?,
        created_at: r.get(2),
        expires_at: r.get(3),
        revoked_at: r.get(4),
        user: user(r, 5),
    })
}

fn expertise(r: &Row) -> Result<ExpertiseRecord> {
    let domain: &str = r.get(0);
    let level: &str = r.get(1);
    Ok(ExpertiseRecord {
        expertise: parse::<Expertise>(&format!("{domain}:{level}"))?,
        proposed_by: r.get::<_, Option<i64>>(2).map(UserId),
        verified_by: r.get::<_, Option<i64>>(3).map(UserId),
        verified_at: r.get(4),
    })
}

/// Session use is recorded at most this often, so reads do not all become writes.
const TOUCH_EVERY_MS: i64 = 60_000;

/// A foreign-key failure on insert means the referenced row is missing.
fn missing(what: String) -> impl FnOnce(tokio_postgres::Error) -> StoreError {
    move |e| match StoreError::from(e) {
        StoreError::Conflict(_) => StoreError::NotFound(what),
        other => other,
    }
}

impl IdentityStore for PgStore {
    async fn create_user(&self, actor: Option<UserId>, new: NewUser) -> Result<User> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "INSERT INTO users (name, password_hash, is_admin, created_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (name) DO NOTHING RETURNING id, name, is_admin, disabled, created_at",
                &[&new.name, &new.password_hash, &new.is_admin, &now_ms()],
            )
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("a user named `{}` exists already", new.name)))?;
        let u = user(&row, 0);
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::UserCreate, "user")
                .by(actor)
                .object(u.id),
        )
        .await?;
        tx.commit().await?;
        Ok(u)
    }

    async fn user_by_name(&self, name: &str) -> Result<User> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.name = $1"),
                &[&name],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user `{name}`")))?;
        Ok(user(&row, 0))
    }

    async fn user_by_id(&self, id: UserId) -> Result<User> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!("SELECT {USER_COLUMNS} FROM users u WHERE u.id = $1"),
                &[&id.0],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        Ok(user(&row, 0))
    }

    async fn password_hash(&self, name: &str) -> Result<Option<(User, String)>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {USER_COLUMNS}, u.password_hash FROM users u
                     WHERE u.name = $1 AND NOT u.disabled AND u.password_hash IS NOT NULL"
                ),
                &[&name],
            )
            .await?;
        Ok(row.map(|r| (user(&r, 0), r.get(5))))
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"),
                &[],
            )
            .await?;
        Ok(rows.iter().map(|r| user(r, 0)).collect())
    }

    async fn set_user_disabled(
        &self,
        actor: Option<UserId>,
        id: UserId,
        disabled: bool,
    ) -> Result<User> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "UPDATE users SET disabled = $2 WHERE id = $1 RETURNING id, name, is_admin, disabled, created_at",
                &[&id.0, &disabled],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {id}")))?;
        if disabled {
            // Disabling ends every session and token for good: re-enabling the account
            // must not bring them back.
            let now = now_ms();
            tx.execute(
                "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                &[&id.0, &now],
            )
            .await?;
            tx.execute(
                "UPDATE api_tokens SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
                &[&id.0, &now],
            )
            .await?;
        }
        let action = if disabled {
            AuditAction::UserDisable
        } else {
            AuditAction::UserEnable
        };
        pg_append(&tx, &AuditEvent::new(action, "user").by(actor).object(id)).await?;
        tx.commit().await?;
        Ok(user(&row, 0))
    }

    async fn set_password(
        &self,
        actor: Option<UserId>,
        id: UserId,
        phc: Option<String>,
        keep: Option<[u8; 32]>,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "UPDATE users SET password_hash = $2 WHERE id = $1",
                &[&id.0, &phc],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("user {id}")));
        }
        let keep = keep.map(|k| k.to_vec()).unwrap_or_default();
        tx.execute(
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL AND token_hash <> $3",
            &[&id.0, &now_ms(), &keep],
        )
        .await?;
        let action = if actor == Some(id) {
            AuditAction::PasswordChange
        } else {
            AuditAction::PasswordReset
        };
        pg_append(&tx, &AuditEvent::new(action, "user").by(actor).object(id)).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn remove_member(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        user: UserId,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Locks the project's member rows so two removals cannot both pass the
        // last-lead check.
        let roles = tx
            .query(
                "SELECT user_id, role FROM members WHERE project_id = $1 FOR UPDATE",
                &[&project.0],
            )
            .await?;
        let Some(row) = roles.iter().find(|r| r.get::<_, i64>(0) == user.0) else {
            return Err(StoreError::NotFound(format!(
                "user {user} is not a member of project {project}"
            )));
        };
        if parse::<ProjectRole>(row.get(1))? == ProjectRole::Lead {
            let leads = roles
                .iter()
                .filter(|r| r.get::<_, &str>(1) == ProjectRole::Lead.as_str())
                .count();
            if leads <= 1 {
                return Err(StoreError::Conflict(
                    "the project's last lead cannot be removed: make another member lead first"
                        .into(),
                ));
            }
        }
        tx.execute(
            "DELETE FROM members WHERE project_id = $1 AND user_id = $2",
            &[&project.0, &user.0],
        )
        .await?;
        // Their open leases expire now, so the next reclaim returns them to the pool.
        tx.execute(
            "UPDATE assignments SET expires_at = $3 WHERE project_id = $1 AND user_id = $2 AND state = 'leased'",
            &[&project.0, &user.0, &(now_ms() - 1)],
        )
        .await?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::MemberRemove, "member")
                .by(actor)
                .object(format!("user {user}"))
                .in_project(project),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn add_member(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO members (project_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
            &[&project.0, &user.0, &role.as_str(), &now_ms()],
        )
        .await
        .map_err(missing(format!("project {project} or user {user}")))?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::MemberRole, "member")
                .by(actor)
                .object(format!("user {user} as {role}"))
                .in_project(project),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn member_role(&self, project: ProjectId, user: UserId) -> Result<Option<ProjectRole>> {
        let client = self.client().await?;
        // Every request in a project asks this; prepared once per connection.
        let st = client
            .prepare_cached("SELECT role FROM members WHERE project_id = $1 AND user_id = $2")
            .await?;
        let row = client.query_opt(&st, &[&project.0, &user.0]).await?;
        row.map(|r| parse::<ProjectRole>(r.get(0))).transpose()
    }

    async fn members(&self, project: ProjectId) -> Result<Vec<Member>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {USER_COLUMNS}, m.role FROM members m JOIN users u ON u.id = m.user_id
                     WHERE m.project_id = $1 ORDER BY u.name"
                ),
                &[&project.0],
            )
            .await?;
        rows.iter()
            .map(|r| {
                Ok(Member {
                    user: user(r, 0),
                    role: parse(r.get(5))?,
                })
            })
            .collect()
    }

    async fn propose_expertise(
        &self,
        actor: Option<UserId>,
        user: UserId,
        e: Expertise,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute(
            "INSERT INTO expertise (user_id, domain, level, proposed_by, proposed_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (user_id, domain) DO UPDATE SET level = excluded.level,
               proposed_by = excluded.proposed_by, proposed_at = excluded.proposed_at,
               verified_by = NULL, verified_at = NULL",
            &[&user.0, &e.domain.as_str(), &e.level.as_str(), &actor.map(|a| a.0), &now_ms()],
        )
        .await
        .map_err(missing(format!("user {user}")))?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::ExpertisePropose, "expertise")
                .by(actor)
                .object(format!("user {user} {e}")),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn verify_expertise(
        &self,
        actor: Option<UserId>,
        user: UserId,
        domain: &str,
    ) -> Result<ExpertiseRecord> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "UPDATE expertise SET verified_by = $3, verified_at = $4 WHERE user_id = $1 AND domain = $2
                 RETURNING domain, level, proposed_by, verified_by, verified_at",
                &[&user.0, &domain, &actor.map(|a| a.0), &now_ms()],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("expertise `{domain}` of user {user}")))?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::ExpertiseVerify, "expertise")
                .by(actor)
                .object(format!("user {user} {domain}")),
        )
        .await?;
        tx.commit().await?;
        expertise(&row)
    }

    async fn expertise(&self, user: UserId) -> Result<Vec<ExpertiseRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT domain, level, proposed_by, verified_by, verified_at FROM expertise WHERE user_id = $1 ORDER BY domain",
                &[&user.0],
            )
            .await?;
        rows.iter().map(expertise).collect()
    }

    async fn create_token(
        &self,
        actor: Option<UserId>,
        user: UserId,
        secret_hash: [u8; 32],
        scopes: Scopes,
        expires_at: Option<i64>,
    ) -> Result<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let hash: &[u8] = &secret_hash;
        let id: i64 = tx
            .query_one(
                "INSERT INTO api_tokens (user_id, token_hash, scopes, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)
                 RETURNING id",
                &[&user.0, &hash, &scopes.to_string(), &now_ms(), &expires_at],
            )
            .await
            .map_err(missing(format!("user {user}")))?
            .get(0);
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::TokenCreate, "token")
                .by(actor)
                .object(format!("{id} of user {user} ({scopes})")),
        )
        .await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn revoke_token(&self, actor: Option<UserId>, id: i64) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let revoked = tx
            .query_opt(
                "SELECT revoked_at FROM api_tokens WHERE id = $1 FOR UPDATE",
                &[&id],
            )
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("token {id}")))?
            .get::<_, Option<i64>>(0);
        if revoked.is_some() {
            return Err(StoreError::Conflict(format!(
                "token {id} is revoked already"
            )));
        }
        tx.execute(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1",
            &[&id, &now_ms()],
        )
        .await?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::TokenRevoke, "token")
                .by(actor)
                .object(id),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn token_by_hash(&self, secret_hash: [u8; 32]) -> Result<Option<TokenRecord>> {
        let client = self.client().await?;
        let hash: &[u8] = &secret_hash;
        // Every token-authenticated request asks this; prepared once per connection.
        let st = client
            .prepare_cached(&format!("{TOKEN_SELECT} WHERE t.token_hash = $1"))
            .await?;
        let row = client.query_opt(&st, &[&hash]).await?;
        row.as_ref().map(token).transpose()
    }

    async fn project_access(&self, secret_hash: [u8; 32], project: &str) -> Result<ProjectAccess> {
        let client = self.client().await?;
        let hash: &[u8] = &secret_hash;
        // One row always: NULL token columns for an unknown token, NULL project
        // columns for an unknown project. Prepared once per connection.
        let st = client
            .prepare_cached(
                "SELECT t.id, t.scopes, t.created_at, t.expires_at, t.revoked_at,
                        u.id, u.name, u.is_admin, u.disabled, u.created_at,
                        p.id, p.name, p.settings, p.rubric_version, p.split_salt, p.created_at, m.role
                 FROM (SELECT 1) one
                 LEFT JOIN (api_tokens t JOIN users u ON u.id = t.user_id) ON t.token_hash = $1
                 LEFT JOIN projects p ON p.name = $2
                 LEFT JOIN members m ON m.project_id = p.id AND m.user_id = u.id",
            )
            .await?;
        let r = client.query_one(&st, &[&hash, &project]).await?;
        let token = match r.get::<_, Option<i64>>(0) {
            Some(_) => Some(token(&r)?),
            None => None,
        };
        let project = match r.get::<_, Option<i64>>(10) {
            Some(_) => Some(super::to_project_at(&r, 10)?),
            None => None,
        };
        let role = r
            .get::<_, Option<&str>>(16)
            .map(parse::<ProjectRole>)
            .transpose()?;
        Ok(ProjectAccess {
            token,
            project,
            role,
        })
    }

    async fn tokens(&self, user: UserId) -> Result<Vec<TokenRecord>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("{TOKEN_SELECT} WHERE t.user_id = $1 ORDER BY t.id"),
                &[&user.0],
            )
            .await?;
        rows.iter().map(token).collect()
    }

    async fn create_session(
        &self,
        user: UserId,
        secret_hash: [u8; 32],
        csrf: String,
        limits: SessionLimits,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = now_ms();
        let hash: &[u8] = &secret_hash;
        tx.execute(
            "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen, expires_at)
             VALUES ($1, $2, $3, $4, $4, $5)",
            &[&hash, &user.0, &csrf, &now, &(now + limits.absolute_ms)],
        )
        .await?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::LoginOk, "session")
                .by(Some(user))
                .object(user),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn touch_session(
        &self,
        secret_hash: [u8; 32],
        limits: SessionLimits,
    ) -> Result<Option<SessionRecord>> {
        let client = self.client().await?;
        let now = now_ms();
        let hash: &[u8] = &secret_hash;
        let row = client
            .query_opt(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf_token, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = $1 AND s.revoked_at IS NULL AND s.expires_at > $2
                       AND s.last_seen > $3 AND NOT u.disabled"
                ),
                &[&hash, &now, &(now - limits.idle_ms)],
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        if now - row.get::<_, i64>(6) > TOUCH_EVERY_MS {
            client
                .execute(
                    "UPDATE sessions SET last_seen = $2 WHERE token_hash = $1",
                    &[&hash, &now],
                )
                .await?;
        }
        Ok(Some(SessionRecord {
            user: user(&row, 0),
            csrf_token: row.get(5),
        }))
    }

    async fn revoke_session(&self, secret_hash: [u8; 32]) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let hash: &[u8] = &secret_hash;
        let row = tx
            .query_opt(
                "UPDATE sessions SET revoked_at = $2 WHERE token_hash = $1 AND revoked_at IS NULL RETURNING user_id",
                &[&hash, &now_ms()],
            )
            .await?;
        if let Some(row) = row {
            let u: i64 = row.get(0);
            pg_append(
                &tx,
                &AuditEvent::new(AuditAction::Logout, "session")
                    .by(Some(UserId(u)))
                    .object(u),
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn login_locked_until(&self, key: &str) -> Result<Option<i64>> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "SELECT locked_until FROM login_throttle WHERE name = $1",
                &[&key],
            )
            .await?;
        Ok(row
            .map(|r| r.get::<_, i64>(0))
            .filter(|&until| until > now_ms()))
    }

    async fn record_login_failure(&self, key: &str, subject: &str) -> Result<i64> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let now = now_ms();
        let failures: i64 = tx
            .query_one(
                "INSERT INTO login_throttle (name, failures, last_failure, locked_until) VALUES ($1, 1, $2, 0)
                 ON CONFLICT (name) DO UPDATE SET failures = login_throttle.failures + 1, last_failure = $2
                 RETURNING failures",
                &[&key, &now],
            )
            .await?
            .get(0);
        let until = now + login_backoff_ms(failures);
        tx.execute(
            "UPDATE login_throttle SET locked_until = $2 WHERE name = $1",
            &[&key, &until],
        )
        .await?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::LoginFail, "user")
                .object(subject)
                .digest_of(failures.to_string().as_bytes()),
        )
        .await?;
        tx.commit().await?;
        Ok(until)
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM login_throttle WHERE name = $1", &[&key])
            .await?;
        Ok(())
    }

    async fn lift_login_throttle(
        &self,
        actor: Option<UserId>,
        name_digest: &str,
        subject: &str,
    ) -> Result<u64> {
        let prefix = format!("{name_digest}/");
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute(
                "DELETE FROM login_throttle WHERE left(name, length($1)) = $1",
                &[&prefix],
            )
            .await?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::LoginUnlock, "user")
                .by(actor)
                .object(subject),
        )
        .await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn record_event(&self, event: AuditEvent) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        pg_append(&tx, &event).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn seal_audit(&self) -> Result<()> {
        let mut client = self.client().await?;
        crate::audit::pg_seal(&mut client, self.trail.key()).await?;
        Ok(())
    }

    fn audit_trail(&self) -> &crate::audit::AuditTrail {
        &self.trail
    }

    async fn anchor_audit(&self) -> Result<()> {
        let mut client = self.client().await?;
        crate::audit::pg_seal(&mut client, self.trail.key()).await?;
        let head = client
            .query_opt(
                "SELECT seq, hash FROM audit_events ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .await?;
        match head {
            Some(r) => self.trail.checkpoint(r.get(0), &r.get::<_, String>(1)),
            None => Ok(()),
        }
    }

    async fn audit_events_newest(
        &self,
        before: Option<i64>,
        limit: u32,
        filter: crate::AuditFilter,
    ) -> Result<Vec<StoredAuditEvent>> {
        let mut client = self.client().await?;
        crate::audit::pg_seal(&mut client, self.trail.key()).await?;
        let rows = client
            .query(
                "SELECT seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash
                 FROM audit_events
                 WHERE ($1::bigint IS NULL OR seq < $1) AND ($2::text IS NULL OR action = $2)
                   AND ($3::bigint IS NULL OR actor = $3) AND ($4::bigint IS NULL OR project_id = $4)
                   AND ($5::bigint IS NULL OR at >= $5)
                 ORDER BY seq DESC LIMIT $6",
                &[
                    &before,
                    &filter.action,
                    &filter.actor,
                    &filter.project,
                    &filter.since,
                    &(limit as i64),
                ],
            )
            .await?;
        Ok(rows.iter().map(audit_row).collect())
    }

    async fn audit_events(&self, after: i64, limit: u32) -> Result<Vec<StoredAuditEvent>> {
        let mut client = self.client().await?;
        crate::audit::pg_seal(&mut client, self.trail.key()).await?;
        let rows = client
            .query(
                "SELECT seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash
                 FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT $2",
                &[&after, &(limit as i64)],
            )
            .await?;
        Ok(rows.iter().map(audit_row).collect())
    }
}

/// An audit event from the columns `seq, at, actor, action, object_type, object_id,
/// project_id, digest, prev_hash, hash`.
pub(crate) fn audit_row(r: &tokio_postgres::Row) -> StoredAuditEvent {
    StoredAuditEvent {
        seq: r.get(0),
        at: r.get(1),
        actor: r.get(2),
        action: r.get(3),
        object_type: r.get(4),
        object_id: r.get(5),
        project_id: r.get(6),
        digest: r.get(7),
        prev_hash: r.get(8),
        hash: r.get(9),
    }
}
