//! Which events an entry point takes on: each Lambda function serves one purpose, the command line all.

use crate::event::Route;

/// Which events an entry point takes on; the others are ignored with a pointer to the right one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Repository events only (CloudTrail API calls).
    RepositoryEvents,
    /// Image pushes only (`ECR Image Action`).
    ImagePushes,
    /// Scan results only (`ECR Image Scan`, `Inspector2 Scan`, `Inspector2 Finding`).
    ScanResults,
    /// Backfills only (manual requests, scheduled events).
    Backfill,
    /// Work-queue messages only (SQS events from the backfill fan-out).
    BackfillWorker,
    /// Everything (the command line).
    Any,
}

impl Purpose {
    /// Every Lambda function's purpose.
    pub const FUNCTIONS: [Purpose; 5] = [
        Purpose::RepositoryEvents,
        Purpose::ImagePushes,
        Purpose::ScanResults,
        Purpose::Backfill,
        Purpose::BackfillWorker,
    ];

    /// The name of the function (and of its crate under `functions/`) that serves this purpose; `None` for the
    /// command line.
    pub fn function_name(self) -> Option<&'static str> {
        match self {
            Purpose::RepositoryEvents => Some("repository-events"),
            Purpose::ImagePushes => Some("image-pushed"),
            Purpose::ScanResults => Some("scan-completed"),
            Purpose::Backfill => Some("backfill"),
            Purpose::BackfillWorker => Some("backfill-worker"),
            Purpose::Any => None,
        }
    }

    /// The purpose of the function named `name`.
    pub fn of_function(name: &str) -> Option<Purpose> {
        Purpose::FUNCTIONS.into_iter().find(|purpose| purpose.function_name() == Some(name))
    }

    /// The events this entry point takes, for messages.
    pub(crate) fn takes(self) -> &'static str {
        match self {
            Purpose::RepositoryEvents => "repository (CloudTrail API call and ECR Replication Action)",
            Purpose::ImagePushes => "ECR Image Action (push)",
            Purpose::ScanResults => "scan result (ECR Image Scan, Inspector2 Scan and Finding)",
            Purpose::Backfill => "backfill request and scheduled",
            Purpose::BackfillWorker => "work-queue (SQS)",
            Purpose::Any => "all",
        }
    }

    /// The function that serves `route`, when it isn't this one.
    pub(crate) fn elsewhere(self, route: &Route) -> Option<&'static str> {
        let serves = match route {
            Route::Ignore { .. } => return None,
            Route::Govern { .. } | Route::GovernRegistry { .. } => Purpose::RepositoryEvents,
            Route::ImagePushed(_) => Purpose::ImagePushes,
            Route::ScanCompleted(_) => Purpose::ScanResults,
            Route::Backfill(_) => Purpose::Backfill,
            Route::WorkBatches(_) => Purpose::BackfillWorker,
        };
        (self != Purpose::Any && self != serves).then(|| serves.function_name().unwrap_or("backfill"))
    }
}
