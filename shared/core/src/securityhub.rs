//! Findings for AWS Security Hub, in its finding format (ASFF), built from reports and alerts. Pure: the
//! `warden-aws` crate sends them.
//!
//! Security Hub tracks a finding by its `Id`, so each is one thing that can fail and later pass: one
//! repository's control, or one image's vulnerabilities. The `Id` is deterministic (the same hash as alert
//! ids, over the account, region, repository, image and what the finding is about), so a later run updates
//! the same finding: `ACTIVE`/`FAILED` while the repository drifts, then `ARCHIVED`/`PASSED` (and workflow
//! `RESOLVED`) once it holds the baseline again.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;

use crate::alert::{console_url, finding_id, Alert, AlertKind, Origin};
use crate::controls::{describe, ALL};
use crate::report::{ControlReport, Outcome, RepositoryReport, Status};
use crate::sink::SinkError;
use crate::vulnerabilities::Severity;

/// ASFF's longest title.
pub(crate) const MAX_TITLE: usize = 256;
/// ASFF's longest description.
pub(crate) const MAX_DESCRIPTION: usize = 1024;
/// The finding type of governance findings.
pub(crate) const BEST_PRACTICES: &str = "Software and Configuration Checks/AWS Security Best Practices";
/// The finding type of vulnerability findings.
pub(crate) const VULNERABILITIES: &str = "Software and Configuration Checks/Vulnerabilities/CVE";

/// Whether the thing a finding is about holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Compliance {
    /// It holds.
    Passed,
    /// It doesn't.
    Failed,
}

impl Compliance {
    /// The ASFF value.
    pub fn as_str(self) -> &'static str {
        match self {
            Compliance::Passed => "PASSED",
            Compliance::Failed => "FAILED",
        }
    }
}

/// One finding, as imported into Security Hub.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HubFinding {
    /// Deterministic id.
    pub id: String,
    /// The product ARN findings are imported under (the account's default product for custom findings).
    pub product_arn: String,
    /// What generated it: `ecr-warden/<control>` or `ecr-warden/vulnerabilities`.
    pub generator_id: String,
    /// Account ID.
    pub account: String,
    /// Region.
    pub region: String,
    /// One line.
    pub title: String,
    /// What was found, and what ecr-warden did.
    pub description: String,
    /// ASFF severity label.
    pub severity: &'static str,
    /// Finding types.
    pub types: Vec<&'static str>,
    /// `AwsEcrRepository` or `AwsEcrContainerImage`.
    pub resource_type: &'static str,
    /// The repository ARN (and `@digest` for an image).
    pub resource_id: String,
    /// `FAILED` while it fails, `PASSED` once it holds.
    pub compliance: Compliance,
    /// The Security Hub control and Config rule it corresponds to, where there is one.
    pub related_requirements: Vec<String>,
    /// What a person can do.
    pub remediation: Option<String>,
    /// Where to look in the console.
    pub source_url: Option<String>,
    /// ecr-warden's own fields (`ecr-warden/control`, `ecr-warden/status`, ...).
    pub product_fields: BTreeMap<String, String>,
}

impl HubFinding {
    /// Whether the finding is a problem (`ACTIVE`); a passing one is imported only to close an active one.
    pub fn is_failing(&self) -> bool {
        self.compliance == Compliance::Failed
    }
}

/// The product ARN for findings an account imports itself.
pub fn product_arn(origin: &Origin) -> String {
    let Origin { account, region } = origin;
    format!("arn:{}:securityhub:{region}:{account}:product/{account}/default", origin.partition())
}

