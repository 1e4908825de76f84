//! The report of repositories nobody uses or owns (`ecr-warden unused`): every repository matching the request's
//! globs is read (its images' count, size, newest push and recorded pull; its tags), several at a time, and those
//! that are empty, idle or unowned are listed. Read-only: nothing is changed.

use serde::Serialize;
use tracing::warn;
use warden_aws::api_calls::following_calls;
use warden_core::glob::{any_matches, NameGlob};
use warden_core::lifecycle::format_ms;
use warden_core::observed::RepositoryFacts;
use warden_core::pace::{Pace, PaceReport};
use warden_core::registry::{Registry, RegistryError};
use warden_core::usage::{days_since, flags, Flag, Usage, UsageRules};

use crate::backfill::MAX_CONCURRENCY;
use crate::paced::paced;

/// What to report on.
#[derive(Debug, Clone)]
pub struct UsageRequest {
    /// Only repositories matching these globs (none: every repository).
    pub repositories: Vec<NameGlob>,
    /// What counts as idle, and the owner tag.
    pub rules: UsageRules,
    /// The most repositories read at once (an adaptive pace finds the registry's own).
    pub concurrency: usize,
}

/// One flagged repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepositoryUsage {
    /// The repository.
    pub repository: String,
    /// Why it is listed.
    pub flags: Vec<Flag>,
    /// Images in it.
    pub images: usize,
    /// Their total size in bytes, as ECR reports it.
    pub bytes: u64,
    /// The newest push (RFC 3339), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_push: Option<String>,
    /// The newest recorded pull (RFC 3339), if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_pull: Option<String>,
    /// Days since the newest push or pull, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub days_since_use: Option<i64>,
    /// The owner tag's value, if set.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

/// A repository that couldn't be read.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageError {
    /// The repository.
    pub repository: String,
    /// Why.
    pub error: String,
}

/// Counts over every repository read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageSummary {
    /// Repositories read.
    pub repositories: usize,
    /// Repositories listed (any flag).
    pub flagged: usize,
    /// Empty ones.
    pub empty: usize,
    /// Idle ones.
    pub idle: usize,
    /// Unowned ones.
    pub unowned: usize,
    /// The bytes held by the listed repositories.
    pub flagged_bytes: u64,
    /// Repositories that couldn't be read.
    pub errors: usize,
}

impl UsageSummary {
    /// Adds `other`'s counts (several registries' reports together).
    pub fn add(&mut self, other: &UsageSummary) {
        self.repositories += other.repositories;
        self.flagged += other.flagged;
        self.empty += other.empty;
        self.idle += other.idle;
        self.unowned += other.unowned;
        self.flagged_bytes += other.flagged_bytes;
        self.errors += other.errors;
    }
}

/// The report.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct UsageReport {
    /// The idle limit and owner tag used.
    pub idle_days: u32,
    /// The owner tag looked for.
    pub owner_tag: String,
    /// The flagged repositories, by name.
    pub repositories: Vec<RepositoryUsage>,
    /// Repositories that couldn't be read.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<UsageError>,
    /// Counts.
    pub summary: UsageSummary,
    /// How many repositories were read at once and the throttled calls met.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pace: Option<PaceReport>,
}

/// One repository read: its usage and its owner tag's value.
type Read = (Usage, Option<String>);

/// Reads every repository `request` names in `registry` and reports the flagged ones, at `now_ms`.
pub async fn usage_report(
    registry: &dyn Registry,
    request: &UsageRequest,
    now_ms: i64,
) -> Result<UsageReport, RegistryError> {
    let all = registry.list_repositories().await?;
    let registry_size = all.len();
    let selected: Vec<RepositoryFacts> =
        all.into_iter().filter(|facts| any_matches(&request.repositories, &facts.name)).collect();
    let arns: Vec<String> = selected.iter().map(|facts| facts.arn.clone()).collect();
    // Read one by one where the bulk read isn't worth it, isn't set up or fails (see `Registry::prefetch_tags`).
    if let Err(error) = registry.prefetch_tags(&arns, registry_size).await {
        warn!(%error, "can't read the repositories' tags in bulk");
    }
    let read_one = |facts: RepositoryFacts, calls| {
        following_calls(calls, async move {
            let usage = registry.usage(&facts.name).await;
            let owner = registry.tags(&facts.arn).await.map(|tags| tags.get(&request.rules.owner_tag).cloned());
            (facts.name, usage.and_then(|usage| owner.map(|owner| (usage, owner))))
        })
    };
    let mut pace = Pace::adaptive(request.concurrency.clamp(1, MAX_CONCURRENCY));
    let read: Vec<(String, Result<Read, RegistryError>)> = paced(selected, &mut pace, read_one, |_| {}).await;
    let mut report = UsageReport {
        idle_days: request.rules.idle_days,
        owner_tag: request.rules.owner_tag.clone(),
        pace: Some(pace.report()),
        ..UsageReport::default()
    };
    for (repository, result) in read {
        report.summary.repositories += 1;
        let (usage, owner) = match result {
            Ok(read) => read,
            Err(error) => {
                report.errors.push(UsageError { repository, error: error.to_string() });
                continue;
            }
        };
        let found = flags(&usage, owner.is_some(), &request.rules, now_ms);
        if found.is_empty() {
            continue;
        }
        let summary = &mut report.summary;
        summary.flagged += 1;
        summary.flagged_bytes += usage.bytes;
        summary.empty += usize::from(found.contains(&Flag::Empty));
        summary.idle += usize::from(found.contains(&Flag::Idle));
        summary.unowned += usize::from(found.contains(&Flag::Unowned));
        let last_use = usage.last_push_ms.max(usage.last_pull_ms);
        report.repositories.push(RepositoryUsage {
            repository,
            flags: found,
            images: usage.images,
            bytes: usage.bytes,
            last_push: usage.last_push_ms.map(format_ms),
            last_pull: usage.last_pull_ms.map(format_ms),
            days_since_use: last_use.map(|ms| days_since(ms, now_ms)),
            owner,
        });
    }
    report.summary.errors = report.errors.len();
    report.repositories.sort_by(|a, b| a.repository.cmp(&b.repository));
    report.errors.sort_by(|a, b| a.repository.cmp(&b.repository));
    Ok(report)
}
