//! Plumbline's items back as Label Studio task JSON (`plumbline export --kind
//! label-studio`), for teams moving between the tools: one task an item, its data laid
//! out as the matching shipped template reads it, and Plumbline's decided label as the
//! task's prediction in that template's result format.
//!
//! - data: the prompt (`prompt`, one user turn) or the conversation (`messages`,
//!   `role`/`content`, and `speaker` when the turn names one); the candidates as `answer1`/`answer2` with `model_a`/`model_b`
//!   (preference), `items` `[{id, title: model, body}]` (ranking, and rating of several
//!   responses) or `response` (rating of one); the item's extra data (`metadata.data`)
//!   beside them; and `plumbline` `{item_id, task, candidate_ids, tags, metadata}`, which
//!   the importer reads back so a round trip gives the same items.
//! - predictions: `[{model_version: "plumbline-<decision>", result}]`, empty when the
//!   item is undecided: Pairwise `comparison` (`left`/`right`; a tie is no prediction),
//!   Ranker `rank` over `answers` (the order flattened, best first), one Rating a
//!   criterion and candidate (the decided score rounded), TextArea `instruction`.

use crate::kinds::role_name;
use plumbline_domain::{Item, Role, TaskKind};
use serde_json::{Map, Value, json};

/// The data field that carries what Label Studio has no place for.
pub const HINT: &str = "plumbline";

/// A decided label: how it was decided and the payload in Plumbline's shape.
pub struct Decided {
    /// `adjudicated`, `gold`, `unanimous`, `majority`, `single`, `borda`, `mean`.
    pub how: String,
    /// The payload (`winner`, `order`, `scores` or `response`).
    pub payload: Value,
}

