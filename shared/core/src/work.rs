//! Backfills past one invocation: the registry's repository names, in batches, through a work queue that
//! worker invocations consume (on AWS, an SQS queue and the backfill-worker function).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Repository names per message: a worker governs one message's names in well under a minute even when
/// every repository drifted, and a failed message is retried without redoing much.
pub const NAMES_PER_BATCH: usize = 50;

/// One message on the work queue: repositories to govern.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct WorkBatch {
    /// Plan only.
    #[serde(default)]
    pub dry_run: bool,
    /// Report what the baseline's lifecycle policy would expire where it would be put.
    #[serde(default)]
    pub lifecycle_impact: bool,
    /// The repository names.
    pub repositories: Vec<String>,
    /// The registry's account and region, for findings sent to Security Hub (absent in older messages).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::alert::Origin>,
}

/// Where batches go.
#[async_trait]
pub trait WorkQueue: Send + Sync {
    /// What the queue is called in reports (its URL on AWS).
    fn name(&self) -> &str;
    /// Sends every message body, in order; an error says which were not accepted.
    async fn send(&self, bodies: &[String]) -> Result<(), crate::sink::SinkError>;
}
