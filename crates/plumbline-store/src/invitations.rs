//! One-time links that let an invited user choose their own password, so no password
//! is ever chosen or shown by anyone else. The store keeps only the SHA-256 of a
//! link's random secret; a user has at most one live link (issuing another revokes
//! the earlier ones); using one sets the password and consumes it, in one transaction.

use crate::Result;
use crate::identity::User;
use plumbline_domain::UserId;
use serde::Serialize;
use std::future::Future;

/// How long an invitation link stays usable: 72 hours.
pub const INVITATION_TTL_MS: i64 = 72 * 3600 * 1000;

/// An invitation as stored (never its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Invitation {
    /// Whom the link lets choose a password.
    pub user: User,
    /// Who issued it (`None`: the command line).
    pub created_by: Option<UserId>,
    /// When it was issued, Unix milliseconds.
    pub created_at: i64,
    /// When it stops working, Unix milliseconds.
    pub expires_at: i64,
    /// When it was used.
    pub used_at: Option<i64>,
    /// When a newer link replaced it.
    pub revoked_at: Option<i64>,
}

/// Whether a link may still be used, and if not, why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InvitationState {
    /// It may be used.
    Live,
    /// It was used already.
    Used,
    /// A newer link replaced it.
    Replaced,
    /// Its 72 hours have passed.
    Expired,
    /// Its user was disabled.
    Disabled,
}

impl Invitation {
    /// This link's state at `now` (Unix ms).
    pub fn state(&self, now: i64) -> InvitationState {
        if self.used_at.is_some() {
            InvitationState::Used
        } else if self.revoked_at.is_some() {
            InvitationState::Replaced
        } else if self.user.disabled {
            InvitationState::Disabled
        } else if now >= self.expires_at {
            InvitationState::Expired
        } else {
            InvitationState::Live
        }
    }
}

impl InvitationState {
    /// Why a link in this state cannot be used, in words for the person holding it.
    pub fn refusal(self) -> Option<&'static str> {
        match self {
            InvitationState::Live => None,
            InvitationState::Used => {
                Some("this link was used already; sign in with the password chosen then")
            }
            InvitationState::Replaced => {
                Some("this link was replaced by a newer one; use the latest link you were sent")
            }
            InvitationState::Expired => {
                Some("this link has expired; ask an administrator for a new one")
            }
            InvitationState::Disabled => Some("this account is disabled"),
        }
    }
}

/// Invitations: issue, look up, accept.
pub trait InvitationStore: Send + Sync {
    /// Issues a link for `user` whose secret hashes to `token_hash`, usable until
    /// `expires_at` (Unix ms); every earlier unused link of theirs stops working.
    /// Audited as `user.invite`.
    fn create_invitation(
        &self,
        actor: Option<UserId>,
        user: UserId,
        token_hash: [u8; 32],
        expires_at: i64,
    ) -> impl Future<Output = Result<Invitation>> + Send;

    /// The invitation whose secret hashes to `token_hash`, in any state.
    fn invitation(
        &self,
        token_hash: [u8; 32],
    ) -> impl Future<Output = Result<Option<Invitation>>> + Send;

    /// The links not used and not replaced (expired ones included), newest first.
    fn open_invitations(&self) -> impl Future<Output = Result<Vec<Invitation>>> + Send;

    /// Uses a live link: sets the user's password hash to `phc`, ends any session of
    /// theirs and consumes the link, all or nothing. A link not found is `NotFound`;
    /// one used, replaced, expired or of a disabled user is a `Conflict` saying which.
    /// Audited as `user.invite_accept` by the user.
    fn accept_invitation(
        &self,
        token_hash: [u8; 32],
        phc: String,
    ) -> impl Future<Output = Result<User>> + Send;
}
