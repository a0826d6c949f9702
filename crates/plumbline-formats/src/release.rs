//! Dataset releases: an immutable, content-addressed snapshot in a new directory — the
//! data file, a generated `README.md` (a Hugging Face dataset card whose body is the
//! datasheet; see `card.rs`), `MANIFEST.json` (the SHA-256 and size of every
//! file) and `manifest.sha256` (the same in `sha256sum -c` form, MANIFEST.json included).
//! The release id is the SHA-256 of `MANIFEST.json`. Nothing in the files depends on the
//! time of writing, so the same data and filters give the same id.

use crate::export::PairOptions;
use crate::run::{self, Kind, Outcome, Stats};
use plumbline_domain::{Rubric, RubricVersion, UserId};
use plumbline_store::{NewRelease, Project, ReleaseRecord, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The manifest file's name.
pub const MANIFEST: &str = "MANIFEST.json";
/// The checksum list's name.
pub const CHECKSUMS: &str = "manifest.sha256";
/// The dataset card's name: YAML front matter for `datasets`, then the datasheet.
pub const CARD: &str = "README.md";

/// Output file format of an export or release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// One JSON object a line.
    Jsonl,
    /// Apache Parquet.
    Parquet,
}

impl FileFormat {
    /// The wire name and file extension.
    pub fn as_str(self) -> &'static str {
        match self {
            FileFormat::Jsonl => "jsonl",
            FileFormat::Parquet => "parquet",
        }
    }

    /// Parses a wire name.
    pub fn parse(s: &str) -> Result<FileFormat, String> {
        match s {
            "jsonl" => Ok(FileFormat::Jsonl),
            "parquet" => Ok(FileFormat::Parquet),
            _ => Err(format!("unknown format `{s}` (expected jsonl or parquet)")),
        }
    }
}

/// One file of a release.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    /// Name inside the release directory.
    pub path: String,
    /// Size in bytes.
    pub bytes: u64,
    /// Hex SHA-256 of the content.
    pub sha256: String,
}

/// `MANIFEST.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Manifest {
    /// Layout version of this manifest.
    pub plumbline_release: u32,
    /// Project name.
    pub project: String,
    /// Export kind.
    pub kind: String,
    /// File format of the data.
    pub format: String,
    /// Filters used.
    pub filters: Value,
    /// What the export wrote and left out.
    pub counts: Value,
    /// Every file but the manifest and the checksum list, by name.
    pub files: Vec<FileEntry>,
}

/// Hex SHA-256 of a file, read in chunks, and its size.
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut f = std::fs::File::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut n = 0u64;
    loop {
        let k = f.read(&mut buf)?;
        if k == 0 {
            break;
        }
        h.update(&buf[..k]);
        n += k as u64;
    }
    Ok((hex(&h.finalize()), n))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The filters of `opts`, as recorded in the manifest, the datasheet and the database.
pub fn filters(opts: &PairOptions) -> Value {
    serde_json::json!({
        "split": opts.split.map(|s| match s {
            plumbline_domain::Split::Train => "train",
            plumbline_domain::Split::Eval => "eval",
        }),
        "tags": opts.tags,
        "rubric_version": opts.rubric_version,
        "min_agreement": opts.min_agreement,
        "min_expertise": opts.min_expertise.map(|l| l.as_str()),
        "decision": opts.decision.as_str(),
        "threshold": opts.threshold,
        "include_external": opts.include_external,
    })
}

/// The text of `manifest.sha256` for a manifest whose own hash is `manifest_hash`.
fn checksums(manifest: &Manifest, manifest_hash: &str) -> String {
    let mut out = format!("{manifest_hash}  {MANIFEST}\n");
    for f in &manifest.files {
        let _ = writeln!(out, "{}  {}", f.sha256, f.path);
    }
    out
}

/// A release that checks out: its id and how many files were verified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verified {
    /// The release id (SHA-256 of `MANIFEST.json`).
    pub id: String,
    /// Files checked, the manifest and the checksum list included.
    pub files: usize,
}

