//! The call-audio player in a real browser, on real speech from espeak-ng: an annotator
//! plays a call on the judging page, seeks by clicking turns, the waveform and the keys,
//! changes the speed, and submits; the next item (a 10-minute call) replaces the player
//! and stops the old audio, keeps its turn in view inside the transcript's box, and
//! stays within the page budget. A reviewer meets the same player in the adjudication
//! queue. axe-core checks every page. Without espeak-ng or Chromium the test skips
//! loudly, and fails when `CI=true`.

use super::support;
use super::webdriver::Browser;
use super::{CTRL_ENTER, assert_accessible, assert_axe_clean, judge_by_store, login, user};
use axum::body::Bytes;
use plumbline_domain::{ProjectRole, TaskKind};
use plumbline_store::{IdentityStore, MediaStore, NewMedia, Project, SqliteStore};
use serde_json::{Value, json};

const ALT: char = '\u{E00A}';
const LEFT: char = '\u{E012}';
const RIGHT: char = '\u{E014}';
const DOWN: char = '\u{E015}';

/// A sentence or two spoken by espeak-ng, as WAV; `None` (after saying so) without it.
fn speech(text: &str) -> Option<Vec<u8>> {
    let path = std::env::temp_dir().join(format!("plumbline-ui-player-{}.wav", std::process::id()));
    match std::process::Command::new("espeak-ng")
        .args(["-w", path.to_str().unwrap(), text])
        .output()
    {
        Ok(out) if out.status.success() => {
            let bytes = std::fs::read(&path).unwrap();
            std::fs::remove_file(&path).unwrap();
            Some(bytes)
        }
        other => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "espeak-ng is needed under CI: {other:?}"
            );
            eprintln!(
                "\n!!!!!!!! SKIPPING the player's browser test: espeak-ng is missing ({other:?}) !!!!!!!!\n"
            );
            None
        }
    }
}

/// Sample rate, channels and PCM data of a 16-bit WAV.
fn pcm_of(wav: &[u8]) -> (u32, u16, &[u8]) {
    let mut fmt = None;
    let mut at = 12;
    while at + 8 <= wav.len() {
        let len = u32::from_le_bytes(wav[at + 4..at + 8].try_into().unwrap()) as usize;
        let body = &wav[at + 8..(at + 8 + len).min(wav.len())];
        match &wav[at..at + 4] {
            b"fmt " => {
                let channels = u16::from_le_bytes([body[2], body[3]]);
                fmt = Some((u32::from_le_bytes(body[4..8].try_into().unwrap()), channels));
            }
            b"data" => {
                let (rate, channels) = fmt.expect("fmt before data");
                return (rate, channels, body);
            }
            _ => {}
        }
        at += 8 + len + (len & 1);
    }
    panic!("espeak-ng's WAV has no data chunk")
}

/// A 16-bit PCM WAV of `data`.
fn wav(rate: u32, channels: u16, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(44 + data.len());
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&channels.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&(rate * u32::from(channels) * 2).to_le_bytes());
    out.extend_from_slice(&(channels * 2).to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out.extend_from_slice(data);
    out
}

/// The speech repeated, with half a second of silence between, to `seconds` long.
fn long_call(speech: &[u8], seconds: f64) -> Vec<u8> {
    let (rate, channels, data) = pcm_of(speech);
    let frame = usize::from(channels) * 2;
    let want = (seconds * f64::from(rate)) as usize * frame;
    let gap = vec![0u8; rate as usize / 2 * frame];
    let mut out = Vec::with_capacity(want);
    while out.len() < want {
        out.extend_from_slice(data);
        out.extend_from_slice(&gap);
    }
    out.truncate(want);
    wav(rate, channels, &out)
}

