//! Call audio on SQLite: chunks in `media_chunks`, one file per hash.

use super::SqliteStore;
use crate::Result;
use crate::error::StoreError;
use crate::media::{CHUNK_BYTES, MediaInfo, MediaStore, assemble, chunk_span, upload_event};
use crate::model::{NewMedia, hex, now_ms};
use plumbline_domain::{ProjectId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

/// Stores `media` unless a file of its hash is stored already; true when stored now.
pub(super) fn put(conn: &Connection, media: &NewMedia) -> Result<bool> {
    let added = conn
        .prepare_cached(
            "INSERT INTO media (sha256, content_type, byte_len, duration, sample_rate, peaks, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT (sha256) DO NOTHING",
        )?
        .execute(params![
            &media.sha256[..],
            media.content_type,
            media.bytes.len() as i64,
            media.duration,
            media.sample_rate,
            media.peaks,
            now_ms()
        ])?;
    if added == 0 {
        return Ok(false);
    }
    let mut chunk =
        conn.prepare_cached("INSERT INTO media_chunks (sha256, seq, bytes) VALUES (?1, ?2, ?3)")?;
    for (seq, bytes) in media.bytes.chunks(CHUNK_BYTES).enumerate() {
        chunk.execute(params![&media.sha256[..], seq as i64, bytes])?;
    }
    Ok(true)
}

/// Whether audio of this hash is stored.
pub(super) fn exists(conn: &Connection, sha256: &[u8; 32]) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM media WHERE sha256 = ?1")?
        .query_row([&sha256[..]], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Links an item to the audio it names.
pub(super) fn link(conn: &Connection, item_id: i64, sha256: &[u8; 32]) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO item_media (item_id, sha256) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
    )?
    .execute(params![item_id, &sha256[..]])?;
    Ok(())
}

/// Unlinks `item_id` from its audio and deletes the files no other item names;
/// returns how many files went.
pub(super) fn purge_item(conn: &Connection, item_id: i64) -> Result<u64> {
    let shas: Vec<Vec<u8>> = conn
        .prepare_cached("DELETE FROM item_media WHERE item_id = ?1 RETURNING sha256")?
        .query_map([item_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut removed = 0;
    for sha in shas {
        removed += conn
            .prepare_cached(
                "DELETE FROM media WHERE sha256 = ?1
                 AND NOT EXISTS (SELECT 1 FROM item_media WHERE sha256 = ?1)",
            )?
            .execute([&sha])? as u64;
    }
    Ok(removed)
}

fn info(conn: &Connection, sha256: &[u8; 32]) -> Result<MediaInfo> {
    conn.prepare_cached(
        "SELECT content_type, byte_len, duration, sample_rate FROM media WHERE sha256 = ?1",
    )?
    .query_row([&sha256[..]], |r| {
        Ok(MediaInfo {
            sha256: hex(sha256),
            content_type: r.get(0)?,
            bytes: r.get::<_, i64>(1)? as u64,
            duration: r.get(2)?,
            sample_rate: r.get(3)?,
        })
    })
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("audio {}", hex(sha256))))
}

impl MediaStore for SqliteStore {
    async fn store_media(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        media: NewMedia,
    ) -> Result<MediaInfo> {
        self.write(move |conn| {
            let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
            put(&tx, &media)?;
            let stored = info(&tx, &media.sha256)?;
            crate::audit::sqlite_append(&tx, &upload_event(actor, project, &stored))?;
            tx.commit()?;
            Ok(stored)
        })
        .await
    }

    async fn media_info(&self, sha256: [u8; 32]) -> Result<MediaInfo> {
        self.read(move |conn| info(conn, &sha256)).await
    }

    async fn media_range(&self, sha256: [u8; 32], start: u64, end: u64) -> Result<Vec<u8>> {
        self.read(move |conn| {
            let size = info(conn, &sha256)?.bytes;
            let end = end.min(size);
            if start >= end {
                return Ok(Vec::new());
            }
            let (first, last, offset) = chunk_span(start, end);
            let chunks: Vec<Vec<u8>> = conn
                .prepare_cached(
                    "SELECT bytes FROM media_chunks WHERE sha256 = ?1 AND seq BETWEEN ?2 AND ?3 ORDER BY seq",
                )?
                .query_map(params![&sha256[..], first, last], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            assemble(chunks, offset, (end - start) as usize)
        })
        .await
    }

    async fn media_of_items(
        &self,
        project: ProjectId,
        items: Vec<String>,
    ) -> Result<Vec<MediaInfo>> {
        self.read(move |conn| {
            let mut shas = std::collections::BTreeSet::new();
            let mut stmt = conn.prepare_cached(
                "SELECT im.sha256 FROM item_media im JOIN items i ON i.id = im.item_id
                 WHERE i.project_id = ?1 AND i.ext_id = ?2",
            )?;
            for item in items {
                for sha in stmt.query_map(params![project.0, item], |r| r.get::<_, Vec<u8>>(0))? {
                    shas.insert(crate::media::sha_of(&sha?)?);
                }
            }
            shas.iter().map(|sha| info(conn, sha)).collect()
        })
        .await
    }

    async fn media_peaks(&self, sha256: [u8; 32]) -> Result<Option<String>> {
        self.read(move |conn| {
            conn.prepare_cached("SELECT peaks FROM media WHERE sha256 = ?1")?
                .query_row([&sha256[..]], |r| r.get(0))
                .optional()?
                .ok_or_else(|| StoreError::NotFound(format!("audio {}", hex(&sha256))))
        })
        .await
    }
}
