//! Writing a fix so that it survives other writers. Many invocations run at once, and people change
//! repositories while ecr-warden works; ECR has no conditional write, so every fix is a read-modify-write
//! that checks its own work:
//!
//! 1. read again what the controls judge, just before writing (one read of each part for all the repository's
//!    pending controls), and judge again: a change made since the repository was observed (a statement a team
//!    just added) is part of what is written;
//! 2. write what that judgement asks for;
//! 3. read back and judge again: `fixed` only when the read-back holds the baseline. If another writer got
//!    in between (it removed what was just written), write again, a bounded number of times.
//!
//! Registry-level writes (a registry scanning rule shared by every repository) race with other invocations
//! fixing other repositories: a writer that read the configuration before this write and puts after it
//! drops what this one added. Such a write is read back only after a jittered pause longer than a
//! read-then-put takes, so that a concurrent put lands first and is seen; puts are sent once (the SDK doesn't
//! retry them: a retry minutes later would be a stale write) and retried here, after reading afresh.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::future::join_all;
use tracing::{info, info_span, warn, Instrument};
use warden_aws::api_calls::pause;
use warden_core::action::Action;
use warden_core::baseline::Resolved;
use warden_core::controls::{self, Control, Judgement};
use warden_core::observed::{Observed, Part};
use warden_core::registry::{Applied, Registry, RegistryError};
use warden_core::report::{ControlReport, Status};

/// Writes made for one control before giving up on a writer that keeps undoing them.
pub(crate) const ATTEMPTS: usize = 4;

/// The shortest pause before a registry-level write is read back; up to as much again is added at random.
pub(crate) const SETTLE: Duration = Duration::from_millis(1_000);

/// One pending control on its way to the baseline.
struct Open<'a> {
    control: &'a mut ControlReport,
    judge: &'static dyn Control,
    written: Vec<Action>,
}

/// Brings every pending control in `controls` to the baseline from `have` (what was observed), as the module
/// describes, and reports what happened in each: `fixed` (with every action written), `compliant` (someone
/// else fixed it first), `violation` (it can no longer be fixed), or `error`. The reads are shared: each round
/// reads once every part a pending control judges. `Err` only when the repository is gone.
pub(crate) async fn fix_pending(
    registry: &dyn Registry,
    want: &Resolved,
    have: &Observed,
    controls: &mut [ControlReport],
) -> Result<(), RegistryError> {
    let mut open: Vec<Open> = controls
        .iter_mut()
        .filter(|c| c.status == Status::Pending)
        .filter_map(|control| {
            controls::by_id(control.control).map(|judge| Open { control, judge, written: Vec::new() })
        })
        .collect();
    let mut current = have.clone();
    // Up to ATTEMPTS writes per control, each followed by a read-back (the last one too).
    for attempt in 0..=ATTEMPTS {
        // The parts the controls still open judge, each read once.
        let parts = controls::parts_read_by(open.iter().map(|o| o.judge));
        if let Err(error) = refresh(registry, &mut current, &parts).await {
            if matches!(error, RegistryError::NotFound(_)) {
                return Err(error);
            }
            open.into_iter().for_each(|o| failed(o, &error));
            return Ok(());
        }
        let mut drifted = Vec::new();
        for o in open {
            match o.judge.judge(want, &current) {
                Judgement::Compliant => settled(o, Status::Compliant),
                Judgement::Violation { finding, remedy } => {
                    (o.control.finding, o.control.remedy) = (Some(finding), Some(remedy));
                    settled(o, Status::Violation);
                }
                Judgement::Drift { finding, actions } => {
                    o.control.finding = Some(finding);
                    drifted.push((o, actions));
                }
            }
        }
        if drifted.is_empty() {
            return Ok(());
        }
        if attempt == ATTEMPTS {
            let error = RegistryError::Failed {
                operation: "read back".into(),
                message: format!(
                    "still not as the baseline wants after {ATTEMPTS} writes: another writer keeps changing it"
                ),
            };
            drifted.into_iter().for_each(|(o, _)| failed(o, &error));
            return Ok(());
        }
        let writes = drifted.into_iter().map(|(o, actions)| {
            let span = info_span!("control", control = %o.control.control);
            write(registry, &current, o, actions, attempt).instrument(span)
        });
        let mut settle = false;
        open = Vec::new();
        for (o, outcome) in join_all(writes).await {
            match outcome {
                Ok(registry_level) => {
                    settle |= registry_level;
                    open.push(o);
                }
                Err(RegistryError::NotFound(name)) => return Err(RegistryError::NotFound(name)),
                Err(error) => failed(o, &error),
            }
        }
        if open.is_empty() {
            return Ok(());
        }
        if settle {
            pause(jittered(SETTLE)).await;
        }
    }
    Ok(())
}

