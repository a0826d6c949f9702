//! `plumbline stats …`: the quality statistics on labelled files (filled by the quality issue).

use clap::Subcommand;

/// Statistics on long-format CSV or JSONL files.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {}

pub fn run(cmd: StatsCommand) -> anyhow::Result<()> {
    match cmd {}
}
