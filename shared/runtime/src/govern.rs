//! Governing one repository: resolve its settings, observe it (reads issued concurrently, each at most
//! once), judge every control, apply the fixes unless this is a dry run (the `converge` module: each re-read
//! before it is written and read back after), and report.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::OnceCell;
use tracing::{info_span, warn, Instrument};
use warden_core::action::Action;
use warden_core::baseline::{Baseline, Mode, Problem, Resolved};
use warden_core::clock::now_ms;
use warden_core::controls::{self, ControlId};
use warden_core::lifecycle::in_use::{InUse, InUseSettings};
use warden_core::observed::{KeyManager, Observed, Part, RegistryScanning, RepositoryFacts};
use warden_core::registry::{Registry, RegistryError};
use warden_core::report::{plan, ControlReport, LifecycleImpact, Outcome, RepositoryReport};
use warden_core::vulnerabilities::Date;

use crate::converge::{self, when};
use crate::in_use_guard;
use crate::vulnerability_review;

/// Whether to change anything.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GovernOptions {
    /// Plan only: report what would change, change nothing.
    pub dry_run: bool,
    /// Where a lifecycle policy would be put, read the repository's images and report what the policy
    /// would expire once applied (costs `DescribeImages` calls).
    pub lifecycle_impact: bool,
    /// A whole-registry pass (`plan`, `apply`, a backfill): where the baseline sets vulnerability deadlines,
    /// review the repository's images (`DescribeImages`, and a `DescribeImageScanFindings` per image that may hold
    /// overdue findings); where it names images in use, check the lifecycle policy in place against them.
    pub audit: bool,
}

/// State shared by every repository governed in one run: the registry scanning configuration, and who manages
/// each KMS key, are read at most once.
#[derive(Default)]
pub struct RunContext {
    registry_scanning: OnceCell<Result<RegistryScanning, RegistryError>>,
    /// The images in use in the registry's account and region, read at most once a run (when a lifecycle policy
    /// is checked against them).
    in_use: OnceCell<Result<InUse, RegistryError>>,
    /// Who manages each KMS key asked about: repositories often share a key, and are governed at once, so
    /// each key is asked about once.
    key_managers: std::sync::Mutex<HashMap<String, Arc<KeyManagerCell>>>,
}

/// Who manages one key, once asked.
type KeyManagerCell = OnceCell<Result<KeyManager, RegistryError>>;

impl RunContext {
    async fn registry_scanning(&self, registry: &dyn Registry) -> Result<RegistryScanning, RegistryError> {
        self.registry_scanning.get_or_init(|| registry.registry_scanning()).await.clone()
    }

    /// The images in use, read once a run from the sources `settings` name.
    pub(crate) async fn in_use(
        &self,
        registry: &dyn Registry,
        settings: &InUseSettings,
    ) -> Result<&InUse, &RegistryError> {
        self.in_use.get_or_init(|| registry.images_in_use(settings)).await.as_ref()
    }

    async fn key_manager(&self, registry: &dyn Registry, key: &str) -> Result<KeyManager, RegistryError> {
        let cell = match self.key_managers.lock() {
            Ok(mut cells) => Arc::clone(cells.entry(key.to_string()).or_default()),
            Err(_) => Arc::default(),
        };
        cell.get_or_init(|| registry.key_manager(key)).await.clone()
    }
}

/// Governs the repository `name`.
pub async fn govern(
    registry: &dyn Registry,
    baseline: &Baseline,
    name: &str,
    options: GovernOptions,
) -> RepositoryReport {
    govern_in(registry, baseline, Known::Name(name), &RunContext::default(), options).await.report
}

/// A governed repository: the report, and for a repository that was observed (not exempt, gone or in
/// error) its settings and what it looked like *before* any fix.
pub struct Governed {
    /// The report.
    pub report: RepositoryReport,
    /// The settings and the state observed, where the repository was governed.
    pub state: Option<(Resolved, Observed)>,
}

impl Governed {
    fn without_state(report: RepositoryReport) -> Self {
        Self { report, state: None }
    }
}

/// Governs the repository `name`, keeping what was observed (one event's use cases build on it).
pub async fn govern_observed(
    registry: &dyn Registry,
    baseline: &Baseline,
    name: &str,
    options: GovernOptions,
) -> Governed {
    govern_in(registry, baseline, Known::Name(name), &RunContext::default(), options).await
}

/// What is already known of a repository before observing it.
pub(crate) enum Known<'a> {
    /// Only its name (an event).
    Name(&'a str),
    /// Its `DescribeRepositories` entry (a backfill page).
    Facts(RepositoryFacts),
}

impl Known<'_> {
    fn name(&self) -> &str {
        match self {
            Known::Name(name) => name,
            Known::Facts(facts) => &facts.name,
        }
    }
}

/// Governs one repository, in a log span naming it.
pub(crate) async fn govern_in(
    registry: &dyn Registry,
    baseline: &Baseline,
    known: Known<'_>,
    run: &RunContext,
    options: GovernOptions,
) -> Governed {
    let span = info_span!("repository", repository = %known.name());
    govern_known(registry, baseline, known, run, options).instrument(span).await
}

