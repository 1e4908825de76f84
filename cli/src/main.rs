//! `ecr-warden`: hold every ECR repository to a baseline, from a terminal or a pipeline.
//!
//! Exit codes: 0 nothing pending, 2 changes pending (`plan`), 3 only findings `apply` can't fix remain
//! (e.g. encryption, audit-mode drift), 1 error, 64 a usage mistake (an unknown flag, a missing or bad value).

mod accounts;
mod args;
mod doctor;
mod info;
mod lifecycle;
mod output;
mod progress;
mod unused;

use std::process::ExitCode;

use anyhow::Context;
use clap::{CommandFactory, Parser};
use warden_runtime::account_baseline::{AccountBaselines, InAccount};
use warden_runtime::aws::member::caller_account;
use warden_runtime::aws::securityhub::SecurityHub;
use warden_runtime::aws::{sdk_config, EcrRegistry, SdkConfig};
use warden_runtime::backfill::{backfill, backfill_watched, BackfillRequest};
use warden_runtime::baseline_source::BaselineSource;
use warden_runtime::core::baseline::Baseline;
use warden_runtime::core::registry::RegistryError;
use warden_runtime::core::report::{Report, Verdict};
use warden_runtime::function::Services;
use warden_runtime::handle::{Handled, Purpose};
use warden_runtime::logging::{self, LogFormat};
use warden_runtime::security_hub::export;

use args::{Cli, Command, HandleArgs, OutputFormat, RunArgs, TagsFrom};

#[tokio::main]
async fn main() -> ExitCode {
    // Output piped into a reader that stops early (`| head`) ends the command quietly, as it does for other
    // Unix tools, instead of a panic from a failed print.
    // The one `unsafe` in the workspace (the lint denies it elsewhere): Rust ignores SIGPIPE by default and
    // std offers no safe way to restore it.
    // SAFETY: setting a signal's disposition to the default is process-wide and has no other effect; nothing
    // in this program installs a SIGPIPE handler.
    #[cfg(unix)]
    #[allow(unsafe_code)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    logging::init(LogFormat::Text, "warn");
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            // `--help` and `--version` print on standard output and succeed; a usage mistake is told on standard
            // error and exits with a code of its own, so a pipeline can't read a typo as "changes pending" (2).
            let _ = error.print();
            return if error.use_stderr() { ExitCode::from(EXIT_USAGE) } else { ExitCode::SUCCESS };
        }
    };
    match run(cli).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(1)
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Plan(args) => govern_all(args, true).await,
        Command::Apply(args) => govern_all(args, false).await,
        Command::Handle(args) => handle(args).await,
        Command::Lifecycle(command) => lifecycle::run(command).await,
        Command::Unused(args) => unused::run(args).await,
        Command::Doctor(args) => doctor::run(args).await,
        Command::Explain { control, output } => info::explain(control, output),
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "ecr-warden", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Permissions { function, policy } => info::permissions(function, policy),
        Command::Baseline(command) => info::baseline(command),
    }
}

async fn govern_all(args: RunArgs, dry_run: bool) -> anyhow::Result<ExitCode> {
    let config = sdk_config().await?;
    let baseline = BaselineSource::from_env(args.baseline.clone()).load(&config).await?;
    let accounts = AccountBaselines::new(&config);
    if args.registries.several() {
        return accounts::govern_accounts(args, &config, &baseline, &accounts, dry_run).await;
    }
    // A baseline naming accounts applies as it does in the caller's account.
    let narrowed = match baseline.names_accounts() {
        false => None,
        true => {
            let account = caller_account(&config).await.map_err(anyhow::Error::msg)?;
            match accounts.in_account(&baseline, &account).await.map_err(anyhow::Error::msg)? {
                InAccount::Excluded(reason) => {
                    eprintln!("nothing to do: {reason}");
                    return Ok(ExitCode::SUCCESS);
                }
                InAccount::Narrowed(narrowed) => Some(narrowed),
                InAccount::AsIs => None,
            }
        }
    };
    let baseline = narrowed.as_deref().unwrap_or(&baseline);
    let report = pass(&args, &config, baseline, dry_run, true).await.context("can't list the repositories")?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&report)?),
        OutputFormat::Table => output::print_colored(&output::report_table(&report))?,
    }
    // `apply` also reports to Security Hub when the baseline asks; `plan` changes nothing anywhere.
    if baseline.alerts.security_hub && !dry_run {
        let exported = export(&SecurityHub::new(&config), report.hub_findings()).await;
        if let Some(error) = exported.error {
            eprintln!("error: {error}");
            return Ok(ExitCode::from(1));
        }
        eprintln!("Security Hub: {} active findings sent, {} resolved", exported.active, exported.resolved);
    }
    Ok(exit_code(report.summary.verdict()))
}

