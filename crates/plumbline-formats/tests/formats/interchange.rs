//! Files as they come: Parquet in every codec, gzip and zstd text told by their magic
//! bytes, and the row shapes of TRL, UltraFeedback and HelpSteer2-preference (told
//! apart from HH-RLHF); imported choices with no strength keep it unknown.

use crate::support::*;
use parquet::basic::{BrotliLevel, Compression, GzipLevel, ZstdLevel};
use parquet::data_type::{ByteArray, ByteArrayType};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use plumbline_domain::{Item, Split, TaskKind};
use plumbline_formats::{Format, Input};
use serde_json::{Value, json};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("plumbline-interchange-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d.join(name)
}

/// The HH fixture's rows as `(chosen, rejected)`.
fn hh_rows() -> Vec<(String, String)> {
    std::fs::read_to_string(fixture("hh_rlhf.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            (
                v["chosen"].as_str().unwrap().to_owned(),
                v["rejected"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Writes the HH rows as a Parquet file compressed with `codec`.
fn hh_parquet(codec: Compression, name: &str) -> PathBuf {
    let path = scratch(name);
    let schema = Arc::new(
        parse_message_type(
            "message hh { REQUIRED BYTE_ARRAY chosen (UTF8); REQUIRED BYTE_ARRAY rejected (UTF8); }",
        )
        .unwrap(),
    );
    let props = Arc::new(WriterProperties::builder().set_compression(codec).build());
    let mut w =
        SerializedFileWriter::new(std::fs::File::create(&path).unwrap(), schema, props).unwrap();
    let rows = hh_rows();
    let mut g = w.next_row_group().unwrap();
    let mut i = 0;
    while let Some(mut col) = g.next_column().unwrap() {
        let values: Vec<ByteArray> = rows
            .iter()
            .map(|(c, r)| ByteArray::from(if i == 0 { c.as_str() } else { r.as_str() }))
            .collect();
        col.typed::<ByteArrayType>()
            .write_batch(&values, None, None)
            .unwrap();
        col.close().unwrap();
        i += 1;
    }
    g.close().unwrap();
    w.close().unwrap();
    path
}

fn bodies(g: &Got) -> Vec<(String, String, String)> {
    g.items
        .iter()
        .map(|i| {
            (
                i.ext_id.clone(),
                i.body.clone(),
                i.external
                    .first()
                    .map_or(String::new(), |j| j.payload.clone()),
            )
        })
        .collect()
}

#[test]
fn parquet_in_every_codec_reads_as_the_jsonl() {
    let jsonl = read("hh_rlhf.jsonl", None, None, TaskKind::Preference).ok();
    for (name, codec) in [
        ("uncompressed", Compression::UNCOMPRESSED),
        ("snappy", Compression::SNAPPY),
        ("gzip", Compression::GZIP(GzipLevel::default())),
        ("brotli", Compression::BROTLI(BrotliLevel::default())),
        ("lz4", Compression::LZ4),
        ("lz4_raw", Compression::LZ4_RAW),
        ("zstd", Compression::ZSTD(ZstdLevel::default())),
    ] {
        let path = hh_parquet(codec, &format!("hh-{name}.parquet"));
        let file = std::fs::File::open(&path).unwrap();
        let got = read_input(Input::File(file), None, None, options(TaskKind::Preference));
        assert_eq!(got.commit, Some(true), "{name}: {:?}", got.outcome.summary);
        assert_eq!(
            got.outcome.detected.as_ref().unwrap().format,
            Format::HhRlhf
        );
        assert_eq!(bodies(&got), bodies(&jsonl), "{name}");
    }
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    e.finish().unwrap()
}

#[test]
fn gzip_and_zstd_text_is_told_by_its_magic_bytes() {
    for (name, task, mapping) in [
        ("hh_rlhf.jsonl", TaskKind::Preference, false),
        ("oasst1.jsonl", TaskKind::Preference, false),
        ("helpsteer2.jsonl", TaskKind::Rating, false),
        ("label_studio_pairwise.json", TaskKind::Preference, false),
        ("pairs.csv", TaskKind::Preference, true),
    ] {
        let mapping = || {
            mapping.then(|| {
                plumbline_formats::csv::Mapping::from_toml(
                    &std::fs::read_to_string(fixture("pairs_mapping.toml")).unwrap(),
                )
                .unwrap()
            })
        };
        let plain = read(name, None, mapping(), task).ok();
        let raw = std::fs::read(fixture(name)).unwrap();
        for (codec, bytes) in [
            ("gzip", gzip(&raw)),
            ("zstd", zstd::encode_all(&raw[..], 3).unwrap()),
        ] {
            // Any name: the content decides. From a file and from a stream.
            let path = scratch(&format!("{name}.{codec}.bin"));
            std::fs::write(&path, &bytes).unwrap();
            let from_file = read_input(
                Input::File(std::fs::File::open(&path).unwrap()),
                None,
                mapping(),
                options(task),
            )
            .ok();
            let from_stream = read_input(
                Input::Stream(Box::new(std::io::Cursor::new(bytes))),
                None,
                mapping(),
                options(task),
            )
            .ok();
            for got in [&from_file, &from_stream] {
                assert_eq!(bodies(got), bodies(&plain), "{name} {codec}");
                let d = got.outcome.detected.as_ref().unwrap();
                assert_eq!(d.format, plain.outcome.detected.as_ref().unwrap().format);
                assert!(
                    d.why.starts_with(&format!("{codec}-compressed: ")),
                    "{}",
                    d.why
                );
            }
        }
    }
}

#[test]
fn a_corrupt_compressed_file_fails_and_nothing_is_committed() {
    let raw = std::fs::read(fixture("hh_rlhf.jsonl")).unwrap().repeat(50);
    let gz = gzip(&raw);
    for bytes in [gz[..gz.len() / 2].to_vec(), {
        let mut b = gz.clone();
        let n = b.len();
        b[n - 6] ^= 0xff; // the CRC
        b
    }] {
        let (tx, mut rx) = tokio::sync::mpsc::channel(4);
        let collector = std::thread::spawn(move || {
            let mut commit = None;
            while let Some(m) = rx.blocking_recv() {
                if let plumbline_store::ImportMsg::Finish { commit: c } = m {
                    commit = Some(c);
                }
            }
            commit
        });
        let e = plumbline_formats::read(
            Input::Stream(Box::new(std::io::Cursor::new(bytes))),
            None,
            None,
            &options(TaskKind::Preference),
            &tx,
            |_| {},
        )
        .err()
        .expect("an IO error");
        drop(tx);
        assert_eq!(collector.join().unwrap(), None, "no finish message");
        assert!(
            e.to_string()
                .contains("the gzip data is corrupt or truncated"),
            "{e}"
        );
    }
}

fn rows_of(lines: &[Value], task: TaskKind) -> Got {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    read_bytes(text.into_bytes(), None, task)
}

fn msg(role: &str, content: &str) -> Value {
    json!({"role": role, "content": content})
}

#[test]
fn trl_conversational_rows_are_not_mistaken_for_hh() {
    // Implicit prompt (TRL's conversational form), explicit prompt, standard form.
    let implicit = json!({
        "chosen": [msg("user", "What colour is the sky?"), msg("assistant", "Blue.")],
        "rejected": [msg("user", "What colour is the sky?"), msg("assistant", "Green.")],
    });
    let explicit = json!({
        "prompt": [msg("system", "Be brief."), msg("user", "2+2?")],
        "chosen": [msg("assistant", "4")],
        "rejected": [msg("assistant", "5")],
    });
    let standard = json!({"prompt": "Capital of France?", "chosen": "Paris", "rejected": "Lyon"});
    for (row, context, chosen) in [
        (&implicit, 1, "Blue."),
        (&explicit, 2, "4"),
        (&standard, 1, "Paris"),
    ] {
        let got = rows_of(std::slice::from_ref(row), TaskKind::Preference).ok();
        let d = got.outcome.detected.as_ref().unwrap();
        assert_eq!(d.format, Format::Trl, "{row}");
        let item: Item = serde_json::from_str(&got.items[0].body).unwrap();
        assert_eq!(item.context.len(), context);
        let p = &payloads(&got.items[0])[0];
        let winner = item.candidate(p["winner"].as_str().unwrap()).unwrap();
        assert_eq!(winner.content, chosen);
        assert_eq!(p["strength"], Value::Null, "no strength recorded: unknown");
        assert_eq!(got.items[0].external[0].source, "trl");
    }
    // A bad message is named by its field.
    let bad = json!({"chosen": [msg("user", "q"), {"role": "robot", "content": "x"}], "rejected": [msg("user", "q"), msg("assistant", "y")]});
    let e = rows_of(&[bad], TaskKind::Preference).error();
    assert_eq!(
        e,
        "line 1: field `chosen[1].role`: unknown role `robot` (expected system, user, assistant or tool)"
    );
    // An empty item id is refused by the item's rules, not a panic.
    let empty = json!({"prompt": "q", "chosen": "a", "rejected": "b", "item_id": ""});
    let e = rows_of(&[empty], TaskKind::Preference).error();
    assert!(e.starts_with("line 1: field `id`"), "{e}");
    let two = json!({"prompt": [msg("user", "q")], "chosen": [msg("assistant", "a"), msg("assistant", "b")], "rejected": [msg("assistant", "c")]});
    let e = rows_of(&[two], TaskKind::Preference).error();
    assert!(
        e.contains(
            "field `chosen`: the reply after the prompt must be one assistant message, found 2"
        ),
        "{e}"
    );
}

#[test]
fn ultrafeedback_binarized_and_plumbline_exports_are_trl_rows() {
    let uf = json!({
        "prompt": "Name a prime.", "prompt_id": "abc",
        "chosen": [msg("user", "Name a prime."), msg("assistant", "7")],
        "rejected": [msg("user", "Name a prime."), msg("assistant", "8")],
        "messages": [msg("user", "Name a prime."), msg("assistant", "7")],
        "score_chosen": 9.0, "score_rejected": 2.5,
    });
    let got = rows_of(&[uf], TaskKind::Preference).ok();
    assert_eq!(got.outcome.detected.as_ref().unwrap().format, Format::Trl);
    let item: Item = serde_json::from_str(&got.items[0].body).unwrap();
    assert_eq!(item.context.len(), 1);
    assert_eq!(item.metadata["score_chosen"], 9.0);
    assert_eq!(got.items[0].external[0].source, "ultrafeedback");
    // A row of Plumbline's preference export (Parquet's JSON text for criteria, tags
    // and provenance reads the same).
    let row = json!({
        "prompt": [msg("user", "question p1")],
        "chosen": [msg("assistant", "b says x")],
        "rejected": [msg("assistant", "a says x")],
        "strength": 2, "criteria": {"helpfulness": "chosen", "safety": "tie"},
        "item_id": "p1", "split": "eval", "tags": ["edge:bereavement", "urgent"],
        "provenance": {"chosen_id": "b", "chosen_model": "m2", "rejected_id": "a",
                       "rejected_model": "m1", "decision": "single"},
    });
    let mut as_text = row.clone();
    for k in ["criteria", "tags", "provenance"] {
        as_text[k] = Value::String(row[k].to_string());
    }
    for r in [row, as_text] {
        let got = rows_of(&[r], TaskKind::Preference).ok();
        let item: Item = serde_json::from_str(&got.items[0].body).unwrap();
        assert_eq!(item.id, "p1");
        assert_eq!(item.split, Some(Split::Eval));
        assert_eq!(item.tags, ["edge:bereavement", "urgent"]);
        let ids: Vec<(&str, Option<&str>)> = item
            .candidates
            .iter()
            .map(|c| (c.id.as_str(), c.model.as_deref()))
            .collect();
        assert_eq!(ids, [("a", Some("m1")), ("b", Some("m2"))]);
        let p = &payloads(&got.items[0])[0];
        assert_eq!(
            *p,
            json!({"winner": "b", "strength": 2, "criteria": {"helpfulness": "b", "safety": "tie"}})
        );
        assert_eq!(got.items[0].external[0].source, "plumbline");
    }
}

#[test]
fn sft_rows_become_demonstrations_grouped_by_item() {
    let rows = [
        json!({"messages": [msg("user", "Say hi"), msg("assistant", "Hi!")], "item_id": "d1",
               "provenance": {"source": "demonstration"}, "split": null, "tags": []}),
        json!({"messages": [msg("user", "Say hi"), msg("assistant", "Hello!")], "item_id": "d1",
               "provenance": {"source": "demonstration"}, "split": null, "tags": []}),
        json!({"messages": [msg("user", "Say bye"), msg("assistant", "Bye.")]}),
    ];
    let got = rows_of(&rows, TaskKind::Demonstration).ok();
    assert_eq!(
        got.outcome.detected.as_ref().unwrap().format,
        Format::TrlSft
    );
    assert_eq!(got.items.len(), 2);
    assert_eq!(got.items[0].ext_id, "d1");
    let responses: Vec<Value> = payloads(&got.items[0])
        .into_iter()
        .map(|p| p["response"].clone())
        .collect();
    assert_eq!(responses, [json!("Hi!"), json!("Hello!")]);
    assert!(got.items[1].ext_id.starts_with("sft-"));
    let e = rows_of(
        &[json!({"messages": [msg("user", "only a question")]})],
        TaskKind::Demonstration,
    )
    .error();
    assert_eq!(
        e,
        "line 1: field `messages`: must end with the assistant reply to learn from"
    );
}

#[test]
fn ultrafeedback_completions_become_a_ranking() {
    let row = json!({
        "source": "evol_instruct", "instruction": "Write a haiku.",
        "completions": [
            {"model": "m1", "response": "one", "overall_score": 6.5,
             "annotations": {"helpfulness": {"Rating": "3"}}},
            {"model": "m2", "response": "two", "overall_score": 8},
            {"model": "m3", "response": "three",
             "annotations": {"helpfulness": {"Rating": "4", "Rationale": "ok"},
                             "honesty": {"Rating": "N/A"}, "truthfulness": {"Rating": "5"}}},
            {"model": "m4", "response": "four", "overall_score": 6.5},
        ],
    });
    let got = rows_of(&[row], TaskKind::Ranking).ok();
    assert_eq!(
        got.outcome.detected.as_ref().unwrap().format,
        Format::UltraFeedback
    );
    let item: Item = serde_json::from_str(&got.items[0].body).unwrap();
    assert_eq!(item.candidates.len(), 4);
    assert_eq!(item.candidates[2].model.as_deref(), Some("m3"));
    assert_eq!(
        payloads(&got.items[0])[0]["order"],
        json!([["b"], ["a", "d"], ["c"]])
    );
    let bad = json!({"prompt": "p", "completions": [{"response": "x"}, {"response": "y", "overall_score": 1}]});
    let e = rows_of(&[bad], TaskKind::Ranking).error();
    assert!(
        e.starts_with("line 1: field `completions[0]`: has no score"),
        "{e}"
    );
    let one = json!({"prompt": "p", "completions": [{"response": "x", "overall_score": 1}]});
    let two = json!({"prompt": "q", "completions": [{"response": "x", "overall_score": 1}, {"response": "y", "overall_score": 2}]});
    let got = rows_of(&[one, two], TaskKind::Ranking).ok();
    assert_eq!(got.items.len(), 1);
    assert_eq!(
        got.outcome.summary.skipped["fewer than two completions to rank"],
        1
    );
}

#[test]
fn helpsteer2_preference_rows_keep_their_strength() {
    let rows = [
        json!({"split": "train", "prompt": "Hi<extra_id_1>Assistant\nHello<extra_id_1>User\nHelp me",
               "response_1": "Sure", "response_2": "No", "preference_strength": -2,
               "preference_statement": "@Response 1 is better.", "preference_elaboration": "It helps."}),
        json!({"split": "validation", "prompt": "Q", "response_1": "x", "response_2": "y",
               "preference_strength": 0}),
    ];
    let got = rows_of(&rows, TaskKind::Preference).ok();
    assert_eq!(
        got.outcome.detected.as_ref().unwrap().format,
        Format::HelpSteer2Preference
    );
    let item: Item = serde_json::from_str(&got.items[0].body).unwrap();
    assert_eq!(item.context.len(), 3);
    let p = &payloads(&got.items[0])[0];
    assert_eq!((&p["winner"], &p["strength"]), (&json!("a"), &json!(2)));
    assert!(p["rationale"].as_str().unwrap().contains("It helps."));
    let p = &payloads(&got.items[1])[0];
    assert_eq!((&p["winner"], &p["strength"]), (&json!("tie"), &json!(0)));
    let bad =
        json!({"prompt": "Q", "response_1": "x", "response_2": "y", "preference_strength": 5});
    let e = rows_of(&[bad], TaskKind::Preference).error();
    assert_eq!(
        e,
        "line 1: field `preference_strength`: must be between -3 and 3, got 5"
    );
}

#[test]
fn hh_choices_have_no_strength() {
    let got = read("hh_rlhf.jsonl", None, None, TaskKind::Preference).ok();
    for item in &got.items {
        assert_eq!(payloads(item)[0]["strength"], Value::Null);
    }
}

mod never_panic {
    use plumbline_formats::rows::Row;
    use proptest::prelude::*;
    use serde_json::{Value, json};

    /// JSON values of the shapes these readers meet, and of shapes they do not expect.
    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(|f| json!(f)),
            "[a-z ]{0,6}".prop_map(Value::from),
            prop::sample::select(vec![
                "user",
                "assistant",
                "system",
                "tool",
                "robot",
                "",
                "N/A",
                "7"
            ])
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                prop::collection::btree_map(
                    prop::sample::select(vec![
                        "role",
                        "content",
                        "response",
                        "model",
                        "overall_score",
                        "annotations",
                        "Rating",
                        "chosen_id",
                        "rejected_id",
                        "decision",
                        "source",
                    ]),
                    inner,
                    0..4,
                )
                .prop_map(|m| Value::Object(
                    m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    fn row() -> impl Strategy<Value = Row> {
        prop::collection::btree_map(
            prop::sample::select(vec![
                "prompt",
                "chosen",
                "rejected",
                "messages",
                "item_id",
                "strength",
                "criteria",
                "tags",
                "split",
                "provenance",
                "completions",
                "instruction",
                "response_1",
                "response_2",
                "preference_strength",
                "preference_statement",
                "score_chosen",
            ]),
            value(),
            0..8,
        )
        .prop_map(|m| m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        #[test]
        fn the_new_shapes_never_panic(r in row()) {
            let _ = plumbline_formats::trl::pair(1, &r);
            let _ = plumbline_formats::ultrafeedback::record(1, &r);
            let _ = plumbline_formats::ultrafeedback::hs2_preference(1, &r);
            let text = Value::Object(r.clone()).to_string();
            let _ = crate::support::read_bytes(text.into_bytes(), None, plumbline_domain::TaskKind::Preference);
        }
    }
}
