//! Backfills past one invocation. The backfill function, asked with `"fanOut": true`, lists the registry and
//! sends the matching repository names to the work queue, [`NAMES_PER_BATCH`] a message; the backfill-worker
//! function takes the messages from SQS, governs each message's repositories, and answers which messages
//! failed (a partial batch response), so SQS delivers only those again and, after its receive limit, moves
//! them to the dead-letter queue. In organization mode, [`accounts`] fans out every account and region asked for.

pub mod accounts;

use serde::Serialize;
use tracing::info;
use warden_aws::api_calls::following_calls;
use warden_core::alert::Origin;
use warden_core::alert::{audit_alerts, Alert};
use warden_core::baseline::Baseline;
use warden_core::glob::any_matches;
use warden_core::observed::repository_name_problem;
use warden_core::pace::Pace;
use warden_core::registry::{Registry, RegistryError};
use warden_core::report::{RegistryReport, RepositoryReport, Summary};

use crate::alerts::Delivery;
use warden_core::securityhub::{governance_findings, HubFinding};
use warden_core::sink::SinkError;
use warden_core::vulnerabilities::Date;
use warden_core::work::{WorkBatch, WorkQueue, NAMES_PER_BATCH};

use crate::backfill::{BackfillRequest, MAX_CONCURRENCY};
use crate::govern::{govern_in, GovernOptions, Known, RunContext};
use crate::paced::paced;
use crate::registry_controls::govern_registry;

/// What a fan-out sent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FanOut {
    /// The queue.
    pub queue: String,
    /// Repositories sent.
    pub repositories: usize,
    /// Messages sent.
    pub messages: usize,
    /// Whether the workers only plan.
    pub dry_run: bool,
    /// Registry-level controls (replication), governed here when the fan-out covers the whole registry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registry: Vec<RegistryReport>,
    /// An organization-wide fan-out: what each account and region sent (the counts above are their sums).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registries: Vec<accounts::RegistryFanOut>,
}

/// Why a fan-out stopped.
#[derive(Debug, thiserror::Error)]
pub enum FanOutError {
    /// Listing the registry failed; nothing was sent.
    #[error("can't list the repositories: {0}")]
    Registry(#[from] RegistryError),
    /// Sending failed part way; the error says which messages were sent.
    #[error("can't send to the work queue: {0}")]
    Queue(SinkError),
    /// Organization mode: the organization's accounts couldn't be listed, or an account's registry couldn't be
    /// reached (or isn't governed), as the message says.
    #[error("{0}")]
    Accounts(String),
}

/// Lists the repositories `request` selects and sends their names to `queue` in batches.
pub async fn fan_out(
    registry: &dyn Registry,
    baseline: &Baseline,
    request: &BackfillRequest,
    queue: &dyn WorkQueue,
) -> Result<FanOut, FanOutError> {
    let listed = registry.list_repositories().await?;
    let origin = listed.first().and_then(|facts| Origin::of_repository_arn(&facts.arn));
    let all: Vec<String> = listed.into_iter().map(|facts| facts.name).collect();
    let names: Vec<String> = all.iter().filter(|name| any_matches(&request.repositories, name)).cloned().collect();
    let bodies: Vec<String> = names
        .chunks(NAMES_PER_BATCH)
        .map(|chunk| {
            let batch = WorkBatch {
                dry_run: request.dry_run,
                lifecycle_impact: request.lifecycle_impact,
                repositories: chunk.to_vec(),
                origin: origin.clone(),
            };
            serde_json::to_string(&batch).unwrap_or_default()
        })
        .collect();
    queue.send(&bodies).await.map_err(FanOutError::Queue)?;
    let registry_controls = match request.repositories.is_empty() {
        true => govern_registry(registry, baseline, &all, request.dry_run).await,
        false => Vec::new(),
    };
    Ok(FanOut {
        queue: queue.name().to_string(),
        repositories: names.len(),
        messages: bodies.len(),
        dry_run: request.dry_run,
        registry: registry_controls,
        registries: Vec::new(),
    })
}

/// One message taken from the queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueueMessage {
    /// SQS's message ID: what a partial batch response names.
    pub id: String,
    /// The body: a [`WorkBatch`] as JSON.
    pub body: String,
}

