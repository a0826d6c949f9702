//! Static assets embedded in the binary, served from `/assets/{file}` with their
//! content type. URLs carry a content hash (`?v=`), so responses may be cached for a
//! year: a new build changes the URL.

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::sync::OnceLock;

/// Every asset: name, content type, bytes.
pub const ASSETS: &[(&str, &str, &str)] = &[
    (
        "app.css",
        "text/css; charset=utf-8",
        include_str!("../../assets/app.css"),
    ),
    (
        "app.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/app.js"),
    ),
    (
        "judgment.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/judgment.js"),
    ),
    (
        "judge.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/judge.js"),
    ),
    (
        "setup.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/setup.js"),
    ),
    (
        "player.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/player.js"),
    ),
    (
        "rubric.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/rubric.js"),
    ),
    (
        "workspace.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/workspace.js"),
    ),
    (
        "review.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/review.js"),
    ),
    (
        "comments.js",
        "text/javascript; charset=utf-8",
        include_str!("../../assets/comments.js"),
    ),
];

/// Total size of the JavaScript and CSS, in bytes (the budget is 150 KB).
pub fn total_bytes() -> usize {
    ASSETS.iter().map(|(_, _, body)| body.len()).sum()
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The versioned URL of asset `name`.
pub fn url(name: &str) -> String {
    static VERSIONS: OnceLock<Vec<(&'static str, String)>> = OnceLock::new();
    let versions = VERSIONS.get_or_init(|| {
        ASSETS
            .iter()
            .map(|(n, _, body)| (*n, format!("{:08x}", fnv(body.as_bytes()) as u32)))
            .collect()
    });
    let v = versions
        .iter()
        .find(|(n, _)| *n == name)
        .map_or("0", |(_, v)| v.as_str());
    format!("/assets/{name}?v={v}")
}

/// `GET /assets/{file}`.
pub async fn serve(Path(file): Path<String>) -> Response {
    match ASSETS.iter().find(|(n, _, _)| *n == file) {
        Some((_, ctype, body)) => (
            [
                (header::CONTENT_TYPE, *ctype),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
            ],
            *body,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn assets_fit_the_budget() {
        let total = super::total_bytes();
        assert!(
            total <= 150 * 1024,
            "JS + CSS are {total} bytes, over 150 KB"
        );
    }
}
