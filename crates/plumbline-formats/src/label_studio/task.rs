//! The two shapes of a Label Studio export read into one: a task with its data fields
//! (in document order) and its annotations, each a list of control outputs.
//!
//! - JSON (`exportType=JSON`): one object a task, `{id, data, meta, annotations:
//!   [{id, completed_by, lead_time, ground_truth, was_cancelled, result: [{from_name,
//!   to_name, type, value}]}]}`.
//! - JSON_MIN: one flat object an annotation: the task's data fields, then `id`, then
//!   each control's output under its name, then `annotator`, `annotation_id`,
//!   `created_at`, `updated_at` and `lead_time`. Rows of one task (same `id`) are read
//!   as one task. JSON_MIN writes a choice and a text area alike, as text
//!   ([`Control::Words`]); which it is depends on the template (see `item`).

use super::ordered::Json;
use crate::lines::LineError;
use serde_json::Value;

/// One task of either shape.
#[derive(Debug)]
pub struct Task {
    /// Line where the task (its first row) starts.
    pub line: u64,
    /// Its 1-based place in the file (of its first row).
    pub n: usize,
    /// The task id as text.
    pub id: String,
    /// The task id as written.
    pub id_value: Value,
    /// The data fields, in document order.
    pub data: Vec<(String, Json)>,
    /// The task's `meta` object, when it holds anything.
    pub meta: Option<Value>,
    /// Annotations not cancelled, in file order.
    pub annotations: Vec<Annotation>,
}

/// One annotation.
#[derive(Debug)]
pub struct Annotation {
    /// Where it is, for messages (`annotations[0]`, `row 3`).
    pub path: String,
    /// Label Studio's annotation id.
    pub id: Option<String>,
    /// Label Studio's user id (or e-mail) of who made it.
    pub by: Option<String>,
    /// Seconds spent on it, as Label Studio measured.
    pub lead_time: Option<f64>,
    /// Marked ground truth in Label Studio.
    pub ground_truth: bool,
    /// Its control outputs.
    pub outputs: Vec<Output>,
}

/// What one control of the labelling config recorded.
#[derive(Debug)]
pub struct Output {
    /// Where it is, for messages.
    pub path: String,
    /// The control's name.
    pub from_name: String,
    /// The object it labels, when the export says.
    pub to_name: Option<String>,
    /// The value.
    pub control: Control,
}

/// A control's value.
#[derive(Debug, Clone, PartialEq)]
pub enum Control {
    /// Pairwise: `left` or `right`.
    Pairwise(String),
    /// Ranker: each list (a bucket, or the ranked list itself) with its ids, in order.
    Ranker(Vec<(String, Vec<String>)>),
    /// Rating: the stars given.
    Rating(i64),
    /// Choices: the values chosen.
    Choices(Vec<String>),
    /// TextArea: the texts written.
    Text(Vec<String>),
    /// JSON_MIN's text: the values chosen in a Choices or the texts of a TextArea.
    Words(Vec<String>),
}

/// The control types read, for messages.
pub const CONTROLS: &str = "pairwise, ranker, rating, choices and textarea";

/// JSON_MIN fields that describe the annotation, not the task or a control.
const MIN_FIELDS: [&str; 6] = [
    "annotator",
    "annotation_id",
    "created_at",
    "updated_at",
    "lead_time",
    "ground_truth",
];

/// Which shape an export is in, told by its first task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `exportType=JSON`.
    Full,
    /// `exportType=JSON_MIN`.
    Min,
}

impl Shape {
    /// The shape of `value`: a task with a `data` object is JSON; an object with an `id`
    /// and no `data` is a JSON_MIN row.
    pub fn of(value: &Json) -> Option<Shape> {
        let obj = value.as_object()?;
        if obj
            .iter()
            .any(|(k, v)| k == "data" && v.as_object().is_some())
        {
            Some(Shape::Full)
        } else if obj.iter().any(|(k, _)| k == "id") && !obj.iter().any(|(k, _)| k == "data") {
            Some(Shape::Min)
        } else {
            None
        }
    }
}