/// Stores `bytes` (silencing `redact`; without its peaks unless `peaks`, as Opus audio
/// is stored) in `project` and answers the item's media reference, as an import writes it.
async fn store_audio(
    store: &SqliteStore,
    project: &Project,
    bytes: Vec<u8>,
    redact: &[(f64, f64)],
    peaks: bool,
) -> Value {
    let ranges = redact.to_vec();
    let prepared = tokio::task::spawn_blocking(move || {
        plumbline_media::prepare(Bytes::from(bytes), &ranges, u64::MAX)
    })
    .await
    .unwrap()
    .unwrap();
    let info = store
        .store_media(
            None,
            project.id,
            NewMedia {
                sha256: prepared.sha256,
                content_type: prepared.info.content_type().to_owned(),
                bytes: prepared.bytes,
                duration: prepared.info.duration,
                sample_rate: prepared.info.sample_rate,
                peaks: prepared.peaks.filter(|_| peaks).map(|p| p.to_json()),
            },
        )
        .await
        .unwrap();
    json!({"sha256": info.sha256, "content_type": info.content_type, "duration": info.duration,
        "sample_rate": info.sample_rate, "bytes": info.bytes,
        "redact": redact.iter().map(|(s, e)| json!({"start": s, "end": e})).collect::<Vec<_>>()})
}

/// A preference item whose context is `turns` (start, end, ASR confidence) over `media`.
fn call_item(id: &str, media: &Value, turns: &[(f64, f64, f64)]) -> String {
    let context: Vec<Value> = turns
        .iter()
        .enumerate()
        .map(|(i, (s, e, c))| {
            json!({"role": if i % 2 == 0 { "user" } else { "assistant" },
                "speaker": if i % 2 == 0 { "customer" } else { "agent" },
                "content": format!("Turn {}: about the card payment that was taken twice.", i + 1),
                "start": s, "end": e, "asr_confidence": c})
        })
        .collect();
    json!({"id": id, "task": "preference", "context": context, "media": media,
        "candidates": [{"id": "a", "content": "I can see both payments; I'll refund the second one today."},
                       {"id": "b", "content": "Payments cannot be refunded."}]})
    .to_string()
}

async fn project(store: &SqliteStore, name: &str, overlap: u32, lines: &[String]) -> Project {
    let p = support::preference_project(store, name, overlap).await;
    if !lines.is_empty() {
        support::import_lines(store, &p, TaskKind::Preference, lines).await;
    }
    p
}

/// The judging page's player: `audio`, its root, the transcript's timed turns.
const PLAYER: &str = "var root = document.querySelector('[data-player]'); var a = root && root.querySelector('audio'); \
    var turns = Array.prototype.slice.call(document.querySelectorAll('#convo li[data-start]'));";

async fn state(b: &Browser) -> Value {
    b.js(
        &format!(
            "{PLAYER} return {{t: a.currentTime, paused: a.paused, rate: a.playbackRate, \
             current: turns.map(function (li) {{ return li.getAttribute('aria-current'); }}), \
             starts: turns.map(function (li) {{ return +li.getAttribute('data-start'); }}), \
             button: root.querySelector('[data-act=play]').textContent, \
             duration: +root.getAttribute('data-duration'), href: location.href}};"
        ),
        json!([]),
    )
    .await
}

/// Which turn (0-based) is aria-current, when exactly one is.
fn current_turn(s: &Value) -> Option<usize> {
    let on: Vec<usize> = s["current"]
        .as_array()
        .unwrap()
        .iter()
        .enumerate()
        .filter(|(_, v)| v.as_str() == Some("true"))
        .map(|(i, _)| i)
        .collect();
    match on.as_slice() {
        [one] => Some(*one),
        _ => None,
    }
}

