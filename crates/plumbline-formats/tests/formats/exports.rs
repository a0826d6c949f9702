//! The export kinds, filters and releases over a real store: annotators of three
//! expertise levels judge preference, ranking, rating and red-team items through the
//! work queue; exports, releases and their verification are checked on what they wrote.

use plumbline_domain::{
    Expertise, Level, ProjectName, ProjectRole, ProjectSettings, Rubric, Split, TaskKind, UserId,
};
use plumbline_formats::export::{JsonlSink, PairOptions, RowSink};
use plumbline_formats::export_driver::{
    self, Destination, Export, ExportRequest, Exported, Filters, RequestError, Target,
};
use plumbline_formats::release::{self, FileFormat, ReleaseRequest};
use plumbline_formats::run::{self, Kind};
use plumbline_quality::decision::DecisionMethod;
use plumbline_store::{
    ImportMsg, ImportOptions, NewItem, NewProject, NewUser, Next, Project, Store, Submission,
};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tokio::sync::mpsc;

const RUBRIC: &str = r#"
name = "Support"
[[criteria]]
key = "helpfulness"
title = "Helpfulness"
priority = 1
scale = { min = 0, max = 4 }
[[criteria]]
key = "safety"
title = "Safety | <b>first</b>"
priority = 2
scale = { min = 0, max = 4 }
[[edge_cases]]
key = "bereavement"
"#;

fn item(id: &str, task: &str, cands: &[&str], tags: &[&str]) -> NewItem {
    let candidates: Vec<Value> = cands
        .iter()
        .map(|c| json!({"id": c, "model": "m", "content": format!("{c} says {}", "x".repeat(if *c == "b" { 60 } else { 1 }))}))
        .collect();
    let body = json!({
        "id": id,
        "task": task,
        "context": [{"role": "user", "content": format!("question {id}")}],
        "candidates": candidates,
        "tags": tags,
    });
    let item: plumbline_domain::Item = serde_json::from_value(body).expect("a valid item");
    plumbline_formats::encode_item(&item, 1, TaskKind::Preference)
}

