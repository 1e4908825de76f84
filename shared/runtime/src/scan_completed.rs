//! A scan completed (or Inspector reported a finding): read every finding of the image (all pages), apply the
//! baseline's suppressions and threshold, and build the alert when the findings are over it.
//!
//! An `Inspector2 Finding` event carries one finding, created, updated or closed; Inspector sends one per
//! finding, hundreds for an image (ECR user guide, "EventBridge events sent for enhanced scanning"). The image's
//! state is never judged from it: its whole finding set is read (`DescribeImageScanFindings`), and without that
//! read nothing is assessed (no alert, nothing resolved in Security Hub; the event fails and is retried). Such
//! an event alerts only when its own finding is active and counts toward a severity over its threshold, so the
//! events of findings that don't change what is wrong don't alert again.
//!
//! Vulnerability alerts follow the repository's `vulnerabilities` settings only: exemptions stop
//! governance (changes), not information about what an image contains.

use serde::Serialize;
use tracing::warn;
use warden_core::alert::{Alert, ImageRef};
use warden_core::baseline::{Baseline, Mode, Problem};
use warden_core::registry::{Registry, RegistryError};
use warden_core::vulnerabilities::{assess, Assessment, Date};

use crate::event::{ScanResult, ScanSource};

/// What a scan result came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScanReport {
    /// The repository.
    pub repository: String,
    /// The image.
    pub image: ImageRef,
    /// What sent the result.
    pub source: ScanSource,
    /// The assessment, where one was made.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assessment: Option<Assessment>,
    /// Why there is no alert, when there is none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub no_alert: Option<String>,
    /// Why the image's findings couldn't be read, when a finding event can't be assessed without them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The alert to send.
    #[serde(skip)]
    pub alert: Option<Alert>,
    /// The alert describing the image's state, whether or not this event sends it (what Security Hub gets).
    #[serde(skip)]
    pub state: Option<Alert>,
}

/// Assesses one scan result on `today`.
pub async fn scan_completed(
    registry: &dyn Registry,
    baseline: &Baseline,
    scan: &ScanResult,
    today: Date,
) -> ScanReport {
    let image = ImageRef { digest: scan.digest.clone(), tags: scan.tags.clone() };
    let mut report = ScanReport {
        repository: scan.repository.clone(),
        image: image.clone(),
        source: scan.source,
        assessment: None,
        no_alert: None,
        error: None,
        alert: None,
        state: None,
    };
    let settings = match baseline.resolve(&scan.repository) {
        Ok(want) => want.vulnerabilities,
        Err(problems) => {
            report.no_alert = Some(format!("the baseline can't be resolved: {}", Problem::on_one_line(&problems)));
            return report;
        }
    };
    if settings.mode == Mode::Off {
        report.no_alert = Some("vulnerability alerts are off for this repository".to_string());
        return report;
    }
    let findings = match registry.scan_findings(&scan.repository, &scan.digest).await {
        Ok(findings) => findings,
        Err(RegistryError::NotFound(_)) => {
            report.no_alert = Some("the repository or the image no longer exists".to_string());
            return report;
        }
        Err(error) if scan.finding.is_some() => {
            warn!(repository = %scan.repository, digest = %scan.digest, %error, "can't read the image's findings");
            report.error = Some(format!("can't read the image's findings, so its state is unknown: {error}"));
            return report;
        }
        Err(error) => {
            // A whole scan's counts still tell whether to alert; the alert says suppressions weren't applied.
            warn!(repository = %scan.repository, digest = %scan.digest, %error, "can't read the findings");
            None
        }
    };
    if scan.finding.is_some() && findings.is_none() {
        report.no_alert = Some("the image has no completed scan to assess".to_string());
        return report;
    }
    let assessment = assess(&settings, findings.as_deref(), &scan.counts, today);
    report.state = Alert::vulnerability(&scan.origin, &scan.repository, image, &assessment);
    report.alert = report.state.clone();
    if report.alert.is_none() {
        report.no_alert = Some("the findings are within the threshold".to_string());
    } else if let Some((finding, active)) = &scan.finding {
        let counts = assessment.finding_set.contains(&format!("{} {}", finding.id, finding.severity))
            && assessment.exceeded.iter().any(|e| e.severity == finding.severity);
        if !(*active && counts) {
            report.alert = None;
            report.no_alert = Some(format!(
                "the image is over its threshold, but {} doesn't add to it: no new alert for this finding event",
                finding.id
            ));
        }
    }
    report.assessment = Some(assessment);
    report
}
