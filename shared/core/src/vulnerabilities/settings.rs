//! When scan findings become alerts: the baseline's `vulnerabilities` section, resolved for one repository.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Severity, Suppression};
use crate::mode::Mode;
use crate::section::{set, At, Problem, Section};

/// `vulnerabilities` keys: when scan findings become an alert.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilitiesOverride {
    /// Mode (`off`: no vulnerability alerts; `audit` and `enforce` both alert).
    pub mode: Option<Mode>,
    /// Most findings accepted per severity (alert when a count is over); merged key by key.
    pub threshold: Option<BTreeMap<Severity, u32>>,
    /// Least severe severity listed in an alert.
    pub list_min_severity: Option<Severity>,
    /// Most findings listed in an alert.
    pub max_listed: Option<usize>,
    /// Accepted vulnerability IDs, each with a reason and an expiry date.
    pub suppressions: Option<Vec<Suppression>>,
    /// Days a finding of each severity may stay unfixed, counted from its first observation (e.g. `CRITICAL = 15`);
    /// merged key by key.
    pub deadlines: Option<BTreeMap<Severity, u32>>,
}

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
    /// Days a finding of each severity may stay unfixed (none: no deadlines).
    pub deadlines: BTreeMap<Severity, u32>,
}

/// Most findings an alert can list (an SNS message stays readable on a phone).
pub const MAX_LISTED: usize = 50;

/// The longest deadline: ten years.
const MAX_DEADLINE_DAYS: u32 = 3650;

impl Section for VulnerabilitySettings {
    type Layer = VulnerabilitiesOverride;

    fn nothing() -> Self {
        Self {
            mode: Mode::Off,
            threshold: BTreeMap::new(),
            list_min_severity: Severity::High,
            max_listed: 10,
            suppressions: Vec::new(),
            deadlines: BTreeMap::new(),
        }
    }

    fn mode_mut(&mut self) -> &mut Mode {
        &mut self.mode
    }

    fn merge(&mut self, layer: &VulnerabilitiesOverride, _at: At<'_>) -> Vec<Problem> {
        set(&mut self.mode, &layer.mode);
        for (severity, limit) in layer.threshold.iter().flatten() {
            self.threshold.insert(*severity, *limit);
        }
        set(&mut self.list_min_severity, &layer.list_min_severity);
        set(&mut self.max_listed, &layer.max_listed);
        set(&mut self.suppressions, &layer.suppressions);
        for (severity, days) in layer.deadlines.iter().flatten() {
            self.deadlines.insert(*severity, *days);
        }
        Vec::new()
    }

    fn value_problems(&self, at: At<'_>) -> Vec<Problem> {
        let mut problems = Vec::new();
        if !(1..=MAX_LISTED).contains(&self.max_listed) {
            problems.push(at.problem("max_listed", format!("must be 1 to {MAX_LISTED}, not {}", self.max_listed)));
        }
        for (severity, days) in &self.deadlines {
            if !(1..=MAX_DEADLINE_DAYS).contains(days) {
                let key = format!("deadlines.{severity}");
                problems.push(at.problem(&key, format!("must be 1 to {MAX_DEADLINE_DAYS} days, not {days}")));
            }
        }
        for (index, s) in self.suppressions.iter().enumerate() {
            if s.id.trim().is_empty() {
                problems.push(at.problem(&format!("suppressions[{index}].id"), "must not be empty"));
            }
            if s.reason.trim().is_empty() {
                problems.push(
                    at.problem(&format!("suppressions[{index}].reason"), format!("say why `{}` is accepted", s.id)),
                );
            }
        }
        problems
    }
}
