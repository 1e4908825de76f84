//! Alerts: one model for every sink (SNS, an EventBridge bus, ...), built from a vulnerability
//! assessment or from governance findings.
//!
//! Each alert carries a deterministic id: a hash of the account, region, repository, image digest, kind
//! and finding set. A duplicate event, a retry or a second scan with the same findings yields the same
//! id, so a consumer can drop repeats.

use std::collections::BTreeMap;

use async_trait::async_trait;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::action::Action;
use crate::baseline::{ExemptionState, Exemptions};
use crate::report::{RepositoryReport, Status};
use crate::vulnerabilities::deadlines::OverdueImage;
use crate::vulnerabilities::{Assessment, Date, Finding, Severity};

pub use crate::origin::Origin;

/// Longest SNS subject: SNS wants fewer than 100 characters.
pub(crate) const MAX_SUBJECT: usize = 99;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Scan findings over the threshold.
    Vulnerability,
    /// Something the baseline forbids that ecr-warden can't (or may not) fix, or a weakening it removed.
    Governance,
}

impl AlertKind {
    /// The EventBridge `detail-type` of alerts of this kind.
    pub fn detail_type(self) -> &'static str {
        match self {
            AlertKind::Vulnerability => "ECR Vulnerability Alert",
            AlertKind::Governance => "ECR Governance Finding",
        }
    }

    /// The kind as written in message attributes.
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Vulnerability => "vulnerability",
            AlertKind::Governance => "governance",
        }
    }
}

/// The image an alert is about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImageRef {
    /// Its digest.
    pub digest: String,
    /// Its tags (empty: untagged).
    pub tags: Vec<String>,
}

/// One governance finding worth an alert.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct GovernanceFinding {
    /// The control or rule (`encryption`, `repository-policy`, `image-tags`, ...).
    pub control: String,
    /// How serious it is.
    pub severity: Severity,
    /// What was found (and done).
    pub text: String,
}

