//! Reports: what governing found and did, per repository and control, and a summary of a run. The JSON
//! form of these types is the stable output of `ecr-warden plan|apply --output json` and of the functions.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::action::Action;
use crate::baseline::{ExemptionNote, ExemptionState, Mode, Resolved};
use crate::controls::{self, ControlId, Judgement};
use crate::lifecycle::in_use::Endangered;
use crate::lifecycle::{self, Image, LifecyclePolicy, RuleAction};
use crate::observed::Observed;
use crate::origin::Origin;
use crate::pace::PaceReport;
use crate::vulnerabilities::deadlines::VulnerabilityReview;

/// The state of one control on one repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Holds the baseline.
    Compliant,
    /// Drifted and was fixed in this run.
    Fixed,
    /// Drifted; `apply` would fix it (enforce mode, dry run).
    Pending,
    /// Drifted; reported only (audit mode).
    Drift,
    /// Can't be fixed by ecr-warden.
    Violation,
    /// Control is off.
    Off,
    /// A fix was attempted and failed.
    Error,
}

impl Status {
    /// The status as written in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::Fixed => "fixed",
            Status::Pending => "pending",
            Status::Drift => "drift",
            Status::Violation => "violation",
            Status::Off => "off",
            Status::Error => "error",
        }
    }
}

/// One control's result on one repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ControlReport {
    /// The control.
    pub control: ControlId,
    /// Its state.
    pub status: Status,
    /// What is wrong, where something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// What a person can do, for violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// Actions taken (`fixed`, `error`) or that would be taken (`pending`, `drift`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    /// Why a fix failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// For a lifecycle policy about to be put: what it would do to the images there now
    /// (`plan --lifecycle-impact`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lifecycle_impact: Option<LifecycleImpact>,
    /// The AWS Security Hub control this judgement matches, if the baseline asks what that control asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_hub_control: Option<&'static str>,
    /// For a lifecycle policy: the images in use it would expire (why it is a violation).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub in_use: Vec<Endangered>,
}

impl ControlReport {
    /// A report with only a status (no finding, remedy, action or error).
    pub fn new(control: ControlId, status: Status) -> Self {
        Self {
            control,
            status,
            finding: None,
            remedy: None,
            actions: Vec::new(),
            error: None,
            lifecycle_impact: None,
            security_hub_control: None,
            in_use: Vec::new(),
        }
    }
}

/// What a lifecycle policy would do to a repository's images, once applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LifecycleImpact {
    /// Images in the repository.
    pub images: usize,
    /// Images the policy would expire (delete).
    pub expiring: usize,
    /// Images the policy would move to archive.
    pub transitioning: usize,
}

impl LifecycleImpact {
    /// Previews `policy` over `images` at `now_ms`; `None` when the policy isn't valid.
    pub fn of(policy: &str, images: &[Image], now_ms: i64) -> Option<Self> {
        let policy = LifecyclePolicy::parse(policy).ok()?;
        let acted = lifecycle::preview(&policy, images, now_ms).acted;
        let expiring = acted.iter().filter(|a| a.action == RuleAction::Expire).count();
        Some(Self { images: images.len(), expiring, transitioning: acted.len() - expiring })
    }
}

/// What happened to a repository as a whole.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Every control was judged.
    Governed,
    /// Exempt: reported, never changed.
    Exempt,
    /// The repository no longer exists.
    Gone,
    /// It couldn't be observed or its settings couldn't be resolved.
    Error,
}

impl Outcome {
    /// The outcome as written in output.
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Governed => "governed",
            Outcome::Exempt => "exempt",
            Outcome::Gone => "gone",
            Outcome::Error => "error",
        }
    }
}

/// The result of governing one repository.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RepositoryReport {
    /// Repository name.
    pub repository: String,
    /// What happened to it.
    pub outcome: Outcome,
    /// Why it was exempt, gone or in error, or why an exemption no longer holds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its exemption: listed, unlisted (the exempt tag alone: a finding), or expired (governed again).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exemption: Option<ExemptionNote>,
    /// Its vulnerability review (audits, when the baseline sets deadlines): overdue findings, the newest scan's
    /// age, images no longer rescanned.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub vulnerabilities: Option<VulnerabilityReview>,
    /// Per-control results (empty unless governed).
    pub controls: Vec<ControlReport>,
}

