//! `plumbline bench serve`: the annotation engine under load. It fills a database with
//! N synthetic items (plus gold and annotators with tokens), starts one or more
//! `plumbline serve` processes on loopback, and runs concurrent annotators from this
//! process (a second process) doing next → submit cycles over HTTP. Prints JSON:
//! cycles/s, p50/p99 of each request, the servers' peak resident memory.
//!
//! The same command drives the engine's concurrency test: `--vanish` abandons some
//! leases, `--until-drained` runs until every item is settled, `--kill-after` SIGKILLs
//! a server mid-load and restarts it, and `--ack-log` writes every acknowledged
//! judgment so the test can check the database independently.

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use plumbline_domain::{ProjectName, ProjectRole, ProjectSettings, Rubric, Scopes, TaskKind};
use plumbline_server::auth::{new_token_secret, token_hash};
use plumbline_store::{AnyStore, ImportOptions, NewGold, NewProject, Store};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ServeBackend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Items in the project.
    #[arg(long, default_value_t = 1_000_000)]
    items: u64,
    /// Concurrent annotators (each its own user, token and connection).
    #[arg(long, default_value_t = 64)]
    annotators: usize,
    /// Backend of the database the servers share.
    #[arg(long, value_enum, default_value = "sqlite")]
    backend: ServeBackend,
    /// `plumbline serve` processes to start (PostgreSQL only may use more than one).
    #[arg(long)]
    servers: Option<usize>,
    /// PostgreSQL server to create the scratch database on.
    #[arg(
        long,
        env = "PLUMBLINE_TEST_POSTGRES_URL",
        default_value = "postgres://postgres@127.0.0.1:5432/postgres"
    )]
    postgres: String,
    /// Judgments per item.
    #[arg(long, default_value_t = 3)]
    overlap: u32,
    /// Share of served work that is hidden gold.
    #[arg(long, default_value_t = 0.1)]
    gold_rate: f64,
    /// Gold items (taken from the first items).
    #[arg(long, default_value_t = 500)]
    gold_items: u64,
    /// Lease length in seconds.
    #[arg(long, default_value_t = 900)]
    lease_seconds: u32,
    /// Share of leases an annotator abandons (vanishes without submitting).
    #[arg(long, default_value_t = 0.0)]
    vanish: f64,
    /// Paced load: the annotators together start this many next+submit cycles a
    /// second on a fixed schedule (open loop), and each request's latency counts from
    /// when its cycle was due, so a server that falls behind is charged for the wait
    /// (no coordinated omission). Without it, each annotator starts its next cycle as
    /// soon as the last one ends (closed loop: the throughput ceiling, where latency
    /// is mostly queueing).
    #[arg(long)]
    rate: Option<f64>,
    /// Seconds of measured load (ignored with --until-drained).
    #[arg(long, default_value_t = 20.0)]
    duration: f64,
    /// Seconds of warm-up load before measuring.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Run until no item is left open instead of for --duration.
    #[arg(long)]
    until_drained: bool,
    /// SIGKILL the first server this many seconds into the load, then restart it.
    #[arg(long)]
    kill_after: Option<f64>,
    /// Write every acknowledged judgment (and abandoned lease) to this JSONL file.
    #[arg(long)]
    ack_log: Option<PathBuf>,
    /// Scratch directory (generated items, SQLite database).
    #[arg(long, default_value = "bench-out")]
    dir: PathBuf,
    /// Keep the database afterwards and print its URL.
    #[arg(long)]
    keep: bool,
    /// Also store this many calls with their audio (3 min, 8 kHz WAV) in a second
    /// project, and time 64 KiB range requests of a reviewer while the annotators judge.
    #[arg(long, default_value_t = 0)]
    media_calls: u64,
    /// Length of each of those calls in seconds.
    #[arg(long, default_value_t = 180)]
    media_seconds: u32,
    /// PostgreSQL: skip the ANALYZE of the engine's tables at the end of the warm-up,
    /// and measure the plans made from the statistics of the empty tables.
    #[arg(long)]
    cold_plans: bool,
}

