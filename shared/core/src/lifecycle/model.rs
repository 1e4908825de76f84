//! A validated lifecycle policy as types the preview evaluates.

use serde_json::Value;

use super::validate::{validate, Problem};

/// Which images a rule looks at, by tags.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TagSelection {
    /// Tagged images whose tags start with every listed prefix (each prefix matching at least one tag).
    Prefixes(Vec<String>),
    /// Tagged images whose tags match every listed wildcard pattern (each matching at least one tag).
    Patterns(Vec<String>),
    /// Images without tags.
    Untagged,
    /// Every image.
    Any,
}

/// Where an image is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageClass {
    /// The standard storage class.
    #[default]
    Standard,
    /// The archive storage class.
    Archive,
}

/// How a rule decides which of its images are acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// Keep the newest N, act on the rest.
    MoreThan(u64),
    /// Act on images pushed more than N days ago.
    SincePushedDays(u64),
    /// Act on images last pulled (or, never pulled, pushed) more than N days ago.
    SincePulledDays(u64),
    /// Act on images moved to archive more than N days ago.
    SinceTransitionedDays(u64),
}

/// What a rule does to the images it acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuleAction {
    /// Delete them.
    Expire,
    /// Move them to the archive storage class.
    Transition,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// `rulePriority`: lower runs first.
    pub priority: u64,
    /// Tag selection.
    pub tags: TagSelection,
    /// The storage class the rule selects from.
    pub storage_class: StorageClass,
    /// The count.
    pub count: Count,
    /// The action.
    pub action: RuleAction,
}

/// A valid lifecycle policy, its rules in priority order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecyclePolicy {
    /// Rules by ascending priority.
    pub rules: Vec<Rule>,
}

impl LifecyclePolicy {
    /// Validates and parses a policy text.
    pub fn parse(text: &str) -> Result<Self, Vec<Problem>> {
        let problems = validate(text);
        if !problems.is_empty() {
            return Err(problems);
        }
        // Validation has checked every field below; what it accepted, this reads.
        let value: Value = serde_json::from_str(text).unwrap_or_default();
        let mut rules: Vec<Rule> = value["rules"].as_array().into_iter().flatten().map(rule).collect();
        rules.sort_by_key(|r| r.priority);
        Ok(Self { rules })
    }
}

fn rule(value: &Value) -> Rule {
    let selection = &value["selection"];
    let list = |key: &str| -> Vec<String> {
        selection[key].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_string).collect()
    };
    let tags = match (selection["tagStatus"].as_str(), selection.get("tagPrefixList").is_some()) {
        (Some("tagged"), true) => TagSelection::Prefixes(list("tagPrefixList")),
        (Some("tagged"), false) => TagSelection::Patterns(list("tagPatternList")),
        (Some("untagged"), _) => TagSelection::Untagged,
        _ => TagSelection::Any,
    };
    let n = selection["countNumber"].as_u64().unwrap_or(1);
    let count = match selection["countType"].as_str() {
        Some("sinceImagePushed") => Count::SincePushedDays(n),
        Some("sinceImagePulled") => Count::SincePulledDays(n),
        Some("sinceImageTransitioned") => Count::SinceTransitionedDays(n),
        _ => Count::MoreThan(n),
    };
    Rule {
        priority: value["rulePriority"].as_u64().unwrap_or(0),
        tags,
        storage_class: match selection["storageClass"].as_str() {
            Some("archive") => StorageClass::Archive,
            _ => StorageClass::Standard,
        },
        count,
        action: match value["action"]["type"].as_str() {
            Some("transition") => RuleAction::Transition,
            _ => RuleAction::Expire,
        },
    }
}
