//! `ecr-warden unused`: the repositories nobody uses or owns, as a table for people or JSON for tooling.

use std::process::ExitCode;

use warden_runtime::aws::{sdk_config, EcrRegistry};
use warden_runtime::core::clock::now_ms;
use warden_runtime::core::usage::UsageRules;
use warden_runtime::usage::{usage_report, UsageReport, UsageRequest};

use crate::args::{OutputFormat, UnusedArgs};

/// Runs the report against the configured registry; exit 0 whatever it finds (a report, not a check), 1 when a
/// repository couldn't be read.
pub(crate) async fn run(args: UnusedArgs) -> anyhow::Result<ExitCode> {
    let registry = EcrRegistry::new(&sdk_config().await?);
    let request = UsageRequest {
        repositories: args.repositories,
        rules: UsageRules { idle_days: args.days, owner_tag: args.owner_tag },
        concurrency: args.concurrency,
    };
    let report = usage_report(&registry, &request, now_ms()).await?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Table => print!("{}", table(&report)),
    }
    Ok(if report.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The flagged repositories, one line each, then the counts.
fn table(report: &UsageReport) -> String {
    let mut rows = vec![["REPOSITORY", "FLAGS", "IMAGES", "SIZE", "LAST USE", "OWNER"].map(String::from)];
    for repository in &report.repositories {
        let flags: Vec<&str> = repository.flags.iter().map(|f| f.as_str()).collect();
        rows.push([
            repository.repository.clone(),
            flags.join(", "),
            repository.images.to_string(),
            size(repository.bytes),
            repository.days_since_use.map_or("never".to_string(), |days| format!("{days} days ago")),
            repository.owner.clone().unwrap_or_else(|| "-".to_string()),
        ]);
    }
    let widths: Vec<usize> = (0..6).map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0)).collect();
    let mut out = String::new();
    if report.repositories.is_empty() {
        out.push_str("no repository is empty, idle or unowned\n");
    } else {
        for row in &rows {
            let cells: Vec<String> = row.iter().zip(&widths).map(|(cell, width)| format!("{cell:<width$}")).collect();
            out.push_str(cells.join("  ").trim_end());
            out.push('\n');
        }
    }
    for error in &report.errors {
        out.push_str(&format!("{}: error: {}\n", error.repository, error.error));
    }
    let s = &report.summary;
    out.push_str(&format!(
        "{} of {} repositories listed: {} empty, {} idle (no push or recorded pull for {} days), {} without the \
         `{}` tag; {} in them\n",
        s.flagged,
        s.repositories,
        s.empty,
        s.idle,
        report.idle_days,
        s.unowned,
        report.owner_tag,
        size(s.flagged_bytes)
    ));
    out
}

/// Bytes for people (ECR's sizes are bytes; MB here are 1,000,000 bytes).
fn size(bytes: u64) -> String {
    match bytes {
        b if b >= 1_000_000_000 => format!("{:.1} GB", b as f64 / 1e9),
        b if b >= 1_000_000 => format!("{:.1} MB", b as f64 / 1e6),
        b if b >= 1_000 => format!("{:.1} kB", b as f64 / 1e3),
        b => format!("{b} B"),
    }
}
