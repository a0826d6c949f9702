//! Reading a file through symphonia: every packet is demuxed and, where a decoder
//! exists, decoded, so a corrupt or truncated file is found at import, not in the
//! player. Opus has no pure-Rust decoder in symphonia: its duration comes from the
//! container's timestamps and it has no peaks.

use crate::peaks::{Envelope, Peaks};
use crate::{AudioInfo, Container, MediaError};
use symphonia::core::audio::SampleBuffer;
use symphonia::core::codecs::{
    CODEC_TYPE_FLAC, CODEC_TYPE_MP3, CODEC_TYPE_NULL, CODEC_TYPE_OPUS, CODEC_TYPE_VORBIS,
    CodecType, DecoderOptions,
};
use symphonia::core::errors::Error;
use symphonia::core::formats::{FormatOptions, FormatReader};
use symphonia::core::io::{MediaSourceStream, MediaSourceStreamOptions};
use symphonia::core::meta::MetadataOptions;
use symphonia::core::probe::Hint;

/// What decoding found.
pub(crate) struct Decoded {
    pub info: AudioInfo,
    pub peaks: Option<Peaks>,
    /// Interleaved 16-bit samples, when asked for and decodable.
    pub samples: Option<Vec<i16>>,
}

/// Decodes `bytes` of `container` whole; keeps the samples when `keep_samples`.
pub(crate) fn decode(
    bytes: bytes::Bytes,
    container: Container,
    keep_samples: bool,
) -> Result<Decoded, MediaError> {
    if container == Container::Ogg {
        check_ogg_end(&bytes)?;
    }
    if container == Container::WebM {
        crate::ebml::check_webm_end(&bytes)?;
    }
    let declared_len = (container == Container::Wav)
        .then(|| wav_declared_data(&bytes))
        .flatten();
    let total = bytes.len() as u64;
    let whole = bytes.clone();
    let mss = MediaSourceStream::new(
        Box::new(std::io::Cursor::new(bytes)),
        MediaSourceStreamOptions::default(),
    );
    let mut hint = Hint::new();
    hint.with_extension(container.extension());
    let probed = symphonia::default::get_probe()
        .format(
            &hint,
            mss,
            &FormatOptions {
                enable_gapless: true,
                ..FormatOptions::default()
            },
            &MetadataOptions::default(),
        )
        .map_err(|e| corrupt(container, e))?;
    let mut format = probed.format;
    let track = format
        .tracks()
        .iter()
        .find(|t| t.codec_params.codec != CODEC_TYPE_NULL)
        .ok_or_else(|| MediaError::Corrupt(format!("the {container:?} file holds no audio track")))?
        .clone();
    let params = &track.codec_params;
    let codec = codec_name(container, params.codec)?;
    let sample_rate = params
        .sample_rate
        .filter(|r| *r > 0)
        .ok_or_else(|| MediaError::Corrupt("the file does not state its sample rate".into()))?;
    let channels = params.channels.map(|c| c.count() as u16).unwrap_or(0);
    if let Some(declared) = declared_len
        && declared > total
    {
        return Err(MediaError::Truncated(format!(
            "the WAV header declares {declared} bytes but the file has {total}"
        )));
    }
    if params.codec == CODEC_TYPE_OPUS {
        let frames = count_frames(&mut *format, track.id, container)?;
        return Ok(Decoded {
            info: AudioInfo {
                container,
                codec,
                duration: frames as f64 / f64::from(sample_rate),
                sample_rate,
                channels: channels.max(1),
            },
            peaks: None,
            samples: None,
        });
    }
    if params.codec == symphonia::core::codecs::CODEC_TYPE_PCM_S16LE
        && let Some(data) = wav_data(&whole)
    {
        return Ok(pcm16(data, sample_rate, channels.max(1), keep_samples));
    }
    let mut decoder = symphonia::default::get_codecs()
        .make(params, &DecoderOptions::default())
        .map_err(|e| MediaError::Unsupported(format!("{codec} cannot be decoded: {e}")))?;
    let channels = channels.max(1);
    let mut envelope = Envelope::new(sample_rate, channels);
    let mut samples: Vec<i16> = Vec::new();
    let mut buf_f32: Option<SampleBuffer<f32>> = None;
    let mut buf_i16: Option<SampleBuffer<i16>> = None;
    let mut frames = 0u64;
    let mut channels_seen = channels;
    loop {
        let packet = match format.next_packet() {
            Ok(p) => p,
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(corrupt(container, e)),
        };
        if packet.track_id() != track.id {
            continue;
        }
        let audio = decoder.decode(&packet).map_err(|e| corrupt(container, e))?;
        let spec = *audio.spec();
        channels_seen = spec.channels.count() as u16;
        let n = audio.frames() as u64;
        frames += n;
        if keep_samples {
            let b = buf_i16.get_or_insert_with(|| SampleBuffer::new(audio.capacity() as u64, spec));
            if b.capacity() < audio.capacity() * spec.channels.count() {
                *b = SampleBuffer::new(audio.capacity() as u64, spec);
            }
            b.copy_interleaved_ref(audio);
            samples.extend_from_slice(b.samples());
        } else {
            let b = buf_f32.get_or_insert_with(|| SampleBuffer::new(audio.capacity() as u64, spec));
            if b.capacity() < audio.capacity() * spec.channels.count() {
                *b = SampleBuffer::new(audio.capacity() as u64, spec);
            }
            b.copy_interleaved_ref(audio);
            envelope.push_interleaved(b.samples());
        }
    }
    if frames == 0 {
        return Err(MediaError::Corrupt(
            "the file holds no audio samples".into(),
        ));
    }
    check_declared_frames(params.n_frames, frames, container, codec)?;
    let info = AudioInfo {
        container,
        codec,
        duration: frames as f64 / f64::from(sample_rate),
        sample_rate,
        channels: channels_seen,
    };
    let peaks = if keep_samples {
        Some(Peaks::from_samples(&samples, channels_seen, sample_rate))
    } else {
        Some(envelope.finish())
    };
    Ok(Decoded {
        info,
        peaks,
        samples: keep_samples.then_some(samples),
    })
}

