//! Exports and releases: `GET /projects/{p}/export` streams rows in constant memory;
//! `POST /projects/{p}/releases` writes a release under the server's release directory
//! and records it; `GET /projects/{p}/releases` lists them. Leads with the `export`
//! scope only ([`Exporter`]). The query is checked, and the rows written, by
//! `plumbline_formats::export_driver`, as for `plumbline export`: the same refusals, the
//! same bytes.
//!
//! JSONL is produced on a blocking thread into a bounded channel of 64 KiB chunks that
//! the response body drains, so a slow client slows the export instead of growing
//! memory. Parquet needs its footer written last, so it goes to a temporary file first,
//! which is then streamed the same way and removed.

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::Exporter;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use plumbline_domain::{Level, Split};
use plumbline_formats::export_driver::{
    self, Destination, Export, ExportRequest, Filters, RequestError, Target,
};
use plumbline_formats::release::{FileFormat, ReleaseRequest};
use plumbline_formats::run::Kind;
use plumbline_store::audit::{AuditAction, AuditEvent};
use plumbline_store::{Project, ReleaseRecord, Store};
use serde::Deserialize;
use std::io::Read;
use std::pin::Pin;
use std::task::{Context, Poll};
use tokio::sync::mpsc;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/projects/{project}/export", get(export::<S>))
        .route(
            "/api/v1/projects/{project}/releases",
            get(list_releases::<S>).post(create_release::<S>),
        )
}

/// Chunks in flight between the export thread and the response.
const CHUNKS: usize = 8;
/// Size of one chunk.
const CHUNK: usize = 64 << 10;

/// Which rows, in what format, and the filters (query string or release body).
#[derive(Debug, Deserialize, utoipa::IntoParams, utoipa::ToSchema)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `items` (the items themselves, native JSONL, each with its split; exports only),
    /// `preference`, `reward`, `sft`, `ranking`, `rating`, `red_team`, `full` or
    /// `label-studio` (Label Studio task JSON, one array; exports only).
    pub kind: String,
    /// `jsonl` (default) or `parquet`.
    #[serde(default)]
    pub format: Option<String>,
    /// Only items of this split (`train`, `eval`).
    #[serde(default)]
    pub split: Option<String>,
    /// Only items carrying every one of these comma-separated tags.
    #[serde(default)]
    pub tags: Option<String>,
    /// Only judgments made under this rubric version.
    #[serde(default, deserialize_with = "blank_as_none")]
    pub rubric_version: Option<i64>,
    /// Only items whose votes agree at least this much (0..1).
    #[serde(default, deserialize_with = "blank_as_none")]
    pub min_agreement: Option<f64>,
    /// Only judgments by annotators with at least this verified level.
    #[serde(default)]
    pub min_expertise: Option<String>,
    /// Least posterior of a pair decided by the decision method (default: the project's
    /// `decision_threshold`).
    #[serde(default, deserialize_with = "blank_as_none")]
    pub threshold: Option<f64>,
    /// How items with several votes are decided: `reliability` (default),
    /// `dawid-skene` or `majority`.
    #[serde(default)]
    pub decision: Option<String>,
    /// Count imported external judgments as votes.
    #[serde(default)]
    pub include_external: bool,
}

/// A number from a query string or a JSON body; a field an HTML form left empty is
/// absent, as if not sent.
fn blank_as_none<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr + Deserialize<'de>,
    T::Err: std::fmt::Display,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw<T> {
        Text(String),
        Value(T),
    }
    match Option::<Raw<T>>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::Text(s)) if s.trim().is_empty() => Ok(None),
        Some(Raw::Text(s)) => s.trim().parse().map(Some).map_err(serde::de::Error::custom),
        Some(Raw::Value(v)) => Ok(Some(v)),
    }
}

impl ExportQuery {
    /// The target and the checked export: the query's words parsed here, every other
    /// check in [`ExportRequest::validate`], as for `plumbline export`.
    async fn export<S: Store>(&self, store: &S, project: &Project) -> ApiResult<(Target, Export)> {
        let target = match self.kind.as_str() {
            "items" => Target::Items,
            kind => Target::Rows(Kind::parse(kind).map_err(ApiError::Invalid)?),
        };
        let format = match self.format.as_deref() {
            None => FileFormat::Jsonl,
            Some(f) => FileFormat::parse(f).map_err(ApiError::Invalid)?,
        };
        // An HTML form sends an unset choice as an empty value: the same as absent.
        let split = match self.split.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some("train") => Some(Split::Train),
            Some("eval") => Some(Split::Eval),
            Some(s) => {
                return Err(ApiError::Invalid(format!(
                    "unknown split `{s}` (expected train or eval)"
                )));
            }
        };
        let min_expertise: Option<Level> =
            match self.min_expertise.as_deref().filter(|l| !l.is_empty()) {
                None => None,
                Some(l) => Some(l.parse().map_err(ApiError::Invalid)?),
            };
        let tags = self
            .tags
            .as_deref()
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let request = ExportRequest {
            target,
            format,
            filters: Filters {
                split,
                tags,
                rubric_version: self.rubric_version,
                min_expertise,
                min_agreement: self.min_agreement,
                include_external: self.include_external,
                threshold: self.threshold,
                // An unset form field arrives empty: the same as absent.
                decision: self.decision.clone().filter(|d| !d.is_empty()),
            },
        };
        let export = request
            .validate(store, project)
            .await
            .map_err(|e| match e {
                RequestError::Store(e) => ApiError::Store(e),
                e => ApiError::Invalid(e.to_string()),
            })?;
        Ok((target, export))
    }
}

