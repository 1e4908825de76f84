//! Governing the registry permissions policy: read it, merge the baseline's statements into it and take out what
//! the baseline doesn't allow (the core's judgement), put or delete it, and read it back (see
//! `converge`).

use async_trait::async_trait;
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::registry_policy::judge;
use warden_core::controls::ControlId;
use warden_core::registry::Registry;
use warden_core::report::RegistryReport;

use super::{converge, RegistryControl};

/// The registry policy control.
pub(super) struct RegistryPolicy;

#[async_trait]
impl RegistryControl for RegistryPolicy {
    fn id(&self) -> ControlId {
        ControlId::RegistryPolicy
    }

    fn mode(&self, baseline: &Baseline) -> Mode {
        baseline.registry_policy.mode
    }

    async fn run(
        &self,
        registry: &dyn Registry,
        baseline: &Baseline,
        _repositories: &[String],
        dry_run: bool,
    ) -> RegistryReport {
        let settings = &baseline.registry_policy;
        let read_and_judge = || async {
            let have = registry.registry_policy().await?;
            let (account, text) = match &have {
                Some((account, text)) => (account.as_str(), Some(text.as_str())),
                None => ("", None),
            };
            Ok(judge(settings, text, account))
        };
        // The policy put, as JSON (none: it is deleted).
        let shown = |policy: &Option<String>| policy.as_deref().and_then(|text| serde_json::from_str(text).ok());
        let put = |policy: Option<String>| async move { registry.put_registry_policy(policy.as_deref()).await };
        converge(ControlId::RegistryPolicy, settings.mode, dry_run, read_and_judge, shown, put).await
    }
}
