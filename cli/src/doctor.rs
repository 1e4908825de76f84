//! `ecr-warden doctor`: the prerequisites a deployment silently depends on, checked read-only in the configured
//! account and region, one line each. Exit 0 when all is well, 3 with warnings only, 1 with a problem.

mod stack;

use std::process::ExitCode;

use warden_runtime::alerts::sinks_named;
use warden_runtime::aws::doctor::stack::role_exists;
use warden_runtime::aws::member::caller_account;
use warden_runtime::aws::{doctor, sdk_config, EcrRegistry, SdkConfig};
use warden_runtime::baseline_source::BaselineSource;
use warden_runtime::core::baseline::{AlertTargets, Baseline, Mode};
use warden_runtime::core::doctor::{trail_check, worst, Check, Health};
use warden_runtime::core::observed::ScanType;
use warden_runtime::core::registry::Registry;

use crate::args::{DoctorArgs, OutputFormat};

/// Runs every check and prints them.
pub(crate) async fn run(args: DoctorArgs) -> anyhow::Result<ExitCode> {
    let config = sdk_config().await?;
    let region = config
        .region()
        .map(ToString::to_string)
        .ok_or_else(|| anyhow::anyhow!("no region is configured: set AWS_REGION"))?;
    let mut checks = vec![trail(&config, &region).await];
    let (stack_checks, stack) = match &args.stack {
        Some(name) => stack::checks(&config, name, &region).await,
        None => (Vec::new(), None),
    };
    let source = BaselineSource::from_env_or(args.baseline.clone(), stack::baseline_parameter(stack.as_ref()));
    match source.load(&config).await {
        Ok(baseline) => {
            checks.push(Check::ok("baseline", "the baseline loads and is valid"));
            let targets = stack::alert_targets(stack.as_ref(), &baseline.alerts);
            checks.push(alerts(&config, &targets).await);
            checks.push(security_hub(&config, &baseline, &region).await);
            checks.push(inspector(&config, &baseline, &region).await);
            checks.push(replication(&config, &baseline).await);
        }
        Err(error) => checks.push(Check::found(
            "baseline",
            Health::Problem,
            // One line: a baseline's problems are listed a line each.
            format!("the baseline doesn't load, so every function fails: {}", one_line(&format!("{error:#}"))),
            "fix it (ecr-warden baseline validate FILE names each problem) and put it again",
        )),
    }
    checks.extend(stack_checks);
    let status = worst(&checks);
    match args.output {
        OutputFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&serde_json::json!({ "status": status, "checks": checks }))?)
        }
        OutputFormat::Table => print!("{}", table(&checks)),
    }
    Ok(match status {
        Health::Ok => ExitCode::SUCCESS,
        Health::Warning => ExitCode::from(3),
        Health::Problem => ExitCode::from(1),
    })
}

async fn trail(config: &SdkConfig, region: &str) -> Check {
    match doctor::trails(config).await {
        Ok(trails) => trail_check(&trails, region),
        Err(error) => Check::unreadable("trail", Health::Problem, format!("can't read the trails: {error}")),
    }
}

/// The alert topic and bus the functions would use exist; neither named is a warning.
async fn alerts(config: &SdkConfig, targets: &AlertTargets) -> Check {
    let (topic, bus) = sinks_named(targets);
    if topic.is_none() && bus.is_none() {
        return Check::found(
            "alerts",
            Health::Warning,
            "no alert topic or bus is named: findings reach only reports and logs",
            "set ECR_WARDEN_ALERT_TOPIC_ARN or ECR_WARDEN_ALERT_BUS (the stack does), or [alerts] in the baseline",
        );
    }
    let mut missing = Vec::new();
    if let Some(topic) = &topic {
        match doctor::topic_exists(config, topic).await {
            Ok(true) => {}
            Ok(false) => missing.push(format!("SNS topic {topic} doesn't exist")),
            Err(error) => missing.push(format!("SNS topic {topic} can't be read: {error}")),
        }
    }
    if let Some(bus) = &bus {
        match doctor::bus_exists(config, bus).await {
            Ok(true) => {}
            Ok(false) => missing.push(format!("event bus {bus} doesn't exist")),
            Err(error) => missing.push(format!("event bus {bus} can't be read: {error}")),
        }
    }
    if missing.is_empty() {
        let named: Vec<String> = topic.iter().chain(bus.iter()).cloned().collect();
        return Check::ok("alerts", format!("alerts go to {}", named.join(" and ")));
    }
    Check::found(
        "alerts",
        Health::Problem,
        format!("{}: alerts sent there are lost, and the functions fail", missing.join("; ")),
        "create it, or name one that exists",
    )
}