const RUBRIC: &str = r#"
name = "Benchmark"
[[criteria]]
key = "compliance"
title = "Compliance"
priority = 1
hard = true
[[criteria]]
key = "accuracy"
title = "Accuracy"
priority = 2
[[criteria]]
key = "helpfulness"
title = "Helpfulness"
priority = 3
[[criteria]]
key = "tone"
title = "Tone"
priority = 4
[[errors]]
key = "unauthorised_promise"
criterion = "compliance"
severity = "critical"
[[errors]]
key = "missed_escalation"
criterion = "compliance"
severity = "major"
[[errors]]
key = "wrong_fee"
criterion = "accuracy"
severity = "major"
[[edge_cases]]
key = "bereavement"
"#;

struct Annotator {
    name: String,
    token: String,
}

/// Tables the load grows from empty: their statistics (`VACUUM ANALYZE` after the
/// import saw them empty) decide the plans the servers cache.
const ENGINE_TABLES: &str = "assignments, judgments, item_queue, audit_pending, audit_events";

/// Runs `sql` on its own connection to the scratch database; how long it took.
async fn timed_sql(db_url: &str, sql: &str) -> anyhow::Result<f64> {
    let (client, conn) = tokio_postgres::connect(db_url, tokio_postgres::NoTls).await?;
    tokio::spawn(conn);
    let t = Instant::now();
    client.batch_execute(sql).await?;
    Ok(t.elapsed().as_secs_f64())
}

/// A running `plumbline serve` child.
struct Server {
    child: Child,
    url: String,
}

fn spawn_server(db: &str, audit_dir: &std::path::Path) -> anyhow::Result<Server> {
    let exe = std::env::current_exe().context("cannot find the plumbline binary")?;
    let mut child = Command::new(exe)
        .args(["--db", db, "serve", "--listen", "127.0.0.1:0"])
        .env("PLUMBLINE_AUDIT_DIR", audit_dir)
        .env("PLUMBLINE_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .context("cannot start plumbline serve")?;
    let stderr = child.stderr.take().context("no stderr")?;
    let mut lines = BufReader::new(stderr).lines();
    let url = loop {
        let Some(line) = lines.next() else {
            bail!("plumbline serve exited before listening");
        };
        let line = line?;
        if let Some(rest) = line.split("listening on ").nth(1) {
            break rest.split_whitespace().next().unwrap_or("").to_owned();
        }
    };
    // Keep draining stderr so the child never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    Ok(Server { child, url })
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// CPU seconds (user and system) a process has used, from `/proc/PID/stat`.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields follow the last `)`.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, in USER_HZ (100 on Linux).
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// CPU seconds used so far by every PostgreSQL process on this machine (its backends
/// serve the benchmark; the rest are idle beside them).
fn postgres_cpu_seconds() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|c| c.trim_end() == "postgres")
        })
        .filter_map(cpu_seconds)
        .sum()
}

/// CPU seconds used so far by this process, the servers and PostgreSQL.
#[derive(Debug, Clone, Copy, Default)]
struct CpuSample {
    client: f64,
    servers: f64,
    postgres: f64,
}

impl CpuSample {
    fn take(servers: &[u32], postgres: bool) -> CpuSample {
        CpuSample {
            client: cpu_seconds(std::process::id()).unwrap_or(0.0),
            servers: servers.iter().filter_map(|p| cpu_seconds(*p)).sum(),
            postgres: if postgres {
                postgres_cpu_seconds()
            } else {
                0.0
            },
        }
    }

