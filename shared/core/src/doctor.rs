//! `ecr-warden doctor`: the prerequisites a deployment silently depends on, each judged to one line (ok, warning
//! or problem, what it means, what to do). Pure: the AWS reads are the `warden-aws` crate's.

use serde::Serialize;

pub mod stack;

/// How one check came out, worst last (the derived order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Health {
    /// Nothing to do.
    Ok,
    /// Works, but something a user would want to know.
    Warning,
    /// Something the deployment depends on is missing.
    Problem,
}

impl Health {
    /// The word tables use.
    pub fn as_str(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Warning => "warning",
            Health::Problem => "problem",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// What was checked (`trail`, `baseline`, `alerts`, `security-hub`).
    pub check: &'static str,
    /// How it came out.
    pub status: Health,
    /// What it means.
    pub what: String,
    /// What to do, when something is to be done.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    /// A check that passed.
    pub fn ok(check: &'static str, what: impl Into<String>) -> Self {
        Self { check, status: Health::Ok, what: what.into(), fix: None }
    }

    /// A check that found something: `status`, what it means and what to do.
    pub fn found(check: &'static str, status: Health, what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { check, status, what: what.into(), fix: Some(fix.into()) }
    }

    /// A check whose reads failed (`what` says which and why): the fix is the read-only policy doctor needs.
    pub fn unreadable(check: &'static str, status: Health, what: impl Into<String>) -> Self {
        Self::found(check, status, what, "grant the caller what `ecr-warden permissions doctor --policy` prints")
    }
}

/// The worst of `checks` (ok when there are none).
pub fn worst(checks: &[Check]) -> Health {
    checks.iter().map(|check| check.status).max().unwrap_or(Health::Ok)
}

/// One CloudTrail trail as `DescribeTrails`, `GetTrailStatus` and `GetEventSelectors` tell it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrailState {
    /// Its name.
    pub name: String,
    /// The region it was created in.
    pub home_region: String,
    /// Whether it logs every region.
    pub multi_region: bool,
    /// Whether it is the organization's trail.
    pub organization: bool,
    /// Whether it is logging now.
    pub logging: bool,
    /// Whether its event selectors record management write events (a trail without custom selectors does: it
    /// logs all management events).
    pub management_writes: bool,
}

impl TrailState {
    fn covers(&self, region: &str) -> bool {
        self.multi_region || self.home_region == region
    }

    fn label(&self) -> String {
        match self.organization {
            true => format!("organization trail {}", self.name),
            false => format!("trail {}", self.name),
        }
    }
}

/// The EventBridge user guide on why a trail is needed.
const WHY_A_TRAIL: &str = "EventBridge delivers `AWS API Call via CloudTrail` events (CreateRepository, a policy \
    changed by hand) only when \"a CloudTrail trail with logging enabled\" records them (EventBridge user guide, \
    \"AWS service events delivered via AWS CloudTrail\")";

/// Whether a trail logs the management write events of `region`, which the repository-events function hears of.
pub fn trail_check(trails: &[TrailState], region: &str) -> Check {
    let covering: Vec<&TrailState> = trails.iter().filter(|trail| trail.covers(region)).collect();
    if let Some(good) = covering.iter().find(|trail| trail.logging && trail.management_writes) {
        return Check::ok("trail", format!("{} logs management write events in {region}", good.label()));
    }
    if let Some(stopped) = covering.iter().find(|trail| !trail.logging) {
        return Check::found(
            "trail",
            Health::Problem,
            format!(
                "{} covers {region} but isn't logging: no repository event reaches ecr-warden; {WHY_A_TRAIL}",
                stopped.label()
            ),
            format!("aws cloudtrail start-logging --name {}", stopped.name),
        );
    }
    if let Some(reads_only) = covering.first() {
        return Check::found(
            "trail",
            Health::Problem,
            format!("{} records no management write events in {region}; {WHY_A_TRAIL}", reads_only.label()),
            format!(
                "record management events on it (aws cloudtrail put-event-selectors --trail-name {} with \
                 ReadWriteType All or WriteOnly)",
                reads_only.name
            ),
        );
    }
    Check::found(
        "trail",
        Health::Problem,
        format!("no CloudTrail trail logs {region}: the repository-events function never hears of a new repository or a change by hand; {WHY_A_TRAIL}"),
        "deploy the stack with CreateTrail=true, create a multi-region trail (aws cloudtrail create-trail \
         --is-multi-region-trail ... and start-logging), or rely on the organization's trail",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trail(name: &str, home: &str, multi: bool, logging: bool, writes: bool) -> TrailState {
        TrailState {
            name: name.into(),
            home_region: home.into(),
            multi_region: multi,
            organization: false,
            logging,
            management_writes: writes,
        }
    }

    #[test]
    fn a_logging_trail_recording_writes_in_the_region_is_needed() {
        assert_eq!(trail_check(&[], "eu-west-1").status, Health::Problem);
        let elsewhere = trail("other", "us-east-1", false, true, true);
        assert_eq!(
            trail_check(std::slice::from_ref(&elsewhere), "eu-west-1").status,
            Health::Problem,
            "another region only"
        );
        let everywhere = trail("all", "us-east-1", true, true, true);
        let ok = trail_check(&[elsewhere, everywhere], "eu-west-1");
        assert_eq!((ok.status, ok.what.as_str()), (Health::Ok, "trail all logs management write events in eu-west-1"));
        let stopped = trail_check(&[trail("all", "us-east-1", true, false, true)], "eu-west-1");
        assert_eq!(stopped.fix.as_deref(), Some("aws cloudtrail start-logging --name all"));
        let reads = trail_check(&[trail("reads", "eu-west-1", false, true, false)], "eu-west-1");
        assert!(reads.what.starts_with("trail reads records no management write events"), "{}", reads.what);
        assert_eq!(worst(&[ok, reads]), Health::Problem);
    }
}
