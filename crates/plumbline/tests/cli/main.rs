//! End-to-end tests of the `plumbline` binary: one test binary, a module per area.

mod backup;
mod demo;
mod formats;
mod governance;
mod import_export;
mod leads;
mod load;
mod projects;
mod simulate;
mod sovereignty;
mod stats;
mod support;