/// Where a refusal is: the task's place and id, the field.
#[derive(Debug, Clone)]
pub struct At {
    /// Line of the task.
    pub line: u64,
    /// Place in the file.
    pub n: usize,
    /// Task id, when read.
    pub id: Option<String>,
}

impl At {
    /// A refusal of `field` for `reason`.
    pub fn err(&self, field: impl Into<String>, reason: impl AsRef<str>) -> LineError {
        LineError::new(
            self.line,
            Some(field.into()),
            format!("{}: {}", self.name(), reason.as_ref()),
        )
    }

    /// `task 3 (id 17)`.
    pub fn name(&self) -> String {
        match &self.id {
            Some(id) => format!("task {} (id {id})", self.n),
            None => format!("task {}", self.n),
        }
    }
}

fn id_text(v: Option<&Json>) -> Option<(String, Value)> {
    match v?.as_scalar()? {
        Value::Number(x) => Some((x.to_string(), Value::Number(x.clone()))),
        Value::String(s) if !s.trim().is_empty() => Some((s.clone(), Value::String(s.clone()))),
        _ => None,
    }
}

fn text_of(v: &Json) -> Option<String> {
    match v.as_scalar()? {
        Value::String(s) => Some(s.clone()),
        Value::Number(x) => Some(x.to_string()),
        _ => None,
    }
}

fn lead_time(at: &At, field: &str, v: Option<&Json>) -> Result<Option<f64>, LineError> {
    match v.and_then(Json::as_scalar) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(x)) => match x.as_f64() {
            Some(s) if s.is_finite() && s >= 0.0 => Ok(Some(s)),
            _ => Err(at.err(field, "must be a number of seconds, not negative")),
        },
        Some(other) => Err(at.err(
            field,
            format!(
                "must be a number of seconds, not {}",
                crate::rows::json_type(other)
            ),
        )),
    }
}

/// A task of the JSON shape.
pub fn full(line: u64, n: usize, value: &Json) -> Result<Task, LineError> {
    let mut at = At { line, n, id: None };
    // A task Plumbline exported has no id of Label Studio's yet; it names its item.
    let exported = value
        .get("data")
        .and_then(|d| d.get(super::export::HINT))
        .and_then(|h| h.get("item_id"))
        .filter(|_| value.get("id").is_none());
    let Some((id, id_value)) = id_text(value.get("id").or(exported)) else {
        return Err(at.err("id", "must be the task's number or string id"));
    };
    at.id = Some(id.clone());
    let Some(data) = value.get("data").and_then(Json::as_object) else {
        return Err(at.err("data", "must be an object holding the task's fields"));
    };
    let meta = value
        .get("meta")
        .map(Json::to_value)
        .filter(|m| m.as_object().is_some_and(|o| !o.is_empty()));
    let list = match value.get("annotations") {
        None => &[][..],
        Some(Json::Scalar(Value::Null)) => &[][..],
        Some(Json::Array(a)) => a.as_slice(),
        Some(v) => return Err(at.err("annotations", format!("must be an array, not {}", v.kind()))),
    };
    let mut annotations = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let path = format!("annotations[{i}]");
        if a.as_object().is_none() {
            return Err(at.err(path, format!("must be an object, not {}", a.kind())));
        }
        if a.get("was_cancelled").and_then(Json::as_scalar) == Some(&Value::Bool(true)) {
            continue;
        }
        let by = match a.get("completed_by") {
            Some(u @ Json::Object(_)) => u.get("id").or(u.get("email")).and_then(text_of),
            Some(v) => text_of(v),
            None => None,
        };
        let Some(results) = a.get("result").and_then(Json::as_array) else {
            return Err(at.err(format!("{path}.result"), "must be an array"));
        };
        let mut outputs = Vec::with_capacity(results.len());
        for (j, r) in results.iter().enumerate() {
            outputs.push(result(&at, &format!("{path}.result[{j}]"), r)?);
        }
        annotations.push(Annotation {
            id: a.get("id").and_then(text_of),
            by,
            lead_time: lead_time(&at, &format!("{path}.lead_time"), a.get("lead_time"))?,
            ground_truth: a.get("ground_truth").and_then(Json::as_scalar)
                == Some(&Value::Bool(true)),
            outputs,
            path,
        });
    }
    Ok(Task {
        line,
        n,
        id,
        id_value,
        data: data.to_vec(),
        meta,
        annotations,
    })
}

