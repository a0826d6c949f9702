//! The borrowed shapes a preference pair is read from and written as.
//!
//! A pair export touches every item once or twice, so its inner loop neither builds an
//! owned [`plumbline_domain::Item`] nor a `serde_json::Value`: an item's JSON is read
//! into [`ItemView`], whose texts are [`JsonText`]s — the string literals as they stand
//! in the stored JSON, escapes and all, so a JSONL row copies them without unescaping
//! and escaping again —, each vote's payload into [`PrefVote`] (only the winner, the
//! strength and the per-criterion verdicts), and the row is a [`PairRow`] of references
//! written straight into the output. Struct fields are in alphabetical order so a row's keys come
//! out in the same order as a `Value` object's (serde_json sorts those).

use plumbline_domain::Role;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;

/// A text of an item as a JSON string literal borrowed from the item's stored JSON.
/// Any literal of a valid document is a valid literal of a row, so JSONL copies it as
/// it is; Parquet wants the text itself ([`JsonText::text`]).
#[derive(Debug, Clone, Copy)]
pub struct JsonText<'a>(&'a str);

impl<'a> JsonText<'a> {
    /// The literal, quotes included.
    pub fn literal(self) -> &'a str {
        self.0
    }

    /// The text, borrowed unless it has escapes.
    pub fn text(self) -> Cow<'a, str> {
        serde_json::from_str::<Str<'a>>(self.0).map_or(Cow::Borrowed(""), |s| s.0)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = <&'a RawValue>::deserialize(d)?;
        if raw.get().starts_with('"') {
            Ok(JsonText(raw.get()))
        } else {
            Err(de::Error::custom("a text must be a JSON string"))
        }
    }
}

impl Serialize for JsonText<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        // The slow path (rows as `Value`s): the literal is parsed once more.
        let raw: &RawValue = serde_json::from_str(self.0).map_err(serde::ser::Error::custom)?;
        raw.serialize(s)
    }
}

impl Default for JsonText<'_> {
    fn default() -> Self {
        JsonText("\"\"")
    }
}

/// What a pair needs of an item: its context, candidates and tags.
#[derive(Deserialize)]
pub(crate) struct ItemView<'a> {
    #[serde(borrow, default)]
    pub context: Vec<TurnView<'a>>,
    #[serde(borrow, default)]
    pub candidates: Vec<CandidateView<'a>>,
    #[serde(default)]
    pub tags: Cow<'a, [String]>,
}

/// One turn of the context, as a message.
#[derive(Deserialize)]
pub(crate) struct TurnView<'a> {
    pub role: Role,
    #[serde(borrow)]
    pub content: JsonText<'a>,
}

/// One candidate reply.
#[derive(Deserialize)]
pub(crate) struct CandidateView<'a> {
    #[serde(borrow)]
    pub id: Cow<'a, str>,
    #[serde(default)]
    pub model: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    pub content: JsonText<'a>,
}

impl<'a> ItemView<'a> {
    /// Reads an item's stored JSON; `None` when it is not an item's shape.
    pub fn parse(body: &'a str) -> Option<ItemView<'a>> {
        serde_json::from_str(body).ok()
    }

    /// The view `layout` describes of `body` (which it was made from).
    pub fn from_layout(body: &'a str, layout: &'a ItemLayout) -> Option<ItemView<'a>> {
        let text = |r: (u32, u32)| body.get(r.0 as usize..r.1 as usize).map(JsonText);
        let mut context = Vec::with_capacity(layout.turns.len());
        for &(role, r) in &layout.turns {
            context.push(TurnView {
                role,
                content: text(r)?,
            });
        }
        let mut candidates = Vec::with_capacity(layout.candidates.len());
        for (id, model, r) in &layout.candidates {
            candidates.push(CandidateView {
                id: Cow::Borrowed(id),
                model: model.as_deref().map(Cow::Borrowed),
                content: text(*r)?,
            });
        }
        Some(ItemView {
            context,
            candidates,
            tags: Cow::Borrowed(&layout.tags),
        })
    }
}

