//! Lifecycle policy texts: a structural check run before a baseline's policy is ever applied, and a
//! comparison that treats two policies as equal when they say the same thing.

use serde_json::Value;

/// ECR's limit on the length of a lifecycle policy text.
pub const MAX_POLICY_CHARS: usize = 30_720;

const TAG_STATUSES: &[&str] = &["tagged", "untagged", "any"];
const COUNT_TYPES: &[&str] = &["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned"];
const ACTION_TYPES: &[&str] = &["expire", "transition"];

/// Checks the structure ECR requires of a lifecycle policy and returns every problem found, each naming
/// the rule (by priority where it has one) and the field.
pub fn check(text: &str) -> Vec<String> {
    let mut problems = Vec::new();
    if text.chars().count() > MAX_POLICY_CHARS {
        problems.push(format!("the policy is longer than {MAX_POLICY_CHARS} characters"));
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return vec![format!("not valid JSON: {e}")],
    };
    let Some(rules) = value.get("rules").and_then(Value::as_array) else {
        problems.push("`rules` must be an array".to_string());
        return problems;
    };
    if rules.is_empty() {
        problems.push("`rules` must hold at least one rule".to_string());
    }
    let mut priorities = Vec::new();
    for (index, rule) in rules.iter().enumerate() {
        let priority = rule.get("rulePriority").and_then(Value::as_u64);
        let label = match priority {
            Some(p) => format!("rule {p}"),
            None => format!("rule #{}", index + 1),
        };
        match priority {
            Some(p) if p >= 1 => {
                if priorities.contains(&p) {
                    problems.push(format!("{label}: `rulePriority` {p} is used twice"));
                }
                priorities.push(p);
            }
            _ => problems.push(format!("{label}: `rulePriority` must be a whole number of at least 1")),
        }
        let selection = rule.get("selection");
        let field = |name: &str| selection.and_then(|s| s.get(name)).and_then(Value::as_str);
        if selection.is_none() {
            problems.push(format!("{label}: `selection` is missing"));
        }
        if !field("tagStatus").is_some_and(|s| TAG_STATUSES.contains(&s)) {
            problems.push(format!("{label}: `selection.tagStatus` must be one of {}", TAG_STATUSES.join(", ")));
        }
        if !field("countType").is_some_and(|s| COUNT_TYPES.contains(&s)) {
            problems.push(format!("{label}: `selection.countType` must be one of {}", COUNT_TYPES.join(", ")));
        }
        let count = selection.and_then(|s| s.get("countNumber")).and_then(Value::as_u64);
        if count.is_none_or(|n| n < 1) {
            problems.push(format!("{label}: `selection.countNumber` must be a whole number of at least 1"));
        }
        let action = rule.get("action").and_then(|a| a.get("type")).and_then(Value::as_str);
        if !action.is_some_and(|a| ACTION_TYPES.contains(&a)) {
            problems.push(format!("{label}: `action.type` must be one of {}", ACTION_TYPES.join(", ")));
        }
    }
    problems
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
mod tests {
    use super::*;

    const UNTAGGED_14_DAYS: &str = r#"{"rules":[{"rulePriority":1,"description":"expire untagged",
        "selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},
        "action":{"type":"expire"}}]}"#;

    #[test]
    fn a_valid_policy_has_no_problems() {
        assert_eq!(check(UNTAGGED_14_DAYS), Vec::<String>::new());
    }

    #[test]
    fn every_problem_is_reported_with_the_rule_and_field() {
        let text = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"sometimes","countType":"x","countNumber":0},"action":{"type":"delete"}},
                               {"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":3},"action":{"type":"expire"}}]}"#;
        let problems = check(text);
        assert!(problems.iter().any(|p| p.contains("rule 1: `selection.tagStatus`")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("`selection.countType`")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("`selection.countNumber`")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("`action.type`")), "{problems:?}");
        assert!(problems.iter().any(|p| p.contains("used twice")), "{problems:?}");
    }

    #[test]
    fn broken_json_and_missing_rules_are_problems() {
        assert!(check("{").iter().any(|p| p.starts_with("not valid JSON")));
        assert_eq!(check("{}"), vec!["`rules` must be an array"]);
        let long = format!(r#"{{"rules":[], "pad":"{}"}}"#, "x".repeat(MAX_POLICY_CHARS));
        assert!(check(&long).iter().any(|p| p.contains("longer than")));
    }

    #[test]
    fn policies_compare_as_json_not_as_text() {
        let reordered = r#"{"rules":[{"action":{"type":"expire"},"rulePriority":1,"description":"expire untagged",
            "selection":{"countNumber":14,"countUnit":"days","countType":"sinceImagePushed","tagStatus":"untagged"}}]}"#;
        assert!(same_policy(UNTAGGED_14_DAYS, reordered));
        assert!(!same_policy(UNTAGGED_14_DAYS, &UNTAGGED_14_DAYS.replace("14", "15")));
        assert!(!same_policy(UNTAGGED_14_DAYS, "not json"));
    }
}
