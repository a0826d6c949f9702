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
    .fails_with(&["unknown control `labels`", "nothing was stored"]);
    import(&env, "banking", &fixture("hh_rlhf_truncated.parquet"), &[])
        .fails_with(&["not a readable Parquet file", "nothing was stored"]);
    assert_eq!(stored_items(&env), 10);
}

fn label_studio(name: &str) -> String {
    fixture(&format!("label_studio/{name}"))
}

/// A later Label Studio export of the same project adds its new annotations (with or
/// without --update), never repeats the old ones, and the tasks go back to Label Studio
/// with Plumbline's decisions as predictions.
fn label_studio_flow(env: Env) {
    let rubric = env.file("rubric.toml", RUBRIC);
    for name in ["banking", "updating", "back"] {
        env.run(&["project", "create", "--name", name, "--rubric", &rubric])
            .ok();
    }
    let out = import(&env, "banking", &label_studio("pairwise.json"), &[]).ok();
    assert!(
        out.stdout
            .contains("imported 2, unchanged 0, updated 0, rejected 0, external judgments 3"),
        "{}",
        out.stdout
    );
    // The annotation marked ground truth is proposed as gold, for a lead to decide.
    assert!(
        out.stderr.contains("1 gold candidates proposed"),
        "{}",
        out.stderr
    );
    let out = env
        .run(&["gold", "candidates", "--project", "banking", "--json"])
        .ok();
    let listed: Vec<serde_json::Value> = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (&listed[0]["item"], &listed[0]["state"]),
        (&"ls-2".into(), &"pending".into())
    );
    let id = listed[0]["id"].to_string();
    // As imported it lacks the rubric's criteria; the lead's completed payload is gold.
    env.run(&["gold", "accept", "--project", "banking", &id])
        .fails_with(&["not a valid gold answer as proposed", "--payload"]);
    let full =
        r#"{"winner":"answer2","strength":2,"criteria":{"compliance":"answer2","tone":"answer2"}}"#;
    let out = env
        .run(&[
            "gold",
            "accept",
            "--project",
            "banking",
            &id,
            "--payload",
            full,
        ])
        .ok();
    assert!(
        out.stdout.contains("item ls-2 has gold version 1"),
        "{}",
        out.stdout
    );
    env.run(&["gold", "reject", "--project", "banking", &id])
        .fails_with(&["was accepted already"]);
    for (project, extra) in [("banking", &[][..]), ("updating", &["--update"][..])] {
        if project == "updating" {
            import(&env, project, &label_studio("pairwise.json"), &[]).ok();
        }
        let out = import(&env, project, &label_studio("pairwise_more.json"), extra).ok();
        assert!(
            out.stdout.contains(
                "imported 0, unchanged 1, updated 0, rejected 0, annotated 1, external judgments 1"
            ),
            "{project}: {}",
            out.stdout
        );
    }
    // The same export again: nothing new. JSON_MIN of the same annotations: the same.
    for file in ["pairwise_more.json", "pairwise_more.min.json"] {
        let out = import(&env, "banking", &label_studio(file), &["--json"]).ok();
        let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        assert_eq!(
            (&v["unchanged"], &v["annotated"]),
            (&2.into(), &0.into()),
            "{file}: {v}"
        );
    }
    let tasks = env.dir.join("tasks.json").display().to_string();
    let out = env
        .run(&[
            "export",
            "--project",
            "banking",
            "--kind",
            "label-studio",
            "--include-external",
            "--out",
            &tasks,
        ])
        .ok();
    assert!(out.stderr.contains("exported 2"), "{}", out.stderr);
    let exported: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&tasks).unwrap()).unwrap();
    assert_eq!(
        exported[0]["data"]["answer1"].as_str().map(|s| &s[..6]),
        Some("Freeze")
    );
    assert_eq!(
        exported[0]["predictions"][0]["result"][0]["value"]["selected"],
        "left"
    );
    // Task 2: decided by the gold the lead accepted.
    let second = &exported[1]["predictions"][0];
    assert_eq!(second["model_version"], "plumbline-gold");
    assert_eq!(second["result"][0]["value"]["selected"], "right");
    let out = import(&env, "back", &tasks, &[]).ok();
    assert!(out.stdout.contains("imported 2"), "{}", out.stdout);
}

#[test]
fn label_studio_reimport_and_export_on_sqlite() {
    label_studio_flow(Env::sqlite());
}

