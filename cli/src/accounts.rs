//! `plan|apply --accounts ID,ID [--regions R,R] [--role-name NAME]`: the same pass over several accounts'
//! registries, each reached through its member role (the caller's own account with the caller's credentials).
//! An account whose role is missing or refuses is that registry's error; the others finish.

use std::process::ExitCode;

use warden_runtime::aws::member::{caller_account, own_config, Members, DEFAULT_MEMBER_ROLE};
use warden_runtime::aws::securityhub::SecurityHub;
use warden_runtime::aws::SdkConfig;
use warden_runtime::core::baseline::Baseline;
use warden_runtime::core::report::{Report, Verdict};
use warden_runtime::security_hub::export;

use crate::args::{OutputFormat, RunArgs};
use crate::output;

/// One registry's result: its report, or why it couldn't be governed.
struct RegistryRun {
    account: String,
    region: String,
    report: Option<Report>,
    error: Option<String>,
}

impl RegistryRun {
    /// As JSON: `account`, `region`, and `report` or `error`.
    fn json(&self) -> serde_json::Value {
        let mut value = serde_json::json!({ "account": self.account, "region": self.region });
        match (&self.report, &self.error) {
            (Some(report), _) => value["report"] = serde_json::json!(report),
            (None, Some(error)) => value["error"] = serde_json::json!(error),
            (None, None) => {}
        }
        value
    }
}

/// Governs every account and region asked for, one registry after another, and prints them together.
pub(crate) async fn govern_accounts(
    args: RunArgs,
    base: &SdkConfig,
    baseline: &Baseline,
    dry_run: bool,
) -> anyhow::Result<ExitCode> {
    let home = caller_account(base).await.map_err(anyhow::Error::msg)?;
    let regions = match (args.regions.is_empty(), base.region()) {
        (false, _) => args.regions.clone(),
        (true, Some(region)) => vec![region.to_string()],
        (true, None) => anyhow::bail!("no region is configured: set AWS_REGION or give --regions"),
    };
    let members = Members::new(base, args.role_name.as_deref().unwrap_or(DEFAULT_MEMBER_ROLE))
        .with_external_id(args.external_id.clone());
    let mut runs = Vec::new();
    for account in &args.accounts {
        for region in &regions {
            let mut run = RegistryRun { account: account.clone(), region: region.clone(), report: None, error: None };
            let config = match account == &home {
                true => Ok(own_config(base, region)),
                false => members.config(account, region).await,
            };
            match config {
                Ok(config) => match govern_one(&args, &config, baseline, dry_run).await {
                    Ok(report) => run.report = Some(report),
                    Err(error) => run.error = Some(error),
                },
                Err(error) => run.error = Some(error.to_string()),
            }
            runs.push(run);
        }
    }
    match args.output {
        OutputFormat::Json => {
            let registries: Vec<serde_json::Value> = runs.iter().map(RegistryRun::json).collect();
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "registries": registries }))?)
        }
        OutputFormat::Table => {
            for run in &runs {
                println!("ACCOUNT {} REGION {}", run.account, run.region);
                match (&run.report, &run.error) {
                    (Some(report), _) => output::print_colored(&output::report_table(report))?,
                    (None, Some(error)) => println!("error: {error}"),
                    (None, None) => {}
                }
                println!();
            }
        }
    }
    let verdicts = runs.iter().map(|run| run.report.as_ref().map_or(Verdict::Failed, |r| r.summary.verdict()));
    Ok(crate::exit_code(worst(verdicts)))
}

/// One registry's pass (and, for `apply`, its findings to Security Hub when the baseline asks).
async fn govern_one(args: &RunArgs, config: &SdkConfig, baseline: &Baseline, dry_run: bool) -> Result<Report, String> {
    let report = crate::pass(args, config, baseline, dry_run)
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
