//! A lead's controls on the command line: every setting as a flag at creation and by
//! `project set` (a bad value changes nothing and names its flag; `--as` a non-lead is
//! refused), the quality table of `report`, and `project reinstate`.

use crate::support::*;
use plumbline_store::{AnyStore, NewGold, Next, Purpose, Store, Submission};
use serde_json::Value;

fn settings(env: &Env, project: &str) -> Value {
    let v: Value =
        serde_json::from_str(&env.run(&["project", "list", "--json"]).ok().stdout).unwrap();
    v.as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == project)
        .unwrap()["settings"]
        .clone()
}

fn audit_actions(env: &Env) -> Vec<Value> {
    env.run(&["audit", "export"])
        .ok()
        .stdout
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .collect()
}

fn add_user(env: &Env, name: &str, project: &str, role: &str) {
    env.run_with_stdin(
        &["user", "add", name, "--password-stdin"],
        Some(format!("{name}-correct-horse-battery\n").as_bytes()),
    )
    .ok();
    env.run(&[
        "member",
        "add",
        "--project",
        project,
        "--user",
        name,
        "--role",
        role,
    ])
    .ok();
}

fn settings_flow(env: Env) {
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&[
        "project",
        "create",
        "--name",
        "tuned",
        "--rubric",
        &rubric,
        "--overlap",
        "4",
        "--gold-rate",
        "0.2",
        "--lease-seconds",
        "600",
        "--qualification-size",
        "3",
        "--qualification-pass",
        "0.9",
        "--min-experts",
        "1",
        "--max-overlap",
        "6",
        "--min-gold-accuracy",
        "0.6",
        "--decision-threshold",
        "0.95",
    ])
    .ok();
    let s = settings(&env, "tuned");
    for (k, v) in [
        ("overlap", 4.0),
        ("gold_rate", 0.2),
        ("lease_seconds", 600.0),
        ("qualification_size", 3.0),
        ("qualification_pass", 0.9),
        ("min_experts", 1.0),
        ("max_overlap", 6.0),
        ("min_gold_accuracy", 0.6),
        ("decision_threshold", 0.95),
    ] {
        assert_eq!(s[k].as_f64(), Some(v), "{k}: {s}");
    }
    env.run(&[
        "project",
        "create",
        "--name",
        "bad",
        "--rubric",
        &rubric,
        "--overlap",
        "4",
        "--max-overlap",
        "2",
    ])
    .fails_with(&["invalid --max-overlap", "between overlap (4) and 100"]);

    // After creation: each change range-checked, a bad value changes nothing.
    let out = env
        .run(&["project", "set", "--project", "tuned", "--overlap", "5"])
        .ok();
    assert!(out.stdout.contains("set overlap"), "{}", out.stdout);
    assert_eq!(settings(&env, "tuned")["overlap"], 5);
    for (flag, value, said) in [
        ("--gold-rate", "1.5", "invalid --gold-rate"),
        ("--lease-seconds", "5", "invalid --lease-seconds"),
        ("--qualification-pass", "2", "invalid --qualification-pass"),
        (
            "--qualification-size",
            "5000",
            "invalid --qualification-size",
        ),
        ("--min-gold-accuracy", "-1", "invalid --min-gold-accuracy"),
        (
            "--decision-threshold",
            "0.5",
            "invalid --decision-threshold",
        ),
        ("--min-experts", "9", "invalid --min-experts"),
        ("--overlap", "7", "invalid --max-overlap"),
        ("--max-overlap", "many", "neither a whole number nor `auto`"),
    ] {
        // With a good value beside it, which the refusal leaves unchanged too.
        let beside = if flag == "--gold-rate" {
            ["--min-gold-accuracy", "0.65"]
        } else {
            ["--gold-rate", "0.3"]
        };
        env.run(&[
            "project",
            "set",
            "--project",
            "tuned",
            flag,
            value,
            beside[0],
            beside[1],
        ])
        .fails_with(&[said]);
    }
    let unchanged = settings(&env, "tuned");
    assert_eq!(
        unchanged["gold_rate"], 0.2,
        "refused changes change nothing"
    );
    assert_eq!(unchanged["min_gold_accuracy"], 0.6);
    let out = env
        .run(&[
            "project",
            "set",
            "--project",
            "tuned",
            "--max-overlap",
            "auto",
            "--min-experts",
            "auto",
            "--json",
        ])
        .ok();
    let p: Value = serde_json::from_str(&out.stdout).unwrap();
    assert!(p["settings"]["max_overlap"].is_null() && p["settings"]["min_experts"].is_null());
    env.run(&["project", "set", "--project", "tuned"])
        .fails_with(&["name at least one setting"]);
    env.run(&["project", "set", "--project", "nope", "--overlap", "2"])
        .fails_with(&["project `nope` not found"]);

    // Acting as a user: only a lead of the project (or an administrator).
    add_user(&env, "ann", "tuned", "annotator");
    add_user(&env, "lena", "tuned", "lead");
    env.run(&[
        "project",
        "set",
        "--project",
        "tuned",
        "--as",
        "ann",
        "--overlap",
        "2",
    ])
    .fails_with(&[
        "`ann` may not do this",
        "needs the lead role; they are annotator",
    ]);
    assert_eq!(settings(&env, "tuned")["overlap"], 5);
    env.run(&[
        "project",
        "set",
        "--project",
        "tuned",
        "--as",
        "lena",
        "--overlap",
        "2",
    ])
    .ok();
    let events: Vec<Value> = audit_actions(&env)
        .into_iter()
        .filter(|e| e["action"] == "project.settings")
        .collect();
    assert_eq!(events.len(), 3, "one event per change: {events:?}");
    assert!(events[0]["actor"].is_null(), "the operator");
    assert!(events[2]["actor"].is_number(), "lena");
    assert_eq!(events[2]["object_id"], "tuned: overlap");
    env.run(&["audit", "verify"]).ok();
}

