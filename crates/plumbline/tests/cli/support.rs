//! A scratch directory with its own database, and a way to run the binary in it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};

static COUNTER: AtomicU32 = AtomicU32::new(0);

/// The workspace root (for `examples/`).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A scratch directory and a database URL that the binary is run against.
pub struct Env {
    pub dir: PathBuf,
    pub db: String,
    /// The admin URL and name of this Env's scratch PostgreSQL database, dropped with it.
    scratch_pg: Option<(String, String)>,
}

/// What one run printed.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    #[track_caller]
    pub fn ok(self) -> Run {
        assert_eq!(
            self.code, 0,
            "command failed:\nstdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }

    #[track_caller]
    pub fn fails_with(self, needles: &[&str]) -> Run {
        assert_ne!(
            self.code, 0,
            "command should have failed:\nstdout: {}",
            self.stdout
        );
        let all = format!("{}{}", self.stdout, self.stderr);
        for n in needles {
            assert!(all.contains(n), "expected `{n}` in the output:\n{all}");
        }
        assert!(!all.contains("panicked"), "the binary panicked:\n{all}");
        self
    }
}

fn from_output(out: Output) -> Run {
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

impl Env {
    /// A fresh directory with an SQLite database in it.
    pub fn sqlite() -> Env {
        let n = COUNTER.fetch_add(1, Ordering::SeqCst);
        let dir = std::env::temp_dir().join(format!("plumbline-cli-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let db = format!("sqlite://{}", dir.join("data/plumbline.db").display());
        Env {
            dir,
            db,
            scratch_pg: None,
        }
    }

    /// A fresh directory and a fresh PostgreSQL database, or `None` (loudly) when
    /// PLUMBLINE_TEST_POSTGRES_URL is unset; under CI=true that is a failure.
    pub fn postgres() -> Option<Env> {
        let Ok(url) = std::env::var("PLUMBLINE_TEST_POSTGRES_URL") else {
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true but PLUMBLINE_TEST_POSTGRES_URL is not set");
            }
            eprintln!(
                "\n*** SKIPPED: PostgreSQL CLI test — set PLUMBLINE_TEST_POSTGRES_URL to run it ***\n"
            );
            return None;
        };
        let mut env = Env::sqlite();
        let name = format!(
            "plumbline_cli_{}_{}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::SeqCst)
        );
        let admin = |sql: String| assert!(psql(&url, &sql), "psql failed: {sql}");
        admin(format!("DROP DATABASE IF EXISTS {name}"));
        admin(format!("CREATE DATABASE {name}"));
        let base = url.split('?').next().unwrap();
        let cut = base
            .rfind('/')
            .filter(|&i| i > base.find("://").unwrap() + 2)
            .unwrap_or(base.len());
        env.db = format!("{}/{name}", &base[..cut]);
        env.scratch_pg = Some((url, name));
        Some(env)
    }

    /// Runs `plumbline ARGS` in the scratch directory against this database.
    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, None)
    }

    /// Runs with `input` on standard input.
    pub fn run_with_stdin(&self, args: &[&str], input: Option<&[u8]>) -> Run {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_plumbline"));
        cmd.args(args)
            .current_dir(&self.dir)
            .env("PLUMBLINE_DB", &self.db)
            .stdin(if input.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("the binary runs");
        if let Some(bytes) = input {
            use std::io::Write;
            child.stdin.take().unwrap().write_all(bytes).unwrap();
        }
        from_output(child.wait_with_output().unwrap())
    }

    /// Writes `contents` to `name` in the scratch directory; returns its path as text.
    pub fn file(&self, name: &str, contents: impl AsRef<[u8]>) -> String {
        let path = self.dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path.display().to_string()
    }
}

/// Runs one SQL command with `psql` on `url`; whether it succeeded.
fn psql(url: &str, sql: &str) -> bool {
    Command::new("psql")
        .env("PGOPTIONS", "--client-min-messages=warning")
        .args([url, "-q", "-v", "ON_ERROR_STOP=1", "-c", sql])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Drop for Env {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        // Scratch databases used to pile up on the server, five a test run.
        if let Some((url, name)) = &self.scratch_pg {
            psql(url, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        }
    }
}

/// A small rubric with one hard criterion and one edge case.
pub const RUBRIC: &str = r#"
name = "Retail banking support"
[[criteria]]
key = "compliance"
title = "Regulatory compliance"
priority = 1
hard = true
[[criteria]]
key = "tone"
title = "Tone"
priority = 2
[[errors]]
key = "escalation_missed"
criterion = "compliance"
severity = "critical"
[[edge_cases]]
key = "bereavement"
"#;

/// A valid native item line with id `id`.
pub fn item(id: &str) -> String {
    format!(
        r#"{{"id":"{id}","context":[{{"role":"user","speaker":"customer","content":"My husband died, close the account","start":1.5,"end":4.0,"asr_confidence":0.8}}],"candidates":[{{"id":"a","model":"m1","content":"Sorry for your loss."}},{{"id":"b","model":"m2","content":"Verify your identity first."}}],"tags":["edge:bereavement"],"requires":["banking:expert"],"metadata":{{"call_id":"C-1"}}}}"#
    )
}

/// An env with a project `banking` made from [`RUBRIC`].
pub fn with_project() -> Env {
    let env = Env::sqlite();
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&[
        "project", "create", "--name", "banking", "--rubric", &rubric,
    ])
    .ok();
    env
}

/// How many items `banking` holds, read back by export.
pub fn stored_items(env: &Env) -> usize {
    let out = env.dir.join("count.jsonl").display().to_string();
    env.run(&[
        "export",
        "--project",
        "banking",
        "--kind",
        "items",
        "--out",
        &out,
    ])
    .ok();
    std::fs::read_to_string(&out).unwrap().lines().count()
}
