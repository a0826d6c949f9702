//! Transcripts from speech recognition: a native item line may give `transcript` (the
//! JSON that OpenAI Whisper or WhisperX wrote, as a file path or inline) in place of
//! `context`. Each segment becomes one timed turn, its speaker from WhisperX's
//! diarization (renamed and given a role by the line's `speakers` map), its ASR
//! confidence the mean of its words' probabilities (Whisper) or scores (WhisperX), or
//! `exp(avg_logprob)` when the segment lists no words. A transcript named by path
//! brings the audio lying beside it (the same stem with an audio extension) unless the
//! line names `media` itself.
//!
//! Word timings are read for the confidence only: the domain's turn has no place for
//! them, and a turn is what annotators judge.

use crate::feed::ReadOptions;
use crate::lines::LineError;
use crate::media::MediaOptions;
use plumbline_domain::Role;
use serde_json::{Map, Value};
use std::path::Path;

/// Audio extensions looked for beside a transcript file, in this order.
const AUDIO_EXTENSIONS: [&str; 6] = ["wav", "mp3", "ogg", "opus", "flac", "webm"];

/// Whether `text` may hold a `transcript` field: a cheap test, so native lines without
/// one are parsed once, as before.
pub fn may_hold(text: &str) -> bool {
    text.contains("\"transcript\"")
}

/// The line rewritten as a native item when it gives a `transcript` (its segments as
/// `context`, its audio as `media`); `None` when it gives none.
pub fn expand_line(text: &str, line: u64, opts: &ReadOptions) -> Result<Option<String>, LineError> {
    let mut item = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(item)) => item,
        // Not an object: the native reader names what is wrong.
        Ok(_) => return Ok(None),
        // serde would stop at `transcript` as an unknown field before it saw the
        // broken JSON; say what is wrong instead.
        Err(e) => {
            let msg = e.to_string();
            let msg = msg.rfind(" at line ").map_or(msg.as_str(), |at| &msg[..at]);
            return Err(LineError::new(
                line,
                None,
                format!("{msg} (column {})", e.column()),
            ));
        }
    };
    let Some(transcript) = item.remove("transcript") else {
        return Ok(None);
    };
    let at = |field: &str, reason: String| LineError::new(line, Some(field.to_owned()), reason);
    if item.contains_key("context") {
        return Err(at(
            "transcript",
            "give `context` or `transcript`, not both".into(),
        ));
    }
    let speakers = match item.remove("speakers") {
        None => Speakers::default(),
        Some(v) => Speakers::parse(&v).map_err(|(f, r)| at(&f, r))?,
    };
    let (transcript, source) = match transcript {
        Value::String(path) => {
            let (value, beside) = read_file(&path, opts).map_err(|r| at("transcript", r))?;
            if !item.contains_key("media")
                && let Some(audio) = beside
            {
                item.insert("media".into(), serde_json::json!({ "path": audio }));
            }
            (value, Some(path))
        }
        v @ Value::Object(_) => (v, None),
        _ => {
            return Err(at(
                "transcript",
                "must be a file path (a Whisper or WhisperX JSON file) or that JSON object".into(),
            ));
        }
    };
    let turns = turns(&transcript, &speakers).map_err(|(field, reason)| {
        let reason = match &source {
            Some(path) => format!("`{path}`: {reason}"),
            None => reason,
        };
        at(&format!("transcript{field}"), reason)
    })?;
    if let Some(name) = speakers.unheard(&turns) {
        return Err(at(
            &format!("speakers.{name}"),
            format!("speaker `{name}` does not speak in the transcript"),
        ));
    }
    let context: Vec<Value> = turns.into_iter().map(Turn::into_json).collect();
    item.insert("context".into(), Value::Array(context));
    Ok(Some(Value::Object(item).to_string()))
}

/// Reads a transcript file named by path, and finds the audio lying beside it.
fn read_file(path: &str, opts: &ReadOptions) -> Result<(Value, Option<String>), String> {
    plumbline_domain::media::check_file_path("transcript", path).map_err(|e| e.reason)?;
    let Some(media) = opts.media.as_ref() else {
        return Err(format!(
            "`{path}`: this import reads no files (an API body has no directory); give the \
             transcript inline, or send it as a part of a multipart import"
        ));
    };
    let bytes = media.read(path)?;
    let value: Value = serde_json::from_slice(&bytes)
        .map_err(|e| format!("`{path}`: not a Whisper or WhisperX JSON file: {e}"))?;
    Ok((value, audio_beside(path, media)?))
}