/// A response body fed by a bounded channel, after a first chunk already taken from it.
struct ChannelBody(
    Option<std::io::Result<Bytes>>,
    mpsc::Receiver<std::io::Result<Bytes>>,
);

impl futures_core::Stream for ChannelBody {
    type Item = std::io::Result<Bytes>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        if let Some(first) = self.0.take() {
            return Poll::Ready(Some(first));
        }
        self.1.poll_recv(cx)
    }
}

/// The header that marks an export of no rows (a JSONL body of no lines).
pub const EMPTY_HEADER: &str = "x-plumbline-export-empty";

/// A writer that sends full chunks into the channel (called on a blocking thread).
struct ChunkWriter {
    tx: mpsc::Sender<std::io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChunkWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::other("the client went away"))
    }
}

impl std::io::Write for ChunkWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        // The JSONL sink hands over its 1 MiB buffer at once; cut it into chunks so each
        // message in the channel stays small.
        for piece in b.chunks(CHUNK) {
            self.buf.extend_from_slice(piece);
            if self.buf.len() >= CHUNK {
                self.send()?;
            }
        }
        Ok(b.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// Streams a project's rows of one kind (see docs/EXPORTS.md for each schema).
#[utoipa::path(get, operation_id = "export_rows", path = "/api/v1/projects/{project}/export", tag = "exports",
    params(("project" = String, Path, description = "Project name"), ExportQuery),
    responses((status = 200, description = "The rows, streamed as an attachment: JSONL (`format=jsonl`, the default) or Parquet (`format=parquet`)",
               content((JsonlRows = "application/x-ndjson"), (ParquetFile = "application/vnd.apache.parquet"), (LabelStudioTasks = "application/json")),
               headers(("x-plumbline-export-empty" = String, description = "Present when no row matched (the JSONL body is empty)"))),
              (status = 422, body = super::ErrorBody),
              (status = 404, body = super::ErrorBody)))]
pub async fn export<S: Store>(
    State(state): State<AppState<S>>,
    exporter: Exporter,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query.map_err(|e| ApiError::BadRequest(e.body_text()))?;
    let project = exporter.project.clone();
    let (target, export) = q.export(&state.store, &project).await?;
    let format = export.format;
    let filters = plumbline_formats::release::filters(&export.opts);
    state
        .store
        .record_event(
            AuditEvent::new(AuditAction::ExportDownload, "export")
                .by(Some(exporter.actor.user.id))
                .in_project(project.id)
                .object(format!("{target} {} {filters}", format.as_str())),
        )
        .await?;
    let (tx, rx) = mpsc::channel::<std::io::Result<Bytes>>(CHUNKS);
    let store = state.store.clone();
    // Label Studio tasks are one JSON array, not JSONL.
    let tasks = matches!(target, Target::Rows(Kind::LabelStudio));
    let extension = if tasks { "json" } else { format.as_str() };
    let name = format!("{}-{target}.{extension}", slug(&project.name));
    match format {
        FileFormat::Jsonl => {
            let body = ChunkWriter {
                tx: tx.clone(),
                buf: Vec::with_capacity(CHUNK),
            };
            tokio::spawn(async move {
                let to = Destination::Stream(Box::new(body));
                if let Err(e) = export_driver::run(&store, &project, export, to).await {
                    // The status is sent; an error ends the body early (the client sees a
                    // truncated transfer, never a silently short file).
                    tracing::warn!(error = %e, "export stopped");
                    let _ = tx.send(Err(std::io::Error::other(e))).await;
                }
            });
        }
        FileFormat::Parquet => {
            let tmp = tempfile_path(&state.releases_dir, &name)?;
            tokio::spawn(async move {
                let to = Destination::File(tmp.clone());
                let done = export_driver::run(&store, &project, export, to).await;
                let sent = match done {
                    Ok(_) => {
                        let path = tmp.clone();
                        let tx = tx.clone();
                        tokio::task::spawn_blocking(move || stream_file(&path, &tx))
                            .await
                            .unwrap_or_else(|e| Err(std::io::Error::other(e.to_string())))
                    }
                    Err(e) => Err(std::io::Error::other(e)),
                };
                let _ = std::fs::remove_file(&tmp);
                if let Err(e) = sent {
                    tracing::warn!(error = %e, "export stopped");
                    let _ = tx.send(Err(e)).await;
                }
            });
        }
    }
    let content_type = match format {
        FileFormat::Jsonl if tasks => "application/json",
        FileFormat::Jsonl => "application/x-ndjson",
        FileFormat::Parquet => "application/vnd.apache.parquet",
    };
    // JSONL: wait for the first chunk (at most 64 KiB, or the end of a small export), so
    // an export of no rows can say so in a header rather than as a bare empty body.
    let mut rx = rx;
    let first = match format {
        FileFormat::Jsonl => rx.recv().await,
        FileFormat::Parquet => None,
    };
    let empty = format == FileFormat::Jsonl && first.is_none();
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type.to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
        ],
        Body::from_stream(ChannelBody(first, rx)),
    )
        .into_response();
    if empty {
        response.headers_mut().insert(
            EMPTY_HEADER,
            header::HeaderValue::from_static(
                "no rows matched: the body is empty (JSONL of no lines)",
            ),
        );
    }
    Ok(response)
}

