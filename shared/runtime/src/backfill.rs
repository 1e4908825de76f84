//! Governing the whole registry: every repository (or those matching globs), at the registry's pace
//! ([`crate::paced`]).
//! One repository's failure is reported and the rest go on.

use serde::Deserialize;
use tracing::warn;
use warden_aws::api_calls::following_calls;
use warden_core::alert::Origin;
use warden_core::arn::{is_account_id, is_region_name};
use warden_core::baseline::Baseline;
use warden_core::glob::{any_matches, NameGlob};
use warden_core::pace::{Pace, PaceMode};
use warden_core::registry::{Registry, RegistryError};
use warden_core::report::{Report, RepositoryReport};

use crate::govern::{govern_in, GovernOptions, Known, RunContext};
use crate::paced::paced;
use crate::registry_controls::govern_registry;

/// The most repositories governed at once unless asked otherwise (an adaptive run starts at
/// [`warden_core::pace::START`] and finds the registry's pace up to this).
pub const DEFAULT_CONCURRENCY: usize = 32;
/// The highest maximum a run can be given.
pub const MAX_CONCURRENCY: usize = 64;

/// A backfill request: the manual invocation payload of the backfill function (read from JSON through
/// `BackfillPayload`: a payload writes only when it says so).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(try_from = "BackfillPayload")]
pub struct BackfillRequest {
    /// Plan only.
    pub dry_run: bool,
    /// Repository-name globs; empty means every repository.
    pub repositories: Vec<NameGlob>,
    /// The most repositories governed at once (1 to 64; default 32).
    pub concurrency: usize,
    /// Whether the number governed at once adapts to the registry's throttling (up to `concurrency`) or stays at
    /// `concurrency`.
    pub pace: PaceMode,
    /// Report what the baseline's lifecycle policy would expire where it would be put.
    pub lifecycle_impact: bool,
    /// Send the repositories to the work queue for backfill workers instead of governing them here
    /// (see [`crate::fan_out`]); always, for other accounts.
    pub fan_out: bool,
    /// Whose registries: the function's own, or (organization mode) other accounts'.
    pub accounts: Accounts,
    /// The regions of those accounts; empty means the function's own region.
    pub regions: Vec<String>,
}

/// Which accounts a backfill covers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Accounts {
    /// The function's own registry.
    #[default]
    Own,
    /// These accounts (organization mode; each must be an active member).
    Listed(Vec<String>),
    /// Every active account of the organization (organization mode).
    Organization,
}

/// The backfill payload as written: `{"dryRun": bool, "mode": "plan"|"apply", "repositories": [globs],
/// "concurrency": n, "pace": "adaptive"|"fixed", "lifecycleImpact": bool, "fanOut": bool, "organization": bool,
/// "accounts": [IDs], "regions": [names]}`, every key optional. It changes the registry
/// only with an explicit `"dryRun": false` or `"mode": "apply"`: anything else (`{}`, the console's default
/// test event, a record of a failed invocation) plans.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct BackfillPayload {
    dry_run: Option<bool>,
    mode: Option<PayloadMode>,
    #[serde(default)]
    repositories: Vec<NameGlob>,
    #[serde(default = "default_concurrency")]
    concurrency: usize,
    #[serde(default)]
    pace: PaceMode,
    #[serde(default)]
    lifecycle_impact: bool,
    #[serde(default)]
    fan_out: bool,
    #[serde(default)]
    organization: bool,
    #[serde(default)]
    accounts: Vec<String>,
    #[serde(default)]
    regions: Vec<String>,
}

/// `"mode"` in a backfill payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum PayloadMode {
    /// Report only (the default).
    Plan,
    /// Change the registry.
    Apply,
}

impl TryFrom<BackfillPayload> for BackfillRequest {
    type Error = String;

    fn try_from(payload: BackfillPayload) -> Result<Self, String> {
        let dry_run = match (payload.dry_run, payload.mode) {
            (Some(false), None | Some(PayloadMode::Apply)) | (None, Some(PayloadMode::Apply)) => false,
            (Some(true), Some(PayloadMode::Apply)) | (Some(false), Some(PayloadMode::Plan)) => {
                return Err("`dryRun` and `mode` disagree: give one of them".into())
            }
            _ => true,
        };
        let accounts = match (payload.organization, payload.accounts.is_empty()) {
            (true, false) => return Err("give `organization` or `accounts`, not both".into()),
            (true, true) => Accounts::Organization,
            (false, false) => Accounts::Listed(checked("accounts", payload.accounts, is_account_id, "an account ID")?),
            (false, true) => Accounts::Own,
        };
        let regions = checked("regions", payload.regions, is_region_name, "a region name")?;
        if accounts == Accounts::Own && !regions.is_empty() {
            return Err("`regions` goes with `accounts` or `organization` (the function's own registry is in its \
                        own region)"
                .into());
        }
        let request = Self {
            dry_run,
            repositories: payload.repositories,
            concurrency: payload.concurrency,
            pace: payload.pace,
            lifecycle_impact: payload.lifecycle_impact,
            // Other accounts' repositories are always sent to the workers: an organization doesn't fit in one
            // invocation.
            fan_out: payload.fan_out || accounts != Accounts::Own,
            accounts,
            regions,
        };
        request.check()?;
        Ok(request)
    }
}