/// The audio file with the transcript's stem and an audio extension beside it (sent
/// along, or in the import's directories); an error when more than one lies there.
fn audio_beside(path: &str, media: &MediaOptions) -> Result<Option<String>, String> {
    let found: Vec<String> = AUDIO_EXTENSIONS
        .iter()
        .map(|ext| {
            Path::new(path)
                .with_extension(ext)
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| media.has(p))
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        many => Err(format!(
            "`{path}`: several audio files lie beside it ({}); name one by `media.path`",
            many.iter()
                .map(|p| format!("`{p}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}

/// How diarization labels (`SPEAKER_00`) become turns' speakers and roles.
#[derive(Default)]
struct Speakers(Vec<(String, Option<String>, Role)>);

impl Speakers {
    /// Reads `{"SPEAKER_00": {"label": "agent", "role": "assistant"}, ...}`.
    fn parse(v: &Value) -> Result<Speakers, (String, String)> {
        let Value::Object(map) = v else {
            return Err((
                "speakers".into(),
                "must map each speaker of the transcript to `{\"label\": …, \"role\": …}`".into(),
            ));
        };
        let mut out = Vec::with_capacity(map.len());
        for (name, entry) in map {
            let field = |k: &str| format!("speakers.{name}{k}");
            let Value::Object(entry) = entry else {
                return Err((
                    field(""),
                    "must be an object with `label` and/or `role`".into(),
                ));
            };
            if let Some(k) = entry.keys().find(|k| *k != "label" && *k != "role") {
                return Err((
                    field(&format!(".{k}")),
                    "unknown field (expected `label` or `role`)".into(),
                ));
            }
            let label = match entry.get("label") {
                None => None,
                Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_owned()),
                Some(_) => return Err((field(".label"), "must be non-empty text".into())),
            };
            let role = match entry.get("role") {
                None => Role::User,
                Some(r) => serde_json::from_value(r.clone()).map_err(|_| {
                    (
                        field(".role"),
                        "must be `user`, `assistant`, `system` or `tool`".to_owned(),
                    )
                })?,
            };
            out.push((name.clone(), label, role));
        }
        Ok(Speakers(out))
    }

    /// The label and role of a turn spoken by `speaker` (as the transcript names it).
    fn of(&self, speaker: Option<&str>) -> (Option<String>, Role) {
        let Some(speaker) = speaker else {
            return (None, Role::User);
        };
        match self.0.iter().find(|(name, _, _)| name == speaker) {
            Some((_, label, role)) => (label.clone().or_else(|| Some(speaker.to_owned())), *role),
            None => (Some(speaker.to_owned()), Role::User),
        }
    }

    /// A speaker of the map no turn was spoken by (most likely a typo).
    fn unheard<'a>(&'a self, turns: &[Turn]) -> Option<&'a str> {
        self.0
            .iter()
            .map(|(name, _, _)| name.as_str())
            .find(|name| !turns.iter().any(|t| t.heard_as.as_deref() == Some(*name)))
    }
}

/// One turn made from one segment.
struct Turn {
    role: Role,
    content: String,
    speaker: Option<String>,
    /// The speaker as the transcript names it, before the `speakers` map.
    heard_as: Option<String>,
    start: f64,
    end: f64,
    asr_confidence: Option<f64>,
}

impl Turn {
    fn into_json(self) -> Value {
        let mut t = Map::new();
        t.insert(
            "role".into(),
            serde_json::to_value(self.role).unwrap_or(Value::Null),
        );
        t.insert("content".into(), Value::String(self.content));
        if let Some(s) = self.speaker {
            t.insert("speaker".into(), Value::String(s));
        }
        t.insert("start".into(), number(self.start));
        t.insert("end".into(), number(self.end));
        if let Some(c) = self.asr_confidence {
            t.insert("asr_confidence".into(), number(c));
        }
        Value::Object(t)
    }
}

fn number(x: f64) -> Value {
    serde_json::Number::from_f64(x).map_or(Value::Null, Value::Number)
}

/// The transcript's segments as turns; an error names the field below `transcript`
/// (`.segments[3].end`) and the reason.
fn turns(transcript: &Value, speakers: &Speakers) -> Result<Vec<Turn>, (String, String)> {
    let Some(segments) = transcript.get("segments") else {
        return Err((
            String::new(),
            "has no `segments`: not the JSON of Whisper (`verbose_json`, or the `whisper` \
             command's `.json`) or of WhisperX"
                .into(),
        ));
    };
    let Value::Array(segments) = segments else {
        return Err((".segments".into(), "must be a list".into()));
    };
    let mut out = Vec::with_capacity(segments.len());
    for (i, seg) in segments.iter().enumerate() {
        let field = |k: &str| format!(".segments[{i}]{k}");
        let Value::Object(seg) = seg else {
            return Err((field(""), "must be an object".into()));
        };
        let text = match seg.get("text") {
            Some(Value::String(s)) => s.trim(),
            _ => return Err((field(".text"), "must be text".into())),
        };
        let time = |k: &str| match seg.get(k).and_then(Value::as_f64) {
            Some(t) if t.is_finite() && t >= 0.0 => Ok(t),
            _ => Err((
                field(&format!(".{k}")),
                "must be a non-negative number of seconds".to_owned(),
            )),
        };
        let (start, end) = (time("start")?, time("end")?);
        if end < start {
            return Err((
                field(".end"),
                format!("ends ({end}) before it starts ({start})"),
            ));
        }
        // Whisper writes empty segments over silence; they hold nothing to judge.
        if text.is_empty() {
            continue;
        }
        let words = match seg.get("words") {
            None | Some(Value::Null) => &[][..],
            Some(Value::Array(w)) => w.as_slice(),
            Some(_) => return Err((field(".words"), "must be a list".into())),
        };
        let heard_as = speaker_of(seg, words);
        let (speaker, role) = speakers.of(heard_as.as_deref());
        out.push(Turn {
            role,
            content: text.to_owned(),
            speaker,
            heard_as,
            start,
            end,
            asr_confidence: confidence(seg, words),
        });
    }
    if out.is_empty() {
        return Err((".segments".into(), "holds no spoken segment".into()));
    }
    Ok(out)
}

/// WhisperX's speaker of a segment; when only its words carry one, the one that speaks
/// most of them.
fn speaker_of(seg: &Map<String, Value>, words: &[Value]) -> Option<String> {
    if let Some(Value::String(s)) = seg.get("speaker") {
        return Some(s.clone());
    }
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for w in words {
        if let Some(s) = w.get("speaker").and_then(Value::as_str) {
            match counts.iter_mut().find(|(name, _)| *name == s) {
                Some((_, n)) => *n += 1,
                None => counts.push((s, 1)),
            }
        }
    }
    // The first of equals wins, so the result does not depend on hashing.
    let mut best: Option<(&str, usize)> = None;
    for (s, n) in counts {
        if best.is_none_or(|(_, m)| n > m) {
            best = Some((s, n));
        }
    }
    best.map(|(s, _)| s.to_owned())
}

/// The mean of the words' probabilities (Whisper) or scores (WhisperX; words it could
/// not align, such as numerals, have none), else `exp(avg_logprob)`; in [0, 1], to four
/// decimals.
fn confidence(seg: &Map<String, Value>, words: &[Value]) -> Option<f64> {
    let scores: Vec<f64> = words
        .iter()
        .filter_map(|w| {
            w.get("probability")
                .or_else(|| w.get("score"))
                .and_then(Value::as_f64)
        })
        .filter(|p| p.is_finite())
        .collect();
    let c = if scores.is_empty() {
        seg.get("avg_logprob")
            .and_then(Value::as_f64)
            .filter(|l| l.is_finite())?
            .exp()
    } else {
        scores.iter().sum::<f64>() / scores.len() as f64
    };
    Some((c.clamp(0.0, 1.0) * 10_000.0).round() / 10_000.0)
}