/// Refuses a file whose header promises more frames than it holds (a cut-off upload).
fn check_declared_frames(
    declared: Option<u64>,
    decoded: u64,
    container: Container,
    codec: &str,
) -> Result<(), MediaError> {
    // MP3's frame count (a Xing header) includes the encoder's padding frames.
    let slack = if codec == "mp3" { 2 * 1152 } else { 0 };
    match declared {
        Some(n) if container != Container::WebM && decoded + slack < n => {
            Err(MediaError::Truncated(format!(
                "the header declares {n} sample frames but only {decoded} decode"
            )))
        }
        _ => Ok(()),
    }
}

/// Counts the frames of a track by its packets' timestamps (Opus: no decoder).
fn count_frames(
    format: &mut dyn FormatReader,
    track: u32,
    container: Container,
) -> Result<u64, MediaError> {
    let mut end = 0u64;
    let mut start = None;
    loop {
        match format.next_packet() {
            Ok(p) if p.track_id() == track => {
                start.get_or_insert(p.ts());
                end = end.max(p.ts() + p.dur());
            }
            Ok(_) => {}
            Err(Error::IoError(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(corrupt(container, e)),
        }
    }
    let frames = end.saturating_sub(start.unwrap_or(0));
    if frames == 0 {
        return Err(MediaError::Corrupt(
            "the file holds no audio packets".into(),
        ));
    }
    Ok(frames)
}

/// The codec's name, or a refusal of one browsers do not play in this container.
fn codec_name(container: Container, codec: CodecType) -> Result<&'static str, MediaError> {
    use symphonia::core::codecs::{
        CODEC_TYPE_PCM_F32LE, CODEC_TYPE_PCM_S16LE, CODEC_TYPE_PCM_S24LE, CODEC_TYPE_PCM_S32LE,
        CODEC_TYPE_PCM_U8,
    };
    let name = match (container, codec) {
        (
            Container::Wav,
            CODEC_TYPE_PCM_S16LE | CODEC_TYPE_PCM_S24LE | CODEC_TYPE_PCM_S32LE | CODEC_TYPE_PCM_U8
            | CODEC_TYPE_PCM_F32LE,
        ) => "pcm",
        (Container::Mp3, CODEC_TYPE_MP3) => "mp3",
        (Container::Flac | Container::Ogg, CODEC_TYPE_FLAC) => "flac",
        (Container::Ogg | Container::WebM, CODEC_TYPE_VORBIS) => "vorbis",
        (Container::Ogg | Container::WebM, CODEC_TYPE_OPUS) => "opus",
        (c, other) => {
            let name = symphonia::default::get_codecs()
                .get_codec(other)
                .map(|d| d.short_name)
                .unwrap_or("an unknown codec");
            return Err(MediaError::Unsupported(format!(
                "{c:?} with {name} is not a format browsers play (WAV must hold PCM; Ogg and \
                 WebM must hold Vorbis or Opus)"
            )));
        }
    };
    Ok(name)
}

/// 16-bit PCM needs no decoder: the samples are the data chunk's bytes, read here
/// directly (several times faster than through a sample buffer).
fn pcm16(data: &[u8], sample_rate: u32, channels: u16, keep_samples: bool) -> Decoded {
    let whole_frames = data.len() / (2 * usize::from(channels));
    let data = &data[..whole_frames * 2 * usize::from(channels)];
    let samples = data
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]));
    let (peaks, kept) = if keep_samples {
        let kept: Vec<i16> = samples.collect();
        (
            Peaks::from_samples(&kept, channels, sample_rate),
            Some(kept),
        )
    } else {
        let mut envelope = Envelope::new(sample_rate, channels);
        let mut floats = Vec::with_capacity(8192 * usize::from(channels));
        for chunk in data.chunks(2 * 8192 * usize::from(channels)) {
            floats.clear();
            floats.extend(
                chunk
                    .chunks_exact(2)
                    .map(|b| f32::from(i16::from_le_bytes([b[0], b[1]])) / 32768.0),
            );
            envelope.push_interleaved(&floats);
        }
        (envelope.finish(), None)
    };
    Decoded {
        info: AudioInfo {
            container: Container::Wav,
            codec: "pcm",
            duration: whole_frames as f64 / f64::from(sample_rate),
            sample_rate,
            channels,
        },
        peaks: Some(peaks),
        samples: kept,
    }
}

