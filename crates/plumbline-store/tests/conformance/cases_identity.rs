//! Identity and audit behaviour every backend must show.

use plumbline_domain::{ProjectName, ProjectRole, ProjectSettings, Rubric, Scope, Scopes};
use plumbline_store::audit::{GENESIS, verify_links};
use plumbline_store::*;

fn new_user(name: &str, admin: bool) -> NewUser {
    NewUser {
        name: name.into(),
        password_hash: Some("$argon2id$stub".into()),
        is_admin: admin,
    }
}

async fn project<S: Store>(store: &S) -> Project {
    let rubric = Rubric::from_toml(
        "name = \"r\"\n[[criteria]]\nkey = \"safety\"\ntitle = \"Safety\"\npriority = 1\n",
    )
    .unwrap();
    store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("triage").unwrap(),
                settings: ProjectSettings::default(),
                rubric,
            },
        )
        .await
        .unwrap()
}

pub async fn users_members_and_expertise<S: Store>(store: S) {
    let admin = store
        .create_user(None, new_user("ada", true))
        .await
        .unwrap();
    let nurse = store
        .create_user(Some(admin.id), new_user("noor", false))
        .await
        .unwrap();
    assert!(admin.is_admin && !nurse.is_admin && !nurse.disabled);
    assert!(
        matches!(store.create_user(None, new_user("noor", false)).await, Err(StoreError::Conflict(m)) if m.contains("noor"))
    );
    assert_eq!(store.user_by_name("noor").await.unwrap(), nurse);
    assert_eq!(store.user_by_id(nurse.id).await.unwrap(), nurse);
    assert!(matches!(
        store.user_by_name("nobody").await,
        Err(StoreError::NotFound(_))
    ));
    let names: Vec<_> = store
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.name)
        .collect();
    assert_eq!(names, ["ada", "noor"]);
    let (u, hash) = store.password_hash("noor").await.unwrap().unwrap();
    assert_eq!((u.id, hash.as_str()), (nurse.id, "$argon2id$stub"));

    let p = project(&store).await;
    assert_eq!(store.member_role(p.id, nurse.id).await.unwrap(), None);
    store
        .add_member(Some(admin.id), p.id, nurse.id, ProjectRole::Annotator)
        .await
        .unwrap();
    assert_eq!(
        store.member_role(p.id, nurse.id).await.unwrap(),
        Some(ProjectRole::Annotator)
    );
    store
        .add_member(Some(admin.id), p.id, nurse.id, ProjectRole::Reviewer)
        .await
        .unwrap();
    let members = store.members(p.id).await.unwrap();
    assert_eq!(members.len(), 1);
    assert_eq!(members[0].role, ProjectRole::Reviewer);
    assert!(matches!(
        store
            .add_member(
                None,
                p.id,
                plumbline_domain::UserId(9999),
                ProjectRole::Viewer
            )
            .await,
        Err(StoreError::NotFound(_))
    ));

    store
        .propose_expertise(
            Some(nurse.id),
            nurse.id,
            "clinical:practitioner".parse().unwrap(),
        )
        .await
        .unwrap();
    let claims = store.expertise(nurse.id).await.unwrap();
    assert_eq!(
        claims[0].verified_by, None,
        "a claim is not verified until a lead says so"
    );
    let verified = store
        .verify_expertise(Some(admin.id), nurse.id, "clinical")
        .await
        .unwrap();
    assert_eq!(verified.verified_by, Some(admin.id));
    assert!(verified.verified_at.is_some());
    store
        .propose_expertise(Some(nurse.id), nurse.id, "clinical:expert".parse().unwrap())
        .await
        .unwrap();
    let claims = store.expertise(nurse.id).await.unwrap();
    assert_eq!(claims.len(), 1);
    assert_eq!(claims[0].expertise.to_string(), "clinical:expert");
    assert_eq!(
        claims[0].verified_by, None,
        "raising a claim needs a new verification"
    );
    assert!(matches!(
        store.verify_expertise(None, nurse.id, "banking").await,
        Err(StoreError::NotFound(_))
    ));

    let disabled = store
        .set_user_disabled(Some(admin.id), nurse.id, true)
        .await
        .unwrap();
    assert!(disabled.disabled);
    assert!(
        store.password_hash("noor").await.unwrap().is_none(),
        "a disabled user cannot log in"
    );
}

