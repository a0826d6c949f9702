//! Tests across kinds: parsing, wrong kinds, and the property tests of the priority
//! rule, of ranking partitions, of Levenshtein and of robustness on arbitrary JSON.

use super::*;
use crate::rubric::{Criterion, EdgeCase, ErrorTag, Scale, Severity};
use crate::slug::Slug;
use fixtures::{banking, item, refused};
use proptest::collection::{btree_map, vec};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Rubric and items shared by the unit tests of every kind.
pub(super) mod fixtures {
    use super::super::JudgmentError;
    use crate::item::Item;
    use crate::rubric::Rubric;
    use crate::task::TaskKind;

    const BANKING: &str = r#"
name = "Retail banking support"
[[criteria]]
key = "compliance"
title = "Regulatory compliance"
priority = 1
hard = true
scale = { min = 0, max = 2 }
[[criteria]]
key = "correctness"
title = "Factual and procedural correctness"
priority = 2
[[criteria]]
key = "resolution"
title = "Resolves the customer's need"
priority = 3
[[criteria]]
key = "tone"
title = "Tone and empathy"
priority = 4
[[errors]]
key = "escalation_missed"
criterion = "compliance"
severity = "critical"
[[errors]]
key = "rude"
criterion = "tone"
severity = "minor"
[[edge_cases]]
key = "bereavement"
"#;

    /// The rubric of DESIGN.md (compliance scored 0 to 2) plus a minor `rude` tag.
    pub fn banking() -> Rubric {
        Rubric::from_toml(BANKING).unwrap()
    }

    /// An item of `kind` whose candidates have `ids` and content `response <id>`.
    pub fn item(kind: TaskKind, ids: &[&str]) -> Item {
        let candidates: Vec<_> = ids
            .iter()
            .map(|id| serde_json::json!({"id": id, "content": format!("response {id}")}))
            .collect();
        let line = serde_json::json!({
            "id": "call-1",
            "context": [{"role": "user", "content": "I want to close my account"}],
            "candidates": candidates,
            "task": kind,
        });
        Item::from_json(&line.to_string(), kind).unwrap()
    }

    /// The message of the error a validation must have returned.
    pub fn refused<T: std::fmt::Debug>(r: Result<T, JudgmentError>) -> String {
        r.unwrap_err().to_string()
    }
}

// ---------------------------------------------------------------- unit tests

