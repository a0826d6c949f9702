//! Runs a reader against a fixture and collects what it sends to the store.

use plumbline_domain::{Item, Scale, TaskKind};
use plumbline_formats::csv::Mapping;
use plumbline_formats::{Format, Input, ReadOptions, ReadOutcome};
use plumbline_store::{ImportMsg, NewItem};
use std::path::PathBuf;
use tokio::sync::mpsc;

/// A fixture's path.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Options of a banking-like project (edge case `bereavement`) whose rubric also has
/// HelpSteer2's five criteria on a 0..4 scale.
pub fn options(task: TaskKind) -> ReadOptions {
    let mut o = ReadOptions::new(task);
    o.edge_cases.insert("bereavement".into());
    for k in plumbline_formats::helpsteer2::ATTRIBUTES {
        o.criteria.insert(k.into(), Scale { min: 0, max: 4 });
    }
    o
}

/// What a reader sent and said.
pub struct Got {
    pub items: Vec<NewItem>,
    /// The finish message's commit flag; `None` when none came.
    pub commit: Option<bool>,
    pub outcome: ReadOutcome,
}

impl Got {
    /// The parsed items.
    pub fn parsed(&self) -> Vec<Item> {
        self.items
            .iter()
            .map(|i| serde_json::from_str(&i.body).unwrap())
            .collect()
    }

    /// The first error as text.
    pub fn error(&self) -> String {
        assert_eq!(self.commit, Some(false), "the reader asked to commit");
        assert!(self.items.is_empty(), "items were sent");
        self.outcome
            .summary
            .errors
            .first()
            .expect("an error")
            .to_string()
    }

    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.commit,
            Some(true),
            "errors: {:?}",
            self.outcome.summary.errors
        );
        self
    }
}

/// Reads `input` as `format` with `mapping`, collecting the stream.
pub fn read_input(
    input: Input,
    format: Option<Format>,
    mapping: Option<Mapping>,
    opts: ReadOptions,
) -> Got {
    let (tx, mut rx) = mpsc::channel(4);
    let collector = std::thread::spawn(move || {
        let mut items = Vec::new();
        let mut commit = None;
        while let Some(m) = rx.blocking_recv() {
            match m {
                ImportMsg::Items(b) => items.extend(b),
                ImportMsg::Finish { commit: c } => commit = Some(c),
            }
        }
        (items, commit)
    });
    let outcome = plumbline_formats::read(input, format, mapping.as_ref(), &opts, &tx, |_| {})
        .expect("no IO error");
    drop(tx);
    let (items, commit) = collector.join().unwrap();
    let items = if commit == Some(true) {
        items
    } else {
        // Sent before the first error, never committed: the store would drop them.
        Vec::new()
    };
    Got {
        items,
        commit,
        outcome,
    }
}

/// Reads a fixture file.
pub fn read(name: &str, format: Option<Format>, mapping: Option<Mapping>, task: TaskKind) -> Got {
    let file = std::fs::File::open(fixture(name)).unwrap();
    read_input(Input::File(file), format, mapping, options(task))
}

/// Reads bytes as a stream (standard input).
pub fn read_bytes(bytes: Vec<u8>, format: Option<Format>, task: TaskKind) -> Got {
    let input = Input::Stream(Box::new(std::io::Cursor::new(bytes)));
    read_input(input, format, None, options(task))
}

/// The payloads of an item's external judgments, parsed.
pub fn payloads(item: &NewItem) -> Vec<serde_json::Value> {
    item.external
        .iter()
        .map(|j| serde_json::from_str(&j.payload).unwrap())
        .collect()
}

/// Runs an audio tool of the media tests; `false` (a loud skip) when it is missing or
/// fails, which under `CI=true` fails the test instead.
pub fn run_tool(tool: &str, args: &[&str]) -> bool {
    match std::process::Command::new(tool).args(args).output() {
        Ok(out) if out.status.success() => true,
        other => {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "{tool} is needed under CI: {other:?}"
            );
            eprintln!(
                "*** SKIPPED: {tool} is not installed (espeak-ng, opus-tools, mkvtoolnix) ***"
            );
            false
        }
    }
}

/// A scratch directory `plumbline-formats-{name}-{pid}` with `calls/{wav}`, a sentence
/// of real speech from espeak-ng; `None` without espeak-ng (see [`run_tool`]).
pub fn speech_dir(name: &str, wav: &str) -> Option<PathBuf> {
    let dir = std::env::temp_dir().join(format!("plumbline-formats-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("calls")).unwrap();
    let path = dir.join("calls").join(wav);
    run_tool(
        "espeak-ng",
        &[
            "-w",
            path.to_str().unwrap(),
            "Hello, my card number is four five five six, thank you.",
        ],
    )
    .then_some(dir)
}