fn plain_name(name: &str) -> bool {
    !name.is_empty()
        && name != "."
        && name != ".."
        && !name.contains(['/', '\\'])
        && name != MANIFEST
        && name != CHECKSUMS
}

/// Checks every file of the release in `dir` against its manifest; the error names the
/// first missing, altered or extra file.
pub fn verify(dir: &Path) -> Result<Verified, String> {
    let manifest_path = dir.join(MANIFEST);
    let bytes = std::fs::read(&manifest_path)
        .map_err(|e| format!("missing file {MANIFEST} in {}: {e}", dir.display()))?;
    let manifest: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| format!("{MANIFEST} is not a release manifest: {e}"))?;
    let id = hex(&Sha256::digest(&bytes));
    for f in &manifest.files {
        if !plain_name(&f.path) {
            return Err(format!(
                "{MANIFEST} lists `{}`, which is not a plain file name",
                f.path
            ));
        }
        let path = dir.join(&f.path);
        if !path.is_file() {
            return Err(format!("missing file {}", f.path));
        }
        let (sha, n) = hash_file(&path).map_err(|e| format!("cannot read {}: {e}", f.path))?;
        if sha != f.sha256 || n != f.bytes {
            return Err(format!(
                "file {} does not match the manifest: sha256 {sha} ({n} bytes), expected {} ({} bytes)",
                f.path, f.sha256, f.bytes
            ));
        }
    }
    let listed = std::fs::read_to_string(dir.join(CHECKSUMS))
        .map_err(|e| format!("missing file {CHECKSUMS}: {e}"))?;
    if listed != checksums(&manifest, &id) {
        return Err(format!(
            "file {CHECKSUMS} does not match {MANIFEST} (whose sha256 is {id})"
        ));
    }
    let mut extra: Vec<String> = Vec::new();
    let entries =
        std::fs::read_dir(dir).map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
    for e in entries {
        let e = e.map_err(|e| format!("cannot list {}: {e}", dir.display()))?;
        let name = e.file_name().to_string_lossy().into_owned();
        if name != MANIFEST && name != CHECKSUMS && !manifest.files.iter().any(|f| f.path == name) {
            extra.push(name);
        }
    }
    extra.sort();
    if let Some(x) = extra.first() {
        return Err(format!("extra file {x} is not in the manifest"));
    }
    Ok(Verified {
        id,
        files: manifest.files.len() + 2,
    })
}

/// What to release.
pub struct ReleaseRequest {
    /// Export kind.
    pub kind: Kind,
    /// Data file format.
    pub format: FileFormat,
    /// Filters and decision settings.
    pub opts: PairOptions,
    /// New or empty directory to write into.
    pub out: PathBuf,
    /// Also write the audio of the released items (`media-<sha256>.<ext>`, each listed
    /// in the manifest); the data rows name it by hash either way.
    pub with_media: bool,
}

/// A written and recorded release.
#[derive(Debug)]
pub struct Released {
    /// The database record (its `manifest_sha256` is the release id).
    pub record: ReleaseRecord,
    /// What the export did.
    pub outcome: Outcome,
}

