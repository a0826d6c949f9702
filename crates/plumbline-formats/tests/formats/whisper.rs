//! Speech-recognition transcripts as items: the JSON of OpenAI Whisper (`verbose_json`
//! and the `whisper` command's word timestamps) and of WhisperX (diarized), written by
//! hand from the published shapes, given by path or inline in place of `context`, with
//! the audio (real speech from espeak-ng) found beside the transcript.

use crate::support::{Got, fixture, options, read_input};
use plumbline_domain::{Role, TaskKind};
use plumbline_formats::media::MediaOptions;
use plumbline_formats::{Format, Input};
use std::path::{Path, PathBuf};

/// A scratch directory with `calls/c1.json` (WhisperX) and `calls/c1.wav` (about 3.7 s
/// of speech), or `None` without espeak-ng (failing under CI=true).
fn call_dir(test: &str) -> Option<PathBuf> {
    let dir = crate::support::speech_dir(&format!("whisper-{test}"), "c1.wav")?;
    std::fs::copy(fixture("whisper/whisperx.json"), dir.join("calls/c1.json")).unwrap();
    Some(dir)
}

fn import(dir: &Path, lines: &[String], format: Option<Format>) -> Got {
    let file = dir.join("items.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let mut opts = options(TaskKind::Demonstration);
    opts.media = Some(MediaOptions {
        dirs: vec![dir.to_path_buf()],
        max_bytes: 200 << 20,
        ..MediaOptions::default()
    });
    read_input(
        Input::File(std::fs::File::open(file).unwrap()),
        format,
        None,
        opts,
    )
}

/// An API body: no directory, so only inline transcripts.
fn import_body(line: String) -> Got {
    read_input(
        Input::Stream(Box::new(std::io::Cursor::new(line.into_bytes()))),
        Some(Format::Native),
        None,
        options(TaskKind::Demonstration),
    )
}

const SPEAKERS: &str =
    r#"{"SPEAKER_00":{"label":"agent","role":"assistant"},"SPEAKER_01":{"label":"customer"}}"#;

#[test]
fn a_whisperx_file_becomes_timed_turns_with_its_audio_beside_it() {
    let Some(dir) = call_dir("x") else { return };
    let line = format!(r#"{{"id":"c1","transcript":"calls/c1.json","speakers":{SPEAKERS}}}"#);
    let got = import(&dir, &[line], None).ok();
    let why = &got.outcome.detected.as_ref().unwrap().why;
    assert!(why.contains("`transcript`"), "{why}");
    let item = &got.parsed()[0];
    let turns: Vec<_> = item
        .context
        .iter()
        .map(|t| {
            (
                t.role,
                t.speaker.as_deref().unwrap(),
                t.content.as_str(),
                t.start.unwrap(),
                t.end.unwrap(),
                t.asr_confidence.unwrap(),
            )
        })
        .collect();
    assert_eq!(
        turns,
        [
            (Role::Assistant, "agent", "Hello,", 0.031, 0.692, 0.912),
            // No speaker on the segment: the one most of its words are spoken by.
            // The numeral WhisperX could not align has no score and counts for none.
            (
                Role::User,
                "customer",
                "my card number is 4556,",
                0.752,
                3.105,
                0.675
            ),
            (Role::Assistant, "agent", "thank you.", 3.006, 3.507, 0.96),
        ]
    );
    let media = item.media.as_ref().unwrap();
    assert_eq!(media.content_type.as_deref(), Some("audio/wav"));
    assert!((3.0..8.0).contains(&media.duration.unwrap()));
    assert!(got.items[0].media.is_some(), "the audio goes to the store");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn whisper_words_and_openai_verbose_json_give_their_confidence() {
    // The `whisper` command with word timestamps: the mean of the words' probabilities;
    // the empty segment over silence is left out.
    let words = std::fs::read_to_string(fixture("whisper/whisper_words.json")).unwrap();
    let words = words.trim();
    let got = import_body(format!(r#"{{"id":"w","transcript":{words}}}"#)).ok();
    let item = &got.parsed()[0];
    let got_turns: Vec<_> = item
        .context
        .iter()
        .map(|t| {
            (
                t.role,
                t.speaker.clone(),
                t.content.as_str(),
                t.asr_confidence,
            )
        })
        .collect();
    assert_eq!(
        got_turns,
        [
            (Role::User, None, "Hello, my card number", Some(0.75)),
            (Role::User, None, "is 4556, thank you.", Some(0.87)),
        ]
    );
    // OpenAI's verbose_json has no per-segment words: exp(avg_logprob).
    let verbose = std::fs::read_to_string(fixture("whisper/openai_verbose.json")).unwrap();
    let verbose = verbose.trim();
    let got = import_body(format!(
        r#"{{"id":"v","transcript":{verbose},"candidates":[]}}"#
    ))
    .ok();
    let conf: Vec<_> = got.parsed()[0]
        .context
        .iter()
        .map(|t| t.asr_confidence)
        .collect();
    assert_eq!(conf, [Some(0.8), Some(0.9)]);
}

#[test]
fn bad_transcripts_are_refused_naming_the_field_and_store_nothing() {
    let Some(dir) = call_dir("bad") else { return };
    let x = std::fs::read_to_string(dir.join("calls/c1.json")).unwrap();
    std::fs::write(dir.join("calls/long.json"), x.replace("3.507", "63.507")).unwrap();
    std::fs::copy(dir.join("calls/c1.wav"), dir.join("calls/long.wav")).unwrap();
    std::fs::write(dir.join("calls/back.json"), x.replace("3.105", "0.1")).unwrap();
    std::fs::write(dir.join("calls/notes.json"), "not json").unwrap();
    std::fs::write(dir.join("calls/two.json"), &x).unwrap();
    std::fs::write(dir.join("calls/two.wav"), b"").unwrap();
    std::fs::write(dir.join("calls/two.mp3"), b"").unwrap();
    let good = r#"{"id":"ok","transcript":"calls/c1.json"}"#.to_owned();
    for (line, field, words) in [
        (
            r#"{"id":"b","transcript":"calls/long.json"}"#,
            "context[2].end",
            "outside the audio",
        ),
        (
            r#"{"id":"b","transcript":"calls/back.json"}"#,
            "transcript.segments[1].end",
            "`calls/back.json`: ends (0.1) before it starts (0.752)",
        ),
        (
            r#"{"id":"b","transcript":"calls/notes.json"}"#,
            "transcript",
            "not a Whisper or WhisperX JSON file",
        ),
        (
            r#"{"id":"b","transcript":"calls/none.json"}"#,
            "transcript",
            "no such file",
        ),
        (
            r#"{"id":"b","transcript":"../c1.json"}"#,
            "transcript",
            "..",
        ),
        (
            r#"{"id":"b","transcript":"calls/two.json"}"#,
            "transcript",
            "several audio files lie beside it (`calls/two.wav`, `calls/two.mp3`)",
        ),
        (
            r#"{"id":"b","transcript":{"text":"hi"}}"#,
            "transcript",
            "has no `segments`",
        ),
        (
            r#"{"id":"b","transcript":{"segments":[{"start":0,"end":1,"text":"  "}]}}"#,
            "transcript.segments",
            "holds no spoken segment",
        ),
        (
            r#"{"id":"b","transcript":"calls/c1.json","context":[]}"#,
            "transcript",
            "not both",
        ),
        (
            r#"{"id":"b","transcript":"calls/c1.json","speakers":{"SPEAKER_02":{"role":"assistant"}}}"#,
            "speakers.SPEAKER_02",
            "does not speak in the transcript",
        ),
        (
            r#"{"id":"b","transcript":"calls/c1.json","speakers":{"SPEAKER_00":{"role":"agent"}}}"#,
            "speakers.SPEAKER_00.role",
            "must be `user`, `assistant`",
        ),
    ] {
        let got = import(&dir, &[good.clone(), line.to_owned()], Some(Format::Native));
        let e = &got.outcome.summary.errors;
        assert_eq!(got.commit, Some(false), "{line}");
        assert!(got.items.is_empty(), "{line}: items were sent");
        assert_eq!(
            (e[0].line, e[0].field.as_deref()),
            (2, Some(field)),
            "{line}: {e:?}"
        );
        assert!(e[0].reason.contains(words), "{line}: {}", e[0].reason);
    }
    // A broken line is named for its JSON, not for the field it was cut in.
    let e = import_body(r#"{"id":"c1","transcript":{"segments":[}"#.into()).error();
    assert!(e.contains("expected value"), "{e}");
    // An API body has no directory: a path is refused, naming the ways that work.
    let e = import_body(r#"{"id":"c1","transcript":"calls/c1.json"}"#.into()).error();
    assert!(e.contains("give the transcript inline"), "{e}");
    std::fs::remove_dir_all(dir).unwrap();
}
