//! `plumbline bench media`: imports calls with their audio (checked, hashed, peaks
//! computed, stored in chunks) into a scratch SQLite project, then measures how soon an
//! item's audio answers a range request over HTTP (time to the response's first byte).

use super::items::import_file_as;
use anyhow::{Context, bail};
use clap::Args;
use plumbline_domain::{ProjectRole, Scopes};
use plumbline_formats::import_driver::ImportRequest;
use plumbline_formats::media::MediaOptions;
use plumbline_server::auth::{new_token_secret, token_hash};
use plumbline_store::{DEFAULT_MAX_MEDIA_BYTES, IdentityStore, ImportOptions, SqliteStore, Store};
use serde_json::json;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

#[derive(Debug, Args)]
pub struct MediaBenchArgs {
    /// Calls, each with its own audio file.
    #[arg(long, default_value_t = 1000)]
    calls: u64,
    /// Length of each call in seconds.
    #[arg(long, default_value_t = 180)]
    seconds: u32,
    /// Sample rate of the generated 16-bit mono WAV files (8 kHz: telephone audio).
    #[arg(long, default_value_t = 8000)]
    rate: u32,
    /// Range requests timed after the import.
    #[arg(long, default_value_t = 2000)]
    requests: usize,
    /// Scratch directory (the audio files and the database; removed afterwards).
    #[arg(long, default_value = "bench-out/media")]
    dir: PathBuf,
}

pub async fn run(args: MediaBenchArgs) -> anyhow::Result<()> {
    if args.calls == 0 || args.seconds == 0 {
        bail!("--calls and --seconds must be at least 1");
    }
    let calls_dir = args.dir.join("calls");
    let started = Instant::now();
    let items = args.dir.join("calls.jsonl");
    let audio_bytes = write_calls(&args.dir, args.calls, args.seconds, args.rate)?;
    eprintln!(
        "generated {} calls of {} s ({:.0} MB of WAV) in {:.1}s",
        args.calls,
        args.seconds,
        audio_bytes as f64 / 1e6,
        started.elapsed().as_secs_f64()
    );
    let db = args.dir.join("media-bench.db");
    super::bench::remove_sqlite(&db);
    let store = SqliteStore::open(&db).await?;
    super::bench::bench_project(
        &store,
        "name = \"B\"\n[[criteria]]\nkey = \"helpfulness\"\ntitle = \"H\"\npriority = 1\n",
    )
    .await?;
    let request = ImportRequest {
        media: Some(MediaOptions {
            dirs: vec![args.dir.clone()],
            max_bytes: DEFAULT_MAX_MEDIA_BYTES,
            ..MediaOptions::default()
        }),
        ..ImportRequest::native(ImportOptions::default())
    };
    let t = Instant::now();
    let report = import_file_as(&store, "bench", &items, &request, false).await?;
    let import_secs = t.elapsed().as_secs_f64();
    if !report.stored || report.imported != args.calls {
        bail!("benchmark import failed: {:?}", report.errors.first());
    }
    let calls_per_sec = args.calls as f64 / import_secs;
    eprintln!(
        "imported {} calls with their audio in {import_secs:.2}s: {calls_per_sec:.1} calls/s",
        args.calls
    );
    let (first_byte, size) = ranges(&store, &args, audio_bytes / args.calls).await?;
    let out = json!({
        "calls": args.calls,
        "seconds": args.seconds,
        "rate": args.rate,
        "audio_mb": audio_bytes as f64 / 1e6,
        "import_secs": import_secs,
        "calls_per_sec": calls_per_sec,
        "range_requests": args.requests,
        "range_bytes": size,
        "first_byte_ms": {"p50": first_byte.0, "p99": first_byte.1, "max": first_byte.2},
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    drop(store);
    super::bench::remove_sqlite(&db);
    let _ = std::fs::remove_dir_all(&calls_dir);
    let _ = std::fs::remove_file(&items);
    Ok(())
}

/// Writes `calls` distinct WAV files under `dir/calls/` and `dir/calls.jsonl` naming
/// them (preference items whose two timed turns span the call); the audio's bytes.
pub(super) fn write_calls(
    dir: &std::path::Path,
    calls: u64,
    seconds: u32,
    rate: u32,
) -> anyhow::Result<u64> {
    let calls_dir = dir.join("calls");
    std::fs::create_dir_all(&calls_dir)
        .with_context(|| format!("cannot create {}", calls_dir.display()))?;
    let mut w = BufWriter::new(std::fs::File::create(dir.join("calls.jsonl"))?);
    let mut audio_bytes = 0u64;
    for i in 0..calls {
        let wav = plumbline_media::encode_wav(&call_audio(i, seconds, rate), rate, 1);
        audio_bytes += wav.len() as u64;
        std::fs::write(calls_dir.join(format!("call-{i:05}.wav")), wav)?;
        let end = f64::from(seconds);
        serde_json::to_writer(
            &mut w,
            &json!({"id": format!("call-{i:05}"),
                "context": [
                    {"role": "user", "speaker": "customer", "content": "I want to close my account", "start": 0.5, "end": end / 2.0},
                    {"role": "assistant", "speaker": "agent", "content": "I can help with that", "start": end / 2.0, "end": end - 0.5}],
                "candidates": [{"id": "a", "content": "Sure."}, {"id": "b", "content": "First I need to verify you."}],
                "media": {"path": format!("calls/call-{i:05}.wav")}}),
        )?;
        w.write_all(b"\n")?;
    }
    w.flush()?;
    Ok(audio_bytes)
}

/// A call-like signal: tones whose pitch and loudness wander like speech, with pauses,
/// different for every call (so every file is its own, nothing deduplicates).
fn call_audio(call: u64, seconds: u32, rate: u32) -> Vec<i16> {
    let n = (seconds * rate) as usize;
    let mut state = call
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut noise = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 33) as f64 / f64::from(u32::MAX >> 1)) - 1.0
    };
    let base = 110.0 + (call % 90) as f64;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let syllable = (t * 4.0).fract();
            let talking = !((t / 3.0).floor() as u64 + call).is_multiple_of(4);
            let env = if talking {
                (syllable * std::f64::consts::PI).sin()
            } else {
                0.02
            };
            let pitch = base * (1.0 + 0.2 * (t * 0.7).sin());
            let v = env
                * (0.5 * (t * pitch * std::f64::consts::TAU).sin()
                    + 0.2 * (t * pitch * 2.0 * std::f64::consts::TAU).sin())
                + 0.02 * noise();
            (v * 20_000.0) as i16
        })
        .collect()
}