async fn govern_known(
    registry: &dyn Registry,
    baseline: &Baseline,
    known: Known<'_>,
    run: &RunContext,
    options: GovernOptions,
) -> Governed {
    let name = known.name().to_string();
    let stop =
        |outcome, reason: String| Governed::without_state(RepositoryReport::without_controls(&name, outcome, reason));
    let today = Date::today();
    if let Some(exemption) = baseline.exemption_by_name(&name, today) {
        return Governed::without_state(RepositoryReport::exempt(&name, exemption));
    }
    let want = match baseline.resolve(&name) {
        Ok(want) => want,
        Err(problems) => return stop(Outcome::Error, Problem::on_one_line(&problems)),
    };
    let have = match observe(registry, known, &want, run).await {
        Ok(have) => have,
        Err(RegistryError::NotFound(_)) => return stop(Outcome::Gone, "the repository no longer exists".into()),
        Err(error) => return stop(Outcome::Error, error.to_string()),
    };
    if let Some(exemption) = baseline.exemption_by_tags(&name, &have.tags, today) {
        return Governed::without_state(RepositoryReport::exempt(&name, exemption));
    }
    let expired = baseline.exemptions.expired(&name, &have.tags, today);
    let mut controls = plan(&want, &have);
    if baseline.in_use.is_on() {
        in_use_guard::guard(registry, run, &baseline.in_use, &have, &mut controls, options.audit).await;
    }
    if options.lifecycle_impact {
        add_lifecycle_impact(registry, &name, &mut controls).await;
    }
    if !options.dry_run {
        if let Err(RegistryError::NotFound(_)) = converge::fix_pending(registry, &want, &have, &mut controls).await {
            return stop(Outcome::Gone, "the repository was deleted while governed".into());
        }
    }
    let vulnerabilities = match options.audit && vulnerability_review::wanted(&want.vulnerabilities) {
        true => Some(vulnerability_review::review(registry, &name, &want.vulnerabilities, now_ms()).await),
        false => None,
    };
    let reason = expired.as_ref().map(|note| note.text.clone());
    let outcome = Outcome::Governed;
    let report = RepositoryReport { repository: name, outcome, reason, exemption: expired, vulnerabilities, controls };
    Governed { report, state: Some((want, have)) }
}

/// Reads everything the controls that are on declare they read ([`controls::reads_for`]), concurrently, each
/// part once. The repository's settings and tags are always read: exemptions are tags.
async fn observe(
    registry: &dyn Registry,
    known: Known<'_>,
    want: &Resolved,
    run: &RunContext,
) -> Result<Observed, RegistryError> {
    let name = known.name().to_string();
    let parts = controls::reads_for(want);
    let wanted = |part: Part| parts.contains(&part);
    let facts_and_tags = async {
        let facts = match known {
            Known::Facts(facts) => facts,
            Known::Name(name) => registry.describe_repository(name).await?,
        };
        let tags = registry.tags(&facts.arn).await?;
        Ok::<_, RegistryError>((facts, tags))
    };
    let (facts_and_tags, lifecycle_policy, repository_policy, registry_scanning) = futures::join!(
        facts_and_tags,
        when(wanted(Part::LifecyclePolicy), registry.lifecycle_policy(&name)),
        when(wanted(Part::RepositoryPolicy), registry.repository_policy(&name)),
        when(wanted(Part::RegistryScanning), run.registry_scanning(registry)),
    );
    // A missing repository explains every other failure: report that first.
    let (facts, tags) = facts_and_tags?;
    // Who manages the key: only when the baseline asks for a customer managed one, and the repository has a key.
    let wants_customer_key = want.encryption.mode != Mode::Off && want.encryption.customer_managed_key;
    let key_manager = match (&facts.kms_key, wants_customer_key) {
        (Some(key), true) => Some(run.key_manager(registry, key).await?),
        _ => None,
    };
    Ok(Observed {
        facts,
        tags,
        lifecycle_policy: lifecycle_policy.transpose()?.flatten(),
        repository_policy: repository_policy.transpose()?.flatten(),
        registry_scanning: registry_scanning.transpose()?,
        key_manager,
    })
}

/// Previews the lifecycle policy the plan would put against the repository's current images.
async fn add_lifecycle_impact(registry: &dyn Registry, name: &str, controls: &mut [ControlReport]) {
    let Some(control) = controls.iter_mut().find(|c| c.control == ControlId::LifecyclePolicy) else { return };
    let Some(policy) = control.actions.iter().find_map(|a| match a {
        Action::PutLifecyclePolicy { policy, .. } => Some(policy.clone()),
        _ => None,
    }) else {
        return;
    };
    match registry.images(name).await {
        Ok(images) => {
            control.lifecycle_impact = LifecycleImpact::of(&policy, &images, warden_core::clock::now_ms());
        }
        Err(error) => warn!(%error, "can't read images for the lifecycle impact"),
    }
}
