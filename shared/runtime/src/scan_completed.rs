//! A scan completed (or Inspector reported a finding): read every finding of the image (all pages; an
//! Inspector finding event carries its own), apply the baseline's suppressions and threshold, and build
//! the alert when the findings are over it.
//!
//! Vulnerability alerts follow the repository's `vulnerabilities` settings only: exemptions stop
//! governance (changes), not information about what an image contains.

use serde::Serialize;
use tracing::warn;
use warden_core::alert::{Alert, ImageRef};
use warden_core::baseline::{Baseline, Mode};
use warden_core::registry::{Registry, RegistryError};
use warden_core::vulnerabilities::{assess, Assessment, Date};

use crate::image_events::{ScanResult, ScanSource};

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
    /// The alert to send.
    #[serde(skip)]
    pub alert: Option<Alert>,
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
        alert: None,
    };
    let settings = match baseline.resolve(&scan.repository) {
        Ok(want) => want.vulnerabilities,
        Err(problems) => {
            report.no_alert = Some(format!("the baseline can't be resolved: {}", problems.join("; ")));
            return report;
        }
    };
    if settings.mode == Mode::Off {
        report.no_alert = Some("vulnerability alerts are off for this repository".to_string());
        return report;
    }
    let findings = match &scan.finding {
        Some(finding) => Some(vec![finding.clone()]),
        None => match registry.scan_findings(&scan.repository, &scan.digest).await {
            Ok(findings) => findings,
            Err(RegistryError::NotFound(_)) => {
                report.no_alert = Some("the repository no longer exists".to_string());
                return report;
            }
            Err(error) => {
                // The event's counts still tell whether to alert; the alert says suppressions weren't applied.
                warn!(repository = %scan.repository, digest = %scan.digest, %error, "can't read the findings");
                None
            }
        },
    };
    let assessment = assess(&settings, findings.as_deref(), &scan.counts, today);
    report.alert = Alert::vulnerability(&scan.origin, &scan.repository, image, &assessment);
    if report.alert.is_none() {
        report.no_alert = Some("the findings are within the threshold".to_string());
    }
    report.assessment = Some(assessment);
    report
}