#[test]
fn label_studio_reimport_and_export_on_postgres() {
    if let Some(env) = Env::postgres() {
        label_studio_flow(env);
    }
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
    import(&env, "banking", &both, &[]).fails_with(&["ambiguous input", "trl and helpsteer2"]);
    import(&env, "banking", &csv, &["--mapping", "nope.toml"])
        .fails_with(&["cannot read mapping file"]);
    // Standard input is detected too.
    let body = std::fs::read(fixture("hh_rlhf.jsonl")).unwrap();
    let out = env
        .run_with_stdin(&["import", "--project", "banking", "-"], Some(&body))
        .ok();
    assert!(out.stderr.contains("detected hh-rlhf"), "{}", out.stderr);
}

fn split_items() -> String {
    let mut lines = Vec::new();
    for i in 0..200 {
        let (prompt, tags) = if i < 20 {
            // Twenty copies of one prompt, lightly edited: near duplicates.
            (
                format!(
                    "My husband passed away last week and I need to close his account{}",
                    if i % 2 == 0 { "." } else { ", please!" }
                ),
                r#"["edge:bereavement"]"#,
            )
        } else if i < 60 {
            (
                format!("Bereavement question number {i} about estates and executors"),
                r#"["edge:bereavement"]"#,
            )
        } else {
            (
                format!("Routine question {i}: what is my card limit and statement date"),
                "[]",
            )
        };
        lines.push(format!(
            r#"{{"id":"q{i}","context":[{{"role":"user","content":"{prompt}"}}],"candidates":[{{"id":"a","content":"x"}},{{"id":"b","content":"y"}}],"tags":{tags},"requires":["banking:expert"]}}"#
        ));
    }
    lines.join("\n")
}

fn split_flow(env: Env) {
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&[
        "project", "create", "--name", "banking", "--rubric", &rubric,
    ])
    .ok();
    let items = env.file("items.jsonl", split_items());
    import(&env, "banking", &items, &[]).ok();
    let dry = env
        .run(&[
            "split",
            "--project",
            "banking",
            "--eval-fraction",
            "0.2",
            "--dry-run",
            "--json",
        ])
        .ok();
    let d: serde_json::Value = serde_json::from_str(&dry.stdout).unwrap();
    let eval = d["eval"].as_u64().unwrap();
    assert!((36..=40).contains(&eval), "{d}");
    assert_eq!(d["changed"], 200);
    // Strata: 60 bereavement items (30 %) and 140 others (70 %), in all and in eval.
    let strata = d["strata"].as_array().unwrap();
    assert_eq!(strata.len(), 2, "{d}");
    let bereavement = &strata[1];
    assert_eq!(bereavement["stratum"], "banking | edge:bereavement");
    assert_eq!(bereavement["share_all"], 0.3);
    let share = bereavement["share_eval"].as_f64().unwrap();
    assert!((0.25..=0.35).contains(&share), "{d}");
    assert_eq!(d["duplicate_items"], 20, "{d}");
    let out = env
        .run(&[
            "split",
            "--project",
            "banking",
            "--eval-fraction",
            "0.2",
            "--json",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["changed"], 200);
    // Stored: a second run pins every item and changes nothing.
    let again = env
        .run(&[
            "split",
            "--project",
            "banking",
            "--eval-fraction",
            "0.2",
            "--json",
        ])
        .ok();
    let a: serde_json::Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(
        (a["pinned"].as_u64(), a["changed"].as_u64()),
        (Some(200), Some(0))
    );
    // The near duplicates all sit on one side: export and look.
    let out_file = env.dir.join("all.jsonl").display().to_string();
    env.run(&["export", "--project", "banking", "--out", &out_file])
        .ok();
    let text = env
        .run(&["split", "--project", "banking", "--reassign", "--dry-run"])
        .ok();
    assert!(text.stdout.contains("stratum"), "{}", text.stdout);
    assert!(
        text.stdout.contains("banking | edge:bereavement"),
        "{}",
        text.stdout
    );
    env.run(&["split", "--project", "banking", "--eval-fraction", "2"])
        .fails_with(&["eval fraction must lie in [0, 1]"]);
    // Shaped like production from a file of production items' tags: half of
    // production is bereavement (30 % of the pool), so half of eval is.
    let production = env.file(
        "production.jsonl",
        "{\"tags\":[\"edge:bereavement\"]}\nedge:bereavement,urgent\n-\n{\"id\":\"p4\"}\n",
    );
    let shaped = env
        .run(&[
            "split",
            "--project",
            "banking",
            "--eval-fraction",
            "0.2",
            "--reassign",
            "--dry-run",
            "--json",
            "--production-tags",
            &production,
        ])
        .ok();
    let p: serde_json::Value = serde_json::from_str(&shaped.stdout).unwrap();
    let rows = p["production"].as_array().unwrap();
    let bereavement = rows
        .iter()
        .find(|r| r["class"] == "edge:bereavement")
        .unwrap_or_else(|| panic!("{p}"));
    assert_eq!(bereavement["share_production"], 0.5, "{p}");
    let eval_share = bereavement["share_eval"].as_f64().unwrap();
    assert!((eval_share - 0.5).abs() <= 0.03, "{p}");
    let bad = env.file("bad_production.jsonl", "edge:bereavement\n{\"tags\": 3}\n");
    env.run(&[
        "split",
        "--project",
        "banking",
        "--dry-run",
        "--production-tags",
        &bad,
    ])
    .fails_with(&["bad_production.jsonl", "line 2", "`tags`"]);
    assert!(
        text.stdout
            .contains("reproduce: drawn with the project's own secret seed")
    );
    seeded_and_carried(&env, &rubric, &items);
}

