//! Call audio in the store: chunked, deduplicated by SHA-256, read by range, refused
//! when an item names audio that is not stored, and gone from the database after purge.

use crate::cases_work::{item, project_with, settings};
use crate::support::Raw;
use plumbline_store::{
    ImportMsg, ImportOptions, ImportOutcome, NewItem, NewMedia, Project, PurgeScope, Store,
    media::CHUNK_BYTES,
};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

/// A 2.5-chunk "file" that carries a marker a test can search the database file for.
fn audio(marker: &str) -> NewMedia {
    let mut bytes = Vec::with_capacity(CHUNK_BYTES * 5 / 2);
    let mut i = 0u32;
    while bytes.len() < CHUNK_BYTES * 5 / 2 {
        bytes.extend_from_slice(marker.as_bytes());
        bytes.extend_from_slice(&i.to_le_bytes());
        i += 1;
    }
    NewMedia {
        sha256: Sha256::digest(&bytes).into(),
        content_type: "audio/wav".into(),
        bytes: bytes.into(),
        duration: 3.5,
        sample_rate: 16_000,
        peaks: Some(r#"{"sample_rate":16000,"frames_per_pair":40,"peaks":[[-0.5,0.5]]}"#.into()),
    }
}

fn with_audio(n: usize, media: &NewMedia, bring_bytes: bool) -> NewItem {
    let mut it = item(n, "");
    it.media_sha256 = Some(media.sha256);
    it.media = bring_bytes.then(|| media.clone());
    it
}

async fn import_all<S: Store>(store: &S, p: &Project, items: Vec<NewItem>) -> ImportOutcome {
    let (tx, rx) = mpsc::channel(2);
    let feeder = tokio::spawn(async move {
        tx.send(ImportMsg::Items(items)).await.unwrap();
        let _ = tx.send(ImportMsg::Finish { commit: true }).await;
    });
    let out = store
        .import_items(None, p.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    feeder.await.unwrap();
    out
}

pub async fn media_is_chunked_deduplicated_ranged_and_purged<S: Store>(store: S, raw: Raw) {
    let p = project_with(&store, settings()).await;
    let call = audio("Zq9CALL");
    let other = audio("Zq9OTHER");
    // An item naming audio that is not stored refuses the whole import.
    let refused = import_all(
        &store,
        &p,
        vec![with_audio(1, &call, true), with_audio(2, &other, false)],
    )
    .await;
    assert!(!refused.committed);
    assert!(
        refused.conflicts[0].reason.contains("not stored"),
        "{:?}",
        refused.conflicts
    );
    assert_eq!(
        raw.count("SELECT count(*) FROM media").await,
        0,
        "nothing half-written"
    );
    // Two items with the same recording store it once, in chunks.
    let out = import_all(
        &store,
        &p,
        vec![with_audio(1, &call, true), with_audio(2, &call, true)],
    )
    .await;
    assert!(out.committed, "{out:?}");
    assert_eq!(raw.count("SELECT count(*) FROM media").await, 1);
    assert_eq!(raw.count("SELECT count(*) FROM media_chunks").await, 3);
    assert_eq!(raw.count("SELECT count(*) FROM item_media").await, 2);
    let info = store.media_info(call.sha256).await.unwrap();
    assert_eq!(info.bytes, call.bytes.len() as u64);
    assert_eq!(info.content_type, "audio/wav");
    // A range across a chunk boundary, and one past the end (clipped).
    let at = CHUNK_BYTES as u64 - 3;
    let got = store.media_range(call.sha256, at, at + 10).await.unwrap();
    assert_eq!(got, call.bytes[at as usize..at as usize + 10]);
    let size = call.bytes.len() as u64;
    let tail = store
        .media_range(call.sha256, size - 4, size + 100)
        .await
        .unwrap();
    assert_eq!(tail, call.bytes[size as usize - 4..]);
    assert!(
        store
            .media_peaks(call.sha256)
            .await
            .unwrap()
            .unwrap()
            .contains("frames_per_pair")
    );
    // Uploaded first, then named by hash alone.
    let uploaded = store.store_media(None, p.id, other.clone()).await.unwrap();
    assert_eq!(uploaded.sha256, plumbline_store::hex(&other.sha256));
    let out = import_all(&store, &p, vec![with_audio(3, &other, false)]).await;
    assert!(out.committed, "{out:?}");
    assert!(
        store
            .audit_events(0, 1000)
            .await
            .unwrap()
            .iter()
            .any(|e| e.action == "media.upload")
    );
    // Purge takes the bytes of every file its items named.
    let report = store
        .purge(None, p.id, PurgeScope::Everything, false)
        .await
        .unwrap();
    assert_eq!(report.media, 2, "{report:?}");
    for table in ["media", "media_chunks", "item_media"] {
        assert_eq!(
            raw.count(&format!("SELECT count(*) FROM {table}")).await,
            0,
            "{table}"
        );
    }
    assert!(matches!(
        store.media_info(call.sha256).await,
        Err(plumbline_store::StoreError::NotFound(_))
    ));
    if let Raw::Sqlite(path) = &raw {
        for suffix in ["", "-wal"] {
            let bytes = std::fs::read(format!("{}{suffix}", path.display())).unwrap_or_default();
            assert!(
                !bytes.windows(7).any(|w| w == b"Zq9CALL" || w == b"Zq9OTHE"),
                "the audio is gone from the file{suffix}"
            );
        }
    }
}
