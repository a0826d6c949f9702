//! Invitations on SQLite.

use super::SqliteStore;
use super::identity::{USER_COLUMNS, user, user_where};
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, sqlite_append};
use crate::error::StoreError;
use crate::invitations::{Invitation, InvitationStore};
use crate::model::now_ms;
use plumbline_domain::UserId;
use rusqlite::{Connection, OptionalExtension, Row, params};

fn invitation_select() -> String {
    format!(
        "SELECT i.created_by, i.created_at, i.expires_at, i.used_at, i.revoked_at, {USER_COLUMNS}
         FROM invitations i JOIN users u ON u.id = i.user_id"
    )
}

fn invitation(r: &Row<'_>) -> rusqlite::Result<Invitation> {
    Ok(Invitation {
        created_by: r.get::<_, Option<i64>>(0)?.map(UserId),
        created_at: r.get(1)?,
        expires_at: r.get(2)?,
        used_at: r.get(3)?,
        revoked_at: r.get(4)?,
        user: user(r, 5)?,
    })
}

fn by_hash(conn: &Connection, token_hash: &[u8; 32]) -> Result<Option<Invitation>> {
    Ok(conn
        .query_row(
            &format!("{} WHERE i.token_hash = ?1", invitation_select()),
            [&token_hash[..]],
            invitation,
        )
        .optional()?)
}

impl InvitationStore for SqliteStore {
    async fn create_invitation(
        &self,
        actor: Option<UserId>,
        user: UserId,
        token_hash: [u8; 32],
        expires_at: i64,
    ) -> Result<Invitation> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            user_where(&tx, "u.id = ?1", &user.0, format!("user {user}"))?;
            let now = now_ms();
            tx.execute(
                "UPDATE invitations SET revoked_at = ?2
                 WHERE user_id = ?1 AND used_at IS NULL AND revoked_at IS NULL",
                params![user.0, now],
            )?;
            tx.execute(
                "INSERT INTO invitations (token_hash, user_id, created_by, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![&token_hash[..], user.0, actor.map(|a| a.0), now, expires_at],
            )?;
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::UserInvite, "user")
                    .by(actor)
                    .object(user),
            )?;
            let made = by_hash(&tx, &token_hash)?.ok_or_else(|| {
                StoreError::Database("the invitation just written is missing".into())
            })?;
            tx.commit()?;
            Ok(made)
        })
        .await
    }

    async fn invitation(&self, token_hash: [u8; 32]) -> Result<Option<Invitation>> {
        self.read(move |conn| by_hash(conn, &token_hash)).await
    }

    async fn open_invitations(&self) -> Result<Vec<Invitation>> {
        self.read(|conn| {
            let mut st = conn.prepare(&format!(
                "{} WHERE i.used_at IS NULL AND i.revoked_at IS NULL ORDER BY i.created_at DESC, u.name",
                invitation_select()
            ))?;
            let rows = st.query_map([], invitation)?.collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }

    async fn accept_invitation(&self, token_hash: [u8; 32], phc: String) -> Result<crate::User> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            let found = by_hash(&tx, &token_hash)?
                .ok_or_else(|| StoreError::NotFound("invitation link".into()))?;
            let now = now_ms();
            if let Some(why) = found.state(now).refusal() {
                return Err(StoreError::Conflict(why.into()));
            }
            let id = found.user.id;
            tx.execute(
                "UPDATE invitations SET used_at = ?2 WHERE token_hash = ?1",
                params![&token_hash[..], now],
            )?;
            tx.execute(
                "UPDATE users SET password_hash = ?2 WHERE id = ?1",
                params![id.0, phc],
            )?;
            tx.execute(
                "UPDATE sessions SET revoked_at = ?2 WHERE user_id = ?1 AND revoked_at IS NULL",
                params![id.0, now],
            )?;
            sqlite_append(
                &tx,
                &AuditEvent::new(AuditAction::UserInviteAccept, "user")
                    .by(Some(id))
                    .object(id),
            )?;
            tx.commit()?;
            Ok(found.user)
        })
        .await
    }
}
