//! Vulnerability deadlines: a finding of a severity the baseline gives a deadline (`deadlines = { CRITICAL = 15 }`)
//! must be fixed within that many days of its first observation; past it, it is overdue. Suppressions in force
//! take a finding out, as they do from alerts.
//!
//! A repository's review reads what `DescribeImages` says of each image's scan (status, completion, counts per
//! severity) and then the findings of the images that may hold overdue ones: those whose counts name a severity
//! with a deadline, and those without counts (ECR's newer basic scanning leaves `imageScanFindingsSummary` out of
//! `DescribeImages`: ECR user guide, "Scan images for software vulnerabilities"), newest first, at most
//! [`MAX_REVIEWED_IMAGES`] a repository. An image whose scan status is `SCAN_ELIGIBILITY_EXPIRED` is no longer
//! rescanned by Amazon Inspector (ECR user guide, "Troubleshooting image scanning"): it is unmonitored.

use std::collections::BTreeMap;

use serde::Serialize;

use super::{Date, Finding, Severity, VulnerabilitySettings};
use crate::lifecycle::format_ms;
use crate::usage::days_since;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The most images of one repository whose findings a review reads.
pub const MAX_REVIEWED_IMAGES: usize = 100;

/// The scan status ECR gives an image Inspector no longer rescans.
pub const ELIGIBILITY_EXPIRED: &str = "SCAN_ELIGIBILITY_EXPIRED";

/// What `DescribeImages` says of one image's scan.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ImageScanState {
    /// The image.
    pub digest: String,
    /// Its tags.
    pub tags: Vec<String>,
    /// When it was pushed.
    pub pushed_at_ms: i64,
    /// `imageScanStatus.status`, if given.
    pub status: Option<String>,
    /// `imageScanFindingsSummary.imageScanCompletedAt`, if given.
    pub completed_ms: Option<i64>,
    /// `imageScanFindingsSummary.findingSeverityCounts`; `None` when there is no summary.
    pub counts: Option<BTreeMap<Severity, u32>>,
}

/// One image's last scan, read in full.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ImageScan {
    /// When it completed, if ECR says.
    pub completed_ms: Option<i64>,
    /// Its active findings.
    pub findings: Vec<Finding>,
}

/// A finding past its deadline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Overdue {
    /// The vulnerability ID.
    pub id: String,
    /// Its severity.
    pub severity: Severity,
    /// The affected package, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// When it was first observed (RFC 3339).
    pub first_observed: String,
    /// The last day it could be fixed in time.
    pub due: Date,
    /// Whole days since that day ended.
    pub days_overdue: i64,
}

/// An image with overdue findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverdueImage {
    /// The image.
    pub digest: String,
    /// Its tags.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Its overdue findings, most severe and longest overdue first.
    pub findings: Vec<Overdue>,
}

/// The findings among `findings` past their deadline under `settings` at `now_ms` (those without a first
/// observation can't be judged and are left out).
pub fn overdue(settings: &VulnerabilitySettings, findings: &[Finding], now_ms: i64) -> Vec<Overdue> {
    let today = Date::from_unix_seconds(now_ms.div_euclid(1000));
    let suppressed = |finding: &Finding| settings.suppressions.iter().any(|s| s.id == finding.id && today <= s.expires);
    let mut overdue: Vec<Overdue> = findings
        .iter()
        .filter(|finding| !suppressed(finding))
        .filter_map(|finding| {
            let days = *settings.deadlines.get(&finding.severity)?;
            let first = finding.first_observed_ms?;
            let due_ms = first + i64::from(days) * DAY_MS;
            (now_ms > due_ms).then(|| Overdue {
                id: finding.id.clone(),
                severity: finding.severity,
                package: finding.package.clone(),
                first_observed: format_ms(first),
                due: Date::from_unix_seconds(due_ms.div_euclid(1000)),
                days_overdue: days_since(due_ms, now_ms),
            })
        })
        .collect();
    overdue.sort_by(|a, b| {
        (a.severity, -a.days_overdue, &a.id, &a.package).cmp(&(b.severity, -b.days_overdue, &b.id, &b.package))
    });
    overdue.dedup_by(|a, b| a.id == b.id && a.package == b.package);
    overdue
}

