//! `plumbline project create | list | set | reinstate`.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use plumbline_domain::{
    FieldError, ProjectName, ProjectRole, ProjectSettings, Rubric, SettingsPatch, TaskKind, UserId,
};
use plumbline_store::{NewProject, Project, Store, StoreError};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Subcommand)]
pub enum ProjectCommand {
    /// Create a project from a rubric file.
    Create(CreateArgs),
    /// List projects.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Change some of a project's settings (each range-checked; a bad value changes nothing).
    Set(SetArgs),
    /// Lift an annotator's probation: from now on only hidden gold judged after this counts.
    Reinstate(ReinstateArgs),
}

/// The settings a project takes as flags, at creation and after (`project set`).
#[derive(Debug, Args)]
pub struct SettingsFlags {
    /// Judgments wanted per item, 1 to 100.
    #[arg(long)]
    overlap: Option<u32>,
    /// Share of served work that is hidden gold, at least 0 and below 1.
    #[arg(long, allow_negative_numbers = true)]
    gold_rate: Option<f64>,
    /// How long a lease lasts, in seconds (10 to 604800).
    #[arg(long)]
    lease_seconds: Option<u32>,
    /// Gold items an annotator judges before regular work; 0 disables qualification.
    #[arg(long)]
    qualification_size: Option<u32>,
    /// Share of the qualification set to get right to pass, 0 to 1.
    #[arg(long, allow_negative_numbers = true)]
    qualification_pass: Option<f64>,
    /// Expert judgments each item should get, at most --max-overlap; `auto`: 1 when the
    /// project has verified experts, else 0.
    #[arg(long, value_parser = parse_auto)]
    min_experts: Option<Auto>,
    /// Most judgments an item may get with escalation, --overlap to 100; `auto`: overlap + 2.
    #[arg(long, value_parser = parse_auto)]
    max_overlap: Option<Auto>,
    /// Hidden-gold accuracy below which (by its Wilson upper bound) an annotator is on
    /// probation, 0 to 1; 0 disables probation.
    #[arg(long, allow_negative_numbers = true)]
    min_gold_accuracy: Option<f64>,
    /// Least posterior of an item's decided label, above 0.5 and at most 1.
    #[arg(long, allow_negative_numbers = true)]
    decision_threshold: Option<f64>,
    /// Largest normalised Kendall distance at which rankings agree, 0 to 1.
    #[arg(long, allow_negative_numbers = true)]
    ranking_agreement: Option<f64>,
    /// Largest score spread at which ratings agree, 0 to 100.
    #[arg(long)]
    rating_spread: Option<u32>,
}

/// A whole number, or `auto` for the setting's automatic value.
#[derive(Debug, Clone, Copy)]
pub struct Auto(Option<u32>);

fn parse_auto(s: &str) -> Result<Auto, String> {
    if s == "auto" {
        return Ok(Auto(None));
    }
    s.parse()
        .map(|n| Auto(Some(n)))
        .map_err(|_| format!("`{s}` is neither a whole number nor `auto`"))
}

impl SettingsFlags {
    fn patch(&self) -> SettingsPatch {
        SettingsPatch {
            overlap: self.overlap,
            gold_rate: self.gold_rate,
            lease_seconds: self.lease_seconds,
            qualification_size: self.qualification_size,
            qualification_pass: self.qualification_pass,
            min_experts: self.min_experts.map(|a| a.0),
            max_overlap: self.max_overlap.map(|a| a.0),
            min_gold_accuracy: self.min_gold_accuracy,
            decision_threshold: self.decision_threshold,
            ranking_agreement: self.ranking_agreement,
            rating_spread: self.rating_spread,
            edge_case_quotas: None,
        }
    }
}

/// A refused setting, named by its flag.
fn flag_error(e: FieldError) -> anyhow::Error {
    if e.field.is_empty() {
        anyhow::anyhow!("invalid settings: {}", e.reason)
    } else {
        anyhow::anyhow!("invalid --{}: {}", e.field.replace('_', "-"), e.reason)
    }
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// Act as this user, who must lead the project (or be an administrator); the change
    /// is audited in their name. Without it the operator acts.
    #[arg(long = "as", value_name = "USER")]
    as_user: Option<String>,
    #[command(flatten)]
    settings: SettingsFlags,
    /// Print the project as JSON.
    #[arg(long)]
    json: bool,
}

#[derive(Debug, Args)]
pub struct ReinstateArgs {
    /// Project name.
    #[arg(long)]
    project: String,
    /// The annotator on probation.
    #[arg(long)]
    user: String,
    /// Act as this user, who must lead the project (or be an administrator); the
    /// reinstatement is audited in their name. Without it the operator acts.
    #[arg(long = "as", value_name = "USER")]
    as_user: Option<String>,
    /// Print the reinstatement as JSON.
    #[arg(long)]
    json: bool,
}

/// The user named by `--as`, refused unless they lead `project` or administer the
/// instance; `None` (the operator) without it.
async fn acting_lead<S: Store>(
    store: &S,
    project: &Project,
    name: Option<&str>,
) -> anyhow::Result<Option<UserId>> {
    let Some(name) = name else { return Ok(None) };
    let user = store.user_by_name(name).await?;
    if user.disabled {
        bail!("user `{name}` is disabled");
    }
    if user.is_admin {
        return Ok(Some(user.id));
    }
    match store.member_role(project.id, user.id).await? {
        Some(ProjectRole::Lead) => Ok(Some(user.id)),
        role => bail!(
            "user `{name}` may not do this in project `{}`: it needs the lead role; they are {}",
            project.name,
            role.map_or("not a member".to_owned(), |r| r.to_string())
        ),
    }
}

