//! HTTP tests of the server: the real router on port 0 over a fresh database,
//! driven through small typed helpers. One test binary, a module per area.

mod access;
mod comments;
mod engine;
mod exports;
mod gold;
mod hidden;
mod invitations;
mod leads;
mod lifecycle;
mod matrix;
mod media;
mod media_import;
mod openapi;
mod payloads;
mod support;
mod trust;
mod uploads;
