//! `/invite/{token}`: where an invited user chooses their password. The page checks the
//! link before showing the form, so a used, replaced or expired link says so at once;
//! `assets/workspace.js` posts the choice to `POST /api/v1/invitations/accept`, which
//! sets the password, consumes the link and signs the user in.

use super::{layout, page};
use crate::AppState;
use crate::auth::{MIN_PASSWORD_CHARS, token_hash};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use maud::html;
use plumbline_store::{Store, now_ms};

/// `GET /invite/{token}`.
pub async fn invite_page<S: Store>(
    State(state): State<AppState<S>>,
    Path(token): Path<String>,
) -> Response {
    let found = match state.store.invitation(token_hash(&token)).await {
        Ok(found) => found,
        Err(e) => return super::PageError::Store(e).into_response(),
    };
    let Some(invitation) = found else {
        return dead_link(
            StatusCode::NOT_FOUND,
            "This invitation link is not valid. Check that you copied all of it, or ask an administrator for a new one.",
        );
    };
    if let Some(why) = invitation.state(now_ms()).refusal() {
        let mut why = why.to_owned();
        if let Some(first) = why.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        return dead_link(StatusCode::GONE, &format!("{why}."));
    }
    let min = MIN_PASSWORD_CHARS;
    let body = html! {
        section.panel.narrow {
            h1 { "Welcome, " (invitation.user.name) }
            p { "Choose your password. You sign in with the name " strong { (invitation.user.name) } " and this password from now on." }
            form id="invite-accept" class="stack" data-token=(token) {
                label for="new-password" { "Password (at least " (min) " characters)" }
                input id="new-password" name="password" type="password" required minlength=(min) autocomplete="new-password" autofocus;
                label for="again-password" { "Password again" }
                input id="again-password" name="again" type="password" required minlength=(min) autocomplete="new-password";
                p id="accept-error" class="error" role="alert" hidden {}
                button type="submit" class="primary" { "Set password and sign in" }
            }
        }
    };
    page(layout(
        "Choose your password",
        None,
        "invite",
        body,
        &["workspace.js"],
    ))
}

fn dead_link(status: StatusCode, message: &str) -> Response {
    let body = html! {
        section.panel.narrow {
            h1 { "Invitation link" }
            p { (message) }
            p { a href="/login" { "Sign in" } }
        }
    };
    (
        status,
        page(layout("Invitation link", None, "invite", body, &[])),
    )
        .into_response()
}