/// Removes what a failed release wrote: the directory if this run created it, else
/// the files in it.
struct Cleanup {
    dir: PathBuf,
    created: bool,
    armed: bool,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        if self.created {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else if let Ok(entries) = std::fs::read_dir(&self.dir) {
            for e in entries.flatten() {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}

/// Writes a release of `project` into `req.out` (refusing a non-empty directory) and
/// records it, with its items and a `release.create` audit event, in the database.
/// On any failure nothing stays behind: neither files nor a record.
pub async fn create<S: Store>(
    store: &S,
    actor: Option<UserId>,
    project: &Project,
    mut req: ReleaseRequest,
) -> Result<Released, String> {
    if req.kind == Kind::LabelStudio {
        return Err(
            "a release holds training data; Label Studio tasks are exported with \
                    `plumbline export --kind label-studio`"
                .into(),
        );
    }
    let created = match std::fs::read_dir(&req.out) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "{} is not empty; a release is written into a new or empty directory",
                    req.out.display()
                ));
            }
            false
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            plumbline_store::files::create_dir_all(&req.out)
                .map_err(|e| format!("cannot create {}: {e}", req.out.display()))?;
            true
        }
        Err(e) => return Err(format!("cannot open {}: {e}", req.out.display())),
    };
    let mut cleanup = Cleanup {
        dir: req.out.clone(),
        created,
        armed: true,
    };
    let version = req
        .opts
        .rubric_version
        .map(|v| RubricVersion(v as i32))
        .unwrap_or(project.rubric_version);
    let rubric = store
        .rubric(project.id, Some(version))
        .await
        .map_err(|e| format!("rubric version {}: {e}", version.0))?;
    if req.opts.annotators.is_empty() {
        req.opts.annotators = std::sync::Arc::new(run::annotators(store, project).await?);
    }
    let criteria: Vec<String> = rubric
        .rubric
        .criteria
        .iter()
        .map(|c| c.key.to_string())
        .collect();
    let data_name = format!("{}.{}", req.kind.as_str(), req.format.as_str());
    let data_path = req.out.join(&data_name);
    let front = crate::card::front_matter(req.kind, req.format, &criteria, &data_name)?;
    let sink = run::file_sink(req.kind, req.format, data_path.clone(), criteria)?;
    let filters = filters(&req.opts);
    let outcome = run::export(store, project, req.kind, req.opts.clone(), sink, true).await?;
    let counts = serde_json::to_value(&outcome.summary).map_err(|e| e.to_string())?;
    let sheet = datasheet(
        project,
        &req,
        &rubric.rubric,
        version,
        &outcome,
        &filters,
        &data_name,
    );
    plumbline_store::files::write(&req.out.join(CARD), format!("{front}\n{sheet}"))
        .map_err(|e| format!("writing {CARD}: {e}"))?;
    let media_names = if req.with_media {
        write_media(store, project, &outcome.items, &req.out).await?
    } else {
        Vec::new()
    };
    let mut files = Vec::new();
    let names = [data_name.as_str(), CARD]
        .into_iter()
        .chain(media_names.iter().map(String::as_str));
    for name in names {
        let (sha256, bytes) =
            hash_file(&req.out.join(name)).map_err(|e| format!("reading {name}: {e}"))?;
        files.push(FileEntry {
            path: name.to_owned(),
            bytes,
            sha256,
        });
    }
    let manifest = Manifest {
        plumbline_release: 1,
        project: project.name.clone(),
        kind: req.kind.as_str().to_owned(),
        format: req.format.as_str().to_owned(),
        filters: filters.clone(),
        counts: counts.clone(),
        files,
    };
    let mut bytes = serde_json::to_vec_pretty(&manifest).map_err(|e| e.to_string())?;
    bytes.push(b'\n');
    let id = hex(&Sha256::digest(&bytes));
    plumbline_store::files::write(&req.out.join(MANIFEST), &bytes)
        .map_err(|e| format!("writing {MANIFEST}: {e}"))?;
    plumbline_store::files::write(&req.out.join(CHECKSUMS), checksums(&manifest, &id))
        .map_err(|e| format!("writing {CHECKSUMS}: {e}"))?;
    let record = store
        .record_release(
            actor,
            project.id,
            NewRelease {
                kind: req.kind.as_str().to_owned(),
                format: req.format.as_str().to_owned(),
                manifest_sha256: id,
                location: req.out.display().to_string(),
                filters: filters.to_string(),
                counts: counts.to_string(),
                items: outcome.items.clone(),
            },
        )
        .await
        .map_err(|e| format!("recording the release: {e}"))?;
    cleanup.armed = false;
    Ok(Released { record, outcome })
}