pub async fn tokens_live_expire_and_revoke<S: Store>(store: S) {
    let u = store
        .create_user(None, new_user("tess", false))
        .await
        .unwrap();
    let scopes: Scopes = "read,annotate".parse().unwrap();
    let now = now_ms();
    let live = store
        .create_token(None, u.id, [1; 32], scopes, Some(now + 60_000))
        .await
        .unwrap();
    let expired = store
        .create_token(None, u.id, [2; 32], scopes, Some(now - 1))
        .await
        .unwrap();
    let t = store.token_by_hash([1; 32]).await.unwrap().unwrap();
    assert_eq!((t.id, t.user.id), (live, u.id));
    assert!(t.scopes.contains(Scope::Annotate) && !t.scopes.contains(Scope::Export));
    assert!(t.is_live(now));
    assert!(
        !store
            .token_by_hash([2; 32])
            .await
            .unwrap()
            .unwrap()
            .is_live(now)
    );
    assert!(store.token_by_hash([3; 32]).await.unwrap().is_none());
    store.revoke_token(None, live).await.unwrap();
    assert!(
        !store
            .token_by_hash([1; 32])
            .await
            .unwrap()
            .unwrap()
            .is_live(now)
    );
    assert!(matches!(
        store.revoke_token(None, live).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(matches!(
        store.revoke_token(None, 424242).await,
        Err(StoreError::NotFound(_))
    ));
    assert_eq!(
        store
            .tokens(u.id)
            .await
            .unwrap()
            .iter()
            .map(|t| t.id)
            .collect::<Vec<_>>(),
        [live, expired]
    );
    let other = store
        .create_token(None, u.id, [4; 32], scopes, None)
        .await
        .unwrap();
    let limits = SessionLimits {
        idle_ms: 3_600_000,
        absolute_ms: 86_400_000,
    };
    store
        .create_session(u.id, [6; 32], "csrf".into(), limits)
        .await
        .unwrap();
    assert!(
        store
            .touch_session([6; 32], limits)
            .await
            .unwrap()
            .is_some()
    );
    store.set_user_disabled(None, u.id, true).await.unwrap();
    let t = store.token_by_hash([4; 32]).await.unwrap().unwrap();
    assert_eq!(t.id, other);
    assert!(!t.is_live(now), "a disabled user's tokens stop working");
    assert!(
        store
            .touch_session([6; 32], limits)
            .await
            .unwrap()
            .is_none()
    );
    // For good: enabling the account again brings back neither.
    store.set_user_disabled(None, u.id, false).await.unwrap();
    let t = store.token_by_hash([4; 32]).await.unwrap().unwrap();
    assert!(
        !t.is_live(now),
        "a token of a disabled account stays revoked"
    );
    assert!(
        store
            .touch_session([6; 32], limits)
            .await
            .unwrap()
            .is_none(),
        "a session of a disabled account stays ended"
    );
    assert!(matches!(
        store
            .create_token(None, plumbline_domain::UserId(777), [5; 32], scopes, None)
            .await,
        Err(StoreError::NotFound(_))
    ));
}

pub async fn audit_chain_records_every_mutation<S: Store>(store: S) {
    let u = store
        .create_user(None, new_user("ada", true))
        .await
        .unwrap();
    let p = project(&store).await;
    store
        .add_member(Some(u.id), p.id, u.id, ProjectRole::Lead)
        .await
        .unwrap();
    store
        .record_event(
            audit::AuditEvent::new(audit::AuditAction::LoginFail, "user").object("mallory"),
        )
        .await
        .unwrap();
    let events = store.audit_events(0, 100).await.unwrap();
    let actions: Vec<&str> = events.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        ["user.create", "project.create", "member.role", "login.fail"]
    );
    assert_eq!(events[2].actor, Some(u.id.0));
    assert_eq!(events[1].project_id, Some(p.id.0));
    assert_eq!(
        events[1].digest.as_ref().map(String::len),
        Some(64),
        "content is recorded by digest"
    );
    let (last, hash) =
        verify_links(store.audit_trail().key(), (0, GENESIS.to_owned()), &events).unwrap();
    assert_eq!((last, hash.as_str()), (4, events[3].hash.as_str()));
    assert_eq!(
        store.audit_events(2, 1).await.unwrap()[0].seq,
        3,
        "pages continue after a sequence number"
    );
}

/// Many writers at once (on PostgreSQL the events are sealed after commit): every
/// event is linked exactly once, the chain verifies, and a change that rolls back
/// leaves no event.
pub async fn audit_chain_stays_whole_under_concurrent_writers<S: Store>(store: S) {
    let p = project(&store).await;
    let writers: Vec<_> = (0..8)
        .map(|w| {
            let store = store.clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    store
                        .record_event(
                            audit::AuditEvent::new(audit::AuditAction::LoginFail, "user")
                                .object(format!("w{w}-{i}")),
                        )
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for w in writers {
        w.await.unwrap();
    }
    let refused = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse(&p.name).unwrap(),
                settings: ProjectSettings::default(),
                rubric: Rubric::from_toml(
                    "name = \"r\"\n[[criteria]]\nkey = \"s\"\ntitle = \"S\"\npriority = 1\n",
                )
                .unwrap(),
            },
        )
        .await;
    assert!(
        refused.is_err(),
        "a second project of the same name is refused"
    );
    store.seal_audit().await.unwrap();
    let events = store.audit_events(0, 1000).await.unwrap();
    assert_eq!(
        events.len(),
        1 + 8 * 25,
        "one project.create and 200 events, each once"
    );
    let mut objects: Vec<&str> = events
        .iter()
        .filter_map(|e| e.object_id.as_deref())
        .collect();
    objects.sort_unstable();
    objects.dedup();
    assert_eq!(objects.len(), 1 + 8 * 25, "no event linked twice");
    verify_links(store.audit_trail().key(), (0, GENESIS.to_owned()), &events)
        .expect("the chain verifies");
    assert_eq!(
        events
            .iter()
            .filter(|e| e.action == "project.create")
            .count(),
        1,
        "the refused creation left no event"
    );
}

pub async fn purge_removes_text_and_keeps_ids_and_hashes<S: Store>(store: S) {
    let p = project(&store).await;
    let body = r#"{"id":"c1","context":[{"role":"user","content":"Quetzalcoatl is my password"}],"candidates":[{"id":"a","content":"x"},{"id":"b","content":"y"}]}"#;
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(ImportMsg::Items(vec![NewItem {
        line: 1,
        ext_id: "c1".into(),
        task: plumbline_domain::TaskKind::Preference,
        split: None,
        body: body.into(),
        content_hash: [7; 32],
        external: Vec::new(),
        media_sha256: None,
        media: None,
    }]))
    .await
    .unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    drop(tx);
    assert!(
        store
            .import_items(None, p.id, ImportOptions::default(), rx)
            .await
            .unwrap()
            .committed
    );
    assert_eq!(store.retention(p.id).await.unwrap(), None);
    let policy = RetentionPolicy {
        after_resolved_days: Some(30),
        after_release_days: None,
    };
    store.set_retention(None, p.id, Some(policy)).await.unwrap();
    assert_eq!(store.retention(p.id).await.unwrap(), Some(policy));
    let due = store
        .purge(None, p.id, PurgeScope::Due, false)
        .await
        .unwrap();
    assert_eq!(due.items, 0, "an open item is not due");
    let dry = store
        .purge(None, p.id, PurgeScope::Everything, true)
        .await
        .unwrap();
    assert_eq!((dry.items, dry.dry_run), (1, true));
    assert!(
        store
            .item(p.id, "c1")
            .await
            .unwrap()
            .0
            .body
            .contains("Quetzalcoatl"),
        "a dry run changes nothing"
    );
    let done = store
        .purge(None, p.id, PurgeScope::Everything, false)
        .await
        .unwrap();
    assert_eq!(done.items, 1);
    let (item, _) = store.item(p.id, "c1").await.unwrap();
    assert!(!item.body.contains("Quetzalcoatl") && item.body.contains(retention::PURGED));
    assert_eq!(
        item.content_hash,
        "07".repeat(32),
        "the digest of the original stays"
    );
    assert_eq!(
        store
            .purge(None, p.id, PurgeScope::Everything, false)
            .await
            .unwrap()
            .items,
        0,
        "purged once"
    );
    let events = store.audit_events(0, 100).await.unwrap();
    assert!(events.iter().any(|e| e.action == "purge"));
    verify_links(store.audit_trail().key(), (0, GENESIS.to_owned()), &events).unwrap();
}

pub async fn passwords_members_and_throttles<S: Store>(store: S) {
    let u = store
        .create_user(None, new_user("pia", false))
        .await
        .unwrap();
    let limits = SessionLimits {
        idle_ms: 3_600_000,
        absolute_ms: 86_400_000,
    };
    for secret in [[7; 32], [8; 32]] {
        store
            .create_session(u.id, secret, "csrf".into(), limits)
            .await
            .unwrap();
    }
    // Her own change keeps the session it came from and ends the others.
    store
        .set_password(
            Some(u.id),
            u.id,
            Some("$argon2id$new".into()),
            Some([7; 32]),
        )
        .await
        .unwrap();
    assert_eq!(
        store.password_hash("pia").await.unwrap().unwrap().1,
        "$argon2id$new"
    );
    assert!(
        store
            .touch_session([7; 32], limits)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .touch_session([8; 32], limits)
            .await
            .unwrap()
            .is_none()
    );
    // A reset ends every session.
    store
        .set_password(None, u.id, Some("$argon2id$reset".into()), None)
        .await
        .unwrap();
    assert!(
        store
            .touch_session([7; 32], limits)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        store
            .set_password(None, plumbline_domain::UserId(999), None, None)
            .await,
        Err(StoreError::NotFound(_))
    ));

    let p = project(&store).await;
    let lead = store
        .create_user(None, new_user("lou", false))
        .await
        .unwrap();
    store
        .add_member(None, p.id, lead.id, ProjectRole::Lead)
        .await
        .unwrap();
    store
        .add_member(None, p.id, u.id, ProjectRole::Annotator)
        .await
        .unwrap();
    store
        .remove_member(Some(lead.id), p.id, u.id)
        .await
        .unwrap();
    assert_eq!(store.member_role(p.id, u.id).await.unwrap(), None);
    assert!(matches!(
        store.remove_member(None, p.id, u.id).await,
        Err(StoreError::NotFound(_))
    ));
    assert!(
        matches!(store.remove_member(None, p.id, lead.id).await, Err(StoreError::Conflict(m)) if m.contains("last lead"))
    );
    store
        .add_member(None, p.id, u.id, ProjectRole::Lead)
        .await
        .unwrap();
    store.remove_member(None, p.id, lead.id).await.unwrap();
    assert_eq!(store.members(p.id).await.unwrap().len(), 1);

    // Throttles by key; lifting a name lifts it from every address, and only it.
    for _ in 0..5 {
        store.record_login_failure("n1/c1", "pia").await.unwrap();
    }
    store.record_login_failure("n1/c2", "pia").await.unwrap();
    for _ in 0..5 {
        store.record_login_failure("n10/c1", "other").await.unwrap();
    }
    assert!(store.login_locked_until("n1/c1").await.unwrap().is_some());
    assert!(store.login_locked_until("n1/c2").await.unwrap().is_none());
    assert_eq!(
        store.lift_login_throttle(None, "n1", "pia").await.unwrap(),
        2
    );
    assert!(store.login_locked_until("n1/c1").await.unwrap().is_none());
    assert!(store.login_locked_until("n10/c1").await.unwrap().is_some());
    store.seal_audit().await.unwrap();
    let actions: Vec<String> = store
        .audit_events(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect();
    for expected in [
        "user.password",
        "user.password_reset",
        "member.remove",
        "login.unlock",
    ] {
        assert!(
            actions.iter().any(|a| a == expected),
            "{expected}: {actions:?}"
        );
    }
    // Newest first, narrowed by action, actor, project and time, paged by `before`.
    let newest = store
        .audit_events_newest(None, 3, AuditFilter::default())
        .await
        .unwrap();
    assert_eq!(newest.len(), 3);
    assert!(newest[0].seq > newest[1].seq && newest[1].seq > newest[2].seq);
    let only = |action: &str| AuditFilter {
        action: Some(action.into()),
        ..AuditFilter::default()
    };
    let fails = store
        .audit_events_newest(None, 100, only("login.fail"))
        .await
        .unwrap();
    assert_eq!(fails.len(), 11);
    let older = store
        .audit_events_newest(Some(fails[4].seq), 100, only("login.fail"))
        .await
        .unwrap();
    assert_eq!(older.len(), 6);
    let by_lead = AuditFilter {
        actor: Some(lead.id.0),
        project: Some(p.id.0),
        since: Some(0),
        ..AuditFilter::default()
    };
    let removals = store.audit_events_newest(None, 100, by_lead).await.unwrap();
    assert_eq!(
        removals
            .iter()
            .map(|e| e.action.as_str())
            .collect::<Vec<_>>(),
        ["member.remove"]
    );
    let future = AuditFilter {
        since: Some(now_ms() + 60_000),
        ..AuditFilter::default()
    };
    assert!(
        store
            .audit_events_newest(None, 100, future)
            .await
            .unwrap()
            .is_empty()
    );
}
