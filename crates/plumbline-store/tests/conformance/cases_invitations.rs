//! One-time invitation links every backend must keep: one live link per user, used
//! once, never after expiry or replacement, setting the password and ending sessions in
//! the same transaction as its audit event.

use plumbline_store::*;

fn invited(name: &str) -> NewUser {
    NewUser {
        name: name.into(),
        password_hash: None,
        is_admin: false,
    }
}

pub async fn invitations_are_single_use_replaceable_and_expire<S: Store>(store: S) {
    let admin = store
        .create_user(
            None,
            NewUser {
                name: "root".into(),
                password_hash: Some("$argon2id$root".into()),
                is_admin: true,
            },
        )
        .await
        .unwrap();
    let u = store
        .create_user(Some(admin.id), invited("ines"))
        .await
        .unwrap();
    assert!(
        store.password_hash("ines").await.unwrap().is_none(),
        "no password before the link is used"
    );
    let now = model_now();
    let first = store
        .create_invitation(Some(admin.id), u.id, [1; 32], now + INVITATION_TTL_MS)
        .await
        .unwrap();
    assert_eq!(first.user.id, u.id);
    assert_eq!(first.created_by, Some(admin.id));
    assert_eq!(first.state(now), InvitationState::Live);
    assert_eq!(store.open_invitations().await.unwrap().len(), 1);

    // A re-issue replaces the first link.
    store
        .create_invitation(Some(admin.id), u.id, [2; 32], now + INVITATION_TTL_MS)
        .await
        .unwrap();
    let old = store.invitation([1; 32]).await.unwrap().unwrap();
    assert_eq!(old.state(now), InvitationState::Replaced);
    let err = store
        .accept_invitation([1; 32], "$argon2id$x".into())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref m) if m.contains("replaced")),
        "{err:?}"
    );
    let open = store.open_invitations().await.unwrap();
    assert_eq!(open.len(), 1, "one live link per user");
    assert!(store.invitation([9; 32]).await.unwrap().is_none());
    assert!(matches!(
        store.accept_invitation([9; 32], "$argon2id$x".into()).await,
        Err(StoreError::NotFound(_))
    ));

    // A session open before acceptance ends with it.
    let limits = SessionLimits {
        idle_ms: 3_600_000,
        absolute_ms: 86_400_000,
    };
    store
        .create_session(u.id, [5; 32], "csrf".into(), limits)
        .await
        .unwrap();
    let accepted = store
        .accept_invitation([2; 32], "$argon2id$ines".into())
        .await
        .unwrap();
    assert_eq!(accepted.id, u.id);
    assert_eq!(
        store.password_hash("ines").await.unwrap().unwrap().1,
        "$argon2id$ines"
    );
    assert!(
        store
            .touch_session([5; 32], limits)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        store
            .invitation([2; 32])
            .await
            .unwrap()
            .unwrap()
            .state(model_now()),
        InvitationState::Used
    );
    assert!(store.open_invitations().await.unwrap().is_empty());

    // Used once only: the password stays the one chosen.
    let err = store
        .accept_invitation([2; 32], "$argon2id$again".into())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref m) if m.contains("used already")),
        "{err:?}"
    );
    assert_eq!(
        store.password_hash("ines").await.unwrap().unwrap().1,
        "$argon2id$ines"
    );

    // An expired link is refused and changes nothing.
    let late = store
        .create_user(Some(admin.id), invited("lou"))
        .await
        .unwrap();
    store
        .create_invitation(Some(admin.id), late.id, [3; 32], model_now() - 1)
        .await
        .unwrap();
    let err = store
        .accept_invitation([3; 32], "$argon2id$lou".into())
        .await
        .unwrap_err();
    assert!(
        matches!(err, StoreError::Conflict(ref m) if m.contains("expired")),
        "{err:?}"
    );
    assert!(store.password_hash("lou").await.unwrap().is_none());

    // A link for nobody is not found.
    assert!(matches!(
        store
            .create_invitation(
                None,
                plumbline_domain::UserId(999_999),
                [4; 32],
                model_now()
            )
            .await,
        Err(StoreError::NotFound(_))
    ));

    let actions: Vec<String> = store
        .audit_events(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .filter(|a| a.starts_with("user.invite"))
        .collect();
    assert_eq!(
        actions,
        [
            "user.invite",
            "user.invite",
            "user.invite_accept",
            "user.invite"
        ]
    );
}

fn model_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}