/// Where an item's texts stand in its JSON: what [`ItemView::parse`] finds, with byte
/// ranges for the texts, so that the parse can run on another thread than the one that
/// writes the row (the item moves between them, a view borrowing it cannot).
#[derive(Debug, Clone)]
pub struct ItemLayout {
    turns: Vec<(Role, (u32, u32))>,
    candidates: Vec<(String, Option<String>, (u32, u32))>,
    tags: Vec<String>,
}

impl ItemLayout {
    /// The layout of an item's stored JSON; `None` when it is not an item's shape (or
    /// larger than 4 GiB).
    pub fn of(body: &str) -> Option<ItemLayout> {
        let view = ItemView::parse(body)?;
        // A literal borrowed from `body`: its place, from the addresses.
        let at = |t: JsonText<'_>| -> Option<(u32, u32)> {
            let start = (t.0.as_ptr() as usize).checked_sub(body.as_ptr() as usize)?;
            let end = start + t.0.len();
            (end <= body.len()).then_some((u32::try_from(start).ok()?, u32::try_from(end).ok()?))
        };
        Some(ItemLayout {
            turns: view
                .context
                .iter()
                .map(|t| Some((t.role, at(t.content)?)))
                .collect::<Option<_>>()?,
            candidates: view
                .candidates
                .iter()
                .map(|c| {
                    Some((
                        c.id.to_string(),
                        c.model.as_deref().map(str::to_owned),
                        at(c.content)?,
                    ))
                })
                .collect::<Option<_>>()?,
            tags: view.tags.into_owned(),
        })
    }
}

/// What a pair needs of a preference payload. Read leniently, like a lookup in a
/// `Value`: a winner that is not a string leaves the vote out, a strength that is not an
/// integer is unknown, verdicts that are not strings count as ties.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct PrefVote<'a> {
    pub winner: Option<Cow<'a, str>>,
    pub strength: Option<i64>,
    pub criteria: Verdicts<'a>,
}