/// `--split eval` exports the eval items only, each carrying its split; a seed makes the
/// split a function of the items and the seed (the same in another project); an items
/// export imported elsewhere keeps its split.
fn seeded_and_carried(env: &Env, rubric: &str, items: &str) {
    let eval_file = env.dir.join("eval.jsonl").display().to_string();
    let ex = env
        .run(&[
            "export",
            "--project",
            "banking",
            "--kind",
            "items",
            "--split",
            "eval",
            "--out",
            &eval_file,
        ])
        .ok();
    let text = std::fs::read_to_string(&eval_file).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!rows.is_empty() && rows.len() < 200, "{}", ex.stderr);
    assert!(rows.iter().all(|r| r["split"] == "eval"));
    assert!(ex.stderr.contains("filtered"), "{}", ex.stderr);
    // The whole export into a fresh project keeps every item's side.
    let all_file = env.dir.join("carried.jsonl").display().to_string();
    env.run(&[
        "export",
        "--project",
        "banking",
        "--kind",
        "items",
        "--out",
        &all_file,
    ])
    .ok();
    env.run(&["project", "create", "--name", "carried", "--rubric", rubric])
        .ok();
    import(env, "carried", &all_file, &[]).ok();
    let kept = env
        .run(&[
            "split",
            "--project",
            "carried",
            "--eval-fraction",
            "0.2",
            "--json",
        ])
        .ok();
    let k: serde_json::Value = serde_json::from_str(&kept.stdout).unwrap();
    assert_eq!(
        (k["pinned"].as_u64(), k["changed"].as_u64()),
        (Some(200), Some(0))
    );
    assert_eq!(k["eval"].as_u64(), Some(rows.len() as u64));
    // A seed: the same items in two projects (two secret salts) split the same way.
    let sides = |project: &str| {
        let run = env
            .run(&[
                "split",
                "--project",
                project,
                "--eval-fraction",
                "0.2",
                "--seed",
                "20261207",
                "--reassign",
                "--json",
            ])
            .ok();
        let v: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
        assert_eq!(v["seed"], 20261207u64);
        assert!(v["reproduce"].as_str().unwrap().contains("--seed 20261207"));
        let file = env
            .dir
            .join(format!("{project}-seeded.jsonl"))
            .display()
            .to_string();
        env.run(&[
            "export",
            "--project",
            project,
            "--kind",
            "items",
            "--out",
            &file,
        ])
        .ok();
        std::fs::read_to_string(&file).unwrap()
    };
    env.run(&["project", "create", "--name", "again", "--rubric", rubric])
        .ok();
    import(env, "again", items, &[]).ok();
    let first = sides("banking");
    assert_eq!(first, sides("again"));
    env.run(&["split", "--project", "again", "--seed", "12abc"])
        .fails_with(&["--seed `12abc` is not a number"]);
}

#[test]
fn split_is_stratified_stable_and_stored_on_sqlite() {
    split_flow(Env::sqlite());
}

#[test]
fn split_is_stratified_stable_and_stored_on_postgres() {
    if let Some(env) = Env::postgres() {
        split_flow(env);
    }
}