/// One alert, as every sink sends it. Its JSON form is the EventBridge `detail`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// Deterministic id (see the module documentation).
    pub id: String,
    /// What it is about.
    pub kind: AlertKind,
    /// The most severe thing in it.
    pub severity: Severity,
    /// Account ID.
    pub account: String,
    /// Region.
    pub region: String,
    /// Repository name.
    pub repository: String,
    /// Repository ARN.
    pub repository_arn: String,
    /// The image, for image alerts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageRef>,
    /// One line that says it all (the SNS subject, shortened if need be).
    pub title: String,
    /// Why this is an alert: severities over the threshold, or governance findings.
    pub problems: Vec<String>,
    /// The findings worth reading first (vulnerability alerts).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub findings: Vec<Finding>,
    /// Findings worth listing that didn't fit.
    #[serde(skip_serializing_if = "is_zero")]
    pub not_listed: usize,
    /// Findings per severity that count (vulnerability alerts).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub counts: BTreeMap<Severity, u32>,
    /// What else a reader should know (e.g. a suppression that expired).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Where to look in the AWS console.
    pub console_url: String,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Alert {
    /// The alert for an image's assessment, if the findings are over the threshold.
    pub fn vulnerability(origin: &Origin, repository: &str, image: ImageRef, assessment: &Assessment) -> Option<Self> {
        let severity = assessment.severity()?;
        let problems = assessment
            .exceeded
            .iter()
            .map(|e| format!("{} {} finding(s), more than the {} accepted", e.count, e.severity, e.limit))
            .collect();
        let mut notes: Vec<String> = assessment
            .expired
            .iter()
            .map(|s| {
                format!("The suppression of {} (\"{}\") expired on {}: it counts again.", s.id, s.reason, s.expires)
            })
            .collect();
        if !assessment.from_findings {
            notes.push("Counted from the scan event's summary: the findings couldn't be read, so suppressions were not applied.".to_string());
        }
        let mut identity = vec![format!("counts {}", severity_summary(&assessment.counts))];
        identity.extend(assessment.finding_set.iter().cloned());
        let counts = severity_summary(&assessment.counts);
        let title = format!("{severity} vulnerabilities in {}: {counts}", image_label(repository, &image));
        Some(Self {
            id: alert_id(origin, repository, Some(&image.digest), AlertKind::Vulnerability, &identity),
            kind: AlertKind::Vulnerability,
            severity,
            account: origin.account.clone(),
            region: origin.region.clone(),
            repository: repository.to_string(),
            repository_arn: origin.repository_arn(repository),
            console_url: console_url(origin, repository, Some(&image.digest)),
            image: Some(image),
            title,
            problems,
            findings: assessment.listed.clone(),
            not_listed: assessment.not_listed,
            counts: assessment.counts.clone(),
            notes,
        })
    }

    /// The alert for governance findings on a repository (and the image pushed, if any); `None` when
    /// there are none.
    pub fn governance(
        origin: &Origin,
        repository: &str,
        image: Option<ImageRef>,
        mut findings: Vec<GovernanceFinding>,
    ) -> Option<Self> {
        findings.sort();
        let severity = findings.iter().map(|f| f.severity).min()?;
        let identity: Vec<String> = findings.iter().map(|f| format!("{} {}", f.control, f.text)).collect();
        let subject = match &image {
            Some(image) => image_label(repository, image),
            None => repository.to_string(),
        };
        let what =
            if findings.len() == 1 { findings[0].control.clone() } else { format!("{} findings", findings.len()) };
        Some(Self {
            id: alert_id(
                origin,
                repository,
                image.as_ref().map(|i| i.digest.as_str()),
                AlertKind::Governance,
                &identity,
            ),
            kind: AlertKind::Governance,
            severity,
            account: origin.account.clone(),
            region: origin.region.clone(),
            repository: repository.to_string(),
            repository_arn: origin.repository_arn(repository),
            console_url: console_url(origin, repository, image.as_ref().map(|i| i.digest.as_str())),
            image,
            title: format!("{severity} governance finding in {subject}: {what}"),
            problems: findings.iter().map(|f| format!("{}: {}", f.control, f.text)).collect(),
            findings: Vec::new(),
            not_listed: 0,
            counts: BTreeMap::new(),
            notes: Vec::new(),
        })
    }

    /// The alert for one image's findings past their deadline, on `today`: its id names the image and the day, so
    /// the nightly audit alerts at most once per image a day, and a rerun that day repeats the same id.
    pub fn overdue(origin: &Origin, repository: &str, image: &OverdueImage, today: Date) -> Option<Self> {
        let severity = image.findings.iter().map(|f| f.severity).min()?;
        let image_ref = ImageRef { digest: image.digest.clone(), tags: image.tags.clone() };
        let subject = image_label(repository, &image_ref);
        let count = image.findings.len();
        let noun = if count == 1 { "finding" } else { "findings" };
        let problems = image
            .findings
            .iter()
            .map(|f| {
                let package = f.package.as_deref().map(|p| format!(" {p}")).unwrap_or_default();
                format!(
                    "{} {}{package}: first observed {}, due by {}, {} days overdue",
                    f.severity, f.id, f.first_observed, f.due, f.days_overdue
                )
            })
            .collect();
        Some(Self {
            id: alert_id(
                origin,
                repository,
                Some(&image.digest),
                AlertKind::Vulnerability,
                &[format!("overdue {today}")],
            ),
            kind: AlertKind::Vulnerability,
            severity,
            account: origin.account.clone(),
            region: origin.region.clone(),
            repository: repository.to_string(),
            repository_arn: origin.repository_arn(repository),
            console_url: console_url(origin, repository, Some(&image.digest)),
            image: Some(image_ref),
            title: format!("{severity}: {count} {noun} past their deadline in {subject}"),
            problems,
            findings: Vec::new(),
            not_listed: 0,
            counts: BTreeMap::new(),
            notes: Vec::new(),
        })
    }

    /// The SNS subject: `ecr-warden: ` and the title, printable ASCII, fewer than 100 characters.
    pub fn subject(&self) -> String {
        let ascii: String = format!("ecr-warden: {}", self.title)
            .chars()
            .map(|c| if c.is_ascii_graphic() || c == ' ' { c } else { '?' })
            .collect();
        if ascii.len() <= MAX_SUBJECT {
            ascii
        } else {
            format!("{}...", &ascii[..MAX_SUBJECT - 3])
        }
    }

    /// A plain-text body a person can read on a phone.
    pub fn body(&self) -> String {
        let mut body = format!("{}\n\nRepository: {}\n", self.title, self.repository);
        if let Some(image) = &self.image {
            let tags = if image.tags.is_empty() { "untagged".to_string() } else { image.tags.join(", ") };
            body.push_str(&format!("Image: {} ({tags})\n", image.digest));
        }
        body.push_str(&format!("Account {}, {}\n\n", self.account, self.region));
        let heading = match self.kind {
            AlertKind::Vulnerability => "Over the threshold:",
            AlertKind::Governance => "Findings:",
        };
        body.push_str(heading);
        body.push('\n');
        for problem in &self.problems {
            body.push_str(&format!("- {problem}\n"));
        }
        if !self.findings.is_empty() {
            body.push_str("\nTop findings:\n");
            for finding in &self.findings {
                body.push_str(&format!("- {}\n", finding.line()));
                if let Some(uri) = &finding.uri {
                    body.push_str(&format!("  {uri}\n"));
                }
            }
            if self.not_listed > 0 {
                body.push_str(&format!("...and {} more.\n", self.not_listed));
            }
        }
        if !self.notes.is_empty() {
            body.push_str("\nNotes:\n");
            for note in &self.notes {
                body.push_str(&format!("- {note}\n"));
            }
        }
        body.push_str(&format!("\nOpen in the console: {}\nAlert id: {}\n", self.console_url, self.id));
        body
    }

    /// Message attributes subscribers can filter on.
    pub fn attributes(&self) -> [(&'static str, String); 3] {
        [
            ("severity", self.severity.as_str().to_string()),
            ("repository", self.repository.clone()),
            ("kind", self.kind.as_str().to_string()),
        ]
    }
}

/// The governance findings in a repository's report that deserve an alert: violations ecr-warden can't
/// fix (e.g. encryption), and public statements removed from (or, in audit mode, found in) its policy.
pub fn governance_findings(report: &RepositoryReport) -> Vec<GovernanceFinding> {
    let mut found = standing_violations(report);
    found.extend(public_access_findings(report));
    found
}

/// What an audit alerts on for one repository, on `today`: each image with vulnerabilities past their deadline
/// (one alert per image a day), and a lifecycle policy that would expire images in use (its id stays the same while
/// the same images are endangered, so a subscriber drops the nightly repeats).
pub fn audit_alerts(origin: &Origin, report: &RepositoryReport, today: Date) -> Vec<Alert> {
    let overdue = report.vulnerabilities.iter().flat_map(|review| review.overdue.iter());
    let mut alerts: Vec<Alert> =
        overdue.filter_map(|image| Alert::overdue(origin, &report.repository, image, today)).collect();
    let endangering = report.controls.iter().filter(|c| !c.in_use.is_empty());
    let findings = endangering
        .map(|control| GovernanceFinding {
            control: control.control.to_string(),
            severity: Severity::High,
            text: control.finding.clone().unwrap_or_else(|| "would expire images in use".to_string()),
        })
        .collect();
    alerts.extend(Alert::governance(origin, &report.repository, None, findings));
    alerts
}

/// The finding when a call set the exempt tag (`tags_set`) on the repository `report` is about, naming the caller
/// (`by`): a person taking an exemption by hand is told to the alert's readers, most loudly when the baseline
/// doesn't list it.
pub fn exempt_tag_set(
    exemptions: &Exemptions,
    report: &RepositoryReport,
    tags_set: &[(String, String)],
    by: Option<&str>,
) -> Option<GovernanceFinding> {
    let exempt_tag = (exemptions.tag_key.clone(), exemptions.tag_value.clone());
    if !tags_set.contains(&exempt_tag) {
        return None;
    }
    let (severity, standing) = match report.exemption.as_ref().map(|note| note.state) {
        Some(ExemptionState::Unlisted) => (Severity::Medium, "exempt now, and not listed in the baseline's exemptions"),
        Some(ExemptionState::Listed) => (Severity::Low, "already listed in the baseline's exemptions"),
        Some(ExemptionState::Expired) | None => (Severity::Low, "the tag doesn't exempt it (its exemption expired)"),
    };
    let (key, value) = exempt_tag;
    let by = by.unwrap_or("a caller the event doesn't name");
    Some(GovernanceFinding {
        control: "exemption".into(),
        severity,
        text: format!("tagged {key}={value} by {by}: {standing}"),
    })
}

/// Violations ecr-warden can't fix (e.g. encryption, fixed when a repository is created).
pub fn standing_violations(report: &RepositoryReport) -> Vec<GovernanceFinding> {
    let violations = report.controls.iter().filter(|c| c.status == Status::Violation);
    violations
        .map(|control| {
            let text = control.finding.clone().unwrap_or_else(|| "violates the baseline".to_string());
            GovernanceFinding { control: control.control.to_string(), severity: control.control.severity(), text }
        })
        .collect()
}

/// Statements granting public access that were removed from the repository policy (or, in audit mode
/// or a dry run, found in it).
pub fn public_access_findings(report: &RepositoryReport) -> Vec<GovernanceFinding> {
    let mut found = Vec::new();
    for control in &report.controls {
        for action in &control.actions {
            let public: Vec<&serde_json::Value> = match action {
                Action::SetRepositoryPolicy { removed, narrowed, .. } => {
                    removed.iter().chain(narrowed.iter().map(|n| &n.before)).collect()
                }
                Action::DeleteRepositoryPolicy { removed } => removed.iter().collect(),
                _ => continue,
            };
            if public.is_empty() {
                continue;
            }
            let sids: Vec<String> = public
                .iter()
                .map(|s| s.get("Sid").and_then(|v| v.as_str()).unwrap_or("(no Sid)").to_string())
                .collect();
            let done = match control.status {
                Status::Fixed => "removed",
                Status::Error => "found (removing them failed)",
                Status::Pending => "found (would be removed)",
                _ => "found (audit mode: left in place)",
            };
            found.push(GovernanceFinding {
                control: control.control.to_string(),
                severity: Severity::High,
                text: format!("statements granting public access {done}: {}", sids.join(", ")),
            });
        }
    }
    found
}

/// `CRITICAL 10, MEDIUM 9`.
fn severity_summary(counts: &BTreeMap<Severity, u32>) -> String {
    let parts: Vec<String> = counts.iter().filter(|(_, &n)| n > 0).map(|(s, n)| format!("{s} {n}")).collect();
    if parts.is_empty() {
        "no findings".to_string()
    } else {
        parts.join(", ")
    }
}

/// `repo:tag`, or `repo@sha256:0123456789ab` for untagged images.
fn image_label(repository: &str, image: &ImageRef) -> String {
    match image.tags.first() {
        Some(tag) => format!("{repository}:{tag}"),
        None => {
            let short: String = image.digest.chars().take("sha256:".len() + 12).collect();
            format!("{repository}@{short}")
        }
    }
}

/// The repository (or, with a digest, the image) in the ECR console.
pub(crate) fn console_url(origin: &Origin, repository: &str, digest: Option<&str>) -> String {
    let Origin { account, region } = origin;
    let base = format!("https://{region}.console.aws.amazon.com/ecr/repositories/private/{account}/{repository}");
    match digest {
        Some(digest) => format!("{base}/_/image/{digest}/details?region={region}"),
        None => format!("{base}?region={region}"),
    }
}

/// The id of a Security Hub finding about one thing that fails and later passes (`subject`: a control's
/// name, or `vulnerabilities` for an image): the same hash as alert ids, over what stays the same while
/// the finding lives, so every run names the same finding.
pub fn finding_id(origin: &Origin, repository: &str, digest: Option<&str>, kind: AlertKind, subject: &str) -> String {
    alert_id(origin, repository, digest, kind, &[format!("finding {subject}")])
}

/// The first 32 hex digits of SHA-256 over the alert's identity, one field a line.
fn alert_id(origin: &Origin, repository: &str, digest: Option<&str>, kind: AlertKind, identity: &[String]) -> String {
    let mut hasher = Sha256::new();
    for field in [origin.account.as_str(), &origin.region, repository, digest.unwrap_or("-"), kind.as_str()] {
        hasher.update(field.as_bytes());
        hasher.update(b"\n");
    }
    for line in identity {
        hasher.update(line.as_bytes());
        hasher.update(b"\n");
    }
    hasher.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// Somewhere alerts go.
#[async_trait]
pub trait AlertSink: Send + Sync {
    /// A name for reports and logs (e.g. `sns:arn:aws:sns:...`).
    fn name(&self) -> String;
    /// Sends one alert; the error says why it didn't go.
    async fn send(&self, alert: &Alert) -> Result<(), crate::sink::SinkError>;
}

#[cfg(test)]
mod tests;