/// Writes one control's actions in order; `Ok(true)` when a registry-level action was written. A registry-level
/// action another writer already made is not counted as written (nothing of this run's needs settling, and the
/// control is then reported compliant, not fixed). A throttled registry-wide put (sent once) is not an error:
/// the next round reads afresh and tries again.
async fn write<'a>(
    registry: &dyn Registry,
    current: &Observed,
    mut open: Open<'a>,
    actions: Vec<Action>,
    attempt: usize,
) -> (Open<'a>, Result<bool, RegistryError>) {
    if !open.written.is_empty() {
        warn!(attempt, "another writer changed it after ecr-warden's write: writing again");
    }
    let mut registry_level = false;
    for action in actions {
        match registry.apply(&current.facts, &action).await {
            Ok(Applied::Written) => info!(action = %action.describe(), "written"),
            Ok(Applied::AlreadySo) => {
                info!(action = %action.describe(), "already made by another writer: nothing written");
                continue;
            }
            Err(RegistryError::Throttled { .. }) if action.is_registry_level() && attempt + 1 < ATTEMPTS => {
                warn!(action = %action.describe(), "throttled: reading again before the next attempt");
                pause(jittered(Duration::from_millis(200 << attempt))).await;
                return (open, Ok(registry_level));
            }
            Err(error) => return (open, Err(error)),
        }
        registry_level |= action.is_registry_level();
        open.written.push(action);
    }
    (open, Ok(registry_level))
}

/// A control that reached `status` (compliant or a violation) on a read.
fn settled(open: Open, status: Status) {
    let control = open.control;
    control.status = match (status, open.written.is_empty()) {
        (Status::Compliant, false) => {
            info!(control = %control.control, "fixed: the read-back holds the baseline");
            Status::Fixed
        }
        (Status::Compliant, true) => {
            info!(control = %control.control, "already as the baseline wants (changed since it was observed)");
            control.finding = None;
            Status::Compliant
        }
        (other, _) => other,
    };
    control.actions = open.written;
}

fn failed(open: Open, error: &RegistryError) {
    warn!(control = %open.control.control, %error, "fix failed");
    let control = open.control;
    control.status = Status::Error;
    control.error = Some(error.to_string());
    if !open.written.is_empty() {
        control.actions = open.written;
    }
}

/// Reads `parts` of the repository again into `have`, at once.
async fn refresh(registry: &dyn Registry, have: &mut Observed, parts: &[Part]) -> Result<(), RegistryError> {
    let (name, arn) = (have.facts.name.as_str(), have.facts.arn.as_str());
    let wants = |part: Part| parts.contains(&part);
    let (facts, tags, lifecycle, policy, scanning) = futures::join!(
        when(wants(Part::Facts), registry.describe_repository(name)),
        when(wants(Part::Tags), registry.tags(arn)),
        when(wants(Part::LifecyclePolicy), registry.lifecycle_policy(name)),
        when(wants(Part::RepositoryPolicy), registry.repository_policy(name)),
        when(wants(Part::RegistryScanning), registry.registry_scanning()),
    );
    // A missing repository explains every other failure: report that first.
    if let Some(facts) = facts {
        have.facts = facts?;
    }
    if let Some(tags) = tags {
        have.tags = tags?;
    }
    if let Some(lifecycle) = lifecycle {
        have.lifecycle_policy = lifecycle?;
    }
    if let Some(policy) = policy {
        have.repository_policy = policy?;
    }
    if let Some(scanning) = scanning {
        have.registry_scanning = Some(scanning?);
    }
    Ok(())
}

/// What `read` answers, when `wanted` (it isn't even started otherwise).
pub(crate) async fn when<T>(wanted: bool, read: impl std::future::Future<Output = T>) -> Option<T> {
    match wanted {
        true => Some(read.await),
        false => None,
    }
}

