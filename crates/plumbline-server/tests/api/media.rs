//! Call audio over HTTP: uploaded (and redacted), named by an imported item, served with
//! byte ranges to whoever may see the item and to nobody else, every read audited.
//! The speech comes from espeak-ng; without it the test skips loudly by hand and fails
//! under CI=true.

use crate::engine::{As, engine_project, member};
use crate::support::App;
use plumbline_domain::{ProjectRole, ProjectSettings};
use plumbline_store::IdentityStore;
use reqwest::StatusCode;
use serde_json::{Value, json};

fn speech() -> Option<Vec<u8>> {
    crate::support::speech(
        "media",
        "Thank you for calling, my card number is four five five six.",
    )
}

async fn fetch(who: &As, path: &str, range: Option<&str>) -> reqwest::Response {
    let mut req = who
        .http
        .get(format!("{}{path}", who.base))
        .bearer_auth(&who.token);
    if let Some(r) = range {
        req = req.header("range", r);
    }
    req.send().await.unwrap()
}

async fn upload(who: &As, query: &str, bytes: Vec<u8>) -> (StatusCode, Value) {
    let r = who
        .http
        .post(format!("{}/api/v1/projects/calls/media{query}", who.base))
        .bearer_auth(&who.token)
        .header("content-type", "application/octet-stream")
        .body(bytes)
        .send()
        .await
        .unwrap();
    (r.status(), r.json().await.unwrap())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audio_is_served_in_ranges_to_those_who_may_see_the_item() {
    let Some(wav) = speech() else { return };
    let app = App::start().await;
    let settings = ProjectSettings {
        overlap: 1,
        gold_rate: 0.0,
        ..ProjectSettings::default()
    };
    let p = engine_project(&app, "calls", settings).await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let ann = member(&app, &p, "ann", ProjectRole::Annotator).await;
    let viewer = member(&app, &p, "vic", ProjectRole::Viewer).await;
    let other = engine_project(&app, "other", ProjectSettings::default()).await;
    let outsider = member(&app, &other, "otto", ProjectRole::Lead).await;

    // Foreign bytes are refused with the reason; speech is stored, and redacted
    // audio is another file.
    let (s, v) = upload(&lead, "", b"GIF89a not audio".to_vec()).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unsupported audio format"),
        "{v}"
    );
    let (s, plain) = upload(&lead, "", wav.clone()).await;
    assert_eq!(s, StatusCode::OK, "{plain}");
    assert_eq!(plain["content_type"], "audio/wav");
    assert_eq!(plain["bytes"], wav.len());
    let (s, redacted) = upload(&lead, "?redact=1-2", wav.clone()).await;
    assert_eq!(s, StatusCode::OK, "{redacted}");
    assert_ne!(redacted["sha256"], plain["sha256"]);
    let sha = plain["sha256"].as_str().unwrap();

    // An item names the uploaded audio by hash; one naming unknown audio stores nothing.
    let line = |id: &str, sha: &str| {
        format!(
            r#"{{"id":"{id}","context":[{{"role":"user","speaker":"customer","content":"my card is","start":0.2,"end":2.0}}],"candidates":[{{"id":"a","content":"x"}},{{"id":"b","content":"y"}}],"media":{{"sha256":"{sha}"}}}}"#
        )
    };
    let (s, v) = lead
        .post_raw(
            "/api/v1/projects/calls/items",
            line("c1", &"ab".repeat(32)).into_bytes(),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("not stored"), "{v}");
    let (s, v) = lead
        .post_raw(
            "/api/v1/projects/calls/items",
            line("c1", sha).into_bytes(),
            "application/x-ndjson",
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");

    // The lead gets the file whole, and in ranges.
    let path = "/api/v1/projects/calls/items/c1/media";
    let r = fetch(&lead, path, None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let h = r.headers().clone();
    assert_eq!(h["content-type"], "audio/wav");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "private, no-store");
    assert_eq!(h["accept-ranges"], "bytes");
    assert_eq!(r.bytes().await.unwrap().as_ref(), &wav[..]);
    let r = fetch(&lead, path, Some("bytes=100-199")).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes 100-199/{}", wav.len())
    );
    assert_eq!(r.bytes().await.unwrap().as_ref(), &wav[100..200]);
    let r = fetch(&lead, path, Some("bytes=-10")).await;
    assert_eq!(r.bytes().await.unwrap().as_ref(), &wav[wav.len() - 10..]);
    let r = fetch(&lead, path, Some(&format!("bytes={}-", wav.len() + 5))).await;
    assert_eq!(r.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        r.headers()["content-range"],
        format!("bytes */{}", wav.len())
    );
    let r = fetch(&lead, &format!("{path}/peaks"), None).await;
    assert_eq!(r.status(), StatusCode::OK);
    let peaks: Value = r.json().await.unwrap();
    assert_eq!(peaks["sample_rate"], 22050);
    assert!(peaks["peaks"].as_array().unwrap().len() > 100, "{peaks}");

    // Non-members, viewers, and annotators without a lease on the item: not found.
    for (who, name) in [
        (&outsider, "a lead of another project"),
        (&viewer, "a viewer"),
        (&ann, "an annotator without the lease"),
    ] {
        let r = fetch(who, path, None).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{name}");
        let r = fetch(who, &format!("{path}/peaks"), None).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "{name}");
    }
    // The annotator holding the item's lease hears it.
    let (s, next) = ann
        .post("/api/v1/projects/calls/tasks/next", json!({}))
        .await;
    assert_eq!(s, StatusCode::OK, "{next}");
    assert_eq!(next["task"]["item"], "c1", "{next}");
    let r = fetch(&ann, path, Some("bytes=0-43")).await;
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(&r.bytes().await.unwrap()[..4], b"RIFF");

    // Every read is audited as a read of the item, by who read it.
    let reads: Vec<_> = app
        .store
        .audit_events(0, 10_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action == "item.read")
        .collect();
    assert_eq!(
        reads.len(),
        6,
        "five reads by the lead, one by the annotator"
    );
    assert!(reads.iter().all(|e| e.object_id.as_deref() == Some("c1")));
}
