//! Checking the registry's pull through cache rules: read them and the creation templates, judge (the core's
//! judgement). Reported only: nothing is ever put.

use async_trait::async_trait;
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::pull_through_cache::judge;
use warden_core::controls::ControlId;
use warden_core::registry::{Registry, RegistryError};
use warden_core::report::RegistryReport;

use super::{converge, RegistryControl};

/// The pull through cache control.
pub(super) struct PullThroughCache;

#[async_trait]
impl RegistryControl for PullThroughCache {
    fn id(&self) -> ControlId {
        ControlId::PullThroughCache
    }

    fn mode(&self, baseline: &Baseline) -> Mode {
        baseline.pull_through_cache.mode
    }

    async fn run(
        &self,
        registry: &dyn Registry,
        baseline: &Baseline,
        _repositories: &[String],
        dry_run: bool,
    ) -> RegistryReport {
        let settings = &baseline.pull_through_cache;
        let read_and_judge = || async {
            let rules = registry.cache_rules().await?;
            let templates = match rules.is_empty() || !settings.require_creation_template {
                true => Vec::new(),
                false => registry.creation_templates().await?,
            };
            Ok(judge(settings, &rules, &templates))
        };
        // The judgement never asks for a fix; audit mode keeps it from ever being put.
        let put = |_: ()| async { Ok::<(), RegistryError>(()) };
        converge(ControlId::PullThroughCache, Mode::Audit, dry_run, read_and_judge, |_| None, put).await
    }
}
