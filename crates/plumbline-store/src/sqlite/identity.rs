//! Identity on SQLite.

use super::SqliteStore;
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, StoredAuditEvent, sqlite_append};
use crate::error::StoreError;
use crate::identity::*;
use crate::model::now_ms;
use plumbline_domain::{Expertise, ProjectId, ProjectRole, Scopes, UserId};
use rusqlite::{Connection, OptionalExtension, Row, params};

pub(super) const USER_COLUMNS: &str = "u.id, u.name, u.is_admin, u.disabled, u.created_at";

pub(super) fn user(r: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    Ok(User {
        id: UserId(r.get(at)?),
        name: r.get(at + 1)?,
        is_admin: r.get(at + 2)?,
        disabled: r.get(at + 3)?,
        created_at: r.get(at + 4)?,
    })
}

pub(super) fn user_where(
    conn: &Connection,
    clause: &str,
    value: &dyn rusqlite::ToSql,
    what: String,
) -> Result<User> {
    conn.query_row(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE {clause}"),
        [value],
        |r| user(r, 0),
    )
    .optional()?
    .ok_or(StoreError::NotFound(what))
}

fn parse<T: std::str::FromStr<Err = String>>(s: &str) -> Result<T> {
    s.parse().map_err(StoreError::Database)
}

/// A token row before its scopes are parsed.
type TokenRow = (i64, String, i64, Option<i64>, Option<i64>, User);

fn token(r: &Row<'_>) -> rusqlite::Result<TokenRow> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        user(r, 5)?,
    ))
}

fn to_token(raw: TokenRow) -> Result<TokenRecord> {
    let (id, scopes, created_at, expires_at, revoked_at, user) = raw;
    Ok(TokenRecord {
        id,
        user,
        scopes: parse::<Scopes>(&scopes)?,
        created_at,
        expires_at,
        revoked_at,
    })
}

const TOKEN_SELECT: &str = "SELECT t.id, t.scopes, t.created_at, t.expires_at, t.revoked_at, u.id, u.name, u.is_admin, u.disabled, u.created_at FROM api_tokens t JOIN users u ON u.id = t.user_id";

/// An expertise row before its claim is parsed: domain, level, proposer, verifier, time.
type ExpertiseRow = (String, String, Option<i64>, Option<i64>, Option<i64>);

fn expertise_row(r: &Row<'_>) -> rusqlite::Result<ExpertiseRow> {
    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
}

fn to_expertise(
    raw: (String, String, Option<i64>, Option<i64>, Option<i64>),
) -> Result<ExpertiseRecord> {
    let (domain, level, proposed_by, verified_by, verified_at) = raw;
    Ok(ExpertiseRecord {
        expertise: parse::<Expertise>(&format!("{domain}:{level}"))?,
        proposed_by: proposed_by.map(UserId),
        verified_by: verified_by.map(UserId),
        verified_at,
    })
}

