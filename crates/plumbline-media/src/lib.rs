//! Call audio: tell a file's format from its bytes, read its duration and sample rate
//! with symphonia, refuse what browsers cannot play or what is corrupt or truncated,
//! silence redacted ranges, and compute the waveform peaks the player draws.
//!
//! Architecture invariant: this crate does no IO; it takes bytes and returns bytes.
#![forbid(unsafe_code)]

mod decode;
mod ebml;
pub mod guard;
mod peaks;
mod sniff;
mod wav;

pub use peaks::Peaks;
pub use sniff::Container;
pub use wav::encode as encode_wav;

use sha2::{Digest, Sha256};

/// Why an audio file was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum MediaError {
    /// Not one of the formats browsers play.
    #[error("unsupported audio format: {0}")]
    Unsupported(String),
    /// The bytes do not decode.
    #[error("corrupt audio: {0}")]
    Corrupt(String),
    /// The file ends before its own header says it does.
    #[error("truncated audio: {0}")]
    Truncated(String),
    /// A redaction range is not inside the audio, or redaction is not possible.
    #[error("{0}")]
    Redaction(String),
    /// Larger than the configured cap.
    #[error("the audio file is {size} bytes, over the cap of {cap} bytes")]
    TooLarge {
        /// The file's size.
        size: u64,
        /// The cap.
        cap: u64,
    },
}

/// What probing a file found.
#[derive(Debug, Clone, PartialEq)]
pub struct AudioInfo {
    /// The container.
    pub container: Container,
    /// The codec's name (`pcm`, `mp3`, `vorbis`, `opus`, `flac`).
    pub codec: &'static str,
    /// Length in seconds.
    pub duration: f64,
    /// Samples per second of one channel.
    pub sample_rate: u32,
    /// Number of channels.
    pub channels: u16,
}

impl AudioInfo {
    /// The HTTP content type the file is served with.
    pub fn content_type(&self) -> &'static str {
        self.container.content_type()
    }
}

/// Audio ready to store: the bytes (redacted if asked), their SHA-256, what they hold
/// and their peaks.
#[derive(Debug, Clone)]
pub struct PreparedAudio {
    /// The bytes to store (never the original when ranges were redacted).
    pub bytes: bytes::Bytes,
    /// SHA-256 of `bytes`.
    pub sha256: [u8; 32],
    /// Format, duration, sample rate of `bytes`.
    pub info: AudioInfo,
    /// Min/max pairs of the waveform; `None` for Opus, which no decoder here reads.
    pub peaks: Option<Peaks>,
}

/// A time range in seconds, `start < end`.
pub type Range = (f64, f64);

/// Probes `bytes` (decoding them whole where a decoder exists, so corruption and
/// truncation are found) and, when `redact` names ranges, replaces the audio by a WAV
/// with those ranges silenced. Refuses files over `max_bytes`.
pub fn prepare(
    bytes: bytes::Bytes,
    redact: &[Range],
    max_bytes: u64,
) -> Result<PreparedAudio, MediaError> {
    let size = bytes.len() as u64;
    if size > max_bytes {
        return Err(MediaError::TooLarge {
            size,
            cap: max_bytes,
        });
    }
    let container = sniff::container(&bytes)?;
    if redact.is_empty() {
        let decoded = guarded(container, || {
            decode::decode(bytes.clone(), container, false)
        })?;
        let sha256 = Sha256::digest(&bytes).into();
        return Ok(PreparedAudio {
            bytes,
            sha256,
            info: decoded.info,
            peaks: decoded.peaks,
        });
    }
    let decoded = guarded(container, || decode::decode(bytes, container, true))?;
    let info = decoded.info;
    let Some(mut samples) = decoded.samples else {
        return Err(MediaError::Redaction(format!(
            "{} audio cannot be redacted here (no {} decoder); convert it to WAV or FLAC first",
            info.codec, info.codec
        )));
    };
    for &(start, end) in redact {
        check_range(start, end, info.duration)?;
        let channels = usize::from(info.channels);
        let frame = |t: f64| ((t * f64::from(info.sample_rate)).round() as usize) * channels;
        let (a, b) = (frame(start), frame(end).min(samples.len()));
        samples[a.min(b)..b].fill(0);
    }
    let wav = wav::encode(&samples, info.sample_rate, info.channels);
    let peaks = Peaks::from_samples(&samples, info.channels, info.sample_rate);
    let sha256 = Sha256::digest(&wav).into();
    Ok(PreparedAudio {
        sha256,
        bytes: bytes::Bytes::from(wav),
        info: AudioInfo {
            container: Container::Wav,
            codec: "pcm",
            ..info
        },
        peaks: Some(peaks),
    })
}

/// Runs a decode and turns a panic into a refusal of the file. symphonia's demuxers
/// panic on some corrupt input (the Matroska reader shifts by a negative width on an
/// EBML size byte of zero) where they should return an error; a corrupt upload must be
/// refused, not take down the import or the request. The panic hook stays quiet for
/// these.
fn guarded<T>(
    container: Container,
    f: impl FnOnce() -> Result<T, MediaError>,
) -> Result<T, MediaError> {
    guard::catch_panic(f).unwrap_or_else(|why| {
        let why = why.unwrap_or_else(|| "the demuxer failed".into());
        Err(MediaError::Corrupt(format!(
            "the {container:?} file does not decode: {why}"
        )))
    })
}

/// Refuses a range that is empty, reversed or not inside `duration` seconds.
pub fn check_range(start: f64, end: f64, duration: f64) -> Result<(), MediaError> {
    if !(start.is_finite() && end.is_finite()) || start < 0.0 || end <= start {
        return Err(MediaError::Redaction(format!(
            "redaction range {start}–{end} s is not a range (start must be ≥ 0 and before end)"
        )));
    }
    if end > duration + TOLERANCE {
        return Err(MediaError::Redaction(format!(
            "redaction range {start}–{end} s ends after the audio ({duration:.3} s)"
        )));
    }
    Ok(())
}

/// How far past the decoded end a time may lie and still count as inside the audio:
/// transcripts round times and encoders pad the last frame.
pub const TOLERANCE: f64 = 0.05;

/// SHA-256 as lower-case hex.
pub fn hex(digest: &[u8]) -> String {
    use std::fmt::Write;
    digest.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