/// The images whose findings a review reads under `settings`, newest first, at most [`MAX_REVIEWED_IMAGES`]; and
/// how many more it would have read.
pub fn to_review<'a>(
    settings: &VulnerabilitySettings,
    images: &'a [ImageScanState],
) -> (Vec<&'a ImageScanState>, usize) {
    let may_be_overdue = |image: &&ImageScanState| match &image.counts {
        Some(counts) => counts.iter().any(|(severity, n)| *n > 0 && settings.deadlines.contains_key(severity)),
        None => image.status.as_deref() != Some(ELIGIBILITY_EXPIRED),
    };
    let mut chosen: Vec<&ImageScanState> = images.iter().filter(may_be_overdue).collect();
    chosen.sort_by(|a, b| b.pushed_at_ms.cmp(&a.pushed_at_ms).then_with(|| a.digest.cmp(&b.digest)));
    let beyond = chosen.len().saturating_sub(MAX_REVIEWED_IMAGES);
    chosen.truncate(MAX_REVIEWED_IMAGES);
    (chosen, beyond)
}

/// A repository's vulnerability review, as the audit reports it.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct VulnerabilityReview {
    /// When the newest scan of any image completed (RFC 3339), if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_scan: Option<String>,
    /// Whole days since then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub newest_scan_days: Option<i64>,
    /// Images whose findings were read.
    pub images_reviewed: usize,
    /// Images that may hold overdue findings but weren't read (past [`MAX_REVIEWED_IMAGES`]).
    #[serde(skip_serializing_if = "is_zero")]
    pub images_not_reviewed: usize,
    /// Images with overdue findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub overdue: Vec<OverdueImage>,
    /// Images Inspector no longer rescans (`SCAN_ELIGIBILITY_EXPIRED`), by digest.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unmonitored: Vec<String>,
    /// Images whose findings couldn't be read, with why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<String>,
    /// The digests of the images whose findings were read (for Security Hub, which closes what no longer fails).
    #[serde(skip)]
    pub reviewed: Vec<String>,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl VulnerabilityReview {
    /// Starts a review of `images` at `now_ms`: the newest scan known from their summaries, and the unmonitored.
    pub fn of(images: &[ImageScanState], now_ms: i64) -> Self {
        let mut review = Self::default();
        for image in images {
            review.saw_scan(image.completed_ms, now_ms);
            if image.status.as_deref() == Some(ELIGIBILITY_EXPIRED) {
                review.unmonitored.push(image.digest.clone());
            }
        }
        review.unmonitored.sort();
        review
    }

    /// Adds one image's scan, read in full, judged under `settings` at `now_ms`.
    pub fn add(&mut self, image: &ImageScanState, scan: &ImageScan, settings: &VulnerabilitySettings, now_ms: i64) {
        self.images_reviewed += 1;
        self.reviewed.push(image.digest.clone());
        self.saw_scan(scan.completed_ms, now_ms);
        let findings = overdue(settings, &scan.findings, now_ms);
        if !findings.is_empty() {
            self.overdue.push(OverdueImage { digest: image.digest.clone(), tags: image.tags.clone(), findings });
            self.overdue.sort_by(|a, b| a.digest.cmp(&b.digest));
        }
    }

    /// Overdue findings in all.
    pub fn overdue_findings(&self) -> usize {
        self.overdue.iter().map(|image| image.findings.len()).sum()
    }

    fn saw_scan(&mut self, completed_ms: Option<i64>, now_ms: i64) {
        let Some(completed) = completed_ms else { return };
        let newest = self.newest_scan_ms().max(Some(completed));
        self.newest_scan = newest.map(format_ms);
        self.newest_scan_days = newest.map(|ms| days_since(ms, now_ms));
    }

    fn newest_scan_ms(&self) -> Option<i64> {
        let text = self.newest_scan.as_deref()?;
        chrono::DateTime::parse_from_rfc3339(text).ok().map(|t| t.timestamp_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Mode;
    use crate::vulnerabilities::Suppression;

    const NOW: i64 = 20_000 * DAY_MS + 12 * 60 * 60 * 1000;

    fn settings() -> VulnerabilitySettings {
        VulnerabilitySettings {
            mode: Mode::Audit,
            threshold: BTreeMap::new(),
            list_min_severity: Severity::High,
            max_listed: 10,
            suppressions: vec![Suppression {
                id: "CVE-S".into(),
                reason: "not reachable".into(),
                expires: Date::from_unix_seconds(NOW / 1000 + 86_400),
            }],
            deadlines: [(Severity::Critical, 15), (Severity::High, 30)].into(),
        }
    }

    fn found(id: &str, severity: Severity, days_ago: i64) -> Finding {
        Finding { first_observed_ms: Some(NOW - days_ago * DAY_MS), ..Finding::new(id, severity) }
    }

    #[test]
    fn a_finding_is_overdue_once_its_severitys_days_have_passed() {
        let findings = [
            found("CVE-1", Severity::Critical, 16),
            found("CVE-2", Severity::Critical, 15),
            found("CVE-3", Severity::High, 40),
            found("CVE-4", Severity::Medium, 400),
            found("CVE-S", Severity::Critical, 100),
            Finding::new("CVE-5", Severity::Critical),
        ];
        let overdue = overdue(&settings(), &findings, NOW);
        let ids: Vec<(&str, i64)> = overdue.iter().map(|o| (o.id.as_str(), o.days_overdue)).collect();
        assert_eq!(
            ids,
            [("CVE-1", 1), ("CVE-3", 10)],
            "exactly 15 days is on time; no deadline for MEDIUM; suppressed and unknown first observations left out"
        );
        assert_eq!(overdue[0].due, Date::from_unix_seconds((NOW - DAY_MS) / 1000));
    }

    #[test]
    fn the_review_reads_images_that_may_be_overdue_and_notes_the_unmonitored() {
        let image =
            |digest: &str, pushed: i64, counts: Option<&[(Severity, u32)]>, status: Option<&str>| ImageScanState {
                digest: digest.into(),
                pushed_at_ms: pushed,
                status: status.map(str::to_string),
                completed_ms: counts.map(|_| NOW - 3 * DAY_MS - pushed),
                counts: counts.map(|c| c.iter().copied().collect()),
                ..Default::default()
            };
        let images = [
            image("sha256:low", 1, Some(&[(Severity::Low, 4)]), Some("COMPLETE")),
            image("sha256:crit", 2, Some(&[(Severity::Critical, 1)]), Some("ACTIVE")),
            image("sha256:basic", 3, None, None),
            image("sha256:lapsed", 4, None, Some(ELIGIBILITY_EXPIRED)),
        ];
        let (chosen, beyond) = to_review(&settings(), &images);
        let digests: Vec<&str> = chosen.iter().map(|i| i.digest.as_str()).collect();
        assert_eq!((digests, beyond), (vec!["sha256:basic", "sha256:crit"], 0), "newest first");
        let mut review = VulnerabilityReview::of(&images, NOW);
        assert_eq!(review.unmonitored, ["sha256:lapsed"]);
        assert_eq!(review.newest_scan_days, Some(3));
        review.add(
            &images[1],
            &ImageScan { completed_ms: Some(NOW - DAY_MS), findings: vec![found("CVE-1", Severity::Critical, 20)] },
            &settings(),
            NOW,
        );
        assert_eq!((review.newest_scan_days, review.overdue_findings()), (Some(1), 1));
    }
}
