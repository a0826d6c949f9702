//! `plumbline user | member | expertise | token | audit`: identity, access and the
//! audit chain from the command line (acting as the operator: actor `None`).

use anyhow::{Context, bail};
use clap::Subcommand;
use plumbline_domain::{Expertise, ProjectRole, Scopes};
use plumbline_server::auth::{check_password, hash_password, new_token_secret, token_hash};
use plumbline_server::login_guard;
use plumbline_store::audit::Verified;
use plumbline_store::{NewUser, Store};
use std::io::{BufRead, BufWriter, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add a user. Without --password-stdin a strong password is generated and shown once.
    Add {
        /// Login name.
        name: String,
        /// Make the user an instance administrator.
        #[arg(long)]
        admin: bool,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Invite a user: create them without a password and print a one-time link
    /// (72 hours, single use) on which they choose their own. With --again, issue a
    /// new link for an existing user instead; their earlier link stops working.
    Invite {
        /// Login name.
        name: String,
        /// Make the new user an instance administrator.
        #[arg(long, conflicts_with = "again")]
        admin: bool,
        /// The user exists: issue them a new link.
        #[arg(long)]
        again: bool,
        /// The server's address as users reach it, e.g. https://plumbline.example.org.
        #[arg(
            long,
            env = "PLUMBLINE_PUBLIC_URL",
            default_value = "http://127.0.0.1:7433"
        )]
        base_url: String,
    },
    /// List users.
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Disable a user: no login, tokens stop working.
    Disable {
        /// Login name.
        name: String,
    },
    /// Re-enable a disabled user.
    Enable {
        /// Login name.
        name: String,
    },
    /// Reset a user's password and end their sessions (their API tokens stay). Without
    /// --password-stdin a strong password is generated and shown once.
    Password {
        /// Login name.
        name: String,
        /// Read the new password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Lift the login throttle of a name (from every client address).
    Unlock {
        /// The login name, as typed at login.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum MemberCommand {
    /// Give a user a role in a project (replaces an earlier role).
    Add {
        /// Project name.
        #[arg(long)]
        project: String,
        /// User name.
        #[arg(long)]
        user: String,
        /// lead, reviewer, annotator or viewer.
        #[arg(long, value_parser = |s: &str| s.parse::<ProjectRole>())]
        role: ProjectRole,
    },
    /// Take a user out of a project: they no longer see it, their open leases go back
    /// to the pool, their judgments stay. The last lead cannot be removed.
    Remove {
        /// Project name.
        #[arg(long)]
        project: String,
        /// User name.
        #[arg(long)]
        user: String,
    },
    /// List a project's members.
    List {
        /// Project name.
        #[arg(long)]
        project: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ExpertiseCommand {
    /// Record a user's expertise claim (unverified unless --verify).
    Add {
        /// User name.
        #[arg(long)]
        user: String,
        /// `domain:level`, e.g. banking:expert.
        #[arg(value_parser = |s: &str| s.parse::<Expertise>())]
        expertise: Expertise,
        /// Verify it at once (the operator vouches for it).
        #[arg(long)]
        verify: bool,
    },
    /// Verify a user's claim in a domain; only verified expertise routes work.
    Verify {
        /// User name.
        #[arg(long)]
        user: String,
        /// The domain, e.g. banking.
        #[arg(long)]
        domain: String,
    },
    /// List a user's expertise.
    List {
        /// User name.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token; the secret is shown once and stored only as a hash.
    Create {
        /// User name.
        #[arg(long)]
        user: String,
        /// Comma-separated: read,annotate,review,import,export,admin.
        #[arg(long, value_parser = |s: &str| s.parse::<Scopes>())]
        scopes: Scopes,
        /// Lifetime such as 30d, 12h or 90m; none means no expiry.
        #[arg(long, value_parser = parse_duration_ms)]
        expires: Option<i64>,
    },
    /// Revoke a token by id.
    Revoke {
        /// Token id (from `token list`).
        id: i64,
    },
    /// List a user's tokens (never their secrets).
    List {
        /// User name.
        #[arg(long)]
        user: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain under the audit key, check it against the anchor file's
    /// signed checkpoints, and name the first broken link.
    Verify {
        /// A head hash written down earlier (from an earlier `audit verify`): some
        /// event of the chain must have it, or the chain was cut or rewritten.
        #[arg(long, value_name = "HASH", value_parser = parse_hash)]
        expect: Option<String>,
    },
    /// Write events as JSON lines for auditors.
    Export {
        /// Only events at or after this time (YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ, UTC).
        #[arg(long, value_parser = parse_time_ms)]
        since: Option<i64>,
        /// Output file; standard output when absent.
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

/// A hash as `audit verify` prints it: 64 hex digits.
fn parse_hash(s: &str) -> Result<String, String> {
    let s = s.trim();
    if s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!("`{s}` is not a hash of 64 hex digits"))
    }
}

/// Parses `30d`, `12h`, `90m` or `45s` into milliseconds.
pub fn parse_duration_ms(s: &str) -> Result<i64, String> {
    let (n, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = n
        .parse()
        .map_err(|_| format!("`{s}` is not a duration like 30d, 12h or 90m"))?;
    let ms = match unit {
        "d" => 86_400_000,
        "h" => 3_600_000,
        "m" => 60_000,
        "s" => 1_000,
        _ => return Err(format!("`{s}` is not a duration like 30d, 12h or 90m")),
    };
    if n <= 0 {
        return Err("a duration must be positive".into());
    }
    n.checked_mul(ms)
        .ok_or_else(|| format!("`{s}` is too long"))
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM:SSZ` (UTC) into Unix milliseconds.
pub fn parse_time_ms(s: &str) -> Result<i64, String> {
    let bad = || format!("`{s}` is not a time like 2026-11-27 or 2026-11-27T08:30:00Z");
    let (date, time) = match s.split_once('T') {
        Some((d, t)) => (d, Some(t.strip_suffix('Z').ok_or_else(bad)?)),
        None => (s, None),
    };
    let d: Vec<i64> = date
        .split('-')
        .map(|p| p.parse().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    let [y, m, day] = d[..] else {
        return Err(bad());
    };
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return Err(bad());
    }
    let secs = match time {
        None => 0,
        Some(t) => {
            let p: Vec<i64> = t
                .split(':')
                .map(|p| p.parse().map_err(|_| bad()))
                .collect::<Result<_, _>>()?;
            let [h, mi, se] = p[..] else {
                return Err(bad());
            };
            if !(0..24).contains(&h) || !(0..60).contains(&mi) || !(0..61).contains(&se) {
                return Err(bad());
            }
            h * 3600 + mi * 60 + se
        }
    };
    // Days from the civil date (Howard Hinnant's algorithm).
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Ok((days * 86_400 + secs) * 1000)
}

fn generated_password() -> anyhow::Result<String> {
    Ok(plumbline_store::random_hex(12)?)
}

/// A checked new password: the first line of standard input, or a generated one (true).
fn new_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    let (password, generated) = if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("reading the password from standard input")?;
        (line.trim_end_matches(['\n', '\r']).to_owned(), false)
    } else {
        (generated_password()?, true)
    };
    check_password(&password).map_err(anyhow::Error::msg)?;
    Ok((password, generated))
}

pub async fn user<S: Store>(store: &S, cmd: UserCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        UserCommand::Add {
            name,
            admin,
            password_stdin,
        } => {
            if name.trim().is_empty()
                || name.len() > 64
                || name.chars().any(|c| c.is_control() || c.is_whitespace())
            {
                bail!(
                    "user name `{name}` must be 1 to 64 characters without spaces or control characters"
                );
            }
            let (password, generated) = new_password(password_stdin)?;
            let hash = tokio::task::spawn_blocking(move || {
                hash_password(&password).map(|h| (h, password))
            })
            .await??;
            let user = store
                .create_user(
                    None,
                    NewUser {
                        name,
                        password_hash: Some(hash.0),
                        is_admin: admin,
                    },
                )
                .await?;
            println!(
                "added user `{}` (id {}{})",
                user.name,
                user.id,
                if admin { ", administrator" } else { "" }
            );
            if generated {
                println!("password (shown once): {}", hash.1);
            }
        }
        UserCommand::Invite {
            name,
            admin,
            again,
            base_url,
        } => {
            let user = if again {
                store.user_by_name(&name).await?
            } else {
                plumbline_server::invitations::check_user_name(&name)
                    .map_err(anyhow::Error::msg)?;
                store
                    .create_user(
                        None,
                        NewUser {
                            name,
                            password_hash: None,
                            is_admin: admin,
                        },
                    )
                    .await?
            };
            let issued = plumbline_server::invitations::issue(store, None, user.id).await?;
            eprintln!(
                "{} `{}`; the link works once, until {} (Unix ms), and is shown only now:",
                if again { "new link for" } else { "invited" },
                user.name,
                issued.invitation.expires_at
            );
            println!(
                "{}{}",
                base_url.trim_end_matches('/'),
                plumbline_server::invitations::invite_path(&issued.secret)
            );
        }
        UserCommand::List { json } => {
            let users = store.list_users().await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&users)?);
            } else {
                for u in users {
                    println!(
                        "{:<24} id {:<6} {}{}",
                        u.name,
                        u.id,
                        if u.is_admin { "admin " } else { "" },
                        if u.disabled { "disabled" } else { "" }
                    );
                }
            }
        }
        UserCommand::Disable { name } => {
            let u = store.user_by_name(&name).await?;
            store.set_user_disabled(None, u.id, true).await?;
            println!("disabled user `{name}`; their tokens no longer work");
        }
        UserCommand::Enable { name } => {
            let u = store.user_by_name(&name).await?;
            store.set_user_disabled(None, u.id, false).await?;
            println!("enabled user `{name}`");
        }
        UserCommand::Password {
            name,
            password_stdin,
        } => {
            let u = store.user_by_name(&name).await?;
            let (password, generated) = new_password(password_stdin)?;
            let shown = password.clone();
            let hash = tokio::task::spawn_blocking(move || hash_password(&password)).await??;
            store.set_password(None, u.id, Some(hash), None).await?;
            println!("reset the password of `{name}`; their sessions ended (API tokens stay)");
            if generated {
                println!("password (shown once): {shown}");
            }
        }
        UserCommand::Unlock { name } => {
            let n = login_guard::lift(store, None, &name).await?;
            println!("lifted {n} login throttle(s) of `{name}`");
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn member<S: Store>(store: &S, cmd: MemberCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        MemberCommand::Add {
            project,
            user,
            role,
        } => {
            let p = store.project_by_name(&project).await?;
            let u = store.user_by_name(&user).await?;
            store.add_member(None, p.id, u.id, role).await?;
            println!("`{user}` is now {role} of project `{project}`");
        }
        MemberCommand::Remove { project, user } => {
            let p = store.project_by_name(&project).await?;
            let u = store.user_by_name(&user).await?;
            store.remove_member(None, p.id, u.id).await?;
            println!("`{user}` is no longer a member of project `{project}`");
        }
        MemberCommand::List { project } => {
            let p = store.project_by_name(&project).await?;
            for m in store.members(p.id).await? {
                println!("{:<24} {}", m.user.name, m.role);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn expertise<S: Store>(store: &S, cmd: ExpertiseCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ExpertiseCommand::Add {
            user,
            expertise,
            verify,
        } => {
            let u = store.user_by_name(&user).await?;
            let domain = expertise.domain.to_string();
            store
                .propose_expertise(None, u.id, expertise.clone())
                .await?;
            if verify {
                store.verify_expertise(None, u.id, &domain).await?;
            }
            println!(
                "`{user}`: {expertise} ({})",
                if verify {
                    "verified"
                } else {
                    "awaiting verification by a lead"
                }
            );
        }
        ExpertiseCommand::Verify { user, domain } => {
            let u = store.user_by_name(&user).await?;
            let e = store.verify_expertise(None, u.id, &domain).await?;
            println!("`{user}`: {} verified", e.expertise);
        }
        ExpertiseCommand::List { user } => {
            let u = store.user_by_name(&user).await?;
            for e in store.expertise(u.id).await? {
                println!(
                    "{:<32} {}",
                    e.expertise.to_string(),
                    if e.verified_at.is_some() {
                        "verified"
                    } else {
                        "unverified"
                    }
                );
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub async fn token<S: Store>(store: &S, cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        TokenCommand::Create {
            user,
            scopes,
            expires,
        } => {
            let u = store.user_by_name(&user).await?;
            let secret = new_token_secret()?;
            let expires_at = expires.map(|d| plumbline_store::now_ms() + d);
            let id = store
                .create_token(None, u.id, token_hash(&secret), scopes, expires_at)
                .await?;
            eprintln!("token {id} for `{user}` with scopes {scopes}; the secret is shown once:");
            println!("{secret}");
        }
        TokenCommand::Revoke { id } => {
            store.revoke_token(None, id).await?;
            println!("revoked token {id}");
        }
        TokenCommand::List { user } => {
            let u = store.user_by_name(&user).await?;
            for t in store.tokens(u.id).await? {
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if !t.is_live(plumbline_store::now_ms()) {
                    "expired"
                } else {
                    "live"
                };
                println!("{:<6} {:<40} {}", t.id, t.scopes.to_string(), state);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Walks the whole chain (see [`plumbline_store::audit::verify_chain`]).
pub async fn verify_chain<S: Store>(
    store: &S,
    expect: Option<String>,
) -> anyhow::Result<Result<Verified, String>> {
    Ok(plumbline_store::audit::verify_chain(store, expect).await?)
}

/// Events read per page when walking the chain.
const PAGE: u32 = 20_000;

pub async fn audit<S: Store>(store: &S, cmd: AuditCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { expect } => {
            let started = Instant::now();
            match verify_chain(store, expect).await? {
                Ok(v) => {
                    let secs = started.elapsed().as_secs_f64();
                    println!(
                        "audit chain intact: {} events, last hash {} ({:.0} events/s)",
                        v.events,
                        v.head,
                        v.events as f64 / secs.max(1e-9)
                    );
                    let anchor = store.audit_trail().anchor_path().display().to_string();
                    match v.anchored {
                        Some(seq) => println!(
                            "anchored: the chain reaches the last checkpoint (event {seq}) in {anchor}"
                        ),
                        None => println!(
                            "not anchored: {anchor} holds no checkpoint, so a cut tail would not show; \
                             write down the last hash and pass it as --expect"
                        ),
                    }
                    if v.unkeyed > 0 {
                        println!(
                            "events 1..{} predate the audit key (unkeyed hashes)",
                            v.unkeyed
                        );
                    }
                    Ok(ExitCode::SUCCESS)
                }
                Err(broken) => {
                    eprintln!("audit chain BROKEN: {broken}");
                    Ok(ExitCode::FAILURE)
                }
            }
        }
        AuditCommand::Export { since, out } => {
            let sink: Box<dyn Write> = match &out {
                Some(p) => Box::new(
                    plumbline_store::files::create(p)
                        .with_context(|| format!("cannot create {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout()),
            };
            let mut w = BufWriter::new(sink);
            let mut after = 0;
            let mut n = 0u64;
            loop {
                let page = store.audit_events(after, PAGE).await?;
                let Some(last) = page.last() else { break };
                after = last.seq;
                for e in page.iter().filter(|e| since.is_none_or(|s| e.at >= s)) {
                    serde_json::to_writer(&mut w, e)?;
                    w.write_all(b"\n")?;
                    n += 1;
                }
            }
            w.flush()?;
            if let Some(p) = out {
                eprintln!("wrote {n} audit events to {}", p.display());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_times() {
        assert_eq!(parse_duration_ms("30d"), Ok(30 * 86_400_000));
        assert_eq!(parse_duration_ms("90m"), Ok(90 * 60_000));
        assert!(parse_duration_ms("3w").is_err());
        assert!(parse_duration_ms("0d").is_err());
        assert_eq!(parse_time_ms("1970-01-02"), Ok(86_400_000));
        assert_eq!(parse_time_ms("2026-11-27T08:30:00Z"), Ok(1_795_768_200_000));
        assert!(parse_time_ms("2026-13-01").is_err());
        assert!(parse_time_ms("yesterday").is_err());
    }
}
