//! Tampering with the audit chain by someone who holds the database but not the audit
//! key: every case is detected, naming the sequence number.

use crate::support::Raw;
use plumbline_store::Store;
use plumbline_store::audit::{self, AuditAction, AuditEvent, StoredAuditEvent, chain_hash};

/// Events in each tampered chain.
const N: i64 = 30;

async fn chain_of<S: Store>(store: &S) -> Vec<StoredAuditEvent> {
    for i in 0..N {
        store
            .record_event(AuditEvent::new(AuditAction::LoginFail, "user").object(format!("u{i}")))
            .await
            .unwrap();
    }
    store.anchor_audit().await.unwrap();
    let events = store.audit_events(0, 1000).await.unwrap();
    assert_eq!(events.len() as i64, N);
    events
}

async fn broken<S: Store>(store: &S) -> String {
    audit::verify_chain(store, None)
        .await
        .unwrap()
        .expect_err("the tampered chain must not verify")
}

/// `events` rehashed in order without the key, as someone with only the database can.
fn rehash_unkeyed(events: &mut [StoredAuditEvent], mut prev: String) {
    for e in events {
        e.prev_hash = prev;
        e.hash = chain_hash(&e.prev_hash, e);
        prev = e.hash.clone();
    }
}

pub async fn untampered_chain_verifies_against_its_anchor<S: Store>(store: S, _raw: Raw) {
    let events = chain_of(&store).await;
    let v = audit::verify_chain(&store, Some(events[9].hash.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((v.events, v.anchored, v.unkeyed), (N, Some(N), 0));
    assert_eq!(v.head, events.last().unwrap().hash);
    // The key file and the anchor are the service's alone.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let anchor = store.audit_trail().anchor_path();
        let key = anchor.with_file_name(audit::KEY_FILE);
        for f in [anchor, key.as_path()] {
            let mode = std::fs::metadata(f).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}: {mode:o}", f.display());
        }
    }
}

pub async fn deleting_the_tail_is_detected<S: Store>(store: S, raw: Raw) {
    chain_of(&store).await;
    raw.exec(&format!("DELETE FROM audit_events WHERE seq = {N}"))
        .await;
    let e = broken(&store).await;
    assert!(
        e.contains(&format!("ends at event {}", N - 1)) && e.contains(&format!("event {N}")),
        "{e}"
    );
    raw.exec(&format!("DELETE FROM audit_events WHERE seq > {}", N - 20))
        .await;
    let e = broken(&store).await;
    assert!(e.contains(&format!("ends at event {}", N - 20)), "{e}");
    raw.exec("DELETE FROM audit_events").await;
    let e = broken(&store).await;
    assert!(e.contains("every event was deleted"), "{e}");
}

pub async fn a_forged_event_with_an_unkeyed_hash_is_detected<S: Store>(store: S, raw: Raw) {
    let events = chain_of(&store).await;
    let mut forged = events.last().unwrap().clone();
    forged.seq = N + 1;
    forged.object_id = Some("forged".into());
    rehash_unkeyed(
        std::slice::from_mut(&mut forged),
        events.last().unwrap().hash.clone(),
    );
    raw.insert(&[forged]).await;
    let e = broken(&store).await;
    assert!(
        e.contains(&format!("event {}", N + 1)) && e.contains("forged"),
        "{e}"
    );
}

pub async fn an_edit_with_the_rest_recomputed_is_detected<S: Store>(store: S, raw: Raw) {
    let events = chain_of(&store).await;
    let mut rest = events[4..].to_vec();
    rest[0].object_id = Some("forged".into());
    rehash_unkeyed(&mut rest, events[3].hash.clone());
    raw.exec("DELETE FROM audit_events WHERE seq >= 5").await;
    raw.insert(&rest).await;
    let e = broken(&store).await;
    assert!(e.contains("event 5 ") && e.contains("altered"), "{e}");

    // The whole chain recomputed from the start without the key.
    let mut all = events.clone();
    rehash_unkeyed(&mut all, audit::GENESIS.to_owned());
    raw.exec("DELETE FROM audit_events").await;
    raw.insert(&all).await;
    let e = broken(&store).await;
    assert!(e.contains("event 1 "), "{e}");
}

pub async fn reordered_events_are_detected<S: Store>(store: S, raw: Raw) {
    let events = chain_of(&store).await;
    let (mut a, mut b) = (events[7].clone(), events[6].clone());
    a.seq = 7;
    b.seq = 8;
    raw.exec("DELETE FROM audit_events WHERE seq IN (7, 8)")
        .await;
    raw.insert(&[a, b]).await;
    let e = broken(&store).await;
    assert!(e.contains("event 7 "), "{e}");
}

pub async fn a_forged_insert_in_the_middle_is_detected<S: Store>(store: S, raw: Raw) {
    let events = chain_of(&store).await;
    let mut forged = events[9].clone();
    forged.object_id = Some("forged".into());
    let mut shifted = vec![forged];
    shifted.extend(events[9..].iter().cloned());
    for (i, e) in shifted.iter_mut().enumerate() {
        e.seq = 10 + i as i64;
    }
    rehash_unkeyed(&mut shifted[..1], events[8].hash.clone());
    raw.exec("DELETE FROM audit_events WHERE seq >= 10").await;
    raw.insert(&shifted).await;
    let e = broken(&store).await;
    assert!(e.contains("event 10 "), "{e}");
}

