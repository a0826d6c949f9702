//! Call audio: served to whoever may see its item (reviewers and leads; an annotator
//! while they hold the item's lease), 404 to anyone else, with byte ranges for seeking,
//! and every read audited as a read of the item; the waveform's peaks as JSON; and an
//! upload that stores audio ahead of the items (imported through the API) that name it.

use super::{ApiError, ApiResult};
use crate::AppState;
use crate::auth::{Importer, Viewer};
use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use plumbline_domain::{Item, ProjectRole, Scope};
use plumbline_store::audit::{AuditAction, AuditEvent};
use plumbline_store::{MediaInfo, NewMedia, Store, StoreError};
use serde::Deserialize;

/// Longest answer to an open-ended range (`bytes=N-`): players ask for the rest of the
/// file and take what comes, so one request never holds a whole long call in memory.
pub const OPEN_RANGE_BYTES: u64 = 4 << 20;

/// The read routes (small bodies).
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route(
            "/api/v1/projects/{project}/items/{item}/media",
            get(audio::<S>),
        )
        .route(
            "/api/v1/projects/{project}/items/{item}/media/peaks",
            get(peaks::<S>),
        )
}

/// The upload route, which takes an audio file as its body.
pub fn upload_routes<S: Store>() -> Router<AppState<S>> {
    Router::new().route("/api/v1/projects/{project}/media", post(upload::<S>))
}

/// The hash of the audio of `item`, when the caller may see the item; not found
/// otherwise (an item a caller may not see is not there for them).
async fn audio_of<S: Store>(
    state: &AppState<S>,
    viewer: &Viewer,
    item: &str,
) -> ApiResult<[u8; 32]> {
    let hidden = || ApiError::Store(StoreError::NotFound(format!("item `{item}`")));
    let reviewer =
        viewer.role >= ProjectRole::Reviewer && viewer.actor.scopes.contains(Scope::Review);
    let body = if reviewer {
        match state.store.item(viewer.project.id, item).await {
            Ok((stored, _)) => stored.body,
            Err(StoreError::NotFound(_)) => return Err(hidden()),
            Err(e) => return Err(e.into()),
        }
    } else if viewer.role >= ProjectRole::Annotator && viewer.actor.scopes.contains(Scope::Annotate)
    {
        // Annotators see an item only through their live lease on it.
        match state
            .store
            .held_task(viewer.actor.user.id, viewer.project.id)
            .await?
        {
            Some(task) if task.item == item => task.body,
            _ => return Err(hidden()),
        }
    } else {
        return Err(hidden());
    };
    let parsed: Item = serde_json::from_str(&body)
        .map_err(|e| ApiError::Store(StoreError::Database(format!("stored item: {e}"))))?;
    let sha = parsed
        .media
        .and_then(|m| m.sha256)
        .and_then(|h| sha_from_hex(&h))
        .ok_or_else(|| ApiError::Store(StoreError::NotFound(format!("audio of item `{item}`"))))?;
    state
        .store
        .record_event(
            AuditEvent::new(AuditAction::ItemRead, "item")
                .by(Some(viewer.actor.user.id))
                .object(item)
                .in_project(viewer.project.id),
        )
        .await?;
    Ok(sha)
}

fn sha_from_hex(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// What a `Range` header asks for, against a file of `size` bytes.
#[derive(Debug, PartialEq)]
enum Wanted {
    /// No range (or one this server answers whole: several ranges, another unit).
    Whole,
    /// Bytes `start..end`.
    Part(u64, u64),
    /// A range that lies outside the file.
    Unsatisfiable,
}

fn wanted(range: Option<&HeaderValue>, size: u64) -> Wanted {
    let Some(spec) = range
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().strip_prefix("bytes="))
    else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Wanted::Whole;
    };
    let (a, b) = (a.trim(), b.trim());
    match (a.parse::<u64>().ok(), b.parse::<u64>().ok()) {
        // `bytes=-N`: the last N bytes.
        (None, Some(n)) if a.is_empty() => {
            if n == 0 || size == 0 {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(size.saturating_sub(n), size)
            }
        }
        (Some(start), None) if b.is_empty() => {
            if start >= size {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(start, size.min(start.saturating_add(OPEN_RANGE_BYTES)))
            }
        }
        (Some(start), Some(last)) if last >= start => {
            if start >= size {
                Wanted::Unsatisfiable
            } else {
                Wanted::Part(start, size.min(last.saturating_add(1)))
            }
        }
        _ => Wanted::Whole,
    }
}

