//! The shape IAM accepts for a repository policy statement, checked on a baseline's required statements so
//! that `baseline validate` refuses what ECR would reject when `apply` sends it.
//!
//! IAM User Guide, "IAM JSON policy element reference" and "Grammar of the IAM JSON policy language": a
//! statement has `Effect` (`Allow` or `Deny`), a principal (`Principal` or `NotPrincipal`, required in a
//! resource-based policy), an action (`Action` or `NotAction`), optional `Sid`, `Resource`/`NotResource` and
//! `Condition`, and nothing else; a principal is `"*"` or a map of `AWS`, `Service`, `Federated` or
//! `CanonicalUser` to one value or a list of them; an action is `"*"` or `service:Action` with wildcards.

use serde_json::Value;

use crate::arn::{is_account_id, Arn};

const KEYS: &[&str] =
    &["Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition"];
const PRINCIPAL_KINDS: &[&str] = &["AWS", "Service", "Federated", "CanonicalUser"];

/// Everything wrong with the shape of `statement`, one line each; empty when IAM would accept it.
pub fn problems(statement: &Value) -> Vec<String> {
    let Value::Object(map) = statement else { return vec!["a statement must be an object".to_string()] };
    let mut problems = Vec::new();
    for key in map.keys().filter(|k| !KEYS.contains(&k.as_str())) {
        problems.push(format!("`{key}` is not a statement element (allowed: {})", KEYS.join(", ")));
    }
    match map.get("Sid") {
        Some(Value::String(sid)) if !sid.is_empty() => {}
        Some(_) => problems.push("`Sid` must be a non-empty string".to_string()),
        None => {}
    }
    match map.get("Effect").and_then(Value::as_str) {
        Some("Allow" | "Deny") => {}
        _ => problems.push("`Effect` must be \"Allow\" or \"Deny\"".to_string()),
    }
    match (map.get("Principal"), map.get("NotPrincipal")) {
        (Some(principal), None) | (None, Some(principal)) => problems.extend(principal_problems(principal)),
        (None, None) => problems.push("a repository policy statement needs `Principal` or `NotPrincipal`".into()),
        (Some(_), Some(_)) => problems.push("give `Principal` or `NotPrincipal`, not both".into()),
    }
    match (map.get("Action"), map.get("NotAction")) {
        (Some(actions), None) | (None, Some(actions)) => problems.extend(action_problems(actions)),
        (None, None) => problems.push("a statement needs `Action` or `NotAction`".into()),
        (Some(_), Some(_)) => problems.push("give `Action` or `NotAction`, not both".into()),
    }
    for key in ["Resource", "NotResource"] {
        if let Some(value) = map.get(key) {
            if strings(value).is_none() {
                problems.push(format!("`{key}` must be a string or a non-empty list of strings"));
            }
        }
    }
    if map.contains_key("Resource") && map.contains_key("NotResource") {
        problems.push("give `Resource` or `NotResource`, not both".into());
    }
    if let Some(condition) = map.get("Condition") {
        problems.extend(condition_problems(condition));
    }
    problems
}

/// The strings of a string or a non-empty list of strings.
fn strings(value: &Value) -> Option<Vec<&str>> {
    match value {
        Value::String(s) => Some(vec![s.as_str()]),
        Value::Array(items) if !items.is_empty() => items.iter().map(Value::as_str).collect(),
        _ => None,
    }
}

fn principal_problems(principal: &Value) -> Vec<String> {
    let map = match principal {
        Value::String(s) if s == "*" => return Vec::new(),
        Value::Object(map) if !map.is_empty() => map,
        _ => {
            return vec![
                "a principal must be \"*\" or an object such as {\"AWS\": \"arn:aws:iam::111122223333:root\"}".into()
            ]
        }
    };
    let mut problems = Vec::new();
    for (kind, value) in map {
        if !PRINCIPAL_KINDS.contains(&kind.as_str()) {
            problems.push(format!("`{kind}` is not a principal type (allowed: {})", PRINCIPAL_KINDS.join(", ")));
            continue;
        }
        let Some(values) = strings(value) else {
            problems.push(format!("principal `{kind}` must be a string or a non-empty list of strings"));
            continue;
        };
        for value in values {
            let fits = match kind.as_str() {
                "AWS" => is_aws_principal(value),
                "Service" => value.ends_with(".amazonaws.com") || value.ends_with(".amazonaws.com.cn"),
                _ => !value.is_empty(),
            };
            if !fits {
                problems.push(format!("`{value}` is not a valid {kind} principal"));
            }
        }
    }
    problems
}

