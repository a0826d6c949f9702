//! `plumbline stats …`: the quality statistics on labelled files (CSV or JSONL, long format).
//!
//! Reading and naming live here; every number comes from `plumbline-quality`, which does no IO.
//! Undefined results print as `undefined: <reason>` in text and as `"value": null` with an
//! `"undefined_reason"` in JSON, never as NaN.

mod categorical;
mod input;
mod long;
mod pairwise;

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use plumbline_quality::Estimate;

use input::InputArgs;

/// Statistics on long-format CSV or JSONL files.
#[derive(Debug, Subcommand)]
pub enum StatsCommand {
    /// Krippendorff's alpha (and pairwise percent agreement) on `item,annotator,value` rows.
    Agreement(AgreementArgs),
    /// Fleiss' kappa on `item,annotator,value` rows (the same number of ratings per item).
    Fleiss(FleissArgs),
    /// Cohen's kappa on `item,annotator,value` rows from exactly two annotators.
    Cohen(CohenArgs),
    /// Dawid-Skene EM: posterior label per item, class priors, per-annotator accuracy.
    DawidSkene(DawidSkeneArgs),
    /// Aggregated label and posterior per item by majority, weighted vote, Dawid-Skene or gold.
    Aggregate(AggregateArgs),
    /// Bradley-Terry strengths with standard errors from `item,annotator,left,right,winner` rows.
    BradleyTerry(BradleyTerryArgs),
    /// Position, length, surface-trait and priority-inversion bias of pairwise judgments.
    Bias(BiasArgs),
}

/// Level of measurement for Krippendorff's alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LevelArg {
    /// Unordered categories.
    Nominal,
    /// Ordered categories (numbers, or the order of --categories).
    Ordinal,
    /// Numbers with meaningful differences.
    Interval,
    /// Non-negative numbers with a meaningful zero.
    Ratio,
}

/// `stats agreement`.
#[derive(Debug, Args)]
pub struct AgreementArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Level of measurement.
    #[arg(long, value_enum, default_value = "nominal")]
    level: LevelArg,
    /// Declared categories in order, comma-separated (nominal, ordinal) [default: inferred from the file: numeric order if all values are numbers, else string order].
    #[arg(long)]
    categories: Option<String>,
    /// Also compute a bootstrap 95% interval from this many replicates (units resampled).
    #[arg(long, value_name = "N")]
    bootstrap: Option<usize>,
    /// Seed of the bootstrap; the same seed gives the same interval.
    #[arg(long, default_value_t = 1)]
    seed: u64,
}

/// `stats fleiss`.
#[derive(Debug, Args)]
pub struct FleissArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Declared categories, comma-separated [default: inferred from the file].
    #[arg(long)]
    categories: Option<String>,
}

/// Weighting for Cohen's kappa.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum WeightsArg {
    /// Unweighted.
    None,
    /// 1 − |i − j|/(k − 1), by category index.
    Linear,
    /// 1 − ((i − j)/(k − 1))², by category index.
    Quadratic,
}

/// `stats cohen`.
#[derive(Debug, Args)]
pub struct CohenArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Agreement weights (by category index in the category order).
    #[arg(long, value_enum, default_value = "none")]
    weights: WeightsArg,
    /// Declared categories in order, comma-separated; unused ones between used ones change weighted kappa [default: inferred from both annotators' values: numeric order if all are numbers, else string order].
    #[arg(long)]
    categories: Option<String>,
}

/// `stats dawid-skene`.
#[derive(Debug, Args)]
pub struct DawidSkeneArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Stop when no prior or confusion probability moves by more than this.
    #[arg(long, default_value_t = 1e-6)]
    tolerance: f64,
    /// Give up after this many EM iterations (reported as not converged).
    #[arg(long, default_value_t = 1000)]
    max_iterations: usize,
    /// Declared categories, comma-separated [default: inferred from the file].
    #[arg(long)]
    categories: Option<String>,
}

/// Aggregation method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// One vote per judgment; ties to the category given most often overall, then the first.
    Majority,
    /// Votes weighted per annotator (--weights).
    Weighted,
    /// Unsupervised Dawid-Skene EM.
    DawidSkene,
    /// Confusion matrices learned on gold items (--gold), votes combined by log-likelihood.
    GoldAnchored,
}

/// `stats aggregate`.
#[derive(Debug, Args)]
pub struct AggregateArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Aggregation method.
    #[arg(long, value_enum)]
    method: MethodArg,
    /// Known answers, `item,value` (needed by gold-anchored).
    #[arg(long, value_name = "G")]
    gold: Option<PathBuf>,
    /// Annotator weights, `annotator,weight` (needed by weighted; every annotator must be listed).
    #[arg(long, value_name = "W")]
    weights: Option<PathBuf>,
    /// Gold-anchored: annotators with fewer gold judgments use the pooled confusion matrix.
    #[arg(long, default_value_t = 10)]
    min_gold: usize,
    /// Gold-anchored: pseudo-judgments per class pulling each matrix toward the pool.
    #[arg(long, default_value_t = 2.0)]
    prior_strength: f64,
    /// Declared categories, comma-separated [default: inferred from the file and the gold].
    #[arg(long)]
    categories: Option<String>,
}

/// `stats bradley-terry`.
#[derive(Debug, Args)]
pub struct BradleyTerryArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Pin this option's log-strength at 0 [default: log-strengths sum to zero].
    #[arg(long, value_name = "OPTION")]
    reference: Option<String>,
}

/// `stats bias`.
#[derive(Debug, Args)]
pub struct BiasArgs {
    #[command(flatten)]
    input: InputArgs,
    /// Length bias counts pairs whose lengths differ by more than this many characters (τ).
    #[arg(long, default_value_t = plumbline_quality::bias::DEFAULT_LENGTH_THRESHOLD)]
    tau: u32,
}

/// Runs one `stats` subcommand.
pub fn run(cmd: StatsCommand) -> anyhow::Result<()> {
    match cmd {
        StatsCommand::Agreement(a) => categorical::agreement(a),
        StatsCommand::Fleiss(a) => categorical::fleiss(a),
        StatsCommand::Cohen(a) => categorical::cohen(a),
        StatsCommand::DawidSkene(a) => categorical::dawid_skene(a),
        StatsCommand::Aggregate(a) => categorical::aggregate(a),
        StatsCommand::BradleyTerry(a) => pairwise::bradley_terry(a),
        StatsCommand::Bias(a) => pairwise::bias(a),
    }
}

/// An estimate for text output: six decimals, or `undefined: <reason>`.
fn show(e: &Estimate) -> String {
    e.to_string()
}

/// Prints `value` as pretty JSON on stdout.
fn print_json(value: &serde_json::Value) -> anyhow::Result<()> {
    println!("{}", serde_json::to_string_pretty(value)?);
    Ok(())
}
