//! Image scans through ECR: starting a basic scan, and reading every finding of the last scan (basic
//! `findings` and enhanced `enhancedFindings`) as the core's `Finding`.

use aws_sdk_ecr::types::{EnhancedImageScanFinding, ImageIdentifier, ImageScanFinding};
use aws_sdk_ecr::Client;
use warden_core::registry::{RegistryError, ScanStart};
use warden_core::vulnerabilities::deadlines::ImageScan;
use warden_core::vulnerabilities::{Finding, Severity};

use crate::ecr::millis;
use crate::errors::registry_error;

/// `DescribeImageScanFindings` page size (ECR's maximum).
const PAGE_SIZE: i32 = 1000;

/// `StartImageScan` of one image; "already scanned today" is not an error.
pub(crate) async fn start_image_scan(client: &Client, name: &str, digest: &str) -> Result<ScanStart, RegistryError> {
    let image = ImageIdentifier::builder().image_digest(digest).build();
    match client.start_image_scan().repository_name(name).image_id(image).send().await {
        Ok(_) => Ok(ScanStart::Started),
        Err(e) if e.as_service_error().is_some_and(|s| s.is_limit_exceeded_exception()) => {
            Ok(ScanStart::AlreadyScanned)
        }
        Err(e) => Err(registry_error("StartImageScan", name, e)),
    }
}

/// The image's last completed scan: every active finding, all pages, and when it completed; `None` when it has no
/// scan. A basic finding carries no time of its own: it is taken as first observed when the scan completed.
pub(crate) async fn image_scan(client: &Client, name: &str, digest: &str) -> Result<Option<ImageScan>, RegistryError> {
    let image = ImageIdentifier::builder().image_digest(digest).build();
    let mut pages = client
        .describe_image_scan_findings()
        .repository_name(name)
        .image_id(image)
        .max_results(PAGE_SIZE)
        .into_paginator()
        .send();
    let mut scan = ImageScan::default();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_scan_not_found_exception()) => return Ok(None),
            // The image was deleted since the event: nothing left to judge.
            Err(e) if e.as_service_error().is_some_and(|s| s.is_image_not_found_exception()) => {
                return Err(RegistryError::NotFound(format!("{name}@{digest}")))
            }
            Err(e) => return Err(registry_error("DescribeImageScanFindings", name, e)),
        };
        if let Some(found) = page.image_scan_findings() {
            scan.completed_ms = scan.completed_ms.or(millis(found.image_scan_completed_at()));
            let completed = scan.completed_ms;
            scan.findings.extend(found.findings().iter().map(|f| basic_finding(f, completed)));
            // Closed and suppressed findings no longer count (API reference, `EnhancedImageScanFinding.status`).
            let active = |f: &&EnhancedImageScanFinding| f.status().is_none_or(|s| s == "ACTIVE");
            scan.findings.extend(found.enhanced_findings().iter().filter(active).map(enhanced_finding));
        }
    }
    Ok(Some(scan))
}

/// A basic-scan finding: package, version and score are attributes.
fn basic_finding(finding: &ImageScanFinding, scan_completed_ms: Option<i64>) -> Finding {
    let attribute =
        |key: &str| finding.attributes().iter().find(|a| a.key() == key).and_then(|a| a.value()).map(str::to_string);
    let score = attribute("CVSS3_SCORE").or_else(|| attribute("CVSS2_SCORE")).and_then(|s| s.parse().ok());
    Finding {
        id: finding.name().unwrap_or("(unnamed)").to_string(),
        severity: finding.severity().map_or(Severity::Undefined, |s| Severity::parse(s.as_str())),
        score,
        package: attribute("package_name"),
        version: attribute("package_version"),
        fixed_in: None,
        uri: finding.uri().map(str::to_string),
        first_observed_ms: scan_completed_ms,
    }
}

/// An enhanced-scan (Inspector) finding: the first vulnerable package is the one listed.
fn enhanced_finding(finding: &EnhancedImageScanFinding) -> Finding {
    let details = finding.package_vulnerability_details();
    let package = details.and_then(|d| d.vulnerable_packages().first());
    Finding {
        id: details.and_then(|d| d.vulnerability_id()).or_else(|| finding.title()).unwrap_or("(unnamed)").to_string(),
        severity: finding.severity().map_or(Severity::Undefined, Severity::parse),
        score: Some(finding.score()).filter(|s| *s > 0.0),
        package: package.and_then(|p| p.name()).map(str::to_string),
        version: package.and_then(|p| p.version()).map(str::to_string),
        fixed_in: package
            .and_then(|p| p.fixed_in_version())
            .filter(|v| !v.is_empty() && *v != "NotAvailable")
            .map(str::to_string),
        uri: details.and_then(|d| d.source_url()).map(str::to_string),
        first_observed_ms: millis(finding.first_observed_at()),
    }
}