/// Writes the audio the released `items` name into `out`, one file per hash; returns
/// the file names.
async fn write_media<S: Store>(
    store: &S,
    project: &Project,
    items: &[String],
    out: &Path,
) -> Result<Vec<String>, String> {
    let media = store
        .media_of_items(project.id, items.to_vec())
        .await
        .map_err(|e| format!("reading the released items' audio: {e}"))?;
    let mut names = Vec::with_capacity(media.len());
    for m in media {
        let sha =
            sha_bytes(&m.sha256).ok_or_else(|| format!("audio hash {} is not hex", m.sha256))?;
        let ext = plumbline_media::Container::from_content_type(&m.content_type)
            .map_or("bin", |c| c.extension());
        let name = format!("media-{}.{ext}", m.sha256);
        let bytes = store
            .media_range(sha, 0, m.bytes)
            .await
            .map_err(|e| format!("reading audio {}: {e}", m.sha256))?;
        plumbline_store::files::write(&out.join(&name), bytes)
            .map_err(|e| format!("writing {name}: {e}"))?;
        names.push(name);
    }
    Ok(names)
}

fn sha_bytes(hex: &str) -> Option<[u8; 32]> {
    let mut out = [0u8; 32];
    for (i, byte) in out.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(out)
}

/// Escapes text from items and rubrics for Markdown (and the HTML a renderer may pass
/// through): one line, with Markdown and HTML punctuation backslash-escaped or encoded.
pub fn md(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\n' | '\r' | '\t' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn share(hits: u64, n: u64) -> String {
    if n == 0 {
        "undefined (no data)".to_owned()
    } else {
        let p = plumbline_quality::bias::binomial_test(hits, n, 0.5);
        format!(
            "{:.3} ({hits} of {n}; two-sided binomial p = {p:.3} against 0.5)",
            hits as f64 / n as f64
        )
    }
}

