//! Items with call audio: real speech from espeak-ng, found beside the import file or
//! under the media directory, checked against the transcript, redacted, and refused
//! whole (line, field, reason) when a file is missing, foreign, cut or too short.
//! Without espeak-ng the cases skip loudly by hand and fail under CI=true.

use crate::support::{options, read_input};
use plumbline_domain::TaskKind;
use plumbline_formats::media::MediaOptions;
use plumbline_formats::{Format, Input};
use std::path::{Path, PathBuf};

/// A scratch directory holding `calls/hello.wav` (about 5 s of speech), or `None`.
fn call_dir(test: &str) -> Option<PathBuf> {
    crate::support::speech_dir(&format!("media-{test}"), "hello.wav")
}

fn line(id: &str, media: &str, turn_end: f64) -> String {
    format!(
        r#"{{"id":"{id}","context":[{{"role":"user","speaker":"customer","content":"my card is [number]","start":0.5,"end":{turn_end}}},{{"role":"assistant","content":"thanks"}}],"candidates":[{{"id":"a","content":"x"}},{{"id":"b","content":"y"}}],"media":{media}}}"#
    )
}

fn import(dir: &Path, lines: &[String], media_dir: Option<&Path>) -> crate::support::Got {
    let file = dir.join("items.jsonl");
    std::fs::write(&file, lines.join("\n")).unwrap();
    let mut opts = options(TaskKind::Preference);
    opts.media = Some(MediaOptions {
        dirs: std::iter::once(dir.to_path_buf())
            .chain(media_dir.map(Path::to_path_buf))
            .collect(),
        max_bytes: 200 << 20,
        ..MediaOptions::default()
    });
    read_input(
        Input::File(std::fs::File::open(file).unwrap()),
        Some(Format::Native),
        None,
        opts,
    )
}

