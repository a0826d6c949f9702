//! `/account`: the signed-in user's own account — who they are, and a form to change
//! their password (`PUT /api/v1/account/password`, which needs the current one and ends
//! the user's other sessions).

use super::{PageResult, layout, page};
use crate::AppState;
use crate::auth::{Actor, AuthError};
use axum::extract::State;
use plumbline_store::Store;

/// `GET /account`.
pub async fn account_page<S: Store>(
    State(_state): State<AppState<S>>,
    who: Result<Actor, AuthError>,
) -> PageResult {
    let who = super::access(who)?;
    let user = &who.user;
    let min = crate::auth::MIN_PASSWORD_CHARS;
    let body = maud::html! {
        h1 { "Your account" }
        p.muted {
            "Signed in as " strong { (user.name) }
            @if user.is_admin { " (administrator)" }
            "."
        }
        section.panel {
            h2 { "Change your password" }
            p.muted {
                "At least " (min) " characters. Your other sessions end; this one stays. "
                "API tokens are separate and stay until revoked."
            }
            form id="password-change" {
                p { label { "Current password" br; input type="password" name="current" required autocomplete="current-password"; } }
                p { label { "New password" br; input type="password" name="new" required minlength=(min) autocomplete="new-password"; } }
                p { label { "New password again" br; input type="password" name="again" required minlength=(min) autocomplete="new-password"; } }
                p id="password-error" class="error" role="alert" hidden {}
                p id="password-done" class="ok" role="status" hidden {}
                p { button type="submit" class="primary" { "Change password" } }
            }
        }
    };
    Ok(page(layout(
        "Your account",
        Some(user),
        "account",
        body,
        &[],
    )))
}
