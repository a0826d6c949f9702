//! Import by upload in any format the command line imports: named or detected, Parquet
//! included (spilled to a private temporary file), every bad record reported, nothing
//! stored on error.

use crate::support::*;
use plumbline_domain::ProjectRole;
use reqwest::StatusCode;
use serde_json::{Value, json};

const FIXTURES: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../plumbline-formats/tests/fixtures"
);

async fn upload(app: &App, token: &str, query: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let r = app
        .http
        .post(app.url(&format!("/api/v1/projects/triage/items{query}")))
        .bearer_auth(token)
        .body(body)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

fn hh(n: usize) -> String {
    json!({"chosen": format!("\n\nHuman: question {n}\n\nAssistant: good {n}"),
           "rejected": format!("\n\nHuman: question {n}\n\nAssistant: bad {n}")})
    .to_string()
}

#[tokio::test]
async fn uploads_take_every_import_format() {
    let app = App::start().await;
    let p = app.project("triage").await;
    let lead = app.user("lead", false).await;
    app.member(&p, &lead, ProjectRole::Lead).await;
    let token = app.token(&lead, "read,import", None).await.1;

    // Every bad record, by line; nothing stored.
    let bad = format!(
        "{}\n{{\"chosen\": 1}}\n{}\n{{\"chosen\": \"x\"}}\n",
        hh(1),
        hh(2)
    );
    let (status, body) = upload(
        &app,
        &token,
        "?format=auto&report_errors=100",
        bad.into_bytes(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["committed"], false, "{body}");
    let lines: Vec<u64> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4], "{body}");
    assert_eq!(body["format"], "hh-rlhf");

    // Detected, and named.
    let good = format!("{}\n{}\n", hh(1), hh(2));
    let (status, body) = upload(&app, &token, "?format=auto", good.clone().into_bytes()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["imported"].as_u64(), body["format"].as_str()),
        (Some(2), Some("hh-rlhf"))
    );
    let (status, body) = upload(&app, &token, "?format=hh-rlhf", good.into_bytes()).await;
    assert_eq!(
        (status, body["unchanged"].as_u64()),
        (StatusCode::OK, Some(2)),
        "{body}"
    );

    // Parquet, detected from its columns.
    let parquet = std::fs::read(format!("{FIXTURES}/hh_rlhf.parquet")).unwrap();
    let (status, body) = upload(&app, &token, "?format=auto", parquet).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(body["imported"].as_u64().unwrap() > 0, "{body}");
    let truncated = std::fs::read(format!("{FIXTURES}/hh_rlhf_truncated.parquet")).unwrap();
    let (status, body) = upload(&app, &token, "?format=parquet", truncated).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body["errors"][0]["reason"].is_string(), "{body}");

    // An unknown format or a bad mapping is refused before reading.
    let (status, body) = upload(&app, &token, "?format=excel", b"x".to_vec()).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("label-studio"),
        "{body}"
    );
    let (status, _) = upload(
        &app,
        &token,
        "?format=csv&mapping=prompt%20%3D",
        b"a,b\n".to_vec(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // CSV with its mapping.
    let csv = "question,a,b\nWhy?,Because.,No idea.\n";
    let mapping = "prompt%20%3D%20%22question%22%0Acandidates%20%3D%20%5B%22a%22%2C%20%22b%22%5D";
    let (status, body) = upload(
        &app,
        &token,
        &format!("?format=csv&mapping={mapping}"),
        csv.as_bytes().to_vec(),
    )
    .await;
    assert_eq!(
        (status, body["imported"].as_u64()),
        (StatusCode::OK, Some(1)),
        "{body}"
    );
}