    /// Milliseconds of CPU a cycle of each group between `self` and `later`.
    fn per_cycle(self, later: CpuSample, cycles: u64) -> Value {
        let ms = |a: f64, b: f64| {
            if cycles == 0 {
                Value::Null
            } else {
                json!(((b - a) * 1000.0 / cycles as f64 * 1000.0).round() / 1000.0)
            }
        };
        json!({
            "client": ms(self.client, later.client),
            "servers": ms(self.servers, later.servers),
            "postgres": ms(self.postgres, later.postgres),
        })
    }
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    let servers_wanted = args.servers.unwrap_or(match args.backend {
        ServeBackend::Sqlite => 1,
        ServeBackend::Postgres => 2,
    });
    if servers_wanted == 0 || args.annotators == 0 {
        bail!("--servers and --annotators must be at least 1");
    }
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("cannot create {}", args.dir.display()))?;
    let (db_url, scratch_pg) = match args.backend {
        ServeBackend::Sqlite => {
            let db = args.dir.join(format!("serve-{}.db", std::process::id()));
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
            }
            (format!("sqlite://{}", db.display()), None)
        }
        ServeBackend::Postgres => {
            let name = format!("plumbline_serve_{}", std::process::id());
            let (admin, conn) = tokio_postgres::connect(&args.postgres, tokio_postgres::NoTls)
                .await
                .with_context(|| {
                    format!(
                        "cannot connect to {}",
                        plumbline_store::redact_url(&args.postgres)
                    )
                })?;
            tokio::spawn(conn);
            admin
                .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .await?;
            admin
                .batch_execute(&format!("CREATE DATABASE {name}"))
                .await?;
            (
                super::bench::replace_database(&args.postgres, &name),
                Some((admin, name)),
            )
        }
    };
    let t = Instant::now();
    let (annotators, observer, media) = match super::open(&db_url, &args.dir).await? {
        AnyStore::Sqlite(s) => {
            let setup = setup(&s, &args).await?;
            // The import committed the whole database into the WAL; copying it into the
            // database file is the setup's work, not the measured servers' (in their
            // first seconds it stalled requests for over a second, paced runs' p99).
            let t = Instant::now();
            s.checkpoint().await?;
            eprintln!("checkpointed the WAL in {:.1}s", t.elapsed().as_secs_f64());
            setup
        }
        AnyStore::Postgres(s) => setup(&s, &args).await?,
    };
    eprintln!(
        "set up {} items, {} gold, {} annotators in {:.1}s",
        args.items,
        args.gold_items.min(args.items),
        annotators.len(),
        t.elapsed().as_secs_f64()
    );
    if scratch_pg.is_some() {
        // Autovacuum visits a freshly filled database within its first minute or two
        // (vacuuming and analysing the 1.6 KB-a-row items); doing it now keeps that
        // pass, whose timing is chance, out of the measured window.
        let took = timed_sql(&db_url, "VACUUM ANALYZE").await?;
        eprintln!("vacuumed and analysed in {took:.1}s");
    }

    let mut servers = Vec::new();
    for _ in 0..servers_wanted {
        servers.push(spawn_server(&db_url, &args.dir)?);
    }
    let urls = Arc::new(RwLock::new(
        servers.iter().map(|s| s.url.clone()).collect::<Vec<_>>(),
    ));
    let pids = Arc::new(Mutex::new(
        servers.iter().map(|s| s.child.id()).collect::<Vec<_>>(),
    ));
    let servers = Arc::new(Mutex::new(servers));
    let peak_rss = Arc::new(Mutex::new(0.0f64));
    let stop = Arc::new(AtomicBool::new(false));
    let measuring = Arc::new(AtomicBool::new(args.warmup <= 0.0 || args.until_drained));
    let sampler = {
        let (pids, peak, stop) = (pids.clone(), peak_rss.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let total: f64 = pids
                    .lock()
                    .unwrap()
                    .iter()
                    .filter_map(|p| rss_mb(*p))
                    .fold(0.0, f64::max);
                {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(total);
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        })
    };
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(args.annotators)
        .timeout(Duration::from_secs(30))
        .build()?;
    let ack_log: Option<Arc<Mutex<std::io::BufWriter<std::fs::File>>>> = match &args.ack_log {
        Some(p) => Some(Arc::new(Mutex::new(std::io::BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )))),
        None => None,
    };
    let cycles = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for (i, a) in annotators.into_iter().enumerate() {
        let w = Worker {
            i,
            http: http.clone(),
            urls: urls.clone(),
            token: a.token,
            observer: observer.clone(),
            name: a.name,
            stop: stop.clone(),
            measuring: measuring.clone(),
            cycles: cycles.clone(),
            errors: errors.clone(),
            vanish: args.vanish,
            until_drained: args.until_drained,
            ack_log: ack_log.clone(),
            period: args
                .rate
                .map(|r| Duration::from_secs_f64(args.annotators as f64 / r.max(1e-3))),
            annotators: args.annotators,
        };
        workers.push(tokio::spawn(w.run()));
    }
    let ranges = media.map(|m| {
        tokio::spawn(super::bench_ranges::read(
            http.clone(),
            urls.clone(),
            m,
            stop.clone(),
            measuring.clone(),
        ))
    });
    // Controller: warm-up, measured window or drain, optional kill and restart.
    let mut killed = false;
    let mut measure_start = Instant::now();
    let mut cycles_at_start = 0;
    let with_pg = scratch_pg.is_some();
    let mut cpu_at_start = CpuSample::take(&pids.lock().unwrap(), with_pg);
    if !args.until_drained && args.warmup > 0.0 {
        tokio::time::sleep(Duration::from_secs_f64(args.warmup)).await;
        if scratch_pg.is_some() && !args.cold_plans {
            // The plans a server caches are made from the statistics of the moment, and
            // the setup's VACUUM ANALYZE saw the engine's tables empty: until
            // autovacuum's first ANALYZE (a minute or so into a project's first load,
            // after a 15 s window) the planner picks among their indexes blind. With
            // those plans the held-lease check read every live lease of the project
            // (26 a `next`) along `assignments_live` instead of one entry of
            // `assignments_held`. Analysing them now measures a server's steady state;
            // `--cold-plans` measures that first minute.
            let took = timed_sql(&db_url, &format!("ANALYZE {ENGINE_TABLES}")).await?;
            eprintln!("analysed the engine's tables after the warm-up in {took:.2}s");
        }
        cycles_at_start = cycles.load(Ordering::Relaxed);
        cpu_at_start = CpuSample::take(&pids.lock().unwrap(), with_pg);
        measure_start = Instant::now();
        measuring.store(true, Ordering::Relaxed);
    }
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if let Some(k) = args.kill_after
            && !killed
            && started.elapsed().as_secs_f64() >= k
        {
            killed = true;
            let mut s = servers.lock().unwrap();
            s[0].child.kill().context("cannot kill the server")?;
            let _ = s[0].child.wait();
            eprintln!("killed server 1 (SIGKILL) after {k}s");
            let fresh = spawn_server(&db_url, &args.dir)?;
            urls.write().unwrap()[0] = fresh.url.clone();
            pids.lock().unwrap()[0] = fresh.child.id();
            s[0] = fresh;
            eprintln!("restarted server 1");
        }
        let done = if args.until_drained {
            workers.iter().all(|w| w.is_finished())
        } else {
            measure_start.elapsed().as_secs_f64() >= args.duration
        };
        if done {
            break;
        }
    }
    let elapsed = measure_start.elapsed().as_secs_f64();
    let measured_cycles = cycles.load(Ordering::Relaxed) - cycles_at_start;
    let cpu_at_end = CpuSample::take(&pids.lock().unwrap(), with_pg);
    stop.store(true, Ordering::Relaxed);
    let mut next_lat = Vec::new();
    let mut submit_lat = Vec::new();
    let mut abandoned = 0u64;
    for w in workers {
        let stats = w.await?;
        next_lat.extend(stats.next);
        submit_lat.extend(stats.submit);
        abandoned += stats.abandoned;
    }
    let (mut range_lat, range_failed) = match ranges {
        Some(r) => r.await?,
        None => (Vec::new(), 0),
    };
    range_lat.sort_unstable();
    let _ = sampler.await;
    if let Some(log) = &ack_log {
        log.lock().unwrap().flush()?;
    }
    for s in servers.lock().unwrap().iter_mut() {
        let _ = s.child.kill();
        let _ = s.child.wait();
    }
    next_lat.sort_unstable();
    submit_lat.sort_unstable();
    let pct = |v: &[u64], p: f64| -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        let i = ((v.len() as f64 * p).ceil() as usize).clamp(1, v.len()) - 1;
        v[i] as f64 / 1000.0
    };
    let out = json!({
        "backend": match args.backend { ServeBackend::Sqlite => "sqlite", ServeBackend::Postgres => "postgres" },
        "servers": servers_wanted,
        "items": args.items,
        "annotators": args.annotators,
        "overlap": args.overlap,
        "gold_rate": args.gold_rate,
        "paced_rate": args.rate,
        "seconds": (elapsed * 10.0).round() / 10.0,
        "cycles": measured_cycles,
        "cycles_per_s": (measured_cycles as f64 / elapsed).round(),
        "next_ms": {"p50": pct(&next_lat, 0.5), "p99": pct(&next_lat, 0.99), "max": pct(&next_lat, 1.0)},
        "submit_ms": {"p50": pct(&submit_lat, 0.5), "p99": pct(&submit_lat, 0.99), "max": pct(&submit_lat, 1.0)},
        "range_first_byte_ms": if args.media_calls > 0 {
            json!({"requests": range_lat.len(), "failed": range_failed, "p50": pct(&range_lat, 0.5), "p99": pct(&range_lat, 0.99), "max": pct(&range_lat, 1.0)})
        } else {
            Value::Null
        },
        "server_peak_rss_mb": (*peak_rss.lock().unwrap()).round(),
        // A restarted server's CPU before the kill is lost: no figure then.
        "cpu_ms_per_cycle": if killed { Value::Null } else { cpu_at_start.per_cycle(cpu_at_end, measured_cycles) },
        "abandoned_leases": abandoned,
        "request_errors": errors.load(Ordering::Relaxed),
        "killed_and_restarted": killed,
        "database": if args.keep { Value::from(plumbline_store::redact_url(&db_url)) } else { Value::Null },
    });
    println!("{}", serde_json::to_string_pretty(&out)?);
    if !args.keep {
        match scratch_pg {
            Some((admin, name)) => {
                admin
                    .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .await?;
            }
            None => {
                let path = db_url.trim_start_matches("sqlite://");
                for suffix in ["", "-wal", "-shm"] {
                    let _ = std::fs::remove_file(format!("{path}{suffix}"));
                }
            }
        }
    }
    Ok(())
}