#[test]
fn settings_change_after_creation() {
    settings_flow(Env::sqlite());
}

#[test]
fn settings_change_after_creation_on_postgres() {
    if let Some(env) = Env::postgres() {
        settings_flow(env);
    }
}

/// Judges through the store: `name` takes `n` tasks, answering hidden gold with
/// `gold_answer` and other work with the longer candidate `b`; how much hidden gold.
async fn judge<S: Store>(store: &S, project: &str, name: &str, n: usize, gold_answer: &str) -> u64 {
    let p = store.project_by_name(project).await.unwrap();
    let user = store.user_by_name(name).await.unwrap().id;
    let mut hidden = 0;
    for _ in 0..n {
        let Next::Task(t) = store.next_task(user, p.id).await.unwrap() else {
            break;
        };
        let answer = if t.purpose == Purpose::Gold {
            hidden += 1;
            gold_answer
        } else {
            "b"
        };
        store
            .submit(
                user,
                p.id,
                t.assignment,
                Submission {
                    payload: format!(
                        r#"{{"winner":"{answer}","strength":2,"criteria":{{"compliance":"{answer}","tone":"{answer}"}}}}"#
                    ),
                    time_ms: Some(2000),
                },
            )
            .await
            .unwrap();
    }
    hidden
}

async fn seed<S: Store>(store: S) -> (u64, u64) {
    let p = store.project_by_name("qa").await.unwrap();
    for n in 0..16 {
        store
            .add_gold(
                None,
                p.id,
                NewGold {
                    item: format!("q-{n:02}"),
                    payload:
                        r#"{"winner":"a","strength":2,"criteria":{"compliance":"a","tone":"a"}}"#
                            .into(),
                },
            )
            .await
            .unwrap();
    }
    let wrong = judge(&store, "qa", "ann", 40, "b").await;
    let right = judge(&store, "qa", "bob", 20, "a").await;
    store.seal_audit().await.unwrap();
    (wrong, right)
}

fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["quality"]["annotators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .unwrap()
}