/// One finding per control judged on the repository: failing for drift, violations and pending fixes,
/// passing for compliant and fixed controls. A repository that is gone or exempt passes on every control
/// (nothing about it should stay open); an error says nothing either way, so it yields no finding.
pub fn governance_findings(origin: &Origin, report: &RepositoryReport) -> Vec<HubFinding> {
    let repository = &report.repository;
    match report.outcome {
        Outcome::Error => Vec::new(),
        Outcome::Gone | Outcome::Exempt => {
            let why = report.reason.clone().unwrap_or_else(|| report.outcome.as_str().to_string());
            let passing = |id| ControlReport::new(id, Status::Compliant);
            ALL.iter().map(|control| control_finding(origin, repository, &passing(control.id()), None, &why)).collect()
        }
        Outcome::Governed => deadline_findings(origin, report)
            .into_iter()
            .chain(report.controls.iter().filter_map(|control| {
                let failing = match control.status {
                    Status::Compliant | Status::Fixed => None,
                    Status::Drift | Status::Pending | Status::Violation => Some(control),
                    Status::Off | Status::Error => return None,
                };
                let text = match failing {
                    Some(c) => c.finding.clone().unwrap_or_else(|| "drifted from the baseline".to_string()),
                    None => format!("holds the baseline ({})", control.status.as_str()),
                };
                let mut finding = control_finding(origin, repository, control, failing.map(|c| c.status), &text);
                if let Some(remedy) = failing.and_then(|c| c.remedy.clone()) {
                    finding.remediation = Some(remedy);
                }
                Some(finding)
            }))
            .collect(),
    }
}

/// One finding per image a vulnerability review read: failing while it holds findings past their deadline,
/// passing once it holds none (fixed or suppressed; a passing finding only closes an open one).
pub fn deadline_findings(origin: &Origin, report: &RepositoryReport) -> Vec<HubFinding> {
    let Some(review) = &report.vulnerabilities else { return Vec::new() };
    let repository = &report.repository;
    review
        .reviewed
        .iter()
        .map(|digest| {
            let overdue = review.overdue.iter().find(|image| &image.digest == digest);
            let (title, description, severity, compliance) = match overdue {
                Some(image) => {
                    let worst = image.findings.iter().map(|f| f.severity).min().unwrap_or(Severity::Undefined);
                    let lines: Vec<String> =
                        image.findings.iter().map(|f| format!("{} {} due by {}", f.severity, f.id, f.due)).collect();
                    let title =
                        format!("{} findings past their deadline in {repository}@{digest}", image.findings.len());
                    (title, lines.join("; "), asff_severity(worst), Compliance::Failed)
                }
                None => (
                    format!("No findings past their deadline in {repository}@{digest}"),
                    "Every finding with a deadline is within it, fixed or suppressed.".to_string(),
                    "INFORMATIONAL",
                    Compliance::Passed,
                ),
            };
            let about = ImageFinding { origin, repository, digest, subject: "deadlines" };
            HubFinding {
                title: clip(&title, MAX_TITLE),
                description: clip(&description, MAX_DESCRIPTION),
                severity,
                compliance,
                source_url: Some(console_url(origin, repository, Some(digest))),
                ..about.finding()
            }
        })
        .collect()
}

/// The finding for `report`'s control on `repository`: failing with `status`, or passing (`None`). It names a
/// Security Hub control (and the AWS Config rule behind it) only where the judgement matches it.
fn control_finding(
    origin: &Origin,
    repository: &str,
    report: &ControlReport,
    failing: Option<Status>,
    text: &str,
) -> HubFinding {
    let control = report.control;
    let description = describe(control);
    let mut related = Vec::new();
    if let Some(id) = report.security_hub_control {
        related.push(format!("AWS Foundational Security Best Practices {id}"));
        if let Some(rule) = description.config_rule {
            related.push(format!("AWS Config rule {rule}"));
        }
    }
    let mut product_fields = BTreeMap::from([
        ("ecr-warden/control".to_string(), control.to_string()),
        ("ecr-warden/repository".to_string(), repository.to_string()),
    ]);
    if let Some(status) = failing {
        product_fields.insert("ecr-warden/status".to_string(), status.as_str().to_string());
    }
    if let Some(id) = report.security_hub_control {
        product_fields.insert("ecr-warden/securityHubControl".to_string(), id.to_string());
    }
    let severity = control.severity().as_str();
    HubFinding {
        id: finding_id(origin, repository, None, AlertKind::Governance, control.as_str()),
        product_arn: product_arn(origin),
        generator_id: format!("ecr-warden/{control}"),
        account: origin.account.clone(),
        region: origin.region.clone(),
        title: clip(&format!("ecr-warden {control}: {repository}"), MAX_TITLE),
        description: clip(&format!("{}: {text}", description.checks), MAX_DESCRIPTION),
        severity: if failing.is_some() { severity } else { "INFORMATIONAL" },
        types: vec![BEST_PRACTICES],
        resource_type: "AwsEcrRepository",
        resource_id: origin.repository_arn(repository),
        compliance: if failing.is_some() { Compliance::Failed } else { Compliance::Passed },
        related_requirements: related,
        remediation: None,
        source_url: Some(console_url(origin, repository, None)),
        product_fields,
    }
}