fn settings_line(s: &ProjectSettings) -> String {
    let auto = |v: Option<u32>, eff: u32| v.map_or(format!("auto ({eff})"), |v| v.to_string());
    format!(
        "overlap {}, gold rate {}, lease {} s, qualification {} at {}, min experts {}, max overlap {}, min gold accuracy {}, decision threshold {}",
        s.overlap,
        s.gold_rate,
        s.lease_seconds,
        s.qualification_size,
        s.qualification_pass,
        s.min_experts.map_or("auto".to_owned(), |v| v.to_string()),
        auto(s.max_overlap, s.effective_max_overlap()),
        s.min_gold_accuracy,
        s.decision_threshold
    )
}

#[derive(Debug, Args)]
pub struct CreateArgs {
    /// Unique project name.
    #[arg(long)]
    name: String,
    /// Rubric TOML file.
    #[arg(long)]
    rubric: PathBuf,
    /// Default task kind of the project's items.
    #[arg(long, default_value = "preference", value_parser = parse_task)]
    task: TaskKind,
    #[command(flatten)]
    settings: SettingsFlags,
    /// Print the created project as JSON.
    #[arg(long)]
    json: bool,
}

pub fn parse_task(s: &str) -> Result<TaskKind, String> {
    s.parse()
}

/// Reads and validates a rubric file, naming the file in any error.
pub fn read_rubric(path: &PathBuf) -> anyhow::Result<Rubric> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read rubric file {}", path.display()))?;
    Rubric::from_toml(&text).with_context(|| format!("rubric file {}", path.display()))
}

pub async fn run<S: Store>(store: &S, cmd: ProjectCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ProjectCommand::Create(args) => {
            let name = ProjectName::parse(&args.name).map_err(anyhow::Error::msg)?;
            let rubric = read_rubric(&args.rubric)?;
            let defaults = ProjectSettings {
                task: args.task,
                ..ProjectSettings::default()
            };
            let patch = args.settings.patch();
            let settings = if patch.is_empty() {
                defaults.validate().map_err(flag_error)?;
                defaults
            } else {
                patch.apply(&defaults).map_err(flag_error)?
            };
            let project = store
                .create_project(
                    None,
                    NewProject {
                        name,
                        settings,
                        rubric,
                    },
                )
                .await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&project)?);
            } else {
                println!(
                    "created project `{}` (id {}, task {}, rubric {})\n{}",
                    project.name,
                    project.id,
                    project.settings.task,
                    project.rubric_version,
                    settings_line(&project.settings)
                );
            }
        }
        ProjectCommand::Set(args) => {
            let project = store.project_by_name(&args.project).await?;
            let actor = acting_lead(store, &project, args.as_user.as_deref()).await?;
            let patch = args.settings.patch();
            if patch.is_empty() {
                bail!(
                    "name at least one setting to change: --overlap, --gold-rate, --lease-seconds, \
                     --qualification-size, --qualification-pass, --min-experts, --max-overlap, \
                     --min-gold-accuracy, --decision-threshold"
                );
            }
            let fields = patch.fields();
            let project = match store.update_settings(actor, project.id, patch).await {
                Ok(p) => p,
                Err(plumbline_store::SettingsError::Field(e)) => return Err(flag_error(e)),
                Err(plumbline_store::SettingsError::Store(e)) => return Err(e.into()),
            };
            if args.json {
                println!("{}", serde_json::to_string_pretty(&project)?);
            } else {
                println!(
                    "project `{}`: set {}\n{}",
                    project.name,
                    fields.join(", "),
                    settings_line(&project.settings)
                );
            }
        }
        ProjectCommand::Reinstate(args) => {
            let project = store.project_by_name(&args.project).await?;
            let actor = acting_lead(store, &project, args.as_user.as_deref()).await?;
            let user = match store.user_by_name(&args.user).await {
                Err(StoreError::NotFound(_)) => bail!("no user `{}`", args.user),
                other => other?,
            };
            let r = plumbline_formats::quality::reinstate(store, actor, &project, &user).await?;
            if args.json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                println!(
                    "reinstated `{}` in project `{}`: {} of {} hidden gold right are set aside; probation now counts only hidden gold judged from here on",
                    user.name, project.name, r.gold_correct, r.gold_scored
                );
            }
        }
        ProjectCommand::List { json } => {
            let projects = store.list_projects().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&projects)?);
            } else if projects.is_empty() {
                println!("no projects yet (create one with `plumbline project create`)");
            } else {
                println!(
                    "{:<32} {:>10} {:<14} {:>7} {:>7}",
                    "NAME", "ITEMS", "TASK", "OVERLAP", "RUBRIC"
                );
                for p in projects {
                    println!(
                        "{:<32} {:>10} {:<14} {:>7} {:>7}",
                        p.project.name,
                        p.items,
                        p.project.settings.task.as_str(),
                        p.project.settings.overlap,
                        p.project.rubric_version.to_string()
                    );
                }
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
