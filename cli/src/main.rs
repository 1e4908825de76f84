//! `ecr-warden`: hold every ECR repository to a baseline, from a terminal or a pipeline.
//!
//! Exit codes: 0 nothing pending, 2 changes pending (`plan`), 3 only findings `apply` can't fix remain
//! (e.g. encryption, audit-mode drift), 1 error, 64 a usage mistake (an unknown flag, a missing or bad value).

mod lifecycle;
mod output;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use warden_runtime::aws::securityhub::SecurityHub;
use warden_runtime::aws::{sdk_config, EcrRegistry};
use warden_runtime::backfill::{backfill_watched, BackfillRequest, DEFAULT_CONCURRENCY};
use warden_runtime::baseline_source::BaselineSource;
use warden_runtime::core::baseline::{self, Baseline, BUILTIN};
use warden_runtime::core::controls::{self, ControlId, Explanation};
use warden_runtime::core::glob::NameGlob;
use warden_runtime::core::report::Verdict;
use warden_runtime::function::Services;
use warden_runtime::handle::{Handled, Purpose};
use warden_runtime::logging::{self, LogFormat};
use warden_runtime::permissions;
use warden_runtime::security_hub::export;

/// Event-driven governance for Amazon ECR.
#[derive(Parser)]
#[command(name = "ecr-warden", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Show, for every repository, which controls hold, which drift and what would change.
    Plan(RunArgs),
    /// Fix what can be fixed, report what can't.
    Apply(RunArgs),
    /// Run an EventBridge event file through exactly the code a Lambda function runs.
    Handle(HandleArgs),
    /// Check or print baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Print the IAM actions a Lambda function's role must grant, and which of them need `Resource: "*"` (JSON);
    /// with `--policy`, the role's IAM policy document.
    Permissions {
        /// The function: repository-events, image-pushed, scan-completed, backfill or backfill-worker.
        #[arg(value_parser = parse_function)]
        function: Purpose,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Validate lifecycle policies and preview what they would expire.
    #[command(subcommand)]
    Lifecycle(lifecycle::LifecycleCommand),
    /// Say what a control checks, how it fixes, which IAM actions it needs and which Security Hub control it
    /// matches; without CONTROL, list the controls.
    Explain {
        /// The control.
        #[arg(value_parser = control_parser())]
        control: Option<ControlId>,
        /// Output format.
        #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
        output: OutputFormat,
    },
    /// Print a shell completion script (e.g. `ecr-warden completions bash > /etc/bash_completion.d/ecr-warden`).
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// A control by its report name; the names come from the controls themselves, so a new control needs no
/// change here.
fn control_parser() -> impl TypedValueParser<Value = ControlId> {
    PossibleValuesParser::new(controls::ids().map(|id| id.as_str()))
        .try_map(|name| controls::ids().find(|id| id.as_str() == name).ok_or("not a control"))
}

#[derive(Args)]
struct RunArgs {
    /// Baseline file (TOML or JSON); default: $ECR_WARDEN_BASELINE, else the built-in baseline.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Only repositories matching this glob (repeatable; `*` stays within a path segment, `**` crosses).
    #[arg(long = "repository", value_name = "GLOB", value_parser = parse_glob)]
    repositories: Vec<NameGlob>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    output: OutputFormat,
    /// Also show what the baseline's lifecycle policy would expire, where it would be put (reads images).
    #[arg(long)]
    lifecycle_impact: bool,
    /// Repositories governed at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    concurrency: usize,
    /// Where repository tags are read: one `ListTagsForResource` per repository, or 100 repositories a call
    /// from the Resource Groups Tagging API (needs `tag:GetResources`).
    #[arg(long, value_enum, default_value_t = TagsFrom::ListTags)]
    tags_from: TagsFrom,
}

/// Where a pass over the registry reads repository tags.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum TagsFrom {
    /// `ecr:ListTagsForResource`, one call per repository.
    ListTags,
    /// `tag:GetResources`, 100 repositories a call.
    TaggingApi,
}

