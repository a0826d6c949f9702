//! Property test of the payload parsers at the API boundary: whatever JSON (or not)
//! arrives as a judgment, the answer is 200 for a valid payload or a 4xx naming the
//! problem, never a 5xx, and nothing is stored unless the answer is 200.

use crate::engine::{engine_project, member};
use crate::support::App;
use plumbline_domain::{ProjectRole, ProjectSettings};
use plumbline_store::WorkStore;
use proptest::prelude::*;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn choice() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(json!("a")),
        Just(json!("b")),
        Just(json!("tie")),
        Just(json!("c")),
        Just(json!(1)),
        Just(Value::Null),
        "[a-z]{0,3}".prop_map(Value::from),
    ]
}

/// Payloads near the valid shape: each field present or not, in or out of range.
fn payload() -> impl Strategy<Value = Value> {
    (
        proptest::option::of(choice()),
        proptest::option::of(-2i64..6),
        proptest::option::of((choice(), proptest::option::of(choice()))),
        proptest::option::of(prop_oneof![
            Just(json!(["escalation_missed"])),
            Just(json!(["nope"])),
            Just(json!("x"))
        ]),
        proptest::option::of(any::<bool>()),
        proptest::option::of("[ a-z]{0,8}"),
        proptest::option::of(prop_oneof![Just(json!([["a"], ["b"]])), Just(json!("x"))]),
    )
        .prop_map(
            |(winner, strength, criteria, violations, over, rationale, order)| {
                let mut p = serde_json::Map::new();
                if let Some(w) = winner {
                    p.insert("winner".into(), w);
                }
                if let Some(s) = strength {
                    p.insert("strength".into(), json!(s));
                }
                if let Some((c, t)) = criteria {
                    let mut m = serde_json::Map::new();
                    m.insert("compliance".into(), c);
                    if let Some(t) = t {
                        m.insert("tone".into(), t);
                    }
                    p.insert("criteria".into(), Value::Object(m));
                }
                if let Some(v) = violations {
                    p.insert("violations".into(), json!({"a": v}));
                }
                if let Some(o) = over {
                    p.insert("override".into(), json!(o));
                }
                if let Some(r) = rationale {
                    p.insert("rationale".into(), json!(r));
                }
                if let Some(o) = order {
                    p.insert("order".into(), o);
                }
                Value::Object(p)
            },
        )
}

#[test]
fn any_payload_gets_200_or_a_named_4xx_and_stores_only_on_200() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let (app, p, ann) = rt.block_on(async {
        let app = App::start().await;
        let p = engine_project(
            &app,
            "fuzz",
            ProjectSettings {
                overlap: 1,
                gold_rate: 0.0,
                ..ProjectSettings::default()
            },
        )
        .await;
        let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
        let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
        let (s, _) = lead
            .post_raw(
                "/api/v1/projects/fuzz/items",
                crate::engine::ndjson(200),
                "application/x-ndjson",
            )
            .await;
        assert_eq!(s, StatusCode::OK);
        (app, p, ann)
    });
    let config = ProptestConfig {
        cases: 96,
        ..ProptestConfig::default()
    };
    proptest!(config, |(body in payload(), garbage in proptest::option::weighted(0.15, "[{}\\[\\]\",:a-z0-9 ]{0,20}"))| {
        rt.block_on(async {
            let t = ann.next("fuzz").await;
            let a = t["assignment"].as_i64().unwrap();
            let item = t["item"].as_str().unwrap().to_owned();
            let (status, v) = match &garbage {
                Some(text) => ann.post_raw(
                    &format!("/api/v1/projects/fuzz/tasks/{a}/submit"),
                    format!("{{\"payload\": {text}}}").into_bytes(),
                    "application/json",
                ).await,
                None => ann.submit("fuzz", a, body.clone()).await,
            };
            let stored = app.store.judgments_of(p.id, &item).await.unwrap();
            if status == StatusCode::OK {
                prop_assert_eq!(stored.len(), 1);
            } else {
                prop_assert!(status.is_client_error(), "{status} for {body}: {v}");
                let code = v["error"]["code"].as_str().unwrap_or("");
                let msg = v["error"]["message"].as_str().unwrap_or("");
                prop_assert!(!code.is_empty() && !msg.is_empty(), "unnamed error: {v}");
                prop_assert!(stored.is_empty(), "refused but stored: {body}");
                // Give the lease back so the item pool lasts.
                let _ = ann.post(&format!("/api/v1/projects/fuzz/tasks/{a}/skip"), json!({"reason": "fuzz"})).await;
            }
            Ok(())
        })?;
    });
}
