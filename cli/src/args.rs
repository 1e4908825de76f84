//! The command line as clap reads it: every command, its arguments and their checks.

use std::path::PathBuf;

use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand, ValueEnum};
use warden_runtime::backfill::{BackfillRequest, DEFAULT_CONCURRENCY};
use warden_runtime::core::controls::{self, ControlId};
use warden_runtime::core::glob::NameGlob;
use warden_runtime::core::pace::PaceMode;
use warden_runtime::handle::Purpose;

use crate::lifecycle;
pub(crate) use crate::output::OutputFormat;

/// Event-driven governance for Amazon ECR.
#[derive(Parser)]
#[command(name = "ecr-warden", version, about)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
}

#[derive(Subcommand)]
pub(crate) enum Command {
    /// Show, for every repository, which controls hold, which drift and what would change.
    Plan(RunArgs),
    /// Fix what can be fixed, report what can't.
    Apply(RunArgs),
    /// Run an EventBridge event file through exactly the code a Lambda function runs.
    Handle(HandleArgs),
    /// Check or print baselines.
    #[command(subcommand)]
    Baseline(BaselineCommand),
    /// Print the IAM actions a Lambda function's role (or organization mode's member role) must grant, and which
    /// of them need `Resource: "*"` (JSON); with `--policy`, the role's IAM policy document.
    Permissions {
        /// The function: repository-events, image-pushed, scan-completed, backfill or backfill-worker; `member`,
        /// the role the hub assumes in every member account; or `doctor`, whoever runs `ecr-warden doctor`.
        #[arg(value_parser = parse_grantee)]
        function: Grantee,
        #[command(flatten)]
        policy: PolicyArgs,
    },
    /// Validate lifecycle policies and preview what they would expire.
    #[command(subcommand)]
    Lifecycle(lifecycle::LifecycleCommand),
    /// List the repositories nobody uses or owns: empty, idle (no push and no recorded pull for --days), or
    /// without the owner tag, with their size. Read-only.
    Unused(UnusedArgs),
    /// Check, read-only, what a deployment silently depends on: a CloudTrail trail logging the region's management
    /// events, the baseline, the alert topic and bus, Security Hub. Exit 0 all ok, 3 warnings only, 1 a problem.
    Doctor(DoctorArgs),
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
pub(crate) struct RunArgs {
    /// Baseline file (TOML or JSON); default: $ECR_WARDEN_BASELINE, else the built-in baseline.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Only repositories matching this glob (repeatable; `*` stays within a path segment, `**` crosses).
    #[arg(long = "repository", value_name = "GLOB", value_parser = parse_glob)]
    pub(crate) repositories: Vec<NameGlob>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) output: OutputFormat,
    /// Also show what the baseline's lifecycle policy would expire, where it would be put (reads images).
    #[arg(long)]
    pub(crate) lifecycle_impact: bool,
    /// The most repositories governed at once, 1-64 (with `--pace adaptive`, the run starts at 8 or this, if
    /// lower, and grows while the registry answers).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    pub(crate) concurrency: usize,
    /// `adaptive`: grow the repositories governed at once while calls succeed, halve them when ECR throttles;
    /// `fixed`: always `--concurrency`.
    #[arg(long, value_enum, default_value_t = PaceArg::Adaptive)]
    pub(crate) pace: PaceArg,
    /// Where repository tags are read: one `ListTagsForResource` per repository, or 100 repositories a call
    /// from the Resource Groups Tagging API (needs `tag:GetResources`).
    #[arg(long, value_enum, default_value_t = TagsFrom::ListTags)]
    pub(crate) tags_from: TagsFrom,
    /// Which accounts' registries.
    #[command(flatten)]
    pub(crate) registries: RegistriesArgs,
}

/// `--accounts | --organization [--regions] [--role-name] [--external-id]`: several accounts' registries, each
/// reached through its member role.
#[derive(Args)]
#[command(group(clap::ArgGroup::new("registries").args(["accounts", "organization"]).multiple(false)))]
pub(crate) struct RegistriesArgs {
    /// These accounts' registries (comma-separated IDs), each through its member role; the caller's own
    /// account with the caller's credentials.
    #[arg(long, value_name = "ID,ID", value_delimiter = ',', value_parser = parse_account)]
    pub(crate) accounts: Vec<String>,
    /// Every active account of the caller's organization (AWS Organizations `ListAccounts`: run it from
    /// the management account or a delegated administrator), as --accounts does.
    #[arg(long, conflicts_with = "accounts")]
    pub(crate) organization: bool,
    /// With --accounts or --organization: these regions (comma-separated; default: the configured region).
    #[arg(long, value_name = "REGION,REGION", value_delimiter = ',', requires = "registries", value_parser = parse_region)]
    pub(crate) regions: Vec<String>,
    /// With --accounts or --organization: the role assumed in each member account (default: ecr-warden-member).
    #[arg(long, value_name = "NAME", requires = "registries", value_parser = parse_role_name)]
    pub(crate) role_name: Option<String>,
    /// With --accounts or --organization: the external ID the member roles require (member.yaml's ExternalId).
    #[arg(
        long,
        value_name = "ID",
        requires = "registries",
        env = "ECR_WARDEN_MEMBER_EXTERNAL_ID",
        hide_env_values = true
    )]
    pub(crate) external_id: Option<String>,
}