/// One pass over the registry `config` reaches, as `args` ask, with progress on standard error if `show_progress`.
pub(crate) async fn pass(
    args: &RunArgs,
    config: &SdkConfig,
    baseline: &Baseline,
    dry_run: bool,
    show_progress: bool,
) -> Result<Report, RegistryError> {
    let registry = match args.tags_from {
        TagsFrom::ListTags => EcrRegistry::new(config),
        TagsFrom::TaggingApi => EcrRegistry::new(config).with_tags_in_bulk(config),
    };
    let request = BackfillRequest {
        dry_run,
        repositories: args.repositories.clone(),
        concurrency: args.concurrency,
        pace: args.pace.into(),
        lifecycle_impact: args.lifecycle_impact,
        ..Default::default()
    };
    if !show_progress {
        return backfill(&registry, baseline, &request).await;
    }
    let watch = progress::Watch::new(args.output == OutputFormat::Json);
    let report = backfill_watched(&registry, baseline, &request, &watch).await;
    watch.finish();
    report
}

async fn handle(args: HandleArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&args.event).with_context(|| format!("can't read {}", args.event.display()))?;
    let event: serde_json::Value = serde_json::from_str(&text).map_err(|error| {
        // serde_json stops at 128 levels of nesting: say so, rather than that the file isn't JSON.
        match error.to_string().starts_with("recursion limit exceeded") {
            true => anyhow::anyhow!("{} is nested too deeply (over 128 levels) to be an event", args.event.display()),
            false => anyhow::anyhow!("{} is not JSON: {error}", args.event.display()),
        }
    })?;
    let event = failed_invocation_payload(event);
    let config = sdk_config().await?;
    let baseline = BaselineSource::from_env(args.baseline).load(&config).await?;
    let services = Services::from_env(&config, &baseline).map_err(anyhow::Error::msg)?;
    let handler = services.handler(Purpose::Any, &baseline);
    let handled = handler.handle(&event, args.dry_run).await?;
    match args.output {
        OutputFormat::Json => println!("{}", serde_json::to_string_pretty(&handled)?),
        OutputFormat::Table => output::print_colored(&output::handled_text(&handled, args.dry_run))?,
    }
    // An event whose fix failed is already an error from `handle`; a backfill reports its failures.
    let failed = match &handled {
        Handled::Backfill { report, alerts, security_hub } => {
            report.summary.verdict() == Verdict::Failed
                || security_hub.as_ref().is_some_and(|e| e.error.is_some())
                || alerts.iter().any(|delivery| !delivery.failed.is_empty())
        }
        Handled::Work(report) => !report.batch_item_failures.is_empty(),
        // An organization-wide fan-out: an account or region that couldn't be reached or listed.
        Handled::FannedOut { report } => report.registries.iter().any(|registry| registry.error.is_some()),
        _ => false,
    };
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The event inside a record of a Lambda on-failure destination (what the failed-events queue holds for an
/// invocation that failed every retry: `requestContext`, `requestPayload`, `responsePayload`), so such a
/// record can be handled again as it is; any other JSON is returned unchanged.
fn failed_invocation_payload(mut event: serde_json::Value) -> serde_json::Value {
    let is_record = event.get("requestContext").is_some_and(serde_json::Value::is_object);
    match event.get_mut("requestPayload").filter(|_| is_record) {
        Some(payload) => {
            eprintln!("a failed invocation's record: handling the event it carries (requestPayload)");
            payload.take()
        }
        None => event,
    }
}

/// The exit code of a usage mistake (sysexits' EX_USAGE).
const EXIT_USAGE: u8 = 64;

pub(crate) fn exit_code(verdict: Verdict) -> ExitCode {
    ExitCode::from(match verdict {
        Verdict::Clean => 0,
        Verdict::Failed => 1,
        Verdict::Pending => 2,
        Verdict::Unfixable => 3,
    })
}
