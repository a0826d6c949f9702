//! `/metrics` in the Prometheus text format: request counts and latency histograms by
//! route and status, leases and submissions, and the process's resident memory.
//! Counters are per process (each `plumbline serve` exposes its own); nothing here
//! is state the service depends on.

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Upper bounds of the latency buckets, seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0,
];

#[derive(Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

static REQUESTS: Mutex<BTreeMap<(String, String, u16), u64>> = Mutex::new(BTreeMap::new());
static LATENCY: Mutex<BTreeMap<(String, String), Histogram>> = Mutex::new(BTreeMap::new());
static LEASES: AtomicU64 = AtomicU64::new(0);
static NO_TASK: AtomicU64 = AtomicU64::new(0);
static SUBMITS_OK: AtomicU64 = AtomicU64::new(0);
static SUBMITS_REFUSED: AtomicU64 = AtomicU64::new(0);

/// Counts a `next` answer.
pub fn count_lease(leased: bool) {
    if leased { &LEASES } else { &NO_TASK }.fetch_add(1, Ordering::Relaxed);
}

/// Counts a submission.
pub fn count_submit(ok: bool) {
    if ok { &SUBMITS_OK } else { &SUBMITS_REFUSED }.fetch_add(1, Ordering::Relaxed);
}

/// Middleware recording every request's route, status and duration.
pub async fn record(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let response = next.run(req).await;
    let secs = start.elapsed().as_secs_f64();
    let status = response.status().as_u16();
    {
        let mut r = REQUESTS.lock().unwrap_or_else(|p| p.into_inner());
        *r.entry((method.clone(), route.clone(), status))
            .or_insert(0) += 1;
    }
    {
        let mut l = LATENCY.lock().unwrap_or_else(|p| p.into_inner());
        let h = l.entry((method, route)).or_default();
        for (i, b) in BUCKETS.iter().enumerate() {
            if secs <= *b {
                h.counts[i] += 1;
            }
        }
        h.count += 1;
        h.sum += secs;
    }
    response
}

/// Resident set size of this process in bytes (Linux; 0 elsewhere).
pub fn rss_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The Prometheus text exposition.
pub fn render() -> String {
    let mut out = String::new();
    out.push_str(
        "# HELP plumbline_http_requests_total HTTP requests by method, route and status.\n",
    );
    out.push_str("# TYPE plumbline_http_requests_total counter\n");
    for ((m, r, s), n) in REQUESTS.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let _ = writeln!(
            out,
            "plumbline_http_requests_total{{method=\"{m}\",route=\"{}\",status=\"{s}\"}} {n}",
            escape(r)
        );
    }
    out.push_str("# HELP plumbline_http_request_duration_seconds HTTP request latency.\n");
    out.push_str("# TYPE plumbline_http_request_duration_seconds histogram\n");
    for ((m, r), h) in LATENCY.lock().unwrap_or_else(|p| p.into_inner()).iter() {
        let labels = format!("method=\"{m}\",route=\"{}\"", escape(r));
        for (i, b) in BUCKETS.iter().enumerate() {
            let _ = writeln!(
                out,
                "plumbline_http_request_duration_seconds_bucket{{{labels},le=\"{b}\"}} {}",
                h.counts[i]
            );
        }
        let _ = writeln!(
            out,
            "plumbline_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
            h.count
        );
        let _ = writeln!(
            out,
            "plumbline_http_request_duration_seconds_sum{{{labels}}} {}",
            h.sum
        );
        let _ = writeln!(
            out,
            "plumbline_http_request_duration_seconds_count{{{labels}}} {}",
            h.count
        );
    }
    for (name, help, v) in [
        ("plumbline_leases_total", "Tasks leased by next.", &LEASES),
        (
            "plumbline_next_empty_total",
            "next calls that found no task.",
            &NO_TASK,
        ),
        (
            "plumbline_judgments_submitted_total",
            "Judgments stored (first submissions and resubmissions).",
            &SUBMITS_OK,
        ),
        (
            "plumbline_judgments_refused_total",
            "Submissions refused (invalid, expired, forbidden).",
            &SUBMITS_REFUSED,
        ),
    ] {
        let _ = writeln!(
            out,
            "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
            v.load(Ordering::Relaxed)
        );
    }
    let _ = writeln!(
        out,
        "# HELP process_resident_memory_bytes Resident memory size in bytes.\n# TYPE process_resident_memory_bytes gauge\nprocess_resident_memory_bytes {}",
        rss_bytes()
    );
    out
}

/// `GET /metrics`.
pub async fn handler() -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        render(),
    )
        .into_response()
}
