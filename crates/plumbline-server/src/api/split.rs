//! The evaluation split for leads: `POST /projects/{p}/split` plans the split and stores
//! what changed, through `plumbline_formats::split_driver`, as `plumbline split` does:
//! the same checks, the same report.

use super::{ApiError, ApiResult, json_body};
use crate::AppState;
use crate::auth::Lead;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use plumbline_formats::split_driver::{self, SplitError, SplitOutcome, SplitRequest};
use plumbline_store::Store;
use serde::Deserialize;

/// Routes of this resource.
pub fn routes<S: Store>() -> Router<AppState<S>> {
    Router::new().route("/api/v1/projects/{project}/split", post(split::<S>))
}

/// How to split; every field may be left out.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SplitBody {
    /// Share of items held out for evaluation (default 0.1).
    #[serde(default)]
    pub eval_fraction: Option<f64>,
    /// Exact Jaccard similarity of word 3-shingles at which prompts are near duplicates
    /// (default 0.8).
    #[serde(default)]
    pub threshold: Option<f64>,
    /// A whole number (or a string of one): the split is then a function of the items
    /// and the seed alone. Default: the project's own secret seed.
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub seed: Option<serde_json::Value>,
    /// Production traffic's shares by edge-case tag, `other` for the rest, summing to 1:
    /// `edge:bereavement=0.05,other=0.95`.
    #[serde(default)]
    pub production_shares: Option<String>,
    /// Production items' tags, one list per item, instead of `production_shares`: each
    /// edge-case tag is a class at its fraction of the items (an item with several
    /// counts for the first in name order), the rest `other`.
    #[serde(default)]
    pub production_tags: Option<Vec<Vec<String>>>,
    /// Strata with fewer eval items are flagged as too small to evaluate (default 30).
    #[serde(default)]
    pub min_eval_items: Option<u64>,
    /// Recompute items split before.
    #[serde(default)]
    pub reassign: bool,
    /// Report without storing.
    #[serde(default)]
    pub dry_run: bool,
}

/// Splits the project's items into train and eval (leads; audited as `items.split`)
/// and answers the report.
#[utoipa::path(post, path = "/api/v1/projects/{project}/split", tag = "exports",
    params(("project" = String, Path, description = "Project name")),
    request_body = SplitBody,
    responses((status = 200, description = "The report: counts per stratum, near-duplicate clusters, items moved, the seed and how to reproduce it", body = SplitOutcome),
              (status = 400, body = super::ErrorBody),
              (status = 403, body = super::ErrorBody),
              (status = 404, body = super::ErrorBody),
              (status = 422, description = "A setting out of range, a seed that is not a number, a project without items", body = super::ErrorBody)))]
pub async fn split<S: Store>(
    State(state): State<AppState<S>>,
    lead: Lead,
    bytes: Bytes,
) -> ApiResult<Json<SplitOutcome>> {
    let body: SplitBody = if bytes.is_empty() {
        SplitBody::default()
    } else {
        json_body(&bytes)?
    };
    let defaults = SplitRequest::default();
    let shares = body.production_shares.as_deref().filter(|s| !s.is_empty());
    let production = match (shares, body.production_tags) {
        (Some(_), Some(_)) => {
            return Err(ApiError::Invalid(
                "give `production_shares` or `production_tags`, not both".to_owned(),
            ));
        }
        (Some(spec), None) => Some(split_driver::parse_shares(spec).map_err(ApiError::Invalid)?),
        (None, Some(items)) => {
            Some(split_driver::shares_from_tag_lists(items).map_err(|e| {
                ApiError::Invalid(e.replace("production tags", "`production_tags`"))
            })?)
        }
        (None, None) => None,
    };
    let req = SplitRequest {
        production,
        min_eval_items: body.min_eval_items.unwrap_or(defaults.min_eval_items),
        eval_fraction: body.eval_fraction.unwrap_or(defaults.eval_fraction),
        threshold: body.threshold.unwrap_or(defaults.threshold),
        reassign: body.reassign,
        dry_run: body.dry_run,
        seed: body.seed.map(|v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }),
    };
    let outcome = split_driver::run(&state.store, Some(lead.actor.user.id), &lead.project, req)
        .await
        .map_err(|e| match e {
            SplitError::Invalid(m) => ApiError::Invalid(m),
            SplitError::Store(e) => ApiError::Store(e),
            SplitError::Internal(m) => ApiError::Store(plumbline_store::StoreError::Database(m)),
        })?;
    Ok(Json(outcome))
}
