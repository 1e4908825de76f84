//! What handling an event comes to: [`Handled`] (its JSON form is what the functions return) and [`HandleError`]
//! (its kind is the `errorType` Lambda records).

use serde::Serialize;
use warden_core::registry::RegistryError;
use warden_core::report::{RegistryReport, Report, RepositoryReport};

use crate::alerts::Delivery;
use crate::event::MalformedEvent;
use crate::fan_out::{FanOut, FanOutError, WorkReport};
use crate::image_push::PushReport;
use crate::scan_completed::ScanReport;
use crate::security_hub::Exported;

/// What handling an event came to. Its JSON form is what the functions return.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "handled", rename_all = "snake_case")]
pub enum Handled {
    /// One repository was governed.
    Repository {
        /// What triggered it.
        because: String,
        /// The report.
        report: RepositoryReport,
        /// Registry-level controls checked for a repository just created (replication).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        registry: Vec<RegistryReport>,
        /// Governance alerts.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        alerts: Vec<Delivery>,
        /// What was sent to Security Hub, when the baseline asks.
        #[serde(skip_serializing_if = "Option::is_none")]
        security_hub: Option<Exported>,
    },
    /// A registry-wide setting changed by hand was governed.
    Registry {
        /// What triggered it.
        because: String,
        /// The report.
        report: RegistryReport,
    },
    /// An image push was checked.
    Image {
        /// The report.
        report: Box<PushReport>,
        /// Governance alerts (tag rules and repository findings).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        alerts: Vec<Delivery>,
        /// What was sent to Security Hub, when the baseline asks.
        #[serde(skip_serializing_if = "Option::is_none")]
        security_hub: Option<Exported>,
    },
    /// Scan results were assessed.
    Scan {
        /// The report.
        report: Box<ScanReport>,
        /// The vulnerability alert.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        alerts: Vec<Delivery>,
        /// What was sent to Security Hub, when the baseline asks.
        #[serde(skip_serializing_if = "Option::is_none")]
        security_hub: Option<Exported>,
    },
    /// The registry was backfilled.
    Backfill {
        /// The report.
        report: Report,
        /// The alerts for images with vulnerabilities past their deadline.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        alerts: Vec<Delivery>,
        /// What was sent to Security Hub, when the baseline asks.
        #[serde(skip_serializing_if = "Option::is_none")]
        security_hub: Option<Exported>,
    },
    /// The backfill was sent to the work queue.
    FannedOut {
        /// What was sent.
        report: FanOut,
    },
    /// Work-queue messages were governed; `batchItemFailures` (top level) tells SQS which to deliver again.
    Work(WorkReport),
    /// Deliberately ignored.
    Ignored {
        /// Why.
        reason: String,
    },
}

impl Handled {
    /// The alerts handling produced, and what became of them.
    pub fn alerts(&self) -> &[Delivery] {
        match self {
            Handled::Repository { alerts, .. }
            | Handled::Image { alerts, .. }
            | Handled::Scan { alerts, .. }
            | Handled::Backfill { alerts, .. } => alerts,
            Handled::Work(report) => &report.alerts_sent,
            Handled::Registry { .. } | Handled::FannedOut { .. } | Handled::Ignored { .. } => &[],
        }
    }

    /// What was sent to Security Hub, if anything.
    pub fn security_hub(&self) -> Option<&Exported> {
        match self {
            Handled::Repository { security_hub, .. }
            | Handled::Image { security_hub, .. }
            | Handled::Scan { security_hub, .. }
            | Handled::Backfill { security_hub, .. } => security_hub.as_ref(),
            Handled::Registry { .. } | Handled::FannedOut { .. } | Handled::Work(_) | Handled::Ignored { .. } => None,
        }
    }
}

/// Why an event couldn't be handled.
#[derive(Debug, thiserror::Error)]
pub enum HandleError {
    /// The event couldn't be understood; nothing was called.
    #[error(transparent)]
    Malformed(#[from] MalformedEvent),
    /// Listing the registry failed.
    #[error("backfill failed: {0}")]
    Registry(#[from] RegistryError),
    /// Which account the credentials reach couldn't be found out, so the event's registry couldn't be checked.
    #[error("can't tell which registry these credentials reach: {0}")]
    Home(RegistryError),
    /// Organization mode: the event's account couldn't be checked or its member role couldn't be assumed.
    #[error("{0}")]
    Member(String),
    /// A manual request or a queue message sent to a function that only takes EventBridge events of its kind.
    #[error("{0}")]
    NotForThisFunction(String),
    /// A fan-out was asked for but the function has no work queue (`ECR_WARDEN_WORK_QUEUE_URL`).
    #[error("`fanOut` needs a work queue: set ECR_WARDEN_WORK_QUEUE_URL (the stack's WorkQueue)")]
    NoWorkQueue,
    /// A backfill of other accounts was asked for outside organization mode.
    #[error(
        "`accounts` and `organization` need organization mode: set ECR_WARDEN_MEMBER_ROLE (the stack's \
         MemberRoleName)"
    )]
    NotOrganizationMode,
    /// Listing or sending for a fan-out failed.
    #[error(transparent)]
    FanOut(#[from] FanOutError),
    /// The event was handled but part of it failed: a fix or read (after the SDK's retries), or an alert
    /// sink (the other sinks got the alert). Retrying is harmless: governing is idempotent and an alert
    /// keeps its id.
    #[error("handled in part: {0}")]
    Incomplete(String),
}

impl HandleError {
    /// A short, stable name for the kind of failure: the `errorType` of the function's error, which Lambda's
    /// error records and the failed-events queue carry.
    pub fn kind(&self) -> &'static str {
        match self {
            HandleError::Malformed(_) => "Malformed",
            HandleError::Registry(_) => "RegistryFailed",
            HandleError::Home(_) => "RegistryUnknown",
            HandleError::Member(_) => "MemberUnreachable",
            HandleError::NotForThisFunction(_) => "NotForThisFunction",
            HandleError::NoWorkQueue => "NoWorkQueue",
            HandleError::NotOrganizationMode => "NotOrganizationMode",
            HandleError::FanOut(_) => "FanOutFailed",
            HandleError::Incomplete(_) => "Incomplete",
        }
    }
}

impl From<HandleError> for lambda_runtime::Diagnostic {
    fn from(error: HandleError) -> Self {
        lambda_runtime::Diagnostic { error_type: error.kind().to_string(), error_message: error.to_string() }
    }
}