/// The finding for one image's vulnerabilities: failing with the alert, passing without one (the image's
/// last scan is within the threshold).
pub fn vulnerability_finding(origin: &Origin, repository: &str, digest: &str, alert: Option<&Alert>) -> HubFinding {
    let about = ImageFinding { origin, repository, digest, subject: "vulnerabilities" };
    let mut finding = about.finding();
    let (title, description, severity, compliance) = match alert {
        Some(alert) => {
            finding.product_fields.insert("ecr-warden/alertId".to_string(), alert.id.clone());
            let description = alert.problems.join("; ");
            (alert.title.clone(), description, asff_severity(alert.severity), Compliance::Failed)
        }
        None => (
            format!("No vulnerabilities over the threshold in {repository}@{digest}"),
            "The image's last scan is within the baseline's thresholds.".to_string(),
            "INFORMATIONAL",
            Compliance::Passed,
        ),
    };
    HubFinding {
        title: clip(&title, MAX_TITLE),
        description: clip(&description, MAX_DESCRIPTION),
        severity,
        compliance,
        source_url: alert.map(|a| a.console_url.clone()),
        ..finding
    }
}

/// What a finding about one image is about: `subject` names it (`vulnerabilities`, `deadlines`), in its id and its
/// generator (`ecr-warden/vulnerabilities`, `ecr-warden/vulnerability-deadlines`).
struct ImageFinding<'a> {
    origin: &'a Origin,
    repository: &'a str,
    digest: &'a str,
    subject: &'static str,
}

impl ImageFinding<'_> {
    /// The finding's fixed parts, passing and informational until the caller says otherwise.
    fn finding(&self) -> HubFinding {
        let Self { origin, repository, digest, subject } = *self;
        let generator = if subject == "deadlines" { "vulnerability-deadlines" } else { subject };
        HubFinding {
            id: finding_id(origin, repository, Some(digest), AlertKind::Vulnerability, subject),
            product_arn: product_arn(origin),
            generator_id: format!("ecr-warden/{generator}"),
            account: origin.account.clone(),
            region: origin.region.clone(),
            title: String::new(),
            description: String::new(),
            severity: "INFORMATIONAL",
            types: vec![VULNERABILITIES],
            resource_type: "AwsEcrContainerImage",
            resource_id: format!("{}@{digest}", origin.repository_arn(repository)),
            compliance: Compliance::Passed,
            related_requirements: Vec::new(),
            remediation: None,
            source_url: None,
            product_fields: BTreeMap::from([
                ("ecr-warden/repository".to_string(), repository.to_string()),
                ("ecr-warden/imageDigest".to_string(), digest.to_string()),
            ]),
        }
    }
}

/// ASFF's label for a severity (it has no UNTRIAGED or UNDEFINED).
fn asff_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "CRITICAL",
        Severity::High => "HIGH",
        Severity::Medium => "MEDIUM",
        Severity::Low => "LOW",
        Severity::Informational | Severity::Untriaged | Severity::Undefined => "INFORMATIONAL",
    }
}

/// `text` cut to `max` characters, ending in `...` when cut.
fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max - 3).collect();
    format!("{kept}...")
}