/// Security Hub is enabled when the baseline sends findings there.
async fn security_hub(config: &SdkConfig, baseline: &Baseline, region: &str) -> Check {
    if !baseline.alerts.security_hub {
        return Check::ok("security-hub", "the baseline sends no findings to Security Hub");
    }
    match doctor::security_hub_enabled(config).await {
        Ok(true) => Check::ok("security-hub", format!("Security Hub is enabled in {region}")),
        Ok(false) => Check::found(
            "security-hub",
            Health::Problem,
            format!("the baseline sends findings to Security Hub (security_hub = true), which isn't enabled in {region}: every export fails"),
            "aws securityhub enable-security-hub, or security_hub = false",
        ),
        Err(error) => Check::unreadable(
            "security-hub",
            Health::Problem,
            format!("can't tell whether Security Hub is enabled: {error}"),
        ),
    }
}

/// Amazon Inspector scans ECR images when the registry uses enhanced scanning or the baseline asks for it: without
/// it no image is scanned and no scan event arrives.
async fn inspector(config: &SdkConfig, baseline: &Baseline, region: &str) -> Check {
    let wanted = baseline.resolve_namespace("").is_ok_and(|all| all.scanning.scan_type == Some(ScanType::Enhanced));
    let registry = EcrRegistry::new(config).registry_scanning().await.map(|scanning| scanning.scan_type);
    let enhanced = matches!(registry, Ok(ScanType::Enhanced));
    if !wanted && !enhanced {
        return match registry {
            Ok(_) => Check::ok("inspector", "the registry uses basic scanning: Amazon Inspector isn't needed"),
            Err(error) => {
                Check::unreadable("inspector", Health::Warning, format!("can't read the registry's scan type: {error}"))
            }
        };
    }
    let why = if enhanced { "the registry uses enhanced scanning" } else { "the baseline asks for enhanced scanning" };
    let status = match caller_account(config).await {
        Ok(account) => doctor::inspector_ecr_status(config, &account).await,
        Err(error) => Err(error),
    };
    match status {
        Ok(status) if status == "ENABLED" => Check::ok("inspector", format!("{why}, and Inspector scans ECR images in {region}")),
        Ok(status) => Check::found(
            "inspector",
            Health::Problem,
            format!("{why}, but Inspector's ECR scanning is {status} in {region}: no image is scanned and no scan event arrives"),
            "aws inspector2 enable --resource-types ECR",
        ),
        Err(error) => Check::unreadable(
            "inspector",
            Health::Problem,
            format!("{why}; can't tell whether Inspector scans ECR images: {error}"),
        ),
    }
}

/// ECR's replication service-linked role, when the baseline governs replication. ECR creates it on the first
/// `PutReplicationConfiguration` (ECR user guide, "Amazon ECR service-linked role for replication"), which then
/// needs `iam:CreateServiceLinkedRole`: missing, it is a warning.
async fn replication(config: &SdkConfig, baseline: &Baseline) -> Check {
    if baseline.replication.mode == Mode::Off {
        return Check::ok("replication", "the baseline doesn't govern replication");
    }
    match role_exists(config, REPLICATION_ROLE).await {
        Ok(true) => Check::ok("replication", format!("ECR's replication role {REPLICATION_ROLE} exists")),
        Ok(false) => Check::found(
            "replication",
            Health::Warning,
            format!(
                "the baseline governs replication and ECR's role {REPLICATION_ROLE} doesn't exist yet: ECR creates it \
                 on the first replication configuration put, which fails unless the caller may create it"
            ),
            "deploy with GovernReplication=true (it grants iam:CreateServiceLinkedRole for \
             replication.ecr.amazonaws.com), or configure replication once by hand",
        ),
        Err(error) => Check::unreadable(
            "replication",
            Health::Warning,
            format!("can't tell whether ECR's replication role exists: {error}"),
        ),
    }
}

/// ECR's replication service-linked role (ECR user guide, "Amazon ECR service-linked role for replication").
const REPLICATION_ROLE: &str = "AWSServiceRoleForECRReplication";

/// `text` on one line: its lines trimmed and joined with spaces.
fn one_line(text: &str) -> String {
    text.lines().map(str::trim).filter(|line| !line.is_empty()).collect::<Vec<_>>().join(" ")
}

/// One line a check (`ok       trail         ...`), and its fix under it.
fn table(checks: &[Check]) -> String {
    let mut out = String::new();
    for check in checks {
        out.push_str(&format!("{:<8} {:<13} {}\n", check.status.as_str(), check.check, check.what));
        if let Some(fix) = &check.fix {
            out.push_str(&format!("{:<8} {:<13} fix: {fix}\n", "", ""));
        }
    }
    let status = worst(checks);
    let problems = checks.iter().filter(|c| c.status == Health::Problem).count();
    let warnings = checks.iter().filter(|c| c.status == Health::Warning).count();
    out.push_str(&format!(
        "{}: {problems} problems, {warnings} warnings in {} checks\n",
        status.as_str(),
        checks.len()
    ));
    out
}