/// The bytes of a WAV file's data chunk (clipped to the file).
fn wav_data(bytes: &[u8]) -> Option<&[u8]> {
    let mut at = 12usize;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?) as usize;
        if id == b"data" {
            return Some(&bytes[at + 8..bytes.len().min((at + 8).saturating_add(len))]);
        }
        at = at.checked_add(8 + len + (len & 1))?;
    }
    None
}

/// The data chunk's end that a WAV header declares, if it is there to read.
fn wav_declared_data(bytes: &[u8]) -> Option<u64> {
    let mut at = 12usize;
    while at + 8 <= bytes.len() {
        let id = &bytes[at..at + 4];
        let len = u32::from_le_bytes(bytes[at + 4..at + 8].try_into().ok()?);
        if id == b"data" {
            // Streaming writers leave the length at its largest value: no promise.
            return (len != u32::MAX && len != 0).then_some((at + 8) as u64 + u64::from(len));
        }
        at = at.checked_add(8 + len as usize + (len as usize & 1))?;
    }
    None
}

/// An Ogg stream ends with a complete page that carries the end-of-stream flag; a cut
/// file does not (symphonia would read it as a shorter stream).
fn check_ogg_end(bytes: &[u8]) -> Result<(), MediaError> {
    let tail_from = bytes.len().saturating_sub(128 << 10);
    let tail = &bytes[tail_from..];
    let Some(at) = memchr_last(tail, b"OggS") else {
        return Err(MediaError::Corrupt("no Ogg page found".into()));
    };
    let page = &tail[at..];
    let truncated = || {
        MediaError::Truncated(
            "the Ogg stream's last page is cut off or lacks its end-of-stream mark".into(),
        )
    };
    if page.len() < 27 {
        return Err(truncated());
    }
    let segments = usize::from(page[26]);
    if page.len() < 27 + segments {
        return Err(truncated());
    }
    let body: usize = page[27..27 + segments]
        .iter()
        .map(|&l| usize::from(l))
        .sum();
    if page.len() != 27 + segments + body || page[5] & 0x04 == 0 {
        return Err(truncated());
    }
    Ok(())
}

fn memchr_last(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).rposition(|w| w == needle)
}

fn corrupt(container: Container, e: Error) -> MediaError {
    match e {
        Error::Unsupported(what) => {
            MediaError::Unsupported(format!("{container:?} file: {what} is not supported"))
        }
        Error::IoError(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            MediaError::Truncated(format!("the {container:?} file ends early"))
        }
        other => MediaError::Corrupt(format!("the {container:?} file does not decode: {other}")),
    }
}
