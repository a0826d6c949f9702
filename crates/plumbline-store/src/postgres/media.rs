//! Call audio on PostgreSQL: chunks in `media_chunks`, one file per hash.

use super::PgStore;
use crate::Result;
use crate::error::StoreError;
use crate::media::{
    CHUNK_BYTES, MediaInfo, MediaStore, assemble, chunk_span, sha_of, upload_event,
};
use crate::model::{NewMedia, hex, now_ms};
use plumbline_domain::{ProjectId, UserId};
use tokio_postgres::Transaction;

/// Stores `media` unless a file of its hash is stored already; true when stored now.
pub(super) async fn put(tx: &Transaction<'_>, media: &NewMedia) -> Result<bool> {
    let added = tx
        .execute(
            "INSERT INTO media (sha256, content_type, byte_len, duration, sample_rate, peaks, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (sha256) DO NOTHING",
            &[
                &&media.sha256[..],
                &media.content_type,
                &(media.bytes.len() as i64),
                &media.duration,
                &i64::from(media.sample_rate),
                &media.peaks,
                &now_ms(),
            ],
        )
        .await?;
    if added == 0 {
        return Ok(false);
    }
    let insert = tx
        .prepare("INSERT INTO media_chunks (sha256, seq, bytes) VALUES ($1, $2, $3)")
        .await?;
    for (seq, bytes) in media.bytes.chunks(CHUNK_BYTES).enumerate() {
        tx.execute(&insert, &[&&media.sha256[..], &(seq as i64), &bytes])
            .await?;
    }
    Ok(true)
}

/// Which of `shas` are stored.
pub(super) async fn existing(
    tx: &Transaction<'_>,
    shas: &[&[u8]],
) -> Result<std::collections::HashSet<Vec<u8>>> {
    Ok(tx
        .query("SELECT sha256 FROM media WHERE sha256 = ANY($1)", &[&shas])
        .await?
        .into_iter()
        .map(|r| r.get(0))
        .collect())
}

/// Links items to the audio they name.
pub(super) async fn link(tx: &Transaction<'_>, links: &[(i64, &[u8; 32])]) -> Result<()> {
    if links.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = links.iter().map(|l| l.0).collect();
    let shas: Vec<&[u8]> = links.iter().map(|l| &l.1[..]).collect();
    tx.execute(
        "INSERT INTO item_media (item_id, sha256) SELECT * FROM unnest($1::bigint[], $2::bytea[])
         ON CONFLICT DO NOTHING",
        &[&ids, &shas],
    )
    .await?;
    Ok(())
}

/// Unlinks `item_id` from its audio and deletes the files no other item names;
/// returns how many files went.
pub(super) async fn purge_item(tx: &Transaction<'_>, item_id: i64) -> Result<u64> {
    let removed = tx
        .execute(
            "WITH unlinked AS (DELETE FROM item_media WHERE item_id = $1 RETURNING sha256)
             DELETE FROM media m WHERE m.sha256 IN (SELECT sha256 FROM unlinked)
               AND NOT EXISTS (SELECT 1 FROM item_media im
                               WHERE im.sha256 = m.sha256 AND im.item_id <> $1)",
            &[&item_id],
        )
        .await?;
    Ok(removed)
}

async fn info(client: &deadpool_postgres::Object, sha256: &[u8; 32]) -> Result<MediaInfo> {
    let row = client
        .query_opt(
            "SELECT content_type, byte_len, duration, sample_rate FROM media WHERE sha256 = $1",
            &[&&sha256[..]],
        )
        .await?
        .ok_or_else(|| StoreError::NotFound(format!("audio {}", hex(sha256))))?;
    Ok(MediaInfo {
        sha256: hex(sha256),
        content_type: row.get(0),
        bytes: row.get::<_, i64>(1) as u64,
        duration: row.get(2),
        sample_rate: row.get::<_, i64>(3) as u32,
    })
}

impl MediaStore for PgStore {
    async fn store_media(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        media: NewMedia,
    ) -> Result<MediaInfo> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        put(&tx, &media).await?;
        let row = tx
            .query_one(
                "SELECT sha256, content_type, byte_len, duration, sample_rate FROM media WHERE sha256 = $1",
                &[&&media.sha256[..]],
            )
            .await?;
        let stored = MediaInfo {
            sha256: hex(&sha_of(row.get(0))?),
            content_type: row.get(1),
            bytes: row.get::<_, i64>(2) as u64,
            duration: row.get(3),
            sample_rate: row.get::<_, i64>(4) as u32,
        };
        crate::audit::pg_append(&tx, &upload_event(actor, project, &stored)).await?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn media_info(&self, sha256: [u8; 32]) -> Result<MediaInfo> {
        let client = self.client().await?;
        info(&client, &sha256).await
    }

    async fn media_range(&self, sha256: [u8; 32], start: u64, end: u64) -> Result<Vec<u8>> {
        let client = self.client().await?;
        let size = info(&client, &sha256).await?.bytes;
        let end = end.min(size);
        if start >= end {
            return Ok(Vec::new());
        }
        let (first, last, offset) = chunk_span(start, end);
        let chunks: Vec<Vec<u8>> = client
            .query(
                "SELECT bytes FROM media_chunks WHERE sha256 = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq",
                &[&&sha256[..], &first, &last],
            )
            .await?
            .into_iter()
            .map(|r| r.get(0))
            .collect();
        assemble(chunks, offset, (end - start) as usize)
    }

    async fn media_of_items(
        &self,
        project: ProjectId,
        items: Vec<String>,
    ) -> Result<Vec<MediaInfo>> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT DISTINCT im.sha256 FROM item_media im JOIN items i ON i.id = im.item_id
                 WHERE i.project_id = $1 AND i.ext_id = ANY($2) ORDER BY im.sha256",
                &[&project.0, &items],
            )
            .await?;
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(info(&client, &sha_of(row.get(0))?).await?);
        }
        Ok(out)
    }

    async fn media_peaks(&self, sha256: [u8; 32]) -> Result<Option<String>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT peaks FROM media WHERE sha256 = $1", &[&&sha256[..]])
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("audio {}", hex(&sha256))))?;
        Ok(row.get(0))
    }
}
