//! Range requests timed under `bench serve`'s judging load: `--media-calls N` stores
//! N calls with their audio in a second project of the same database (as `bench
//! media` makes them), and while the annotators run next → submit cycles one reviewer
//! reads 64 KiB ranges at random offsets of random calls, back to back, from the same
//! server processes; each read appends `item.read` like any other. The figure is the
//! time to the response's first byte (status and headers), as `bench media` reports.

use anyhow::bail;
use plumbline_domain::{ProjectName, ProjectRole, ProjectSettings, Rubric, Scopes, TaskKind};
use plumbline_formats::import_driver::ImportRequest;
use plumbline_formats::media::MediaOptions;
use plumbline_store::{DEFAULT_MAX_MEDIA_BYTES, ImportOptions, NewProject, Store};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Instant;

/// The project holding the calls, and what a reader needs to ask for their audio.
pub(super) struct MediaProject {
    /// A reviewer's token (`read,review`).
    pub token: String,
    /// Calls stored (`call-00000`, …).
    pub calls: u64,
    /// Size of each call's audio file.
    pub file_bytes: u64,
}

/// Sample rate of the calls: telephone audio, as `bench media` uses by default.
const RATE: u32 = 8000;

/// Bytes each range request asks for.
const RANGE: u64 = 64 << 10;

/// Stores `calls` calls of `seconds` with their audio in project `media`.
pub(super) async fn setup<S: Store>(
    store: &S,
    dir: &Path,
    calls: u64,
    seconds: u32,
) -> anyhow::Result<MediaProject> {
    let t = Instant::now();
    let dir = dir.join(format!("media-{}", std::process::id()));
    let audio_bytes = super::bench_media::write_calls(&dir, calls, seconds, RATE)?;
    let project = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("media").map_err(anyhow::Error::msg)?,
                settings: ProjectSettings {
                    task: TaskKind::Preference,
                    ..ProjectSettings::default()
                },
                rubric: Rubric::from_toml(
                    "name = \"M\"\n[[criteria]]\nkey = \"helpfulness\"\ntitle = \"H\"\npriority = 1\n",
                )?,
            },
        )
        .await?;
    let request = ImportRequest {
        media: Some(MediaOptions {
            dirs: vec![dir.clone()],
            max_bytes: DEFAULT_MAX_MEDIA_BYTES,
            ..MediaOptions::default()
        }),
        ..ImportRequest::native(ImportOptions::default())
    };
    let report =
        super::items::import_file_as(store, "media", &dir.join("calls.jsonl"), &request, false)
            .await?;
    let _ = std::fs::remove_dir_all(&dir);
    if !report.stored {
        bail!("the media import failed: {:?}", report.errors.first());
    }
    let user = super::new_member(store, project.id, "media-reader", ProjectRole::Reviewer).await?;
    let token = plumbline_server::auth::new_token_secret()?;
    let scopes: Scopes = "read,review".parse().map_err(anyhow::Error::msg)?;
    store
        .create_token(
            None,
            user,
            plumbline_server::auth::token_hash(&token),
            scopes,
            None,
        )
        .await?;
    eprintln!(
        "stored {calls} calls of {seconds} s with their audio ({:.0} MB) in {:.1}s",
        audio_bytes as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    Ok(MediaProject {
        token,
        calls,
        file_bytes: audio_bytes / calls.max(1),
    })
}

/// Reads ranges until `stop`, keeping the first-byte times (µs) of the reads made
/// while `measuring`; and the reads that did not answer 206.
pub(super) async fn read(
    http: reqwest::Client,
    urls: Arc<RwLock<Vec<String>>>,
    media: MediaProject,
    stop: Arc<AtomicBool>,
    measuring: Arc<AtomicBool>,
) -> (Vec<u64>, u64) {
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound.max(1)
    };
    let mut times = Vec::new();
    let mut failed = 0;
    while !stop.load(Ordering::Relaxed) {
        let call = next(media.calls);
        let start = next(media.file_bytes.saturating_sub(RANGE));
        let base = urls.read().unwrap()[0].clone();
        let t = Instant::now();
        let sent = http
            .get(format!(
                "{base}/api/v1/projects/media/items/call-{call:05}/media"
            ))
            .bearer_auth(&media.token)
            .header("range", format!("bytes={start}-{}", start + RANGE - 1))
            .send()
            .await;
        let us = t.elapsed().as_micros() as u64;
        match sent {
            Ok(r) if r.status() == reqwest::StatusCode::PARTIAL_CONTENT => {
                if r.bytes().await.is_err() {
                    failed += 1;
                } else if measuring.load(Ordering::Relaxed) {
                    times.push(us);
                }
            }
            other => {
                failed += 1;
                if failed <= 3 {
                    let why = match other {
                        Ok(r) => format!("{}: {}", r.status(), r.text().await.unwrap_or_default()),
                        Err(e) => e.to_string(),
                    };
                    eprintln!("range read failed: {why}");
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
    (times, failed)
}
