//! Hostile and odd input: a UTF-8 byte-order mark before JSONL and CSV, and corrupt
//! Parquet files (truncated, bytes flipped), which must be refused without a panic.

use crate::support::*;
use plumbline_domain::TaskKind;
use plumbline_formats::Format;

/// A scratch directory of this test process.
fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("plumbline-hostile-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Reads `bytes` written to a file (Parquet is read from files only).
fn read_file_bytes(dir: &std::path::Path, bytes: &[u8], task: TaskKind) -> Got {
    let path = dir.join("corrupt.parquet");
    std::fs::write(&path, bytes).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    read_input(
        plumbline_formats::Input::File(file),
        Some(Format::Parquet),
        None,
        options(task),
    )
}

/// Corruptions that made the `parquet` crate panic, one for each place it panicked
/// (found by flipping every byte of the fixtures): thrift decoding, metadata, RLE and
/// bit-unpacking, the column decoder and the record reader.
const PANICKED: &[(&str, TaskKind, usize, Change)] = &[
    ("hh_rlhf.parquet", TaskKind::Preference, 2283, Change::Flip),
    ("helpsteer2.parquet", TaskKind::Rating, 478, Change::Flip),
    ("hh_rlhf.parquet", TaskKind::Preference, 14, Change::Zero),
    ("hh_rlhf.parquet", TaskKind::Preference, 2278, Change::Ones),
    ("oasst1.parquet", TaskKind::Preference, 6444, Change::Flip),
    ("hh_rlhf.parquet", TaskKind::Preference, 2262, Change::Flip),
    ("oasst1.parquet", TaskKind::Preference, 3751, Change::Zero),
    ("hh_rlhf.parquet", TaskKind::Preference, 1262, Change::Flip),
    ("hh_rlhf.parquet", TaskKind::Preference, 679, Change::Zero),
    ("oasst1.parquet", TaskKind::Preference, 981, Change::Zero),
];

/// What is done to one byte.
#[derive(Clone, Copy)]
enum Change {
    Flip,
    Zero,
    Ones,
}

#[test]
fn corrupt_parquet_is_refused_without_a_panic() {
    let dir = scratch("parquet");
    for &(name, task, at, change) in PANICKED {
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        bytes[at] = match change {
            Change::Flip => bytes[at] ^ 0xff,
            Change::Zero => 0,
            Change::Ones => 0xff,
        };
        let got = read_file_bytes(&dir, &bytes, task);
        let e = got.error();
        assert!(e.contains("Parquet file"), "{name} byte {at}: {e}");
        if e.contains("cannot read row") {
            assert!(e.contains("row group 1 of 1"), "{name} byte {at}: {e}");
        }
    }
    // A sweep: cut at every 61st length, and every 17th byte flipped.
    let bytes = std::fs::read(fixture("hh_rlhf.parquet")).unwrap();
    let (mut refused, mut read) = (0, 0);
    for len in (0..bytes.len()).step_by(61) {
        let got = read_file_bytes(&dir, &bytes[..len], TaskKind::Preference);
        assert!(got.error().contains("Parquet file"));
        refused += 1;
    }
    for at in (0..bytes.len()).step_by(17) {
        let mut v = bytes.clone();
        v[at] ^= 0xff;
        let got = read_file_bytes(&dir, &v, TaskKind::Preference);
        match got.commit {
            Some(true) => read += 1,
            _ => {
                assert!(!got.outcome.summary.errors.is_empty(), "byte {at}");
                refused += 1;
            }
        }
    }
    assert!(
        refused > 100 && read < refused,
        "{refused} refused, {read} read"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_byte_order_mark_before_jsonl_or_csv_is_accepted() {
    let bom = |path: &str| {
        let mut v = b"\xef\xbb\xbf".to_vec();
        v.extend(std::fs::read(fixture(path)).unwrap());
        v
    };
    // JSONL of a dataset shape, detected and named.
    let plain = read("hh_rlhf.jsonl", None, None, TaskKind::Preference).ok();
    for format in [None, Some(Format::HhRlhf)] {
        let got = read_bytes(bom("hh_rlhf.jsonl"), format, TaskKind::Preference).ok();
        assert_eq!(got.items.len(), plain.items.len());
        assert_eq!(got.items[0].body, plain.items[0].body);
    }
    // Native JSONL, from a file and from a stream.
    let native = br#"{"id":"a1","context":[{"role":"user","content":"Hi"}],"candidates":[{"id":"x","content":"Hello"},{"id":"y","content":"Hey"}]}"#;
    let mut with_bom = b"\xef\xbb\xbf".to_vec();
    with_bom.extend_from_slice(native);
    with_bom.push(b'\n');
    for format in [None, Some(Format::Native)] {
        let got = read_bytes(with_bom.clone(), format, TaskKind::Preference).ok();
        assert_eq!(got.parsed()[0].id, "a1");
    }
    let dir = scratch("bom");
    let path = dir.join("items.jsonl");
    std::fs::write(&path, &with_bom).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let got = read_input(
        plumbline_formats::Input::File(file),
        None,
        None,
        options(TaskKind::Preference),
    )
    .ok();
    assert_eq!(got.items.len(), 1);
    // CSV with a column mapping: the first column keeps its name.
    let m = plumbline_formats::csv::Mapping::from_toml(
        &std::fs::read_to_string(fixture("pairs_mapping.toml")).unwrap(),
    )
    .unwrap();
    let path = dir.join("pairs.csv");
    std::fs::write(&path, bom("pairs.csv")).unwrap();
    let file = std::fs::File::open(&path).unwrap();
    let got = read_input(
        plumbline_formats::Input::File(file),
        None,
        Some(m.clone()),
        options(TaskKind::Preference),
    )
    .ok();
    let plain = read("pairs.csv", None, Some(m), TaskKind::Preference).ok();
    assert_eq!(got.items.len(), 3);
    assert_eq!(got.items[0].body, plain.items[0].body);
    let _ = std::fs::remove_dir_all(&dir);
}

// A bounded fuzz run over the Parquet reader: a few random byte changes to each
// fixture, never a panic (a refusal, or rows if the change was harmless). Runs in CI
// with the other tests; raise `cases` to search longer.
proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig {
        cases: 48,
        failure_persistence: None,
        ..proptest::prelude::ProptestConfig::default()
    })]
    #[test]
    fn fuzzed_parquet_never_panics(
        which in 0usize..4,
        changes in proptest::collection::vec((proptest::prelude::any::<u16>(), proptest::prelude::any::<u8>()), 1..5),
    ) {
        let (name, task) = [
            ("hh_rlhf.parquet", TaskKind::Preference),
            ("pairs.parquet", TaskKind::Preference),
            ("helpsteer2.parquet", TaskKind::Rating),
            ("oasst1.parquet", TaskKind::Preference),
        ][which];
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        for (at, b) in changes {
            let at = at as usize % bytes.len();
            bytes[at] = b;
        }
        let dir = scratch(&format!("fuzz-{which}"));
        let got = read_file_bytes(&dir, &bytes, task);
        let _ = std::fs::remove_dir_all(&dir);
        proptest::prop_assert!(got.commit.is_some(), "the reader finished");
    }
}