impl<'a> PrefVote<'a> {
    /// Reads a payload's JSON; `None` when it is not a JSON object.
    pub fn parse(payload: &'a str) -> Option<PrefVote<'a>> {
        serde_json::from_str(payload).ok()
    }
}

/// A string borrowed from the input when it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Str<'de>, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// Verdicts by criterion key.
type Verdicts<'a> = Vec<(Cow<'a, str>, Option<Cow<'a, str>>)>;

/// Any JSON value, keeping only a string, an integer, or an object's string members.
enum Lenient<'a> {
    Str(Cow<'a, str>),
    Int(i64),
    /// An object: its members, each a string or `None`.
    Map(Verdicts<'a>),
    Other,
}

impl<'a> Lenient<'a> {
    fn into_str(self) -> Option<Cow<'a, str>> {
        match self {
            Lenient::Str(s) => Some(s),
            _ => None,
        }
    }

    fn int(&self) -> Option<i64> {
        match self {
            Lenient::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// The members when an object, else none.
    fn into_verdicts(self) -> Verdicts<'a> {
        match self {
            Lenient::Map(m) => m,
            _ => Vec::new(),
        }
    }
}

impl<'de> Deserialize<'de> for Lenient<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Lenient<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Lenient<'de>, E> {
                Ok(Lenient::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Lenient<'de>, E> {
                Ok(Lenient::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Lenient<'de>, E> {
                Ok(Lenient::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Lenient<'de>, E> {
                Ok(i64::try_from(v).map_or(Lenient::Other, Lenient::Int))
            }
            fn visit_f64<E: de::Error>(self, _: f64) -> Result<Lenient<'de>, E> {
                Ok(Lenient::Other)
            }
            fn visit_bool<E: de::Error>(self, _: bool) -> Result<Lenient<'de>, E> {
                Ok(Lenient::Other)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Lenient<'de>, E> {
                Ok(Lenient::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Lenient<'de>, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Lenient::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Lenient<'de>, A::Error> {
                let mut out: Verdicts<'de> = Vec::new();
                while let Some(Str(key)) = m.next_key::<Str<'de>>()? {
                    let value = m.next_value::<Lenient<'de>>()?.into_str();
                    // A repeated key keeps its last value, as a `Value` object would.
                    match out.iter_mut().find(|(k, _)| *k == key) {
                        Some(slot) => slot.1 = value,
                        None => out.push((key, value)),
                    }
                }
                Ok(Lenient::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for PrefVote<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = PrefVote<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a preference payload object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<PrefVote<'de>, A::Error> {
                let mut out = PrefVote::default();
                while let Some(Str(key)) = m.next_key::<Str<'de>>()? {
                    match &*key {
                        "winner" => out.winner = m.next_value::<Lenient<'de>>()?.into_str(),
                        "strength" => out.strength = m.next_value::<Lenient<'de>>()?.int(),
                        "criteria" => {
                            out.criteria = m.next_value::<Lenient<'de>>()?.into_verdicts();
                        }
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

/// One message of a row: `{"content", "role"}`.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Message<'a> {
    /// The text, as a JSON literal.
    pub content: JsonText<'a>,
    /// `system`, `user`, `assistant` or `tool`.
    pub role: &'static str,
}

/// Per-criterion outcomes of a pair, by criterion key in byte order: `chosen`,
/// `rejected` or `tie`. An open-ended map (its keys are the rubric's criteria), so it is
/// serialized as its JSON text, the same string in JSONL and Parquet: both formats then
/// give readers one type for the column, whatever the rubric.
#[derive(Debug, Default)]
pub struct Criteria<'a>(pub Vec<(Cow<'a, str>, &'static str)>);

/// The criteria as a JSON object (what [`Criteria::json_text`] holds).
struct CriteriaObject<'r, 'a>(&'r Criteria<'a>);

impl Serialize for CriteriaObject<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut m = s.serialize_map(Some(self.0.0.len()))?;
        for (k, v) in &self.0.0 {
            m.serialize_entry(k.as_ref(), v)?;
        }
        m.end()
    }
}

impl Criteria<'_> {
    /// The JSON text of the object `{criterion: outcome}`.
    pub fn json_text(&self) -> String {
        serde_json::to_string(&CriteriaObject(self)).expect("strings serialize")
    }
}

impl Serialize for Criteria<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.json_text())
    }
}

/// Where a pair comes from.
#[derive(Debug, Serialize)]
pub struct Provenance<'a> {
    /// Judgments by annotators the item has (counted or not).
    pub annotator_judgments: usize,
    /// The chosen candidate's id.
    pub chosen_id: &'a str,
    /// The chosen candidate's model, if known.
    pub chosen_model: Option<&'a str>,
    /// How the winner was decided: `adjudicated`, `gold`, `single`, or the method's rule
    /// (`reliability`, `majority`, `unanimous`, `dawid_skene`).
    pub decision: &'static str,
    /// Sources of the item's external judgments, sorted, each once.
    pub external_sources: Vec<&'a str>,
    /// The export's decision method (`reliability`, `majority`, `dawid-skene`).
    pub method: &'static str,
    /// The winner's posterior (vote share for `majority`); null for `adjudicated`,
    /// `gold` and `unanimous`.
    pub posterior: Option<f64>,
    /// The rejected candidate's id.
    pub rejected_id: &'a str,
    /// The rejected candidate's model, if known.
    pub rejected_model: Option<&'a str>,
    /// Highest rubric version among the item's judgments.
    pub rubric_version: Option<i64>,
    /// Each counted vote, its voter's reliability and the weight the method gave it.
    pub vote_weights: Vec<VoteWeight<'a>>,
    /// Votes counted (the latest judgment of each voter).
    pub votes: usize,
}

/// One counted vote of a pair's item, as provenance shows it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct VoteWeight<'a> {
    /// The annotator's pseudonym; null for an external source.
    pub annotator: Option<&'a str>,
    /// The candidate id voted for, or `tie`.
    pub choice: &'a str,
    /// The external source (`hh-rlhf`, …); null for an annotator.
    pub external_source: Option<&'a str>,
    /// The voter's reliability.
    pub reliability: f64,
    /// The vote's weight: log-odds for `reliability` (0 for a tie vote), 1 for `majority`,
    /// null for `dawid-skene` (whose weights are confusion matrices).
    pub weight: Option<f64>,
}

