//! Items: import a file in any format the CLI imports (one transaction, through the
//! import driver the CLI uses too), list with filters and keyset pagination, read one with its
//! revisions.

use super::{ApiError, ApiResult, page_size};
use crate::AppState;
use crate::auth::{Importer, Reviewer};
use axum::extract::{FromRequest, Path, Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::{Json, Router};
use plumbline_domain::{ItemId, ProjectRole};
use plumbline_formats::csv::Mapping;
use plumbline_formats::import_driver::{self, ImportError, ImportRequest};
use plumbline_formats::media::MediaOptions;
use plumbline_formats::{Format, Input};
use plumbline_store::{
    ImportOptions, ImportOutcome, ItemFilter, ItemRevision, ItemState, Store, StoreError,
    StoredItem,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Routes of this resource (JSON bodies).
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new()
        .route("/api/v1/projects/{project}/items", get(list::<S>))
        .route("/api/v1/projects/{project}/items/{item}", get(get_one::<S>))
}

/// The import route, which takes a larger body.
pub fn import_routes<S: Store>() -> Router<AppState<S>> {
    Router::new().route("/api/v1/projects/{project}/items", post(import::<S>))
}

/// Import options in the query string.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// Store a new revision when an id exists with other content.
    #[serde(default)]
    pub update: bool,
    /// Report up to this many bad lines (still storing nothing).
    #[serde(default)]
    pub report_errors: Option<usize>,
    /// The format: `auto` detects it from the content; `native` (the default), `csv`,
    /// `parquet`, `hh-rlhf`, `oasst1`, `helpsteer2`, `label-studio`, `trl`, `trl-sft`,
    /// `ultrafeedback` or `helpsteer2-preference` names it, as `plumbline import
    /// --format` does.
    #[serde(default)]
    pub format: Option<String>,
    /// The column mapping of CSV and flat Parquet, as the TOML of `--mapping FILE`.
    #[serde(default)]
    pub mapping: Option<String>,
}

/// What an import did, with the bad lines it found.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ImportReply {
    /// The store's outcome.
    #[serde(flatten)]
    pub outcome: ImportOutcome,
    /// Lines read that held an item.
    pub records: u64,
    /// Bad lines (line, field, reason), at most `report_errors`.
    pub errors: Vec<plumbline_formats::lines::LineError>,
    /// How many lines were bad.
    pub error_count: u64,
    /// The format read (when it could be told).
    pub format: Option<String>,
    /// How it was told: named, or what detection saw.
    pub detected: Option<String>,
}

/// A multipart import. The part `items` holds the items; every other part is a file an
/// item names (`media.path`, or `transcript` by path), the part's name being that
/// relative path (`calls/c1.wav`): audio in a format browsers play, or a Whisper /
/// WhisperX JSON transcript. Files are held under the same cap as an upload.
#[derive(utoipa::ToSchema)]
#[allow(dead_code)]
pub struct ImportForm {
    /// The items, in the format `format` names (native JSONL by default).
    #[schema(value_type = String, format = Binary)]
    items: Vec<u8>,
}

/// Imports items from the body in any format the command line imports (native JSONL
/// unless `format` says otherwise; gzip and zstd are read through), or from a
/// `multipart/form-data` body whose `items` part holds them and whose other parts are the
/// files (audio, transcripts) they name by relative path; nothing is stored unless every
/// record and every file it names is good.
#[utoipa::path(post, operation_id = "import_items", path = "/api/v1/projects/{project}/items", tag = "items",
    params(("project" = String, Path, description = "Project name"), ImportQuery),
    request_body(description = "The file (JSONL, JSON, CSV or Parquet as `format` says); or, as multipart, the items with the files they name",
        content(
            (String = "application/x-ndjson"),
            (ImportForm = "multipart/form-data"),
        )),
    responses((status = 200, description = "Stored", body = ImportReply),
              (status = 400, description = "An unknown format, a bad column mapping, or a multipart body without one `items` part or with a part named twice", body = super::ErrorBody),
              (status = 413, body = super::ErrorBody),
              (status = 422, description = "Bad lines, conflicts, or a file that is not audio browsers play (corrupt, truncated) or a bad transcript, named with its line and reason; or a part whose name is not a relative path; nothing stored", body = ImportReply)))]
