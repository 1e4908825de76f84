//! The registry-level controls: each governs one setting of the whole registry (its replication configuration,
//! permissions policy, repository creation templates, pull through cache rules, signing rules) from a top-level
//! section of the baseline. A whole-registry backfill, a fan-out and an event about the setting run them through
//! [`govern_registry`] and [`govern_one`]; each is one module here (reading, judging with the core's judgement,
//! putting) and one line in `ALL`.
//!
//! Every put is a read-modify-write of the whole setting, which other invocations and people may be writing too;
//! `converge` reads and judges afresh before each put, reads back after a pause long enough for a concurrent put
//! to land (as the repository-level fixes do), and judges again, at most `ATTEMPTS` puts.

mod creation_templates;
mod pull_through_cache;
mod registry_policy;
mod replication;
mod signing;

use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use tracing::{info, warn};
use warden_aws::api_calls::pause;
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::{ControlId, RegistryJudgement};
use warden_core::registry::{Registry, RegistryError};
use warden_core::report::{RegistryReport, Status};

use crate::converge::{jittered, SETTLE};

pub use replication::govern_new_repository;

/// Times a fix is put (and read back) before the run gives up and reports an error.
const ATTEMPTS: usize = 3;

/// One registry-level control.
#[async_trait]
trait RegistryControl: Sync {
    /// The control's name.
    fn id(&self) -> ControlId;
    /// The control's mode in `baseline` (`off`: it isn't governed).
    fn mode(&self, baseline: &Baseline) -> Mode;
    /// Governs the setting over `repositories` (every repository of the registry); called only when its mode
    /// isn't `off`.
    async fn run(
        &self,
        registry: &dyn Registry,
        baseline: &Baseline,
        repositories: &[String],
        dry_run: bool,
    ) -> RegistryReport;
}

/// Governs `control` unless the baseline turns it off.
async fn govern(
    control: &dyn RegistryControl,
    registry: &dyn Registry,
    baseline: &Baseline,
    repositories: &[String],
    dry_run: bool,
) -> Option<RegistryReport> {
    match control.mode(baseline) {
        Mode::Off => None,
        _ => Some(control.run(registry, baseline, repositories, dry_run).await),
    }
}

/// Every registry-level control, in report order (as the core's `REGISTRY_LEVEL`).
const ALL: &[&dyn RegistryControl] = &[
    &replication::Replication,
    &registry_policy::RegistryPolicy,
    &creation_templates::CreationTemplates,
    &pull_through_cache::PullThroughCache,
    &signing::Signing,
];

/// Governs every registry-level control the baseline turns on, over `repositories` (every repository of the
/// registry), one after the other.
pub async fn govern_registry(
    registry: &dyn Registry,
    baseline: &Baseline,
    repositories: &[String],
    dry_run: bool,
) -> Vec<RegistryReport> {
    let mut reports = Vec::new();
    for control in ALL {
        reports.extend(govern(*control, registry, baseline, repositories, dry_run).await);
    }
    reports
}

/// Governs only the registry-level control `id` (an event said its setting changed); `None` when the baseline
/// leaves it alone (or `id` isn't a registry-level control).
pub async fn govern_one(
    id: ControlId,
    registry: &dyn Registry,
    baseline: &Baseline,
    repositories: &[String],
    dry_run: bool,
) -> Option<RegistryReport> {
    let control = ALL.iter().copied().find(|control| control.id() == id)?;
    govern(control, registry, baseline, repositories, dry_run).await
}

/// Brings the setting of control `id` to the baseline: `judge` reads and judges it; in enforce mode (and not a dry
/// run) `put` writes the fix, which is read back after a pause and judged again. `fixed` once a read-back holds
/// the baseline; `error` when a read or put fails, or another writer keeps changing the setting. The report shows
/// each fix as `shown` makes it (the whole configuration put).
async fn converge<Fix, Judge, Judged, Put, Putting>(
    id: ControlId,
    mode: Mode,
    dry_run: bool,
    judge: Judge,
    shown: impl Fn(&Fix) -> Option<serde_json::Value>,
    put: Put,
) -> RegistryReport
where
    Judge: Fn() -> Judged,
    Judged: Future<Output = Result<RegistryJudgement<Fix>, RegistryError>>,
    Put: Fn(Fix) -> Putting,
    Putting: Future<Output = Result<(), RegistryError>>,
{
    let mut fixed: Option<RegistryReport> = None;
    for attempt in 0..=ATTEMPTS {
        let (finding, changes, fix, removed) = match judge().await {
            Err(error) => return failed(id, fixed, error.to_string()),
            Ok(RegistryJudgement::Compliant) => {
                return fixed.unwrap_or_else(|| RegistryReport::new(id, Status::Compliant))
            }
            Ok(RegistryJudgement::Violation { finding, remedy }) => {
                let mut report = RegistryReport::new(id, Status::Violation);
                (report.finding, report.remedy) = (Some(finding), Some(remedy));
                return report;
            }
            Ok(RegistryJudgement::Drift { finding, changes, fix, removed }) => (finding, changes, fix, removed),
        };
        let status = match (mode, dry_run) {
            (Mode::Enforce, false) => Status::Fixed,
            (Mode::Enforce, true) => Status::Pending,
            _ => Status::Drift,
        };
        let mut report = RegistryReport::new(id, status);
        (report.finding, report.changes, report.configuration, report.removed) =
            (Some(finding), changes, shown(&fix), removed);
        if report.status != Status::Fixed {
            return report;
        }
        if attempt == ATTEMPTS {
            break;
        }
        info!(control = %id, changes = ?report.changes, "putting a registry setting");
        match put(fix).await {
            Ok(()) => {}
            Err(RegistryError::Throttled { .. }) => {
                // Sent once: read afresh and judge again before the next put.
                pause(jittered(Duration::from_millis(200 << attempt))).await;
                continue;
            }
            Err(error) => return failed(id, Some(report), error.to_string()),
        }
        // Read back only once a put another writer started before this one has landed (see `crate::converge`).
        pause(jittered(SETTLE)).await;
        if fixed.is_some() {
            warn!(control = %id, "the registry setting changed under ecr-warden; putting it again");
        }
        fixed = Some(report);
    }
    let cause = format!("still not as the baseline says after {ATTEMPTS} attempts: another writer keeps changing it");
    failed(id, fixed, cause)
}

/// `report` (or a bare one) turned into an error with its cause.
fn failed(id: ControlId, report: Option<RegistryReport>, error: String) -> RegistryReport {
    let mut report = report.unwrap_or_else(|| RegistryReport::new(id, Status::Error));
    report.status = Status::Error;
    report.error = Some(error);
    report
}

#[cfg(test)]
mod tests {
    use warden_core::controls::REGISTRY_LEVEL;

    use super::*;

    #[test]
    fn the_runtime_governs_the_registry_level_controls_the_core_describes_in_the_same_order() {
        let governed: Vec<ControlId> = ALL.iter().map(|control| control.id()).collect();
        let described: Vec<ControlId> = REGISTRY_LEVEL.iter().map(|description| description.id).collect();
        assert_eq!(governed, described);
    }
}
