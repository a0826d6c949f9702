//! Demonstration: the ideal response, written from scratch or rewritten from a candidate.

use super::{MAX_TEXT_CHARS, check_candidate, check_max_chars, check_not_blank, unique};
use crate::error::FieldError;
use crate::item::Item;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// `{"response": "...", "based_on": "a" | null, ...}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DemonstrationPayload {
    /// The ideal response; at most [`MAX_TEXT_CHARS`] characters.
    pub response: String,
    /// The candidate id it rewrites, if any.
    #[serde(default)]
    pub based_on: Option<String>,
    /// Error tags per candidate id.
    #[serde(
        default,
        deserialize_with = "unique::map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub violations: BTreeMap<String, Vec<String>>,
    /// Why; required with an override.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub rationale: String,
    /// Edge-case keys of the rubric that apply.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub edge_cases: Vec<String>,
    /// Marks an override (no priority rule applies to demonstrations; JSON `override`).
    #[serde(
        default,
        rename = "override",
        skip_serializing_if = "std::ops::Not::not"
    )]
    pub priority_override: bool,
}

impl DemonstrationPayload {
    /// Character edit distance from the `based_on` candidate's text to the response;
    /// `None` when written from scratch or the candidate is not in `item`. Costs
    /// O(n·m) time (see [`levenshtein`]); callers record the result with the judgment.
    pub fn edit_distance(&self, item: &Item) -> Option<usize> {
        let base = item.candidate(self.based_on.as_deref()?)?;
        Some(levenshtein(&base.content, &self.response))
    }

    pub(super) fn check_fields(&self, item: &Item) -> Result<(), FieldError> {
        check_not_blank("response", &self.response)?;
        check_max_chars("response", &self.response, MAX_TEXT_CHARS)?;
        if let Some(id) = &self.based_on {
            check_candidate("based_on", id, item)?;
        }
        Ok(())
    }
}

/// Levenshtein distance between `a` and `b` counted in `char`s (Unicode scalar
/// values): the fewest single-character insertions, deletions and substitutions
/// turning one into the other.
///
/// Cost: O(n·m) time and O(min(n, m)) memory for texts of n and m characters (one
/// row of the dynamic-programming table over the shorter text; the longer one is
/// streamed). A common prefix and suffix are stripped first in linear time, so a
/// light rewrite of a long text costs little; the worst case (two unrelated texts of
/// [`MAX_TEXT_CHARS`]) is 2.5·10⁹ cell updates, seconds of CPU, which is why submitted
/// texts are capped.
pub fn levenshtein(a: &str, b: &str) -> usize {
    let prefix: usize = a
        .chars()
        .zip(b.chars())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let (a, b) = (&a[prefix..], &b[prefix..]);
    let suffix: usize = a
        .chars()
        .rev()
        .zip(b.chars().rev())
        .take_while(|(x, y)| x == y)
        .map(|(x, _)| x.len_utf8())
        .sum();
    let (a, b) = (&a[..a.len() - suffix], &b[..b.len() - suffix]);
    let (short, long) = if a.chars().count() <= b.chars().count() {
        (a, b)
    } else {
        (b, a)
    };
    let short: Vec<char> = short.chars().collect();
    // row[j] = distance between the long text read so far and short[..j].
    let mut row: Vec<usize> = (0..=short.len()).collect();
    for (i, lc) in long.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, &sc) in short.iter().enumerate() {
            let above = row[j + 1];
            let substitute = diagonal + usize::from(sc != lc);
            row[j + 1] = substitute.min(above + 1).min(row[j] + 1);
            diagonal = above;
        }
    }
    row[short.len()]
}

#[cfg(test)]
mod tests {
    use super::super::tests::fixtures::{banking, item, refused};
    use super::super::{JudgmentError, Payload, ValidatedJudgment};
    use super::*;
    use crate::task::TaskKind;

    fn check(json: &str) -> Result<ValidatedJudgment, JudgmentError> {
        Payload::from_json(TaskKind::Demonstration, json)?
            .validate(&item(TaskKind::Demonstration, &["a"]), &banking())
    }

    #[test]
    fn levenshtein_known_values() {
        assert_eq!(levenshtein("kitten", "sitting"), 3);
        assert_eq!(levenshtein("", "abc"), 3);
        assert_eq!(levenshtein("abc", ""), 3);
        assert_eq!(levenshtein("flaw", "lawn"), 2);
        assert_eq!(levenshtein("same", "same"), 0);
        // Characters, not bytes: one substitution of a 2-byte letter by a 4-byte one.
        assert_eq!(levenshtein("café", "caf😀"), 1);
        assert_eq!(levenshtein("aaa", "aa"), 1);
    }

    #[test]
    fn rewrite_is_accepted_and_distance_measured() {
        // fixtures::item gives candidate `a` the content "response a".
        let v = check(r#"{"response": "response b!", "based_on": "a"}"#).unwrap();
        let Payload::Demonstration(d) = v.payload() else {
            panic!("not a demonstration")
        };
        let it = item(TaskKind::Demonstration, &["a"]);
        assert_eq!(d.edit_distance(&it), Some(2));
        let json = serde_json::to_string(v.payload()).unwrap();
        assert_eq!(
            &Payload::from_json(TaskKind::Demonstration, &json).unwrap(),
            v.payload()
        );
        let scratch = check(r#"{"response": "fresh", "based_on": null}"#).unwrap();
        let Payload::Demonstration(d) = scratch.payload() else {
            panic!("not a demonstration")
        };
        assert_eq!(d.edit_distance(&it), None);
    }

    #[test]
    fn errors_are_named() {
        let e = refused(check(r#"{"response": " \n"}"#));
        assert_eq!(e, "field `response`: must not be empty");
        let e = refused(check(r#"{"response": "x", "based_on": "b"}"#));
        assert!(
            e.starts_with("field `based_on`: unknown candidate `b`"),
            "{e}"
        );
        let long = format!(r#"{{"response": "{}"}}"#, "x".repeat(MAX_TEXT_CHARS + 1));
        let e = refused(check(&long));
        assert!(
            e.starts_with("field `response`: is 50001 characters long"),
            "{e}"
        );
        let e = refused(check(r#"{"response": "x", "override": true}"#));
        assert!(e.contains("needs a rationale"), "{e}");
        let v = check(r#"{"response": "x", "override": true, "rationale": "odd"}"#).unwrap();
        assert!(!v.priority_inversion());
    }
}