impl IdentityStore for SqliteStore {
    async fn create_user(&self, actor: Option<UserId>, new: NewUser) -> Result<User> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let added = tx.execute(
                "INSERT INTO users (name, password_hash, is_admin, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (name) DO NOTHING",
                params![new.name, new.password_hash, new.is_admin, now_ms()],
            )?;
            if added == 0 {
                return Err(StoreError::Conflict(format!("a user named `{}` exists already", new.name)));
            }
            let id = tx.last_insert_rowid();
            sqlite_append(&tx, &AuditEvent::new(AuditAction::UserCreate, "user").by(actor).object(id))?;
            let u = user_where(&tx, "u.id = ?1", &id, format!("user {id}"))?;
            tx.commit()?;
            Ok(u)
        })
        .await
    }

    async fn user_by_name(&self, name: &str) -> Result<User> {
        let name = name.to_owned();
        self.read(move |conn| user_where(conn, "u.name = ?1", &name, format!("user `{name}`")))
            .await
    }

    async fn user_by_id(&self, id: UserId) -> Result<User> {
        self.read(move |conn| user_where(conn, "u.id = ?1", &id.0, format!("user {id}")))
            .await
    }

    async fn password_hash(&self, name: &str) -> Result<Option<(User, String)>> {
        let name = name.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    &format!(
                        "SELECT {USER_COLUMNS}, u.password_hash FROM users u
                         WHERE u.name = ?1 AND u.disabled = 0 AND u.password_hash IS NOT NULL"
                    ),
                    [&name],
                    |r| Ok((user(r, 0)?, r.get::<_, String>(5)?)),
                )
                .optional()?)
        })
        .await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {USER_COLUMNS} FROM users u ORDER BY u.name"
            ))?;
            Ok(stmt
                .query_map([], |r| user(r, 0))?
                .collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn set_user_disabled(
        &self,
        actor: Option<UserId>,
        id: UserId,
        disabled: bool,
    ) -> Result<User> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE users SET disabled = ?2 WHERE id = ?1",
                params![id.0, disabled],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("user {id}")));
            }
            if disabled {
                // Disabling ends every session and token for good: re-enabling the
                // account must not bring them back.
                let now = now_ms();
                tx.execute(
                    "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                    params![id.0, now],
                )?;
                tx.execute(
                    "UPDATE api_tokens SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                    params![id.0, now],
                )?;
            }
            let action = if disabled {
                AuditAction::UserDisable
            } else {
                AuditAction::UserEnable
            };
            sqlite_append(&tx, &AuditEvent::new(action, "user").by(actor).object(id))?;
            let u = user_where(&tx, "u.id = ?1", &id.0, format!("user {id}"))?;
            tx.commit()?;
            Ok(u)
        })
        .await
    }

    async fn set_password(
        &self,
        actor: Option<UserId>,
        id: UserId,
        phc: Option<String>,
        keep: Option<[u8; 32]>,
    ) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute("UPDATE users SET password_hash = ?2 WHERE id = ?1", params![id.0, phc])?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("user {id}")));
            }
            let keep = keep.map(|k| k.to_vec()).unwrap_or_default();
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL AND token_hash <> ?3",
                params![id.0, now_ms(), keep],
            )?;
            let action = if actor == Some(id) { AuditAction::PasswordChange } else { AuditAction::PasswordReset };
            sqlite_append(&tx, &AuditEvent::new(action, "user").by(actor).object(id))?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn remove_member(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        user: UserId,
    ) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let role: Option<String> = tx
                .query_row(
                    "SELECT role FROM members WHERE project_id = ?1 AND user_id = ?2",
                    params![project.0, user.0],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(role) = role else {
                return Err(StoreError::NotFound(format!("user {user} is not a member of project {project}")));
            };
            if parse::<ProjectRole>(&role)? == ProjectRole::Lead {
                let leads: i64 = tx.query_row(
                    "SELECT count(*) FROM members WHERE project_id = ?1 AND role = 'lead'",
                    [project.0],
                    |r| r.get(0),
                )?;
                if leads <= 1 {
                    return Err(StoreError::Conflict(
                        "the project's last lead cannot be removed: make another member lead first".into(),
                    ));
                }
            }
            tx.execute("DELETE FROM members WHERE project_id = ?1 AND user_id = ?2", params![project.0, user.0])?;
            // Their open leases expire now, so the next reclaim returns them to the pool.
            tx.execute(
                "UPDATE assignments SET expires_at = ?3 WHERE project_id = ?1 AND user_id = ?2 AND state = 'leased'",
                params![project.0, user.0, now_ms() - 1],
            )?;
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::MemberRemove, "member").by(actor).object(format!("user {user}")).in_project(project),
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn add_member(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        user: UserId,
        role: ProjectRole,
    ) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO members (project_id, user_id, role, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (project_id, user_id) DO UPDATE SET role = excluded.role",
                params![project.0, user.0, role.as_str(), now_ms()],
            )
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::NotFound(format!("project {project} or user {user}")),
                other => other,
            })?;
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::MemberRole, "member")
                    .by(actor)
                    .object(format!("user {user} as {role}"))
                    .in_project(project),
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn member_role(&self, project: ProjectId, user: UserId) -> Result<Option<ProjectRole>> {
        self.read(move |conn| {
            let role: Option<String> = conn
                .prepare_cached("SELECT role FROM members WHERE project_id = ?1 AND user_id = ?2")?
                .query_row(params![project.0, user.0], |r| r.get(0))
                .optional()?;
            role.map(|r| parse::<ProjectRole>(&r)).transpose()
        })
        .await
    }

    async fn members(&self, project: ProjectId) -> Result<Vec<Member>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {USER_COLUMNS}, m.role FROM members m JOIN users u ON u.id = m.user_id
                 WHERE m.project_id = ?1 ORDER BY u.name"
            ))?;
            let rows = stmt
                .query_map([project.0], |r| Ok((user(r, 0)?, r.get::<_, String>(5)?)))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter()
                .map(|(user, role)| {
                    Ok(Member {
                        user,
                        role: parse(&role)?,
                    })
                })
                .collect()
        })
        .await
    }

    async fn propose_expertise(
        &self,
        actor: Option<UserId>,
        user: UserId,
        expertise: Expertise,
    ) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO expertise (user_id, domain, level, proposed_by, proposed_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (user_id, domain) DO UPDATE SET level = excluded.level,
                   proposed_by = excluded.proposed_by, proposed_at = excluded.proposed_at,
                   verified_by = NULL, verified_at = NULL",
                params![user.0, expertise.domain.as_str(), expertise.level.as_str(), actor.map(|a| a.0), now_ms()],
            )
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::NotFound(format!("user {user}")),
                other => other,
            })?;
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::ExpertisePropose, "expertise").by(actor).object(format!("user {user} {expertise}")),
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn verify_expertise(
        &self,
        actor: Option<UserId>,
        user: UserId,
        domain: &str,
    ) -> Result<ExpertiseRecord> {
        let domain = domain.to_owned();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE expertise SET verified_by = ?3, verified_at = ?4 WHERE user_id = ?1 AND domain = ?2",
                params![user.0, domain, actor.map(|a| a.0), now_ms()],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("expertise `{domain}` of user {user}")));
            }
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::ExpertiseVerify, "expertise").by(actor).object(format!("user {user} {domain}")),
            )?;
            let raw = tx.query_row(
                "SELECT domain, level, proposed_by, verified_by, verified_at FROM expertise WHERE user_id = ?1 AND domain = ?2",
                params![user.0, domain],
                expertise_row,
            )?;
            tx.commit()?;
            to_expertise(raw)
        })
        .await
    }

    async fn expertise(&self, user: UserId) -> Result<Vec<ExpertiseRecord>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT domain, level, proposed_by, verified_by, verified_at FROM expertise WHERE user_id = ?1 ORDER BY domain",
            )?;
            let rows = stmt.query_map([user.0], expertise_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(to_expertise).collect()
        })
        .await
    }

    async fn create_token(
        &self,
        actor: Option<UserId>,
        user: UserId,
        secret_hash: [u8; 32],
        scopes: Scopes,
        expires_at: Option<i64>,
    ) -> Result<i64> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO api_tokens (user_id, token_hash, scopes, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![user.0, &secret_hash[..], scopes.to_string(), now_ms(), expires_at],
            )
            .map_err(|e| match StoreError::from(e) {
                StoreError::Conflict(_) => StoreError::NotFound(format!("user {user}")),
                other => other,
            })?;
            let id = tx.last_insert_rowid();
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::TokenCreate, "token").by(actor).object(format!("{id} of user {user} ({scopes})")),
            )?;
            tx.commit()?;
            Ok(id)
        })
        .await
    }

    async fn revoke_token(&self, actor: Option<UserId>, id: i64) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let n = tx.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, now_ms()],
            )?;
            if n == 0 {
                let exists: Option<i64> = tx
                    .query_row("SELECT id FROM api_tokens WHERE id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .optional()?;
                return Err(match exists {
                    Some(_) => StoreError::Conflict(format!("token {id} is revoked already")),
                    None => StoreError::NotFound(format!("token {id}")),
                });
            }
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::TokenRevoke, "token")
                    .by(actor)
                    .object(id),
            )?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn token_by_hash(&self, secret_hash: [u8; 32]) -> Result<Option<TokenRecord>> {
        self.read(move |conn| {
            let raw = conn
                .prepare_cached(&format!("{TOKEN_SELECT} WHERE t.token_hash = ?1"))?
                .query_row([&secret_hash[..]], token)
                .optional()?;
            raw.map(to_token).transpose()
        })
        .await
    }

    async fn project_access(&self, secret_hash: [u8; 32], project: &str) -> Result<ProjectAccess> {
        let name = project.to_owned();
        // Three reads on one reader: one hop to the blocking pool instead of three.
        self.read(move |conn| {
            let token = conn
                .prepare_cached(&format!("{TOKEN_SELECT} WHERE t.token_hash = ?1"))?
                .query_row([&secret_hash[..]], token)
                .optional()?
                .map(to_token)
                .transpose()?;
            let project = conn
                .prepare_cached(&format!(
                    "SELECT {} FROM projects WHERE name = ?1",
                    super::PROJECT_COLUMNS
                ))?
                .query_row([&name], super::project_from_row)
                .optional()?
                .map(super::to_project)
                .transpose()?;
            let role = match (&token, &project) {
                (Some(t), Some(p)) => conn
                    .prepare_cached(
                        "SELECT role FROM members WHERE project_id = ?1 AND user_id = ?2",
                    )?
                    .query_row(params![p.id.0, t.user.id.0], |r| r.get::<_, String>(0))
                    .optional()?
                    .map(|r| parse::<ProjectRole>(&r))
                    .transpose()?,
                _ => None,
            };
            Ok(ProjectAccess {
                token,
                project,
                role,
            })
        })
        .await
    }

    async fn tokens(&self, user: UserId) -> Result<Vec<TokenRecord>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare(&format!(
                "{TOKEN_SELECT} WHERE t.user_id = ?1 ORDER BY t.id"
            ))?;
            let rows = stmt
                .query_map([user.0], token)?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            rows.into_iter().map(to_token).collect()
        })
        .await
    }

    async fn create_session(
        &self,
        user: UserId,
        secret_hash: [u8; 32],
        csrf: String,
        limits: SessionLimits,
    ) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
                params![&secret_hash[..], user.0, csrf, now, now + limits.absolute_ms],
            )?;
            sqlite_append(&tx, &AuditEvent::new(AuditAction::LoginOk, "session").by(Some(user)).object(user))?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn touch_session(
        &self,
        secret_hash: [u8; 32],
        limits: SessionLimits,
    ) -> Result<Option<SessionRecord>> {
        let found = self
            .read(move |conn| {
                let now = now_ms();
                Ok(conn
                    .prepare_cached(&format!(
                        "SELECT {USER_COLUMNS}, s.csrf_token, s.last_seen FROM sessions s JOIN users u ON u.id = s.user_id
                         WHERE s.token_hash = ?1 AND s.revoked_at IS NULL AND s.expires_at > ?2
                           AND s.last_seen > ?3 AND u.disabled = 0"
                    ))?
                    .query_row(params![&secret_hash[..], now, now - limits.idle_ms], |r| {
                        Ok((user(r, 0)?, r.get::<_, String>(5)?, r.get::<_, i64>(6)?))
                    })
                    .optional()?)
            })
            .await?;
        let Some((user, csrf_token, last_seen)) = found else {
            return Ok(None);
        };
        if now_ms() - last_seen > TOUCH_EVERY_MS {
            self.write(move |conn| {
                conn.execute(
                    "UPDATE sessions SET last_seen = ?2 WHERE token_hash = ?1",
                    params![&secret_hash[..], now_ms()],
                )?;
                Ok(())
            })
            .await?;
        }
        Ok(Some(SessionRecord { user, csrf_token }))
    }

    async fn revoke_session(&self, secret_hash: [u8; 32]) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let user: Option<i64> = tx
                .query_row(
                    "UPDATE sessions SET revoked_at = ?2 WHERE token_hash = ?1 AND revoked_at IS NULL RETURNING user_id",
                    params![&secret_hash[..], now_ms()],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(u) = user {
                sqlite_append(&tx, &AuditEvent::new(AuditAction::Logout, "session").by(Some(UserId(u))).object(u))?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn login_locked_until(&self, key: &str) -> Result<Option<i64>> {
        let key = key.to_owned();
        self.read(move |conn| {
            Ok(conn
                .query_row(
                    "SELECT locked_until FROM login_throttle WHERE name = ?1",
                    [&key],
                    |r| r.get::<_, i64>(0),
                )
                .optional()?
                .filter(|&until| until > now_ms()))
        })
        .await
    }

    async fn record_login_failure(&self, key: &str, subject: &str) -> Result<i64> {
        let (key, subject) = (key.to_owned(), subject.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let now = now_ms();
            let failures: i64 = tx.query_row(
                "INSERT INTO login_throttle (name, failures, last_failure, locked_until) VALUES (?1, 1, ?2, 0)
                 ON CONFLICT (name) DO UPDATE SET failures = failures + 1, last_failure = ?2
                 RETURNING failures",
                params![key, now],
                |r| r.get(0),
            )?;
            let until = now + login_backoff_ms(failures);
            tx.execute("UPDATE login_throttle SET locked_until = ?2 WHERE name = ?1", params![key, until])?;
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::LoginFail, "user").object(&subject).digest_of(failures.to_string().as_bytes()),
            )?;
            tx.commit()?;
            Ok(until)
        })
        .await
    }

    async fn clear_login_failures(&self, key: &str) -> Result<()> {
        let key = key.to_owned();
        self.write(move |conn| {
            conn.execute("DELETE FROM login_throttle WHERE name = ?1", [&key])?;
            Ok(())
        })
        .await
    }

    async fn lift_login_throttle(
        &self,
        actor: Option<UserId>,
        name_digest: &str,
        subject: &str,
    ) -> Result<u64> {
        let (prefix, subject) = (format!("{name_digest}/"), subject.to_owned());
        self.write(move |conn| {
            let tx = conn.transaction()?;
            // substr, not LIKE: a digest is hex, but a prefix match must not depend on it.
            let n = tx.execute(
                "DELETE FROM login_throttle WHERE substr(name, 1, length(?1)) = ?1",
                [&prefix],
            )?;
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::LoginUnlock, "user")
                    .by(actor)
                    .object(&subject),
            )?;
            tx.commit()?;
            Ok(n as u64)
        })
        .await
    }

    async fn seal_audit(&self) -> Result<()> {
        // One writer: every event was linked in its own transaction.
        Ok(())
    }

    fn audit_trail(&self) -> &crate::audit::AuditTrail {
        &self.inner.trail
    }

    async fn anchor_audit(&self) -> Result<()> {
        let trail = self.inner.trail.clone();
        self.read(move |conn| match super::audit_head(conn)? {
            Some((seq, hash)) => trail.checkpoint(seq, &hash),
            None => Ok(()),
        })
        .await
    }

    async fn record_event(&self, event: AuditEvent) -> Result<()> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            sqlite_append(&tx, &event)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn audit_events_newest(
        &self,
        before: Option<i64>,
        limit: u32,
        filter: crate::AuditFilter,
    ) -> Result<Vec<StoredAuditEvent>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash
                 FROM audit_events
                 WHERE (?1 IS NULL OR seq < ?1) AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR actor = ?3)
                   AND (?4 IS NULL OR project_id = ?4) AND (?5 IS NULL OR at >= ?5)
                 ORDER BY seq DESC LIMIT ?6",
            )?;
            let rows = stmt.query_map(
                params![before, filter.action, filter.actor, filter.project, filter.since, limit],
                audit_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }

    async fn audit_events(&self, after: i64, limit: u32) -> Result<Vec<StoredAuditEvent>> {
        self.read(move |conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT seq, at, actor, action, object_type, object_id, project_id, digest, prev_hash, hash
                 FROM audit_events WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![after, limit], audit_row)?;
            Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
        })
        .await
    }
}

/// An audit event from the columns `seq, at, actor, action, object_type, object_id,
/// project_id, digest, prev_hash, hash`.
pub(crate) fn audit_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<StoredAuditEvent> {
    Ok(StoredAuditEvent {
        seq: r.get(0)?,
        at: r.get(1)?,
        actor: r.get(2)?,
        action: r.get(3)?,
        object_type: r.get(4)?,
        object_id: r.get(5)?,
        project_id: r.get(6)?,
        digest: r.get(7)?,
        prev_hash: r.get(8)?,
        hash: r.get(9)?,
    })
}

/// Session use is recorded at most this often, so reads do not all become writes.
const TOUCH_EVERY_MS: i64 = 60_000;
