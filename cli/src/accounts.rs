//! `--accounts ID,ID | --organization [--regions R,R] [--role-name NAME]`: the same pass (`plan`, `apply`,
//! `unused`) over several accounts' registries, each reached through its member role (the caller's own account
//! with the caller's credentials), several registries at once. An account whose role is missing or refuses is that
//! registry's error; the others finish. Tables group registries by account, with a summary for each account and
//! one for all.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::Future;
use std::process::ExitCode;

use futures::stream::{self, StreamExt};
use warden_runtime::account_baseline::{narrow, AccountBaselines, InAccount};
use warden_runtime::aws::member::{caller_account, own_config, Members, DEFAULT_MEMBER_ROLE};
use warden_runtime::aws::organization::Organization;
use warden_runtime::aws::securityhub::SecurityHub;
use warden_runtime::aws::SdkConfig;
use warden_runtime::core::baseline::Baseline;
use warden_runtime::core::report::{Report, Summary, Verdict};
use warden_runtime::fan_out::accounts::REGISTRIES_AT_ONCE;
use warden_runtime::security_hub::export;

use crate::args::{OutputFormat, RegistriesArgs, RunArgs};
use crate::output;

/// The registries `--accounts` or `--organization` and `--regions` name, and how each is reached.
pub(crate) struct Fleet {
    base: SdkConfig,
    home: String,
    members: Members,
    /// Every account and region asked for, accounts in the order asked (or listed), regions within each.
    registries: Vec<(String, String)>,
}

impl Fleet {
    /// The registries `args` name (the organization's active accounts for `--organization`), in the regions asked
    /// or the configured one.
    pub(crate) async fn new(base: &SdkConfig, args: &RegistriesArgs) -> anyhow::Result<Self> {
        let home = caller_account(base).await.map_err(anyhow::Error::msg)?;
        let regions = match (args.regions.is_empty(), base.region()) {
            (false, _) => args.regions.clone(),
            (true, Some(region)) => vec![region.to_string()],
            (true, None) => anyhow::bail!("no region is configured: set AWS_REGION or give --regions"),
        };
        let listed = match args.organization {
            true => Organization::new(base).active_accounts().await.map_err(anyhow::Error::msg)?,
            false => args.accounts.clone(),
        };
        let members = Members::new(base, args.role_name.as_deref().unwrap_or(DEFAULT_MEMBER_ROLE))
            .with_external_id(args.external_id.clone());
        let registries = listed.iter().flat_map(|a| regions.iter().map(move |r| (a.clone(), r.clone()))).collect();
        Ok(Self { base: base.clone(), home, members, registries })
    }

    /// The SDK configuration reaching `account`'s registry in `region`: the caller's own credentials in its own
    /// account, else the member role's (assumed once per account); an error names the role and AWS's reason.
    pub(crate) async fn config(&self, account: &str, region: &str) -> Result<SdkConfig, String> {
        match account == self.home {
            true => Ok(own_config(&self.base, region)),
            false => self.members.config(account, region).await.map_err(|error| error.to_string()),
        }
    }

    /// `each(account, region)` for every registry, [`REGISTRIES_AT_ONCE`] at a time, in order; each returns its
    /// result and a word for the progress line (`ACCOUNT REGION: done`) on standard error.
    pub(crate) async fn each<'a, T, F, Fut>(&'a self, each: F) -> Vec<(String, String, T)>
    where
        F: Fn(&'a str, &'a str) -> Fut,
        Fut: Future<Output = (T, &'static str)> + 'a,
    {
        let each = &each;
        stream::iter(&self.registries)
            .map(|(account, region)| async move {
                let (result, said) = each(account, region).await;
                eprintln!("{account} {region}: {said}");
                (account.clone(), region.clone(), result)
            })
            .buffered(REGISTRIES_AT_ONCE)
            .collect()
            .await
    }
}

