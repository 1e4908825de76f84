//! Lifecycle policies: a validator that enforces every rule ECR does ([`validate`]), a typed model
//! ([`LifecyclePolicy`]), and an offline preview that reproduces ECR's evaluation ([`preview`]), plus the
//! JSON comparison the lifecycle-policy control uses.

mod entries;
mod images;
pub mod in_use;
mod model;
mod presets;
mod preview;
mod preview_json;
mod strictness;
mod validate;

use serde_json::Value;

pub use images::{format_ms, parse_describe_images, parse_rfc3339_ms, read_describe_images, Image, Timestamp};
pub use model::{Count, LifecyclePolicy, Rule, RuleAction, StorageClass, TagSelection};
pub use presets::{expand as expand_presets, Preset};
pub use preview::{
    preview, selects, Acted, Preview, PreviewAction, PreviewOutput, PreviewResult, PreviewSummary, RuleSummary,
};
pub use strictness::{compare as compare_strictness, merged as merged_policy, Comparison};
pub use validate::{validate, Problem, MAX_PATTERN_WILDCARDS, MAX_POLICY_CHARS};

/// Every problem with a policy text, as messages (empty when valid).
pub fn check(text: &str) -> Vec<String> {
    validate(text).iter().map(ToString::to_string).collect()
}

/// The policy in a canonical form for comparison: parsed JSON with rules sorted by priority.
pub fn canonical(text: &str) -> Option<Value> {
    let mut value: Value = serde_json::from_str(text).ok()?;
    if let Some(rules) = value.get_mut("rules").and_then(Value::as_array_mut) {
        rules.sort_by_key(|r| r.get("rulePriority").and_then(Value::as_u64));
    }
    Some(value)
}

/// Whether two policy texts say the same thing (compared as JSON, not as strings).
pub fn same_policy(a: &str, b: &str) -> bool {
    match (canonical(a), canonical(b)) {
        (Some(a), Some(b)) => a == b,
        _ => false,
    }
}

#[cfg(test)]
mod tests;
