//! One entry point for every event: the Lambda functions and `ecr-warden handle` call [`handle`].

use serde::Serialize;
use serde_json::Value;
use tracing::info;
use warden_core::baseline::Baseline;
use warden_core::registry::{Registry, RegistryError};
use warden_core::report::{Report, RepositoryReport};

use crate::backfill::backfill;
use crate::event::{route, LoopGuard, MalformedEvent, Route};
use crate::govern::{govern, GovernOptions};

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
    },
    /// The registry was backfilled.
    Backfill {
        /// The report.
        report: Report,
    },
    /// Deliberately ignored.
    Ignored {
        /// Why.
        reason: String,
    },
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
}

/// Which events an entry point takes on; the others are ignored with a pointer to the right one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// Repository events only (CloudTrail API calls).
    RepositoryEvents,
    /// Backfills only (manual requests, scheduled events).
    Backfill,
    /// Everything (the command line).
    Any,
}

/// Everything handling needs, built once per process.
pub struct Handler<'a> {
    /// Which events this entry point takes on.
    pub purpose: Purpose,
    /// The registry.
    pub registry: &'a dyn Registry,
    /// The baseline.
    pub baseline: &'a Baseline,
    /// ecr-warden's own role, whose calls are ignored.
    pub guard: &'a LoopGuard,
}

impl Handler<'_> {
    /// Handles one event; `dry_run` plans without changing anything, whatever the event asks.
    pub async fn handle(&self, event: &Value, dry_run: bool) -> Result<Handled, HandleError> {
        let route = match (route(event, self.guard)?, self.purpose) {
            (Route::Backfill(_), Purpose::RepositoryEvents) => {
                Route::Ignore { reason: "backfills and scheduled audits go to the backfill function".to_string() }
            }
            (Route::Govern { repository, .. }, Purpose::Backfill) => Route::Ignore {
                reason: format!("repository events (here for `{repository}`) go to the repository-events function"),
            },
            (route, _) => route,
        };
        match route {
            Route::Ignore { reason } => {
                info!(%reason, "event ignored");
                Ok(Handled::Ignored { reason })
            }
            Route::Govern { repository, because } => {
                info!(%repository, %because, "governing");
                let report =
                    govern(self.registry, self.baseline, &repository, GovernOptions { dry_run, ..Default::default() })
                        .await;
                Ok(Handled::Repository { because, report })
            }
            Route::Backfill(mut request) => {
                request.dry_run |= dry_run;
                info!(dry_run = request.dry_run, "backfilling");
                let report = backfill(self.registry, self.baseline, &request).await?;
                Ok(Handled::Backfill { report })
            }
        }
    }
}
