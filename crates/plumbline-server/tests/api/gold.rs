//! Gold candidates over HTTP: what an import proposed waits for a lead, who lists,
//! accepts (with a completed payload) or rejects it.

use crate::support::*;
use plumbline_domain::{ProjectRole, TaskKind};
use plumbline_store::{ExternalJudgment, ImportMsg, ImportOptions, Store};
use serde_json::{Value, json};

#[tokio::test]
async fn a_lead_accepts_or_rejects_proposed_gold() {
    let app = App::start().await;
    let p = app.project("bank").await;
    let items: Vec<plumbline_store::NewItem> = (0..2)
        .map(|i| {
            let item: plumbline_domain::Item = serde_json::from_value(json!({
                "id": format!("c{i}"),
                "context": [{"role": "user", "content": format!("question {i}")}],
                "candidates": [{"id": "a", "content": "A answer"}, {"id": "b", "content": "B answer"}],
            }))
            .unwrap();
            let mut new = plumbline_formats::encode_item(&item, i + 1, TaskKind::Preference);
            new.external.push(ExternalJudgment {
                source: "label-studio/ann-1".into(),
                task: TaskKind::Preference,
                payload: json!({"winner": "a", "strength": null, "criteria": {}}).to_string(),
                rationale: Some("Label Studio annotation 1; marked ground truth in Label Studio".into()),
                time_ms: Some(8_000),
                gold_candidate: true,
            });
            new
        })
        .collect();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(ImportMsg::Items(items)).await.unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    drop(tx);
    let out = app
        .store
        .import_items(None, p.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    assert_eq!(out.gold_candidates, 2);
    let lead = app.user("lead", false).await;
    app.member(&p, &lead, ProjectRole::Lead).await;
    let token = app.token(&lead, "read,admin", None).await.1;
    let url = |path: &str| app.url(&format!("/api/v1/projects/bank/gold{path}"));
    let listed: Vec<Value> = app
        .http
        .get(url("/candidates?state=pending"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["item"], "c0");
    assert_eq!(listed[0]["payload"]["winner"], "a");
    let (first, second) = (
        listed[0]["id"].as_i64().unwrap(),
        listed[1]["id"].as_i64().unwrap(),
    );
    // As proposed, the payload lacks the rubric's criteria: refused, naming the problem.
    let r = app
        .http
        .post(url(&format!("/candidates/{first}/accept")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    // The lead's completed payload becomes gold.
    let r = app
        .http
        .post(url(&format!("/candidates/{first}/accept")))
        .bearer_auth(&token)
        .json(&json!({"payload": {"winner": "a", "strength": 2, "criteria": {"safety": "a", "empathy": "a"}}}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let gold: Value = r.json().await.unwrap();
    assert_eq!(
        (&gold["item"], &gold["origin"]),
        (&json!("c0"), &json!("import"))
    );
    let r = app
        .http
        .post(url(&format!("/candidates/{second}/reject")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let rejected: Value = r.json().await.unwrap();
    assert_eq!(rejected["state"], "rejected");
    // Decided once; an unknown state is named.
    let r = app
        .http
        .post(url(&format!("/candidates/{second}/accept")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let r = app
        .http
        .get(url("/candidates?state=maybe"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error());
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("unknown gold candidate state `maybe`")
    );
}