/// What `permissions --policy` scopes the document to.
#[derive(Args)]
struct PolicyArgs {
    /// Print an IAM policy document for the function's role, each action on the narrowest resource.
    #[arg(long, requires_all = ["account", "region"])]
    policy: bool,
    /// The account the function runs in (12 digits).
    #[arg(long, requires = "policy")]
    account: Option<String>,
    /// The region the function runs in.
    #[arg(long, requires = "policy")]
    region: Option<String>,
    /// The AWS partition.
    #[arg(long, default_value = "aws", requires = "policy")]
    partition: String,
    /// SSM parameter the function reads its baseline from (omit for the built-in baseline).
    #[arg(long, value_name = "NAME", requires = "policy")]
    baseline_parameter: Option<String>,
    /// SNS topic ARN the function publishes alerts to.
    #[arg(long, value_name = "ARN", requires = "policy")]
    alert_topic_arn: Option<String>,
    /// EventBridge bus ARN the function puts alert events on.
    #[arg(long, value_name = "ARN", requires = "policy")]
    alert_bus_arn: Option<String>,
    /// SQS queue ARN a backfill fans out to.
    #[arg(long, value_name = "ARN", requires = "policy")]
    work_queue_arn: Option<String>,
    /// The baseline fixes scanning only per repository (`via = "repository"`): leave out
    /// PutRegistryScanningConfiguration.
    #[arg(long, requires = "policy")]
    no_registry_scanning: bool,
    /// The registry uses enhanced scanning: grant what PutRegistryScanningConfiguration needs under it
    /// (inspector2:Enable, inspector2:ListAccountPermissions, Inspector's service-linked role).
    #[arg(long, requires = "policy", conflicts_with = "no_registry_scanning")]
    enhanced_scanning: bool,
    /// The baseline governs replication: grant DescribeRegistry, PutReplicationConfiguration and ECR's
    /// replication service-linked role.
    #[arg(long, requires = "policy")]
    replication: bool,
    /// The baseline sends findings to Security Hub: grant importing, reading and resolving them.
    #[arg(long, requires = "policy")]
    security_hub: bool,
    /// Backfills read tags through the Resource Groups Tagging API (ECR_WARDEN_TAGS_FROM=tagging-api).
    #[arg(long, requires = "policy")]
    tagging_api: bool,
    /// The customer managed KMS key the baseline SecureString is encrypted with: grant kms:Decrypt on it,
    /// through SSM only.
    #[arg(long, value_name = "ARN", requires = "policy")]
    baseline_key_arn: Option<String>,
}

#[derive(Args)]
struct HandleArgs {
    /// The event file (JSON), as EventBridge would deliver it to the function, or a record from the stack's
    /// failed-events queue (an on-failure destination record: the event in it is handled).
    #[arg(long, value_name = "FILE")]
    event: PathBuf,
    /// Plan only: change nothing.
    #[arg(long)]
    dry_run: bool,
    /// Baseline file; default: $ECR_WARDEN_BASELINE, else the built-in baseline.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    output: OutputFormat,
}

#[derive(Subcommand)]
enum BaselineCommand {
    /// Check a baseline file and list every problem.
    Validate {
        /// The baseline file (TOML or JSON).
        file: PathBuf,
    },
    /// Print the built-in baseline.
    Default,
    /// Print the JSON Schema of a baseline file, for editors (generated from the types ecr-warden reads).
    Schema,
}

/// A Lambda function's name, as its crate under `functions/` is named.
fn parse_function(name: &str) -> Result<Purpose, String> {
    Purpose::of_function(name).ok_or_else(|| {
        let names: Vec<&str> = Purpose::FUNCTIONS.iter().filter_map(|p| p.function_name()).collect();
        format!("no function is named `{name}`: one of {}", names.join(", "))
    })
}

/// How results are printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// A table for people.
    Table,
    /// Stable JSON for machines.
    Json,
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    let request = BackfillRequest {
        concurrency: text.parse().map_err(|_| format!("`{text}` is not a number"))?,
        ..Default::default()
    };
    request.check().map(|()| request.concurrency)
}

