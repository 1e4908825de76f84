//! Lifecycle policies never expire an image in use (see `warden_core::lifecycle::in_use`). Where the baseline
//! names images in use (`[in_use]`), the lifecycle policy about to be put, and in an audit the policy in place, is
//! previewed over the repository's images: an image in use it would expire (or archive) is a violation naming the
//! image, the rule and who uses it, and the policy is not put. A repository none of whose images is in use costs
//! no read: the uses (ECS, Lambda, the list) are read once a run, the images only where one is used.

use tracing::warn;
use warden_core::action::Action;
use warden_core::clock::now_ms;
use warden_core::controls::ControlId;
use warden_core::lifecycle::in_use::{endangered, InUseSettings};
use warden_core::lifecycle::LifecyclePolicy;
use warden_core::observed::Observed;
use warden_core::registry::Registry;
use warden_core::report::{ControlReport, Status};

use crate::govern::RunContext;

/// Images named in a finding; the rest are counted.
const NAMED: usize = 5;

/// Checks the lifecycle policy `controls` would put on the repository `have` describes (or, when `audit`, the
/// one in place) against the images in use, turning the lifecycle control into a violation when it would expire
/// one.
pub(crate) async fn guard(
    registry: &dyn Registry,
    run: &RunContext,
    settings: &InUseSettings,
    have: &Observed,
    controls: &mut [ControlReport],
    audit: bool,
) {
    let Some(control) = controls.iter_mut().find(|c| c.control == ControlId::LifecyclePolicy) else { return };
    if matches!(control.status, Status::Off | Status::Error) {
        return;
    }
    let to_put = control.actions.iter().find_map(|action| match action {
        Action::PutLifecyclePolicy { policy, .. } => Some(policy.clone()),
        _ => None,
    });
    let putting = to_put.is_some();
    let Some(text) = to_put.or_else(|| have.lifecycle_policy.clone().filter(|_| audit)) else { return };
    let Ok(policy) = LifecyclePolicy::parse(&text) else { return };
    let name = &have.facts.name;
    let uses = match run.in_use(registry, settings).await {
        Ok(in_use) => in_use.of(name),
        Err(error) => return unknown(control, putting, &format!("can't tell which images are in use: {error}")),
    };
    if uses.is_empty() {
        return;
    }
    let images = match registry.images(name).await {
        Ok(images) => images,
        Err(error) => return unknown(control, putting, &format!("can't read the repository's images: {error}")),
    };
    let found = endangered(&policy, &images, &uses, now_ms());
    if found.is_empty() {
        return;
    }
    let mut named: Vec<String> = found.iter().take(NAMED).map(|e| e.describe(name)).collect();
    if found.len() > NAMED {
        named.push(format!("and {} more", found.len() - NAMED));
    }
    let which = if putting { "the baseline's lifecycle policy" } else { "the lifecycle policy in place" };
    let outcome = if putting { "; it was not put" } else { "" };
    control.status = Status::Violation;
    control.finding = Some(format!(
        "{which} would expire {} {} in use: {}{outcome}",
        found.len(),
        if found.len() == 1 { "image" } else { "images" },
        named.join("; ")
    ));
    control.remedy = Some(
        "keep the images in use out of the policy's rules (e.g. a tag prefix its rules don't select), or stop \
         using them, then run again"
            .to_string(),
    );
    control.actions.clear();
    control.in_use = found;
}

/// When what is in use can't be told: a policy about to be put is not put (an error, tried again next time); the
/// policy in place is left as judged, with a warning.
fn unknown(control: &mut ControlReport, putting: bool, why: &str) {
    if !putting {
        warn!(%why, "the lifecycle policy in place wasn't checked against the images in use");
        return;
    }
    control.status = Status::Error;
    control.error = Some(format!("{why}; the lifecycle policy was not put"));
    control.actions.clear();
}