/// Project, items, gold and annotators with tokens; and the token of a reviewer who
/// watches whether the queue has drained (annotators see only their own progress).
async fn setup<S: Store>(
    store: &S,
    args: &ServeArgs,
) -> anyhow::Result<(
    Vec<Annotator>,
    String,
    Option<super::bench_ranges::MediaProject>,
)> {
    let settings = ProjectSettings {
        task: TaskKind::Preference,
        overlap: args.overlap,
        gold_rate: args.gold_rate,
        lease_seconds: args.lease_seconds,
        // The simulated annotators answer at random (about 60 % right on gold): on
        // probation they would stop before the queue drains.
        min_gold_accuracy: 0.0,
        ..ProjectSettings::default()
    };
    settings.validate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let project = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("load").map_err(anyhow::Error::msg)?,
                settings,
                rubric: Rubric::from_toml(RUBRIC)?,
            },
        )
        .await?;
    let file = args.dir.join(format!("calls-{}.jsonl", args.items));
    super::bench::generate(&file, args.items, super::bench::Shape::CALL)?;
    let report = super::items::import_file(
        store,
        "load",
        &file,
        ImportOptions::default(),
        1 << 24,
        false,
    )
    .await?;
    if !report.stored {
        bail!("the benchmark import failed: {:?}", report.errors.first());
    }
    for i in 0..args.gold_items.min(args.items) {
        let winner = if i % 3 == 0 { "b" } else { "a" };
        store
            .add_gold(
                None,
                project.id,
                NewGold {
                    item: format!("bench-{i:08}"),
                    payload: payload(winner),
                },
            )
            .await
            .map_err(|e| anyhow::anyhow!("adding gold: {e}"))?;
    }
    let mut out = Vec::new();
    for i in 0..args.annotators {
        let name = format!("annotator-{i:03}");
        let token = member_with_token(
            store,
            project.id,
            &name,
            ProjectRole::Annotator,
            Scopes::all(),
        )
        .await?;
        out.push(Annotator { name, token });
    }
    let read: Scopes = "read".parse().map_err(anyhow::Error::msg)?;
    let observer = member_with_token(
        store,
        project.id,
        "bench-observer",
        ProjectRole::Reviewer,
        read,
    )
    .await?;
    let media = if args.media_calls > 0 {
        Some(
            super::bench_ranges::setup(store, &args.dir, args.media_calls, args.media_seconds)
                .await?,
        )
    } else {
        None
    };
    Ok((out, observer, media))
}