fn datasheet(
    project: &Project,
    req: &ReleaseRequest,
    rubric: &Rubric,
    version: RubricVersion,
    outcome: &Outcome,
    filters: &Value,
    data_name: &str,
) -> String {
    let s = &outcome.summary;
    let empty = Stats::empty();
    let st = outcome.stats.as_ref().unwrap_or(&empty);
    let mut o = String::new();
    let _ = writeln!(
        o,
        "# Datasheet: {} — `{}` release\n",
        md(&project.name),
        req.kind.as_str()
    );
    let _ = writeln!(
        o,
        "Generated by Plumbline. The data file is `{data_name}` ({}); every file's SHA-256 is in `{MANIFEST}`, whose own SHA-256 is the release id. Field meanings: docs/EXPORTS.md. This directory is a Hugging Face dataset folder: `datasets.load_dataset(\"<this directory>\")` reads the data file as the split `train` (the `split` column holds each item's evaluation split); the maps declared `json` in the front matter come back as objects.\n",
        req.format.as_str()
    );
    let _ = writeln!(o, "## Counts\n");
    let _ = writeln!(o, "| what | count |\n|---|---:|");
    let _ = writeln!(o, "| rows written | {} |", s.exported);
    let _ = writeln!(o, "| items read | {} |", s.items);
    for (task, n) in &st.items_by_task {
        let _ = writeln!(o, "| items with rows, {task} | {n} |");
    }
    for (task, n) in &st.judgments_by_task {
        let _ = writeln!(o, "| judgments counted, {task} | {n} |");
    }
    for (d, n) in &s.by_decision {
        let _ = writeln!(o, "| rows decided by `{d}` | {n} |");
    }
    let _ = writeln!(o, "\nLeft out:\n");
    let _ = writeln!(o, "| reason | count |\n|---|---:|");
    for (what, n) in [
        ("items not matching the split or tag filters", s.filtered),
        ("items without counted judgments", s.no_judgments),
        ("items decided as a tie", s.tie),
        ("items below the threshold", s.below_threshold),
        (
            "items whose Dawid-Skene winner no vote named",
            s.against_votes,
        ),
        ("items below the minimum agreement", s.low_agreement),
        (
            "judgments under another rubric version",
            s.judgments_other_rubric,
        ),
        (
            "judgments below the minimum expertise",
            s.judgments_below_expertise,
        ),
    ] {
        let _ = writeln!(o, "| {what} | {n} |");
    }
    if req.kind.decides_pairs() {
        let _ = writeln!(o, "\n## Decision\n\n{}", decision_text(&req.opts));
    }
    let _ = writeln!(
        o,
        "\n## Rubric\n\nVersion {} (the {} version). Criteria in priority order (1 decides first):\n",
        version.0,
        if req.opts.rubric_version.is_some() {
            "filtered"
        } else {
            "current"
        }
    );
    let _ = writeln!(
        o,
        "| priority | key | title | hard | scale |\n|---:|---|---|---|---|"
    );
    let mut criteria: Vec<_> = rubric.criteria.iter().collect();
    criteria.sort_by_key(|c| c.priority);
    for c in criteria {
        let _ = writeln!(
            o,
            "| {} | `{}` | {} | {} | {}–{} |",
            c.priority,
            md(c.key.as_str()),
            md(&c.title),
            if c.hard { "yes" } else { "no" },
            c.scale.min,
            c.scale.max
        );
    }
    let _ = writeln!(o, "\n## Annotators\n");
    let _ = writeln!(
        o,
        "Verified expertise level in the project's domain, of the annotators whose judgments the exported items carry:\n"
    );
    let _ = writeln!(o, "| level | annotators | judgments |\n|---|---:|---:|");
    for level in ["expert", "practitioner", "novice", "unverified", "external"] {
        let a = st.annotators_by_level.get(level).copied().unwrap_or(0);
        let j = st.judgments_by_level.get(level).copied().unwrap_or(0);
        if a > 0 || j > 0 {
            let shown = if level == "external" {
                "external (imported)".to_owned()
            } else {
                level.to_owned()
            };
            let _ = writeln!(o, "| {shown} | {a} | {j} |");
        }
    }
    let _ = writeln!(o, "\n## Agreement and gold\n");
    let alpha = match st.alpha() {
        Ok(plumbline_quality::Estimate::Value(a)) => format!("{a:.3}"),
        Ok(plumbline_quality::Estimate::Undefined(u)) => format!("undefined ({})", u.reason()),
        Err(e) => format!("not computed ({e})"),
    };
    let _ = writeln!(
        o,
        "- Krippendorff's alpha (nominal; on the winner, the whole order, the outcome or the whole score sheet, by task): {alpha}"
    );
    let (right, total) = st.gold;
    if total == 0 {
        let _ = writeln!(o, "- Gold accuracy: undefined (no gold-scored judgments)");
    } else {
        let (lo, hi) =
            plumbline_quality::gold::wilson_interval(right, total, 1.96).unwrap_or((0.0, 1.0));
        let _ = writeln!(
            o,
            "- Gold accuracy: {:.3} ({right} of {total} gold-scored judgments; 95% Wilson interval {lo:.3}–{hi:.3})",
            right as f64 / total as f64
        );
    }
    let _ = writeln!(o, "\n## Bias (preference judgments)\n");
    let _ = writeln!(
        o,
        "- Position: share of decisive judgments won by the candidate shown first: {}",
        share(st.position.0, st.position.1)
    );
    let _ = writeln!(
        o,
        "- Length: share won by the longer candidate, pairs differing by more than {} characters: {}",
        plumbline_quality::bias::DEFAULT_LENGTH_THRESHOLD,
        share(st.length.0, st.length.1)
    );
    let _ = writeln!(o, "\n## Edge-case coverage\n");
    let items: u64 = st.items_by_task.values().sum();
    if rubric.edge_cases.is_empty() {
        let _ = writeln!(o, "The rubric names no edge cases.");
    } else {
        let _ = writeln!(o, "| edge case | items | share |\n|---|---:|---:|");
        for e in &rubric.edge_cases {
            let tag = format!("{}{}", plumbline_domain::item::EDGE_TAG_PREFIX, e.key);
            let n = st.tags.get(&tag).copied().unwrap_or(0);
            let pct = if items == 0 {
                0.0
            } else {
                100.0 * n as f64 / items as f64
            };
            let _ = writeln!(o, "| `{}` | {n} | {pct:.1}% |", md(&tag));
        }
    }
    let _ = writeln!(o, "\n## Filters\n\n```json\n{}\n```", md_block(filters));
    let _ = writeln!(o, "\n## Known limitations\n");
    for l in limitations(req, s, st) {
        let _ = writeln!(o, "- {l}");
    }
    o
}

