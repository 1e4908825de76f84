//! Governing the registry's repository creation templates: derive the templates from the baseline for the
//! registry's partition and region, read the registry's, judge (the core's judgement), make the changes, and
//! read them back (see `converge`).

use async_trait::async_trait;
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::creation_templates::{judge, wanted, TemplateChange};
use warden_core::controls::ControlId;
use warden_core::registry::{Registry, RegistryError};
use warden_core::report::RegistryReport;
use warden_core::section::Problem;

use super::{converge, failed, RegistryControl};

/// The creation templates control.
pub(super) struct CreationTemplates;

#[async_trait]
impl RegistryControl for CreationTemplates {
    fn id(&self) -> ControlId {
        ControlId::CreationTemplates
    }

    fn mode(&self, baseline: &Baseline) -> Mode {
        baseline.creation_templates.mode
    }

    async fn run(
        &self,
        registry: &dyn Registry,
        baseline: &Baseline,
        _repositories: &[String],
        dry_run: bool,
    ) -> RegistryReport {
        let mode = baseline.creation_templates.mode;
        let id = ControlId::CreationTemplates;
        let home = match registry.home().await {
            Ok(Some(home)) => home,
            Ok(None) => return failed(id, None, "the registry's region isn't known".to_string()),
            Err(error) => return failed(id, None, error.to_string()),
        };
        let want = match wanted(baseline, home.partition(), &home.region) {
            Ok(want) => want,
            Err(problems) => return failed(id, None, Problem::on_one_line(&problems)),
        };
        let read_and_judge = || async {
            let have = registry.creation_templates().await?;
            Ok(judge(&want, &have))
        };
        // The templates the baseline derives, in full.
        let shown = |_: &Vec<TemplateChange>| serde_json::to_value(&want).ok();
        let put = |writes: Vec<TemplateChange>| async move {
            for write in &writes {
                registry.change_creation_template(write).await?;
            }
            Ok::<(), RegistryError>(())
        };
        converge(id, mode, dry_run, read_and_judge, shown, put).await
    }
}
