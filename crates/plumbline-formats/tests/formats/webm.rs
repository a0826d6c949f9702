//! WebM/Opus call audio, as browsers record it: real speech from espeak-ng, encoded
//! by opusenc and muxed by mkvmerge (`--webm`). The import reads its duration from
//! the container, and refuses a cut or damaged file naming the file and the reason.
//! Without the tools the case skips loudly by hand and fails under CI=true.

use crate::support::{Got, options, read_input, run_tool};
use plumbline_domain::TaskKind;
use plumbline_formats::media::MediaOptions;
use plumbline_formats::{Format, Input};
use std::path::{Path, PathBuf};

/// A scratch directory holding `calls/c1.webm` and the WAV it was made from.
fn call_dir() -> Option<PathBuf> {
    let dir = crate::support::speech_dir("webm", "c1.wav")?;
    let p = |name: &str| dir.join("calls").join(name).to_str().unwrap().to_owned();
    let made = run_tool("opusenc", &["--quiet", &p("c1.wav"), &p("c1.opus")])
        && run_tool(
            "mkvmerge",
            &["-q", "--webm", "-o", &p("c1.webm"), &p("c1.opus")],
        );
    made.then_some(dir)
}

fn import(dir: &Path, media: &str) -> Got {
    let line = format!(
        r#"{{"id":"c1","context":[{{"role":"user","content":"my card number is [number]","start":0.2,"end":3.0}}],"media":{{"path":"{media}"}}}}"#
    );
    let file = dir.join("items.jsonl");
    std::fs::write(&file, line).unwrap();
    let mut opts = options(TaskKind::Demonstration);
    opts.media = Some(MediaOptions {
        dirs: vec![dir.to_path_buf()],
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
fn webm_opus_gives_its_duration_and_a_cut_or_damaged_one_is_refused() {
    let Some(dir) = call_dir() else { return };
    let got = import(&dir, "calls/c1.webm").ok();
    let media = got.parsed()[0].media.clone().unwrap();
    assert_eq!(media.content_type.as_deref(), Some("audio/webm"));
    // The WAV espeak-ng spoke: 16-bit mono, 44-byte header.
    let wav = std::fs::metadata(dir.join("calls/c1.wav")).unwrap().len();
    let spoken = (wav - 44) as f64 / 2.0 / 22050.0;
    let duration = media.duration.unwrap();
    assert!(
        (duration - spoken).abs() < 0.1,
        "WebM says {duration} s, the speech is {spoken} s"
    );
    // Opus records the rate of the audio it was made from.
    assert_eq!(media.sample_rate, Some(22050));

    let webm = std::fs::read(dir.join("calls/c1.webm")).unwrap();
    std::fs::write(dir.join("calls/cut.webm"), &webm[..webm.len() / 2]).unwrap();
    let mut damaged = webm.clone();
    for b in &mut damaged[40..200] {
        *b = 0xff;
    }
    std::fs::write(dir.join("calls/damaged.webm"), &damaged).unwrap();
    for name in ["cut.webm", "damaged.webm"] {
        let got = import(&dir, &format!("calls/{name}"));
        let e = &got.outcome.summary.errors;
        assert_eq!(got.commit, Some(false), "{name} was accepted");
        assert!(got.items.is_empty());
        assert_eq!(e[0].field.as_deref(), Some("media.path"), "{name}: {e:?}");
        assert!(
            e[0].reason.starts_with(&format!("`calls/{name}`: ")),
            "{name}: {}",
            e[0].reason
        );
        eprintln!("{name}: {}", e[0].reason);
    }
    std::fs::remove_dir_all(dir).unwrap();
}
