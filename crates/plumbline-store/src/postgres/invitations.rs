//! Invitations on PostgreSQL.

use super::PgStore;
use super::identity::{USER_COLUMNS, user};
use crate::Result;
use crate::audit::{AuditAction, AuditEvent, pg_append};
use crate::error::StoreError;
use crate::invitations::{Invitation, InvitationStore};
use crate::model::now_ms;
use deadpool_postgres::GenericClient;
use plumbline_domain::UserId;
use tokio_postgres::Row;

fn invitation_select() -> String {
    format!(
        "SELECT i.created_by, i.created_at, i.expires_at, i.used_at, i.revoked_at, {USER_COLUMNS}
         FROM invitations i JOIN users u ON u.id = i.user_id"
    )
}

fn invitation(r: &Row) -> Invitation {
    Invitation {
        created_by: r.get::<_, Option<i64>>(0).map(UserId),
        created_at: r.get(1),
        expires_at: r.get(2),
        used_at: r.get(3),
        revoked_at: r.get(4),
        user: user(r, 5),
    }
}

/// The invitation by its hash; `lock` takes its row for the rest of the transaction,
/// so two uses of one link cannot both succeed.
async fn by_hash<C: GenericClient>(
    client: &C,
    token_hash: &[u8; 32],
    lock: bool,
) -> Result<Option<Invitation>> {
    let lock = if lock { " FOR UPDATE OF i" } else { "" };
    let hash = &token_hash[..];
    Ok(client
        .query_opt(
            &format!("{} WHERE i.token_hash = $1{lock}", invitation_select()),
            &[&hash],
        )
        .await?
        .map(|r| invitation(&r)))
}

impl InvitationStore for PgStore {
    async fn create_invitation(
        &self,
        actor: Option<UserId>,
        user: UserId,
        token_hash: [u8; 32],
        expires_at: i64,
    ) -> Result<Invitation> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // Locking the user serializes two issues for one user, so one link stays live.
        tx.query_opt("SELECT id FROM users WHERE id = $1 FOR UPDATE", &[&user.0])
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("user {user}")))?;
        let now = now_ms();
        tx.execute(
            "UPDATE invitations SET revoked_at = $2
             WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL",
            &[&user.0, &now],
        )
        .await?;
        let hash = &token_hash[..];
        tx.execute(
            "INSERT INTO invitations (token_hash, user_id, created_by, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[&hash, &user.0, &actor.map(|a| a.0), &now, &expires_at],
        )
        .await?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::UserInvite, "user")
                .by(actor)
                .object(user),
        )
        .await?;
        let made = by_hash(&tx, &token_hash, false)
            .await?
            .ok_or_else(|| StoreError::Database("the invitation just written is missing".into()))?;
        tx.commit().await?;
        Ok(made)
    }

    async fn invitation(&self, token_hash: [u8; 32]) -> Result<Option<Invitation>> {
        let client = self.client().await?;
        by_hash(&client, &token_hash, false).await
    }

    async fn open_invitations(&self) -> Result<Vec<Invitation>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "{} WHERE i.used_at IS NULL AND i.revoked_at IS NULL ORDER BY i.created_at DESC, u.name",
                    invitation_select()
                ),
                &[],
            )
            .await?;
        Ok(rows.iter().map(invitation).collect())
    }

    async fn accept_invitation(&self, token_hash: [u8; 32], phc: String) -> Result<crate::User> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let found = by_hash(&tx, &token_hash, true)
            .await?
            .ok_or_else(|| StoreError::NotFound("invitation link".into()))?;
        let now = now_ms();
        if let Some(why) = found.state(now).refusal() {
            return Err(StoreError::Conflict(why.into()));
        }
        let id = found.user.id;
        let hash = &token_hash[..];
        tx.execute(
            "UPDATE invitations SET used_at = $2 WHERE token_hash = $1",
            &[&hash, &now],
        )
        .await?;
        tx.execute(
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            &[&id.0, &phc],
        )
        .await?;
        tx.execute(
            "UPDATE sessions SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL",
            &[&id.0, &now],
        )
        .await?;
        pg_append(
            &tx,
            &AuditEvent::new(AuditAction::UserInviteAccept, "user")
                .by(Some(id))
                .object(id),
        )
        .await?;
        tx.commit().await?;
        Ok(found.user)
    }
}
