//! Interchange formats end to end: detection, external judgments, atomicity, on SQLite
//! and PostgreSQL.

use crate::support::*;

fn fixture(name: &str) -> String {
    repo_root()
        .join("crates/plumbline-formats/tests/fixtures")
        .join(name)
        .display()
        .to_string()
}

fn import(env: &Env, project: &str, file: &str, extra: &[&str]) -> Run {
    let mut args = vec!["import", "--project", project, file];
    args.extend_from_slice(extra);
    env.run(&args)
}

fn every_format(env: Env) {
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&[
        "project", "create", "--name", "banking", "--rubric", &rubric,
    ])
    .ok();
    env.run(&[
        "project",
        "create",
        "--name",
        "hs2",
        "--task",
        "rating",
        "--rubric",
        &fixture("helpsteer2_rubric.toml"),
    ])
    .ok();
    let hh = fixture("hh_rlhf.jsonl");
    let out = import(&env, "banking", &hh, &[]).ok();
    assert!(out.stderr.contains("detected hh-rlhf"), "{}", out.stderr);
    assert!(
        out.stdout
            .contains("imported 4, unchanged 0, updated 0, rejected 0, external judgments 4"),
        "{}",
        out.stdout
    );
    // Importing again changes nothing and adds no judgment.
    let out = import(&env, "banking", &hh, &["--json"]).ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["unchanged"], 4);
    assert_eq!(v["external_judgments"], 0);
    assert_eq!(v["format"], "hh-rlhf");
    let out = import(&env, "banking", &fixture("oasst1.parquet"), &[]).ok();
    assert!(out.stdout.contains("imported 2"), "{}", out.stdout);
    assert!(
        out.stderr.contains("left out 1 × deleted oasst1 message"),
        "{}",
        out.stderr
    );
    import(&env, "banking", &fixture("label_studio_ranker.json"), &[]).ok();
    import(
        &env,
        "banking",
        &fixture("pairs.csv"),
        &["--mapping", &fixture("pairs_mapping.toml")],
    )
    .ok();
    import(
        &env,
        "hs2",
        &fixture("helpsteer2.jsonl"),
        &["--format", "helpsteer2"],
    )
    .ok();
    assert_eq!(stored_items(&env), 4 + 2 + 1 + 3);
    // One bad record anywhere stores nothing.
    let out = import(&env, "banking", &fixture("oasst1_orphan.jsonl"), &[]).fails_with(&[
        "oasst1_orphan.jsonl: line 7: field `parent_id`",
        "nothing was stored",
    ]);
    assert!(out.stdout.contains("imported 0"), "{}", out.stdout);
    import(&env, "banking", &fixture("hh_rlhf_no_prefix.jsonl"), &[]).fails_with(&[
        "line 3: field `rejected`",
        "share no prefix",
        "nothing was stored",
    ]);
    import(
        &env,
        "banking",
        &fixture("label_studio_unknown_control.json"),
        &[],
    )
    .fails_with(&["unknown control `choices`", "nothing was stored"]);
    import(&env, "banking", &fixture("hh_rlhf_truncated.parquet"), &[])
        .fails_with(&["not a readable Parquet file", "nothing was stored"]);
    assert_eq!(stored_items(&env), 10);
}

#[test]
fn every_format_imports_atomically_on_sqlite() {
    every_format(Env::sqlite());
}

#[test]
fn every_format_imports_atomically_on_postgres() {
    if let Some(env) = Env::postgres() {
        every_format(env);
    }
}

#[test]
fn csv_flags_and_ambiguity_are_explained() {
    let env = with_project();
    let csv = fixture("pairs.csv");
    import(&env, "banking", &csv, &[]).fails_with(&["cannot tell the format", "--prompt-column"]);
    let out = import(
        &env,
        "banking",
        &csv,
        &[
            "--prompt-column",
            "question",
            "--candidate-column",
            "answer_a",
            "--candidate-column",
            "answer_b",
            "--id-column",
            "ticket",
            "--winner-column",
            "preferred",
        ],
    )
    .ok();
    assert!(out.stdout.contains("imported 3") && out.stdout.contains("external judgments 3"));
    let both = env.file(
        "both.jsonl",
        r#"{"chosen": "x", "rejected": "y", "prompt": "p", "response": "r", "helpfulness": 3}"#,
    );
    import(&env, "banking", &both, &[]).fails_with(&["ambiguous input", "hh-rlhf and helpsteer2"]);
    import(&env, "banking", &csv, &["--mapping", "nope.toml"])
        .fails_with(&["cannot read mapping file"]);
    // Standard input is detected too.
    let body = std::fs::read(fixture("hh_rlhf.jsonl")).unwrap();
    let out = env
        .run_with_stdin(&["import", "--project", "banking", "-"], Some(&body))
        .ok();
    assert!(out.stderr.contains("detected hh-rlhf"), "{}", out.stderr);
}
