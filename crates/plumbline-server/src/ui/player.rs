//! The call-audio player, one renderer for every page that shows an item with audio
//! (the judging fragment, the review page's cases, the item browser). It draws an
//! `<audio>` element on the item's media endpoint (the session cookie carries access),
//! the controls, and the waveform's box with the marks the script positions: turns whose
//! speech recognition is unsure (the transcript's own threshold, [`LOW_ASR`]) and the
//! ranges silenced at import. `assets/player.js` mounts every player it finds, fetches
//! the peaks, and ties the player to its transcript ([`render_conversation`] marks each
//! timed turn with `data-start`/`data-end` and a seek button when the item has audio).
//!
//! [`render_conversation`]: super::judge::render_conversation

use super::judge::LOW_ASR;
use super::members::pct;
use maud::{Markup, html};
use plumbline_domain::Item;

/// The speeds offered, slowest first.
pub const SPEEDS: [f64; 6] = [0.5, 0.75, 1.0, 1.25, 1.5, 2.0];

/// Whether `item` names stored audio (a player is drawn for it).
pub fn has_audio(item: &Item) -> bool {
    item.media.as_ref().is_some_and(|m| m.sha256.is_some())
}

/// Each turn's span in the audio: from its start to its end, or, when it has none, to
/// the next later timed turn's start or the end of the audio (infinite when unknown).
/// `None` for a turn without a start.
pub fn turn_spans(item: &Item) -> Vec<Option<(f64, f64)>> {
    let duration = item.media.as_ref().and_then(|m| m.duration);
    let ctx = &item.context;
    ctx.iter()
        .enumerate()
        .map(|(i, t)| {
            let start = t.start?;
            let end = t
                .end
                .or_else(|| {
                    ctx[i + 1..]
                        .iter()
                        .filter_map(|n| n.start)
                        .find(|&s| s > start)
                })
                .or(duration)
                .unwrap_or(f64::INFINITY);
            Some((start, end))
        })
        .collect()
}

/// `m:ss.s`, as the transcript shows times.
pub fn clock(t: f64) -> String {
    let m = (t / 60.0).floor();
    format!("{}:{:04.1}", m as i64, t - m * 60.0)
}

/// The player of `item`'s audio in `project`, tied to the transcript whose element id
/// is `convo`; nothing when the item has no stored audio. Element ids derive from
/// `convo`, so a page may hold one player per transcript.
pub fn media_player(project: &str, item: &Item, convo: &str) -> Markup {
    let Some(media) = item.media.as_ref().filter(|_| has_audio(item)) else {
        return html! {};
    };
    let src = format!(
        "/api/v1/projects/{}/items/{}/media",
        pct(project),
        pct(&item.id)
    );
    let duration = media.duration.filter(|d| d.is_finite() && *d > 0.0);
    let spans = turn_spans(item);
    let unsure: Vec<(usize, f64, f64)> = item
        .context
        .iter()
        .zip(&spans)
        .enumerate()
        .filter_map(|(i, (t, span))| {
            let (s, e) = (*span)?;
            t.asr_confidence
                .is_some_and(|c| c < LOW_ASR)
                .then_some((i + 1, s, e))
        })
        .collect();
    let legend = format!("{convo}-wave-legend");
    html! {
        div.player id=(format!("{convo}-player")) role="group" aria-label={ "Call audio of item " (item.id) }
            data-player data-convo=(convo) data-peaks={ (src) "/peaks" }
            data-duration=[duration] {
            audio preload="metadata" src=(src) {}
            div.pbar {
                button type="button" class="primary" data-act="play" aria-keyshortcuts="Alt+K" { "Play" }
                button type="button" data-act="back" aria-keyshortcuts="Alt+ArrowLeft" { "Back 5 s" }
                button type="button" data-act="fwd" aria-keyshortcuts="Alt+ArrowRight" { "Forward 5 s" }
                span.ptime {
                    span data-now { "0:00.0" } " / "
                    span data-total { @if let Some(d) = duration { (clock(d)) } @else { "–" } }
                }
                label.pspeed {
                    "Speed "
                    select data-speed {
                        @for s in SPEEDS { option value=(s) selected[s == 1.0] { (s) "×" } }
                    }
                }
                span.pmsg data-msg role="status" {}
            }
            div.wave role="slider" tabindex="0" aria-label="Position in the call"
                aria-valuemin="0" aria-valuemax=(duration.unwrap_or(0.0)) aria-valuenow="0"
                aria-valuetext="0:00.0" aria-describedby=(legend) {
                canvas aria-hidden="true" {}
                div.played {}
                @for (n, s, e) in &unsure {
                    div.mark.unsure data-start=(s) data-end=[e.is_finite().then_some(e)]
                        title={ "Turn " (n) ": speech recognition below " (LOW_ASR) } {}
                }
                @for r in &media.redact {
                    div.mark.redacted data-start=(r.start) data-end=(r.end)
                        title={ "Silenced at import: " (clock(r.start)) "–" (clock(r.end)) } {}
                }
                div.cursor {}
            }
            p.legend.muted id=(legend) {
                span data-wave-note { "Waveform of the call; click it or use the arrow keys to seek. " }
                @if !unsure.is_empty() {
                    span.swatch.unsure {} " "
                    (unsure.len()) @if unsure.len() == 1 { " turn" } @else { " turns" }
                    " with speech recognition below " (LOW_ASR) " (turn "
                    @for (i, (n, _, _)) in unsure.iter().enumerate() {
                        @if i > 0 { ", " } (n)
                    }
                    "). "
                }
                @if !media.redact.is_empty() {
                    span.swatch.redacted {} " "
                    "Silenced at import: "
                    @for (i, r) in media.redact.iter().enumerate() {
                        @if i > 0 { ", " } (clock(r.start)) "–" (clock(r.end))
                    }
                    "."
                }
            }
        }
    }
}