/// `items` grouped by account (`account_of`), accounts in the order they first appear.
pub(crate) fn by_account<T>(items: &[T], account_of: impl Fn(&T) -> &str) -> Vec<(&str, Vec<&T>)> {
    let mut accounts: Vec<(&str, Vec<&T>)> = Vec::new();
    for item in items {
        let account = account_of(item);
        match accounts.iter_mut().find(|(known, _)| *known == account) {
            Some((_, items)) => items.push(item),
            None => accounts.push((account, vec![item])),
        }
    }
    accounts
}

/// One registry's result: its report, why it couldn't be governed, or why it was left alone.
struct RegistryRun {
    account: String,
    region: String,
    outcome: Outcome,
}

/// What became of one registry.
enum Outcome {
    /// Governed: the report (boxed: it is much larger than the other outcomes).
    Governed(Box<Report>),
    /// Not governed: the error.
    Failed(String),
    /// Left alone on purpose: the baseline leaves its account alone.
    Skipped(String),
}

impl RegistryRun {
    /// As JSON: `account`, `region`, and `report`, `error` or `skipped`.
    fn json(&self) -> serde_json::Value {
        let mut value = serde_json::json!({ "account": self.account, "region": self.region });
        match &self.outcome {
            Outcome::Governed(report) => value["report"] = serde_json::json!(report),
            Outcome::Failed(error) => value["error"] = serde_json::json!(error),
            Outcome::Skipped(reason) => value["skipped"] = serde_json::json!(reason),
        }
        value
    }

    fn verdict(&self) -> Verdict {
        match &self.outcome {
            Outcome::Governed(report) => report.summary.verdict(),
            Outcome::Failed(_) => Verdict::Failed,
            Outcome::Skipped(_) => Verdict::Clean,
        }
    }
}

/// One account's registries, counted together.
struct AccountTotal {
    registries: usize,
    failed: usize,
    summary: Summary,
}

impl AccountTotal {
    fn of<'a>(runs: impl Iterator<Item = &'a RegistryRun>) -> Self {
        let mut total = Self { registries: 0, failed: 0, summary: Summary::default() };
        for run in runs {
            total.registries += 1;
            match &run.outcome {
                Outcome::Governed(report) => total.summary.add(&report.summary),
                Outcome::Failed(_) => total.failed += 1,
                Outcome::Skipped(_) => {}
            }
        }
        total
    }

    fn json(&self) -> serde_json::Value {
        serde_json::json!({ "registries": self.registries, "failed": self.failed, "summary": self.summary })
    }

    /// `4 repositories in 2 registries (3 compliant, 1 fixed); 1 registry failed`.
    fn line(&self) -> String {
        let mut line = format!(
            "{} in {} {}",
            output::summary_counts(&self.summary),
            self.registries,
            if self.registries == 1 { "registry" } else { "registries" }
        );
        if self.failed > 0 {
            let _ = write!(line, "; {} failed", self.failed);
        }
        line
    }
}

/// Governs every account and region asked for, [`REGISTRIES_AT_ONCE`] registries at a time, and prints them
/// together.
pub(crate) async fn govern_accounts(
    args: RunArgs,
    base: &SdkConfig,
    baseline: &Baseline,
    accounts: &AccountBaselines,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let fleet = Fleet::new(base, &args.registries).await?;
    let (args, fleet) = (&args, &fleet);
    let runs: Vec<RegistryRun> = fleet
        .each(|account, region| async move {
            let outcome = match narrow(Some(accounts), baseline, account).await {
                Ok(InAccount::Excluded(reason)) => Outcome::Skipped(reason),
                Err(error) => Outcome::Failed(error),
                Ok(narrowed) => {
                    let narrowed = match narrowed {
                        InAccount::Narrowed(baseline) => Some(baseline),
                        InAccount::AsIs | InAccount::Excluded(_) => None,
                    };
                    let baseline = narrowed.as_deref().unwrap_or(baseline);
                    match fleet.config(account, region).await {
                        Ok(config) => govern_one(args, &config, baseline, dry_run)
                            .await
                            .map_or_else(Outcome::Failed, |report| Outcome::Governed(Box::new(report))),
                        Err(error) => Outcome::Failed(error),
                    }
                }
            };
            let said = match &outcome {
                Outcome::Governed(_) => "done",
                Outcome::Failed(_) => "failed",
                Outcome::Skipped(_) => "skipped",
            };
            (outcome, said)
        })
        .await
        .into_iter()
        .map(|(account, region, outcome)| RegistryRun { account, region, outcome })
        .collect();
    let by_account = by_account(&runs, |run| &run.account);
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&json(&runs, &by_account))?),
        OutputFormat::Table => output::print_colored(&table(&runs, &by_account))?,
    }
    let verdicts = runs.iter().map(RegistryRun::verdict);
    Ok(crate::exit_code(worst(verdicts)))
}

