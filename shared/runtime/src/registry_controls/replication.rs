//! Governing the registry's replication configuration: read it, judge it against the baseline with the
//! registry's repositories, put what is missing, and read it back to be sure (see `converge`).

use async_trait::async_trait;
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::{ControlId, RegistryJudgement};
use warden_core::registry::Registry;
use warden_core::replication::{judge, Judgement, ReplicationConfiguration};
use warden_core::report::{RegistryReport, Status};
use warden_core::vulnerabilities::Date;

use super::{converge, failed, RegistryControl};

/// The replication control.
pub(super) struct Replication;

#[async_trait]
impl RegistryControl for Replication {
    fn id(&self) -> ControlId {
        ControlId::Replication
    }

    fn mode(&self, baseline: &Baseline) -> Mode {
        baseline.replication.mode
    }

    async fn run(
        &self,
        registry: &dyn Registry,
        baseline: &Baseline,
        repositories: &[String],
        dry_run: bool,
    ) -> RegistryReport {
        let settings = &baseline.replication;
        let exempt = |name: &str| baseline.exemption_by_name(name, Date::today()).is_some();
        let read_and_judge = || async {
            let have = registry.replication().await?;
            Ok(match judge(settings, &have, repositories, exempt) {
                Judgement::Compliant => RegistryJudgement::Compliant,
                Judgement::Violation { finding, remedy } => RegistryJudgement::Violation { finding, remedy },
                Judgement::Drift { finding, configuration, changes } => {
                    RegistryJudgement::Drift { finding, changes, fix: configuration, removed: Vec::new() }
                }
            })
        };
        let shown = |configuration: &ReplicationConfiguration| serde_json::to_value(configuration).ok();
        let put = |configuration| async move { registry.put_replication(&configuration).await };
        converge(ControlId::Replication, settings.mode, dry_run, read_and_judge, shown, put).await
    }
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
    if settings.mode == Mode::Off || !wanted || baseline.exemption_by_name(name, Date::today()).is_some() {
        return None;
    }
    let have = match registry.replication().await {
        Ok(have) => have,
        Err(error) => return Some(failed(ControlId::Replication, None, error.to_string())),
    };
    if judge(settings, &have, &[name.to_string()], |_| false) == Judgement::Compliant {
        return Some(RegistryReport::new(ControlId::Replication, Status::Compliant));
    }
    let repositories = match registry.list_repositories().await {
        Ok(all) => all.into_iter().map(|facts| facts.name).collect::<Vec<_>>(),
        Err(error) => return Some(failed(ControlId::Replication, None, error.to_string())),
    };
    Some(Replication.run(registry, baseline, &repositories, dry_run).await)
}
