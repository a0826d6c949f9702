//! Telling the container from its first bytes, before any decoder sees them.

use crate::MediaError;

/// The containers browsers play, as stored and served.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// RIFF WAVE with PCM samples.
    Wav,
    /// MPEG-1/2 layer III.
    Mp3,
    /// Ogg with Vorbis or Opus (or FLAC).
    Ogg,
    /// Native FLAC.
    Flac,
    /// WebM (Matroska) with Opus or Vorbis.
    WebM,
}

impl Container {
    /// The content type it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Container::Wav => "audio/wav",
            Container::Mp3 => "audio/mpeg",
            Container::Ogg => "audio/ogg",
            Container::Flac => "audio/flac",
            Container::WebM => "audio/webm",
        }
    }

    /// The container of a stored content type.
    pub fn from_content_type(content_type: &str) -> Option<Container> {
        [
            Container::Wav,
            Container::Mp3,
            Container::Ogg,
            Container::Flac,
            Container::WebM,
        ]
        .into_iter()
        .find(|c| c.content_type() == content_type)
    }

    /// The file extension of a release's media file.
    pub fn extension(self) -> &'static str {
        match self {
            Container::Wav => "wav",
            Container::Mp3 => "mp3",
            Container::Ogg => "ogg",
            Container::Flac => "flac",
            Container::WebM => "webm",
        }
    }
}

/// The container `bytes` start with, or why none fits.
pub fn container(bytes: &[u8]) -> Result<Container, MediaError> {
    let starts = |magic: &[u8]| bytes.starts_with(magic);
    if bytes.len() >= 12 && starts(b"RIFF") && &bytes[8..12] == b"WAVE" {
        return Ok(Container::Wav);
    }
    if starts(b"fLaC") {
        return Ok(Container::Flac);
    }
    if starts(b"OggS") {
        return Ok(Container::Ogg);
    }
    if starts(&[0x1A, 0x45, 0xDF, 0xA3]) {
        return Ok(Container::WebM);
    }
    // An MP3 starts with an ID3v2 tag or directly with a frame's sync word.
    if starts(b"ID3") || (bytes.len() >= 2 && bytes[0] == 0xFF && bytes[1] & 0xE0 == 0xE0) {
        return Ok(Container::Mp3);
    }
    if bytes.is_empty() {
        return Err(MediaError::Unsupported("the file is empty".into()));
    }
    let head: Vec<String> = bytes.iter().take(8).map(|b| format!("{b:02x}")).collect();
    Err(MediaError::Unsupported(format!(
        "not WAV, MP3, Ogg (Vorbis or Opus), FLAC or WebM audio (it starts with bytes {})",
        head.join(" ")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_magics_and_refusals() {
        assert_eq!(container(b"RIFF\0\0\0\0WAVEfmt ").unwrap(), Container::Wav);
        assert_eq!(container(b"OggS\0\x02").unwrap(), Container::Ogg);
        assert_eq!(container(b"fLaC\0").unwrap(), Container::Flac);
        assert_eq!(container(b"ID3\x04").unwrap(), Container::Mp3);
        assert_eq!(
            container(&[0x1A, 0x45, 0xDF, 0xA3, 1]).unwrap(),
            Container::WebM
        );
        let err = container(b"RIFF\0\0\0\0AVI LIST").unwrap_err().to_string();
        assert!(err.contains("52 49 46 46"), "{err}");
        let err = container(b"%PDF-1.7").unwrap_err().to_string();
        assert!(err.contains("unsupported audio format"), "{err}");
        assert!(container(b"").unwrap_err().to_string().contains("empty"));
    }

    #[test]
    fn content_types_round_trip() {
        for c in [
            Container::Wav,
            Container::Mp3,
            Container::Ogg,
            Container::Flac,
            Container::WebM,
        ] {
            assert_eq!(Container::from_content_type(c.content_type()), Some(c));
        }
        assert_eq!(Container::from_content_type("text/html"), None);
    }
}