#[test]
fn audio_beside_the_file_is_stored_by_hash_with_redactions_on_the_turn() {
    let Some(dir) = call_dir("ok") else { return };
    let got = import(
        &dir,
        &[
            line(
                "c1",
                r#"{"path":"calls/hello.wav","redact":[{"start":1.0,"end":2.0}]}"#,
                3.0,
            ),
            line("c2", r#"{"path":"calls/hello.wav"}"#, 3.0),
        ],
        None,
    )
    .ok();
    let items = got.parsed();
    let media = items[0].media.as_ref().unwrap();
    assert_eq!(media.path, None, "the path is not stored");
    assert_eq!(media.content_type.as_deref(), Some("audio/wav"));
    assert_eq!(media.sample_rate, Some(22050));
    assert!((3.0..8.0).contains(&media.duration.unwrap()));
    assert_eq!(items[0].context[0].redacted.len(), 1);
    assert_eq!(items[0].context[0].redacted[0].start, 1.0);
    assert!(
        items[0].context[1].redacted.is_empty(),
        "an untimed turn shows none"
    );
    // The redacted file is another file than the original, which is stored as is.
    let (a, b) = (&got.items[0], &got.items[1]);
    assert_ne!(a.media_sha256, b.media_sha256);
    let original = std::fs::read(dir.join("calls/hello.wav")).unwrap();
    assert_eq!(b.media.as_ref().unwrap().bytes.as_ref(), &original[..]);
    assert_ne!(a.media.as_ref().unwrap().bytes.as_ref(), &original[..]);
    assert!(a.media.as_ref().unwrap().peaks.is_some());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn the_media_dir_is_searched_after_the_file_s_own() {
    let Some(dir) = call_dir("dir") else { return };
    let items_dir = dir.join("items");
    std::fs::create_dir_all(&items_dir).unwrap();
    let missing = import(
        &items_dir,
        &[line("c1", r#"{"path":"calls/hello.wav"}"#, 3.0)],
        None,
    );
    let err = missing.error();
    assert!(
        err.contains("media.path") && err.contains("no such file"),
        "{err}"
    );
    import(
        &items_dir,
        &[line("c1", r#"{"path":"calls/hello.wav"}"#, 3.0)],
        Some(&dir),
    )
    .ok();
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn bad_audio_and_turns_outside_it_store_nothing() {
    let Some(dir) = call_dir("bad") else { return };
    std::fs::write(dir.join("calls/notes.txt"), "not audio").unwrap();
    let wav = std::fs::read(dir.join("calls/hello.wav")).unwrap();
    std::fs::write(dir.join("calls/cut.wav"), &wav[..wav.len() / 2]).unwrap();
    let good = line("ok", r#"{"path":"calls/hello.wav"}"#, 3.0);
    for (media, end, field, words) in [
        (
            r#"{"path":"calls/notes.txt"}"#,
            3.0,
            "media.path",
            "unsupported audio format",
        ),
        (
            r#"{"path":"calls/cut.wav"}"#,
            3.0,
            "media.path",
            "truncated",
        ),
        (
            r#"{"path":"https://example.com/a.wav"}"#,
            3.0,
            "media.path",
            "URL",
        ),
        (r#"{"path":"../x.wav"}"#, 3.0, "media.path", ".."),
        (
            r#"{"path":"calls/hello.wav"}"#,
            60.0,
            "context[0].end",
            "turn 0 (customer) ends at 60 s",
        ),
        (
            r#"{"path":"calls/hello.wav","redact":[{"start":1.0,"end":90.0}]}"#,
            3.0,
            "media.path",
            "ends after the audio",
        ),
    ] {
        let got = import(&dir, &[good.clone(), line("bad", media, end)], None);
        let e = &got.outcome.summary.errors;
        assert_eq!(got.commit, Some(false), "{media}");
        assert_eq!(
            (e[0].line, e[0].field.as_deref()),
            (2, Some(field)),
            "{media}: {e:?}"
        );
        assert!(e[0].reason.contains(words), "{media}: {}", e[0].reason);
    }
    // Without a directory (an API body) a path is refused, naming the way that works.
    let mut opts = options(TaskKind::Preference);
    opts.media = None;
    let body = line("c1", r#"{"path":"calls/hello.wav"}"#, 3.0);
    let got = read_input(
        Input::Stream(Box::new(std::io::Cursor::new(body.into_bytes()))),
        None,
        None,
        opts,
    );
    assert!(
        got.error().contains("upload the audio first"),
        "{}",
        got.error()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

/// A release with `--with-media` carries the audio of its items, listed in its
/// manifest and verified with the rest.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_release_with_media_carries_and_verifies_the_audio() {
    use plumbline_domain::{ProjectName, ProjectSettings, Rubric};
    use plumbline_formats::export::PairOptions;
    use plumbline_formats::release::{self, FileFormat, ReleaseRequest};
    use plumbline_formats::run::{self, Kind};
    use plumbline_store::{ImportMsg, ImportOptions, NewProject, Store};
    let Some(dir) = call_dir("release") else {
        return;
    };
    let wav = std::fs::read(dir.join("calls/hello.wav")).unwrap();
    // Items with prior choices (HH-RLHF), the first given the call's audio.
    let mut items = tokio::task::spawn_blocking(|| {
        crate::support::read("hh_rlhf.jsonl", None, None, TaskKind::Preference)
            .ok()
            .items
    })
    .await
    .unwrap();
    let audio = plumbline_media::prepare(wav.clone().into(), &[], 200 << 20).unwrap();
    let mut item: plumbline_domain::Item = serde_json::from_str(&items[0].body).unwrap();
    item.media = Some(plumbline_domain::MediaRef {
        sha256: Some(plumbline_media::hex(&audio.sha256)),
        content_type: Some("audio/wav".into()),
        ..Default::default()
    });
    let external = std::mem::take(&mut items[0].external);
    items[0] = plumbline_formats::encode_item(&item, 1, TaskKind::Preference);
    items[0].external = external;
    items[0].media = Some(plumbline_store::NewMedia {
        sha256: audio.sha256,
        content_type: "audio/wav".into(),
        bytes: audio.bytes.clone(),
        duration: audio.info.duration,
        sample_rate: audio.info.sample_rate,
        peaks: None,
    });
    let store = plumbline_store::SqliteStore::open(&dir.join("p.db"))
        .await
        .unwrap();
    let project = store
        .create_project(
            None,
            NewProject {
                name: ProjectName::parse("calls").unwrap(),
                settings: ProjectSettings::default(),
                rubric: Rubric::from_toml("name = \"Calls\"\n[[criteria]]\nkey = \"helpfulness\"\ntitle = \"Helpfulness\"\npriority = 1\n").unwrap(),
            },
        )
        .await
        .unwrap();
    let (tx, rx) = tokio::sync::mpsc::channel(2);
    tx.send(ImportMsg::Items(items)).await.unwrap();
    tx.send(ImportMsg::Finish { commit: true }).await.unwrap();
    drop(tx);
    let out = store
        .import_items(None, project.id, ImportOptions::default(), rx)
        .await
        .unwrap();
    assert!(out.committed, "{out:?}");
    let opts = PairOptions {
        include_external: true,
        annotators: std::sync::Arc::new(run::annotators(&store, &project).await.unwrap()),
        ..PairOptions::default()
    };
    let release_dir = dir.join("release");
    let request = |with_media| ReleaseRequest {
        kind: Kind::Preference,
        format: FileFormat::Jsonl,
        opts: opts.clone(),
        out: release_dir.clone(),
        with_media,
    };
    release::create(&store, None, &project, request(true))
        .await
        .unwrap();
    let name = format!("media-{}.wav", plumbline_media::hex(&audio.sha256));
    assert_eq!(std::fs::read(release_dir.join(&name)).unwrap(), wav);
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(release_dir.join(release::MANIFEST)).unwrap())
            .unwrap();
    assert!(
        manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["path"] == name.as_str())
    );
    assert_eq!(
        release::verify(&release_dir).unwrap().files,
        5,
        "data, card, audio and the two lists"
    );
    // Without the flag the audio stays out.
    std::fs::remove_dir_all(&release_dir).unwrap();
    release::create(&store, None, &project, request(false))
        .await
        .unwrap();
    assert!(!release_dir.join(&name).exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn a_csv_column_names_each_row_s_audio() {
    let Some(dir) = call_dir("csv") else { return };
    let csv = "id,prompt,a,b,audio\nc1,Close my account,Sure,First verify,calls/hello.wav\nc2,Hi,Hello,Hey,\n";
    let file = dir.join("calls.csv");
    std::fs::write(&file, csv).unwrap();
    let mapping = plumbline_formats::csv::Mapping::from_toml(
        "id = \"id\"\nprompt = \"prompt\"\ncandidates = [\"a\", \"b\"]\nmedia = \"audio\"\n",
    )
    .unwrap();
    let mut opts = options(TaskKind::Preference);
    opts.media = Some(MediaOptions {
        dirs: vec![dir.clone()],
        max_bytes: 200 << 20,
        ..MediaOptions::default()
    });
    let got = read_input(
        Input::File(std::fs::File::open(&file).unwrap()),
        Some(Format::Csv),
        Some(mapping),
        opts,
    )
    .ok();
    let items = got.parsed();
    assert_eq!(
        items[0].media.as_ref().unwrap().content_type.as_deref(),
        Some("audio/wav")
    );
    assert!(got.items[0].media.is_some());
    assert!(items[1].media.is_none(), "an empty cell is no audio");
    std::fs::remove_dir_all(dir).unwrap();
}
