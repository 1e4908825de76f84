//! Writing a fix so that it survives other writers. Many invocations run at once, and people change
//! repositories while ecr-warden works; ECR has no conditional write, so every fix is a read-modify-write
//! that checks its own work:
//!
//! 1. read again what the control judges, just before writing, and judge again: a change made since the
//!    repository was observed (a statement a team just added) is part of what is written;
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

use tracing::{info, warn};
use warden_core::action::Action;
use warden_core::baseline::Resolved;
use warden_core::controls::{self, Judgement};
use warden_core::observed::{Observed, Part};
use warden_core::registry::{Registry, RegistryError};
use warden_core::report::{ControlReport, Status};

/// Writes made for one control before giving up on a writer that keeps undoing them.
pub const ATTEMPTS: usize = 4;

/// The shortest pause before a registry-level write is read back; up to as much again is added at random.
pub const SETTLE: Duration = Duration::from_millis(1_000);

/// Brings one pending control to the baseline from `have` (what was observed), as the module describes, and
/// reports what happened in `control`: `fixed` (with every action written), `compliant` (someone else fixed
/// it first), `violation` (it can no longer be fixed), or `error`.
pub async fn fix(
    registry: &dyn Registry,
    want: &Resolved,
    have: &Observed,
    control: &mut ControlReport,
) -> Result<(), RegistryError> {
    let Some(judge) = controls::by_id(control.control) else { return Ok(()) };
    let mut current = have.clone();
    let mut written: Vec<Action> = Vec::new();
    for attempt in 0..ATTEMPTS {
        if let Err(error) = refresh(registry, &mut current, judge.reads()).await {
            return failed(control, written, error);
        }
        let actions = match judge.judge(want, &current) {
            Judgement::Compliant => {
                control.status = if written.is_empty() { Status::Compliant } else { Status::Fixed };
                if written.is_empty() {
                    info!("already as the baseline wants (changed since it was observed)");
                    control.finding = None;
                } else {
                    info!("fixed: the read-back holds the baseline");
                }
                control.actions = written;
                return Ok(());
            }
            Judgement::Violation { finding, remedy } => {
                control.status = Status::Violation;
                (control.finding, control.remedy) = (Some(finding), Some(remedy));
                control.actions = written;
                return Ok(());
            }
            Judgement::Drift { finding, actions } => {
                control.finding = Some(finding);
                actions
            }
        };
        if !written.is_empty() {
            warn!(attempt, "another writer changed it after ecr-warden's write: writing again");
        }
        let registry_level = actions.iter().any(Action::is_registry_level);
        for action in actions {
            match registry.apply(&current.facts, &action).await {
                Ok(()) => info!(action = %action.describe(), "written"),
                Err(RegistryError::Throttled { .. }) if attempt + 1 < ATTEMPTS => {
                    warn!(action = %action.describe(), "throttled: reading again before the next attempt");
                    tokio::time::sleep(jittered(Duration::from_millis(200 << attempt))).await;
                    break;
                }
                Err(error) => return failed(control, written, error),
            }
            written.push(action);
        }
        if registry_level {
            tokio::time::sleep(jittered(SETTLE)).await;
        }
    }
    let error = RegistryError::Failed {
        operation: "read back".into(),
        message: format!("still not as the baseline wants after {ATTEMPTS} writes: another writer keeps changing it"),
    };
    failed(control, written, error)
}

fn failed(control: &mut ControlReport, written: Vec<Action>, error: RegistryError) -> Result<(), RegistryError> {
    warn!(%error, "fix failed");
    control.status = Status::Error;
    control.error = Some(error.to_string());
    if !written.is_empty() {
        control.actions = written;
    }
    Err(error)
}

/// Reads `parts` of the repository again into `have`.
async fn refresh(registry: &dyn Registry, have: &mut Observed, parts: &[Part]) -> Result<(), RegistryError> {
    let name = have.facts.name.clone();
    for part in parts {
        match part {
            Part::Facts => have.facts = registry.describe_repository(&name).await?,
            Part::Tags => have.tags = registry.tags(&have.facts.arn).await?,
            Part::LifecyclePolicy => have.lifecycle_policy = registry.lifecycle_policy(&name).await?,
            Part::RepositoryPolicy => have.repository_policy = registry.repository_policy(&name).await?,
            Part::RegistryScanning => have.registry_scanning = Some(registry.registry_scanning().await?),
        }
    }
    Ok(())
}

/// `base` plus up to as much again, at random, so that writers that collided don't collide again.
pub fn jittered(base: Duration) -> Duration {
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let mixed = u64::from(nanos).wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ u64::from(std::process::id());
    base + base.mul_f64((mixed % 1_000) as f64 / 1_000.0)
}
