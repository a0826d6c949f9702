//! `plumbline bench auth`: login latency over HTTP at the documented Argon2id
//! parameters, and `audit verify` throughput, on a scratch SQLite database.

use super::access::verify_chain;
use anyhow::{Context, bail};
use clap::Args;
use plumbline_server::AppState;
use plumbline_server::auth::hash_password;
use plumbline_store::audit::{AuditAction, AuditEvent};
use plumbline_store::{IdentityStore, NewUser, SqliteStore};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[derive(Debug, Args)]
pub struct AuthArgs {
    /// Logins to time.
    #[arg(long, default_value_t = 20)]
    logins: usize,
    /// Audit events to write and then verify.
    #[arg(long, default_value_t = 200_000)]
    events: u64,
    /// Verification runs (the median is reported).
    #[arg(long, default_value_t = 3)]
    runs: usize,
    /// Concurrent clients flooding the login with invented names while logins are timed
    /// again (each request from its own address, as a distributed flood; 0: no flood).
    #[arg(long, default_value_t = 8)]
    flood_clients: usize,
    /// Scratch directory.
    #[arg(long, default_value = "bench-out")]
    dir: PathBuf,
}

/// One HTTP/1.1 request on a fresh connection (from `client`, as the last
/// `X-Forwarded-For` hop); returns the status code.
async fn post(
    addr: std::net::SocketAddr,
    path: &str,
    body: &str,
    client: &str,
) -> anyhow::Result<u16> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    let req = format!(
        "POST {path} HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\nx-forwarded-for: {client}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await?;
    let mut response = Vec::new();
    s.read_to_end(&mut response).await?;
    let head = String::from_utf8_lossy(&response[..response.len().min(32)]).into_owned();
    head.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .with_context(|| format!("not an HTTP response: {head:?}"))
}

/// Times `logins` logins of users `u0…`, one after another; sorted milliseconds.
async fn time_logins(
    addr: std::net::SocketAddr,
    logins: usize,
    password: &str,
) -> anyhow::Result<Vec<f64>> {
    let mut login_ms = Vec::new();
    for i in 0..logins {
        let body = json!({"name": format!("u{i}"), "password": password}).to_string();
        let t = Instant::now();
        let status = post(addr, "/api/v1/session", &body, "192.0.2.1").await?;
        login_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        if status != 200 {
            bail!("login {i} answered {status}");
        }
    }
    login_ms.sort_by(f64::total_cmp);
    Ok(login_ms)
}