/// `ecr-warden doctor` arguments.
#[derive(Args)]
pub(crate) struct DoctorArgs {
    /// Baseline file (TOML or JSON); default: $ECR_WARDEN_BASELINE (a file, or ssm:NAME as the functions read it),
    /// else the built-in baseline.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// The deployed ecr-warden stack (its name or ID) to check too: its state, rules and queue triggers,
    /// dead-letter queues and its functions' failures of the last 24 hours. Its outputs name the baseline
    /// parameter and the alert topic and bus the other checks look at.
    #[arg(long, value_name = "NAME", value_parser = parse_stack_name)]
    pub(crate) stack: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) output: OutputFormat,
}

/// `ecr-warden unused` arguments.
#[derive(Args)]
pub(crate) struct UnusedArgs {
    /// Days without a push or a recorded pull after which a repository is idle.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=36_500))]
    pub(crate) days: u32,
    /// The tag naming a repository's owner: a repository without it is unowned.
    #[arg(long, value_name = "KEY", default_value = "owner", value_parser = parse_tag_key)]
    pub(crate) owner_tag: String,
    /// Only repositories matching this glob (repeatable).
    #[arg(long = "repository", value_name = "GLOB", value_parser = parse_glob)]
    pub(crate) repositories: Vec<NameGlob>,
    /// The most repositories read at once, 1-64 (the run starts at 8 and finds the registry's pace).
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY, value_parser = parse_concurrency)]
    pub(crate) concurrency: usize,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) output: OutputFormat,
    /// Which accounts' registries (default: the caller's, in the configured region).
    #[command(flatten)]
    pub(crate) registries: RegistriesArgs,
}

impl RegistriesArgs {
    /// Whether other accounts' registries are asked for.
    pub(crate) fn several(&self) -> bool {
        !self.accounts.is_empty() || self.organization
    }
}

/// How many repositories a pass governs at once.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PaceArg {
    /// Find the registry's pace: additive increase while calls succeed, halved on throttling.
    Adaptive,
    /// Always `--concurrency`.
    Fixed,
}

impl From<PaceArg> for PaceMode {
    fn from(pace: PaceArg) -> Self {
        match pace {
            PaceArg::Adaptive => PaceMode::Adaptive,
            PaceArg::Fixed => PaceMode::Fixed,
        }
    }
}

/// Where a pass over the registry reads repository tags.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum TagsFrom {
    /// `ecr:ListTagsForResource`, one call per repository.
    ListTags,
    /// `tag:GetResources`, 100 repositories a call.
    TaggingApi,
}

/// What `permissions --policy` scopes the document to.
#[derive(Args)]
pub(crate) struct PolicyArgs {
    /// Print an IAM policy document for the function's role, each action on the narrowest resource.
    #[arg(long, requires_all = ["account", "region"])]
    pub(crate) policy: bool,
    /// The account the function runs in (12 digits).
    #[arg(long, requires = "policy")]
    pub(crate) account: Option<String>,
    /// The region the function runs in.
    #[arg(long, requires = "policy")]
    pub(crate) region: Option<String>,
    /// The AWS partition.
    #[arg(long, default_value = "aws", requires = "policy")]
    pub(crate) partition: String,
    /// SSM parameter the function reads its baseline from (omit for the built-in baseline).
    #[arg(long, value_name = "NAME", requires = "policy")]
    pub(crate) baseline_parameter: Option<String>,
    /// SNS topic ARN the function publishes alerts to.
    #[arg(long, value_name = "ARN", requires = "policy")]
    pub(crate) alert_topic_arn: Option<String>,
    /// EventBridge bus ARN the function puts alert events on.
    #[arg(long, value_name = "ARN", requires = "policy")]
    pub(crate) alert_bus_arn: Option<String>,
    /// SQS queue ARN a backfill fans out to.
    #[arg(long, value_name = "ARN", requires = "policy")]
    pub(crate) work_queue_arn: Option<String>,
    /// The baseline fixes scanning only per repository (`via = "repository"`): leave out
    /// PutRegistryScanningConfiguration.
    #[arg(long, requires = "policy")]
    pub(crate) no_registry_scanning: bool,
    /// The registry uses enhanced scanning: grant what PutRegistryScanningConfiguration needs under it
    /// (inspector2:Enable, inspector2:ListAccountPermissions, Inspector's service-linked role).
    #[arg(long, requires = "policy", conflicts_with = "no_registry_scanning")]
    pub(crate) enhanced_scanning: bool,
    /// The baseline governs replication: grant DescribeRegistry, PutReplicationConfiguration and ECR's
    /// replication service-linked role.
    #[arg(long, requires = "policy")]
    pub(crate) replication: bool,
    /// The baseline governs the registry permissions policy: grant GetRegistryPolicy, PutRegistryPolicy and
    /// DeleteRegistryPolicy.
    #[arg(long, requires = "policy")]
    pub(crate) registry_policy: bool,
    /// The baseline governs repository creation templates: grant describing, creating, updating and deleting them
    /// (and ecr:CreateRepository, which creating a template needs).
    #[arg(long, requires = "policy")]
    pub(crate) creation_templates: bool,
    /// The custom role (name, in this account) the templates name: grant passing it to ECR.
    #[arg(long, value_name = "NAME", requires = "creation_templates")]
    pub(crate) creation_template_role: Option<String>,
    /// The baseline governs managed image signing: grant reading and putting the signing configuration.
    #[arg(long, requires = "policy")]
    pub(crate) signing: bool,
    /// The baseline names images in use (`[in_use]`): grant reading ECS tasks, services and task definitions and
    /// Lambda functions.
    #[arg(long, requires = "policy")]
    pub(crate) images_in_use: bool,
    /// The baseline sends findings to Security Hub: grant importing, reading and resolving them.
    #[arg(long, requires = "policy")]
    pub(crate) security_hub: bool,
    /// Backfills read tags through the Resource Groups Tagging API (ECR_WARDEN_TAGS_FROM=tagging-api).
    #[arg(long, requires = "policy")]
    pub(crate) tagging_api: bool,
    /// The customer managed KMS key the baseline SecureString is encrypted with: grant kms:Decrypt on it,
    /// through SSM only.
    #[arg(long, value_name = "ARN", requires = "policy")]
    pub(crate) baseline_key_arn: Option<String>,
    /// Organization mode: the member role the functions assume in every account (grants assuming it, and asking
    /// AWS Organizations about accounts: DescribeAccount, ListParents, and ListAccounts for the backfill).
    #[arg(long, value_name = "NAME", requires = "policy", value_parser = parse_role_name)]
    pub(crate) member_role: Option<String>,
}