/// Headers every audio answer carries: never cached by shared caches, never sniffed.
fn audio_headers(info: &MediaInfo) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&info.content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if let Ok(tag) = HeaderValue::from_str(&format!("\"{}\"", info.sha256)) {
        h.insert(header::ETAG, tag);
    }
    h
}

/// An item's audio, whole or the byte range asked for (206; 416 outside the file).
#[utoipa::path(get, operation_id = "get_item_media", path = "/api/v1/projects/{project}/items/{item}/media", tag = "media",
    params(("project" = String, Path, description = "Project name"),
           ("item" = String, Path, description = "The item's own id"),
           ("Range" = Option<String>, Header, description = "One byte range, `bytes=START-END`, `bytes=START-` or `bytes=-LENGTH`")),
    responses((status = 200, description = "The whole file",
               content((AudioFile = "audio/wav"), (AudioFile = "audio/mpeg"), (AudioFile = "audio/ogg"),
                       (AudioFile = "audio/flac"), (AudioFile = "audio/webm")),
               headers(("Accept-Ranges" = String), ("Cache-Control" = String, description = "`private, no-store`"))),
              (status = 206, description = "The range asked for",
               content((AudioFile = "audio/wav"), (AudioFile = "audio/mpeg"), (AudioFile = "audio/ogg"),
                       (AudioFile = "audio/flac"), (AudioFile = "audio/webm")),
               headers(("Content-Range" = String, description = "`bytes START-END/SIZE`"))),
              (status = 404, description = "No such item, one the caller may not see, or one without audio", body = super::ErrorBody),
              (status = 416, description = "The range lies outside the file", body = super::ErrorBody)))]
pub async fn audio<S: Store>(
    State(state): State<AppState<S>>,
    viewer: Viewer,
    Path((_, item)): Path<(String, String)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let sha = audio_of(&state, &viewer, &item).await?;
    let info = state.store.media_info(sha).await?;
    let mut h = audio_headers(&info);
    let (status, start, end) = match wanted(headers.get(header::RANGE), info.bytes) {
        Wanted::Whole => (StatusCode::OK, 0, info.bytes),
        Wanted::Part(start, end) => (StatusCode::PARTIAL_CONTENT, start, end),
        Wanted::Unsatisfiable => {
            h.insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{}", info.bytes))
                    .expect("digits are a header value"),
            );
            let body = serde_json::json!({"error": {"code": "range_not_satisfiable",
                "message": format!("the range lies outside the file ({} bytes)", info.bytes)}});
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return Ok((StatusCode::RANGE_NOT_SATISFIABLE, h, body.to_string()).into_response());
        }
    };
    let bytes = state.store.media_range(sha, start, end).await?;
    if status == StatusCode::PARTIAL_CONTENT {
        h.insert(
            header::CONTENT_RANGE,
            HeaderValue::from_str(&format!("bytes {start}-{}/{}", end - 1, info.bytes))
                .expect("digits are a header value"),
        );
    }
    Ok((status, h, Body::from(bytes)).into_response())
}

/// The waveform of an item's audio: `[min, max]` pairs of the mono mix, computed once at
/// import. Opus audio has none (no decoder reads it here): 404.
#[utoipa::path(get, operation_id = "get_item_media_peaks", path = "/api/v1/projects/{project}/items/{item}/media/peaks", tag = "media",
    params(("project" = String, Path, description = "Project name"),
           ("item" = String, Path, description = "The item's own id")),
    responses((status = 200, description = "The peaks", body = PeaksBody),
              (status = 404, description = "No such item, one the caller may not see, or no peaks", body = super::ErrorBody)))]
pub async fn peaks<S: Store>(
    State(state): State<AppState<S>>,
    viewer: Viewer,
    Path((_, item)): Path<(String, String)>,
) -> ApiResult<Response> {
    let sha = audio_of(&state, &viewer, &item).await?;
    let json = state.store.media_peaks(sha).await?.ok_or_else(|| {
        ApiError::Store(StoreError::NotFound(format!(
            "peaks of the audio of item `{item}` (Opus audio has none)"
        )))
    })?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        json,
    )
        .into_response())
}

/// An audio file's bytes.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct AudioFile(Vec<u8>);