/// The player's keys, for a page's `?` list.
pub fn player_keys() -> Vec<(Markup, Markup)> {
    vec![
        (
            html! { kbd { "Alt" } "+" kbd { "K" } },
            html! { "play or pause the call's audio" },
        ),
        (
            html! { kbd { "Alt" } "+" kbd { "←" } " / " kbd { "→" } },
            html! { "back / forward 5 seconds" },
        ),
        (
            html! { kbd { "Alt" } "+" kbd { "↑" } " / " kbd { "↓" } },
            html! { "previous / next turn of the transcript" },
        ),
        (
            html! { "a turn's time (" kbd { "Enter" } " or click)" },
            html! { "play from that turn" },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use plumbline_domain::TaskKind;

    fn item(media: serde_json::Value) -> Item {
        let body = serde_json::json!({"id": "call 1/<b>", "task": "preference",
            "context": [
                {"role": "user", "content": "hello", "start": 0.5, "end": 2.0, "asr_confidence": 0.95},
                {"role": "assistant", "content": "card <i>4471</i>", "start": 2.5, "asr_confidence": 0.42},
                {"role": "user", "content": "untimed"},
                {"role": "user", "content": "bye", "start": 6.0, "end": 7.5, "asr_confidence": 0.7}],
            "candidates": [{"id": "a", "content": "x"}, {"id": "b", "content": "y"}],
            "media": media})
        .to_string();
        Item::from_json(&body, TaskKind::Preference).unwrap()
    }

    fn stored() -> serde_json::Value {
        serde_json::json!({"sha256": "ab".repeat(32), "content_type": "audio/wav",
            "duration": 9.0, "sample_rate": 8000, "bytes": 144044,
            "redact": [{"start": 3.0, "end": 4.5}]})
    }

    #[test]
    fn spans_end_at_the_next_turn_or_the_audio() {
        let spans = turn_spans(&item(stored()));
        assert_eq!(
            spans,
            vec![Some((0.5, 2.0)), Some((2.5, 6.0)), None, Some((6.0, 7.5))]
        );
    }

    #[test]
    fn player_marks_unsure_turns_and_silenced_ranges() {
        let html = media_player("calls", &item(stored()), "convo").into_string();
        // The item id is one path segment, percent-encoded.
        assert!(html.contains("src=\"/api/v1/projects/calls/items/call%201%2F%3Cb%3E/media\""));
        assert!(html.contains(
            "data-peaks=\"/api/v1/projects/calls/items/call%201%2F%3Cb%3E/media/peaks\""
        ));
        assert!(html.contains("preload=\"metadata\""));
        // Below the transcript's threshold: turns 2 and 4, not 1.
        assert_eq!(html.matches("class=\"mark unsure\"").count(), 2);
        assert!(html.contains("data-start=\"2.5\" data-end=\"6\""));
        assert!(html.contains("class=\"mark redacted\" data-start=\"3\" data-end=\"4.5\""));
        assert!(html.contains("(turn 2, 4)"));
        assert!(html.contains("Silenced at import: 0:03.0–0:04.5"));
        assert_eq!(html.matches("<option").count(), SPEEDS.len());
        assert!(html.contains("<option value=\"1\" selected>1×</option>"));
        assert!(html.contains("aria-valuemax=\"9\""));
        assert!(!html.contains("<b>"), "the item id is escaped");
    }

    #[test]
    fn timed_turns_are_seek_targets_only_with_audio() {
        use super::super::judge::{Place, render_conversation};
        let with = render_conversation(&item(stored()), Place::JUDGE).into_string();
        assert_eq!(
            with.matches("data-seek").count(),
            3,
            "the untimed turn is not"
        );
        assert!(with.contains("data-start=\"2.5\" data-end=\"6\""));
        assert!(with.contains("aria-label=\"0:02.5: play turn 2 from 0:02.5\""));
        let pending = item(serde_json::json!({"path": "calls/1.wav"}));
        let without = render_conversation(&pending, Place::JUDGE).into_string();
        assert!(!without.contains("data-seek") && !without.contains("data-start"));
        assert!(without.contains("<span class=\"ts\">0:02.5</span>"));
    }

    #[test]
    fn no_player_without_stored_audio() {
        let body = serde_json::json!({"id": "t", "task": "preference",
            "context": [{"role": "user", "content": "hi"}],
            "candidates": [{"id": "a", "content": "x"}, {"id": "b", "content": "y"}]})
        .to_string();
        let plain = Item::from_json(&body, TaskKind::Preference).unwrap();
        assert!(
            media_player("calls", &plain, "convo")
                .into_string()
                .is_empty()
        );
        // An import file's reference (a path, not yet stored) has no player either.
        let pending = item(serde_json::json!({"path": "calls/1.wav"}));
        assert!(
            media_player("calls", &pending, "convo")
                .into_string()
                .is_empty()
        );
    }
}