fn export_flow(env: Env) {
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&[
        "project", "create", "--name", "banking", "--rubric", &rubric,
    ])
    .ok();
    import(&env, "banking", &fixture("hh_rlhf.jsonl"), &[]).ok();
    import(&env, "banking", &fixture("label_studio_pairwise.json"), &[]).ok();
    let jsonl = env.dir.join("pairs.jsonl").display().to_string();
    // Without annotator judgments nothing is decided; prior judgments count when asked.
    let out = env
        .run(&[
            "export",
            "--project",
            "banking",
            "--kind",
            "preference",
            "--out",
            &jsonl,
        ])
        .ok();
    assert!(
        out.stderr.contains("exported 0 preference rows"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("7 without judgments"), "{}", out.stderr);
    let out = env
        .run(&[
            "export",
            "--project",
            "banking",
            "--kind",
            "preference",
            "--include-external",
            "--out",
            &jsonl,
            "--json",
        ])
        .ok();
    let summary: serde_json::Value = serde_json::from_str(&out.stderr).unwrap();
    assert_eq!(summary["exported"], 5, "{summary}");
    assert_eq!(
        summary["no_judgments"], 1,
        "the unannotated Label Studio task"
    );
    // Label Studio task 101 was annotated by two users: two voters (of 0.7 each), whose
    // agreeing votes reach a posterior of 0.845, under the threshold of 0.9.
    assert_eq!(summary["below_threshold"], 1, "{summary}");
    let text = std::fs::read_to_string(&jsonl).unwrap();
    let rows: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 5);
    // Each item's imported choice is its one vote (each source is one voter): exported
    // as itself, at the stated reliability of an external source.
    let hh: Vec<serde_json::Value> = std::fs::read_to_string(fixture("hh_rlhf.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let last_reply = |dialogue: &serde_json::Value| {
        let text = dialogue.as_str().unwrap();
        text.rsplit("\n\nAssistant: ").next().unwrap().to_owned()
    };
    for r in &rows {
        assert_eq!(r["provenance"]["decision"], "single", "{r}");
        assert_eq!(r["provenance"]["method"], "reliability");
        let posterior = r["provenance"]["posterior"].as_f64().unwrap();
        assert!((posterior - 0.7).abs() < 1e-12, "{r}");
        let chosen = r["chosen"][0]["content"].as_str().unwrap();
        if r["provenance"]["external_sources"][0] == "hh-rlhf" {
            assert!(
                hh.iter().any(|line| last_reply(&line["chosen"]) == chosen),
                "{r}"
            );
        }
    }
    for r in &rows {
        assert!(
            r["prompt"].as_array().unwrap().last().unwrap()["role"] == "user",
            "{r}"
        );
        assert_eq!(r["chosen"][0]["role"], "assistant");
        assert_eq!(r["rejected"][0]["role"], "assistant");
        assert!(r["item_id"].is_string());
    }
    let ls = rows.iter().find(|r| r["item_id"] == "ls-102").unwrap();
    assert_eq!(
        ls["chosen"][0]["content"],
        "You can request it in the app; we run a soft credit check first."
    );
    // Parquet, read back with the formats crate's own Parquet reader.
    let pq = env.dir.join("pairs.parquet").display().to_string();
    env.run(&[
        "export",
        "--project",
        "banking",
        "--kind",
        "reward",
        "--include-external",
        "--format",
        "parquet",
        "--out",
        &pq,
    ])
    .ok();
    let (columns, mut parquet_rows) =
        plumbline_formats::parquet::open(std::fs::File::open(&pq).unwrap()).unwrap();
    assert_eq!(
        columns,
        [
            "prompt",
            "chosen",
            "rejected",
            "strength",
            "margin",
            "item_id",
            "split",
            "criteria",
            "tags",
            "provenance"
        ]
    );
    use plumbline_formats::rows::RowSource;
    let mut n = 0;
    while let Some((_, row)) = parquet_rows.next_row().unwrap() {
        let row = row.unwrap();
        let chosen = &row["chosen"].as_array().unwrap()[0];
        assert_eq!(chosen["role"], "assistant");
        n += 1;
    }
    assert_eq!(n, 5);
    assert!(!env.dir.join("pairs.partial").exists());
    // SFT: the prompt continued by the winning reply.
    let sft = env.dir.join("sft.jsonl").display().to_string();
    env.run(&[
        "export",
        "--project",
        "banking",
        "--kind",
        "sft",
        "--include-external",
        "--out",
        &sft,
    ])
    .ok();
    let text = std::fs::read_to_string(&sft).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let messages = first["messages"].as_array().unwrap();
    assert_eq!(messages.last().unwrap()["role"], "assistant");
    assert_eq!(messages[0]["role"], "user");
    assert_eq!(text.lines().count(), 5);
    // SFT as Parquet: a `messages` list column.
    let sft_pq = env.dir.join("sft.parquet").display().to_string();
    env.run(&[
        "export",
        "--project",
        "banking",
        "--kind",
        "sft",
        "--include-external",
        "--format",
        "parquet",
        "--out",
        &sft_pq,
    ])
    .ok();
    let (columns, _) =
        plumbline_formats::parquet::open(std::fs::File::open(&sft_pq).unwrap()).unwrap();
    assert_eq!(columns[0], "messages");
}