/// Real logins timed while `flood_clients` tasks post invented names, each request from
/// its own address; then what the flood left in the database and the process's peak
/// memory.
async fn flood(
    addr: std::net::SocketAddr,
    args: &AuthArgs,
    password: &str,
    db: &std::path::Path,
) -> anyhow::Result<serde_json::Value> {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let mut tasks = Vec::new();
    for c in 0..args.flood_clients {
        let (stop, sent) = (stop.clone(), sent.clone());
        tasks.push(tokio::spawn(async move {
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                let body =
                    json!({"name": format!("invented-{c}-{n}"), "password": "guess guess guess"})
                        .to_string();
                let from = format!("10.{}.{}.{}", c, (n >> 8) & 255, n & 255);
                if post(addr, "/api/v1/session", &body, &from).await.is_ok() {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
                n += 1;
            }
        }));
    }
    let started = Instant::now();
    // Let the flood spend the unknown-name budget before timing: past it, what a
    // flood costs is what this measures.
    let budget = plumbline_server::login_guard::UNKNOWN_FAILURES as u64;
    while sent.load(Ordering::Relaxed) <= budget + args.flood_clients as u64
        && started.elapsed() < std::time::Duration::from_secs(60)
    {
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let warmup = sent.load(Ordering::Relaxed);
    let login_ms = time_logins(addr, args.logins, password).await?;
    stop.store(true, Ordering::Relaxed);
    for t in tasks {
        let _ = t.await;
    }
    let secs = started.elapsed().as_secs_f64();
    let conn = rusqlite::Connection::open(db)?;
    let rows: i64 = conn.query_row("SELECT count(*) FROM login_throttle", [], |r| r.get(0))?;
    let fails: i64 = conn.query_row(
        "SELECT count(*) FROM audit_events WHERE action = 'login.fail'",
        [],
        |r| r.get(0),
    )?;
    let sent = sent.load(Ordering::Relaxed);
    Ok(json!({
        "clients": args.flood_clients,
        "requests": sent,
        "requests_per_s": (sent as f64 / secs).round(),
        "requests_while_timing": sent - warmup,
        "throttle_rows": rows,
        "login_fail_events": fails,
        "login_ms_median": (percentile(&login_ms, 0.5) * 10.0).round() / 10.0,
        "login_ms_p95": (percentile(&login_ms, 0.95) * 10.0).round() / 10.0,
        "peak_rss_mib": peak_rss_mib(),
    }))
}

/// The process's peak resident memory (Linux), MiB.
fn peak_rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024)
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub async fn run(args: AuthArgs) -> anyhow::Result<()> {
    if args.logins == 0 || args.runs == 0 {
        bail!("--logins and --runs must be at least 1");
    }
    // A directory of its own: the audit key and anchor live beside the database, and an
    // earlier run's anchor would not match this run's chain.
    let scratch = args.dir.join(format!("bench-auth-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let result = run_in(&args, &scratch.join("bench.db")).await;
    let _ = std::fs::remove_dir_all(&scratch);
    result
}

async fn run_in(args: &AuthArgs, db: &std::path::Path) -> anyhow::Result<()> {
    let db = db.to_owned();
    let store = SqliteStore::open(&db).await?;
    let password = "bench-correct-horse-battery";
    let hash = hash_password(password)?;
    for i in 0..args.logins {
        store
            .create_user(
                None,
                NewUser {
                    name: format!("u{i}"),
                    password_hash: Some(hash.clone()),
                    is_admin: false,
                },
            )
            .await?;
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let mut state = AppState::new(store.clone());
    // The flood comes from many addresses, as through the deployment's own proxy.
    state.session.trust_forwarded_for = true;
    let server = tokio::spawn(plumbline_server::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let login_ms = time_logins(addr, args.logins, password).await?;
    let flood = if args.flood_clients > 0 {
        Some(flood(addr, args, password, &db).await?)
    } else {
        None
    };
    let _ = stop.send(());
    let _ = server.await;

    let t = Instant::now();
    for i in 0..args.events {
        store
            .record_event(
                AuditEvent::new(AuditAction::BenchEvent, "bench")
                    .object(i)
                    .digest_of(&i.to_le_bytes()),
            )
            .await?;
    }
    let write_secs = t.elapsed().as_secs_f64();
    let mut rates = Vec::new();
    let mut count = 0;
    for _ in 0..args.runs {
        let t = Instant::now();
        let n = verify_chain(&store, None)
            .await?
            .map_err(anyhow::Error::msg)?
            .events;
        rates.push(n as f64 / t.elapsed().as_secs_f64());
        count = n;
    }
    rates.sort_by(f64::total_cmp);
    let out = json!({
        "argon2id": {"memory_kib": 19456, "iterations": 2, "lanes": 1},
        "logins": args.logins,
        "login_ms_median": (percentile(&login_ms, 0.5) * 10.0).round() / 10.0,
        "login_ms_p95": (percentile(&login_ms, 0.95) * 10.0).round() / 10.0,
        "flood": flood,
        "audit_events": count,
        "audit_append_events_per_s": (args.events as f64 / write_secs).round(),
        "audit_verify_events_per_s_median": percentile(&rates, 0.5).round(),
        "audit_verify_events_per_s_runs": rates.iter().map(|r| r.round()).collect::<Vec<_>>(),
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    Ok(())
}
