//! Every rule ECR enforces on a lifecycle policy, checked at once so that every problem is reported,
//! each naming the rule (by priority) and the field. Unknown fields are errors.

use std::collections::BTreeSet;
use std::fmt;

use serde_json::{Map, Value};

/// ECR's limit on the length of a lifecycle policy text.
pub const MAX_POLICY_CHARS: usize = 30_720;
/// ECR's limit on `*` wildcards in one tag pattern.
pub const MAX_PATTERN_WILDCARDS: usize = 4;

const RULE_KEYS: &[&str] = &["rulePriority", "description", "selection", "action"];
const SELECTION_KEYS: &[&str] =
    &["tagStatus", "tagPrefixList", "tagPatternList", "storageClass", "countType", "countUnit", "countNumber"];
const ACTION_KEYS: &[&str] = &["type", "targetStorageClass"];
const TAG_STATUSES: &[&str] = &["tagged", "untagged", "any"];
const COUNT_TYPES: &[&str] = &["imageCountMoreThan", "sinceImagePushed", "sinceImagePulled", "sinceImageTransitioned"];
const STORAGE_CLASSES: &[&str] = &["standard", "archive"];
const ACTION_TYPES: &[&str] = &["expire", "transition"];

/// One thing wrong with a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The rule it concerns: `rule 3` (by priority) or `rule #2` (by position, when the priority is unusable).
    pub rule: Option<String>,
    /// The field, e.g. `selection.countUnit`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.rule {
            Some(rule) => write!(f, "{rule}: `{}` {}", self.field, self.message),
            None => write!(f, "`{}` {}", self.field, self.message),
        }
    }
}

/// Checks a policy text against every rule ECR enforces; an empty list means valid.
pub fn validate(text: &str) -> Vec<Problem> {
    let mut problems = Problems::default();
    let length = text.chars().count();
    if length > MAX_POLICY_CHARS {
        problems.top("(policy)", format!("is {length} characters long; ECR allows {MAX_POLICY_CHARS}"));
    }
    let value: Value = match serde_json::from_str(text) {
        Ok(value) => value,
        Err(e) => {
            problems.top("(policy)", format!("is not valid JSON: {e}"));
            return problems.0;
        }
    };
    let Some(top) = value.as_object() else {
        problems.top("(policy)", "must be a JSON object".into());
        return problems.0;
    };
    for key in top.keys().filter(|k| *k != "rules") {
        problems.top(key, "is not a lifecycle policy field".into());
    }
    let rules = match top.get("rules") {
        Some(Value::Array(rules)) if !rules.is_empty() => rules,
        Some(Value::Array(_)) => {
            problems.top("rules", "must hold at least one rule".into());
            return problems.0;
        }
        Some(_) => {
            problems.top("rules", "must be an array of rules".into());
            return problems.0;
        }
        None => {
            problems.top("rules", "is missing".into());
            return problems.0;
        }
    };
    let checked: Vec<CheckedRule> =
        rules.iter().enumerate().map(|(index, rule)| check_rule(index, rule, &mut problems)).collect();
    check_across_rules(&checked, &mut problems);
    problems.0
}

#[derive(Default)]
struct Problems(Vec<Problem>);

impl Problems {
    fn top(&mut self, field: &str, message: String) {
        self.0.push(Problem { rule: None, field: field.to_string(), message });
    }
    fn rule(&mut self, rule: &str, field: &str, message: String) {
        self.0.push(Problem { rule: Some(rule.to_string()), field: field.to_string(), message });
    }
}

/// What the cross-rule checks need of one rule.
struct CheckedRule {
    label: String,
    priority: Option<u64>,
    tag_status: Option<String>,
    prefixes: Option<BTreeSet<String>>,
}

fn check_rule(index: usize, rule: &Value, problems: &mut Problems) -> CheckedRule {
    let priority = rule.get("rulePriority").and_then(Value::as_u64).filter(|p| *p >= 1);
    let label = match priority {
        Some(p) => format!("rule {p}"),
        None => format!("rule #{}", index + 1),
    };
    let mut checked = CheckedRule { label: label.clone(), priority, tag_status: None, prefixes: None };
    let Some(rule) = rule.as_object() else {
        problems.rule(&label, "(rule)", "must be an object".into());
        return checked;
    };
    unknown_keys(rule, RULE_KEYS, "", &label, problems);
    if priority.is_none() {
        problems.rule(&label, "rulePriority", "must be a whole number of at least 1".into());
    }
    if rule.get("description").is_some_and(|d| !d.is_string()) {
        problems.rule(&label, "description", "must be a string".into());
    }
    match rule.get("selection").and_then(Value::as_object) {
        Some(selection) => check_selection(selection, &label, &mut checked, problems),
        None => problems.rule(&label, "selection", "must be an object".into()),
    }
    match rule.get("action").and_then(Value::as_object) {
        Some(action) => check_action(action, &label, problems),
        None => problems.rule(&label, "action", "must be an object".into()),
    }
    checked
}