fn strings(at: &At, field: &str, v: Option<&Json>) -> Result<Vec<String>, LineError> {
    match v {
        Some(Json::Scalar(Value::String(s))) => Ok(vec![s.clone()]),
        Some(Json::Array(a)) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| at.err(field, "must hold strings only"))
            })
            .collect(),
        Some(other) => Err(at.err(
            field,
            format!("must be a list of strings, not {}", other.kind()),
        )),
        None => Err(at.err(field, "is missing")),
    }
}

fn ids(at: &At, field: &str, v: &Json) -> Result<Vec<String>, LineError> {
    let Some(list) = v.as_array() else {
        return Err(at.err(
            field,
            format!("must be a list of item ids, not {}", v.kind()),
        ));
    };
    list.iter()
        .map(|x| match x.as_scalar() {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(at.err(field, "item ids must be strings or numbers")),
        })
        .collect()
}

fn ranker(at: &At, field: &str, v: Option<&Json>) -> Result<Control, LineError> {
    let Some(lists) = v.and_then(Json::as_object) else {
        return Err(at.err(field, "must be an object {list or bucket: [ids]}"));
    };
    let mut out = Vec::with_capacity(lists.len());
    for (name, list) in lists {
        out.push((name.clone(), ids(at, &format!("{field}.{name}"), list)?));
    }
    Ok(Control::Ranker(out))
}

fn rating(at: &At, field: &str, v: Option<&Json>) -> Result<Control, LineError> {
    match v.and_then(Json::as_scalar).and_then(Value::as_i64) {
        Some(stars) => Ok(Control::Rating(stars)),
        None => Err(at.err(field, "must be a whole number of stars")),
    }
}

/// One `result` entry of the JSON shape.
fn result(at: &At, path: &str, r: &Json) -> Result<Output, LineError> {
    if r.as_object().is_none() {
        return Err(at.err(path, format!("must be an object, not {}", r.kind())));
    }
    let from_name = r
        .get("from_name")
        .and_then(Json::as_str)
        .unwrap_or("?")
        .to_owned();
    let to_name = r.get("to_name").and_then(Json::as_str).map(str::to_owned);
    let kind = r.get("type").and_then(Json::as_str).unwrap_or("");
    let value = r.get("value");
    let field = |name: &str| format!("{path}.value.{name}");
    let control = match kind {
        "pairwise" => match value.and_then(|v| v.get("selected")).and_then(Json::as_str) {
            Some(side @ ("left" | "right")) => Control::Pairwise(side.to_owned()),
            other => {
                return Err(at.err(
                    field("selected"),
                    format!("must be `left` or `right`, got {other:?}"),
                ));
            }
        },
        "ranker" => ranker(at, &field("ranker"), value.and_then(|v| v.get("ranker")))?,
        "rating" => rating(at, &field("rating"), value.and_then(|v| v.get("rating")))?,
        "choices" => Control::Choices(strings(
            at,
            &field("choices"),
            value.and_then(|v| v.get("choices")),
        )?),
        "textarea" => Control::Text(strings(
            at,
            &field("text"),
            value.and_then(|v| v.get("text")),
        )?),
        other => {
            return Err(at.err(
                format!("{path}.type"),
                format!("unknown control `{other}` (from_name `{from_name}`); this importer reads {CONTROLS} results"),
            ));
        }
    };
    Ok(Output {
        path: path.to_owned(),
        from_name,
        to_name,
        control,
    })
}

/// Tasks of the JSON_MIN shape, gathered from their rows in first-seen order.
#[derive(Default)]
pub struct MinRows {
    tasks: Vec<Task>,
    by_id: std::collections::HashMap<String, usize>,
}