pub async fn an_edited_anchor_or_a_missing_head_is_detected<S: Store>(store: S, raw: Raw) {
    let events = chain_of(&store).await;
    // A cut after the last checkpoint shows only against the head written down.
    store
        .record_event(AuditEvent::new(AuditAction::LoginFail, "user").object("late"))
        .await
        .unwrap();
    let late = store.audit_events(N, 10).await.unwrap().remove(0);
    raw.exec(&format!("DELETE FROM audit_events WHERE seq = {}", N + 1))
        .await;
    assert!(audit::verify_chain(&store, None).await.unwrap().is_ok());
    let e = audit::verify_chain(&store, Some(late.hash.clone()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(e.contains("expected hash"), "{e}");
    assert!(
        audit::verify_chain(&store, Some(events[N as usize - 1].hash.clone()))
            .await
            .unwrap()
            .is_ok()
    );
    // A line added to the anchor without the key.
    let anchor = store.audit_trail().anchor_path().to_owned();
    let mut text = std::fs::read_to_string(&anchor).unwrap();
    text.push_str(&format!("checkpoint 99 {} {}\n", late.hash, late.hash));
    std::fs::write(&anchor, text).unwrap();
    let e = broken(&store).await;
    assert!(e.contains("not signed by the audit key"), "{e}");
}

pub async fn a_chain_from_before_the_key_still_verifies<S: Store>(store: S, raw: Raw) {
    // A database written before the audit key: every hash plain SHA-256 and no anchor;
    // the key is given now (on PostgreSQL another store of this process, holding the
    // same key, may seal the new events).
    let mut events = chain_of(&store).await;
    rehash_unkeyed(&mut events, audit::GENESIS.to_owned());
    raw.exec("DELETE FROM audit_events").await;
    raw.insert(&events).await;
    let dir = store
        .audit_trail()
        .anchor_path()
        .parent()
        .unwrap()
        .to_owned();
    std::fs::remove_file(dir.join(audit::ANCHOR_FILE)).unwrap();
    drop(store);
    match raw.reopen(&dir).await {
        plumbline_store::AnyStore::Sqlite(s) => keyed_after_the_cut_over(s, raw).await,
        plumbline_store::AnyStore::Postgres(s) => keyed_after_the_cut_over(s, raw).await,
    }
}

async fn keyed_after_the_cut_over<S: Store>(store: S, raw: Raw) {
    for i in 0..5 {
        store
            .record_event(AuditEvent::new(AuditAction::LoginFail, "user").object(format!("k{i}")))
            .await
            .unwrap();
    }
    store.anchor_audit().await.unwrap();
    let v = audit::verify_chain(&store, None).await.unwrap().unwrap();
    assert_eq!((v.events, v.unkeyed, v.anchored), (N + 5, N, Some(N + 5)));
    // An unkeyed event after the cut-over is refused.
    let events = store.audit_events(0, 1000).await.unwrap();
    let mut forged = events.last().unwrap().clone();
    forged.seq += 1;
    rehash_unkeyed(
        std::slice::from_mut(&mut forged),
        events.last().unwrap().hash.clone(),
    );
    raw.insert(&[forged]).await;
    let e = broken(&store).await;
    assert!(e.contains(&format!("event {} ", N + 6)), "{e}");
}

pub async fn purge_removes_skip_reasons<S: Store>(store: S, raw: Raw) {
    use crate::cases_work::{import, item, project_with, settings, take, user};
    use plumbline_store::{PurgeScope, RetentionPolicy};
    let p = project_with(&store, settings()).await;
    import(&store, &p, vec![item(1, ""), item(2, "")]).await;
    let ann = user(&store, "ann").await;
    let t = take(&store, ann, &p).await;
    let reason = "Outside my expertise Zq7";
    store
        .skip(ann, p.id, t.assignment, reason.into())
        .await
        .unwrap();
    assert_eq!(
        raw.count("SELECT count(*) FROM assignments WHERE skip_reason LIKE '%Zq7%'")
            .await,
        1
    );
    // The audit event records the reason by a keyed digest: hashing guesses of a short
    // text does not find it.
    let skip = store
        .audit_events(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .find(|e| e.action == "assignment.skip")
        .unwrap();
    let digest = skip.digest.unwrap();
    assert_ne!(digest, audit::sha256_hex(reason.as_bytes()));
    assert_eq!(
        digest,
        audit::content_digest(store.audit_trail().key(), reason.as_bytes())
    );
    let policy = RetentionPolicy {
        after_resolved_days: Some(30),
        after_release_days: None,
    };
    store.set_retention(None, p.id, Some(policy)).await.unwrap();
    store
        .purge(None, p.id, PurgeScope::Everything, false)
        .await
        .unwrap();
    assert_eq!(
        raw.count("SELECT count(*) FROM assignments WHERE skip_reason LIKE '%Zq7%'")
            .await,
        0
    );
    assert_eq!(
        raw.count("SELECT count(*) FROM assignments WHERE skip_reason IS NOT NULL")
            .await,
        1,
        "the skip itself is kept"
    );
    if let Raw::Sqlite(path) = &raw {
        for suffix in ["", "-wal"] {
            let bytes = std::fs::read(format!("{}{suffix}", path.display())).unwrap_or_default();
            assert!(
                !bytes.windows(3).any(|w| w == b"Zq7"),
                "the skip reason is gone from the file{suffix}"
            );
        }
    }
}