pub async fn import<S: Store>(
    State(state): State<AppState<S>>,
    importer: Importer,
    Query(q): Query<ImportQuery>,
    request: axum::extract::Request,
) -> ApiResult<axum::response::Response> {
    let multipart = request
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/form-data")
        });
    let mut import_request = ImportRequest::native(ImportOptions {
        update: q.update,
        report_errors: q.report_errors.unwrap_or(10).min(1000),
    });
    import_request.format = match q.format.as_deref() {
        None | Some("native") => Some(Format::Native),
        Some("auto") => None,
        Some(name) => Some(Format::from_name(name).ok_or_else(|| {
            let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
            ApiError::BadRequest(format!(
                "format `{name}` is not one of auto, {}",
                names.join(", ")
            ))
        })?),
    };
    import_request.mapping = match q.mapping.as_deref() {
        None | Some("") => None,
        Some(text) => Some(
            Mapping::from_toml(text).map_err(|e| ApiError::BadRequest(format!("mapping: {e}")))?,
        ),
    };
    let bytes = if multipart {
        let form = match axum::extract::Multipart::from_request(request, &state).await {
            Ok(form) => form,
            Err(rejection) => return Ok(rejection.into_response()),
        };
        let (items, parts) = read_form(form).await?;
        import_request.media = Some(MediaOptions {
            max_bytes: state.max_media_bytes,
            parts,
            ..MediaOptions::default()
        });
        items
    } else {
        match axum::body::Bytes::from_request(request, &state).await {
            Ok(bytes) => bytes,
            Err(rejection) => return Ok(rejection.into_response()),
        }
    };
    let input = upload_input(bytes)?;
    let imported = import_driver::run(
        &state.store,
        Some(importer.actor.user.id),
        &importer.project,
        input,
        &import_request,
        |_| {},
    )
    .await
    .map_err(|e| match e {
        ImportError::Store(e) => ApiError::Store(e),
        ImportError::Read(e) => ApiError::BadRequest(format!("reading the body: {e}")),
        e @ ImportError::Reader(_) => ApiError::Store(StoreError::Database(e.to_string())),
    })?;
    let status = if imported.outcome.committed {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((
        status,
        Json(ImportReply {
            outcome: imported.outcome,
            records: imported.read.records,
            errors: imported.read.errors,
            error_count: imported.read.error_count,
            format: imported
                .detected
                .as_ref()
                .map(|d| d.format.name().to_owned()),
            detected: imported.detected.map(|d| d.why),
        }),
    )
        .into_response())
}

/// The `items` part and the files, by the relative path each part is named by.
async fn read_form(
    mut form: axum::extract::Multipart,
) -> ApiResult<(axum::body::Bytes, BTreeMap<String, axum::body::Bytes>)> {
    let failed = |e: axum::extract::multipart::MultipartError| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::TooLarge("the request body is larger than this endpoint accepts".into())
        } else {
            ApiError::BadRequest(format!("reading the multipart body: {}", e.body_text()))
        }
    };
    let mut items = None;
    let mut parts = BTreeMap::new();
    while let Some(field) = form.next_field().await.map_err(failed)? {
        let Some(name) = field.name().map(str::to_owned) else {
            return Err(ApiError::BadRequest(
                "a multipart part has no name: name the items `items` and each file by its \
                 relative path"
                    .into(),
            ));
        };
        let bytes = field.bytes().await.map_err(failed)?;
        if name == "items" {
            if items.replace(bytes).is_some() {
                return Err(ApiError::BadRequest(
                    "the part `items` is given twice".into(),
                ));
            }
            continue;
        }
        plumbline_domain::media::check_file_path(&format!("part `{name}`"), &name)
            .map_err(ApiError::Field)?;
        if parts.insert(name.clone(), bytes).is_some() {
            return Err(ApiError::BadRequest(format!(
                "the part `{name}` is given twice"
            )));
        }
    }
    let items = items.ok_or_else(|| {
        ApiError::BadRequest(
            "the multipart body has no part named `items` (the items, native JSONL)".into(),
        )
    })?;
    Ok((items, parts))
}