#[test]
fn preference_pairs_export_as_jsonl_and_parquet_on_sqlite() {
    export_flow(Env::sqlite());
}

#[test]
fn preference_pairs_export_as_jsonl_and_parquet_on_postgres() {
    if let Some(env) = Env::postgres() {
        export_flow(env);
    }
}

fn jsonl_rows(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn export_kinds_flow(env: Env) {
    let rubric = fixture("helpsteer2_rubric.toml");
    env.run(&["project", "create", "--name", "hs", "--rubric", &rubric])
        .ok();
    import(&env, "hs", &fixture("helpsteer2.jsonl"), &[]).ok();
    import(&env, "hs", &fixture("oasst1.jsonl"), &[]).ok();
    let export = |kind: &str, out: &str, extra: &[&str]| {
        let mut args = vec!["export", "--project", "hs", "--kind", kind, "--out", out];
        args.extend_from_slice(extra);
        env.run(&args)
    };
    // Rating: one row a rated response, HelpSteer's attributes as scores.
    let rating = env.dir.join("rating.jsonl").display().to_string();
    let out = export("rating", &rating, &["--include-external"]).ok();
    assert!(
        out.stderr.contains("exported 6 rating rows"),
        "{}",
        out.stderr
    );
    let rows = jsonl_rows(&rating);
    let debit = rows
        .iter()
        .find(|r| r["response"].as_str().unwrap().starts_with("A debit card"))
        .unwrap();
    // `scores` is open-ended: its JSON text, as in the Parquet file.
    let scores: serde_json::Value =
        serde_json::from_str(debit["scores"].as_str().unwrap()).unwrap();
    assert_eq!(scores["correctness"], 4.0);
    assert_eq!(scores["complexity"], 2.0);
    assert_eq!(debit["provenance"]["decision"], "single");
    assert_eq!(debit["prompt"][0]["role"], "user");
    // The same as Parquet: one double column per criterion, in priority order.
    let rating_pq = env.dir.join("rating.parquet").display().to_string();
    export(
        "rating",
        &rating_pq,
        &["--include-external", "--format", "parquet"],
    )
    .ok();
    let (columns, _) =
        plumbline_formats::parquet::open(std::fs::File::open(&rating_pq).unwrap()).unwrap();
    assert_eq!(
        columns[..9],
        [
            "prompt",
            "response",
            "candidate_id",
            "model",
            "correctness",
            "helpfulness",
            "coherence",
            "complexity",
            "verbosity"
        ]
    );
    // Without external judgments nothing is rated.
    let out = export("rating", &rating, &[]).ok();
    assert!(
        out.stderr.contains("exported 0 rating rows"),
        "{}",
        out.stderr
    );
    // Ranking: oasst1's ranks, one order per tree of replies.
    let ranking = env.dir.join("ranking.jsonl").display().to_string();
    export("ranking", &ranking, &["--include-external"]).ok();
    let rows = jsonl_rows(&ranking);
    assert!(!rows.is_empty());
    for r in &rows {
        let ids: usize = r["order"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g.as_array().unwrap().len())
            .sum();
        assert_eq!(ids, r["candidates"].as_array().unwrap().len(), "{r}");
    }
    // Red team: no red-team judgments in this project.
    let red = env.dir.join("red.jsonl").display().to_string();
    let out = export("red-team", &red, &[]).ok();
    assert!(
        out.stderr.contains("exported 0 red_team rows"),
        "{}",
        out.stderr
    );
    // Full: every judgment; external ones have a source and no annotator.
    let full = env.dir.join("full.jsonl").display().to_string();
    let out = export("full", &full, &["--include-external", "--json"]).ok();
    let summary: serde_json::Value = serde_json::from_str(&out.stderr).unwrap();
    let rows = jsonl_rows(&full);
    assert_eq!(rows.len() as u64, summary["exported"].as_u64().unwrap());
    assert!(rows.iter().all(|r| r["annotator"].is_null()
        && r["external_source"].is_string()
        && r["expertise"].is_null()));
    // Filters, with what they left out in the summary.
    let out = export(
        "full",
        &full,
        &["--include-external", "--min-expertise", "novice"],
    )
    .ok();
    assert!(
        out.stderr.contains("exported 0 full rows"),
        "{}",
        out.stderr
    );
    assert!(
        out.stderr.contains("below the minimum expertise"),
        "{}",
        out.stderr
    );
    let out = export(
        "rating",
        &rating,
        &["--include-external", "--min-agreement", "0.5"],
    )
    .ok();
    assert!(
        out.stderr.contains("below the minimum agreement"),
        "{}",
        out.stderr
    );
    export("full", &full, &["--rubric-version", "7"])
        .fails_with(&["--rubric-version 7", "has rubric versions 1"]);
    export("full", &full, &["--min-agreement", "2"])
        .fails_with(&["--min-agreement must lie in [0, 1]"]);
    export("full", &full, &["--min-expertise", "guru"]).fails_with(&["guru"]);
    let out = export(
        "full",
        &full,
        &[
            "--include-external",
            "--rubric-version",
            "1",
            "--split",
            "eval",
        ],
    )
    .ok();
    assert!(out.stderr.contains("filtered"), "{}", out.stderr);

    // Releases: create, list, verify; tampered, extra and missing files are named.
    let rel = env.dir.join("rel").display().to_string();
    let out = env
        .run(&[
            "release",
            "create",
            "--project",
            "hs",
            "--kind",
            "rating",
            "--format",
            "parquet",
            "--include-external",
            "--out",
            &rel,
        ])
        .ok();
    let id = out
        .stdout
        .trim()
        .strip_prefix("release ")
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 64);
    let mut names: Vec<String> = std::fs::read_dir(&rel)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(
        names,
        [
            "MANIFEST.json",
            "README.md",
            "manifest.sha256",
            "rating.parquet"
        ]
    );
    let sheet = std::fs::read_to_string(format!("{rel}/README.md")).unwrap();
    assert!(
        sheet.contains("| 1 | `correctness` | Correctness |"),
        "{sheet}"
    );
    assert!(sheet.contains("| external (imported) | 0 | 3 |"), "{sheet}");
    let out = env.run(&["release", "verify", &rel]).ok();
    assert!(
        out.stdout
            .contains(&format!("release {id} verified: 4 files")),
        "{}",
        out.stdout
    );
    let list = env.run(&["release", "list", "--project", "hs"]).ok();
    assert!(
        list.stdout.contains(&id) && list.stdout.contains("rating"),
        "{}",
        list.stdout
    );
    let data = format!("{rel}/rating.parquet");
    let original = std::fs::read(&data).unwrap();
    let mut changed = original.clone();
    changed.push(0);
    std::fs::write(&data, &changed).unwrap();
    env.run(&["release", "verify", &rel])
        .fails_with(&["file rating.parquet does not match the manifest"]);
    std::fs::write(&data, &original).unwrap();
    std::fs::write(format!("{rel}/extra.csv"), "x").unwrap();
    env.run(&["release", "verify", &rel])
        .fails_with(&["extra file extra.csv"]);
    std::fs::remove_file(format!("{rel}/extra.csv")).unwrap();
    env.run(&["release", "verify", &rel]).ok();
    std::fs::remove_file(&data).unwrap();
    env.run(&["release", "verify", &rel])
        .fails_with(&["missing file rating.parquet"]);
    // A non-empty directory is refused and nothing is recorded.
    env.run(&[
        "release",
        "create",
        "--project",
        "hs",
        "--kind",
        "full",
        "--out",
        &rel,
    ])
    .fails_with(&["is not empty"]);
    let list = env
        .run(&["release", "list", "--project", "hs", "--json"])
        .ok();
    let listed: serde_json::Value = serde_json::from_str(&list.stdout).unwrap();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Retention reads the release's items: nothing released today is due a day after.
    env.run(&[
        "retention",
        "set",
        "--project",
        "hs",
        "--after-release",
        "1d",
    ])
    .ok();
    let purge = env.run(&["purge", "--project", "hs", "--dry-run"]).ok();
    assert!(
        purge.stdout.contains("would purge the text of 0 items"),
        "{}",
        purge.stdout
    );
    let audit = env.run(&["audit", "export"]).ok();
    assert!(
        audit.stdout.contains(&format!("\"digest\":\"{id}\"")),
        "{}",
        audit.stdout
    );
    assert!(audit.stdout.contains("release.create"), "{}", audit.stdout);
}

