//! The one check of a WebM (Matroska) file symphonia does not make: a file whose
//! Segment declares more bytes than it holds was cut off (symphonia reads the clusters
//! that are there as a shorter recording). A live recorder (a browser's MediaRecorder)
//! writes the Segment's size as unknown; such a file cannot be told from a shorter one.

use crate::MediaError;

const EBML_HEADER: u32 = 0x1A45_DFA3;
const SEGMENT: u32 = 0x1853_8067;

/// Refuses a WebM file whose Segment ends past the end of the file.
pub(crate) fn check_webm_end(bytes: &[u8]) -> Result<(), MediaError> {
    let corrupt = |what: &str| MediaError::Corrupt(format!("the WebM file {what}"));
    let (id, at) = element_id(bytes, 0).ok_or_else(|| corrupt("has no EBML header"))?;
    if id != EBML_HEADER {
        return Err(corrupt("does not start with an EBML header"));
    }
    let (size, at) = read_size(bytes, at).ok_or_else(|| corrupt("has a cut EBML header"))?;
    let at = size
        .and_then(|s| at.checked_add(usize::try_from(s).ok()?))
        .ok_or_else(|| corrupt("has an EBML header of no known size"))?;
    let (id, at) = element_id(bytes, at)
        .ok_or_else(|| MediaError::Truncated("the WebM file ends before its Segment".into()))?;
    if id != SEGMENT {
        return Err(corrupt("has no Segment after its EBML header"));
    }
    let (size, at) = read_size(bytes, at)
        .ok_or_else(|| MediaError::Truncated("the WebM file ends in its Segment's size".into()))?;
    match size {
        Some(declared) if (at as u64).saturating_add(declared) > bytes.len() as u64 => {
            Err(MediaError::Truncated(format!(
                "the WebM Segment declares {declared} bytes but the file holds {} after its header",
                bytes.len() - at
            )))
        }
        _ => Ok(()),
    }
}

/// An element ID (its marker bits kept, as IDs are written) and the offset after it.
fn element_id(bytes: &[u8], at: usize) -> Option<(u32, usize)> {
    let first = *bytes.get(at)?;
    let len = first.leading_zeros() as usize + 1;
    if len > 4 {
        return None;
    }
    let raw = bytes.get(at..at + len)?;
    Some((
        raw.iter().fold(0u32, |v, b| (v << 8) | u32::from(*b)),
        at + len,
    ))
}

/// A size (`None` when written as unknown: every value bit set) and the offset after it.
fn read_size(bytes: &[u8], at: usize) -> Option<(Option<u64>, usize)> {
    let first = *bytes.get(at)?;
    if first == 0 {
        return None;
    }
    let len = first.leading_zeros() as usize + 1;
    let raw = bytes.get(at..at + len)?;
    let mask = if len == 8 { 0 } else { 0xFFu8 >> len };
    let value = raw[1..]
        .iter()
        .fold(u64::from(first & mask), |v, b| (v << 8) | u64::from(*b));
    let unknown = value == (1u64 << (7 * len)) - 1;
    Some(((!unknown).then_some(value), at + len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(segment_size: &[u8], body: usize) -> Vec<u8> {
        let mut f = vec![0x1A, 0x45, 0xDF, 0xA3, 0x84, 0x42, 0x86, 0x81, 0x01];
        f.extend_from_slice(&[0x18, 0x53, 0x80, 0x67]);
        f.extend_from_slice(segment_size);
        f.extend(std::iter::repeat_n(0u8, body));
        f
    }

    #[test]
    fn a_segment_longer_than_the_file_is_truncated() {
        assert!(check_webm_end(&file(&[0x8A], 10)).is_ok());
        assert!(check_webm_end(&file(&[0x8A], 12)).is_ok());
        let cut = check_webm_end(&file(&[0x8A], 9)).unwrap_err();
        assert!(cut.to_string().contains("declares 10 bytes"), "{cut}");
        // Two-byte size 0x4100 = 256.
        assert!(check_webm_end(&file(&[0x41, 0x00], 255)).is_err());
        // Unknown size (a live recording): no promise to check.
        assert!(
            check_webm_end(&file(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF], 3)).is_ok()
        );
        assert!(check_webm_end(&file(&[0xFF], 3)).is_ok());
        assert!(check_webm_end(&[0x1A, 0x45]).is_err());
    }
}