fn parse_glob(text: &str) -> Result<NameGlob, String> {
    NameGlob::new(text)
}

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
        Command::Explain { control, output } => {
            let explanations: Vec<Explanation> = match control {
                Some(id) => vec![controls::explain(id)],
                None => controls::ids().map(controls::explain).collect(),
            };
            match (output, control) {
                (OutputFormat::Json, Some(_)) => println!("{}", serde_json::to_string_pretty(&explanations[0])?),
                (OutputFormat::Json, None) => println!("{}", serde_json::to_string_pretty(&explanations)?),
                (OutputFormat::Table, Some(_)) => print!("{}", output::explanation_text(&explanations[0])),
                (OutputFormat::Table, None) => print!("{}", output::controls_list(&explanations)),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Completions { shell } => {
            clap_complete::generate(shell, &mut Cli::command(), "ecr-warden", &mut std::io::stdout());
            Ok(ExitCode::SUCCESS)
        }
        Command::Permissions { function, policy } => {
            let purpose = function;
            let printed = match (policy.policy, policy.account, policy.region) {
                (true, Some(account), Some(region)) => {
                    let scope = permissions::PolicyScope {
                        partition: policy.partition,
                        region,
                        account,
                        baseline_parameter: policy.baseline_parameter,
                        alert_topic_arn: policy.alert_topic_arn,
                        alert_bus_arn: policy.alert_bus_arn,
                        work_queue_arn: policy.work_queue_arn,
                        registry_scanning: !policy.no_registry_scanning,
                        enhanced_scanning: policy.enhanced_scanning,
                        replication: policy.replication,
                        security_hub: policy.security_hub,
                        tagging_api: policy.tagging_api,
                        baseline_key_arn: policy.baseline_key_arn,
                    };
                    permissions::policy_document(purpose, &scope)?
                }
                _ => {
                    let actions = permissions::for_purpose(purpose);
                    let optional: serde_json::Map<String, serde_json::Value> = permissions::OPTIONAL
                        .iter()
                        .map(|(feature, wanted)| {
                            let these: Vec<&str> = wanted.iter().copied().filter(|a| actions.contains(a)).collect();
                            (feature.to_string(), serde_json::json!(these))
                        })
                        .collect();
                    serde_json::json!({
                        "actions": actions,
                        "registry_wide": permissions::REGISTRY_WIDE,
                        "optional": optional,
                    })
                }
            };
            println!("{}", serde_json::to_string_pretty(&printed)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Baseline(BaselineCommand::Default) => {
            print!("{BUILTIN}");
            Ok(ExitCode::SUCCESS)
        }
        Command::Baseline(BaselineCommand::Schema) => {
            println!("{}", serde_json::to_string_pretty(&baseline::schema())?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Baseline(BaselineCommand::Validate { file }) => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("can't read {}", file.display()))?;
            Baseline::parse(&file.display().to_string(), &text)?;
            println!("{}: valid", file.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}

async fn govern_all(args: RunArgs, dry_run: bool) -> anyhow::Result<ExitCode> {
    let config = sdk_config().await?;
    let baseline = BaselineSource::from_env(args.baseline).load(&config).await?;
    let registry = match args.tags_from {
        TagsFrom::ListTags => EcrRegistry::new(&config),
        TagsFrom::TaggingApi => EcrRegistry::new(&config).with_tags_in_bulk(&config),
    };
    let request = BackfillRequest {
        dry_run,
        repositories: args.repositories,
        concurrency: args.concurrency,
        lifecycle_impact: args.lifecycle_impact,
        fan_out: false,
    };
    let watch = progress::Watch::new(args.output == OutputFormat::Json);
    let report = backfill_watched(&registry, &baseline, &request, &watch).await;
    watch.finish();
    let report = report.context("can't list the repositories")?;
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
        Handled::Backfill { report, security_hub } => {
            report.summary.verdict() == Verdict::Failed || security_hub.as_ref().is_some_and(|e| e.error.is_some())
        }
        Handled::Work(report) => !report.batch_item_failures.is_empty(),
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

fn exit_code(verdict: Verdict) -> ExitCode {
    ExitCode::from(match verdict {
        Verdict::Clean => 0,
        Verdict::Failed => 1,
        Verdict::Pending => 2,
        Verdict::Unfixable => 3,
    })
}