/// A new member of `project` with `role` and an API token of `scopes`; the token.
async fn member_with_token<S: Store>(
    store: &S,
    project: plumbline_domain::ProjectId,
    name: &str,
    role: ProjectRole,
    scopes: Scopes,
) -> anyhow::Result<String> {
    let user = super::new_member(store, project, name, role).await?;
    let secret = new_token_secret()?;
    store
        .create_token(None, user, token_hash(&secret), scopes, None)
        .await?;
    Ok(secret)
}

/// A full judgment as an annotator sends one (about 570 bytes): the winner and its
/// strength, a verdict on every criterion, error tags on the losing reply and a
/// rationale of a few sentences.
fn payload(winner: &str) -> String {
    let loser = if winner == "a" { "b" } else { "a" };
    json!({
        "winner": winner,
        "strength": 2,
        "criteria": {"compliance": winner, "accuracy": winner, "helpfulness": winner, "tone": "tie"},
        "violations": {loser: ["unauthorised_promise", "missed_escalation"]},
        "rationale": format!(
            "Reply {winner} follows the hardship procedure: it confirms identity, explains the \
             fee freeze in plain words and offers the specialist team. Reply {loser} promises a \
             refund the agent may not authorise and never offers the escalation the caller asked \
             for twice; its figures for the overdraft fee are also out of date. Both are polite, \
             so tone does not separate them."
        ),
        "edge_cases": [],
    })
    .to_string()
}

