//! UltraFeedback (`openbmb/UltraFeedback` and rows of its shape): a prompt (`prompt` or
//! `instruction`) and `completions`, each a `response` (or `text`) with its `model`
//! and its ratings, and NVIDIA HelpSteer2's preference rows.
//!
//! **UltraFeedback** ([`record`]): a row becomes a `ranking` item whose candidates are
//! the completions (`a`, `b`, … in file order, the model kept); the completions'
//! scores become one external ranking judgment (`source` `ultrafeedback`), best first,
//! equal scores tied. A completion's score is its `overall_score` (or `score`, or
//! `rating`), else the mean of its `annotations.*.Rating` (`N/A` left out); every
//! completion's scores are kept in the item's metadata (`ratings`). A completion with
//! no score is refused with its field; a row with fewer than two completions is skipped
//! and counted.
//!
//! **HelpSteer2-preference** ([`hs2_preference`]): `prompt`, `response_1`,
//! `response_2`, `preference_strength` (−3…3: negative prefers response 1, 0 is a tie)
//! becomes a preference item (candidates `a` and `b`, the responses in order) with an
//! external choice (`source` `helpsteer2-preference`) of strength |preference_strength|,
//! which is the Llama 2 margin scale Plumbline uses; `preference_statement` and
//! `preference_elaboration` are its rationale. A multi-turn prompt is split at its
//! `<extra_id_1>` lines as in HelpSteer2.

use crate::feed::{Feeder, Record, content_id, imported_preference};
use crate::lines::LineError;
use crate::rows::{Fields, Row, json_type};
use crate::trl::turn;
use plumbline_domain::judgment::Choice;
use plumbline_domain::{Candidate, Item, RankingPayload, Role, TaskKind};
use plumbline_store::ExternalJudgment;
use serde_json::{Map, Value};

/// The `external_source` of UltraFeedback rankings.
pub const SOURCE: &str = "ultrafeedback";
/// The `external_source` of HelpSteer2 preference choices.
pub const HS2_PREFERENCE: &str = "helpsteer2-preference";

/// Largest completion count of one item (the domain's bound for rankings).
const MAX_COMPLETIONS: usize = 64;

fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A completion's score, and the scores it was read from.
fn score(f: &Fields<'_>, at: &str, c: &Map<String, Value>) -> Result<(f64, Value), LineError> {
    for k in ["overall_score", "score", "rating"] {
        if let Some(v) = c.get(k).filter(|v| !v.is_null()) {
            let Some(x) = number(v).filter(|x| x.is_finite()) else {
                return Err(f.error(
                    &format!("{at}.{k}"),
                    format!("must be a number, not {}", json_type(v)),
                ));
            };
            let mut kept = Map::new();
            kept.insert(k.into(), v.clone());
            return Ok((x, Value::Object(kept)));
        }
    }
    if let Some(Value::Object(aspects)) = c.get("annotations") {
        let mut kept = Map::new();
        let mut sum = 0.0;
        let mut n = 0u32;
        for (aspect, a) in aspects {
            // Each aspect is `{Rating, Rationale, …}` (or a list of them, one per
            // annotator in some copies); `N/A` is no rating.
            let ratings: Vec<&Value> = match a {
                Value::Array(list) => list.iter().filter_map(|x| x.get("Rating")).collect(),
                other => other.get("Rating").into_iter().collect(),
            };
            for r in ratings {
                if let Some(x) = number(r).filter(|x| x.is_finite()) {
                    sum += x;
                    n += 1;
                    kept.insert(aspect.clone(), r.clone());
                }
            }
        }
        if n > 0 {
            return Ok((sum / f64::from(n), Value::Object(kept)));
        }
    }
    Err(f.error(
        at,
        "has no score: expected `overall_score`, `score`, `rating` or `annotations` with ratings",
    ))
}