/// A message to deliver again, in Lambda's partial batch response format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchItemFailure {
    /// The message ID.
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// What a worker invocation did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WorkReport {
    /// Messages taken.
    pub messages: usize,
    /// Counts over every repository governed.
    pub summary: Summary,
    /// The reports of repositories that failed (the others are in the summary).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<RepositoryReport>,
    /// Messages not governed, with why: unreadable, their registry unreachable, or (`ignored:`, not delivered
    /// again) their account left alone by the baseline.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub refused: Vec<String>,
    /// Messages to deliver again: refused ones and those with a failed repository.
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<BatchItemFailure>,
    /// The governed repositories' Security Hub findings (where the messages name the registry's origin).
    #[serde(skip)]
    pub findings: Vec<HubFinding>,
    /// Their audit alerts ([`audit_alerts`], where the origin is named).
    #[serde(skip)]
    pub alerts: Vec<Alert>,
    /// What became of those alerts once delivered.
    #[serde(rename = "alerts", skip_serializing_if = "Vec::is_empty")]
    pub alerts_sent: Vec<Delivery>,
}

impl WorkReport {
    /// Every one of `messages` refused, for `reason` (their registry can't be reached): all delivered again.
    pub fn refusing(messages: &[QueueMessage], reason: &str) -> Self {
        Self {
            messages: messages.len(),
            summary: Summary::default(),
            failed: Vec::new(),
            refused: messages.iter().map(|m| format!("{}: {reason}", m.id)).collect(),
            batch_item_failures: messages.iter().map(|m| BatchItemFailure { item_identifier: m.id.clone() }).collect(),
            findings: Vec::new(),
            alerts: Vec::new(),
            alerts_sent: Vec::new(),
        }
    }

    /// Every one of `messages` taken but not governed, for `reason` (their account is left alone): none delivered
    /// again.
    pub fn ignoring(messages: &[QueueMessage], reason: &str) -> Self {
        Self {
            refused: messages.iter().map(|m| format!("{}: ignored: {reason}", m.id)).collect(),
            batch_item_failures: Vec::new(),
            ..Self::refusing(messages, reason)
        }
    }

    /// The reports of groups of `messages` as one, failures in message order.
    pub fn merged(messages: &[QueueMessage], parts: Vec<WorkReport>) -> Self {
        let mut merged = Self {
            messages: 0,
            summary: Summary::default(),
            failed: Vec::new(),
            refused: Vec::new(),
            batch_item_failures: Vec::new(),
            findings: Vec::new(),
            alerts: Vec::new(),
            alerts_sent: Vec::new(),
        };
        let mut retry = Vec::new();
        for part in parts {
            merged.messages += part.messages;
            merged.summary.add(&part.summary);
            merged.failed.extend(part.failed);
            merged.refused.extend(part.refused);
            merged.findings.extend(part.findings);
            merged.alerts.extend(part.alerts);
            retry.extend(part.batch_item_failures.into_iter().map(|f| f.item_identifier));
        }
        merged.failed.sort_by(|a, b| a.repository.cmp(&b.repository));
        merged.batch_item_failures = messages
            .iter()
            .filter(|m| retry.contains(&m.id))
            .map(|m| BatchItemFailure { item_identifier: m.id.clone() })
            .collect();
        merged
    }
}

/// The registry each message is for (`None`: it doesn't say, or can't be read), with its messages, in the order
/// each registry first appears.
pub fn by_registry(messages: Vec<QueueMessage>) -> Vec<(Option<Origin>, Vec<QueueMessage>)> {
    let mut groups: Vec<(Option<Origin>, Vec<QueueMessage>)> = Vec::new();
    for message in messages {
        let origin = serde_json::from_str::<WorkBatch>(&message.body).ok().and_then(|batch| batch.origin);
        match groups.iter_mut().find(|(named, _)| *named == origin) {
            Some((_, group)) => group.push(message),
            None => groups.push((origin, vec![message])),
        }
    }
    groups
}