impl MinRows {
    /// Adds one row (its place `n` in the file).
    pub fn add(&mut self, line: u64, n: usize, row: &Json) -> Result<(), LineError> {
        let mut at = At { line, n, id: None };
        let Some(fields) = row.as_object() else {
            return Err(at.err("", format!("must be an object, not {}", row.kind())));
        };
        let Some((id, id_value)) = id_text(row.get("id")) else {
            return Err(at.err("id", "must be the task's number or string id"));
        };
        at.id = Some(id.clone());
        // Label Studio writes the task's data, then `id`, then the outputs.
        let split = fields.iter().position(|(k, _)| k == "id").unwrap_or(0);
        let data: Vec<(String, Json)> = fields[..split].to_vec();
        let mut outputs = Vec::new();
        for (name, v) in &fields[split + 1..] {
            if MIN_FIELDS.contains(&name.as_str()) {
                continue;
            }
            outputs.push(min_output(&at, name, v)?);
        }
        let annotation = Annotation {
            path: format!("row {n}"),
            id: row.get("annotation_id").and_then(text_of),
            by: row.get("annotator").and_then(|a| match a {
                Json::Object(_) => a.get("id").or(a.get("email")).and_then(text_of),
                _ => text_of(a),
            }),
            lead_time: lead_time(&at, "lead_time", row.get("lead_time"))?,
            ground_truth: row.get("ground_truth").and_then(Json::as_scalar)
                == Some(&Value::Bool(true)),
            outputs,
        };
        let has_annotation = annotation.id.is_some() || !annotation.outputs.is_empty();
        match self.by_id.get(&id) {
            Some(&i) => {
                let task = &mut self.tasks[i];
                if let Some((k, _)) = data.iter().find(|(k, v)| {
                    task.data.iter().find(|(tk, _)| tk == k).map(|(_, tv)| tv) != Some(v)
                }) {
                    return Err(at.err(
                        k.clone(),
                        format!(
                            "differs from the row of the same task on line {}",
                            task.line
                        ),
                    ));
                }
                if has_annotation {
                    task.annotations.push(annotation);
                }
            }
            None => {
                self.by_id.insert(id.clone(), self.tasks.len());
                self.tasks.push(Task {
                    line,
                    n,
                    id,
                    id_value,
                    data,
                    meta: None,
                    annotations: if has_annotation {
                        vec![annotation]
                    } else {
                        Vec::new()
                    },
                });
            }
        }
        Ok(())
    }

    /// The tasks, in the order their first rows came.
    pub fn into_tasks(self) -> Vec<Task> {
        self.tasks
    }
}

/// One control's output in a JSON_MIN row: `[{selected}]`, `[{ranker}]`, `[{rating}]`,
/// or text (a choice or a text area).
fn min_output(at: &At, name: &str, v: &Json) -> Result<Output, LineError> {
    let first = v.as_array().and_then(|a| a.first());
    let control = match (v, first) {
        (_, Some(o @ Json::Object(_))) if o.get("selected").is_some() => {
            match o.get("selected").and_then(Json::as_str) {
                Some(side @ ("left" | "right")) => Control::Pairwise(side.to_owned()),
                other => {
                    return Err(at.err(
                        name,
                        format!("must select `left` or `right`, got {other:?}"),
                    ));
                }
            }
        }
        (_, Some(o @ Json::Object(_))) if o.get("ranker").is_some() => {
            ranker(at, &format!("{name}[0].ranker"), o.get("ranker"))?
        }
        (_, Some(o @ Json::Object(_))) if o.get("rating").is_some() => {
            rating(at, &format!("{name}[0].rating"), o.get("rating"))?
        }
        (Json::Scalar(Value::String(_)), _)
        | (Json::Array(_), Some(Json::Scalar(Value::String(_)))) => {
            Control::Words(strings(at, name, Some(v))?)
        }
        _ => {
            return Err(at.err(
                name,
                format!(
                    "cannot tell which control wrote {} here; JSON_MIN rows are read for {CONTROLS} outputs",
                    v.kind()
                ),
            ));
        }
    };
    Ok(Output {
        path: name.to_owned(),
        from_name: name.to_owned(),
        to_name: None,
        control,
    })
}