/// A file name part: letters and digits, others as `-`.
fn slug(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Where a Parquet download is written before it is streamed: a 0700 directory of the
/// server's own (`.exports` in the releases directory), never the shared `/tmp`.
fn tempfile_path(releases: &std::path::Path, name: &str) -> ApiResult<std::path::PathBuf> {
    let dir = releases.join(".exports");
    plumbline_store::files::create_dir_all(&dir).map_err(|e| {
        ApiError::Store(plumbline_store::StoreError::Database(format!(
            "cannot create {}: {e}",
            dir.display()
        )))
    })?;
    let nonce = plumbline_store::random_hex(8)?;
    Ok(dir.join(format!("{nonce}-{name}")))
}

fn stream_file(
    path: &std::path::Path,
    tx: &mpsc::Sender<std::io::Result<Bytes>>,
) -> std::io::Result<()> {
    let mut f = std::fs::File::open(path)?;
    loop {
        let mut buf = vec![0u8; CHUNK];
        let n = f.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        buf.truncate(n);
        tx.blocking_send(Ok(Bytes::from(buf)))
            .map_err(|_| std::io::Error::other("the client went away"))?;
    }
}

/// JSONL rows: one JSON object a line (docs/EXPORTS.md gives each kind's fields).
#[derive(utoipa::ToSchema)]
#[schema(value_type = String)]
#[allow(dead_code)]
pub struct JsonlRows(String);

/// Label Studio task JSON: one array of `{data, predictions}` (docs/EXPORTS.md).
#[derive(utoipa::ToSchema)]
#[schema(value_type = Vec<Object>)]
#[allow(dead_code)]
pub struct LabelStudioTasks(Vec<serde_json::Value>);

/// An Apache Parquet file.
#[derive(utoipa::ToSchema)]
#[schema(value_type = String, format = Binary)]
#[allow(dead_code)]
pub struct ParquetFile(Vec<u8>);

/// Body of a release request: the export's query fields.
pub type ReleaseBody = ExportQuery;

/// Writes a release of the project under the server's release directory, records it
/// (with a `release.create` audit event) and answers its record; the release id is
/// `manifest_sha256`.
#[utoipa::path(post, operation_id = "create_release", path = "/api/v1/projects/{project}/releases", tag = "exports",
    params(("project" = String, Path, description = "Project name")),
    request_body = ReleaseBody,
    responses((status = 201, description = "Written and recorded", body = plumbline_store::ReleaseRecord),
              (status = 400, body = super::ErrorBody),
              (status = 422, body = super::ErrorBody)))]
pub async fn create_release<S: Store>(
    State(state): State<AppState<S>>,
    exporter: Exporter,
    bytes: Bytes,
) -> ApiResult<(StatusCode, Json<ReleaseRecord>)> {
    let q: ReleaseBody = json_body(&bytes)?;
    let project = &exporter.project;
    let (target, export) = q.export(&state.store, project).await?;
    let Target::Rows(kind) = target else {
        return Err(ApiError::Invalid(
            "a release holds rows of a data kind; items are exported with kind=items".into(),
        ));
    };
    let dir = state.releases_dir.join(format!(
        "{}-{}-{}-{}",
        slug(&project.name),
        kind.as_str(),
        plumbline_store::now_ms(),
        plumbline_store::random_hex(4)?
    ));
    let released = plumbline_formats::release::create(
        &state.store,
        Some(exporter.actor.user.id),
        project,
        ReleaseRequest {
            kind,
            format: export.format,
            opts: export.opts,
            out: dir,
            with_media: false,
        },
    )
    .await
    .map_err(ApiError::Invalid)?;
    Ok((StatusCode::CREATED, Json(released.record)))
}

/// The project's releases, newest first.
#[utoipa::path(get, operation_id = "list_releases", path = "/api/v1/projects/{project}/releases", tag = "exports",
    params(("project" = String, Path, description = "Project name")),
    responses((status = 200, description = "Releases", body = [plumbline_store::ReleaseRecord])))]
pub async fn list_releases<S: Store>(
    State(state): State<AppState<S>>,
    exporter: Exporter,
) -> ApiResult<Json<Vec<ReleaseRecord>>> {
    Ok(Json(state.store.releases(exporter.project.id).await?))
}
