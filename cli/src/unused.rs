//! `ecr-warden unused`: the repositories nobody uses or owns, as a table for people or JSON for tooling; with
//! `--accounts` or `--organization`, every registry asked for, grouped by account.

use std::collections::BTreeMap;
use std::process::ExitCode;

use warden_runtime::aws::{sdk_config, EcrRegistry, SdkConfig};
use warden_runtime::core::clock::now_ms;
use warden_runtime::core::usage::UsageRules;
use warden_runtime::usage::{usage_report, UsageReport, UsageRequest, UsageSummary};

use crate::accounts::{by_account, Fleet};
use crate::args::{OutputFormat, UnusedArgs};

/// Runs the report against the configured registry, or every registry asked for; exit 0 whatever it finds (a
/// report, not a check), 1 when a repository or a registry couldn't be read.
pub(crate) async fn run(args: UnusedArgs) -> anyhow::Result<ExitCode> {
    let config = sdk_config().await?;
    let request = UsageRequest {
        repositories: args.repositories.clone(),
        rules: UsageRules { idle_days: args.days, owner_tag: args.owner_tag.clone() },
        concurrency: args.concurrency,
    };
    if args.registries.several() {
        return run_fleet(&args, &config, &request).await;
    }
    let report = usage_report(&EcrRegistry::new(&config), &request, now_ms()).await?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Table => print!("{}{}", table(&report), summary_line(&report.summary, &request.rules)),
    }
    Ok(if report.errors.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// One registry's report, or why it couldn't be read.
struct RegistryUsage {
    account: String,
    region: String,
    report: Result<UsageReport, String>,
}

impl RegistryUsage {
    fn summary(&self) -> Option<&UsageSummary> {
        self.report.as_ref().ok().map(|report| &report.summary)
    }
}

/// The report for every registry `args` name, grouped by account.
async fn run_fleet(args: &UnusedArgs, base: &SdkConfig, request: &UsageRequest) -> anyhow::Result<ExitCode> {
    let fleet = Fleet::new(base, &args.registries).await?;
    let fleet = &fleet;
    let now = now_ms();
    let runs: Vec<RegistryUsage> = fleet
        .each(|account, region| async move {
            let report = match fleet.config(account, region).await {
                Ok(config) => usage_report(&EcrRegistry::new(&config), request, now)
                    .await
                    .map_err(|error| format!("can't list the repositories: {error}")),
                Err(error) => Err(error),
            };
            let said = if report.is_ok() { "done" } else { "failed" };
            (report, said)
        })
        .await
        .into_iter()
        .map(|(account, region, report)| RegistryUsage { account, region, report })
        .collect();
    let accounts = by_account(&runs, |run| &run.account);
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&fleet_json(&runs, &accounts))?),
        OutputFormat::Table => print!("{}", fleet_table(&accounts, &request.rules)),
    }
    let failed = runs.iter().any(|run| run.summary().is_none_or(|summary| summary.errors > 0));
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The counts of `runs` together, and how many registries couldn't be read.
fn total<'a>(runs: impl Iterator<Item = &'a RegistryUsage>) -> (UsageSummary, usize, usize) {
    let (mut summary, mut registries, mut failed) = (UsageSummary::default(), 0, 0);
    for run in runs {
        registries += 1;
        match run.summary() {
            Some(one) => summary.add(one),
            None => failed += 1,
        }
    }
    (summary, registries, failed)
}

/// `{"registries": [{account, region, report | error}], "accounts": {ID: {registries, failed, summary}},
/// "summary": {...}}`.
fn fleet_json(runs: &[RegistryUsage], accounts: &[(&str, Vec<&RegistryUsage>)]) -> serde_json::Value {
    let registries: Vec<serde_json::Value> = runs
        .iter()
        .map(|run| {
            let mut value = serde_json::json!({ "account": run.account, "region": run.region });
            match &run.report {
                Ok(report) => value["report"] = serde_json::json!(report),
                Err(error) => value["error"] = serde_json::json!(error),
            }
            value
        })
        .collect();
    let accounts: BTreeMap<&str, serde_json::Value> = accounts
        .iter()
        .map(|(account, runs)| {
            let (summary, registries, failed) = total(runs.iter().copied());
            (*account, serde_json::json!({ "registries": registries, "failed": failed, "summary": summary }))
        })
        .collect();
    serde_json::json!({ "registries": registries, "accounts": accounts, "summary": total(runs.iter()).0 })
}

/// Each account's registries and their listed repositories, the account's counts, then everyone's.
fn fleet_table(accounts: &[(&str, Vec<&RegistryUsage>)], rules: &UsageRules) -> String {
    let mut out = String::new();
    for (account, runs) in accounts {
        out.push_str(&format!("ACCOUNT {account}\n\n"));
        for run in runs {
            match &run.report {
                Ok(report) => out.push_str(&format!("REGION {}\n{}\n", run.region, table(report))),
                Err(error) => out.push_str(&format!("REGION {}: error: {error}\n\n", run.region)),
            }
        }
        out.push_str(&format!("account {account}: {}\n", fleet_line(runs.iter().copied(), rules)));
    }
    let all = accounts.iter().flat_map(|(_, runs)| runs.iter().copied());
    out.push_str(&format!("all {} accounts: {}", accounts.len(), fleet_line(all, rules)));
    out
}

/// An account's (or everyone's) counts, and its registries that couldn't be read.
fn fleet_line<'a>(runs: impl Iterator<Item = &'a RegistryUsage>, rules: &UsageRules) -> String {
    let (summary, registries, failed) = total(runs);
    let mut line = summary_line(&summary, rules).trim_end().to_string();
    line.push_str(&format!(" ({registries} {})", if registries == 1 { "registry" } else { "registries" }));
    if failed > 0 {
        line.push_str(&format!("; {failed} failed"));
    }
    line.push('\n');
    line
}

/// The flagged repositories, one line each, and the repositories that couldn't be read.
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
    out
}

/// `3 of 4 repositories listed: 1 empty, 1 idle (...), 1 without the `owner` tag; 5.0 MB in them`.
fn summary_line(s: &UsageSummary, rules: &UsageRules) -> String {
    format!(
        "{} of {} repositories listed: {} empty, {} idle (no push or recorded pull for {} days), {} without the \
         `{}` tag; {} in them\n",
        s.flagged,
        s.repositories,
        s.empty,
        s.idle,
        rules.idle_days,
        s.unowned,
        rules.owner_tag,
        size(s.flagged_bytes)
    )
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
