//! Call audio in the database: stored once per SHA-256 in chunks, read by byte range,
//! with its waveform peaks. Items name audio by hash; `item_media` links them so purge
//! removes the bytes no remaining item needs.

use crate::model::NewMedia;
use crate::{Result, StoreError};
use plumbline_domain::{ProjectId, UserId};
use serde::Serialize;
use std::future::Future;

/// Bytes per stored chunk: a range request near the start of a long call reads one or
/// two chunks, not the file.
pub const CHUNK_BYTES: usize = 256 << 10;

/// Default cap on one audio file: three hours of 16-bit stereo WAV at 8 kHz fit, and a
/// stray video does not.
pub const DEFAULT_MAX_MEDIA_BYTES: u64 = 200 << 20;

/// What is stored about a file besides its bytes.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct MediaInfo {
    /// Lower-case hex SHA-256 of the bytes.
    pub sha256: String,
    /// How it is served.
    pub content_type: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Length in seconds.
    pub duration: f64,
    /// Samples per second.
    pub sample_rate: u32,
}

/// Reading and storing audio.
pub trait MediaStore: Send + Sync {
    /// Stores audio uploaded ahead of the items that will name it (deduplicated by
    /// hash) and appends `media.upload`.
    fn store_media(
        &self,
        actor: Option<UserId>,
        project: ProjectId,
        media: NewMedia,
    ) -> impl Future<Output = Result<MediaInfo>> + Send;

    /// What is stored under `sha256`; not found when nothing is.
    fn media_info(&self, sha256: [u8; 32]) -> impl Future<Output = Result<MediaInfo>> + Send;

    /// Bytes `start..end` of the file stored under `sha256` (`end` clipped to its size).
    fn media_range(
        &self,
        sha256: [u8; 32],
        start: u64,
        end: u64,
    ) -> impl Future<Output = Result<Vec<u8>>> + Send;

    /// The audio the items of `project` with the own ids `items` name (any revision of
    /// them), each file once, by hash.
    fn media_of_items(
        &self,
        project: ProjectId,
        items: Vec<String>,
    ) -> impl Future<Output = Result<Vec<MediaInfo>>> + Send;

    /// The waveform's peaks as JSON (`None` where no decoder read them).
    fn media_peaks(&self, sha256: [u8; 32]) -> impl Future<Output = Result<Option<String>>> + Send;
}

/// The chunks `start..end` covers, and where in the first one it begins.
pub(crate) fn chunk_span(start: u64, end: u64) -> (i64, i64, usize) {
    let chunk = CHUNK_BYTES as u64;
    let first = start / chunk;
    let last = end.saturating_sub(1) / chunk;
    (first as i64, last as i64, (start % chunk) as usize)
}

/// Joins chunks read in order into the bytes `start..end`.
pub(crate) fn assemble(chunks: Vec<Vec<u8>>, offset: usize, len: usize) -> Result<Vec<u8>> {
    let mut out = Vec::with_capacity(len + offset);
    for c in chunks {
        out.extend_from_slice(&c);
    }
    if out.len() < offset + len {
        return Err(StoreError::Database(format!(
            "stored audio is missing chunks ({} bytes where {} were expected)",
            out.len(),
            offset + len
        )));
    }
    out.drain(..offset);
    out.truncate(len);
    Ok(out)
}

/// Parses a stored SHA-256.
pub(crate) fn sha_of(bytes: &[u8]) -> Result<[u8; 32]> {
    bytes
        .try_into()
        .map_err(|_| StoreError::Database("a stored audio hash is not 32 bytes".into()))
}

/// The audit event of an upload: the hash, never the audio.
pub(crate) fn upload_event(
    actor: Option<UserId>,
    project: ProjectId,
    info: &MediaInfo,
) -> crate::audit::AuditEvent {
    crate::audit::AuditEvent::new(crate::audit::AuditAction::MediaUpload, "media")
        .by(actor)
        .object(&info.sha256)
        .in_project(project)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_cover_the_range_and_no_more() {
        let c = CHUNK_BYTES as u64;
        assert_eq!(chunk_span(0, 1), (0, 0, 0));
        assert_eq!(chunk_span(c - 1, c + 1), (0, 1, CHUNK_BYTES - 1));
        assert_eq!(chunk_span(2 * c, 3 * c), (2, 2, 0));
        let bytes = assemble(vec![vec![1, 2, 3], vec![4, 5]], 1, 3).unwrap();
        assert_eq!(bytes, [2, 3, 4]);
        assert!(assemble(vec![vec![1]], 0, 3).is_err());
    }
}
