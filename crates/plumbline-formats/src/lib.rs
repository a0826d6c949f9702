//! Plumbline's importers and exporters: the native JSONL format, CSV and Parquet with a
//! column mapping, and the shapes of public preference datasets and tools (Anthropic
//! HH-RLHF, OpenAssistant oasst1, NVIDIA HelpSteer2 and its preference rows, TRL
//! preference and SFT rows, UltraFeedback, Label Studio exports), plain or gzip/zstd
//! compressed, read as a stream into the store's import channel, with `--format auto`
//! detection; and the one
//! import driver ([`import_driver`]) and export driver ([`export_driver`], with the one
//! check of export options) that the command line and the API both call.
//!
//! Architecture invariant: parsers never panic on user input and report every refusal
//! with its line (or record), field and reason; they hold at most one batch in memory,
//! plus one oasst1 tree or one HelpSteer2 prompt, except Label Studio's JSON array,
//! which is read whole under a size cap.
#![forbid(unsafe_code)]

pub mod card;
pub mod compressed;
pub mod csv;
pub mod detect;
pub mod eval;
pub mod export;
pub mod export_driver;
pub mod export_parquet;
pub mod export_table;
pub mod feed;
pub mod helpsteer2;
pub mod hh_rlhf;
pub mod import;
pub mod import_driver;
pub mod json_out;
pub mod kinds;
pub mod label_studio;
pub mod lines;
pub mod media;
pub mod native;
pub mod oasst1;
pub mod pair_row;
pub mod parquet;
pub mod quality;
pub mod release;
pub mod reliabilities;
pub mod rows;
pub mod run;
pub mod split;
pub mod split_driver;
pub mod trl;
pub mod ultrafeedback;
pub mod whisper;

pub use detect::Format;
pub use feed::{Feeder, ReadOptions, ReadSummary, Record, encode_item};
pub use import::{Detected, Input, ReadOutcome, read};
pub use lines::{LineError, LineReader, RawLine};
pub use native::{NativeOptions, read_native};