/// Governs the repositories every message names across the messages, at an adaptive pace of at most
/// `concurrency` at a time (logged with the throttling met).
pub async fn work(
    registry: &dyn Registry,
    baseline: &Baseline,
    messages: &[QueueMessage],
    dry_run: bool,
    concurrency: usize,
) -> WorkReport {
    let mut refused = Vec::new();
    let mut jobs = Vec::new();
    let home = registry.home().await;
    for message in messages {
        match read_batch(&message.body) {
            Ok(batch) => {
                if let Some(reason) = foreign(batch.origin.as_ref(), &home) {
                    refused.push((message.id.clone(), reason));
                    continue;
                }
                let options = GovernOptions {
                    dry_run: dry_run || batch.dry_run,
                    lifecycle_impact: batch.lifecycle_impact,
                    audit: true,
                };
                let origin = batch.origin;
                jobs.extend(
                    batch.repositories.into_iter().map(|name| (message.id.clone(), name, options, origin.clone())),
                );
            }
            Err(reason) => refused.push((message.id.clone(), reason)),
        }
    }
    let run = RunContext::default();
    let mut pace = Pace::adaptive(concurrency.clamp(1, MAX_CONCURRENCY));
    let job = |(id, name, options, origin): (String, String, GovernOptions, Option<Origin>), calls| {
        let run = &run;
        async move {
            let governed = govern_in(registry, baseline, Known::Name(&name), run, options);
            (id, following_calls(calls, governed).await.report, origin)
        }
    };
    let governed: Vec<(String, RepositoryReport, Option<Origin>)> = paced(jobs, &mut pace, job, |_| {}).await;
    let pace = pace.report();
    info!(reached = pace.reached, ended_at = pace.ended_at, throttled_calls = pace.throttled_calls, "pace");

    let mut retry: Vec<String> = refused.iter().map(|(id, _)| id.clone()).collect();
    let mut failed = Vec::new();
    let mut reports = Vec::with_capacity(governed.len());
    let (mut findings, mut alerts) = (Vec::new(), Vec::new());
    for (id, report, origin) in governed {
        if let Some(origin) = &origin {
            findings.extend(governance_findings(origin, &report));
            alerts.extend(audit_alerts(origin, &report, Date::today()));
        }
        if !report.failures().is_empty() {
            retry.push(id);
            failed.push(report.clone());
        }
        reports.push(report);
    }
    // In message order, each once.
    let batch_item_failures = messages
        .iter()
        .filter(|m| retry.contains(&m.id))
        .map(|m| BatchItemFailure { item_identifier: m.id.clone() })
        .collect();
    failed.sort_by(|a, b| a.repository.cmp(&b.repository));
    WorkReport {
        messages: messages.len(),
        summary: Summary::of(&reports),
        failed,
        refused: refused.into_iter().map(|(id, reason)| format!("{id}: {reason}")).collect(),
        batch_item_failures,
        findings,
        alerts,
        alerts_sent: Vec::new(),
    }
}

/// Why a message naming another registry than this function's is refused (its findings would be filed under an
/// account and region this function doesn't govern); `None` when it names none, or this one.
fn foreign(named: Option<&Origin>, home: &Result<Option<Origin>, RegistryError>) -> Option<String> {
    let named = named?;
    match home {
        Ok(Some(home)) if home == named => None,
        Ok(Some(home)) => Some(format!(
            "the message is for account {} in {}, this function governs account {} in {}",
            named.account, named.region, home.account, home.region
        )),
        Ok(None) => None,
        Err(error) => Some(format!(
            "the message is for account {} in {}, and this function's own registry is unknown: {error}",
            named.account, named.region
        )),
    }
}

fn read_batch(body: &str) -> Result<WorkBatch, String> {
    let batch: WorkBatch = serde_json::from_str(body).map_err(|e| format!("not a work batch: {e}"))?;
    if let Some(problem) = batch.repositories.iter().find_map(|name| repository_name_problem(name)) {
        return Err(problem);
    }
    Ok(batch)
}