fn check_selection(selection: &Map<String, Value>, label: &str, checked: &mut CheckedRule, problems: &mut Problems) {
    unknown_keys(selection, SELECTION_KEYS, "selection.", label, problems);
    let tag_status = one_of(selection, "tagStatus", TAG_STATUSES, true, "selection.", label, problems);
    let count_type = one_of(selection, "countType", COUNT_TYPES, true, "selection.", label, problems);
    one_of(selection, "storageClass", STORAGE_CLASSES, false, "selection.", label, problems);
    let prefixes = string_list(selection, "tagPrefixList", label, problems);
    let patterns = string_list(selection, "tagPatternList", label, problems);
    match tag_status {
        Some("tagged") => match (&prefixes, &patterns) {
            (Some(_), Some(_)) => problems.rule(
                label,
                "selection.tagPatternList",
                "can't be combined with tagPrefixList: a tagged rule takes exactly one of them".into(),
            ),
            (None, None) => problems.rule(
                label,
                "selection.tagPrefixList",
                "or tagPatternList is required when tagStatus is tagged".into(),
            ),
            _ => {}
        },
        Some(status @ ("untagged" | "any")) => {
            for (field, list) in [("selection.tagPrefixList", &prefixes), ("selection.tagPatternList", &patterns)] {
                if list.is_some() {
                    problems.rule(label, field, format!("is only allowed when tagStatus is tagged, not {status}"));
                }
            }
        }
        _ => {}
    }
    for pattern in patterns.iter().flatten() {
        let stars = pattern.matches('*').count();
        if stars > MAX_PATTERN_WILDCARDS {
            problems.rule(
                label,
                "selection.tagPatternList",
                format!("`{pattern}` has {stars} wildcards; at most {MAX_PATTERN_WILDCARDS} are allowed"),
            );
        }
    }
    match (count_type, selection.get("countUnit")) {
        (Some(kind), None) if kind.starts_with("since") => {
            problems.rule(label, "selection.countUnit", format!("is required with {kind} (use \"days\")"))
        }
        (Some("imageCountMoreThan"), Some(_)) => {
            problems.rule(label, "selection.countUnit", "is only allowed with the since… count types".into())
        }
        (_, Some(unit)) if unit.as_str() != Some("days") => {
            problems.rule(label, "selection.countUnit", format!("must be \"days\", not {unit}"))
        }
        _ => {}
    }
    if selection.get("countNumber").and_then(Value::as_u64).is_none_or(|n| n < 1) {
        problems.rule(label, "selection.countNumber", "must be a whole number of at least 1".into());
    }
    checked.tag_status = tag_status.map(str::to_string);
    checked.prefixes = prefixes.map(|list| list.into_iter().collect());
}

fn check_action(action: &Map<String, Value>, label: &str, problems: &mut Problems) {
    unknown_keys(action, ACTION_KEYS, "action.", label, problems);
    let kind = one_of(action, "type", ACTION_TYPES, true, "action.", label, problems);
    let target = one_of(action, "targetStorageClass", &["archive"], false, "action.", label, problems);
    match (kind, action.contains_key("targetStorageClass")) {
        (Some("transition"), false) => {
            problems.rule(label, "action.targetStorageClass", "is required by transition (use \"archive\")".into())
        }
        (Some("expire"), true) if target.is_some() => {
            problems.rule(label, "action.targetStorageClass", "is only allowed with transition".into())
        }
        _ => {}
    }
}

fn check_across_rules(rules: &[CheckedRule], problems: &mut Problems) {
    let mut seen = BTreeSet::new();
    for rule in rules {
        if let Some(p) = rule.priority {
            if !seen.insert(p) {
                problems.rule(&rule.label, "rulePriority", format!("{p} is used by more than one rule"));
            }
        }
    }
    let highest = rules.iter().filter_map(|r| r.priority).max();
    for rule in rules.iter().filter(|r| r.tag_status.as_deref() == Some("any")) {
        let is_last = rule.priority.is_some() && rule.priority == highest;
        let shared = rules.iter().filter(|r| r.priority == rule.priority).count() > 1;
        if !is_last || shared {
            problems.rule(
                &rule.label,
                "selection.tagStatus",
                "any must be on the rule with the highest rulePriority (it is evaluated last)".into(),
            );
        }
    }
    let untagged: Vec<&CheckedRule> = rules.iter().filter(|r| r.tag_status.as_deref() == Some("untagged")).collect();
    for rule in untagged.iter().skip(1) {
        problems.rule(&rule.label, "selection.tagStatus", "untagged: only one rule may select untagged images".into());
    }
    for (index, rule) in rules.iter().enumerate() {
        let Some(prefixes) = &rule.prefixes else { continue };
        if let Some(first) = rules[..index].iter().find(|earlier| earlier.prefixes.as_ref() == Some(prefixes)) {
            problems.rule(
                &rule.label,
                "selection.tagPrefixList",
                format!("has the same prefixes as {}: prefix sets must be unique", first.label),
            );
        }
    }
}

fn unknown_keys(object: &Map<String, Value>, known: &[&str], path: &str, label: &str, problems: &mut Problems) {
    for key in object.keys().filter(|k| !known.contains(&k.as_str())) {
        problems.rule(label, &format!("{path}{key}"), "is not a known field".into());
    }
}

fn one_of<'a>(
    object: &'a Map<String, Value>,
    key: &str,
    allowed: &[&str],
    required: bool,
    path: &str,
    label: &str,
    problems: &mut Problems,
) -> Option<&'a str> {
    match object.get(key) {
        None if required => problems.rule(label, &format!("{path}{key}"), "is missing".into()),
        None => {}
        Some(Value::String(s)) if allowed.contains(&s.as_str()) => return Some(s),
        Some(other) => {
            problems.rule(label, &format!("{path}{key}"), format!("must be one of {}, not {other}", allowed.join(", ")))
        }
    }
    None
}

fn string_list(object: &Map<String, Value>, key: &str, label: &str, problems: &mut Problems) -> Option<Vec<String>> {
    let value = object.get(key)?;
    let field = format!("selection.{key}");
    let Some(items) = value.as_array() else {
        problems.rule(label, &field, "must be a list of strings".into());
        return None;
    };
    let strings: Vec<String> =
        items.iter().filter_map(Value::as_str).filter(|s| !s.is_empty()).map(str::to_string).collect();
    if items.is_empty() || strings.len() != items.len() {
        problems.rule(label, &field, "must be a non-empty list of non-empty strings".into());
    }
    Some(strings)
}