/// The Label Studio task of `item`, with `decided` as its prediction.
pub fn task(item: &Item, item_id: &str, kind: TaskKind, decided: Option<&Decided>) -> Value {
    let mut data = Map::new();
    let one_user_turn =
        matches!(item.context.as_slice(), [t] if t.role == Role::User && t.speaker.is_none());
    if one_user_turn {
        data.insert("prompt".into(), item.context[0].content.clone().into());
    } else {
        let turns: Vec<Value> = item
            .context
            .iter()
            .map(|t| match &t.speaker {
                Some(s) => json!({"role": role_name(t.role), "content": t.content, "speaker": s}),
                None => json!({"role": role_name(t.role), "content": t.content}),
            })
            .collect();
        data.insert("messages".into(), turns.into());
    }
    let fields = candidate_fields(item, kind);
    match kind {
        TaskKind::Preference if item.candidates.len() == 2 => {
            for (c, (field, model)) in item
                .candidates
                .iter()
                .zip([("answer1", "model_a"), ("answer2", "model_b")])
            {
                data.insert(field.into(), c.content.clone().into());
                if let Some(m) = &c.model {
                    data.insert(model.into(), m.clone().into());
                }
            }
        }
        TaskKind::Rating if item.candidates.len() == 1 => {
            let c = &item.candidates[0];
            data.insert("response".into(), c.content.clone().into());
            if let Some(m) = &c.model {
                data.insert("model".into(), m.clone().into());
            }
        }
        _ if !item.candidates.is_empty() => {
            let items: Vec<Value> = item
                .candidates
                .iter()
                .map(|c| match &c.model {
                    Some(m) => json!({"id": c.id, "title": m, "body": c.content}),
                    None => json!({"id": c.id, "body": c.content}),
                })
                .collect();
            data.insert("items".into(), items.into());
        }
        _ => {}
    }
    if let Some(Value::Object(extra)) = item.metadata.get("data") {
        for (k, v) in extra {
            data.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    data.insert(
        HINT.into(),
        json!({
            "item_id": item_id,
            "task": kind.as_str(),
            "candidate_ids": item.candidates.iter().map(|c| c.id.as_str()).collect::<Vec<_>>(),
            "tags": item.tags,
            "metadata": item.metadata,
        }),
    );
    let predictions: Vec<Value> = decided
        .and_then(|d| {
            let result = result(item, kind, &fields, &d.payload)?;
            Some(json!({"model_version": format!("plumbline-{}", d.how), "result": result}))
        })
        .into_iter()
        .collect();
    json!({"data": data, "predictions": predictions})
}

/// The data field of each candidate, as the templates' controls name them in `to_name`.
fn candidate_fields(item: &Item, kind: TaskKind) -> Vec<String> {
    match kind {
        TaskKind::Preference if item.candidates.len() == 2 => {
            vec!["answer1".into(), "answer2".into()]
        }
        TaskKind::Rating if item.candidates.len() == 1 => vec!["response".into()],
        _ => item.candidates.iter().map(|c| c.id.clone()).collect(),
    }
}

fn control(from: &str, to: &str, kind: &str, value: Value) -> Value {
    json!({"from_name": from, "to_name": to, "type": kind, "value": value})
}

/// The prediction's results for a decided payload; `None` when it has none to give (a
/// tie, an empty order).
fn result(item: &Item, kind: TaskKind, fields: &[String], payload: &Value) -> Option<Vec<Value>> {
    let index = |id: &str| item.candidates.iter().position(|c| c.id == id);
    match kind {
        TaskKind::Preference => {
            let side = match index(payload.get("winner")?.as_str()?)? {
                0 => "left",
                _ => "right",
            };
            Some(vec![control(
                "comparison",
                "comparison",
                "pairwise",
                json!({"selected": side}),
            )])
        }
        TaskKind::Ranking => {
            let order: Vec<&str> = payload
                .get("order")?
                .as_array()?
                .iter()
                .filter_map(Value::as_array)
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            (!order.is_empty()).then(|| {
                vec![control(
                    "rank",
                    "answers",
                    "ranker",
                    json!({"ranker": {"rank": order}}),
                )]
            })
        }
        TaskKind::Rating => {
            let mut out = Vec::new();
            for (cand, row) in payload.get("scores")?.as_object()? {
                let Some(field) = index(cand).and_then(|i| fields.get(i)) else {
                    continue;
                };
                for (crit, score) in row.as_object()? {
                    let stars = score.as_f64()?.round() as i64;
                    out.push(control(crit, field, "rating", json!({"rating": stars})));
                }
            }
            (!out.is_empty()).then_some(out)
        }
        TaskKind::Demonstration => {
            let text = payload.get("response")?.as_str()?;
            Some(vec![control(
                "instruction",
                "prompt",
                "textarea",
                json!({"text": [text]}),
            )])
        }
        TaskKind::RedTeam => None,
    }
}

/// The decided winner of a preference item: the adjudication, else the gold answer,
/// else the winner of more than half of the latest votes (`unanimous` when all, `single`
/// with one voter). A tie decides nothing.
pub fn preference(
    adjudication: Option<&Value>,
    gold: Option<&Value>,
    votes: &[&Value],
) -> Option<Decided> {
    let winner = |p: &Value| p.get("winner").and_then(Value::as_str).map(str::to_owned);
    for (p, how) in [(adjudication, "adjudicated"), (gold, "gold")] {
        if let Some(w) = p.and_then(winner) {
            return Some(Decided {
                how: how.into(),
                payload: json!({"winner": w}),
            });
        }
    }
    let winners: Vec<String> = votes.iter().filter_map(|p| winner(p)).collect();
    let top = winners
        .iter()
        .max_by_key(|w| winners.iter().filter(|x| x == w).count())?;
    let n = winners.iter().filter(|x| *x == top).count();
    if top == "tie" || 2 * n <= winners.len() {
        return None;
    }
    let how = match (winners.len(), n == winners.len()) {
        (1, _) => "single",
        (_, true) => "unanimous",
        _ => "majority",
    };
    Some(Decided {
        how: how.into(),
        payload: json!({"winner": top}),
    })
}

/// The decided response of a demonstration item: the adjudication, else the gold
/// answer, else the one vote there is.
pub fn demonstration(
    adjudication: Option<&Value>,
    gold: Option<&Value>,
    votes: &[&Value],
) -> Option<Decided> {
    let response = |p: &Value| p.get("response").and_then(Value::as_str).map(str::to_owned);
    let (p, how) = match (
        adjudication.and_then(response),
        gold.and_then(response),
        votes,
    ) {
        (Some(r), _, _) => (r, "adjudicated"),
        (None, Some(r), _) => (r, "gold"),
        (None, None, [only]) => (response(only)?, "single"),
        _ => return None,
    };
    Some(Decided {
        how: how.into(),
        payload: json!({"response": p}),
    })
}