async fn setup<S: Store>(store: &S) -> Project {
    let settings = ProjectSettings {
        gold_rate: 0.0,
        overlap: 3,
        ..ProjectSettings::default()
    };
    let project = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("exports").unwrap(),
                settings,
                rubric: Rubric::from_toml(RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    let items = vec![
        item("p1", "preference", &["a", "b"], &["edge:bereavement"]),
        item("p2", "preference", &["a", "b"], &[]),
        item("k1", "ranking", &["a", "b", "c"], &[]),
        item("r1", "rating", &["a", "b"], &["edge:bereavement"]),
        item("t1", "red_team", &[], &[]),
    ];
    let (tx, rx) = mpsc::channel(2);
    tx.send(ImportMsg::Items(items)).await.unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    drop(tx);
    let out = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    assert!(out.committed);
    project
}

/// What annotator `n` (0, 1, 2) says about an item of `task`.
fn payload(n: usize, item: &str, task: TaskKind) -> String {
    match task {
        // p1: all say b; p2: 2 of 3 say a.
        TaskKind::Preference => {
            let w = if item == "p1" || n == 2 { "b" } else { "a" };
            json!({"winner": w, "strength": n as i64 + 1, "criteria": {"helpfulness": w, "safety": "tie"}}).to_string()
        }
        TaskKind::Ranking => {
            let order = if n == 2 {
                json!([["b"], ["a"], ["c"]])
            } else {
                json!([["a"], ["b"], ["c"]])
            };
            json!({"order": order}).to_string()
        }
        TaskKind::Rating => json!({"scores": {
            "a": {"helpfulness": 2 + n as i64, "safety": 4},
            "b": {"helpfulness": 1, "safety": 3},
        }})
        .to_string(),
        TaskKind::RedTeam => json!({
            "attack": format!("attack by {n}"),
            "reply": format!("reply to {n}"),
            "turns": [{"attack": format!("follow-up by {n}"), "reply": "still no"}],
            "tactic": "role play",
            "outcome": if n == 0 { "violation" } else { "safe_refusal" },
            "severity": if n == 0 { 2 } else { 0 },
        })
        .to_string(),
        TaskKind::Demonstration => unreachable!(),
    }
}

/// Three annotators: an expert, a novice (both verified) and one without expertise;
/// each judges every item, in the order the queue serves them.
async fn annotate<S: Store>(store: &S, project: &Project) -> Vec<UserId> {
    let mut users = Vec::new();
    for (n, level) in [Some("expert"), Some("novice"), None]
        .into_iter()
        .enumerate()
    {
        let u = store
            .create_user(
                None,
                NewUser {
                    name: format!("ann{n}"),
                    password_hash: None,
                    is_admin: false,
                },
            )
            .await
            .unwrap();
        store
            .add_member(None, project.id, u.id, ProjectRole::Annotator)
            .await
            .unwrap();
        if let Some(level) = level {
            let e: Expertise = format!("banking:{level}").parse().unwrap();
            store.propose_expertise(None, u.id, e).await.unwrap();
            store.verify_expertise(None, u.id, "banking").await.unwrap();
        }
        users.push(u.id);
    }
    for (n, user) in users.iter().enumerate() {
        while let Next::Task(t) = store.next_task(*user, project.id).await.unwrap() {
            let submission = Submission {
                payload: payload(n, &t.item, t.task),
                time_ms: Some(1000 * (n as i64 + 1)),
            };
            store
                .submit(*user, project.id, t.assignment, submission)
                .await
                .unwrap_or_else(|e| panic!("submit {}: {e:?}", t.item));
        }
    }
    users
}

/// A writer into memory that the test keeps a handle on.
#[derive(Clone, Default)]
struct Shared(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Shared {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Exports `kind` as JSONL into memory.
async fn rows<S: Store>(
    store: &S,
    project: &Project,
    kind: Kind,
    opts: PairOptions,
) -> (Vec<Value>, plumbline_formats::export::PairSummary) {
    let buf = Shared::default();
    let w = buf.clone();
    let sink: run::SinkFactory =
        Box::new(move || Ok(Box::new(JsonlSink::for_kind(w, kind)) as Box<dyn RowSink>));
    let out = run::export(store, project, kind, opts, sink, false)
        .await
        .unwrap();
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    let rows = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (rows, out.summary)
}

async fn options<S: Store>(store: &S, project: &Project) -> PairOptions {
    PairOptions {
        annotators: Arc::new(run::annotators(store, project).await.unwrap()),
        ..PairOptions::default()
    }
}

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("plumbline-exports-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

async fn flow<S: Store>(store: S, tag: &str) {
    let project = setup(&store).await;
    let users = annotate(&store, &project).await;
    let opts = options(&store, &project).await;

    // Ranking: two of three orders agree, so Borda decides a > b > c.
    let (r, _) = rows(&store, &project, Kind::Ranking, opts.clone()).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["order"], json!([["a"], ["b"], ["c"]]));
    assert_eq!(r[0]["provenance"]["decision"], "borda");
    assert_eq!(r[0]["candidates"].as_array().unwrap().len(), 3);

    // Rating: the mean per criterion, one row a candidate.
    let (r, _) = rows(&store, &project, Kind::Rating, opts.clone()).await;
    assert_eq!(r.len(), 2);
    let a = r.iter().find(|x| x["candidate_id"] == "a").unwrap();
    // Open-ended maps are JSON text, the text the Parquet file holds.
    let text = |v: &Value| serde_json::from_str::<Value>(v.as_str().unwrap()).unwrap();
    assert_eq!(
        text(&a["scores"]),
        json!({"helpfulness": 3.0, "safety": 4.0})
    );
    assert_eq!(text(&a["provenance"]["spread"])["helpfulness"], 2);

    // Red team: one row a judgment.
    let (r, _) = rows(&store, &project, Kind::RedTeam, opts.clone()).await;
    assert_eq!(r.len(), 3);
    assert!(
        r.iter()
            .any(|x| x["outcome"] == "violation" && x["severity"] == 2)
    );
    // With the target's reply and every further turn.
    assert!(
        r.iter()
            .all(|x| x["reply"].as_str().unwrap().starts_with("reply to "))
    );
    assert!(r.iter().all(|x| {
        x["turns"][0]["reply"] == "still no"
            && x["turns"][0]["attack"]
                .as_str()
                .unwrap()
                .starts_with("follow-up by ")
    }));
    assert!(
        r.iter()
            .all(|x| x["annotator"].as_str().unwrap().starts_with("ann-"))
    );

    // Full: every judgment, pseudonymous, with expertise, time and display order.
    let (r, s) = rows(&store, &project, Kind::Full, opts.clone()).await;
    assert_eq!(r.len(), 15, "{s:?}");
    let key = store.pseudonym_key(project.id).await.unwrap();
    let expert = plumbline_formats::kinds::pseudonym(&key, users[0].0);
    // Not the hash of the split salt they once were (that salt was sent to members).
    let from_salt = |user: i64| {
        use sha2::Digest;
        let mut h = sha2::Sha256::new();
        h.update(b"plumbline annotator pseudonym\0");
        h.update(project.split_salt.as_bytes());
        h.update(b"\0");
        h.update(user.to_string().as_bytes());
        let d = h.finalize();
        let hex: String = d[..8].iter().map(|b| format!("{b:02x}")).collect();
        format!("ann-{hex}")
    };
    for u in &users {
        let old = from_salt(u.0);
        assert!(
            r.iter().all(|x| x["annotator"] != old.as_str()),
            "a pseudonym derived from split_salt"
        );
    }
    let by_expert: Vec<&Value> = r
        .iter()
        .filter(|x| x["annotator"] == expert.as_str())
        .collect();
    assert_eq!(by_expert.len(), 5);
    for x in &by_expert {
        assert_eq!(x["expertise"], "expert");
        assert_eq!(x["time_ms"], 1000);
        assert_eq!(x["rubric_version"], 1);
        assert_eq!(x["gold"], false);
        assert!(x["display_order"].is_array(), "{x}");
    }
    let text = serde_json::to_string(&r).unwrap();
    assert!(!text.contains("ann0"), "user names never appear");
    assert!(
        r.iter().any(|x| x["expertise"].is_null()),
        "the unverified one"
    );

    // Preference, by reliability (the default): p1's three votes (expert 0.9, novice
    // 0.7, unverified 0.65, no gold yet) give 0.975; on p2 the expert and the novice
    // outweigh the third, 0.919. Both in one read.
    let (r, s) = rows(&store, &project, Kind::Preference, opts.clone()).await;
    assert_eq!((s.items, s.exported), (2, 2), "{s:?}");
    assert_eq!(r[0]["item_id"], "p1");
    assert_eq!(r[0]["provenance"]["decision"], "reliability");
    assert_eq!(r[0]["provenance"]["method"], "reliability");
    let logit = |ws: [f64; 3]| ws.iter().map(|r: &f64| (r / (1.0 - r)).ln()).sum::<f64>();
    let p1 = 1.0 / (1.0 + (-logit([0.9, 0.7, 0.65])).exp());
    assert!((r[0]["provenance"]["posterior"].as_f64().unwrap() - p1).abs() < 1e-9);
    assert_eq!(r[1]["item_id"], "p2");
    assert_eq!(r[1]["chosen"][0]["content"], "a says x");
    assert_eq!(r[1]["provenance"]["vote_weights"][2]["choice"], "b");
    // Dawid-Skene, still selectable: p1 unanimous, written in the first read; p2
    // contested, decided in the second. Each item is counted once.
    let ds = PairOptions {
        decision: DecisionMethod::DawidSkene,
        ..opts.clone()
    };
    let (r, s) = rows(&store, &project, Kind::Preference, ds).await;
    assert_eq!(s.items, 2, "{s:?}");
    assert_eq!(s.exported + s.below_threshold, 2, "{s:?}");
    assert_eq!(r[0]["item_id"], "p1");
    assert_eq!(r[0]["provenance"]["decision"], "unanimous");
    if let Some(p2) = r.get(1) {
        assert_eq!(p2["provenance"]["decision"], "dawid_skene");
    }

    // Filters: minimum expertise keeps the expert's and the novice's judgments only.
    let novice_up = PairOptions {
        min_expertise: Some(Level::Novice),
        ..opts.clone()
    };
    let (r, s) = rows(&store, &project, Kind::Full, novice_up).await;
    assert_eq!(r.len(), 10);
    assert_eq!(s.judgments_below_expertise, 5);
    let experts = PairOptions {
        min_expertise: Some(Level::Expert),
        ..opts.clone()
    };
    let (r, _) = rows(&store, &project, Kind::Ranking, experts).await;
    assert_eq!(r[0]["provenance"]["decision"], "single");
    // Minimum agreement: p1 is unanimous (1.0), p2 two of three (0.67).
    let agreeing = PairOptions {
        min_agreement: Some(0.8),
        ..opts.clone()
    };
    let (r, s) = rows(&store, &project, Kind::Preference, agreeing).await;
    assert_eq!(r.len(), 1);
    assert_eq!(r[0]["item_id"], "p1");
    assert_eq!(s.low_agreement, 1);
    // Rubric version: no judgment was made under version 2.
    let v2 = PairOptions {
        rubric_version: Some(2),
        ..opts.clone()
    };
    let (r, s) = rows(&store, &project, Kind::Full, v2).await;
    assert!(r.is_empty());
    assert_eq!(s.judgments_other_rubric, 15);
    // Tags.
    let tagged = PairOptions {
        tags: vec!["edge:bereavement".into()],
        ..opts.clone()
    };
    let (r, _) = rows(&store, &project, Kind::Full, tagged).await;
    assert_eq!(r.len(), 6);

    drivers(&store, &project, tag).await;

    // Releases: written, recorded, verified; tampering, extra and missing files named.
    let dir = scratch(&format!("{tag}-release"));
    let released = release::create(
        &store,
        None,
        &project,
        ReleaseRequest {
            kind: Kind::Preference,
            format: FileFormat::Parquet,
            opts: opts.clone(),
            out: dir.clone(),
            with_media: false,
        },
    )
    .await
    .unwrap();
    let id = released.record.manifest_sha256.clone();
    let verified = release::verify(&dir).unwrap();
    assert_eq!(verified.id, id);
    assert_eq!(verified.files, 4);
    #[cfg(unix)]
    {
        // Only the service reads a release: the directory 0700, its files 0600.
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        for f in std::fs::read_dir(&dir).unwrap() {
            let f = f.unwrap().path();
            assert_eq!(mode(&f), 0o600, "{}", f.display());
        }
    }
    let sheet = std::fs::read_to_string(dir.join("README.md")).unwrap();
    for needle in [
        "| 1 | `helpfulness` | Helpfulness |",
        "Safety \\| &lt;b&gt;first&lt;/b&gt;",
        "| expert | 1 | 2 |",
        "Krippendorff's alpha",
        "| `edge:bereavement` | 1 | 50.0% |",
        "Position: share of decisive judgments won by the candidate shown first: ",
        "\"threshold\": 0.9",
        "\"decision\": \"reliability\"",
        "## Decision\n\nMethod `reliability`.",
        "| rows decided by `reliability` | 2 |",
    ] {
        assert!(sheet.contains(needle), "`{needle}` not in\n{sheet}");
    }
    let listed = store.releases(project.id).await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].manifest_sha256, id);
    let events = store.audit_events(0, 10_000).await.unwrap();
    let ev = events
        .iter()
        .find(|e| e.action == "release.create")
        .expect("an audit event");
    assert_eq!(ev.digest.as_deref(), Some(id.as_str()));
    // Retention reads the release's items: with "0 days after the first release" the
    // two preference items released are due, and nothing else.
    store
        .set_retention(
            None,
            project.id,
            Some(plumbline_store::RetentionPolicy {
                after_resolved_days: None,
                after_release_days: Some(0),
            }),
        )
        .await
        .unwrap();
    let due = store
        .purge(None, project.id, plumbline_store::PurgeScope::Due, true)
        .await
        .unwrap();
    assert_eq!(due.items, released.outcome.items.len() as u64);
    assert_eq!(due.items, released.outcome.summary.exported);
    // The same data and filters give the same release id.
    let again = scratch(&format!("{tag}-again"));
    std::fs::create_dir_all(&again).unwrap();
    let second = release::create(
        &store,
        None,
        &project,
        ReleaseRequest {
            kind: Kind::Preference,
            format: FileFormat::Parquet,
            opts: opts.clone(),
            out: again.clone(),
            with_media: false,
        },
    )
    .await
    .unwrap();
    assert_eq!(second.record.manifest_sha256, id);
    // A non-empty directory is refused and left alone.
    let refused = release::create(
        &store,
        None,
        &project,
        ReleaseRequest {
            kind: Kind::Rating,
            format: FileFormat::Jsonl,
            opts: opts.clone(),
            out: again.clone(),
            with_media: false,
        },
    )
    .await
    .unwrap_err();
    assert!(refused.contains("is not empty"), "{refused}");
    assert!(release::verify(&again).is_ok());
    tamper(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&again);
}

/// The export driver: one check of the options (a filter the kind cannot apply, a
/// rubric version the project lacks, a share out of range), then the same bytes to a
/// file and to a stream.
async fn drivers<S: Store>(store: &S, project: &Project, tag: &str) {
    let check = |target, filters| {
        ExportRequest {
            target,
            format: FileFormat::Jsonl,
            filters,
        }
        .validate(store, project)
    };
    let refused = |e: Result<Export, RequestError>| e.unwrap_err().to_string();
    let threshold = Filters {
        threshold: Some(0.5),
        ..Filters::default()
    };
    assert_eq!(
        refused(check(Target::Rows(Kind::Full), threshold.clone()).await),
        "--threshold does not apply to full exports; it applies to preference, reward and sft exports"
    );
    // Items apply the item filters (split, tags); judgment filters are refused.
    let agreeing = Filters {
        min_agreement: Some(0.5),
        ..Filters::default()
    };
    assert_eq!(
        refused(check(Target::Items, agreeing).await),
        "--min-agreement does not apply to items exports; it applies to preference, reward, \
         sft, ranking, rating, red_team, full and label-studio exports"
    );
    assert_eq!(
        refused(check(Target::Items, threshold.clone()).await),
        "--threshold does not apply to items exports; it applies to preference, reward and sft exports"
    );
    let v2 = Filters {
        rubric_version: Some(2),
        ..Filters::default()
    };
    assert_eq!(
        refused(check(Target::Rows(Kind::Full), v2).await),
        "--rubric-version 2: project exports has rubric versions 1"
    );
    let agreement = Filters {
        min_agreement: Some(1.5),
        ..Filters::default()
    };
    assert_eq!(
        refused(check(Target::Rows(Kind::Rating), agreement).await),
        "--min-agreement must lie in [0, 1], got 1.5"
    );
    // The decision method: named, checked, and only where pairs are decided.
    let method = |m: &str| Filters {
        decision: Some(m.into()),
        ..Filters::default()
    };
    assert_eq!(
        refused(check(Target::Rows(Kind::Preference), method("coin")).await),
        "--decision: unknown decision method `coin` (expected reliability, dawid-skene or majority)"
    );
    assert_eq!(
        refused(check(Target::Rows(Kind::Ranking), method("majority")).await),
        "--decision does not apply to ranking exports; it applies to preference, reward and sft exports"
    );
    for (name, m) in [
        ("reliability", DecisionMethod::Reliability),
        ("dawid-skene", DecisionMethod::DawidSkene),
        ("majority", DecisionMethod::Majority),
    ] {
        let e = check(Target::Rows(Kind::Sft), method(name)).await.unwrap();
        assert_eq!(e.opts.decision, m);
    }
    let e = check(Target::Rows(Kind::Reward), Filters::default())
        .await
        .unwrap();
    assert_eq!(e.opts.decision, DecisionMethod::Reliability, "the default");
    // Without --threshold, the project's decision_threshold.
    assert_eq!(e.opts.threshold, 0.9);
    let mut strict = project.clone();
    strict.settings.decision_threshold = 0.97;
    let e = ExportRequest {
        target: Target::Rows(Kind::Preference),
        format: FileFormat::Jsonl,
        filters: Filters::default(),
    }
    .validate(store, &strict)
    .await
    .unwrap();
    assert_eq!(e.opts.threshold, 0.97);

    // The same rows, byte for byte, in a file (through `.partial`) and in a stream.
    let pairs = check(Target::Rows(Kind::Preference), threshold)
        .await
        .unwrap();
    assert_eq!(pairs.opts.threshold, 0.5);
    let dir = scratch(&format!("{tag}-driver"));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("pairs.jsonl");
    let to_file = Destination::File(file.clone());
    let written = export_driver::run(store, project, pairs.clone(), to_file)
        .await
        .unwrap();
    let Exported::Rows(Kind::Preference, summary) = written else {
        panic!("{written:?}");
    };
    let buf = Shared::default();
    let to_stream = Destination::Stream(Box::new(buf.clone()));
    export_driver::run(store, project, pairs, to_stream)
        .await
        .unwrap();
    let streamed = buf.0.lock().unwrap().clone();
    assert_eq!(std::fs::read(&file).unwrap(), streamed);
    assert_eq!(
        streamed.iter().filter(|b| **b == b'\n').count() as u64,
        summary.exported
    );
    assert!(summary.exported > 0, "{summary:?}");
    assert!(!dir.join("pairs.partial").exists());
    // Items: every item, native JSONL, each with its stored split; --split and --tag
    // choose items as for every kind.
    store
        .set_splits(
            None,
            project.id,
            vec![("p1".into(), Split::Eval), ("p2".into(), Split::Train)],
            "test".into(),
        )
        .await
        .unwrap();
    let items_of = |filters: Filters| async move {
        let export = check(Target::Items, filters).await.unwrap();
        let buf = Shared::default();
        let written = export_driver::run(
            store,
            project,
            export,
            Destination::Stream(Box::new(buf.clone())),
        )
        .await
        .unwrap();
        let Exported::Items(done) = written else {
            panic!("{written:?}");
        };
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let rows: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        (done, rows)
    };
    let (done, rows) = items_of(Filters::default()).await;
    assert_eq!((done.exported, done.filtered), (5, 0));
    let splits: Vec<(&str, Option<&str>)> = rows
        .iter()
        .map(|r| (r["id"].as_str().unwrap(), r["split"].as_str()))
        .collect();
    assert_eq!(
        splits,
        [
            ("p1", Some("eval")),
            ("p2", Some("train")),
            ("k1", None),
            ("r1", None),
            ("t1", None)
        ]
    );
    let eval = Filters {
        split: Some(Split::Eval),
        ..Filters::default()
    };
    let (done, rows) = items_of(eval).await;
    assert_eq!((done.exported, done.filtered), (1, 4));
    assert_eq!(rows[0]["id"], "p1");
    let bereavement = Filters {
        tags: vec!["edge:bereavement".into()],
        ..Filters::default()
    };
    let (done, rows) = items_of(bereavement).await;
    assert_eq!((done.exported, done.filtered), (2, 3));
    assert_eq!(
        (rows[0]["id"].as_str(), rows[1]["id"].as_str()),
        (Some("p1"), Some("r1"))
    );
    // Every kind honours the split: the eval pairs are p1's only.
    let eval_pairs = Filters {
        split: Some(Split::Eval),
        ..Filters::default()
    };
    let pairs = check(Target::Rows(Kind::Full), eval_pairs).await.unwrap();
    let buf = Shared::default();
    export_driver::run(
        store,
        project,
        pairs,
        Destination::Stream(Box::new(buf.clone())),
    )
    .await
    .unwrap();
    let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
    assert!(text.lines().count() > 0);
    for line in text.lines() {
        let row: Value = serde_json::from_str(line).unwrap();
        assert_eq!(
            (row["item_id"].as_str(), row["split"].as_str()),
            (Some("p1"), Some("eval"))
        );
    }
    // An items export imported again changes nothing; moving an item to the other side
    // is a change.
    let (_, rows) = items_of(Filters::default()).await;
    let again: Vec<NewItem> = rows
        .iter()
        .map(|r| {
            let item: plumbline_domain::Item = serde_json::from_value(r.clone()).unwrap();
            plumbline_formats::encode_item(&item, 1, TaskKind::Preference)
        })
        .collect();
    let (tx, rx) = mpsc::channel(2);
    tx.send(ImportMsg::Items(again)).await.unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    drop(tx);
    let out = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    assert!(out.committed, "{out:?}");
    assert_eq!((out.unchanged, out.imported, out.updated), (5, 0, 0));
    let mut moved: plumbline_domain::Item = serde_json::from_value(rows[0].clone()).unwrap();
    moved.split = Some(Split::Train);
    let (tx, rx) = mpsc::channel(2);
    tx.send(ImportMsg::Items(vec![plumbline_formats::encode_item(
        &moved,
        7,
        TaskKind::Preference,
    )]))
    .await
    .unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    drop(tx);
    let out = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    assert!(!out.committed);
    assert_eq!(out.conflicts[0].line, 7);
    let _ = std::fs::remove_dir_all(&dir);
}

fn tamper(dir: &Path) {
    let data = dir.join("preference.parquet");
    let original = std::fs::read(&data).unwrap();
    let mut changed = original.clone();
    let mid = changed.len() / 2;
    changed[mid] ^= 1;
    std::fs::write(&data, &changed).unwrap();
    let e = release::verify(dir).unwrap_err();
    assert!(e.contains("file preference.parquet does not match"), "{e}");
    std::fs::write(&data, &original).unwrap();
    std::fs::write(dir.join("notes.txt"), "x").unwrap();
    let e = release::verify(dir).unwrap_err();
    assert!(e.contains("extra file notes.txt"), "{e}");
    std::fs::remove_file(dir.join("notes.txt")).unwrap();
    std::fs::remove_file(dir.join("README.md")).unwrap();
    let e = release::verify(dir).unwrap_err();
    assert!(e.contains("missing file README.md"), "{e}");
}

#[tokio::test]
async fn kinds_filters_and_releases_on_sqlite() {
    let dir = scratch("sqlite-db");
    std::fs::create_dir_all(&dir).unwrap();
    let store = plumbline_store::SqliteStore::open(&dir.join("p.db"))
        .await
        .unwrap();
    flow(store, "sqlite").await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn kinds_filters_and_releases_on_postgres() {
    let Ok(url) = std::env::var("PLUMBLINE_TEST_POSTGRES_URL") else {
        eprintln!("*** SKIPPED: set PLUMBLINE_TEST_POSTGRES_URL to run the PostgreSQL case ***");
        return;
    };
    let name = format!("plumbline_exports_{}", std::process::id());
    let (admin, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls)
        .await
        .unwrap();
    tokio::spawn(conn);
    admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name}"))
        .await
        .unwrap();
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .await
        .unwrap();
    let base = url.split('?').next().unwrap();
    let cut = base.rfind('/').unwrap();
    let audit_dir = std::env::temp_dir().join(format!("{name}_audit"));
    let store = plumbline_store::PgStore::open(&format!("{}/{name}", &base[..cut]), &audit_dir)
        .await
        .unwrap();
    flow(store, "postgres").await;
    let _ = admin
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await;
}

/// Imports `items` (each with one prior choice) into a new project `name` and exports
/// pairs with the external judgments counted, at the default threshold; checks every pair
/// is its item's imported choice, decided `single` at the stated 0.7.
async fn export_imported<S: Store>(
    store: &S,
    name: &str,
    items: Vec<NewItem>,
) -> plumbline_formats::export::PairSummary {
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
    let choices: std::collections::HashMap<String, String> = items
        .iter()
        .map(|item| {
            let payload: Value = serde_json::from_str(&item.external[0].payload).unwrap();
            let winner = payload["winner"].as_str().unwrap().to_owned();
            (item.ext_id.clone(), winner)
        })
        .collect();
    let (tx, rx) = mpsc::channel(2);
    let feed = tokio::spawn(async move {
        for chunk in items.chunks(500) {
            tx.send(ImportMsg::Items(chunk.to_vec())).await.unwrap();
        }
        tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    });
    let out = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    feed.await.unwrap();
    assert!(out.committed);
    let opts = PairOptions {
        include_external: true,
        ..options(store, &project).await
    };
    let (r, s) = rows(store, &project, Kind::Preference, opts).await;
    for row in &r {
        let id = row["item_id"].as_str().unwrap();
        assert_eq!(
            row["provenance"]["chosen_id"],
            choices[id].as_str(),
            "{row}"
        );
        assert_eq!(row["provenance"]["decision"], "single");
        assert!((row["provenance"]["posterior"].as_f64().unwrap() - 0.7).abs() < 1e-12);
        let chosen = row["chosen"][0]["content"].as_str().unwrap();
        assert!(!chosen.starts_with("bad reply"), "{row}");
    }
    assert_eq!(s.exported, r.len() as u64);
    s
}

/// Imported prior choices (HH-RLHF, a CSV winner column; files of any size) export as
/// themselves at the default threshold.
#[tokio::test]
async fn imported_choices_export_as_themselves_on_sqlite() {
    let dir = scratch("imported-db");
    std::fs::create_dir_all(&dir).unwrap();
    let store = plumbline_store::SqliteStore::open(&dir.join("p.db"))
        .await
        .unwrap();
    // The readers block on their channel: off the runtime's threads.
    let read = |f: Box<dyn FnOnce() -> crate::support::Got + Send>| async move {
        tokio::task::spawn_blocking(f).await.unwrap().ok().items
    };
    let hh = read(Box::new(|| {
        crate::support::read("hh_rlhf.jsonl", None, None, TaskKind::Preference)
    }))
    .await;
    let s = export_imported(&store, "hh", hh).await;
    assert_eq!((s.items, s.exported), (4, 4), "{s:?}");
    let mapping = plumbline_formats::csv::Mapping::from_toml(
        &std::fs::read_to_string(crate::support::fixture("pairs_mapping.toml")).unwrap(),
    )
    .unwrap();
    let csv = read(Box::new(|| {
        crate::support::read("pairs.csv", None, Some(mapping), TaskKind::Preference)
    }))
    .await;
    let s = export_imported(&store, "csv", csv).await;
    // T-3 chose a tie: no pair.
    assert_eq!((s.items, s.exported, s.tie), (3, 2, 1), "{s:?}");
    // Synthetic dialogues, each choosing its "good" reply, in files of 20, 100 and 1,000
    // lines (the earlier rule exported none of the first two and flipped choices).
    for n in [20, 100, 1000] {
        let mut lines = String::new();
        for i in 0..n {
            let reply = |r: &str| format!("\n\nHuman: question {i}?\n\nAssistant: {r} reply {i}");
            let line = json!({"chosen": reply("good"), "rejected": reply("bad")});
            lines.push_str(&format!("{line}\n"));
        }
        let got = read(Box::new(|| {
            crate::support::read_bytes(lines.into_bytes(), None, TaskKind::Preference)
        }))
        .await;
        let s = export_imported(&store, &format!("synthetic-{n}"), got).await;
        assert_eq!((s.items, s.exported), (n, n), "{s:?}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

const LS_RUBRIC: &str = r#"
name = "Label Studio templates"
[[criteria]]
key = "likert_scale"
title = "Overall quality"
priority = 1
scale = { min = 1, max = 7 }
[[criteria]]
key = "rating"
title = "Rating"
priority = 2
scale = { min = 1, max = 5 }
"#;

/// Imports `items` into `project` in one transaction.
async fn store_items<S: Store>(
    store: &S,
    project: &Project,
    items: Vec<NewItem>,
) -> plumbline_store::ImportOutcome {
    let (tx, rx) = mpsc::channel(2);
    let feed = tokio::spawn(async move {
        tx.send(ImportMsg::Items(items)).await.unwrap();
        tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    });
    let out = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    feed.await.unwrap();
    assert!(out.committed);
    out
}

/// Reads Label Studio JSON with the template rubric's criteria.
fn read_ls(bytes: Vec<u8>) -> crate::support::Got {
    let mut opts = crate::support::options(TaskKind::Preference);
    opts.criteria.insert(
        "likert_scale".into(),
        plumbline_domain::Scale { min: 1, max: 7 },
    );
    opts.criteria
        .insert("rating".into(), plumbline_domain::Scale { min: 1, max: 5 });
    let input = plumbline_formats::Input::Stream(Box::new(std::io::Cursor::new(bytes)));
    crate::support::read_input(input, None, None, opts).ok()
}

/// Label Studio exports imported, then exported back as Label Studio tasks: each task
/// holds its item's data as the shipped templates read it and the decided label as its
/// prediction, and the tasks import back into the same items.
#[tokio::test]
async fn label_studio_tasks_round_trip_on_sqlite() {
    let dir = scratch("label-studio-db");
    std::fs::create_dir_all(&dir).unwrap();
    let store = plumbline_store::SqliteStore::open(&dir.join("p.db"))
        .await
        .unwrap();
    let project = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("ls").unwrap(),
                settings: ProjectSettings::default(),
                rubric: Rubric::from_toml(LS_RUBRIC).unwrap(),
            },
        )
        .await
        .unwrap();
    let mut items = Vec::new();
    for name in [
        "pairwise",
        "ranker",
        "response_grading",
        "supervised_llm",
        "chatbot_assessment",
        "dialogue_pairwise",
    ] {
        let bytes = std::fs::read(crate::support::fixture(&format!(
            "label_studio/{name}.json"
        )))
        .unwrap();
        let got = tokio::task::spawn_blocking(move || read_ls(bytes))
            .await
            .unwrap();
        items.extend(got.items);
    }
    // A native item of Plumbline's own, with candidate ids of its own and a tag.
    items.push(item(
        "native-1",
        "preference",
        &["a", "b"],
        &["bereavement"],
    ));
    let stored: Vec<plumbline_domain::Item> = items
        .iter()
        .map(|i| serde_json::from_str(&i.body).unwrap())
        .collect();
    store_items(&store, &project, items).await;
    let opts = PairOptions {
        include_external: true,
        ..options(&store, &project).await
    };
    let buf = Shared::default();
    let w = buf.clone();
    let sink: run::SinkFactory = Box::new(move || {
        Ok(Box::new(plumbline_formats::export::JsonArraySink::new(w)) as Box<dyn RowSink>)
    });
    run::export(&store, &project, Kind::LabelStudio, opts, sink, false)
        .await
        .unwrap();
    let bytes = buf.0.lock().unwrap().clone();
    let tasks: Vec<Value> = serde_json::from_slice(&bytes).expect("one JSON array");
    assert_eq!(tasks.len(), stored.len());
    let by_id = |id: &str| {
        tasks
            .iter()
            .find(|t| t["data"]["plumbline"]["item_id"] == id)
            .unwrap_or_else(|| panic!("no task of {id}"))
    };
    // Pairwise: the template's fields, the extra data, both annotators' choice.
    let pair = by_id("ls-1");
    assert_eq!(pair["data"]["model_a"], "plumbline-7b");
    assert_eq!(pair["data"]["conversation_id"], "conv-001");
    assert_eq!(
        pair["predictions"][0]["model_version"],
        "plumbline-unanimous"
    );
    let result = &pair["predictions"][0]["result"][0];
    assert_eq!(
        (&result["type"], &result["value"]["selected"]),
        (&json!("pairwise"), &json!("left"))
    );
    // Ranker: the LLM Ranker's items with model titles, the Borda order of two votes
    // (the two that tie for second flattened in id order: a Ranker has no ties).
    let rank = by_id("ls-6");
    assert_eq!(rank["data"]["items"][0]["title"], "LlamaModel");
    assert_eq!(rank["predictions"][0]["model_version"], "plumbline-borda");
    assert_eq!(
        rank["predictions"][0]["result"][0]["value"]["ranker"]["rank"],
        json!(["llama_model", "cobra_ai", "opossum_logic"])
    );
    // Rating: the mean of 5 and 4, rounded, on the rated response.
    let graded = by_id("ls-8");
    let stars = &graded["predictions"][0]["result"][0];
    assert_eq!(
        (&stars["from_name"], &stars["to_name"]),
        (&json!("rating"), &json!("response"))
    );
    assert_eq!(stars["value"]["rating"], 5);
    // Demonstration: the one written response.
    let sft = by_id("ls-9");
    assert!(
        sft["predictions"][0]["result"][0]["value"]["text"][0]
            .as_str()
            .unwrap()
            .starts_with("Sorry about that")
    );
    // A native item nobody judged: data, no prediction.
    assert_eq!(by_id("native-1")["predictions"], json!([]));
    // The tasks import back into the same items, which the store finds unchanged.
    let back = tokio::task::spawn_blocking(move || read_ls(bytes))
        .await
        .unwrap();
    let again: Vec<plumbline_domain::Item> = back.parsed();
    for item in &stored {
        let twin = again.iter().find(|i| i.id == item.id).unwrap();
        assert_eq!(twin, item);
    }
    let out = store_items(&store, &project, back.items).await;
    assert_eq!((out.imported, out.unchanged), (0, stored.len() as u64));
    let _ = std::fs::remove_dir_all(&dir);
}