/// How the pairs of a release were decided, in words.
fn decision_text(opts: &PairOptions) -> String {
    use plumbline_quality::decision::DecisionMethod;
    let method = match opts.decision {
        DecisionMethod::Reliability => format!(
            "the posterior from its votes, each weighted by its voter's reliability (an annotator's prior by verified expertise, updated by their gold scores and their agreement with reviewers' decisions; an imported source's stated {})",
            crate::reliabilities::DEFAULT_EXTERNAL_RELIABILITY
        ),
        DecisionMethod::Majority => "the most common answer, its share of the votes as the posterior".to_owned(),
        DecisionMethod::DawidSkene => "the answer of two or more voters who all agree (`unanimous`), else the Dawid-Skene posterior fitted over the contested items; a winner no vote named is left out".to_owned(),
    };
    format!(
        "Method `{}`. A pair is the reviewer's decision when there is one (`adjudicated`), else the item's active gold answer (`gold`), else its only vote (`single`), else {method}, kept when it reaches {}. Each row's `provenance` names the method, the posterior and every vote's reliability and weight.",
        opts.decision.as_str(),
        opts.threshold
    )
}

/// Pretty JSON for a fenced block; a fence inside a string cannot close the block.
fn md_block(v: &Value) -> String {
    serde_json::to_string_pretty(v)
        .unwrap_or_default()
        .replace("```", "`\u{200b}``")
}

fn limitations(req: &ReleaseRequest, s: &crate::export::PairSummary, st: &Stats) -> Vec<String> {
    let mut out = Vec::new();
    if matches!(req.kind, Kind::Preference | Kind::Reward | Kind::Sft) {
        let single = s.by_decision.get("single").copied().unwrap_or(0);
        if single > 0 {
            out.push(format!(
                "{single} pairs rest on one vote (decision `single`), whatever the threshold; their posterior is their voter's reliability."
            ));
        }
        out.push(format!(
            "Pairs decided by the method rest on a posterior of at least {}; {} items were below it and are left out.",
            req.opts.threshold, s.below_threshold
        ));
    }
    if req.kind == Kind::Ranking || req.kind == Kind::Rating {
        let single = s.by_decision.get("single").copied().unwrap_or(0);
        if single > 0 {
            out.push(format!(
                "{single} rows rest on one annotator's judgment (decision `single`)."
            ));
        }
    }
    if req.opts.include_external {
        out.push(
            "Imported external judgments (HH-RLHF, oasst1, Label Studio, …) count as votes, each source as one annotator; their expertise is unknown.".into(),
        );
    } else {
        out.push("Imported external judgments are not counted.".into());
    }
    if st.position.1 == 0 {
        out.push("No display order was recorded, so position bias cannot be measured.".into());
    }
    if st.gold.1 == 0 {
        out.push("No gold-scored judgments: annotator accuracy is unknown.".into());
    }
    if s.exported == 0 {
        out.push("The release holds no rows (`datasets.load_dataset` refuses a split of no rows; pyarrow reads the empty file and its columns).".into());
    }
    out.push(
        "Annotator ids are pseudonyms (SHA-256 of a per-project secret and the user id): stable within the project, not linkable across projects without the database.".into(),
    );
    out
}
