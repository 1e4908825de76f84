//! Governing the registry permissions policy: read it, merge the baseline's statements into it and take out what
//! the baseline doesn't allow (the core's judgement), put or delete it, and read it back (see
//! `converge`).

use async_trait::async_trait;
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::registry_policy::{judge, Judgement};
use warden_core::controls::ControlId;
use warden_core::registry::Registry;
use warden_core::report::{RegistryReport, Status};

use super::{converge, Found, RegistryControl};

/// The registry policy control.
pub(super) struct RegistryPolicy;

#[async_trait]
impl RegistryControl for RegistryPolicy {
    async fn govern(
        &self,
        registry: &dyn Registry,
        baseline: &Baseline,
        _repositories: &[String],
        dry_run: bool,
    ) -> Option<RegistryReport> {
        let settings = &baseline.registry_policy;
        if settings.mode == Mode::Off {
            return None;
        }
        let read_and_judge = || async {
            let have = registry.registry_policy().await?;
            let (account, text) = match &have {
                Some((account, text)) => (account.as_str(), Some(text.as_str())),
                None => ("", None),
            };
            Ok(match judge(settings, text, account) {
                Judgement::Compliant => Found::Compliant,
                Judgement::Violation { finding, remedy } => Found::Violation { finding, remedy },
                Judgement::Drift { finding, changes, policy, removed } => {
                    let mut report = RegistryReport::new(ControlId::RegistryPolicy, Status::Drift);
                    report.finding = Some(finding);
                    report.changes = changes;
                    report.configuration = policy.as_deref().and_then(|text| serde_json::from_str(text).ok());
                    report.removed = removed;
                    Found::Drift { report, fix: policy }
                }
            })
        };
        let put = |policy: Option<String>| async move { registry.put_registry_policy(policy.as_deref()).await };
        Some(converge(ControlId::RegistryPolicy, settings.mode, dry_run, read_and_judge, put).await)
    }
}
