//! Whether a scan's findings call for an alert: suppressions first, then the threshold per severity.

use std::collections::BTreeMap;

use serde::Serialize;

use super::VulnerabilitySettings;
use super::{Date, Finding, Severity, Suppression};

/// A severity whose count is over its limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Exceeded {
    /// The severity.
    pub severity: Severity,
    /// How many findings of it count.
    pub count: u32,
    /// The most the baseline accepts.
    pub limit: u32,
}

/// A suppression that took findings out of the count.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Suppressed {
    /// The suppression.
    #[serde(flatten)]
    pub suppression: Suppression,
    /// How many findings it took out.
    pub findings: u32,
}

/// What the baseline makes of one image's findings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Assessment {
    /// Findings per severity that count (suppressed ones left out).
    pub counts: BTreeMap<Severity, u32>,
    /// Whether the counts come from the findings themselves (`true`) or only from the event's summary
    /// (`false`: suppressions couldn't be applied).
    pub from_findings: bool,
    /// Severities over their limit; empty: no alert.
    pub exceeded: Vec<Exceeded>,
    /// The findings worth listing: unsuppressed, at or above the listing severity, most severe and
    /// highest scored first, at most `max_listed`.
    pub listed: Vec<Finding>,
    /// Findings worth listing that didn't fit.
    pub not_listed: usize,
    /// Suppressions in force that matched.
    pub suppressed: Vec<Suppressed>,
    /// Suppressions that matched findings but have expired: those findings count again.
    pub expired: Vec<Suppression>,
    /// The findings that count, as `ID SEVERITY` lines, sorted and deduplicated: what identifies the
    /// finding set (empty when counted from the event).
    #[serde(skip)]
    pub finding_set: Vec<String>,
}

impl Assessment {
    /// Whether the findings call for an alert.
    pub fn alerts(&self) -> bool {
        !self.exceeded.is_empty()
    }

    /// The most severe severity over its limit.
    pub fn severity(&self) -> Option<Severity> {
        self.exceeded.iter().map(|e| e.severity).min()
    }
}

/// Assesses an image's `findings` (all of them, when known) or, failing that, the severity counts of the
/// scan event, against `settings` on `today`.
pub fn assess(
    settings: &VulnerabilitySettings,
    findings: Option<&[Finding]>,
    event_counts: &BTreeMap<Severity, u32>,
    today: Date,
) -> Assessment {
    let mut counts = BTreeMap::new();
    let mut suppressed: Vec<Suppressed> = Vec::new();
    let mut expired: Vec<Suppression> = Vec::new();
    let mut worth_listing = Vec::new();
    let mut finding_set = Vec::new();
    match findings {
        None => counts = event_counts.clone(),
        Some(findings) => {
            for finding in findings {
                match settings.suppressions.iter().find(|s| s.id == finding.id) {
                    Some(s) if today <= s.expires => {
                        match suppressed.iter_mut().find(|known| known.suppression.id == s.id) {
                            Some(known) => known.findings += 1,
                            None => suppressed.push(Suppressed { suppression: s.clone(), findings: 1 }),
                        }
                        continue;
                    }
                    Some(s) if !expired.contains(s) => expired.push(s.clone()),
                    _ => {}
                }
                *counts.entry(finding.severity).or_insert(0) += 1;
                finding_set.push(format!("{} {}", finding.id, finding.severity));
                if finding.severity <= settings.list_min_severity {
                    worth_listing.push(finding.clone());
                }
            }
        }
    }
    let exceeded = settings
        .threshold
        .iter()
        .filter_map(|(&severity, &limit)| {
            let count = counts.get(&severity).copied().unwrap_or(0);
            (count > limit).then_some(Exceeded { severity, count, limit })
        })
        .collect();
    worth_listing.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then_with(|| b.score.unwrap_or(0.0).total_cmp(&a.score.unwrap_or(0.0)))
            .then_with(|| a.id.cmp(&b.id))
            .then_with(|| a.package.cmp(&b.package))
    });
    finding_set.sort_unstable();
    finding_set.dedup();
    let not_listed = worth_listing.len().saturating_sub(settings.max_listed);
    worth_listing.truncate(settings.max_listed);
    Assessment {
        counts,
        from_findings: findings.is_some(),
        exceeded,
        listed: worth_listing,
        not_listed,
        suppressed,
        expired,
        finding_set,
    }
}