/// One preference pair in TRL's conversational format, with Plumbline's extra columns.
#[derive(Debug, Serialize)]
pub struct PairRow<'a> {
    /// The chosen reply as a one-message assistant list.
    pub chosen: [Message<'a>; 1],
    /// Per-criterion outcomes.
    pub criteria: Criteria<'a>,
    /// The item's own id.
    pub item_id: &'a str,
    /// The strength as a number (reward exports only; null when the strength is
    /// unknown).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub margin: Option<Option<f64>>,
    /// The context as messages.
    pub prompt: Vec<Message<'a>>,
    /// Where the pair comes from.
    pub provenance: Provenance<'a>,
    /// The rejected reply as a one-message assistant list.
    pub rejected: [Message<'a>; 1],
    /// `train`, `eval` or none.
    pub split: Option<&'static str>,
    /// The decided strength (0–3), when known.
    pub strength: Option<i64>,
    /// The item's tags.
    pub tags: &'a [String],
}

/// The SFT row of a pair: the context continued by the winning reply.
#[derive(Debug, Serialize)]
pub struct SftRow<'a> {
    /// The item's own id.
    pub item_id: &'a str,
    /// The prompt's messages, then the chosen reply.
    pub messages: Vec<Message<'a>>,
    /// How the reply was decided.
    pub provenance: SftProvenance<'a>,
    /// `train`, `eval` or none.
    pub split: Option<&'static str>,
    /// The item's tags.
    pub tags: &'a [String],
}

/// Where an SFT row from a pair comes from.
#[derive(Debug, Serialize)]
pub struct SftProvenance<'a> {
    /// The pair's decision rule.
    pub decision: &'static str,
    /// The export's decision method.
    pub method: &'static str,
    /// The pair's posterior.
    pub posterior: Option<f64>,
    /// Always `preference winner`.
    pub source: &'static str,
    /// The pair's counted votes with their weights.
    pub vote_weights: &'a [VoteWeight<'a>],
}