/// Serves the store on a local port and times range requests of 64 KiB at random
/// offsets of random calls; returns (p50, p99, max) in ms and the range size.
async fn ranges(
    store: &SqliteStore,
    args: &MediaBenchArgs,
    file_bytes: u64,
) -> anyhow::Result<((f64, f64, f64), u64)> {
    let project = store.project_by_name("bench").await?;
    let user = super::new_member(store, project.id, "lead", ProjectRole::Lead).await?;
    let secret = new_token_secret()?;
    let scopes: Scopes = "read,review".parse().map_err(anyhow::Error::msg)?;
    store
        .create_token(None, user, token_hash(&secret), scopes, None)
        .await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let state = plumbline_server::AppState::new(store.clone());
    let server = tokio::spawn(plumbline_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let http = reqwest::Client::new();
    let size = 64u64 << 10;
    let mut rng = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound.max(1)
    };
    let mut ms = Vec::with_capacity(args.requests);
    for _ in 0..args.requests {
        let call = next(args.calls);
        let start = next(file_bytes.saturating_sub(size));
        let t = Instant::now();
        let r = http
            .get(format!(
                "{base}/api/v1/projects/bench/items/call-{call:05}/media"
            ))
            .bearer_auth(&secret)
            .header("range", format!("bytes={start}-{}", start + size - 1))
            .send()
            .await?;
        ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if r.status() != reqwest::StatusCode::PARTIAL_CONTENT {
            bail!("range request answered {}", r.status());
        }
        r.bytes().await?;
    }
    let _ = stop.send(());
    let _ = server.await;
    ms.sort_by(f64::total_cmp);
    let at = |q: f64| ms[((ms.len() as f64 * q) as usize).min(ms.len() - 1)];
    Ok(((at(0.5), at(0.99), ms[ms.len() - 1]), size))
}