/// `"*"`, an account ID, or an IAM or STS ARN (`arn:PARTITION:iam::ACCOUNT:root|user/..|role/..`).
fn is_aws_principal(value: &str) -> bool {
    if value == "*" || is_account_id(value) {
        return true;
    }
    Arn::parse(value).is_some_and(|arn| {
        !arn.partition.is_empty()
            && matches!(arn.service, "iam" | "sts")
            && arn.region.is_empty()
            && is_account_id(arn.account)
            && !arn.resource.is_empty()
            && !arn.resource.contains('*')
    })
}

fn action_problems(actions: &Value) -> Vec<String> {
    let Some(actions) = strings(actions) else {
        return vec!["an action must be a string or a non-empty list of strings".into()];
    };
    actions
        .into_iter()
        .filter(|action| !is_action(action))
        .map(|action| format!("`{action}` is not an action (\"*\" or service:Action, e.g. ecr:BatchGetImage)"))
        .collect()
}

fn is_action(action: &str) -> bool {
    if action == "*" {
        return true;
    }
    let Some((service, name)) = action.split_once(':') else { return false };
    !service.is_empty()
        && service.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'*' || b == b'?')
}

fn condition_problems(condition: &Value) -> Vec<String> {
    let Value::Object(blocks) = condition else { return vec!["`Condition` must be an object".into()] };
    let mut problems = Vec::new();
    for (operator, keys) in blocks {
        let Value::Object(keys) = keys else {
            problems.push(format!("condition `{operator}` must map condition keys to values"));
            continue;
        };
        if keys.is_empty() {
            problems.push(format!("condition `{operator}` names no condition key"));
        }
        for (key, values) in keys {
            let scalar = |v: &Value| matches!(v, Value::String(_) | Value::Bool(_) | Value::Number(_));
            let fits = match values {
                Value::Array(items) => !items.is_empty() && items.iter().all(scalar),
                single => scalar(single),
            };
            if !fits {
                problems.push(format!("condition `{operator}` `{key}`: a value or a non-empty list of values"));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn statements_iam_accepts_have_no_problems() {
        for statement in [
            json!({"Sid": "Pull", "Effect": "Allow", "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:role/ci"]},
                   "Action": ["ecr:BatchGetImage", "ecr:Get*"]}),
            json!({"Sid": "DenyDelete", "Effect": "Deny", "Principal": "*", "NotAction": "ecr:Describe*",
                   "Condition": {"Bool": {"aws:SecureTransport": false}}}),
            json!({"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "*",
                   "Condition": {"StringLike": {"aws:sourceArn": "arn:aws:lambda:us-east-1:111122223333:function:*"}}}),
        ] {
            assert_eq!(problems(&statement), Vec::<String>::new(), "{statement}");
        }
    }

    #[test]
    fn what_iam_rejects_is_named() {
        let cases = [
            (json!({"Sid": "A", "Effect": "allow", "Principal": "*", "Action": "ecr:*"}), "`Effect`"),
            (json!({"Sid": "A", "Effect": "Allow", "Action": "ecr:*"}), "needs `Principal`"),
            (json!({"Sid": "A", "Effect": "Allow", "Principal": {"AWS": "alice"}, "Action": "ecr:*"}), "`alice`"),
            (json!({"Sid": "A", "Effect": "Allow", "Principal": {"User": "x"}, "Action": "ecr:*"}), "`User`"),
            (json!({"Sid": "A", "Effect": "Allow", "Principal": "everyone", "Action": "ecr:*"}), "a principal"),
            (json!({"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "BatchGetImage"}), "not an action"),
            (json!({"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": []}), "an action"),
            (json!({"Sid": "A", "Effect": "Allow", "Principal": "*"}), "needs `Action`"),
            (json!({"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Note": 1}), "`Note`"),
            (
                json!({"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "ecr:*", "Condition": []}),
                "`Condition`",
            ),
            (
                json!({"Sid": "A", "Effect": "Allow", "Principal": "*", "Action": "ecr:*",
                    "Condition": {"StringEquals": {"aws:PrincipalOrgID": {"x": 1}}}}),
                "aws:PrincipalOrgID",
            ),
            (json!({"Sid": "", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"}), "`Sid`"),
            (json!({"Sid": "A", "Effect": "Allow", "Principal": {"Service": "lambda"}, "Action": "ecr:*"}), "`lambda`"),
        ];
        for (statement, expected) in cases {
            let found = problems(&statement);
            assert!(found.iter().any(|p| p.contains(expected)), "{statement}: expected {expected:?} in {found:?}");
        }
    }
}
