//! Long-format `item,annotator,value` rows to a dense [`LabelSet`], names kept for printing.
//!
//! Category convention (documented in `plumbline stats --help` texts): categories are declared
//! with `--categories a,b,c` (that order), or else inferred from the values in the file —
//! sorted numerically when every value is a number, otherwise in string order. Numeric levels
//! (interval, ratio) take the distinct numbers, sorted. An empty value is a missing judgment.

use std::collections::HashMap;

use anyhow::bail;
use plumbline_quality::agreement::Scale;
use plumbline_quality::{Judgment, LabelSet};

use super::input::Table;

/// Names to dense indices, in order of first appearance.
#[derive(Debug, Default)]
pub struct Interner {
    /// Names by index.
    pub names: Vec<String>,
    map: HashMap<String, u32>,
}

impl Interner {
    /// The index of `name`, adding it if new.
    pub fn id(&mut self, name: &str) -> u32 {
        if let Some(i) = self.map.get(name) {
            return *i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_owned());
        self.map.insert(name.to_owned(), i);
        i
    }

    /// The index of `name`, if known.
    pub fn get(&self, name: &str) -> Option<u32> {
        self.map.get(name).copied()
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }
}

/// How values become categories.
#[derive(Debug, Clone)]
pub enum Categories {
    /// Inferred labels: numeric order if all are numbers, else string order.
    Inferred,
    /// Declared labels, in this order.
    Declared(Vec<String>),
    /// Numbers: the distinct values, sorted (interval and ratio levels).
    Numbers {
        /// Refuse negative values (ratio level).
        non_negative: bool,
        /// The level's name for messages.
        level: &'static str,
    },
}

impl Categories {
    /// `Declared` from a comma-separated list, or `Inferred`.
    pub fn from_flag(list: Option<&str>) -> anyhow::Result<Categories> {
        let Some(list) = list else {
            return Ok(Categories::Inferred);
        };
        let names: Vec<String> = list.split(',').map(|s| s.trim().to_owned()).collect();
        if names.iter().any(String::is_empty) {
            bail!("--categories: empty category name in '{list}'");
        }
        for (i, n) in names.iter().enumerate() {
            if names[..i].contains(n) {
                bail!("--categories: '{n}' is listed twice");
            }
        }
        Ok(Categories::Declared(names))
    }
}

/// Judgments in dense indices, with the names behind the indices.
#[derive(Debug)]
pub struct LongData {
    /// Item names.
    pub items: Interner,
    /// Annotator names.
    pub annotators: Interner,
    /// Category names by index (scale order for ordered levels).
    pub categories: Vec<String>,
    /// Category values, for numeric levels.
    pub scale: Option<Scale>,
    /// The judgments.
    pub labels: LabelSet,
    /// Rows with an empty value, skipped as missing.
    pub missing: usize,
}

impl LongData {
    /// The category index of a value string under the same rule (for gold answers).
    pub fn category_of(&self, value: &str) -> Option<u32> {
        match &self.scale {
            Some(s) => value.parse::<f64>().ok().and_then(|v| s.index_of(v)),
            None => self
                .categories
                .iter()
                .position(|c| c == value)
                .map(|i| i as u32),
        }
    }
}

fn parse_number(table: &Table, line: u64, v: &str, level: &str) -> anyhow::Result<f64> {
    match v.parse::<f64>() {
        Ok(x) if x.is_finite() => Ok(x),
        _ if level == "ordinal" => bail!(
            "{}: value '{v}' is not a number (the ordinal level needs numbers, or the order given with --categories)",
            table.at(line)
        ),
        _ => bail!(
            "{}: value '{v}' is not a number (the {level} level needs numbers)",
            table.at(line)
        ),
    }
}

/// Builds the label set from `table`, whose columns are `item, annotator, value`.
///
/// `extra` are more values (gold answers) that must be categories too when inferred.
pub fn load(table: &Table, rule: &Categories, extra: &[&str]) -> anyhow::Result<LongData> {
    let mut items = Interner::default();
    let mut annotators = Interner::default();
    let mut seen: HashMap<(u32, u32), u64> = HashMap::with_capacity(table.rows.len());
    let mut raw: Vec<(u32, u32, &str, u64)> = Vec::with_capacity(table.rows.len());
    let mut missing = 0;
    for row in &table.rows {
        let item = items.id(row.req(0));
        let annotator = annotators.id(row.req(1));
        if let Some(first) = seen.insert((item, annotator), row.line) {
            bail!(
                "{}: annotator '{}' already labelled item '{}' on line {first}",
                table.at(row.line),
                row.req(1),
                row.req(0)
            );
        }
        match row.fields[2].as_deref() {
            Some(v) => raw.push((item, annotator, v, row.line)),
            None => missing += 1,
        }
    }
    let (categories, scale, index): (Vec<String>, Option<Scale>, HashMap<&str, u32>) = match rule {
        Categories::Declared(names) => {
            let index = names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), i as u32))
                .collect();
            (names.clone(), None, index)
        }
        Categories::Inferred => {
            let mut distinct: Vec<&str> = raw
                .iter()
                .map(|r| r.2)
                .chain(extra.iter().copied())
                .collect();
            distinct.sort_unstable();
            distinct.dedup();
            let numbers: Option<Vec<f64>> = distinct
                .iter()
                .map(|v| v.parse::<f64>().ok().filter(|x| x.is_finite()))
                .collect();
            if let Some(nums) = numbers {
                let mut order: Vec<usize> = (0..distinct.len()).collect();
                order.sort_by(|a, b| {
                    nums[*a]
                        .total_cmp(&nums[*b])
                        .then(distinct[*a].cmp(distinct[*b]))
                });
                distinct = order.iter().map(|i| distinct[*i]).collect();
            }
            let index = distinct
                .iter()
                .enumerate()
                .map(|(i, n)| (*n, i as u32))
                .collect();
            (
                distinct.iter().map(|s| (*s).to_owned()).collect(),
                None,
                index,
            )
        }
        Categories::Numbers {
            non_negative,
            level,
        } => {
            let mut values = Vec::with_capacity(raw.len());
            for (_, _, v, line) in &raw {
                let x = parse_number(table, *line, v, level)?;
                if *non_negative && x < 0.0 {
                    bail!(
                        "{}: value {v} is negative; the ratio level needs values ≥ 0",
                        table.at(*line)
                    );
                }
                values.push(x);
            }
            let scale = Scale::from_observed(values.iter().copied())?;
            let names = scale.values().iter().map(|v| v.to_string()).collect();
            (names, Some(scale), HashMap::new())
        }
    };
    let mut judgments = Vec::with_capacity(raw.len());
    for (item, annotator, v, line) in &raw {
        let label = match &scale {
            Some(s) => s
                .index_of(v.parse::<f64>()?)
                .expect("every value is on the scale"),
            None => match index.get(v) {
                Some(i) => *i,
                None => bail!(
                    "{}: value '{v}' is not one of the declared categories ({})",
                    table.at(*line),
                    categories.join(", ")
                ),
            },
        };
        judgments.push(Judgment {
            item: *item,
            annotator: *annotator,
            label,
        });
    }
    let labels = LabelSet::new(items.len(), annotators.len(), categories.len(), &judgments)?;
    Ok(LongData {
        items,
        annotators,
        categories,
        scale,
        labels,
        missing,
    })
}
