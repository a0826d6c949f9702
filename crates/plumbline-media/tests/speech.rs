//! Real speech made by espeak-ng (and encoded by lame, oggenc, opusenc and flac where
//! installed): every format browsers play is probed, cut and damaged files are refused,
//! and redaction silences what it names. Without the tools the tests skip loudly when
//! run by hand and fail under CI=true (`.ci/run` installs them).

use plumbline_media::{Container, MediaError, prepare};
use std::path::{Path, PathBuf};
use std::process::Command;

const CAP: u64 = 200 << 20;
const SENTENCE: &str =
    "Hello, my card number is four five five six, and I live at twelve Main Street.";

/// A scratch directory with the sentence as WAV, or `None` (skipped) without espeak-ng.
fn speech(test: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("plumbline-media-{test}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wav = dir.join("call.wav");
    if !run("espeak-ng", &["-w", wav.to_str().unwrap(), SENTENCE]) {
        return None;
    }
    Some(dir)
}

/// Runs a tool; false when it is not installed (a failure under CI=true).
fn run(tool: &str, args: &[&str]) -> bool {
    match Command::new(tool).args(args).output() {
        Ok(out) => {
            assert!(
                out.status.success(),
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            true
        }
        Err(e) => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{tool} is needed under CI ({e}); .ci/run installs it"
            );
            eprintln!(
                "SKIPPED: {tool} is not installed ({e}); apt-get install espeak-ng lame vorbis-tools opus-tools flac"
            );
            false
        }
    }
}

fn read(path: &Path) -> bytes::Bytes {
    std::fs::read(path).unwrap().into()
}

#[test]
fn every_browser_format_gives_its_duration_and_rate() {
    let Some(dir) = speech("formats") else { return };
    let wav = dir.join("call.wav");
    let reference = prepare(read(&wav), &[], CAP).unwrap();
    assert_eq!(reference.info.container, Container::Wav);
    assert_eq!(
        reference.info.sample_rate, 22050,
        "espeak-ng speaks at 22.05 kHz"
    );
    assert!(
        (3.0..8.0).contains(&reference.info.duration),
        "{:?}",
        reference.info
    );
    assert!(
        reference
            .peaks
            .as_ref()
            .is_some_and(|p| p.peaks.iter().any(|[_, hi]| *hi > 0.1))
    );
    let w = wav.to_str().unwrap();
    let encoders: [(&str, Vec<&str>, &str, Container, &str); 4] = [
        (
            "lame",
            vec!["--quiet", w, "call.mp3"],
            "call.mp3",
            Container::Mp3,
            "mp3",
        ),
        (
            "oggenc",
            vec!["-Q", w, "-o", "call.ogg"],
            "call.ogg",
            Container::Ogg,
            "vorbis",
        ),
        (
            "opusenc",
            vec!["--quiet", w, "call.opus"],
            "call.opus",
            Container::Ogg,
            "opus",
        ),
        (
            "flac",
            vec!["-s", w, "-o", "call.flac"],
            "call.flac",
            Container::Flac,
            "flac",
        ),
    ];
    for (tool, args, out, container, codec) in encoders {
        let args: Vec<String> = args
            .iter()
            .map(|a| {
                if a.starts_with("call.") {
                    dir.join(a).to_string_lossy().into_owned()
                } else {
                    a.to_string()
                }
            })
            .collect();
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if !run(tool, &args) {
            continue;
        }
        let got = prepare(read(&dir.join(out)), &[], CAP).unwrap_or_else(|e| panic!("{out}: {e}"));
        assert_eq!(
            (got.info.container, got.info.codec),
            (container, codec),
            "{out}"
        );
        assert!(
            (got.info.duration - reference.info.duration).abs() < 0.15,
            "{out}: {} s against {} s",
            got.info.duration,
            reference.info.duration
        );
        // Opus is read from its container only: no decoder, so no peaks.
        assert_eq!(got.peaks.is_some(), codec != "opus", "{out}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn cut_damaged_and_foreign_files_are_refused() {
    let Some(dir) = speech("refusals") else {
        return;
    };
    let wav = std::fs::read(dir.join("call.wav")).unwrap();
    let cut = prepare(wav[..wav.len() / 2].to_vec().into(), &[], CAP).unwrap_err();
    assert!(matches!(cut, MediaError::Truncated(_)), "{cut}");
    let w = dir.join("call.wav");
    for (tool, args, out) in [
        ("oggenc", vec!["-Q", w.to_str().unwrap(), "-o"], "call.ogg"),
        ("flac", vec!["-s", w.to_str().unwrap(), "-o"], "call.flac"),
    ] {
        let target = dir.join(out);
        let mut args = args.clone();
        args.push(target.to_str().unwrap());
        if !run(tool, &args) {
            continue;
        }
        let bytes = std::fs::read(&target).unwrap();
        let err = prepare(bytes[..bytes.len() * 2 / 3].to_vec().into(), &[], CAP).unwrap_err();
        assert!(matches!(err, MediaError::Truncated(_)), "{out}: {err}");
    }
    let err = prepare(b"<html>not audio</html>".to_vec().into(), &[], CAP).unwrap_err();
    assert!(matches!(err, MediaError::Unsupported(_)), "{err}");
    let err = prepare(wav.clone().into(), &[], 1000).unwrap_err();
    assert!(
        err.to_string().contains("over the cap of 1000 bytes"),
        "{err}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn redaction_silences_the_range_and_stores_no_original() {
    let Some(dir) = speech("redact") else { return };
    let original = read(&dir.join("call.wav"));
    let plain = prepare(original.clone(), &[], CAP).unwrap();
    let redacted = prepare(original.clone(), &[(1.0, 2.5)], CAP).unwrap();
    assert_ne!(redacted.sha256, plain.sha256);
    assert_eq!(redacted.info.container, Container::Wav);
    assert!((redacted.info.duration - plain.info.duration).abs() < 0.01);
    // The stored samples between 1.0 and 2.5 s are zero; speech before them is not.
    let rate = redacted.info.sample_rate as usize;
    let data = &redacted.bytes[44..];
    let sample = |i: usize| i16::from_le_bytes([data[2 * i], data[2 * i + 1]]);
    assert!((rate..rate * 5 / 2).all(|i| sample(i) == 0));
    assert!(
        (rate * 5 / 2..rate * 7 / 2).any(|i| sample(i) != 0),
        "speech goes on after the range"
    );
    let peaks = redacted.peaks.unwrap();
    let at = |t: f64| &peaks.peaks[(t * rate as f64) as usize / peaks.frames_per_pair as usize];
    assert_eq!(at(1.7), &[0.0, 0.0]);
    // A range past the end is refused with both times named.
    let err = prepare(original, &[(2.0, 60.0)], CAP)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("60") && err.contains("ends after the audio"),
        "{err}"
    );
    if run(
        "opusenc",
        &[
            "--quiet",
            dir.join("call.wav").to_str().unwrap(),
            dir.join("call.opus").to_str().unwrap(),
        ],
    ) {
        let err = prepare(read(&dir.join("call.opus")), &[(1.0, 2.0)], CAP)
            .unwrap_err()
            .to_string();
        assert!(err.contains("opus audio cannot be redacted"), "{err}");
    }
    std::fs::remove_dir_all(dir).unwrap();
}
