//! Governing the registry's replication configuration: read it, judge it against the baseline with the
//! registry's repositories, put what is missing, and read it back to be sure, after a pause long enough for a
//! concurrent put to land (another writer may have put its own configuration in between: the judgement is
//! then made again on what is there). See the `converge` module.

use std::time::Duration;

use tracing::{info, warn};
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::ControlId;
use warden_core::registry::{Registry, RegistryError};
use warden_core::replication::{judge, Judgement};
use warden_core::report::{RegistryReport, Status};

use crate::converge::{jittered, SETTLE};

/// Times a fix is put (and read back) before the run gives up and reports an error.
const ATTEMPTS: usize = 3;

/// Governs replication over `repositories` (every repository in the registry); `None` when the baseline
/// has replication off.
pub async fn govern_replication(
    registry: &dyn Registry,
    baseline: &Baseline,
    repositories: &[String],
    dry_run: bool,
) -> Option<RegistryReport> {
    let settings = &baseline.replication;
    if settings.mode == Mode::Off {
        return None;
    }
    let exempt = |name: &str| baseline.exemption_by_name(name).is_some();
    let mut fixed: Option<RegistryReport> = None;
    for attempt in 0..=ATTEMPTS {
        let have = match registry.replication().await {
            Ok(have) => have,
            Err(error) => return Some(failed(fixed, error.to_string())),
        };
        let (finding, configuration, changes) = match judge(settings, &have, repositories, exempt) {
            Judgement::Compliant => {
                return Some(fixed.unwrap_or_else(|| RegistryReport::new(ControlId::Replication, Status::Compliant)))
            }
            Judgement::Violation { finding, remedy } => {
                let mut report = RegistryReport::new(ControlId::Replication, Status::Violation);
                (report.finding, report.remedy) = (Some(finding), Some(remedy));
                return Some(report);
            }
            Judgement::Drift { finding, configuration, changes } => (finding, configuration, changes),
        };
        let status = match (settings.mode, dry_run) {
            (Mode::Enforce, false) => Status::Fixed,
            (Mode::Enforce, true) => Status::Pending,
            _ => Status::Drift,
        };
        let mut report = RegistryReport::new(ControlId::Replication, status);
        report.finding = Some(finding);
        report.changes = changes;
        report.configuration = Some(configuration.clone());
        if status != Status::Fixed {
            return Some(report);
        }
        if attempt == ATTEMPTS {
            break;
        }
        info!(changes = ?report.changes, "putting the replication configuration");
        match registry.put_replication(&configuration).await {
            Ok(()) => {}
            Err(RegistryError::Throttled { .. }) => {
                // Sent once: read afresh and judge again before the next put.
                tokio::time::sleep(jittered(Duration::from_millis(200 << attempt))).await;
                continue;
            }
            Err(error) => return Some(failed(Some(report), error.to_string())),
        }
        // Read back only once a put another writer started before this one has landed (see `converge`).
        tokio::time::sleep(jittered(SETTLE)).await;
        // Read back: compliant now returns `fixed`; otherwise another writer got in, so judge again.
        if fixed.is_some() {
            warn!("the replication configuration changed under ecr-warden; putting it again");
        }
        fixed = Some(report);
    }
    let cause = format!("still not covered after {ATTEMPTS} attempts: another writer keeps changing it");
    Some(failed(fixed, cause))
}

fn failed(report: Option<RegistryReport>, error: String) -> RegistryReport {
    let mut report = report.unwrap_or_else(|| RegistryReport::new(ControlId::Replication, Status::Error));
    report.status = Status::Error;
    report.error = Some(error);
    report
}

/// For a repository just created: whether the baseline replicates it and the registry doesn't yet, in one
/// read; only then the whole registry is listed and governed. `None` when there is nothing to look at.
pub async fn govern_new_repository(
    registry: &dyn Registry,
    baseline: &Baseline,
    name: &str,
    dry_run: bool,
) -> Option<RegistryReport> {
    let settings = &baseline.replication;
    let wanted = settings.targets.iter().any(|t| t.repositories.iter().any(|glob| glob.matches(name)));
    if settings.mode == Mode::Off || !wanted || baseline.exemption_by_name(name).is_some() {
        return None;
    }
    let have = match registry.replication().await {
        Ok(have) => have,
        Err(error) => return Some(failed(None, error.to_string())),
    };
    if judge(settings, &have, &[name.to_string()], |_| false) == Judgement::Compliant {
        return Some(RegistryReport::new(ControlId::Replication, Status::Compliant));
    }
    let repositories = match registry.list_repositories().await {
        Ok(all) => all.into_iter().map(|facts| facts.name).collect::<Vec<_>>(),
        Err(error) => return Some(failed(None, error.to_string())),
    };
    govern_replication(registry, baseline, &repositories, dry_run).await
}