struct Worker {
    i: usize,
    http: reqwest::Client,
    urls: Arc<RwLock<Vec<String>>>,
    token: String,
    /// The reviewer's token that reads the whole project's progress.
    observer: String,
    name: String,
    stop: Arc<AtomicBool>,
    measuring: Arc<AtomicBool>,
    cycles: Arc<AtomicU64>,
    errors: Arc<AtomicU64>,
    vanish: f64,
    until_drained: bool,
    ack_log: Option<Arc<Mutex<std::io::BufWriter<std::fs::File>>>>,
    /// Each annotator's interval between cycle starts under `--rate`.
    period: Option<Duration>,
    /// Annotators sharing the schedule, for staggering their start times.
    annotators: usize,
}

#[derive(Default)]
struct WorkerStats {
    next: Vec<u64>,
    submit: Vec<u64>,
    abandoned: u64,
}

impl Worker {
    fn base(&self, attempt: usize) -> String {
        let urls = self.urls.read().unwrap();
        urls[(self.i + attempt) % urls.len()].clone()
    }

    /// POSTs until a response arrives (the server may be restarting); `None` on stop.
    async fn post(&self, path: &str, body: &Value) -> Option<(u16, Value, u64)> {
        for attempt in 0.. {
            if self.stop.load(Ordering::Relaxed) {
                return None;
            }
            let t = Instant::now();
            let sent = self
                .http
                .post(format!("{}{path}", self.base(attempt)))
                .bearer_auth(&self.token)
                .json(body)
                .send()
                .await;
            match sent {
                Ok(r) => {
                    let status = r.status().as_u16();
                    let v = r.json::<Value>().await.unwrap_or(Value::Null);
                    return Some((status, v, t.elapsed().as_micros() as u64));
                }
                Err(_) => {
                    self.errors.fetch_add(1, Ordering::Relaxed);
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
        }
        None
    }

    fn log(&self, line: Value) {
        if let Some(log) = &self.ack_log {
            let mut w = log.lock().unwrap();
            let _ = writeln!(w, "{line}");
        }
    }

    async fn run(self) -> WorkerStats {
        let mut stats = WorkerStats::default();
        let mut rng = 0x9e37_79b9_7f4a_7c15u64 ^ (self.i as u64).wrapping_mul(0x100_0000_01b3);
        let mut idle = 0u32;
        // Parsed once: the client's own CPU a cycle is reported beside the servers'.
        let payloads: [Value; 2] = ["a", "b"]
            .map(|w| serde_json::from_str(&payload(w)).expect("the benchmark payload is JSON"));
        let next_path = "/api/v1/projects/load/tasks/next";
        // Stagger the annotators' schedules across one period.
        let mut due = self
            .period
            .map(|p| Instant::now() + p.mul_f64(self.i as f64 / self.annotators.max(1) as f64));
        loop {
            if let (Some(at), Some(period)) = (due.as_mut(), self.period) {
                tokio::time::sleep_until((*at).into()).await;
                *at += period;
            }
            let cycle_due = due.map(|at| at - self.period.unwrap_or_default());
            let Some((status, v, us)) = self.post(next_path, &json!({})).await else {
                break;
            };
            // Under --rate, the wait for a late start is part of the latency.
            let us = match cycle_due {
                Some(at) => at.elapsed().as_micros() as u64,
                None => us,
            };
            if status != 200 {
                self.errors.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            if self.measuring.load(Ordering::Relaxed) {
                stats.next.push(us);
            }
            let task = &v["task"];
            if task.is_null() {
                if !self.until_drained {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    continue;
                }
                // Drained for this annotator: done once nothing is open anywhere
                // (leases abandoned by others come back when they expire).
                idle += 1;
                let open = self.open_items().await;
                if open == Some(0) || idle > 600 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(500)).await;
                continue;
            }
            idle = 0;
            let assignment = task["assignment"].as_i64().unwrap_or(0);
            let item = task["item"].as_str().unwrap_or("").to_owned();
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            if self.vanish > 0.0 && (rng % 1_000_000) as f64 / 1e6 < self.vanish {
                stats.abandoned += 1;
                self.log(json!({"abandoned": item, "assignment": assignment, "user": self.name}));
                // `next` gives a held lease back, so a vanished client stays away until
                // its lease has expired (as a closed tab would) before it asks again.
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as i64);
                let left = task["expires_at"].as_i64().unwrap_or(now) - now;
                let back = Instant::now() + Duration::from_millis(left.max(0) as u64 + 50);
                while Instant::now() < back && !self.stop.load(Ordering::Relaxed) {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                continue;
            }
            let winner = usize::from(rng % 10 >= 8);
            let body = json!({
                "payload": &payloads[winner],
                "time_ms": 1000 + rng % 60_000,
            });
            let path = format!("/api/v1/projects/load/tasks/{assignment}/submit");
            let Some((status, v, us)) = self.post(&path, &body).await else {
                break;
            };
            if status == 200 {
                if self.measuring.load(Ordering::Relaxed) {
                    stats.submit.push(us);
                    self.cycles.fetch_add(1, Ordering::Relaxed);
                }
                self.log(json!({"item": item, "judgment": v["judgment"], "user": self.name, "assignment": assignment}));
            } else {
                self.errors.fetch_add(1, Ordering::Relaxed);
            }
        }
        stats
    }

    async fn open_items(&self) -> Option<i64> {
        let r = self
            .http
            .get(format!("{}/api/v1/projects/load/progress", self.base(0)))
            .bearer_auth(&self.observer)
            .send()
            .await
            .ok()?;
        let v: Value = r.json().await.ok()?;
        v["items"]["open"].as_i64()
    }
}
