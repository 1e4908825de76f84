//! `ecr-warden lifecycle validate|preview`: check a lifecycle policy, and see which images it would
//! expire, offline (an image list from `aws ecr describe-images`) or against a live repository.

use std::fmt::Write;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{bail, Context};
use clap::{Args, Subcommand};
use warden_runtime::aws::{sdk_config, EcrRegistry};
use warden_runtime::core::lifecycle::{self, format_ms, Image, LifecyclePolicy, PreviewOutput};
use warden_runtime::core::registry::Registry;

use crate::output::OutputFormat;

/// The `lifecycle` subcommands.
#[derive(Subcommand)]
pub(crate) enum LifecycleCommand {
    /// Check a lifecycle policy against every rule ECR enforces.
    Validate {
        /// The policy file (JSON, as `aws ecr put-lifecycle-policy` takes it).
        #[arg(long, value_name = "FILE")]
        policy: PathBuf,
    },
    /// Show which images a policy would expire or archive.
    Preview(PreviewArgs),
}

/// `lifecycle preview` arguments.
#[derive(Args)]
pub(crate) struct PreviewArgs {
    /// The policy file; with --repository, default: the repository's current policy.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Images as `aws ecr describe-images --output json` prints them.
    #[arg(long, value_name = "FILE", conflicts_with = "repository", required_unless_present = "repository")]
    images: Option<PathBuf>,
    /// A live repository: its images (all pages of DescribeImages) are read.
    #[arg(long, value_name = "NAME")]
    repository: Option<String>,
    /// The time to evaluate at (RFC 3339, e.g. 2026-01-02T00:00:00Z); default: now.
    #[arg(long, value_name = "RFC3339")]
    now: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    output: OutputFormat,
}

/// Runs a `lifecycle` subcommand.
pub(crate) async fn run(command: LifecycleCommand) -> anyhow::Result<ExitCode> {
    match command {
        LifecycleCommand::Validate { policy } => {
            let text = read(&policy)?;
            let problems = lifecycle::validate(&text);
            if problems.is_empty() {
                println!("{}: valid", policy.display());
                return Ok(ExitCode::SUCCESS);
            }
            eprintln!("{}: {} problem(s)", policy.display(), problems.len());
            for problem in problems {
                eprintln!("  - {problem}");
            }
            Ok(ExitCode::from(1))
        }
        LifecycleCommand::Preview(args) => preview(args).await,
    }
}

async fn preview(args: PreviewArgs) -> anyhow::Result<ExitCode> {
    let now_ms = match &args.now {
        Some(text) => lifecycle::parse_rfc3339_ms(text).map_err(anyhow::Error::msg).context("--now")?,
        None => warden_runtime::core::clock::now_ms(),
    };
    let given_policy = args.policy.as_deref().map(read).transpose()?;
    let (policy_text, images) = match (&args.images, &args.repository) {
        (Some(file), _) => {
            let Some(policy) = given_policy else { bail!("--policy is required with --images") };
            let opened = std::fs::File::open(file).with_context(|| format!("can't read {}", file.display()))?;
            let images = lifecycle::read_describe_images(opened)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}", file.display()))?;
            (policy, images)
        }
        (None, Some(repository)) => {
            let registry = EcrRegistry::new(&sdk_config().await?);
            let policy = match given_policy {
                Some(policy) => policy,
                None => registry
                    .lifecycle_policy(repository)
                    .await?
                    .with_context(|| format!("{repository} has no lifecycle policy: give one with --policy"))?,
            };
            (policy, registry.images(repository).await?)
        }
        (None, None) => bail!("give --images FILE or --repository NAME"),
    };
    let policy = LifecyclePolicy::parse(&policy_text).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(|p| format!("  - {p}")).collect();
        anyhow::anyhow!("invalid lifecycle policy:\n{}", lines.join("\n"))
    })?;
    let preview = lifecycle::preview(&policy, &images, now_ms);
    match args.output {
        OutputFormat::Json => {
            // Streamed: a preview of many images is never held as text.
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            preview.write_json(&images, &mut out)?;
            writeln!(out)?;
            out.flush()?;
        }
        OutputFormat::Table => print!("{}", table(&preview.output(&images), &images, now_ms)),
    }
    Ok(ExitCode::SUCCESS)
}

fn read(path: &std::path::Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("can't read {}", path.display()))
}

fn table(output: &PreviewOutput, images: &[Image], now_ms: i64) -> String {
    let mut out = format!("{} images, evaluated at {}\n", images.len(), format_ms(now_ms));
    for rule in &output.rules {
        let _ = writeln!(out, "rule {}: matches {}, acts on {}", rule.rule_priority, rule.matched, rule.acted_on);
    }
    if !output.preview_results.is_empty() {
        let _ = writeln!(out, "\n{:<34}  {:<10}  {:<4}  {:<20}  TAGS", "PUSHED AT", "ACTION", "RULE", "DIGEST");
        for result in &output.preview_results {
            let digest: String = result.image_digest.chars().take(19).collect();
            let tags =
                if result.image_tags.is_empty() { "(untagged)".to_string() } else { result.image_tags.join(", ") };
            let _ = writeln!(
                out,
                "{:<34}  {:<10}  {:<4}  {:<20}  {tags}",
                result.image_pushed_at, result.action.kind, result.applied_rule_priority, digest
            );
        }
    }
    let s = &output.summary;
    let _ = writeln!(out, "\n{} image(s) would expire", s.expiring_image_total_count);
    if s.transitioning_image_total_count > 0 {
        let _ = writeln!(out, "{} image(s) would move to archive", s.transitioning_image_total_count);
    }
    out
}