impl<'a> PairRow<'a> {
    /// Appends the row as one line of JSON, byte for byte what `serde_json` writes for
    /// it, and a newline (see [`crate::json_out`] for why it is written by hand).
    pub fn write_jsonl(&self, out: &mut Vec<u8>) {
        use crate::json_out::{float, int, key, opt_float, opt_int, opt_str, write_str};
        out.extend_from_slice(b"{");
        key(out, "chosen");
        write_messages(out, &self.chosen);
        out.push(b',');
        key(out, "criteria");
        write_str(out, &self.criteria.json_text());
        out.push(b',');
        key(out, "item_id");
        write_str(out, self.item_id);
        if let Some(m) = self.margin {
            out.push(b',');
            key(out, "margin");
            opt_float(out, m);
        }
        out.push(b',');
        key(out, "prompt");
        write_messages(out, &self.prompt);
        out.push(b',');
        key(out, "provenance");
        let p = &self.provenance;
        out.push(b'{');
        key(out, "annotator_judgments");
        int(out, p.annotator_judgments as i64);
        out.push(b',');
        key(out, "chosen_id");
        write_str(out, p.chosen_id);
        out.push(b',');
        key(out, "chosen_model");
        opt_str(out, p.chosen_model);
        out.push(b',');
        key(out, "decision");
        write_str(out, p.decision);
        out.push(b',');
        key(out, "external_sources");
        write_strs(out, p.external_sources.iter().copied());
        out.push(b',');
        key(out, "method");
        write_str(out, p.method);
        out.push(b',');
        key(out, "posterior");
        opt_float(out, p.posterior);
        out.push(b',');
        key(out, "rejected_id");
        write_str(out, p.rejected_id);
        out.push(b',');
        key(out, "rejected_model");
        opt_str(out, p.rejected_model);
        out.push(b',');
        key(out, "rubric_version");
        opt_int(out, p.rubric_version);
        out.push(b',');
        key(out, "vote_weights");
        out.push(b'[');
        for (i, v) in p.vote_weights.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            out.push(b'{');
            key(out, "annotator");
            opt_str(out, v.annotator);
            out.push(b',');
            key(out, "choice");
            write_str(out, v.choice);
            out.push(b',');
            key(out, "external_source");
            opt_str(out, v.external_source);
            out.push(b',');
            key(out, "reliability");
            float(out, v.reliability);
            out.push(b',');
            key(out, "weight");
            opt_float(out, v.weight);
            out.push(b'}');
        }
        out.extend_from_slice(b"],");
        key(out, "votes");
        int(out, p.votes as i64);
        out.extend_from_slice(b"},");
        key(out, "rejected");
        write_messages(out, &self.rejected);
        out.push(b',');
        key(out, "split");
        opt_str(out, self.split);
        out.push(b',');
        key(out, "strength");
        opt_int(out, self.strength);
        out.push(b',');
        key(out, "tags");
        write_strs(out, self.tags.iter().map(String::as_str));
        out.extend_from_slice(b"}\n");
    }

    /// The SFT row of this pair.
    pub fn sft(&self) -> SftRow<'_> {
        let mut messages = Vec::with_capacity(self.prompt.len() + 1);
        messages.extend_from_slice(&self.prompt);
        messages.push(self.chosen[0]);
        SftRow {
            item_id: self.item_id,
            messages,
            provenance: SftProvenance {
                decision: self.provenance.decision,
                method: self.provenance.method,
                posterior: self.provenance.posterior,
                source: "preference winner",
                vote_weights: &self.provenance.vote_weights,
            },
            split: self.split,
            tags: self.tags,
        }
    }
}

fn write_messages(out: &mut Vec<u8>, list: &[Message<'_>]) {
    use crate::json_out::{key, write_str};
    out.push(b'[');
    for (i, m) in list.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        key(out, "content");
        out.extend_from_slice(m.content.literal().as_bytes());
        out.push(b',');
        key(out, "role");
        write_str(out, m.role);
        out.push(b'}');
    }
    out.push(b']');
}

fn write_strs<'s>(out: &mut Vec<u8>, list: impl Iterator<Item = &'s str>) {
    out.push(b'[');
    for (i, s) in list.enumerate() {
        if i > 0 {
            out.push(b',');
        }
        crate::json_out::write_str(out, s);
    }
    out.push(b']');
}

