//! Plumbline's importers and exporters. Today: the native JSONL format, read as a
//! stream into the store's import channel and written back field for field.
//!
//! Architecture invariant: parsers never panic on user input and report every refusal
//! with its line, field and reason; they hold at most one batch in memory.
#![forbid(unsafe_code)]

pub mod lines;
pub mod native;

pub use lines::{LineError, LineReader, RawLine};
pub use native::{NativeOptions, ReadSummary, encode_item, read_native};