fn report_flow(env: Env) {
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&[
        "project",
        "create",
        "--name",
        "qa",
        "--rubric",
        &rubric,
        "--overlap",
        "2",
        "--gold-rate",
        "0.6",
        // Off while the annotators judge, so `ann` makes enough judgments for her
        // length bias to show; turned on below, probation then follows her record.
        "--min-gold-accuracy",
        "0",
    ])
    .ok();
    let lines: String = (0..50)
        .map(|n| {
            format!(
                r#"{{"id":"q-{n:02}","context":[{{"role":"user","content":"question {n}"}}],"candidates":[{{"id":"a","content":"Short."}},{{"id":"b","content":"A much longer answer that goes on about fees and forms."}}]}}"#
            ) + "\n"
        })
        .collect();
    let items = env.file("items.jsonl", lines);
    env.run(&["import", "--project", "qa", &items]).ok();
    add_user(&env, "ann", "qa", "annotator");
    add_user(&env, "bob", "qa", "annotator");
    add_user(&env, "lena", "qa", "lead");
    env.run(&[
        "expertise",
        "add",
        "--user",
        "bob",
        "banking:expert",
        "--verify",
    ])
    .ok();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (wrong, right) = rt.block_on(async {
        match AnyStore::open(&env.db, Some(&env.dir.join("plumbline-data")))
            .await
            .unwrap()
        {
            AnyStore::Sqlite(s) => seed(s).await,
            AnyStore::Postgres(s) => seed(s).await,
        }
    });
    drop(rt);
    assert!(
        wrong >= 10 && right >= 3,
        "hidden gold served: {wrong}, {right}"
    );
    env.run(&[
        "project",
        "set",
        "--project",
        "qa",
        "--min-gold-accuracy",
        "0.7",
    ])
    .ok();

    let out = env.run(&["report", "--project", "qa"]).ok().stdout;
    for needle in [
        "experts: ",
        "have a judgment by a verified expert",
        "reliability",
        "probation",
        "ON (0/",
        "p=",
    ] {
        assert!(out.contains(needle), "`{needle}` in:\n{out}");
    }
    let report: Value = serde_json::from_str(
        &env.run(&["report", "--project", "qa", "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    let ann = row(&report, "ann");
    assert_eq!(ann["probation"]["on_probation"], true, "{ann}");
    assert_eq!(ann["probation"]["hidden_gold"]["total"], wrong);
    assert_eq!(ann["length"]["flagged"], true, "always the longer: {ann}");
    assert!(ann["length"]["p_value"].as_f64().unwrap() < 0.01);
    let bob = row(&report, "bob");
    assert_eq!(bob["expertise"], "expert");
    assert_eq!(bob["probation"]["on_probation"], false);
    assert!(bob["reliability"]["mean"].as_f64() > ann["reliability"]["mean"].as_f64());
    let x = &report["quality"]["experts"];
    assert!(x["items_with_expert"].as_u64().unwrap() > 0, "{x}");
    assert!(x["judgment_share"]["value"].as_f64().unwrap() < 1.0, "{x}");

    // Reinstatement: leads only, annotators on probation only.
    env.run(&[
        "project",
        "reinstate",
        "--project",
        "qa",
        "--user",
        "ann",
        "--as",
        "bob",
    ])
    .fails_with(&["`bob` may not do this", "they are annotator"]);
    env.run(&["project", "reinstate", "--project", "qa", "--user", "bob"])
        .fails_with(&["`bob` is not on probation"]);
    env.run(&["project", "reinstate", "--project", "qa", "--user", "zed"])
        .fails_with(&["no user `zed`"]);
    let out = env
        .run(&[
            "project",
            "reinstate",
            "--project",
            "qa",
            "--user",
            "ann",
            "--as",
            "lena",
        ])
        .ok();
    assert!(
        out.stdout
            .contains(&format!("0 of {wrong} hidden gold right are set aside")),
        "{}",
        out.stdout
    );
    let report: Value = serde_json::from_str(
        &env.run(&["report", "--project", "qa", "--json"])
            .ok()
            .stdout,
    )
    .unwrap();
    let ann = row(&report, "ann");
    assert_eq!(ann["probation"]["on_probation"], false, "{ann}");
    assert_eq!(ann["probation"]["hidden_gold"]["total"], 0);
    let reinstated: Vec<Value> = audit_actions(&env)
        .into_iter()
        .filter(|e| e["action"] == "annotator.reinstate")
        .collect();
    assert_eq!(reinstated.len(), 1);
    assert!(reinstated[0]["actor"].is_number());
    env.run(&["audit", "verify"]).ok();
}

#[test]
fn report_shows_quality_and_reinstate_lifts_probation() {
    report_flow(Env::sqlite());
}

#[test]
fn report_shows_quality_and_reinstate_lifts_probation_on_postgres() {
    if let Some(env) = Env::postgres() {
        report_flow(env);
    }
}