impl RepositoryReport {
    /// A report with no control results.
    pub fn without_controls(repository: &str, outcome: Outcome, reason: impl Into<String>) -> Self {
        let reason = Some(reason.into());
        Self {
            repository: repository.to_string(),
            outcome,
            reason,
            exemption: None,
            vulnerabilities: None,
            controls: Vec::new(),
        }
    }

    /// The report of an exempt repository: `exemption` says why.
    pub fn exempt(repository: &str, exemption: ExemptionNote) -> Self {
        Self {
            exemption: Some(exemption.clone()),
            ..Self::without_controls(repository, Outcome::Exempt, exemption.text)
        }
    }

    /// What failed, with its cause: the repository itself (outcome `error`) or each control whose fix failed.
    pub fn failures(&self) -> Vec<String> {
        let mut failures = Vec::new();
        if self.outcome == Outcome::Error {
            failures.push(format!("{}: {}", self.repository, self.reason.as_deref().unwrap_or("error")));
        }
        for control in self.controls.iter().filter(|c| c.status == Status::Error) {
            let cause = control.error.as_deref().unwrap_or("error");
            failures.push(format!("{} {}: {cause}", self.repository, control.control));
        }
        failures
    }

    /// The status of one control, if it was judged.
    pub fn status(&self, control: ControlId) -> Option<Status> {
        self.controls.iter().find(|c| c.control == control).map(|c| c.status)
    }

    /// Every action in the report (taken or planned).
    pub fn actions(&self) -> impl Iterator<Item = &Action> {
        self.controls.iter().flat_map(|c| c.actions.iter())
    }
}

/// A registry-level control's result (replication, the registry policy).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryReport {
    /// The control.
    pub control: ControlId,
    /// Its state.
    pub status: Status,
    /// What is wrong, where something is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub finding: Option<String>,
    /// What a person can do, for violations.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// Changes made (`fixed`) or that would be made (`pending`, `drift`), one line each.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// The whole configuration put (`fixed`) or that would be put (`pending`, `drift`), as JSON.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub configuration: Option<serde_json::Value>,
    /// What the fix takes out or replaces, in full (policy statements).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub removed: Vec<serde_json::Value>,
    /// Why reading or fixing failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl RegistryReport {
    /// A report with only a status.
    pub fn new(control: ControlId, status: Status) -> Self {
        Self {
            control,
            status,
            finding: None,
            remedy: None,
            changes: Vec::new(),
            configuration: None,
            removed: Vec::new(),
            error: None,
        }
    }

    /// What failed, with its cause.
    pub fn failure(&self) -> Option<String> {
        (self.status == Status::Error)
            .then(|| format!("registry {}: {}", self.control, self.error.as_deref().unwrap_or("error")))
    }
}

/// Judges every control and returns the plan: `pending` where enforce mode would fix drift, `drift`
/// where audit mode only reports it. Nothing is applied here.
pub fn plan(want: &Resolved, have: &Observed) -> Vec<ControlReport> {
    controls::ALL
        .iter()
        .map(|control| {
            let mode = control.mode(want);
            let mut report = ControlReport::new(control.id(), Status::Off);
            if mode == Mode::Off {
                return report;
            }
            report.security_hub_control = control.security_hub_control(want);
            match control.judge(want, have) {
                Judgement::Compliant => report.status = Status::Compliant,
                Judgement::Drift { finding, actions } => {
                    report.status = if mode == Mode::Enforce { Status::Pending } else { Status::Drift };
                    report.finding = Some(finding);
                    report.actions = actions;
                }
                Judgement::Violation { finding, remedy } => {
                    report.status = Status::Violation;
                    report.finding = Some(finding);
                    report.remedy = Some(remedy);
                }
            }
            report
        })
        .collect()
}