/// Whether the position read in `s` is within `within` seconds of `t` (a clicked turn
/// plays on between the click and the reading, so those checks allow a second or so;
/// turns here are 2.5 s apart).
fn approx(s: &Value, t: f64, within: f64) -> bool {
    (s["t"].as_f64().unwrap() - t).abs() <= within
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_judging_page_plays_the_call() {
    if !support::browser_present("the player's browser test") {
        return;
    }
    let Some(spoken) = speech(
        "Thank you for calling the bank. My card was charged twice for the same payment on Monday. \
         Let me check that for you now. I can see two payments of forty pounds to the same shop.",
    ) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("plumbline-ui-player-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let store = SqliteStore::open(&dir.join("db.sqlite")).await.unwrap();

    // The short call: four turns over the speech, two of them unsure, one range silenced.
    let calls = project(&store, "calls", 1, &[]).await;
    let (rate, channels, data) = pcm_of(&spoken);
    let d = data.len() as f64 / f64::from(rate) / f64::from(channels) / 2.0;
    assert!(d > 8.0, "espeak-ng spoke {d} s");
    let short = store_audio(&store, &calls, spoken.clone(), &[(d * 0.3, d * 0.35)], true).await;
    let q = d / 4.0;
    let turns: Vec<(f64, f64, f64)> = (0..4)
        .map(|i| {
            let i = f64::from(i);
            (
                (i * q * 10.0).round() / 10.0,
                ((i + 1.0) * q * 10.0).round() / 10.0 - 0.1,
                if i == 1.0 || i == 3.0 { 0.55 } else { 0.95 },
            )
        })
        .collect();
    // The 10-minute call: 120 turns of five seconds, every seventh unsure.
    let long = store_audio(&store, &calls, long_call(&spoken, 600.0), &[], true).await;
    let long_turns: Vec<(f64, f64, f64)> = (0..120)
        .map(|i| {
            let s = f64::from(i) * 5.0;
            (s, s + 4.5, if i % 7 == 3 { 0.6 } else { 0.9 })
        })
        .collect();
    support::import_lines(
        &store,
        &calls,
        TaskKind::Preference,
        &[
            call_item("call-1", &short, &turns),
            call_item("call-long", &long, &long_turns),
        ],
    )
    .await;
    // An item with audio that two annotators judged apart: it waits for a reviewer. Its
    // audio has no peaks (as Opus has none): the player works without a waveform.
    let review = project(&store, "calls-review", 2, &[]).await;
    let short_review = store_audio(&store, &review, spoken.clone(), &[], false).await;
    support::import_lines(
        &store,
        &review,
        TaskKind::Preference,
        &[call_item("call-r", &short_review, &turns)],
    )
    .await;
    let lead = user(&store, "lead", false).await;
    let chloe = user(&store, "chloe", false).await;
    let ada = user(&store, "ada", false).await;
    let ben = user(&store, "ben", false).await;
    store
        .add_member(None, calls.id, chloe.id, ProjectRole::Annotator)
        .await
        .unwrap();
    for (u, role) in [
        (&lead, ProjectRole::Lead),
        (&ada, ProjectRole::Annotator),
        (&ben, ProjectRole::Annotator),
    ] {
        store.add_member(None, review.id, u.id, role).await.unwrap();
    }
    judge_by_store(&store, &ada, &review, true).await;
    judge_by_store(&store, &ben, &review, false).await;

    let (base, _stop) = support::serve(&store).await;
    let b = Browser::start(1280, 900).await;
    login(&b, &base, "chloe").await;
    b.goto(&format!("{base}/projects/calls/judge")).await;
    b.wait_for(
        "the first call with its player",
        "var t = document.querySelector('#task'); return !!t && t.getAttribute('data-item') === 'call-1' \
         && !!document.querySelector('[data-player] audio') && document.querySelector('[data-player] audio').readyState >= 1;",
    )
    .await;
    // The waveform is drawn from the peaks (many lit pixels, not a flat line), and the
    // marks sit where the unsure turns and the silenced range are.
    b.wait_for(
        "the waveform",
        "var c = document.querySelector('[data-player] canvas'); if (!c.width) return false; \
         var px = c.getContext('2d').getImageData(0, 0, c.width, c.height).data, lit = 0; \
         for (var i = 3; i < px.length; i += 4) if (px[i]) lit++; return lit > 4 * c.width;",
    )
    .await;
    let marks = b
        .js(
            "return Array.prototype.map.call(document.querySelectorAll('[data-player] .mark'), function (m) { \
               return [m.className, parseFloat(m.style.left), parseFloat(m.style.width)]; });",
            json!([]),
        )
        .await;
    let marks = marks.as_array().unwrap();
    assert_eq!(marks.len(), 3, "{marks:?}");
    for (m, (class, at)) in marks.iter().zip([
        ("mark unsure", 25.0),
        ("mark unsure", 75.0),
        ("mark redacted", 30.0),
    ]) {
        assert_eq!(m[0], class, "{marks:?}");
        assert!((m[1].as_f64().unwrap() - at).abs() < 2.0, "{marks:?}");
        assert!(m[2].as_f64().unwrap() > 0.0, "{marks:?}");
    }
    assert_accessible(&b, "the judging page with a call's audio").await;
    // The `?` list names the player's keys.
    let help = b
        .js(
            "return document.querySelector('#help').textContent;",
            json!([]),
        )
        .await;
    assert!(
        help.as_str()
            .unwrap()
            .contains("play or pause the call's audio"),
        "{help}"
    );
    b.screenshot("player-judge-1280").await;

    // Alt+K plays; the position advances and the first turn is the current one.
    b.keys(&format!("{ALT}k")).await;
    b.wait_for(
        "playback",
        &format!("{PLAYER} return !a.paused && a.currentTime > 0.4;"),
    )
    .await;
    let s = state(&b).await;
    assert_eq!(s["button"], "Pause");
    assert_eq!(current_turn(&s), Some(0), "{s}");

    // Clicking the third turn's time seeks to its start and makes it current; clicking
    // the second turn's text does the same for it.
    let starts: Vec<f64> = serde_json::from_value(s["starts"].clone()).unwrap();
    assert_eq!(starts.len(), 4);
    b.click("#convo li[data-start]:nth-child(3) button.ts")
        .await;
    let s = state(&b).await;
    assert!(approx(&s, starts[2], 1.2), "{s}");
    assert_eq!(current_turn(&s), Some(2), "{s}");
    assert!(!s["paused"].as_bool().unwrap(), "a clicked turn plays");
    b.click("#convo li[data-start]:nth-child(2) .text").await;
    let s = state(&b).await;
    assert!(approx(&s, starts[1], 1.2), "{s}");
    assert_eq!(current_turn(&s), Some(1), "{s}");

    // The speed control sets the playback rate.
    b.click("[data-speed] option[value='1.5']").await;
    let s = state(&b).await;
    assert_eq!(s["rate"], 1.5);
    // By keyboard: Enter on a turn's time plays from its start.
    b.js(
        "document.querySelector('#convo li[data-start]:nth-child(1) button.ts').focus(); return true;",
        json!([]),
    )
    .await;
    b.keys("\u{E007}").await;
    let s = state(&b).await;
    assert!(approx(&s, starts[0], 1.2), "{s}");
    assert_eq!(current_turn(&s), Some(0), "{s}");

    // Paused: Alt+→ moves 5 s on, Alt+← back, Alt+↓ to the next turn's start; the
    // browser's history is not touched.
    b.keys(&format!("{ALT}k")).await;
    b.wait_for("the pause", &format!("{PLAYER} return a.paused;"))
        .await;
    let t0 = state(&b).await["t"].as_f64().unwrap();
    b.keys(&format!("{ALT}{RIGHT}")).await;
    let s = state(&b).await;
    assert!(approx(&s, t0 + 5.0, 0.05), "{t0} {s}");
    b.keys(&format!("{ALT}{LEFT}")).await;
    let s = state(&b).await;
    assert!(approx(&s, t0, 0.05), "{t0} {s}");
    let next = starts.iter().copied().find(|&x| x > t0 + 0.05).unwrap();
    b.keys(&format!("{ALT}{DOWN}")).await;
    let s = state(&b).await;
    assert!(approx(&s, next, 0.05), "{next} {s}");
    assert!(
        s["href"]
            .as_str()
            .unwrap()
            .ends_with("/projects/calls/judge")
    );
    // A click on the waveform seeks to that point (WebDriver clicks its middle).
    b.click("[data-player] .wave").await;
    let s = state(&b).await;
    assert!(approx(&s, d / 2.0, 0.5), "{d} {s}");
    // Typing in the rationale, Alt+K is left alone.
    b.keys("r").await;
    b.wait_for(
        "the rationale focused",
        "return document.activeElement.id === 'rationale';",
    )
    .await;
    b.keys(&format!("{ALT}k")).await;
    assert!(state(&b).await["paused"].as_bool().unwrap());
    b.keys("\u{E00C}").await; // Escape leaves the field.

    // Submitting swaps in the next item, a 10-minute call: the old player is stopped
    // and gone, the new one is the only one.
    b.keys(&format!("{ALT}k")).await;
    b.wait_for("playback", &format!("{PLAYER} return !a.paused;"))
        .await;
    b.js(
        "window.__oldAudio = document.querySelector('[data-player] audio'); return true;",
        json!([]),
    )
    .await;
    b.keys("ttttT0").await;
    b.keys(CTRL_ENTER).await;
    b.wait_for(
        "the 10-minute call",
        "var t = document.querySelector('#task'); return !!t && t.getAttribute('data-item') === 'call-long';",
    )
    .await;
    let old = b
        .js(
            "var o = window.__oldAudio; return {paused: o.paused, connected: o.isConnected, src: o.getAttribute('src'), \
             players: document.querySelectorAll('[data-player]').length, audios: document.querySelectorAll('audio').length};",
            json!([]),
        )
        .await;
    assert_eq!(
        old,
        json!({"paused": true, "connected": false, "src": null, "players": 1, "audios": 1})
    );
    let paint = b
        .js(
            "var m = window.PL_MEASURES; return m[m.length - 1];",
            json!([]),
        )
        .await;
    eprintln!(
        "submit key → the 10-minute call painted: {:.1} ms",
        paint.as_f64().expect("submit-to-paint was measured")
    );
    // The page's JS and CSS stay within the budget.
    let bytes = b
        .js(
            "return performance.getEntriesByType('resource').filter(function (e) { return /\\/assets\\/[^?]+\\.(js|css)/.test(e.name); }) \
             .reduce(function (n, e) { return n + e.decodedBodySize; }, 0);",
            json!([]),
        )
        .await
        .as_u64()
        .unwrap();
    eprintln!("JS + CSS of the judging page: {bytes} bytes");
    assert!(
        bytes > 10_000 && bytes <= 150 * 1024,
        "JS + CSS are {bytes} bytes"
    );
    b.wait_for(
        "the long call's metadata",
        &format!("{PLAYER} return a.readyState >= 1 && turns.length === 120;"),
    )
    .await;
    // A turn far down the call becomes current and is scrolled into the transcript's
    // box, without moving the page.
    let y = b
        .js("window.scrollTo(0, 0); return window.scrollY;", json!([]))
        .await;
    b.js(
        &format!("{PLAYER} a.currentTime = turns[60].getAttribute('data-start'); return true;"),
        json!([]),
    )
    .await;
    b.wait_for(
        "turn 61 current and in view",
        &format!(
            "{PLAYER} var li = turns[60], box = document.querySelector('#convo').getBoundingClientRect(), r = li.getBoundingClientRect(); \
             return li.getAttribute('aria-current') === 'true' && r.top >= box.top && r.bottom <= box.bottom;"
        ),
    )
    .await;
    assert_eq!(b.js("return window.scrollY;", json!([])).await, y);
    assert_eq!(
        b.js(
            "return document.querySelectorAll('[data-player] .mark.unsure').length;",
            json!([])
        )
        .await,
        json!(17)
    );
    assert_axe_clean(&b, "the judging page with a 10-minute call").await;
    b.screenshot("player-long-call-1280").await;

    // The reviewer's queue shows the same player for the case with audio.
    login(&b, &base, "lead").await;
    b.goto(&format!("{base}/projects/calls-review/review"))
        .await;
    b.wait_for(
        "the case's player",
        "var a = document.querySelector('.case [data-player] audio'); return !!a && a.readyState >= 1;",
    )
    .await;
    b.wait_for(
        "the word that there is no waveform",
        "return /No waveform for this audio/.test(document.querySelector('.case [data-wave-note]').textContent);",
    )
    .await;
    assert_accessible(&b, "the review page with a call's audio").await;
    b.js(
        "document.querySelector('.case details').open = true; return true;",
        json!([]),
    )
    .await;
    b.click("#case0-convo li[data-start]:nth-child(4) button.ts")
        .await;
    let s = b
        .js(
            "var a = document.querySelector('.case [data-player] audio'); \
             var li = document.querySelector('#case0-convo li[data-start]:nth-child(4)'); \
             return {t: a.currentTime, start: +li.getAttribute('data-start'), current: li.getAttribute('aria-current')};",
            json!([]),
        )
        .await;
    assert!(
        (s["t"].as_f64().unwrap() - s["start"].as_f64().unwrap()).abs() < 1.2,
        "{s}"
    );
    assert_eq!(s["current"], "true", "{s}");
    b.screenshot("player-review-1280").await;
    b.quit().await;
    let _ = std::fs::remove_dir_all(&dir);
}