/// `base` plus up to as much again, at random, so that writers that collided don't collide again.
pub(crate) fn jittered(base: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mixed = u64::from(nanos).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(std::process::id());
    base + base.mul_f64((mixed % 1_000) as f64 / 1_000.0)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::BTreeMap;
    use std::sync::Mutex;

    use async_trait::async_trait;
    use warden_core::baseline::Baseline;
    use warden_core::controls::ControlId;
    use warden_core::lifecycle::Image;
    use warden_core::observed::{EncryptionType, RegistryScanning, RepositoryFacts, ScanRule, ScanType, TagMutability};

    use super::*;

    /// One repository's tags, and a rival that removes the `team` tag after each of ecr-warden's first
    /// `undo` writes (another writer that read the tags before ecr-warden wrote). The registry's scanning rules
    /// gain `*` when asked, and the put answers `put_answer` (`AlreadySo`: another writer's put, read just
    /// before, had added it).
    pub(crate) struct Tags {
        tags: Mutex<BTreeMap<String, String>>,
        undo: Mutex<usize>,
        writes: Mutex<usize>,
        scan_rules: Mutex<Vec<ScanRule>>,
        put_answer: Applied,
    }

    impl Tags {
        fn new(tags: &[(&str, &str)], undo: usize) -> Self {
            let tags = tags.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
            let (scan_rules, put_answer) = (Mutex::new(vec![]), Applied::Written);
            Self { tags: Mutex::new(tags), undo: Mutex::new(undo), writes: Mutex::new(0), scan_rules, put_answer }
        }

        /// A registry whose scanning puts answer `put_answer`, with no rival writing tags.
        pub(crate) fn answering(put_answer: Applied) -> Self {
            Self { put_answer, ..Self::new(&[], 0) }
        }
    }

    fn facts() -> RepositoryFacts {
        RepositoryFacts {
            name: "app".into(),
            arn: "arn:aws:ecr:us-east-1:123456789012:repository/app".into(),
            tag_mutability: TagMutability::Immutable,
            mutability_exclusions: vec![],
            scan_on_push: false,
            encryption: EncryptionType::Kms,
            kms_key: None,
        }
    }

    #[async_trait]
    impl Registry for Tags {
        async fn list_repositories(&self) -> Result<Vec<RepositoryFacts>, RegistryError> {
            Ok(vec![facts()])
        }
        async fn describe_repository(&self, _: &str) -> Result<RepositoryFacts, RegistryError> {
            Ok(facts())
        }
        async fn lifecycle_policy(&self, _: &str) -> Result<Option<String>, RegistryError> {
            Ok(None)
        }
        async fn repository_policy(&self, _: &str) -> Result<Option<String>, RegistryError> {
            Ok(None)
        }
        async fn tags(&self, _: &str) -> Result<BTreeMap<String, String>, RegistryError> {
            Ok(self.tags.lock().expect("tags").clone())
        }
        async fn images(&self, _: &str) -> Result<Vec<Image>, RegistryError> {
            Ok(vec![])
        }
        async fn registry_scanning(&self) -> Result<RegistryScanning, RegistryError> {
            Ok(RegistryScanning { scan_type: ScanType::Basic, rules: self.scan_rules.lock().expect("rules").clone() })
        }
        async fn apply(&self, _: &RepositoryFacts, action: &Action) -> Result<Applied, RegistryError> {
            if let Action::AddRegistryScanFilter { frequency, .. } = action {
                let every = ScanRule { frequency: *frequency, filters: vec!["*".into()] };
                *self.scan_rules.lock().expect("rules") = vec![every];
                return Ok(self.put_answer);
            }
            let Action::Tag { tags } = action else { panic!("only tags and scanning are written here: {action:?}") };
            *self.writes.lock().expect("writes") += 1;
            let mut now = self.tags.lock().expect("tags");
            now.extend(tags.clone());
            let mut undo = self.undo.lock().expect("undo");
            if *undo > 0 {
                *undo -= 1;
                now.remove("team");
            }
            Ok(Applied::Written)
        }
    }

    fn want() -> Resolved {
        let text = "[defaults.tags]\nrequired = { team = { default = \"platform\" } }\n";
        Baseline::parse("b.toml", text).expect("valid").resolve("app").expect("resolves")
    }

    async fn fix_tags(registry: &Tags) -> ControlReport {
        let have = Observed {
            facts: facts(),
            lifecycle_policy: None,
            repository_policy: None,
            tags: BTreeMap::new(),
            registry_scanning: None,
            key_manager: None,
        };
        let mut reports = [ControlReport::new(ControlId::Tags, Status::Pending)];
        fix_pending(registry, &want(), &have, &mut reports).await.expect("the repository is there");
        let [report] = reports;
        report
    }

    #[tokio::test]
    async fn a_write_another_writer_undid_is_made_again_and_both_are_reported() {
        let registry = Tags::new(&[], 1);
        let report = fix_tags(&registry).await;
        assert_eq!(report.status, Status::Fixed);
        assert_eq!(report.actions.len(), 2, "{report:?}");
        assert_eq!(*registry.writes.lock().expect("writes"), 2);
    }

    #[tokio::test]
    async fn a_writer_that_keeps_undoing_it_ends_in_an_error_after_bounded_writes() {
        let registry = Tags::new(&[], usize::MAX);
        let report = fix_tags(&registry).await;
        assert_eq!(report.status, Status::Error);
        assert!(report.error.as_deref().is_some_and(|e| e.contains("another writer keeps changing it")), "{report:?}");
        assert_eq!(*registry.writes.lock().expect("writes"), ATTEMPTS);
    }

    #[tokio::test]
    async fn a_repository_fixed_since_it_was_observed_costs_no_write() {
        let registry = Tags::new(&[("team", "payments"), ("managed-by", "ecr-warden")], 0);
        let report = fix_tags(&registry).await;
        assert_eq!((report.status, report.actions.len()), (Status::Compliant, 0));
        assert_eq!(*registry.writes.lock().expect("writes"), 0);
    }

    /// Fixes the registry's scanning for the repository (no rule covers it when observed); the report, and
    /// whether the fix finished on its first poll, that is without pausing.
    async fn fix_scanning(registry: &Tags) -> (ControlReport, bool) {
        let want = Baseline::builtin().expect("built-in").resolve("app").expect("resolves");
        let have = Observed {
            facts: facts(),
            lifecycle_policy: None,
            repository_policy: None,
            tags: BTreeMap::new(),
            registry_scanning: Some(RegistryScanning { scan_type: ScanType::Basic, rules: vec![] }),
            key_manager: None,
        };
        let mut reports = [ControlReport::new(ControlId::Scanning, Status::Pending)];
        let (fixed, at_once) = finished_at_once(fix_pending(registry, &want, &have, &mut reports)).await;
        fixed.expect("the repository is there");
        let [report] = reports;
        (report, at_once)
    }

    /// Runs `work` to its end: its output, and whether it finished on its first poll (a pause can't).
    pub(crate) async fn finished_at_once<F: std::future::Future>(work: F) -> (F::Output, bool) {
        let mut work = std::pin::pin!(work);
        match futures::poll!(work.as_mut()) {
            std::task::Poll::Ready(output) => (output, true),
            std::task::Poll::Pending => (work.await, false),
        }
    }

    #[tokio::test]
    async fn a_registry_fix_this_run_put_is_read_back_after_a_pause() {
        let (report, at_once) = fix_scanning(&Tags::answering(Applied::Written)).await;
        assert_eq!((report.status, report.actions.len()), (Status::Fixed, 1), "{report:?}");
        assert!(!at_once, "a registry-wide put must settle before it is read back");
    }

    /// Only the writer that put the registry's rule waits for a concurrent put to land before reading it back
    /// (see the module documentation); one that found it already made has nothing of its own to protect.
    #[tokio::test]
    async fn a_registry_fix_another_writer_already_made_is_compliant_and_not_waited_for() {
        let (report, at_once) = fix_scanning(&Tags::answering(Applied::AlreadySo)).await;
        assert_eq!((report.status, report.actions.len()), (Status::Compliant, 0), "{report:?}");
        assert_eq!(report.finding, None);
        assert!(at_once, "it paused before reading back a rule it didn't put");
    }

    #[test]
    fn jitter_stays_between_the_base_and_twice_it() {
        for _ in 0..100 {
            let pause = jittered(SETTLE);
            assert!(pause >= SETTLE && pause <= SETTLE * 2, "{pause:?}");
        }
    }
}
