//! The importers on fixtures written in each format's published shape: what they make
//! of good files, and how they refuse bad ones (line, field, reason; nothing committed).

mod csv;
mod detect;
mod exports;
mod helpsteer2;
mod hh_rlhf;
mod hostile;
mod interchange;
mod label_studio;
mod media;
mod oasst1;
mod parquet;
mod support;
mod webm;
mod whisper;