#[test]
fn export_kinds_filters_and_releases_on_sqlite() {
    export_kinds_flow(Env::sqlite());
}

#[test]
fn export_kinds_filters_and_releases_on_postgres() {
    if let Some(env) = Env::postgres() {
        export_kinds_flow(env);
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

fn jsonl(path: &str) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A gzip file is read whatever its name; a corrupt one is refused naming the file, and
/// nothing is stored. Plumbline's own preference (JSONL and Parquet) and sft exports import
/// back as TRL rows, with the same items, choices and unknown strengths.
#[test]
fn compressed_files_and_exports_round_trip() {
    let env = with_project();
    let raw = std::fs::read(fixture("hh_rlhf.jsonl")).unwrap();
    let gz = env.file("hh.data", gzip(&raw));
    let out = import(&env, "banking", &gz, &[]).ok();
    assert!(
        out.stderr
            .contains("detected hh-rlhf (gzip-compressed: JSONL record with `chosen`, `rejected`)"),
        "{}",
        out.stderr
    );
    let whole = gzip(&raw.repeat(20));
    let bad = env.file("broken.jsonl.gz", &whole[..whole.len() - 40]);
    import(&env, "banking", &bad, &[])
        .fails_with(&["broken.jsonl.gz", "the gzip data is corrupt or truncated"]);
    assert_eq!(stored_items(&env), 4);

    let export = |project: &str, kind: &str, format: &str, name: &str| {
        let out = env.dir.join(name).display().to_string();
        env.run(&[
            "export",
            "--project",
            project,
            "--kind",
            kind,
            "--format",
            format,
            "--include-external",
            "--out",
            &out,
        ])
        .ok();
        out
    };
    let pairs = export("banking", "preference", "jsonl", "pairs.jsonl");
    let reward = export("banking", "reward", "jsonl", "reward.jsonl");
    let parquet = export("banking", "preference", "parquet", "pairs.parquet");
    let sft = export("banking", "sft", "jsonl", "sft.jsonl");
    let original = jsonl(&pairs);
    assert_eq!(original.len(), 4);
    for row in &original {
        assert_eq!(row["strength"], serde_json::Value::Null, "{row}");
    }
    for row in jsonl(&reward) {
        assert_eq!(row.get("margin"), Some(&serde_json::Value::Null), "{row}");
    }
    // Parquet: `strength` and `margin` are null, not 0.
    let reward_pq = export("banking", "reward", "parquet", "reward.parquet");
    let (_, mut rows) =
        plumbline_formats::parquet::open(std::fs::File::open(&reward_pq).unwrap()).unwrap();
    use plumbline_formats::rows::RowSource;
    let mut n = 0;
    while let Some((_, row)) = rows.next_row().unwrap() {
        let row = row.unwrap();
        assert_eq!(row["margin"], serde_json::Value::Null);
        assert_eq!(row["strength"], serde_json::Value::Null);
        n += 1;
    }
    assert_eq!(n, 4);
    let rubric = env.file("rubric2.toml", RUBRIC);
    for (project, file, format) in [
        ("again-jsonl", &pairs, "trl"),
        ("again-parquet", &parquet, "trl"),
        ("again-sft", &sft, "trl-sft"),
    ] {
        env.run(&["project", "create", "--name", project, "--rubric", &rubric])
            .ok();
        let out = import(&env, project, file, &[]).ok();
        assert!(
            out.stderr.contains(&format!("detected {format} (")),
            "{}",
            out.stderr
        );
        assert!(out.stdout.contains("imported 4,"), "{}", out.stdout);
        if format == "trl" {
            let again = export(project, "preference", "jsonl", &format!("{project}.jsonl"));
            let key = |r: &serde_json::Value| {
                (
                    r["item_id"].clone(),
                    r["chosen"].clone(),
                    r["rejected"].clone(),
                    r["prompt"].clone(),
                    r["strength"].clone(),
                )
            };
            let mut a: Vec<_> = original.iter().map(key).collect();
            let mut b: Vec<_> = jsonl(&again).iter().map(key).collect();
            a.sort_by_key(|k| k.0.to_string());
            b.sort_by_key(|k| k.0.to_string());
            assert_eq!(a, b, "{project}");
        }
    }
}

/// An export of no rows: Parquet is a valid file with its schema (read back by our
/// reader), JSONL an empty file, and each says so on standard error.
#[test]
fn an_empty_export_says_so() {
    let env = with_project();
    for (format, note) in [
        ("jsonl", "note: no rows matched, so "),
        (
            "parquet",
            "is a valid Parquet file with its schema and no rows",
        ),
    ] {
        let out = env
            .dir
            .join(format!("empty.{format}"))
            .display()
            .to_string();
        let run = env
            .run(&[
                "export",
                "--project",
                "banking",
                "--kind",
                "preference",
                "--format",
                format,
                "--out",
                &out,
            ])
            .ok();
        assert!(run.stderr.contains(note), "{}", run.stderr);
        if format == "jsonl" {
            assert_eq!(std::fs::metadata(&out).unwrap().len(), 0);
        } else {
            let (columns, _) =
                plumbline_formats::parquet::open(std::fs::File::open(&out).unwrap()).unwrap();
            assert!(columns.contains(&"tags".to_owned()), "{columns:?}");
        }
    }
}

/// `plumbline eval`: a judge's choices scored against the decided labels of the eval
/// split, with accuracy and its interval, and refusals naming line and field.
fn eval_flow(env: Env) {
    let rubric = env.file("rubric.toml", RUBRIC);
    env.run(&[
        "project", "create", "--name", "banking", "--rubric", &rubric,
    ])
    .ok();
    import(&env, "banking", &fixture("hh_rlhf.jsonl"), &[]).ok();
    import(&env, "banking", &fixture("label_studio_pairwise.json"), &[]).ok();
    env.run(&[
        "split",
        "--project",
        "banking",
        "--eval-fraction",
        "1",
        "--seed",
        "1",
    ])
    .ok();
    let pairs = env.dir.join("labels.jsonl").display().to_string();
    env.run(&[
        "export",
        "--project",
        "banking",
        "--kind",
        "preference",
        "--include-external",
        "--split",
        "eval",
        "--out",
        &pairs,
    ])
    .ok();
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(&pairs)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rows.len() >= 3, "{rows:?}");
    // Right on the first, wrong on the others (by scores on the second).
    let mut lines = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        let (chosen, rejected) = (
            r["provenance"]["chosen_id"].as_str().unwrap(),
            r["provenance"]["rejected_id"].as_str().unwrap(),
        );
        let id = r["item_id"].as_str().unwrap();
        lines.push(match i {
            0 => serde_json::json!({"item_id": id, "chosen": chosen}),
            1 => serde_json::json!({"item_id": id, "scores": {chosen: 0.1, rejected: 2.0}}),
            _ => serde_json::json!({"item_id": id, "chosen": rejected}),
        });
    }
    let text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    let preds = env.file("preds.jsonl", text.join("\n"));
    let out = env
        .run(&[
            "eval",
            "--project",
            "banking",
            "--predictions",
            &preds,
            "--include-external",
            "--json",
        ])
        .ok();
    let v: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(v["scored"].as_u64(), Some(rows.len() as u64), "{v}");
    assert_eq!(v["overall"]["correct"], 1, "{v}");
    assert!(v["overall"]["lower"].as_f64().unwrap() < v["overall"]["accuracy"].as_f64().unwrap());
    let text = env
        .run(&[
            "eval",
            "--project",
            "banking",
            "--predictions",
            &preds,
            "--include-external",
        ])
        .ok();
    assert!(text.stdout.contains("overall"), "{}", text.stdout);
    assert!(text.stdout.contains("first shown"), "{}", text.stdout);
    // The report's model leaderboard: these items name no models.
    let report = env
        .run(&["report", "--project", "banking", "--include-external"])
        .ok();
    assert!(
        report.stdout.contains("models on the eval split")
            && report.stdout.contains("fewer than two models"),
        "{}",
        report.stdout
    );
    // Without the imported votes nothing is decided: every prediction lacks a label.
    let none = env
        .run(&[
            "eval",
            "--project",
            "banking",
            "--predictions",
            &preds,
            "--json",
        ])
        .ok();
    let n: serde_json::Value = serde_json::from_str(&none.stdout).unwrap();
    assert_eq!(n["no_label"].as_u64(), Some(rows.len() as u64), "{n}");
    // Unknown items and candidates, named by line and field.
    let id = rows[0]["item_id"].as_str().unwrap();
    let unknown = env.file(
        "unknown.jsonl",
        format!(
            "{}\n{{\"item_id\":\"nope\",\"chosen\":\"a\"}}",
            text_line(id)
        ),
    );
    env.run(&["eval", "--project", "banking", "--predictions", &unknown])
        .fails_with(&["line 2: field `item_id`: no item `nope` in project banking"]);
    let bad_candidate = env.file(
        "candidate.jsonl",
        format!("{{\"item_id\":\"{id}\",\"chosen\":\"zz\"}}"),
    );
    env.run(&[
        "eval",
        "--project",
        "banking",
        "--predictions",
        &bad_candidate,
    ])
    .fails_with(&["line 1: field `chosen`: item", "has no candidate `zz`"]);
}

fn text_line(id: &str) -> String {
    format!("{{\"item_id\":\"{id}\",\"chosen\":\"tie\"}}")
}

#[test]
fn eval_scores_a_judge_on_sqlite() {
    eval_flow(Env::sqlite());
}

#[test]
fn eval_scores_a_judge_on_postgres() {
    if let Some(env) = Env::postgres() {
        eval_flow(env);
    }
}