#[test]
fn payload_of_another_kind_names_both_kinds() {
    let err = Payload::from_json(TaskKind::Preference, r#"{"order": [["b"], ["a"]]}"#).unwrap_err();
    assert_eq!(
        err,
        JudgmentError::WrongKind {
            expected: TaskKind::Preference,
            found: TaskKind::Ranking
        }
    );
    assert_eq!(
        err.to_string(),
        "this item is a preference task, but the payload is a ranking payload \
         (a preference payload has `winner`, a ranking payload has `order`)"
    );
    let e = refused(Payload::from_json(
        TaskKind::Preference,
        r#"{"winner": "a", "strength": 1, "criteria": {}, "order": [["a"]]}"#,
    ));
    assert!(
        e.starts_with(
            "not a valid preference payload: unknown field `order`, expected one of `winner`"
        ),
        "{e}"
    );
    assert!(e.contains("(line 1, column"), "{e}");
}

#[test]
fn item_of_another_kind_is_refused_at_validation() {
    let p = Payload::from_json(TaskKind::Ranking, r#"{"order": [["a", "b"]]}"#).unwrap();
    let e = refused(p.validate(&item(TaskKind::Preference, &["a", "b"]), &banking()));
    assert!(
        e.starts_with("this item is a preference task, but the payload is a ranking payload"),
        "{e}"
    );
}

#[test]
fn non_objects_and_bad_json_are_refused() {
    let e = refused(Payload::from_json(TaskKind::Rating, "[1, 2]"));
    assert_eq!(
        e,
        "not a valid rating payload: a payload must be a JSON object, not an array"
    );
    let e = refused(Payload::from_json(TaskKind::Rating, r#"{"scores": "#));
    assert!(
        e.starts_with("rating payload is not valid JSON: EOF while parsing"),
        "{e}"
    );
    let e = refused(Payload::from_value(TaskKind::RedTeam, &json!(null)));
    assert!(e.ends_with("not null"), "{e}");
    let e = refused(Payload::from_json(
        TaskKind::Preference,
        r#"{"winner": 1, "strength": 0}"#,
    ));
    assert!(
        e.contains("invalid type: integer `1`, expected a string"),
        "{e}"
    );
}

#[test]
fn from_value_matches_from_json() {
    let v = json!({"winner": "tie", "strength": 0, "criteria": {"compliance": "tie"}});
    let a = Payload::from_value(TaskKind::Preference, &v).unwrap();
    let b = Payload::from_json(TaskKind::Preference, &v.to_string()).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.kind(), TaskKind::Preference);
    assert_eq!(a.rationale(), "");
    assert!(!a.is_override());
}

#[test]
fn common_accessors_read_every_kind() {
    let p = Payload::from_json(
        TaskKind::RedTeam,
        r#"{"attack": "x", "outcome": "violation", "severity": 3, "violations": {"a": ["rude"]},
            "rationale": "r", "edge_cases": ["bereavement"], "override": true}"#,
    )
    .unwrap();
    assert_eq!(p.violations()["a"], ["rude"]);
    assert_eq!(p.rationale(), "r");
    assert_eq!(p.edge_cases(), ["bereavement"]);
    assert!(p.is_override());
}

#[test]
fn rationale_is_capped() {
    let long = "x".repeat(MAX_RATIONALE_CHARS + 1);
    let p = Payload::from_value(
        TaskKind::Ranking,
        &json!({"order": [["a"], ["b"]], "rationale": long}),
    )
    .unwrap();
    let e = refused(p.validate(&item(TaskKind::Ranking, &["a", "b"]), &banking()));
    assert_eq!(
        e,
        "field `rationale`: is 20001 characters long; the limit is 20000"
    );
}

// ---------------------------------------------------------------- strategies

const CANDS: [&str; 2] = ["a", "b"];

/// 1 to 6 criteria in shuffled priority with random hard flags and scales, 0 to 6
/// error tags on random criteria, two edge cases.
fn arb_rubric() -> impl Strategy<Value = Rubric> {
    (1usize..=6)
        .prop_flat_map(|n| {
            (
                Just((1..=n as u32).collect::<Vec<_>>()).prop_shuffle(),
                vec(any::<bool>(), n),
                vec((-2i32..=1, 1i32..=4), n),
                vec(0..n, 0..=6),
            )
        })
        .prop_map(|(priorities, hard, scales, errors)| {
            let slug = |s: String| Slug::parse(&s).unwrap();
            Rubric {
                name: "generated".into(),
                guidelines: String::new(),
                criteria: priorities
                    .iter()
                    .enumerate()
                    .map(|(i, &priority)| Criterion {
                        key: slug(format!("c{i}")),
                        title: format!("Criterion {i}"),
                        priority,
                        hard: hard[i],
                        description: String::new(),
                        scale: Scale {
                            min: scales[i].0,
                            max: scales[i].0 + scales[i].1,
                        },
                        scale_labels: Default::default(),
                    })
                    .collect(),
                errors: errors
                    .iter()
                    .enumerate()
                    .map(|(i, &c)| ErrorTag {
                        key: slug(format!("e{i}")),
                        criterion: slug(format!("c{c}")),
                        severity: Severity::Major,
                        description: String::new(),
                    })
                    .collect(),
                edge_cases: ["x0", "x1"]
                    .map(|k| EdgeCase {
                        key: slug(k.into()),
                        description: String::new(),
                    })
                    .to_vec(),
            }
            .validated()
            .unwrap()
        })
}

fn choice_of(i: usize) -> Choice {
    match i {
        0 => Choice::Candidate("a".into()),
        1 => Choice::Candidate("b".into()),
        _ => Choice::Tie,
    }
}

/// Error tags picked by `mask` (indices into the rubric's errors).
fn tags(rubric: &Rubric, mask: &[bool]) -> Vec<String> {
    rubric
        .errors
        .iter()
        .zip(mask)
        .filter(|(_, on)| **on)
        .map(|(e, _)| e.key.to_string())
        .collect()
}

/// A structurally valid preference judgment (any winner, any verdicts, any tags).
fn arb_preference() -> impl Strategy<Value = (Rubric, PreferencePayload)> {
    arb_rubric().prop_flat_map(|r| {
        let (n, e) = (r.criteria.len(), r.errors.len());
        (
            Just(r),
            0usize..3,
            0i64..=3,
            vec(0usize..3, n),
            vec(any::<bool>(), e),
            vec(any::<bool>(), e),
            any::<bool>(),
            prop_oneof![Just(""), Just("  "), Just("the customer was at risk")],
        )
            .prop_map(|(r, winner, strength, verdicts, va, vb, ov, rationale)| {
                let winner = choice_of(winner);
                let p = PreferencePayload {
                    strength: if winner.is_tie() { 0 } else { strength },
                    winner,
                    criteria: r
                        .criteria
                        .iter()
                        .zip(&verdicts)
                        .map(|(c, v)| (c.key.to_string(), choice_of(*v)))
                        .collect(),
                    violations: BTreeMap::from([
                        ("a".to_owned(), tags(&r, &va)),
                        ("b".to_owned(), tags(&r, &vb)),
                    ]),
                    rationale: rationale.into(),
                    edge_cases: vec![],
                    priority_override: ov,
                };
                (r, p)
            })
    })
}

// ------------------------------------------------- reference implementations

/// The preference rule written out plainly from DESIGN.md, sharing no code with
/// `priority.rs`: (rule holds, key of the deciding criterion if one is not tie).
fn reference_preference(r: &Rubric, p: &PreferencePayload) -> (bool, Option<String>) {
    let mut criteria = r.criteria.clone();
    criteria.sort_by_key(|c| c.priority);
    let mut expected = "tie".to_owned();
    let mut deciding = None;
    for c in &criteria {
        let verdict = p.criteria[c.key.as_str()].to_string();
        if verdict != "tie" {
            expected = verdict;
            deciding = Some(c.key.to_string());
            break;
        }
    }
    let order_ok = p.winner.to_string() == expected;
    // A winner carrying a hard violation is acceptable only if the loser carries one too.
    let may_beat = |w: &str, l: &str| {
        !reference_dirty(r, &p.violations, w) || reference_dirty(r, &p.violations, l)
    };
    let hard_ok = match p.winner.to_string().as_str() {
        "a" => may_beat("a", "b"),
        "b" => may_beat("b", "a"),
        _ => true,
    };
    (order_ok && hard_ok, deciding)
}

/// True when `id` carries a tag whose criterion is hard.
fn reference_dirty(r: &Rubric, violations: &BTreeMap<String, Vec<String>>, id: &str) -> bool {
    violations.get(id).is_some_and(|tags| {
        tags.iter().any(|t| {
            r.errors.iter().any(|e| {
                e.key.as_str() == t && r.criteria.iter().any(|c| c.key == e.criterion && c.hard)
            })
        })
    })
}

fn pref_item() -> Item {
    item(TaskKind::Preference, &CANDS)
}

// ------------------------------------------------------------ property tests

proptest! {
    /// (a) Validation accepts exactly when the reference rule does (or an override
    /// with a rationale keeps it), and flags inversions exactly when the rule breaks.
    #[test]
    fn preference_validation_matches_reference((r, p) in arb_preference()) {
        let (rule_ok, _) = reference_preference(&r, &p);
        let has_reason = !p.rationale.trim().is_empty();
        let expected = if p.priority_override { has_reason } else { rule_ok };
        let json = serde_json::to_string(&Payload::Preference(p.clone())).unwrap();
        let parsed = Payload::from_json(TaskKind::Preference, &json).unwrap();
        prop_assert_eq!(&parsed, &Payload::Preference(p.clone()));
        let got = parsed.validate(&pref_item(), &r);
        prop_assert_eq!(got.is_ok(), expected, "{:?}", got);
        match got {
            Ok(v) => prop_assert_eq!(v.priority_inversion(), !rule_ok),
            Err(e) if p.priority_override => {
                prop_assert!(e.to_string().contains("needs a rationale"), "{}", e)
            }
            Err(e) => prop_assert!(matches!(e, JudgmentError::PriorityViolation { .. }), "{}", e),
        }
    }

    /// (b) A judgment built to obey the rule is always accepted, without inversion.
    #[test]
    fn judgment_obeying_the_rule_is_accepted((r, p) in arb_preference()) {
        let p = obeying(&r, p);
        let v = Payload::Preference(p).validate(&pref_item(), &r);
        prop_assert!(v.is_ok(), "{:?}", v);
        prop_assert!(!v.unwrap().priority_inversion());
    }

    /// (c) Flipping the winner of an accepted non-tie judgment is refused naming the
    /// deciding criterion, and kept as an inversion with an override and a rationale.
    #[test]
    fn flipped_winner_is_refused_naming_deciding_criterion((r, mut p) in arb_preference()) {
        if p.criteria.values().all(Choice::is_tie) {
            // Make the judgment non-tie: the lowest-priority criterion decides.
            let last = r.criteria.iter().max_by_key(|c| c.priority).unwrap();
            p.criteria.insert(last.key.to_string(), choice_of(0));
        }
        let p = obeying(&r, p);
        prop_assert!(!p.winner.is_tie());
        let (_, deciding) = reference_preference(&r, &p);
        let deciding = deciding.unwrap();
        let mut flipped = p.clone();
        flipped.winner = choice_of(usize::from(p.winner.candidate() == Some("a")));
        prop_assert_ne!(&flipped.winner, &p.winner);
        let err = Payload::Preference(flipped.clone()).validate(&pref_item(), &r).unwrap_err();
        match &err {
            JudgmentError::PriorityViolation { criterion, explanation } => {
                prop_assert_eq!(criterion, &deciding);
                let needle = format!("wins on `{deciding}`");
                prop_assert!(explanation.contains(&needle), "{}", explanation);
            }
            other => prop_assert!(false, "expected a priority violation, got {other}"),
        }
        flipped.priority_override = true;
        flipped.rationale = "the compliance issue is a false positive".into();
        let kept = Payload::Preference(flipped).validate(&pref_item(), &r).unwrap();
        prop_assert!(kept.priority_inversion());
        prop_assert_eq!(&kept.inversion().unwrap().criterion, &deciding);
    }

    /// (d) Arbitrary JSON never panics, whichever kind it is read as; the text and
    /// value entry points agree.
    #[test]
    fn arbitrary_json_never_panics(value in arb_json()) {
        for kind in TaskKind::ALL {
            let from_value = Payload::from_value(kind, &value);
            let from_json = Payload::from_json(kind, &value.to_string());
            prop_assert_eq!(from_value.is_ok(), from_json.is_ok(), "{:?} / {:?}", from_value, from_json);
            if let Ok(p) = from_json {
                prop_assert_eq!(Some(&p), from_value.as_ref().ok());
                let _ = p.validate(&item(kind, &CANDS), &banking());
            }
        }
    }

    /// (d) Valid payloads with one field replaced by arbitrary JSON never panic.
    #[test]
    fn mutated_payloads_never_panic(
        kind in prop::sample::select(TaskKind::ALL.to_vec()),
        path in (prop::sample::select(KEYS.to_vec()), prop::option::of(prop::sample::select(KEYS.to_vec()))),
        value in arb_json(),
    ) {
        let mut payload = template(kind);
        let obj = payload.as_object_mut().unwrap();
        match path.1 {
            None => { obj.insert(path.0.into(), value); }
            Some(sub) => {
                let slot = obj.entry(path.0).or_insert_with(|| json!({}));
                if let Some(inner) = slot.as_object_mut() {
                    inner.insert(sub.into(), value);
                }
            }
        }
        if let Ok(p) = Payload::from_json(kind, &payload.to_string()) {
            let _ = p.validate(&item(kind, &CANDS), &banking());
        }
    }

    /// (d) Random text never panics the parser.
    #[test]
    fn random_text_never_panics(text in "\\PC{0,40}|\\{\"[a-z_]{1,10}\": .{0,20}\\}") {
        for kind in TaskKind::ALL {
            let _ = Payload::from_json(kind, &text);
        }
    }

    /// (d) Ranking validation accepts exactly the partitions of the candidate set.
    #[test]
    fn ranking_accepts_exactly_partitions((ids, order) in arb_order()) {
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let it = item(TaskKind::Ranking, &refs);
        let p = RankingPayload {
            order: order.clone(),
            violations: BTreeMap::new(),
            rationale: String::new(),
            edge_cases: vec![],
            priority_override: false,
        };
        let mut flat: Vec<&String> = order.iter().flatten().collect();
        flat.sort();
        let mut want: Vec<&String> = ids.iter().collect();
        want.sort();
        let is_partition = order.iter().all(|g| !g.is_empty()) && flat == want;
        let got = Payload::Ranking(p).validate(&it, &banking());
        prop_assert_eq!(got.is_ok(), is_partition, "{:?} {:?}", order, got);
    }

    /// Ranking: refused iff some hard violator is in a strictly better group than a
    /// clean candidate (reference written as the double loop over groups).
    #[test]
    fn ranking_rule_matches_reference(
        r in arb_rubric(),
        (ids, order) in arb_partition(),
        masks in vec(vec(any::<bool>(), 6), 6),
    ) {
        let violations: BTreeMap<String, Vec<String>> =
            ids.iter().zip(&masks).map(|(id, m)| (id.clone(), tags(&r, m))).collect();
        let dirty = |id: &str| reference_dirty(&r, &violations, id);
        let mut ok = true;
        for (i, gi) in order.iter().enumerate() {
            for gj in &order[i + 1..] {
                for x in gi {
                    for y in gj {
                        if dirty(x) && !dirty(y) {
                            ok = false;
                        }
                    }
                }
            }
        }
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let p = RankingPayload {
            order,
            violations,
            rationale: String::new(),
            edge_cases: vec![],
            priority_override: false,
        };
        let got = Payload::Ranking(p).validate(&item(TaskKind::Ranking, &refs), &r);
        prop_assert_eq!(got.is_ok(), ok, "{:?}", got);
    }

    /// Rating: refused iff some hard violator's score vector, in priority order, is
    /// lexicographically greater than a clean candidate's.
    #[test]
    fn rating_rule_matches_reference(
        r in arb_rubric(),
        n in 1usize..=4,
        raw in vec(vec(0i64..100, 6), 4),
        masks in vec(vec(any::<bool>(), 6), 4),
    ) {
        let ids: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
        let scores: BTreeMap<String, BTreeMap<String, i64>> = ids
            .iter()
            .zip(&raw)
            .map(|(id, row)| {
                let row = r.criteria.iter().zip(row).map(|(c, x)| {
                    let span = i64::from(c.scale.max - c.scale.min) + 1;
                    (c.key.to_string(), i64::from(c.scale.min) + x % span)
                });
                (id.clone(), row.collect())
            })
            .collect();
        let violations: BTreeMap<String, Vec<String>> =
            ids.iter().zip(&masks).map(|(id, m)| (id.clone(), tags(&r, m))).collect();
        let mut by_priority = r.criteria.clone();
        by_priority.sort_by_key(|c| c.priority);
        let vector = |id: &str| -> Vec<i64> {
            by_priority.iter().map(|c| scores[id][c.key.as_str()]).collect()
        };
        let dirty = |id: &str| reference_dirty(&r, &violations, id);
        let ok = ids.iter().all(|x| {
            ids.iter().all(|y| !(dirty(x) && !dirty(y) && vector(x) > vector(y)))
        });
        let refs: Vec<&str> = ids.iter().map(String::as_str).collect();
        let p = RatingPayload {
            scores,
            violations,
            rationale: String::new(),
            edge_cases: vec![],
            priority_override: false,
        };
        let got = Payload::Rating(p).validate(&item(TaskKind::Rating, &refs), &r);
        prop_assert_eq!(got.is_ok(), ok, "{:?}", got);
    }

    /// Levenshtein equals the textbook full-matrix computation, and is symmetric.
    #[test]
    fn levenshtein_matches_full_matrix(a in "[abcé😀]{0,12}", b in "[abcé😀]{0,12}") {
        let (x, y): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let mut d = vec![vec![0usize; y.len() + 1]; x.len() + 1];
        for (i, row) in d.iter_mut().enumerate() {
            row[0] = i;
        }
        d[0] = (0..=y.len()).collect();
        for i in 1..=x.len() {
            for j in 1..=y.len() {
                let sub = d[i - 1][j - 1] + usize::from(x[i - 1] != y[j - 1]);
                d[i][j] = sub.min(d[i - 1][j] + 1).min(d[i][j - 1] + 1);
            }
        }
        prop_assert_eq!(levenshtein(&a, &b), d[x.len()][y.len()]);
        prop_assert_eq!(levenshtein(&b, &a), d[x.len()][y.len()]);
    }
}

/// Rewrites `p` to obey the rule: winner = first non-tie verdict, and hard tags are
/// dropped from the winner when the loser carries none.
fn obeying(r: &Rubric, mut p: PreferencePayload) -> PreferencePayload {
    p.priority_override = false;
    let mut criteria = r.criteria.clone();
    criteria.sort_by_key(|c| c.priority);
    p.winner = criteria
        .iter()
        .map(|c| p.criteria[c.key.as_str()].clone())
        .find(|v| !v.is_tie())
        .unwrap_or(Choice::Tie);
    if p.winner.is_tie() {
        p.strength = 0;
    }
    if let Some(w) = p.winner.candidate().map(str::to_owned) {
        let loser = if w == "a" { "b" } else { "a" };
        if !reference_dirty(r, &p.violations, loser) {
            let hard: Vec<String> = p.violations[&w]
                .iter()
                .filter(|t| r.is_hard_error(t))
                .cloned()
                .collect();
            p.violations
                .get_mut(&w)
                .unwrap()
                .retain(|t| !hard.contains(t));
        }
    }
    p
}

/// Field names and keys that make random JSON reach deeper than the first check.
const KEYS: [&str; 22] = [
    "winner",
    "strength",
    "criteria",
    "violations",
    "rationale",
    "edge_cases",
    "override",
    "order",
    "scores",
    "response",
    "based_on",
    "attack",
    "tactic",
    "outcome",
    "severity",
    "a",
    "b",
    "tie",
    "compliance",
    "tone",
    "escalation_missed",
    "bereavement",
];

fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..10).prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(KEYS.to_vec()).prop_map(Value::from),
        prop::sample::select(vec!["safe_refusal", "violation", "", " "]).prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..5).prop_map(Value::Array),
            btree_map(
                prop_oneof![
                    prop::sample::select(KEYS.to_vec()).prop_map(String::from),
                    "\\PC{0,6}"
                ],
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// A valid payload of `kind` for `item(kind, ["a", "b"])` and `banking()`.
fn template(kind: TaskKind) -> Value {
    match kind {
        TaskKind::Preference => json!({"winner": "a", "strength": 1,
            "criteria": {"compliance": "a", "correctness": "tie", "resolution": "b", "tone": "tie"},
            "violations": {"b": ["escalation_missed"]}, "edge_cases": ["bereavement"]}),
        TaskKind::Ranking => json!({"order": [["a"], ["b"]]}),
        TaskKind::Rating => json!({"scores": {
            "a": {"compliance": 1, "correctness": 1, "resolution": 1, "tone": 1},
            "b": {"compliance": 2, "correctness": 1, "resolution": 1, "tone": 1}}}),
        TaskKind::Demonstration => json!({"response": "better", "based_on": "a"}),
        TaskKind::RedTeam => json!({"attack": "x", "outcome": "violation", "severity": 2}),
    }
}

/// 2 to 6 candidate ids and a random partition of them into tie groups.
fn arb_partition() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    (2usize..=6).prop_flat_map(|n| {
        let ids: Vec<String> = (0..n).map(|i| format!("k{i}")).collect();
        (
            Just(ids.clone()),
            Just(ids).prop_shuffle(),
            vec(any::<bool>(), n),
        )
            .prop_map(|(ids, shuffled, cuts)| {
                let mut groups: Vec<Vec<String>> = vec![];
                for (id, cut) in shuffled.into_iter().zip(cuts) {
                    match groups.last_mut() {
                        Some(g) if !cut => g.push(id),
                        _ => groups.push(vec![id]),
                    }
                }
                (ids, groups)
            })
    })
}

/// A partition, half the time spoiled by one mutation (drop, duplicate, stranger,
/// empty group).
fn arb_order() -> impl Strategy<Value = (Vec<String>, Vec<Vec<String>>)> {
    (
        arb_partition(),
        0usize..8,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    )
        .prop_map(|((ids, mut order), mutation, i, j)| {
            let g = i.index(order.len());
            match mutation {
                0 => {
                    let k = j.index(order[g].len());
                    order[g].remove(k);
                }
                1 => {
                    let id = ids[j.index(ids.len())].clone();
                    order[g].push(id);
                }
                2 => order[g].push("stranger".into()),
                3 => order.insert(g, vec![]),
                _ => {}
            }
            (ids, order)
        })
}