#[derive(Args)]
pub(crate) struct HandleArgs {
    /// The event file (JSON), as EventBridge would deliver it to the function, or a record from the stack's
    /// failed-events queue (an on-failure destination record: the event in it is handled).
    #[arg(long, value_name = "FILE")]
    pub(crate) event: PathBuf,
    /// Plan only: change nothing.
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Baseline file; default: $ECR_WARDEN_BASELINE, else the built-in baseline.
    #[arg(long, value_name = "FILE")]
    pub(crate) baseline: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = OutputFormat::Table)]
    pub(crate) output: OutputFormat,
}

#[derive(Subcommand)]
pub(crate) enum BaselineCommand {
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

/// Whose role `permissions` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grantee {
    /// A Lambda function's.
    Function(Purpose),
    /// Organization mode's member role, in every member account.
    Member,
    /// Whoever runs `ecr-warden doctor`.
    Doctor,
}

/// A Lambda function's name, as its crate under `functions/` is named, or `member`.
fn parse_grantee(name: &str) -> Result<Grantee, String> {
    match name {
        "member" => return Ok(Grantee::Member),
        "doctor" => return Ok(Grantee::Doctor),
        _ => {}
    }
    Purpose::of_function(name).map(Grantee::Function).ok_or_else(|| {
        let names: Vec<&str> = Purpose::FUNCTIONS.iter().filter_map(|p| p.function_name()).collect();
        format!("no function is named `{name}`: one of {}, member or doctor", names.join(", "))
    })
}

fn parse_concurrency(text: &str) -> Result<usize, String> {
    let request = BackfillRequest {
        concurrency: text.parse().map_err(|_| format!("`{text}` is not a number"))?,
        ..Default::default()
    };
    request.check().map(|()| request.concurrency)
}

fn parse_tag_key(text: &str) -> Result<String, String> {
    match warden_runtime::core::tag_key_problem(text) {
        None => Ok(text.to_string()),
        Some(problem) => Err(problem),
    }
}

fn parse_account(text: &str) -> Result<String, String> {
    match warden_runtime::core::arn::is_account_id(text) {
        true => Ok(text.to_string()),
        false => Err(format!("`{text}` is not a 12-digit account ID")),
    }
}

/// An AWS region name: lowercase letters and digits in dash-separated words (`eu-west-1`).
fn parse_region(text: &str) -> Result<String, String> {
    match warden_runtime::core::arn::is_region_name(text) {
        true => Ok(text.to_string()),
        false => Err(format!("`{text}` is not an AWS region name (e.g. eu-west-1)")),
    }
}

/// An IAM role name (checked as the functions check `ECR_WARDEN_MEMBER_ROLE`).
fn parse_role_name(text: &str) -> Result<String, String> {
    warden_runtime::aws::member::check_role_name(text).map(|()| text.to_string())
}

fn parse_stack_name(text: &str) -> Result<String, String> {
    match warden_runtime::core::doctor::stack::is_stack_name(text) {
        true => Ok(text.to_string()),
        false => Err("a stack name (a letter, then letters, digits and hyphens; at most 128) or a stack ID".into()),
    }
}

fn parse_glob(text: &str) -> Result<NameGlob, String> {
    NameGlob::new(text)
}