/// `values` without repeats, each passing `valid`; else an error naming the `key` and the first bad value.
pub(crate) fn checked(
    key: &str,
    values: Vec<String>,
    valid: fn(&str) -> bool,
    what: &str,
) -> Result<Vec<String>, String> {
    let mut kept: Vec<String> = Vec::with_capacity(values.len());
    for value in values {
        if !valid(&value) {
            return Err(format!("`{key}`: {:?} is not {what}", warden_core::text::shown(&value, 40)));
        }
        if !kept.contains(&value) {
            kept.push(value);
        }
    }
    Ok(kept)
}

fn default_concurrency() -> usize {
    DEFAULT_CONCURRENCY
}

/// A plan of the whole registry (the safe request: nothing is changed).
impl Default for BackfillRequest {
    fn default() -> Self {
        Self {
            dry_run: true,
            repositories: Vec::new(),
            concurrency: DEFAULT_CONCURRENCY,
            pace: PaceMode::Adaptive,
            lifecycle_impact: false,
            fan_out: false,
            accounts: Accounts::Own,
            regions: Vec::new(),
        }
    }
}

impl BackfillRequest {
    /// Checks the values serde can't.
    pub fn check(&self) -> Result<(), String> {
        if (1..=MAX_CONCURRENCY).contains(&self.concurrency) {
            Ok(())
        } else {
            Err(format!("concurrency must be between 1 and {MAX_CONCURRENCY}, not {}", self.concurrency))
        }
    }
}

/// Told how a backfill goes, as it goes (the command's progress bar).
pub trait Progress: Sync {
    /// The backfill will govern `repositories` repositories.
    fn started(&self, repositories: usize);
    /// One more repository was governed.
    fn governed(&self, report: &RepositoryReport);
}

/// Progress nobody watches.
struct Unwatched;

impl Progress for Unwatched {
    fn started(&self, _repositories: usize) {}
    fn governed(&self, _report: &RepositoryReport) {}
}

/// Governs every repository matching the request's globs and, when the request names none (the whole
/// registry), the registry-level controls.
pub async fn backfill(
    registry: &dyn Registry,
    baseline: &Baseline,
    request: &BackfillRequest,
) -> Result<Report, RegistryError> {
    backfill_watched(registry, baseline, request, &Unwatched).await
}

/// [`backfill`], telling `progress` about each repository as it is governed.
pub async fn backfill_watched(
    registry: &dyn Registry,
    baseline: &Baseline,
    request: &BackfillRequest,
    progress: &dyn Progress,
) -> Result<Report, RegistryError> {
    let options = GovernOptions { dry_run: request.dry_run, lifecycle_impact: request.lifecycle_impact, audit: true };
    let run = RunContext::default();
    let repositories = registry.list_repositories().await?;
    let registry_size = repositories.len();
    let origin = repositories.first().and_then(|facts| Origin::of_repository_arn(&facts.arn));
    let registry_controls = match request.repositories.is_empty() {
        true => {
            let names: Vec<String> = repositories.iter().map(|facts| facts.name.clone()).collect();
            govern_registry(registry, baseline, &names, request.dry_run).await
        }
        false => Vec::new(),
    };
    let selected: Vec<_> =
        repositories.into_iter().filter(|facts| any_matches(&request.repositories, &facts.name)).collect();
    progress.started(selected.len());
    let arns: Vec<String> = selected.iter().map(|facts| facts.arn.clone()).collect();
    if let Err(error) = registry.prefetch_tags(&arns, registry_size).await {
        // Each repository's tags are then read one by one, as without the prefetch.
        warn!(%error, "can't read the repositories' tags in bulk");
    }
    let mut pace = Pace::of(request.pace, request.concurrency.clamp(1, MAX_CONCURRENCY));
    let governed = |facts, calls| {
        let run = &run;
        async move { following_calls(calls, govern_in(registry, baseline, Known::Facts(facts), run, options)).await.report }
    };
    let reports = paced(selected, &mut pace, governed, |report| progress.governed(report)).await;
    let mut report = Report::new(request.dry_run, reports).with_registry(registry_controls);
    report.origin = origin;
    report.pace = Some(pace.report());
    Ok(report)
}
