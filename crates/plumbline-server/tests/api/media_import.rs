//! An import with its files in one request: a `multipart/form-data` body whose part
//! `items` is the native JSONL and whose other parts are the files its items name by
//! relative path (a WhisperX transcript and its audio here); all or nothing, a bad part
//! answered 422 with the part and the reason. The speech comes from espeak-ng; without
//! it the test skips loudly by hand and fails under CI=true.

use crate::engine::{As, engine_project, member};
use crate::support::App;
use plumbline_domain::{ProjectRole, ProjectSettings};
use reqwest::StatusCode;
use serde_json::Value;

fn speech() -> Option<Vec<u8>> {
    crate::support::speech(
        "media-import",
        "Hello, my card number is four five five six, thank you.",
    )
}

const BOUNDARY: &str = "plumbline-test-boundary-7d1f";

/// A multipart body of named parts, as `curl -F name=@file` sends it.
fn form(parts: &[(&str, &[u8])]) -> Vec<u8> {
    let mut body = Vec::new();
    for (name, bytes) in parts {
        body.extend_from_slice(
            format!(
                "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{name}\"; \
                 filename=\"{name}\"\r\nContent-Type: application/octet-stream\r\n\r\n"
            )
            .as_bytes(),
        );
        body.extend_from_slice(bytes);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    body
}

async fn send(who: &As, parts: &[(&str, &[u8])]) -> (StatusCode, Value) {
    who.post_raw(
        "/api/v1/projects/calls/items",
        form(parts),
        &format!("multipart/form-data; boundary={BOUNDARY}"),
    )
    .await
}

async fn stored(who: &As) -> usize {
    let r = who
        .http
        .get(format!("{}/api/v1/projects/calls/items", who.base))
        .bearer_auth(&who.token)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    v["items"].as_array().unwrap().len()
}

const WHISPERX: &str =
    include_str!("../../../plumbline-formats/tests/fixtures/whisper/whisperx.json");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn items_come_with_their_transcripts_and_audio_in_one_request() {
    let Some(wav) = speech() else { return };
    let app = App::start().await;
    let p = engine_project(&app, "calls", ProjectSettings::default()).await;
    let lead = member(&app, &p, "lena", ProjectRole::Lead).await;
    let items = br#"{"id":"c1","transcript":"calls/c1.json","speakers":{"SPEAKER_00":{"label":"agent","role":"assistant"}},"candidates":[{"id":"a","content":"x"},{"id":"b","content":"y"}]}"#;

    // Refusals store nothing: a part that is not audio names the part and the reason;
    // a part whose name leaves its directory; no `items` part.
    let (s, v) = send(
        &lead,
        &[
            ("items", items),
            ("calls/c1.json", WHISPERX.as_bytes()),
            ("calls/c1.wav", b"GIF89a not audio"),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["errors"][0]["field"], "media.path", "{v}");
    let reason = v["errors"][0]["reason"].as_str().unwrap();
    assert!(
        reason.starts_with("`calls/c1.wav`: ") && reason.contains("unsupported audio format"),
        "{reason}"
    );
    let (s, v) = send(&lead, &[("items", items), ("../c1.wav", &wav)]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert!(v.to_string().contains("part `../c1.wav`"), "{v}");
    let (s, v) = send(&lead, &[("calls/c1.wav", &wav)]).await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(v.to_string().contains("no part named `items`"), "{v}");
    assert_eq!(stored(&lead).await, 0);

    // The transcript becomes the context; the audio beside it is stored and served.
    let (s, v) = send(
        &lead,
        &[
            ("items", items),
            ("calls/c1.json", WHISPERX.as_bytes()),
            ("calls/c1.wav", &wav),
        ],
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["imported"], 1, "{v}");
    let r = lead
        .http
        .get(format!("{}/api/v1/projects/calls/items/c1", lead.base))
        .bearer_auth(&lead.token)
        .send()
        .await
        .unwrap();
    let reply: Value = r.json().await.unwrap();
    let item: Value = serde_json::from_str(reply["item"]["body"].as_str().unwrap()).unwrap();
    assert_eq!(item["media"]["content_type"], "audio/wav", "{item}");
    let context = item["context"].as_array().unwrap();
    assert_eq!(context.len(), 3, "{item}");
    assert_eq!(context[0]["speaker"], "agent");
    assert_eq!(context[0]["role"], "assistant");
    assert_eq!(context[1]["speaker"], "SPEAKER_01");
    assert_eq!(context[1]["asr_confidence"], 0.675);
    let r = lead
        .http
        .get(format!(
            "{}/api/v1/projects/calls/items/c1/media",
            lead.base
        ))
        .bearer_auth(&lead.token)
        .header("range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(r.bytes().await.unwrap().as_ref(), &wav[..100]);
}
