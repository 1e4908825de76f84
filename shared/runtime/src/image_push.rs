//! An image was pushed: govern its repository (reads only when compliant), check the tag against the
//! baseline's tag rules, and make sure the image gets scanned. Nothing is deleted or retagged: a tag
//! that breaks the rules is a finding and an alert.

use serde::Serialize;
use tracing::{info, warn};
use warden_core::alert::{public_access_findings, GovernanceFinding, ImageRef};
use warden_core::baseline::{Baseline, Mode};
use warden_core::image_tags;
use warden_core::observed::{AutomaticScan, Observed, ScanType};
use warden_core::registry::{Registry, ScanStart};
use warden_core::report::RepositoryReport;
use warden_core::vulnerabilities::Severity;

use crate::event::ImagePush;
use crate::govern::{govern_observed, GovernOptions};

/// How the pushed image gets scanned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "scan", rename_all = "snake_case")]
pub enum ImageScan {
    /// The repository scans on push (or continuously): ECR scans it.
    Automatic {
        /// How.
        by: String,
    },
    /// Scanning was manual, so a basic scan was started.
    Started,
    /// A basic scan would be started (dry run).
    WouldStart,
    /// It had already been scanned today.
    AlreadyScanned,
    /// Not scanned, and why.
    NotScanned {
        /// Why.
        reason: String,
    },
}

/// What a push came to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PushReport {
    /// The image.
    pub image: ImageRef,
    /// The repository's governance report.
    pub governance: RepositoryReport,
    /// Tag rule violations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tag_findings: Vec<String>,
    /// How it gets scanned.
    pub scan: ImageScan,
    /// Findings worth a governance alert: public access found in the repository policy, tag violations.
    #[serde(skip)]
    pub alert_findings: Vec<GovernanceFinding>,
}

/// Handles one successful push.
pub async fn image_pushed(
    registry: &dyn Registry,
    baseline: &Baseline,
    push: &ImagePush,
    options: GovernOptions,
) -> PushReport {
    let image = ImageRef { digest: push.digest.clone(), tags: push.tag.iter().cloned().collect() };
    let governed = govern_observed(registry, baseline, &push.repository, options).await;
    // Standing violations (encryption) were alerted when the repository was created or changed; a push
    // alerts on what it brings (its tag) and on public access it found.
    let mut alert_findings = public_access_findings(&governed.report);
    let Some((want, before)) = governed.state else {
        let report = &governed.report;
        let reason =
            format!("the repository is {}: {}", report.outcome.as_str(), report.reason.as_deref().unwrap_or(""));
        return PushReport {
            image,
            governance: governed.report,
            tag_findings: Vec::new(),
            scan: ImageScan::NotScanned { reason },
            alert_findings,
        };
    };
    let tag_findings = image_tags::violations(&want.image_tags, push.tag.as_deref());
    alert_findings.extend(tag_findings.iter().map(|text| GovernanceFinding {
        control: "image-tags".to_string(),
        severity: Severity::Medium,
        text: text.clone(),
    }));
    let scan = if want.scanning.mode == Mode::Off {
        ImageScan::NotScanned { reason: "the scanning control is off".to_string() }
    } else {
        ensure_scanned(registry, &before, &push.digest, options.dry_run).await
    };
    info!(repository = %push.repository, digest = %push.digest, ?scan, tag_findings = tag_findings.len(), "push checked");
    PushReport { image, governance: governed.report, tag_findings, scan, alert_findings }
}

/// Starts a basic scan where the repository's scanning, as it was when the image arrived, is manual.
async fn ensure_scanned(registry: &dyn Registry, before: &Observed, digest: &str, dry_run: bool) -> ImageScan {
    let name = &before.facts.name;
    let Some(scanning) = &before.registry_scanning else {
        return ImageScan::NotScanned { reason: "the registry scanning configuration wasn't read".to_string() };
    };
    match before.automatic_scan() {
        Some(AutomaticScan::Rule { frequency, enhanced: true }) => {
            return ImageScan::Automatic { by: format!("enhanced scanning ({})", frequency.as_str()) }
        }
        Some(AutomaticScan::Rule { frequency, enhanced: false }) => {
            return ImageScan::Automatic { by: format!("a registry scanning rule ({})", frequency.as_str()) }
        }
        Some(AutomaticScan::RepositorySetting) => {
            return ImageScan::Automatic { by: "the repository's scan-on-push setting".to_string() }
        }
        None if scanning.scan_type == ScanType::Enhanced => {
            return ImageScan::NotScanned {
                reason: "enhanced scanning has no rule for this repository, and basic scans can't be started under it"
                    .to_string(),
            }
        }
        None => {}
    }
    if dry_run {
        return ImageScan::WouldStart;
    }
    match registry.start_image_scan(name, digest).await {
        Ok(ScanStart::Started) => ImageScan::Started,
        Ok(ScanStart::AlreadyScanned) => ImageScan::AlreadyScanned,
        Err(error) => {
            warn!(repository = %name, %digest, %error, "can't start a scan");
            ImageScan::NotScanned { reason: error.to_string() }
        }
    }
}
