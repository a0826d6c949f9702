//! Audio named by imported items: found beside the import file or under
//! `--media-dir`, checked, redacted and hashed by `plumbline-media`, and sent to the
//! store with its item. The item then names the stored audio by SHA-256; the path and
//! the original bytes of redacted audio are kept nowhere.

use crate::lines::LineError;
use plumbline_domain::{Item, TimeRange};
use plumbline_store::NewMedia;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Where an import finds the files its items name (audio, transcripts), and how large
/// one may be.
#[derive(Debug, Clone, Default)]
pub struct MediaOptions {
    /// Directories a relative `media.path` is looked up in, in order (the import
    /// file's own directory, then `--media-dir`).
    pub dirs: Vec<PathBuf>,
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Files sent with the items (the parts of a multipart API import), by their
    /// relative path; looked up before the directories.
    pub parts: BTreeMap<String, bytes::Bytes>,
}

impl MediaOptions {
    /// Whether `path` names a file sent along or one in the directories.
    pub(crate) fn has(&self, path: &str) -> bool {
        self.parts.contains_key(path) || self.dirs.iter().any(|d| d.join(path).is_file())
    }

    /// The bytes of the file `path` names (a part first, then the first directory that
    /// holds it), or why it cannot be read: missing, over the cap, unreadable.
    pub(crate) fn read(&self, path: &str) -> Result<bytes::Bytes, String> {
        if let Some(part) = self.parts.get(path) {
            self.check_size(path, part.len() as u64)?;
            return Ok(part.clone());
        }
        let file = find_file(self, path)?;
        let size = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        self.check_size(path, size)?;
        std::fs::read(&file)
            .map(bytes::Bytes::from)
            .map_err(|e| format!("`{path}`: {e}"))
    }

    fn check_size(&self, path: &str, size: u64) -> Result<(), String> {
        if size > self.max_bytes {
            return Err(format!(
                "`{path}`: the file is {size} bytes, over the cap of {} bytes (--max-media-bytes)",
                self.max_bytes
            ));
        }
        Ok(())
    }
}

/// Reads, checks and stores-to-be the audio `item` names by path, rewriting its media
/// reference to the stored hash and marking its turns' redactions. `None` when the
/// item names no file (no audio, or audio stored already by hash).
pub fn attach(
    item: &mut Item,
    line: u64,
    opts: Option<&MediaOptions>,
) -> Result<Option<NewMedia>, LineError> {
    let Some(media) = item.media.as_mut() else {
        return Ok(None);
    };
    let refuse = |reason: String| LineError::new(line, Some("media.path".into()), reason);
    let Some(path) = media.path.take() else {
        if let Some(duration) = media.duration {
            check_turns(item, line, duration)?;
        }
        return Ok(None);
    };
    let Some(opts) = opts else {
        return Err(refuse(format!(
            "`{path}`: this import reads no audio files (an API body has no directory); \
             send the file as a part of a multipart import, or upload the audio first and \
             name it by `sha256`"
        )));
    };
    let bytes = opts.read(&path).map_err(refuse)?;
    let ranges: Vec<(f64, f64)> = media.redact.iter().map(|r| (r.start, r.end)).collect();
    let audio = plumbline_media::prepare(bytes, &ranges, opts.max_bytes)
        .map_err(|e| refuse(format!("`{path}`: {e}")))?;
    let duration = (audio.info.duration * 1000.0).round() / 1000.0;
    media.sha256 = Some(plumbline_media::hex(&audio.sha256));
    media.content_type = Some(audio.info.content_type().to_owned());
    media.duration = Some(duration);
    media.sample_rate = Some(audio.info.sample_rate);
    media.bytes = Some(audio.bytes.len() as u64);
    let redact = media.redact.clone();
    check_turns(item, line, audio.info.duration)?;
    mark_redactions(item, &redact);
    Ok(Some(NewMedia {
        sha256: audio.sha256,
        content_type: audio.info.content_type().to_owned(),
        bytes: audio.bytes,
        duration: audio.info.duration,
        sample_rate: audio.info.sample_rate,
        peaks: audio.peaks.map(|p| p.to_json()),
    }))
}

/// The first of the import's directories that holds `path`, or why none does.
fn find_file(opts: &MediaOptions, path: &str) -> Result<PathBuf, String> {
    if let Some(file) = opts.dirs.iter().map(|d| d.join(path)).find(|p| p.is_file()) {
        return Ok(file);
    }
    let dirs: Vec<String> = opts
        .dirs
        .iter()
        .map(|d| format!("`{}`", d.display()))
        .collect();
    Err(format!(
        "`{path}`: no such file in {}",
        if dirs.is_empty() {
            "any directory".to_owned()
        } else {
            dirs.join(" or ")
        }
    ))
}

/// Refuses a turn whose time range lies outside the audio, naming the turn.
fn check_turns(item: &Item, line: u64, duration: f64) -> Result<(), LineError> {
    for (i, turn) in item.context.iter().enumerate() {
        for (name, value) in [("start", turn.start), ("end", turn.end)] {
            if let Some(t) = value
                && t > duration + plumbline_media::TOLERANCE
            {
                let who = turn
                    .speaker
                    .as_deref()
                    .map(|s| format!(" ({s})"))
                    .unwrap_or_default();
                return Err(LineError::new(
                    line,
                    Some(format!("context[{i}].{name}")),
                    format!(
                        "turn {i}{who} {name}s at {t} s, outside the audio ({duration:.3} s long)"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Records on each timed turn the parts of it the audio has silenced.
fn mark_redactions(item: &mut Item, redact: &[TimeRange]) {
    for turn in &mut item.context {
        turn.redacted.clear();
        if let (Some(start), Some(end)) = (turn.start, turn.end) {
            let span = TimeRange { start, end };
            turn.redacted
                .extend(redact.iter().filter_map(|r| span.overlap(r)));
        }
    }
}