/// Security Hub, as ecr-warden uses it.
#[async_trait]
pub trait FindingsHub: Send + Sync {
    /// Creates or updates findings (`BatchImportFindings`), failing ones `ACTIVE`, passing ones
    /// `ARCHIVED`.
    async fn import(&self, findings: &[HubFinding]) -> Result<(), SinkError>;
    /// Which of `findings` (all of one product) Security Hub holds as active (`GetFindings`).
    async fn active(&self, findings: &[HubFinding]) -> Result<Vec<String>, SinkError>;
    /// Sets the workflow of findings to `RESOLVED` (`BatchUpdateFindings`: a provider's import can't).
    async fn resolve(&self, product_arn: &str, ids: &[String]) -> Result<(), SinkError>;
}

impl crate::report::Report {
    /// What the audit alerts on, on `today` (nothing when the registry's account and region aren't known): see
    /// [`crate::alert::audit_alerts`].
    pub fn audit_alerts(&self, today: crate::vulnerabilities::Date) -> Vec<Alert> {
        let Some(origin) = &self.origin else { return Vec::new() };
        self.repositories.iter().flat_map(|report| crate::alert::audit_alerts(origin, report, today)).collect()
    }

    /// The Security Hub findings of every repository (none when the registry's account and region aren't
    /// known).
    pub fn hub_findings(&self) -> Vec<HubFinding> {
        let Some(origin) = &self.origin else { return Vec::new() };
        self.repositories.iter().flat_map(|report| governance_findings(origin, report)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::ControlId;
    use crate::report::ControlReport;

    fn origin() -> Origin {
        Origin { account: "123456789012".into(), region: "us-east-1".into() }
    }

    fn report(statuses: &[(ControlId, Status)]) -> RepositoryReport {
        RepositoryReport {
            repository: "team/api".into(),
            outcome: Outcome::Governed,
            reason: None,
            exemption: None,
            vulnerabilities: None,
            controls: statuses
                .iter()
                .map(|(control, status)| ControlReport {
                    control: *control,
                    status: *status,
                    finding: Some(format!("{control} is off")),
                    remedy: (*status == Status::Violation).then(|| "recreate it".to_string()),
                    actions: vec![],
                    error: None,
                    lifecycle_impact: None,
                    security_hub_control: describe(*control).security_hub,
                    in_use: Vec::new(),
                })
                .collect(),
        }
    }

    /// Each image a review read has one finding: failing while it holds findings past their deadline, passing
    /// (and so closing an open one) once it doesn't; an image not read has none.
    #[test]
    fn each_reviewed_image_has_one_deadline_finding() {
        use crate::vulnerabilities::deadlines::{Overdue, OverdueImage, VulnerabilityReview};
        use crate::vulnerabilities::Date;
        let overdue = Overdue {
            id: "CVE-1".into(),
            severity: Severity::Critical,
            package: None,
            first_observed: "2026-01-01T00:00:00Z".into(),
            due: Date::parse("2026-01-16").expect("date"),
            days_overdue: 3,
        };
        let review = VulnerabilityReview {
            overdue: vec![OverdueImage { digest: "sha256:a".into(), tags: vec![], findings: vec![overdue] }],
            reviewed: vec!["sha256:a".into(), "sha256:b".into()],
            ..Default::default()
        };
        let reviewed = RepositoryReport { vulnerabilities: Some(review), ..report(&[]) };
        let found = deadline_findings(&origin(), &reviewed);
        let states: Vec<(&str, Compliance, &str)> =
            found.iter().map(|f| (f.resource_id.rsplit('@').next().unwrap_or(""), f.compliance, f.severity)).collect();
        assert_eq!(
            states,
            [("sha256:a", Compliance::Failed, "CRITICAL"), ("sha256:b", Compliance::Passed, "INFORMATIONAL")]
        );
        assert_ne!(found[0].id, found[1].id);
        assert_eq!(found[0].description, "CRITICAL CVE-1 due by 2026-01-16");
        assert_eq!(governance_findings(&origin(), &reviewed).len(), 2, "part of the repository's findings");
    }

    /// One answer for how much a control matters: the alert for a violation and its Security Hub finding agree
    /// (they disagreed for the repository policy: LOW in alerts, HIGH in Security Hub).
    #[test]
    fn a_violation_has_the_same_severity_in_its_alert_and_in_security_hub() {
        for control in ALL.iter().map(|c| c.id()) {
            let violated = report(&[(control, Status::Violation)]);
            let alert = crate::alert::standing_violations(&violated);
            let hub = governance_findings(&origin(), &violated);
            assert_eq!(alert.len(), 1, "{control}");
            assert_eq!(hub[0].severity, alert[0].severity.as_str(), "{control}");
        }
        let policy = report(&[(ControlId::RepositoryPolicy, Status::Violation)]);
        assert_eq!(crate::alert::standing_violations(&policy)[0].severity.as_str(), "HIGH");
    }

    #[test]
    fn each_judged_control_is_one_finding_with_a_stable_id() {
        let drifted = report(&[
            (ControlId::TagMutability, Status::Pending),
            (ControlId::Encryption, Status::Violation),
            (ControlId::Tags, Status::Compliant),
            (ControlId::Scanning, Status::Off),
            (ControlId::LifecyclePolicy, Status::Error),
        ]);
        let findings = governance_findings(&origin(), &drifted);
        let summary: Vec<(&str, Compliance, &str)> =
            findings.iter().map(|f| (f.generator_id.as_str(), f.compliance, f.severity)).collect();
        assert_eq!(
            summary,
            [
                ("ecr-warden/tag-mutability", Compliance::Failed, "MEDIUM"),
                ("ecr-warden/encryption", Compliance::Failed, "MEDIUM"),
                ("ecr-warden/tags", Compliance::Passed, "INFORMATIONAL"),
            ],
            "off and errored controls say nothing"
        );
        assert_eq!(findings[1].remediation.as_deref(), Some("recreate it"));
        assert_eq!(findings[0].related_requirements[0], "AWS Foundational Security Best Practices ECR.2");
        assert_eq!(findings[0].product_arn, "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default");
        assert_eq!(findings[0].resource_id, "arn:aws:ecr:us-east-1:123456789012:repository/team/api");

        // Fixed later: the same id, now passing.
        let fixed = report(&[(ControlId::TagMutability, Status::Fixed)]);
        let later = governance_findings(&origin(), &fixed);
        assert_eq!(later[0].id, findings[0].id);
        assert_eq!(later[0].compliance, Compliance::Passed);
        let other = Origin { region: "eu-west-1".into(), ..origin() };
        assert_ne!(governance_findings(&other, &fixed)[0].id, findings[0].id, "ids differ by region");
    }

    #[test]
    fn gone_and_exempt_repositories_pass_on_every_control() {
        let gone = RepositoryReport::without_controls("team/api", Outcome::Gone, "deleted");
        let findings = governance_findings(&origin(), &gone);
        assert_eq!(findings.len(), ALL.len());
        assert!(findings.iter().all(|f| f.compliance == Compliance::Passed));
        let error = RepositoryReport::without_controls("team/api", Outcome::Error, "throttled");
        assert!(governance_findings(&origin(), &error).is_empty());
    }

    #[test]
    fn long_texts_are_clipped_to_asff_limits() {
        let mut long = report(&[(ControlId::Tags, Status::Drift)]);
        long.controls[0].finding = Some("x".repeat(5000));
        let finding = &governance_findings(&origin(), &long)[0];
        assert_eq!(finding.description.chars().count(), MAX_DESCRIPTION);
        assert!(finding.description.ends_with("..."));
    }

    #[test]
    fn an_image_without_an_alert_passes_under_the_same_id() {
        let passing = vulnerability_finding(&origin(), "team/api", "sha256:ab", None);
        assert_eq!(passing.compliance, Compliance::Passed);
        assert_eq!(passing.resource_type, "AwsEcrContainerImage");
        assert!(passing.resource_id.ends_with("repository/team/api@sha256:ab"));
        let again = vulnerability_finding(&origin(), "team/api", "sha256:ab", None);
        assert_eq!(passing.id, again.id);
        assert_ne!(passing.id, vulnerability_finding(&origin(), "team/api", "sha256:cd", None).id);
        assert_eq!(asff_severity(Severity::Untriaged), "INFORMATIONAL");
    }
}
