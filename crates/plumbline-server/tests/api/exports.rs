//! Exports and releases over HTTP: streamed JSONL and Parquet, filters, the audit
//! event of each export, releases written, recorded, listed and verifiable.

use crate::support::*;
use plumbline_domain::{ProjectRole, TaskKind};
use plumbline_store::{
    IdentityStore, ImportMsg, ImportOptions, Next, Store, Submission, WorkStore,
};
use serde_json::{Value, json};

async fn judged(app: &App) -> String {
    let p = app.project("bank").await;
    let items: Vec<plumbline_store::NewItem> = (0..3)
        .map(|i| {
            let item: plumbline_domain::Item = serde_json::from_value(json!({
                "id": format!("c{i}"),
                "context": [{"role": "user", "content": format!("question {i} <b>")}],
                "candidates": [{"id": "a", "content": "A answer"}, {"id": "b", "content": "B answer"}],
                "tags": if i == 0 { json!(["edge:x"]) } else { json!([]) },
            }))
            .unwrap();
            plumbline_formats::encode_item(&item, i + 1, TaskKind::Preference)
        })
        .collect();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(ImportMsg::Items(items)).await.unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    drop(tx);
    app.store
        .import_items(None, p.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    for name in ["ann1", "ann2"] {
        let u = app.user(name, false).await;
        app.member(&p, &u, ProjectRole::Annotator).await;
        while let Next::Task(t) = app.store.next_task(u.id, p.id).await.unwrap() {
            let payload =
                json!({"winner": "a", "strength": 2, "criteria": {"safety": "a", "empathy": "a"}});
            app.store
                .submit(
                    u.id,
                    p.id,
                    t.assignment,
                    Submission {
                        payload: payload.to_string(),
                        time_ms: Some(900),
                    },
                )
                .await
                .unwrap();
        }
    }
    let lead = app.user("lead", false).await;
    app.member(&p, &lead, ProjectRole::Lead).await;
    app.token(&lead, "read,export", None).await.1
}

#[tokio::test]
async fn exports_stream_and_releases_are_recorded() {
    let app = App::start().await;
    let token = judged(&app).await;
    let get = |path: &str| app.http.get(app.url(path)).bearer_auth(&token).send();
    let r = get("/api/v1/projects/bank/export?kind=preference&decision=dawid-skene")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/x-ndjson"
    );
    let text = r.text().await.unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["chosen"][0]["content"], "A answer");
    assert_eq!(rows[0]["provenance"]["decision"], "unanimous");
    assert_eq!(rows[0]["provenance"]["method"], "dawid-skene");
    assert_eq!(rows[0]["prompt"][0]["content"], "question 0 <b>");
    // By reliability (the default), two unverified annotators without gold (0.65 each)
    // make a posterior of 0.78: below the project's 0.9, so no pair; majority counts
    // their agreement as a share of 1.
    let lines = |q: &'static str| async move {
        let r = get(q).await.unwrap();
        assert_eq!(r.status(), 200, "{q}");
        let rows: Vec<Value> = r
            .text()
            .await
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        rows
    };
    assert!(
        lines("/api/v1/projects/bank/export?kind=preference")
            .await
            .is_empty()
    );
    // An export of no rows says so in a header; one with rows does not.
    let r = get("/api/v1/projects/bank/export?kind=preference")
        .await
        .unwrap();
    assert_eq!(
        r.headers()["x-plumbline-export-empty"].to_str().unwrap(),
        "no rows matched: the body is empty (JSONL of no lines)"
    );
    assert_eq!(r.bytes().await.unwrap().len(), 0);
    // Label Studio tasks: one JSON array, the two annotators' choice as the prediction.
    let r = get("/api/v1/projects/bank/export?kind=label-studio")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json"
    );
    assert!(
        r.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .ends_with("-label-studio.json\"")
    );
    let tasks: Vec<Value> = r.json().await.unwrap();
    assert_eq!(tasks.len(), 3);
    assert_eq!(
        tasks[0]["predictions"][0]["model_version"],
        "plumbline-unanimous"
    );
    assert_eq!(
        tasks[0]["predictions"][0]["result"][0]["value"]["selected"],
        "left"
    );
    let r = get("/api/v1/projects/bank/export?kind=full").await.unwrap();
    assert!(r.headers().get("x-plumbline-export-empty").is_none());
    assert!(!r.bytes().await.unwrap().is_empty());
    let rows =
        lines("/api/v1/projects/bank/export?kind=preference&decision=reliability&threshold=0.75")
            .await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["provenance"]["decision"], "reliability");
    let posterior = rows[0]["provenance"]["posterior"].as_f64().unwrap();
    assert!((posterior - 0.65 * 0.65 / (0.65 * 0.65 + 0.35 * 0.35)).abs() < 1e-9);
    let weights = rows[0]["provenance"]["vote_weights"].as_array().unwrap();
    assert_eq!(weights.len(), 2);
    assert!(
        weights[0]["annotator"]
            .as_str()
            .unwrap()
            .starts_with("ann-")
    );
    let rows = lines("/api/v1/projects/bank/export?kind=sft&decision=majority").await;
    assert_eq!(rows.len(), 3);
    assert_eq!(rows[0]["provenance"]["decision"], "majority");
    // Filters in the query string.
    let text = get("/api/v1/projects/bank/export?kind=full&tags=edge:x&min_agreement=1")
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let rows: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(rows.len(), 2, "two judgments of the tagged item");
    assert!(
        rows.iter()
            .all(|r| r["time_ms"] == 900 && r["item_id"] == "c0")
    );
    assert!(rows[0]["annotator"].as_str().unwrap().starts_with("ann-"));
    // Parquet: written to a temporary file, then streamed.
    let r = get("/api/v1/projects/bank/export?kind=reward&format=parquet")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    // The temporary file was the server's own, not in the shared /tmp, and is gone.
    let own = app.dir.join("releases/.exports");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&own).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
    }
    let mut left = std::fs::read_dir(&own).unwrap();
    for _ in 0..100 {
        if left.next().is_none() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        left = std::fs::read_dir(&own).unwrap();
    }
    assert!(
        std::fs::read_dir(&own).unwrap().next().is_none(),
        "removed after streaming"
    );
    // Bad requests name the problem.
    let r = get("/api/v1/projects/bank/export?kind=votes")
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("unknown export kind `votes`")
    );
    let r = get("/api/v1/projects/bank/export?kind=full&min_expertise=guru")
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = get("/api/v1/projects/bank/export").await.unwrap();
    assert_eq!(r.status(), 400);
    // Each export is audited.
    let events = app.store.audit_events(0, 10_000).await.unwrap();
    let exports = events
        .iter()
        .filter(|e| e.action == "export.download")
        .count();
    assert_eq!(exports, 9);

    // A release: written under the server's directory, recorded, listed, verifiable.
    let r = app
        .http
        .post(app.url("/api/v1/projects/bank/releases"))
        .bearer_auth(&token)
        .json(&json!({"kind": "preference", "format": "parquet", "decision": "majority"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let record: Value = r.json().await.unwrap();
    let id = record["manifest_sha256"].as_str().unwrap().to_owned();
    let dir = std::path::PathBuf::from(record["location"].as_str().unwrap());
    assert!(dir.starts_with(app.dir.join("releases")));
    let verified = plumbline_formats::release::verify(&dir).unwrap();
    assert_eq!(verified.id, id);
    // The manifest and the datasheet name the decision method.
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(dir.join("MANIFEST.json")).unwrap()).unwrap();
    assert_eq!(manifest["filters"]["decision"], "majority");
    assert_eq!(manifest["counts"]["method"], "majority");
    assert_eq!(manifest["counts"]["exported"], 3);
    let sheet = std::fs::read_to_string(dir.join("README.md")).unwrap();
    assert!(sheet.contains("Method `majority`"), "{sheet}");
    let listed: Value = get("/api/v1/projects/bank/releases")
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed[0]["manifest_sha256"], id.as_str());
    let events = app.store.audit_events(0, 10_000).await.unwrap();
    let ev = events
        .iter()
        .find(|e| e.action == "release.create")
        .unwrap();
    assert_eq!(ev.digest.as_deref(), Some(id.as_str()));
    let lead = app.store.user_by_name("lead").await.unwrap();
    assert_eq!(ev.actor, Some(lead.id.0));
    let r = app
        .http
        .post(app.url("/api/v1/projects/bank/releases"))
        .bearer_auth(&token)
        .json(&json!({"kind": "preference", "bogus": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
}

/// The export options are checked by the driver `plumbline export` uses: a rubric version
/// the project lacks and a filter the kind cannot apply are refused, exports and releases
/// alike, in the command line's words, and nothing is audited as exported.
#[tokio::test]
async fn export_options_are_refused_as_on_the_command_line() {
    let app = App::start().await;
    let token = judged(&app).await;
    let get = |path: &str| app.http.get(app.url(path)).bearer_auth(&token).send();
    let release = |body: Value| {
        app.http
            .post(app.url("/api/v1/projects/bank/releases"))
            .bearer_auth(&token)
            .json(&body)
            .send()
    };
    let message = |r: reqwest::Response| async move {
        assert_eq!(r.status(), 422);
        let v: Value = r.json().await.unwrap();
        v["error"]["message"].as_str().unwrap().to_owned()
    };
    let cases = [
        (
            "kind=full&rubric_version=7",
            json!({"kind": "full", "rubric_version": 7}),
            "--rubric-version 7: project bank has rubric versions 1",
        ),
        (
            "kind=ranking&threshold=0.5",
            json!({"kind": "ranking", "threshold": 0.5}),
            "--threshold does not apply to ranking exports; it applies to preference, reward and sft exports",
        ),
        (
            "kind=preference&decision=coin",
            json!({"kind": "preference", "decision": "coin"}),
            "--decision: unknown decision method `coin` (expected reliability, dawid-skene or majority)",
        ),
        (
            "kind=rating&decision=majority",
            json!({"kind": "rating", "decision": "majority"}),
            "--decision does not apply to rating exports; it applies to preference, reward and sft exports",
        ),
    ];
    for (query, body, expected) in cases {
        let r = get(&format!("/api/v1/projects/bank/export?{query}"))
            .await
            .unwrap();
        assert_eq!(message(r).await, expected, "{query}");
        let r = release(body).await.unwrap();
        assert_eq!(message(r).await, expected, "{query}");
    }
    let events = app.store.audit_events(0, 10_000).await.unwrap();
    assert!(
        !events
            .iter()
            .any(|e| e.action == "export.download" || e.action == "release.create")
    );
    // Where they apply, the same options pass.
    let r = get("/api/v1/projects/bank/export?kind=preference&threshold=0.5&rubric_version=1")
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap().lines().count(), 3);
}

/// The split over HTTP (leads), with a seed or the project's own; then `kind=items`
/// exports the items with their split, and `split` and `tags` choose them as for every
/// kind; a filter items cannot apply, and a seed that is not a number, are refused.
#[tokio::test]
async fn split_and_items_exports_honour_every_filter() {
    let app = App::start().await;
    let token = judged(&app).await;
    let p = app.store.project_by_name("bank").await.unwrap();
    let boss = app.user("boss", false).await;
    app.member(&p, &boss, ProjectRole::Lead).await;
    let admin = app.token(&boss, "read,admin", None).await.1;
    let split = |body: Value| {
        app.http
            .post(app.url("/api/v1/projects/bank/split"))
            .bearer_auth(&admin)
            .json(&body)
            .send()
    };
    let r = split(json!({"seed": "x1"})).await.unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("seed `x1` is not a number"),
        "{v}"
    );
    let r = split(json!({"eval_fraction": 0.34, "seed": 7}))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(
        (report["eval"].as_u64(), report["seed"].as_u64()),
        (Some(1), Some(7))
    );
    assert!(report["reproduce"].as_str().unwrap().contains("--seed 7"));
    assert!(report.get("salt").is_none() && !report.to_string().contains(&p.split_salt));
    // The same seed again changes nothing; without one, the report says how to repeat it.
    let again: Value = split(json!({"eval_fraction": 0.34, "seed": "7", "reassign": true}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again["changed"], 0, "{again}");
    let own: Value = split(json!({"dry_run": true}))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(own["seed"], Value::Null);
    assert!(own["reproduce"].as_str().unwrap().contains("secret seed"));
    // Production shares from production items' tags.
    let shaped: Value =
        split(json!({"dry_run": true, "production_tags": [["edge:x"], ["other-tag"]]}))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let rows = shaped["production"].as_array().unwrap();
    assert_eq!(rows.len(), 2, "{shaped}");
    assert_eq!(
        (&rows[0]["class"], &rows[0]["share_production"]),
        (&json!("edge:x"), &json!(0.5))
    );
    let r = split(json!({"production_tags": [["edge:x"]], "production_shares": "edge:x=1"}))
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = split(json!({"production_tags": []})).await.unwrap();
    assert_eq!(r.status(), 422);

    let get = |path: String| app.http.get(app.url(&path)).bearer_auth(&token).send();
    let items = |query: &'static str| async move {
        let r = get(format!("/api/v1/projects/bank/export?kind=items{query}"))
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "{query}");
        let text = r.text().await.unwrap();
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .collect::<Vec<_>>()
    };
    let all = items("").await;
    assert_eq!(all.len(), 3);
    assert!(
        all.iter()
            .all(|r| r["split"] == "train" || r["split"] == "eval")
    );
    let eval = items("&split=eval").await;
    assert_eq!(eval.len(), 1);
    assert_eq!(eval[0]["split"], "eval");
    let tagged = items("&tags=edge:x").await;
    assert_eq!(tagged.len(), 1);
    assert_eq!(tagged[0]["id"], "c0");
    // Pairs of the eval split only.
    let r = get("/api/v1/projects/bank/export?kind=preference&split=eval&threshold=0.5".into())
        .await
        .unwrap();
    let text = r.text().await.unwrap();
    assert_eq!(text.lines().count(), 1);
    assert!(text.contains(eval[0]["id"].as_str().unwrap()));
    let r = get("/api/v1/projects/bank/export?kind=items&min_agreement=0.5".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("--min-agreement does not apply to items exports"),
        "{v}"
    );
}
