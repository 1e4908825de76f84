//! When scan findings become alerts: the baseline's `vulnerabilities` section, resolved for one repository.

use std::collections::BTreeMap;

use super::{Severity, Suppression};
use crate::mode::Mode;

/// When scan findings become alerts.
#[derive(Debug, Clone, PartialEq)]
pub struct VulnerabilitySettings {
    /// Mode (`off`: no alerts).
    pub mode: Mode,
    /// Most findings accepted per severity.
    pub threshold: BTreeMap<Severity, u32>,
    /// Least severe severity listed in an alert.
    pub list_min_severity: Severity,
    /// Most findings listed in an alert.
    pub max_listed: usize,
    /// Accepted vulnerability IDs.
    pub suppressions: Vec<Suppression>,
}

/// Most findings an alert can list (an SNS message stays readable on a phone).
pub const MAX_LISTED: usize = 50;

impl VulnerabilitySettings {
    /// What is wrong with these values; `at` is the key path of the section (`defaults.vulnerabilities`).
    pub(crate) fn problems(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        if !(1..=MAX_LISTED).contains(&self.max_listed) {
            problems.push(format!("{at}.max_listed: must be 1 to {MAX_LISTED}, not {}", self.max_listed));
        }
        for (index, s) in self.suppressions.iter().enumerate() {
            if s.id.trim().is_empty() {
                problems.push(format!("{at}.suppressions[{index}].id: must not be empty"));
            }
            if s.reason.trim().is_empty() {
                problems.push(format!("{at}.suppressions[{index}].reason: say why `{}` is accepted", s.id));
            }
        }
        problems
    }
}
