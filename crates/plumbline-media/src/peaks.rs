//! The waveform's peaks: min/max pairs of the mono mix, computed once at import so the
//! player draws the whole call without fetching or decoding its audio.

use serde::Serialize;

/// Fewest and most pairs kept: enough for a wide screen, small as JSON.
const MIN_PAIRS: usize = 1000;
const MAX_PAIRS: usize = 4000;
/// Pairs per second of audio between those bounds.
const PAIRS_PER_SECOND: f64 = 20.0;
/// Fine blocks per second gathered while decoding, merged into pairs at the end.
const BLOCKS_PER_SECOND: u32 = 400;

/// Min/max pairs of the waveform (mono mix, samples in [-1, 1]), evenly spaced.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Peaks {
    /// Samples per second of the audio.
    pub sample_rate: u32,
    /// Sample frames each pair covers (the last may cover fewer).
    pub frames_per_pair: u64,
    /// `[min, max]` of each span, in order.
    pub peaks: Vec<[f32; 2]>,
}

impl Peaks {
    /// The peaks of interleaved 16-bit samples.
    pub fn from_samples(samples: &[i16], channels: u16, sample_rate: u32) -> Peaks {
        let mut env = Envelope::new(sample_rate, channels);
        for chunk in samples.chunks(usize::from(channels.max(1)) * 8192) {
            let floats: Vec<f32> = chunk.iter().map(|&s| f32::from(s) / 32768.0).collect();
            env.push_interleaved(&floats);
        }
        env.finish()
    }

    /// The peaks as JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("peaks always serialize")
    }
}

/// Gathers min/max over fine blocks while samples arrive.
pub(crate) struct Envelope {
    sample_rate: u32,
    channels: usize,
    hop: u64,
    in_block: u64,
    min: f32,
    max: f32,
    blocks: Vec<[f32; 2]>,
}

impl Envelope {
    pub(crate) fn new(sample_rate: u32, channels: u16) -> Envelope {
        Envelope {
            sample_rate,
            channels: usize::from(channels.max(1)),
            hop: u64::from((sample_rate / BLOCKS_PER_SECOND).max(1)),
            in_block: 0,
            min: f32::MAX,
            max: f32::MIN,
            blocks: Vec::new(),
        }
    }

    /// Adds interleaved samples, mixed to mono.
    pub(crate) fn push_interleaved(&mut self, samples: &[f32]) {
        let n = self.channels;
        if n == 1 {
            self.push_mono(samples);
        } else {
            let mono: Vec<f32> = samples
                .chunks(n)
                .map(|frame| frame.iter().sum::<f32>() / n as f32)
                .collect();
            self.push_mono(&mono);
        }
    }

    fn push_mono(&mut self, mut samples: &[f32]) {
        while !samples.is_empty() {
            let take = ((self.hop - self.in_block) as usize).min(samples.len());
            let (head, rest) = samples.split_at(take);
            let (mut lo, mut hi) = (self.min, self.max);
            for &v in head {
                lo = if v < lo { v } else { lo };
                hi = if v > hi { v } else { hi };
            }
            (self.min, self.max) = (lo, hi);
            self.in_block += take as u64;
            if self.in_block == self.hop {
                self.close_block();
            }
            samples = rest;
        }
    }

    fn close_block(&mut self) {
        if self.in_block > 0 {
            self.blocks.push([self.min, self.max]);
            self.in_block = 0;
            self.min = f32::MAX;
            self.max = f32::MIN;
        }
    }

    /// Merges the blocks into at most [`MAX_PAIRS`] pairs.
    pub(crate) fn finish(mut self) -> Peaks {
        self.close_block();
        let seconds = self.blocks.len() as f64 / f64::from(BLOCKS_PER_SECOND);
        let target = ((seconds * PAIRS_PER_SECOND) as usize).clamp(MIN_PAIRS, MAX_PAIRS);
        let group = self.blocks.len().div_ceil(target).max(1);
        let peaks = self
            .blocks
            .chunks(group)
            .map(|g| {
                g.iter().fold([f32::MAX, f32::MIN], |[lo, hi], [a, b]| {
                    [lo.min(*a), hi.max(*b)]
                })
            })
            .map(|[lo, hi]| [round(lo), round(hi)])
            .collect();
        Peaks {
            sample_rate: self.sample_rate,
            frames_per_pair: self.hop * group as u64,
            peaks,
        }
    }
}

/// Four decimals are plenty for a drawing and keep the JSON small.
fn round(v: f32) -> f32 {
    (v * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_call_is_bounded_and_a_loud_span_shows() {
        let rate = 8000;
        // Ten minutes of silence with one full-scale second at the start of minute 5.
        let mut samples = vec![0i16; rate as usize * 600];
        let loud = rate as usize * 300;
        samples[loud..loud + rate as usize].fill(i16::MAX);
        let peaks = Peaks::from_samples(&samples, 1, rate);
        assert_eq!(peaks.peaks.len(), MAX_PAIRS);
        let at = (loud as u64 / peaks.frames_per_pair) as usize;
        assert!(peaks.peaks[at][1] > 0.99, "{:?}", &peaks.peaks[at]);
        assert_eq!(peaks.peaks[0], [0.0, 0.0]);
    }

    #[test]
    fn a_short_clip_keeps_at_least_its_blocks() {
        let samples: Vec<i16> = (0..16_000)
            .map(|i| if i % 2 == 0 { 1000 } else { -1000 })
            .collect();
        let peaks = Peaks::from_samples(&samples, 2, 8000);
        // One second of stereo: 400 blocks, fewer than the minimum of pairs.
        assert_eq!(peaks.peaks.len(), 400);
        assert!(peaks.peaks.iter().all(|p| p[0] == 0.0 && p[1] == 0.0));
    }
}