/// The uploaded bytes as the importer's input. Parquet is read from a file (its footer
/// comes first), so a body that starts with Parquet's magic goes to a private
/// temporary file, unlinked as soon as it is open.
fn upload_input(bytes: axum::body::Bytes) -> ApiResult<Input> {
    if !bytes.starts_with(b"PAR1") {
        return Ok(Input::Stream(Box::new(std::io::Cursor::new(bytes))));
    }
    let spill = |e: std::io::Error| {
        ApiError::Store(StoreError::Database(format!(
            "cannot keep the upload in a temporary file: {e}"
        )))
    };
    let path = std::env::temp_dir().join(format!(
        "plumbline-upload-{}.parquet",
        plumbline_store::random_hex(16)?
    ));
    let mut options = std::fs::OpenOptions::new();
    options.read(true).write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&path).map_err(spill)?;
    let _ = std::fs::remove_file(&path);
    std::io::Write::write_all(&mut file, &bytes).map_err(spill)?;
    std::io::Seek::rewind(&mut file).map_err(spill)?;
    Ok(Input::File(file))
}

/// Listing filters and the page.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Items after this database id (the `next` of the previous page).
    pub after: Option<i64>,
    /// Page size, at most 500 (default 100).
    pub limit: Option<u32>,
    /// `open`, `adjudication` or `resolved`.
    pub state: Option<String>,
    /// Only gold (`true`) or non-gold (`false`) items; leads only, so gold stays hidden.
    pub gold: Option<bool>,
}

/// A page of items.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemPage {
    /// The items.
    pub items: Vec<StoredItem>,
    /// Pass as `after` for the next page; absent on the last page.
    pub next: Option<i64>,
}

/// Lists items in import order (reviewers and leads: annotators judge blind and see
/// items only through `tasks/next`).
#[utoipa::path(get, operation_id = "list_items", path = "/api/v1/projects/{project}/items", tag = "items",
    params(("project" = String, Path, description = "Project name"), ListQuery),
    responses((status = 200, description = "A page of items", body = ItemPage),
              (status = 400, body = super::ErrorBody)))]
pub async fn list<S: Store>(
    State(state): State<AppState<S>>,
    reviewer: Reviewer,
    Query(q): Query<ListQuery>,
) -> ApiResult<Json<ItemPage>> {
    let limit = page_size(q.limit);
    let item_state = match q.state.as_deref() {
        None => None,
        Some(s) => Some(ItemState::parse(s).ok_or_else(|| {
            ApiError::BadRequest(format!(
                "state `{s}` is not one of open, adjudication, resolved"
            ))
        })?),
    };
    if q.gold.is_some() && reviewer.role < ProjectRole::Lead {
        return Err(ApiError::Forbidden(
            "only leads may filter by gold (gold items stay hidden from annotators)".into(),
        ));
    }
    let items = state
        .store
        .items_page(
            reviewer.project.id,
            ItemFilter {
                state: item_state,
                gold: q.gold,
            },
            q.after.map(ItemId),
            limit,
        )
        .await?;
    let next = (items.len() == limit as usize)
        .then(|| items.last().map(|i| i.id.0))
        .flatten();
    Ok(Json(ItemPage { items, next }))
}

/// One item with its revisions.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ItemReply {
    /// The item.
    pub item: StoredItem,
    /// Earlier revisions, oldest first.
    pub revisions: Vec<ItemRevision>,
}

/// One item by its own id.
#[utoipa::path(get, operation_id = "get_item", path = "/api/v1/projects/{project}/items/{item}", tag = "items",
    params(("project" = String, Path, description = "Project name"),
           ("item" = String, Path, description = "The item's own id")),
    responses((status = 200, description = "The item", body = ItemReply),
              (status = 404, body = super::ErrorBody)))]
pub async fn get_one<S: Store>(
    State(state): State<AppState<S>>,
    reviewer: Reviewer,
    Path((_, item)): Path<(String, String)>,
) -> ApiResult<Json<ItemReply>> {
    let (item, revisions) = state.store.item(reviewer.project.id, &item).await?;
    Ok(Json(ItemReply { item, revisions }))
}