/// A role's wire name.
pub fn role_name(r: Role) -> &'static str {
    match r {
        Role::System => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_are_read_like_value_lookups() {
        let v = PrefVote::parse(
            r#"{"rationale":"x","winner":"a","strength":2,"criteria":{"compliance":"b","tone":"tie","odd":3},"violations":{"a":[]}}"#,
        )
        .unwrap();
        assert_eq!(v.winner.as_deref(), Some("a"));
        assert_eq!(v.strength, Some(2));
        let c: Vec<(&str, Option<&str>)> = v
            .criteria
            .iter()
            .map(|(k, x)| (k.as_ref(), x.as_deref()))
            .collect();
        assert_eq!(
            c,
            [
                ("compliance", Some("b")),
                ("tone", Some("tie")),
                ("odd", None)
            ]
        );
        // Odd shapes are unknown values, not errors.
        let v = PrefVote::parse(r#"{"winner":1,"strength":1.5,"criteria":[1,2]}"#).unwrap();
        assert_eq!(v, PrefVote::default());
        let v = PrefVote::parse(r#"{"winner":"b\u0022","strength":99999999999999999999}"#).unwrap();
        assert_eq!(v.winner.as_deref(), Some("b\""));
        assert_eq!(v.strength, None);
        assert!(PrefVote::parse("[]").is_none());
        assert!(PrefVote::parse("{").is_none());
    }

    #[test]
    fn hand_written_lines_equal_serde_json() {
        let tags = vec!["edge:\"odd\"".to_owned(), "t2".to_owned()];
        let literals: Vec<String> = ["yes \"quoted\"\n", "be careful", "héllo \u{1}", ""]
            .iter()
            .map(|t| serde_json::to_string(t).unwrap())
            .collect();
        let msg = |i: usize, role| Message {
            content: JsonText(&literals[i]),
            role,
        };
        let mut row = PairRow {
            chosen: [msg(0, "assistant")],
            criteria: Criteria(vec![
                ("compliance".into(), "chosen"),
                ("tone".into(), "tie"),
            ]),
            item_id: "item\\1",
            margin: None,
            prompt: vec![msg(1, "system"), msg(2, "user")],
            provenance: Provenance {
                annotator_judgments: 2,
                chosen_id: "a",
                chosen_model: Some("m-1"),
                decision: "dawid_skene",
                external_sources: vec!["hh-rlhf", "x"],
                method: "dawid-skene",
                posterior: Some(f64::from(0.93_f32)),
                rejected_id: "b",
                rejected_model: None,
                rubric_version: Some(3),
                vote_weights: vec![
                    VoteWeight {
                        annotator: Some("ann-00ff"),
                        choice: "a",
                        external_source: None,
                        reliability: 0.9,
                        weight: Some(2.1972245773362196),
                    },
                    VoteWeight {
                        annotator: None,
                        choice: "tie \"x\"",
                        external_source: Some("hh-rlhf"),
                        reliability: 0.7,
                        weight: None,
                    },
                ],
                votes: 3,
            },
            rejected: [msg(3, "assistant")],
            split: Some("eval"),
            strength: None,
            tags: &tags,
        };
        for reward in [false, true] {
            row.margin = reward.then_some(Some(2.0));
            let mut line = Vec::new();
            row.write_jsonl(&mut line);
            let expected = serde_json::to_string(&row).unwrap() + "\n";
            assert_eq!(String::from_utf8(line).unwrap(), expected);
        }
        row.criteria = Criteria::default();
        row.prompt.clear();
        row.split = None;
        row.strength = Some(0);
        row.provenance.posterior = None;
        row.provenance.vote_weights.clear();
        row.provenance.external_sources.clear();
        row.provenance.rubric_version = None;
        let mut line = Vec::new();
        row.write_jsonl(&mut line);
        assert_eq!(
            String::from_utf8(line).unwrap(),
            serde_json::to_string(&row).unwrap() + "\n"
        );
    }

    #[test]
    fn items_borrow_their_texts_unless_escaped() {
        let body = r#"{"id":"x","context":[{"role":"user","content":"plain","speaker":"c","start":1.0}],"candidates":[{"id":"a","content":"say \"hi\""},{"id":"b","model":"m","content":"b"}],"tags":["t"],"metadata":{"k":[1]}}"#;
        let item = ItemView::parse(body).unwrap();
        assert_eq!(item.context[0].content.literal(), "\"plain\"");
        assert!(matches!(
            item.context[0].content.text(),
            Cow::Borrowed("plain")
        ));
        assert_eq!(item.candidates[0].content.literal(), r#""say \"hi\"""#);
        assert_eq!(item.candidates[0].content.text(), "say \"hi\"");
        // A text that is not a string is no item of ours.
        assert!(ItemView::parse(r#"{"context":[{"role":"user","content":3}]}"#).is_none());
        assert_eq!(item.candidates[1].model.as_deref(), Some("m"));
        assert_eq!(&*item.tags, ["t"]);
        // The layout gives the same view back, on another thread if need be.
        let layout = ItemLayout::of(body).unwrap();
        let again = ItemView::from_layout(body, &layout).unwrap();
        assert_eq!(again.context[0].content.literal(), "\"plain\"");
        assert_eq!(again.candidates[0].content.literal(), r#""say \"hi\"""#);
        assert_eq!(again.candidates[0].id, "a");
        assert_eq!(again.candidates[1].model.as_deref(), Some("m"));
        assert_eq!(&*again.tags, ["t"]);
    }
}
