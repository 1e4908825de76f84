//! What an event asks for, as plain data: the routes, the image events they carry, and the error for an event
//! that can't be understood.

use std::collections::BTreeMap;

use serde::Serialize;
use warden_core::alert::Origin;
use warden_core::vulnerabilities::{Finding, Severity};

use warden_core::controls::ControlId;

use crate::backfill::BackfillRequest;
use crate::fan_out::QueueMessage;

/// A registry-wide setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryPart {
    /// Its scanning rules (the scanning control's registry part).
    Scanning,
    /// The setting of a registry-level control (replication, the registry policy, ...).
    Control(ControlId),
}

/// What an event asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Govern one repository.
    Govern {
        /// Where it happened.
        origin: Origin,
        /// The repository.
        repository: String,
        /// What happened, for the report (e.g. `CreateRepository by arn:aws:iam::1:role/Admin`).
        because: String,
        /// Whether the repository was just created (its registry's replication is then checked for it).
        created: bool,
        /// The tags the call set (`TagResource`, `CreateRepository`), key and value: setting the exempt tag by
        /// hand raises an alert.
        tags_set: Vec<(String, String)>,
        /// Who made the call (its identity's ARN), if the event says.
        by: Option<String>,
    },
    /// A registry-wide setting was changed by hand: govern it over every repository.
    GovernRegistry {
        /// Where it happened.
        origin: Origin,
        /// Which setting.
        part: RegistryPart,
        /// What happened, for the report.
        because: String,
    },
    /// An image was pushed: govern its repository, check its tag, make sure it is scanned.
    ImagePushed(ImagePush),
    /// A scan completed (or Inspector reported a finding): alert if the findings are over the threshold.
    ScanCompleted(ScanResult),
    /// Govern the whole registry.
    Backfill(BackfillRequest),
    /// Govern the repositories that work-queue messages name (an SQS event for the backfill worker).
    WorkBatches(Vec<QueueMessage>),
    /// Nothing to do, deliberately.
    Ignore {
        /// Why.
        reason: String,
    },
}

impl Route {
    /// Govern `repository` for `because`: an event other than an API call (no tags set, nobody named).
    pub(crate) fn govern(origin: Origin, repository: &str, because: String) -> Self {
        let repository = repository.to_string();
        Route::Govern { origin, repository, because, created: false, tags_set: Vec::new(), by: None }
    }
}

/// An event that can't be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed event: {}", warden_core::text::escaped(.0))]
pub struct MalformedEvent(pub String);

/// A successful image push.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ImagePush {
    /// Where it happened.
    pub origin: Origin,
    /// The repository.
    pub repository: String,
    /// The image digest.
    pub digest: String,
    /// The tag pushed (`None`: a digest-only push).
    pub tag: Option<String>,
}

/// Where scan results came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanSource {
    /// `ECR Image Scan`: a basic scan.
    BasicScan,
    /// `Inspector2 Scan`: an enhanced scan.
    EnhancedScan,
    /// `Inspector2 Finding`: one finding was created, updated or closed.
    InspectorFinding,
}

/// A completed scan (or one Inspector finding) of one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanResult {
    /// Where it happened.
    pub origin: Origin,
    /// What sent it.
    pub source: ScanSource,
    /// The repository.
    pub repository: String,
    /// The image digest.
    pub digest: String,
    /// The image's tags.
    pub tags: Vec<String>,
    /// The event's findings per severity (zero severities left out; `TOTAL` dropped).
    pub counts: BTreeMap<Severity, u32>,
    /// The finding an `Inspector2 Finding` event is about, and whether it is active (`false`: closed or
    /// suppressed). One finding never says an image's state: the image's findings are read whole.
    pub finding: Option<(Finding, bool)>,
}