/// Counts over many repository reports.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Summary {
    /// Repositories looked at.
    pub repositories: usize,
    /// Repositories per outcome.
    pub outcomes: BTreeMap<Outcome, usize>,
    /// Per control, repositories per status.
    pub controls: BTreeMap<ControlId, BTreeMap<Status, usize>>,
    /// Repositories per exemption state (listed, unlisted, expired).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub exemptions: BTreeMap<ExemptionState, usize>,
    /// Findings past their deadline, in every image reviewed.
    #[serde(skip_serializing_if = "is_zero")]
    pub overdue_findings: usize,
    /// Images Inspector no longer rescans.
    #[serde(skip_serializing_if = "is_zero")]
    pub unmonitored_images: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Summary {
    /// Counts the reports.
    pub fn of(reports: &[RepositoryReport]) -> Self {
        let mut summary = Summary { repositories: reports.len(), ..Default::default() };
        for report in reports {
            *summary.outcomes.entry(report.outcome).or_default() += 1;
            if let Some(exemption) = &report.exemption {
                *summary.exemptions.entry(exemption.state).or_default() += 1;
            }
            if let Some(review) = &report.vulnerabilities {
                summary.overdue_findings += review.overdue_findings();
                summary.unmonitored_images += review.unmonitored.len();
            }
            for control in &report.controls {
                *summary.controls.entry(control.control).or_default().entry(control.status).or_default() += 1;
            }
        }
        summary
    }

    /// Adds another summary's counts to this one.
    pub fn add(&mut self, other: &Summary) {
        self.repositories += other.repositories;
        for (outcome, count) in &other.outcomes {
            *self.outcomes.entry(*outcome).or_default() += count;
        }
        for (control, by_status) in &other.controls {
            let mine = self.controls.entry(*control).or_default();
            for (status, count) in by_status {
                *mine.entry(*status).or_default() += count;
            }
        }
        for (state, count) in &other.exemptions {
            *self.exemptions.entry(*state).or_default() += count;
        }
        self.overdue_findings += other.overdue_findings;
        self.unmonitored_images += other.unmonitored_images;
    }

    /// Repositories exempt by the tag alone (findings `apply` can't settle: someone must list them or untag them).
    pub fn unlisted_exemptions(&self) -> usize {
        self.exemptions.get(&ExemptionState::Unlisted).copied().unwrap_or(0)
    }

    fn count(&self, status: Status) -> usize {
        self.controls.values().filter_map(|by_status| by_status.get(&status)).sum()
    }

    /// The overall verdict, which the command turns into its exit code.
    pub fn verdict(&self) -> Verdict {
        if self.outcomes.get(&Outcome::Error).is_some_and(|n| *n > 0) || self.count(Status::Error) > 0 {
            Verdict::Failed
        } else if self.count(Status::Pending) > 0 {
            Verdict::Pending
        } else if self.count(Status::Violation) + self.count(Status::Drift) > 0
            || self.unlisted_exemptions() > 0
            || self.overdue_findings > 0
        {
            Verdict::Unfixable
        } else {
            Verdict::Clean
        }
    }
}

/// What a run adds up to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Everything holds the baseline (or is exempt, gone or off).
    Clean,
    /// Drift remains that `apply` would fix.
    Pending,
    /// Only findings `apply` won't fix remain (violations, audit-mode drift, repositories exempt by an unlisted
    /// tag, vulnerabilities past their deadline).
    Unfixable,
    /// Something failed.
    Failed,
}

/// The result of governing many repositories.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Whether changes were made (`apply`) or only planned (`plan`, dry run).
    pub dry_run: bool,
    /// Counts.
    pub summary: Summary,
    /// Registry-level controls (replication), when the run covered the registry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registry: Vec<RegistryReport>,
    /// One report per repository, by name.
    pub repositories: Vec<RepositoryReport>,
    /// The registry's account and region, when known (from the repositories' ARNs): `account` and `region` in
    /// the JSON.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub origin: Option<Origin>,
    /// How many repositories were governed at once and the throttling met, when the run covered many.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pace: Option<PaceReport>,
}

impl Report {
    /// A report over `repositories`, sorted by name.
    pub fn new(dry_run: bool, mut repositories: Vec<RepositoryReport>) -> Self {
        repositories.sort_by(|a, b| a.repository.cmp(&b.repository));
        Self {
            dry_run,
            summary: Summary::of(&repositories),
            registry: Vec::new(),
            repositories,
            origin: None,
            pace: None,
        }
    }

    /// The report with registry-level results, counted in the summary (so they count in the verdict).
    pub fn with_registry(mut self, registry: Vec<RegistryReport>) -> Self {
        for report in &registry {
            *self.summary.controls.entry(report.control).or_default().entry(report.status).or_default() += 1;
        }
        self.registry = registry;
        self
    }
}

#[cfg(test)]
mod tests;