/// The waveform's peaks, as stored.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct PeaksBody {
    /// Samples per second of the audio.
    sample_rate: u32,
    /// Sample frames each pair covers (the last may cover fewer).
    frames_per_pair: u64,
    /// `[min, max]` of each span, in [-1, 1].
    peaks: Vec<[f32; 2]>,
}

/// Upload options.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// Ranges to silence before storing, in seconds: `1.5-3.25,10-12`. The original is
    /// never stored.
    pub redact: Option<String>,
}

/// Stores an audio file (WAV, MP3, Ogg Vorbis/Opus, FLAC, WebM) for items imported
/// after it to name by `media.sha256`; answers its hash, type and duration.
#[utoipa::path(post, operation_id = "upload_media", path = "/api/v1/projects/{project}/media", tag = "media",
    params(("project" = String, Path, description = "Project name"), UploadQuery),
    request_body(content = AudioFile, content_type = "application/octet-stream", description = "The audio file"),
    responses((status = 200, description = "Stored (or stored already)", body = MediaInfo),
              (status = 413, body = super::ErrorBody),
              (status = 422, description = "Not audio browsers play, corrupt, truncated, or a bad range", body = super::ErrorBody)))]
pub async fn upload<S: Store>(
    State(state): State<AppState<S>>,
    importer: Importer,
    Query(q): Query<UploadQuery>,
    bytes: axum::body::Bytes,
) -> ApiResult<Json<MediaInfo>> {
    let ranges = parse_ranges(q.redact.as_deref().unwrap_or(""))?;
    let cap = state.max_media_bytes;
    let prepared =
        tokio::task::spawn_blocking(move || plumbline_media::prepare(bytes, &ranges, cap))
            .await
            .map_err(|e| ApiError::Store(StoreError::Database(e.to_string())))?
            .map_err(|e| match e {
                plumbline_media::MediaError::TooLarge { .. } => ApiError::TooLarge(e.to_string()),
                e => ApiError::Invalid(e.to_string()),
            })?;
    let media = NewMedia {
        sha256: prepared.sha256,
        content_type: prepared.info.content_type().to_owned(),
        duration: prepared.info.duration,
        sample_rate: prepared.info.sample_rate,
        peaks: prepared.peaks.map(|p| p.to_json()),
        bytes: prepared.bytes,
    };
    let info = state
        .store
        .store_media(Some(importer.actor.user.id), importer.project.id, media)
        .await?;
    Ok(Json(info))
}

fn parse_ranges(text: &str) -> ApiResult<Vec<(f64, f64)>> {
    text.split(',')
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(|r| {
            let bad = || {
                ApiError::BadRequest(format!(
                    "redact: `{r}` is not a range of seconds like `1.5-3.25`"
                ))
            };
            let (a, b) = r.split_once('-').ok_or_else(bad)?;
            Ok((
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(range: &str, size: u64) -> Wanted {
        wanted(Some(&HeaderValue::from_str(range).unwrap()), size)
    }

    #[test]
    fn ranges_follow_rfc_9110() {
        assert_eq!(wanted(None, 100), Wanted::Whole);
        assert_eq!(w("bytes=0-9", 100), Wanted::Part(0, 10));
        assert_eq!(w("bytes=90-200", 100), Wanted::Part(90, 100));
        assert_eq!(w("bytes=-10", 100), Wanted::Part(90, 100));
        assert_eq!(w("bytes=-500", 100), Wanted::Part(0, 100));
        assert_eq!(w("bytes=50-", 100), Wanted::Part(50, 100));
        assert_eq!(
            w("bytes=0-", 100 << 20),
            Wanted::Part(0, OPEN_RANGE_BYTES),
            "an open range is answered in part"
        );
        assert_eq!(w("bytes=100-", 100), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=200-300", 100), Wanted::Unsatisfiable);
        assert_eq!(w("bytes=0-1,5-6", 100), Wanted::Whole);
        assert_eq!(w("bytes=9-2", 100), Wanted::Whole);
        assert_eq!(w("items=0-1", 100), Wanted::Whole);
    }

    #[test]
    fn redaction_ranges_parse_or_are_named() {
        assert_eq!(
            parse_ranges("1.5-3, 10-12").unwrap(),
            [(1.5, 3.0), (10.0, 12.0)]
        );
        assert!(parse_ranges("").unwrap().is_empty());
        let Err(ApiError::BadRequest(m)) = parse_ranges("1.5") else {
            panic!("a bad range is refused")
        };
        assert!(m.contains("`1.5`"), "{m}");
    }
}