/// Converts one UltraFeedback row into a ranking item; `Ok(None)` for a row with fewer
/// than two completions.
pub fn record(line: u64, row: &Row) -> Result<Option<Record>, LineError> {
    let f = Fields::new(line, row);
    let prompt_field = if row.contains_key("prompt") {
        "prompt"
    } else {
        "instruction"
    };
    let prompt = f.str(prompt_field)?;
    let completions = match row.get("completions") {
        Some(Value::Array(list)) => list,
        Some(v) => {
            return Err(f.error(
                "completions",
                format!("must be a list, not {}", json_type(v)),
            ));
        }
        None => return Err(f.error("completions", "is missing")),
    };
    if completions.len() < 2 {
        return Ok(None);
    }
    if completions.len() > MAX_COMPLETIONS {
        return Err(f.error(
            "completions",
            format!(
                "holds {} completions; at most {MAX_COMPLETIONS} are ranked",
                completions.len()
            ),
        ));
    }
    let mut candidates = Vec::with_capacity(completions.len());
    let mut scored: Vec<(f64, String)> = Vec::with_capacity(completions.len());
    let mut ratings = Vec::with_capacity(completions.len());
    for (i, c) in completions.iter().enumerate() {
        let at = format!("completions[{i}]");
        let Value::Object(c) = c else {
            return Err(f.error(&at, format!("must be an object, not {}", json_type(c))));
        };
        let text = match c.get("response").or_else(|| c.get("text")) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => {
                return Err(f.error(
                    &format!("{at}.response"),
                    format!("must be a string, not {}", json_type(v)),
                ));
            }
            None => return Err(f.error(&format!("{at}.response"), "is missing")),
        };
        let model = c.get("model").and_then(Value::as_str).map(str::to_owned);
        let (s, kept) = score(&f, &at, c)?;
        let id = crate::helpsteer2::candidate_id(i);
        let mut r = Map::new();
        r.insert("candidate".into(), id.clone().into());
        r.insert("scores".into(), kept);
        ratings.push(Value::Object(r));
        scored.push((s, id.clone()));
        candidates.push(Candidate {
            id,
            model,
            content: text,
        });
    }
    // Best first; equal scores share a group.
    let mut by_score = scored.clone();
    by_score.sort_by(|a, b| b.0.total_cmp(&a.0));
    let mut order: Vec<Vec<String>> = Vec::new();
    let mut last: Option<f64> = None;
    for (s, id) in by_score {
        match (last, order.last_mut()) {
            (Some(l), Some(g)) if l == s => g.push(id),
            _ => order.push(vec![id]),
        }
        last = Some(s);
    }
    for g in &mut order {
        g.sort_by_key(|id| scored.iter().position(|(_, i)| i == id));
    }
    let texts: Vec<&str> = candidates.iter().map(|c| c.content.as_str()).collect();
    let mut parts = vec![prompt];
    parts.extend(texts);
    let mut metadata = Map::new();
    metadata.insert("source".into(), SOURCE.into());
    metadata.insert("ratings".into(), Value::Array(ratings));
    for k in ["source", "prompt_id"] {
        if let Some(v @ Value::String(_)) = row.get(k) {
            let key = if k == "source" { "dataset_source" } else { k };
            metadata.insert(key.into(), v.clone());
        }
    }
    let item = Item {
        id: content_id("uf", &parts),
        context: vec![turn(Role::User, prompt)],
        candidates,
        task: Some(TaskKind::Ranking),
        tags: Vec::new(),
        requires: Vec::new(),
        metadata,
        split: None,
        media: None,
    };
    let payload = RankingPayload {
        order,
        violations: Default::default(),
        rationale: String::new(),
        edge_cases: Vec::new(),
        priority_override: false,
    };
    Ok(Some(Record {
        line,
        item,
        external: vec![ExternalJudgment {
            source: SOURCE.into(),
            task: TaskKind::Ranking,
            payload: serde_json::to_string(&payload).expect("a payload serializes"),
            rationale: Some("UltraFeedback scores, best first".into()),
            time_ms: None,
            gold_candidate: false,
        }],
    }))
}

/// Feeds UltraFeedback rows to `feed`; false when reading should stop.
pub fn on_row(feed: &mut Feeder<'_>, line: u64, row: &Row) -> bool {
    match record(line, row) {
        Ok(Some(r)) => feed.accept(Ok(r)),
        Ok(None) => {
            feed.skip("fewer than two completions to rank");
            true
        }
        Err(e) => feed.accept(Err(e)),
    }
}

/// Converts one HelpSteer2 preference row into a preference item.
pub fn hs2_preference(line: u64, row: &Row) -> Result<Record, LineError> {
    let f = Fields::new(line, row);
    let prompt = f.str("prompt")?;
    let a = f.str("response_1")?;
    let b = f.str("response_2")?;
    let Some(strength) = f.opt_int("preference_strength")? else {
        return Err(f.error("preference_strength", "is missing"));
    };
    let max = plumbline_domain::judgment::MAX_STRENGTH;
    if !(-max..=max).contains(&strength) {
        return Err(f.error(
            "preference_strength",
            format!("must be between -{max} and {max}, got {strength}"),
        ));
    }
    let winner = match strength {
        s if s < 0 => Choice::Candidate("a".into()),
        0 => Choice::Tie,
        _ => Choice::Candidate("b".into()),
    };
    let rationale = [
        f.opt_str("preference_statement")?,
        f.opt_str("preference_elaboration")?,
    ]
    .into_iter()
    .flatten()
    .filter(|s| !s.trim().is_empty())
    .collect::<Vec<_>>()
    .join("\n\n");
    let mut metadata = Map::new();
    metadata.insert("source".into(), HS2_PREFERENCE.into());
    if let Some(s) = f.opt_str("split")? {
        metadata.insert("source_split".into(), s.into());
    }
    let item = Item {
        id: content_id("hs2p", &[prompt, a, b]),
        context: crate::helpsteer2::prompt_turns(prompt),
        candidates: vec![
            Candidate {
                id: "a".into(),
                model: None,
                content: a.to_owned(),
            },
            Candidate {
                id: "b".into(),
                model: None,
                content: b.to_owned(),
            },
        ],
        task: Some(TaskKind::Preference),
        tags: Vec::new(),
        requires: Vec::new(),
        metadata,
        split: None,
        media: None,
    };
    Ok(Record {
        line,
        item,
        external: vec![ExternalJudgment {
            source: HS2_PREFERENCE.into(),
            task: TaskKind::Preference,
            payload: imported_preference(
                &winner,
                Some(strength.abs()),
                Map::new(),
                Some(&rationale),
            ),
            rationale: Some("HelpSteer2 preference (strength -3..3)".into()),
            time_ms: None,
            gold_candidate: false,
        }],
    })
}

/// Feeds HelpSteer2 preference rows to `feed`; false when reading should stop.
pub fn on_hs2_preference(feed: &mut Feeder<'_>, line: u64, row: &Row) -> bool {
    feed.accept(hs2_preference(line, row))
}