/// `{"registries": [...], "accounts": {ID: {registries, failed, summary}}, "summary": {...}}`.
fn json(runs: &[RegistryRun], by_account: &[(&str, Vec<&RegistryRun>)]) -> serde_json::Value {
    let accounts: BTreeMap<&str, serde_json::Value> =
        by_account.iter().map(|(account, runs)| (*account, AccountTotal::of(runs.iter().copied()).json())).collect();
    let registries: Vec<serde_json::Value> = runs.iter().map(RegistryRun::json).collect();
    let total = AccountTotal::of(runs.iter());
    serde_json::json!({ "registries": registries, "accounts": accounts, "summary": total.json()["summary"] })
}

/// Each account's registries and their reports, the account's summary, then everyone's.
fn table(runs: &[RegistryRun], by_account: &[(&str, Vec<&RegistryRun>)]) -> String {
    let mut out = String::new();
    for (account, runs) in by_account {
        let _ = writeln!(out, "ACCOUNT {account}\n");
        for run in runs {
            match &run.outcome {
                Outcome::Governed(report) if report.repositories.is_empty() && report.registry.is_empty() => {
                    let _ = writeln!(out, "REGION {}: no repositories", run.region);
                }
                Outcome::Governed(report) => {
                    let _ = writeln!(out, "REGION {}", run.region);
                    out.push_str(&output::report_table(report));
                }
                Outcome::Failed(error) => {
                    let _ = writeln!(out, "REGION {}: error: {error}", run.region);
                }
                Outcome::Skipped(reason) => {
                    let _ = writeln!(out, "REGION {}: skipped: {reason}", run.region);
                }
            }
            out.push('\n');
        }
        let _ = writeln!(out, "account {account}: {}\n", AccountTotal::of(runs.iter().copied()).line());
    }
    let _ = writeln!(out, "all {} accounts: {}", by_account.len(), AccountTotal::of(runs.iter()).line());
    out
}

/// One registry's pass (and, for `apply`, its findings to Security Hub when the baseline asks).
async fn govern_one(args: &RunArgs, config: &SdkConfig, baseline: &Baseline, dry_run: bool) -> Result<Report, String> {
    let report = crate::pass(args, config, baseline, dry_run, false)
        .await
        .map_err(|error| format!("can't list the repositories: {error}"))?;
    if baseline.alerts.security_hub && !dry_run {
        let exported = export(&SecurityHub::new(config), report.hub_findings()).await;
        if let Some(error) = exported.error {
            return Err(error);
        }
    }
    Ok(report)
}

/// The verdict of several registries: any failure fails, then pending changes, then findings `apply` can't fix.
fn worst(verdicts: impl Iterator<Item = Verdict>) -> Verdict {
    let rank = |verdict: &Verdict| match verdict {
        Verdict::Clean => 0,
        Verdict::Unfixable => 1,
        Verdict::Pending => 2,
        Verdict::Failed => 3,
    };
    verdicts.max_by_key(rank).unwrap_or(Verdict::Clean)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_registry_fails_the_run_and_pending_beats_unfixable() {
        assert_eq!(worst([Verdict::Clean, Verdict::Failed, Verdict::Pending].into_iter()), Verdict::Failed);
        assert_eq!(worst([Verdict::Unfixable, Verdict::Pending].into_iter()), Verdict::Pending);
        assert_eq!(worst(std::iter::empty()), Verdict::Clean);
    }
}
