//! Vulnerability findings from image scans, and what the baseline makes of them: a threshold per
//! severity, a minimum severity for listing, and suppressions that expire.
//!
//! Basic scans (`DescribeImageScanFindings`), enhanced scans (its `enhancedFindings`) and Inspector2
//! finding events all become the same [`Finding`]; [`assess`] decides whether they call for an alert.

mod assess;
mod date;
pub mod deadlines;
mod settings;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use assess::{assess, Assessment, Exceeded, Suppressed};
pub use date::Date;
pub use settings::{VulnerabilitiesOverride, VulnerabilitySettings, MAX_LISTED};

/// A finding's severity, most severe first (the derived order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Severity {
    /// `CRITICAL`.
    Critical,
    /// `HIGH`.
    High,
    /// `MEDIUM`.
    Medium,
    /// `LOW`.
    Low,
    /// `INFORMATIONAL`.
    Informational,
    /// `UNTRIAGED` (Inspector: not yet rated by the vendor).
    Untriaged,
    /// `UNDEFINED` (basic scans), or a severity this version doesn't know.
    Undefined,
}

impl Severity {
    /// Every severity, most severe first.
    pub const ALL: [Severity; 7] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Informational,
        Severity::Untriaged,
        Severity::Undefined,
    ];

    /// Reads a severity as ECR and Inspector write it (any case); unknown words are `Undefined`.
    pub fn parse(text: &str) -> Self {
        Self::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text.trim())).unwrap_or(Severity::Undefined)
    }

    /// The severity as ECR writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "CRITICAL",
            Severity::High => "HIGH",
            Severity::Medium => "MEDIUM",
            Severity::Low => "LOW",
            Severity::Informational => "INFORMATIONAL",
            Severity::Untriaged => "UNTRIAGED",
            Severity::Undefined => "UNDEFINED",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One vulnerability in one image.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    /// The vulnerability ID (e.g. `CVE-2019-17498`).
    pub id: String,
    /// Its severity.
    pub severity: Severity,
    /// CVSS or Inspector score, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// The affected package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The installed version of that package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The version that fixes it, where known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fixed_in: Option<String>,
    /// Where to read about it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// When it was first observed (milliseconds since the epoch): Inspector's `firstObservedAt`; for a basic
    /// scan, which gives findings no time, the scan's completion.
    #[serde(skip)]
    pub first_observed_ms: Option<i64>,
}

impl Finding {
    /// A finding with only an ID and a severity.
    pub fn new(id: impl Into<String>, severity: Severity) -> Self {
        let id = id.into();
        Self {
            id,
            severity,
            score: None,
            package: None,
            version: None,
            fixed_in: None,
            uri: None,
            first_observed_ms: None,
        }
    }

    /// One line for people: `CRITICAL CVE-1 openssl 1.0 (fixed in 1.1)`; the fix only where it is known
    /// (basic scans don't report one).
    pub fn line(&self) -> String {
        let mut line = format!("{} {}", self.severity, self.id);
        if let Some(package) = &self.package {
            line.push(' ');
            line.push_str(package);
            if let Some(version) = &self.version {
                line.push(' ');
                line.push_str(version);
            }
        }
        if let Some(fixed) = &self.fixed_in {
            line.push_str(&format!(" (fixed in {fixed})"));
        }
        line
    }
}

/// A vulnerability ID the team has accepted for a while, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Suppression {
    /// The vulnerability ID.
    pub id: String,
    /// Why it is accepted.
    pub reason: String,
    /// The last day it suppresses (inclusive).
    pub expires: Date,
}

#[cfg(test)]
mod tests;
