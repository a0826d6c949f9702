//! What the benches share: a seeded generator of HH-RLHF-shaped lines, the import of
//! such a file into a project (with extra agreeing or disagreeing voters), medians and
//! peak memory.

#![allow(dead_code)] // each bench uses its part

use plumbline_domain::{ProjectName, ProjectSettings, Rubric};
use plumbline_formats::{Format, Input, ReadOptions};
use plumbline_store::{ImportMsg, ImportOptions, NewProject, Store};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tokio::sync::mpsc;

const WORDS: &[&str] = &[
    "account",
    "the",
    "balance",
    "please",
    "card",
    "transfer",
    "fee",
    "I",
    "you",
    "can",
    "would",
    "bank",
    "help",
    "need",
    "statement",
    "interest",
    "rate",
    "loan",
    "close",
    "open",
    "today",
    "why",
    "was",
    "charged",
    "twice",
    "refund",
    "policy",
    "branch",
    "online",
    "app",
    "password",
    "reset",
    "identity",
    "verify",
    "sorry",
    "loss",
    "executor",
    "certificate",
    "overdraft",
    "limit",
    "credit",
    "debit",
    "mortgage",
    "payment",
    "late",
    "waive",
    "and",
    "or",
];

pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        // SplitMix64: enough for synthetic text.
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    pub fn sentence(&mut self, words: u64) -> String {
        let mut s = String::new();
        for i in 0..words {
            if i > 0 {
                s.push(' ');
            }
            s.push_str(WORDS[self.below(WORDS.len() as u64) as usize]);
        }
        s.push('.');
        s
    }
}

/// Writes `n` HH-shaped lines; returns the file size.
pub fn generate(path: &Path, n: usize) -> u64 {
    let mut rng = Rng(42);
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    for _ in 0..n {
        let mut prefix = String::new();
        let turns = 1 + rng.below(4);
        for t in 0..turns {
            prefix.push_str("\n\nHuman: ");
            let len = 8 + rng.below(30);
            prefix.push_str(&rng.sentence(len));
            prefix.push_str("\n\nAssistant:");
            if t + 1 < turns {
                prefix.push(' ');
                let len = 15 + rng.below(60);
                prefix.push_str(&rng.sentence(len));
            }
        }
        let chosen_len = 20 + rng.below(80);
        let chosen = format!("{prefix} {}", rng.sentence(chosen_len));
        let rejected_len = 10 + rng.below(80);
        let rejected = format!("{prefix} {}", rng.sentence(rejected_len));
        serde_json::to_writer(
            &mut out,
            &serde_json::json!({"chosen": chosen, "rejected": rejected}),
        )
        .unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.flush().unwrap();
    std::fs::metadata(path).unwrap().len()
}

pub fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

pub const RUBRIC: &str = r#"
name = "bench"
[[criteria]]
key = "helpfulness"
title = "Helpfulness"
priority = 1
"#;

/// Who votes on each imported item, as external judgments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Voters {
    /// The HH choice alone: one vote an item, so every item is contested.
    Original,
    /// Three voters naming the HH choice with a strength and a per-criterion verdict,
    /// as in a project whose annotators agree: every pair is unanimous.
    Agreeing,
    /// Three such voters of whom the third names the other reply: every item is split
    /// two to one and goes to Dawid-Skene (which learns that the third voter dissents).
    Split,
}

/// Imports the HH file into project `name`, with the votes of `voters`; returns the
/// seconds the import took.
pub async fn import_as<S: Store>(
    store: &S,
    path: &Path,
    lines: usize,
    name: &str,
    voters: Voters,
) -> f64 {
    let project = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse(name).unwrap(),
                settings: ProjectSettings::default(),
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    let opts = ReadOptions::new(project.settings.task);
    let (tx, mut read_rx) = mpsc::channel(4);
    let (fwd, rx) = mpsc::channel(4);
    tokio::spawn(async move {
        while let Some(mut m) = read_rx.recv().await {
            if let ImportMsg::Items(batch) = &mut m
                && voters != Voters::Original
            {
                for item in batch.iter_mut() {
                    let first = item.external.pop().unwrap();
                    let original: serde_json::Value = serde_json::from_str(&first.payload).unwrap();
                    let winner = original["winner"].as_str().unwrap().to_owned();
                    let other = if winner == "a" { "b" } else { "a" };
                    for v in 0..3 {
                        let w = if voters == Voters::Split && v == 2 {
                            other
                        } else {
                            &winner
                        };
                        let mut copy = first.clone();
                        copy.source = format!("{}-{v}", first.source);
                        copy.payload = serde_json::json!({
                            "winner": w, "strength": 1 + v,
                            "criteria": {"helpfulness": w},
                            "violations": {}, "rationale": "", "edge_cases": [], "override": false,
                        })
                        .to_string();
                        item.external.push(copy);
                    }
                }
            }
            if fwd.send(m).await.is_err() {
                break;
            }
        }
    });
    let t = Instant::now();
    let path = path.to_owned();
    let reader = tokio::task::spawn_blocking(move || {
        let file = std::fs::File::open(path).unwrap();
        plumbline_formats::read(
            Input::File(file),
            Some(Format::HhRlhf),
            None,
            &opts,
            &tx,
            |_| {},
        )
    });
    let outcome = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    reader.await.unwrap().unwrap();
    let secs = t.elapsed().as_secs_f64();
    assert!(outcome.committed);
    assert_eq!(outcome.imported as usize, lines);
    let per_item = if voters == Voters::Original { 1 } else { 3 };
    assert_eq!(outcome.external_judgments as usize, lines * per_item);
    secs
}

/// The process's peak resident memory so far (VmHWM), MiB.
pub fn peak_mib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or(0, |kb| kb / 1024)
}

pub fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("plumbline-bench-{}-{tag}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Resets the process's peak resident memory to its current size, so the next
/// [`peak_mib`] reports the peak of what follows (Linux `clear_refs`).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// CPU seconds (user + system) this process has used so far, all threads (from
/// `/proc/self/stat`, in clock ticks of 10 ms): on a shared machine, what an export
/// costs whatever else runs, where wall time also counts the waits for a core.
pub fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which is in parentheses and may hold spaces).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / 100.0
}
