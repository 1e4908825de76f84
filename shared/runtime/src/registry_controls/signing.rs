//! Governing the registry's signing configuration: read its rules, judge them (the core's judgement), put the
//! whole configuration with what is missing, and read it back (see `converge`).

use async_trait::async_trait;
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::signing::{judge, SigningRule};
use warden_core::controls::ControlId;
use warden_core::registry::Registry;
use warden_core::report::RegistryReport;

use super::{converge, RegistryControl};

/// The signing control.
pub(super) struct Signing;

#[async_trait]
impl RegistryControl for Signing {
    fn id(&self) -> ControlId {
        ControlId::Signing
    }

    fn mode(&self, baseline: &Baseline) -> Mode {
        baseline.signing.mode
    }

    async fn run(
        &self,
        registry: &dyn Registry,
        baseline: &Baseline,
        _repositories: &[String],
        dry_run: bool,
    ) -> RegistryReport {
        let settings = &baseline.signing;
        let read_and_judge = || async { Ok(judge(settings, &registry.signing_rules().await?)) };
        let shown = |rules: &Vec<SigningRule>| serde_json::to_value(rules).ok();
        let put = |rules: Vec<SigningRule>| async move { registry.put_signing_rules(&rules).await };
        converge(ControlId::Signing, settings.mode, dry_run, read_and_judge, shown, put).await
    }
}
