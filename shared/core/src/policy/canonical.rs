//! Comparing statements by meaning, not by spelling.
//!
//! ECR stores a repository policy in its own form: an account ID principal comes back as
//! `arn:PARTITION:iam::ID:root`, a one-item list may come back as a string and the order of items may change
//! (ECR user guide, "Private repository policies"). Comparing texts would make every run rewrite a policy ECR
//! rewrote, so statements are compared in a canonical form: keys sorted, lists sorted without duplicates,
//! account principals written one way, action names and condition keys lowercased (IAM treats both as
//! case-insensitive).

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::arn::{is_account_id, Arn};

/// The canonical form of a statement.
fn canonical(statement: &Value) -> Value {
    let Value::Object(map) = statement else { return statement.clone() };
    let mut keys: Vec<&String> = map.keys().collect();
    keys.sort();
    let mut out = Map::new();
    for key in keys {
        let value = &map[key];
        let canonical = match key.as_str() {
            "Principal" | "NotPrincipal" => principals(value),
            "Action" | "NotAction" => list(value, |s| s.to_ascii_lowercase()),
            "Resource" | "NotResource" => list(value, str::to_string),
            "Condition" => condition(value),
            _ => sorted(value),
        };
        out.insert(key.clone(), canonical);
    }
    Value::Object(out)
}

/// Whether two statements mean the same.
pub fn same_statement(a: &Value, b: &Value) -> bool {
    canonical(a) == canonical(b)
}

/// A short fingerprint of a statement's meaning (10 hex digits of the SHA-256 of its canonical form): what
/// ecr-warden records of the statements it wrote.
pub fn fingerprint(statement: &Value) -> String {
    let digest = Sha256::digest(canonical(statement).to_string().as_bytes());
    digest.iter().take(5).map(|byte| format!("{byte:02x}")).collect()
}

fn principals(value: &Value) -> Value {
    let Value::Object(map) = value else { return value.clone() };
    let mut kinds: Vec<&String> = map.keys().collect();
    kinds.sort();
    let mut out = Map::new();
    for kind in kinds {
        let canonical = match kind.as_str() {
            "AWS" => list(&map[kind], account_principal),
            _ => list(&map[kind], str::to_string),
        };
        out.insert(kind.clone(), canonical);
    }
    Value::Object(out)
}

/// An account's principal written one way: `111122223333` and `arn:aws:iam::111122223333:root` are the same.
fn account_principal(principal: &str) -> String {
    if is_account_id(principal) {
        return format!("account:{principal}");
    }
    match Arn::parse(principal) {
        Some(arn)
            if arn.service == "iam"
                && arn.region.is_empty()
                && arn.resource == "root"
                && is_account_id(arn.account) =>
        {
            format!("account:{}", arn.account)
        }
        _ => principal.to_string(),
    }
}

fn condition(value: &Value) -> Value {
    let Value::Object(blocks) = value else { return value.clone() };
    let mut operators: Vec<&String> = blocks.keys().collect();
    operators.sort();
    let mut out = Map::new();
    for operator in operators {
        let block = match &blocks[operator] {
            Value::Object(keys) => {
                let mut lowered: Vec<(String, Value)> =
                    keys.iter().map(|(key, values)| (key.to_ascii_lowercase(), list(values, str::to_string))).collect();
                lowered.sort_by(|a, b| a.0.cmp(&b.0));
                Value::Object(lowered.into_iter().collect())
            }
            other => other.clone(),
        };
        out.insert(operator.clone(), block);
    }
    Value::Object(out)
}

/// A string or list of scalars as a sorted list of strings without duplicates (numbers and booleans as text,
/// as IAM reads them); anything else as it is.
fn list(value: &Value, normal: impl Fn(&str) -> String) -> Value {
    let items: Vec<&Value> = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    let mut texts = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Value::String(s) => texts.push(normal(s)),
            Value::Bool(_) | Value::Number(_) => texts.push(normal(&item.to_string())),
            _ => return sorted(value),
        }
    }
    texts.sort();
    texts.dedup();
    Value::Array(texts.into_iter().map(Value::String).collect())
}

/// Any value with its object keys in sorted order.
fn sorted(value: &Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            Value::Object(keys.into_iter().map(|k| (k.clone(), sorted(&map[k]))).collect())
        }
        Value::Array(items) => Value::Array(items.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn what_ecr_rewrites_means_the_same() {
        let written = json!({"Sid": "Pull", "Effect": "Allow",
            "Principal": {"AWS": ["111122223333", "arn:aws:iam::444455556666:root"]},
            "Action": ["ecr:GetDownloadUrlForLayer", "ecr:BatchGetImage"],
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-1"]}}});
        let stored = json!({"Action": ["ecr:BatchGetImage", "ECR:GetDownloadUrlForLayer"], "Effect": "Allow",
            "Condition": {"StringEquals": {"AWS:PrincipalOrgID": "o-1"}},
            "Principal": {"AWS": ["arn:aws:iam::444455556666:root", "arn:aws:iam::111122223333:root"]}, "Sid": "Pull"});
        assert!(same_statement(&written, &stored));
        assert_eq!(fingerprint(&written), fingerprint(&stored));
        assert_eq!(fingerprint(&written).len(), 10);
    }

    #[test]
    fn a_different_meaning_is_different() {
        let allow = json!({"Sid": "S", "Effect": "Allow", "Principal": {"AWS": "111122223333"}, "Action": "ecr:*"});
        let mut deny = allow.clone();
        deny["Effect"] = json!("Deny");
        let mut other_account = allow.clone();
        other_account["Principal"] = json!({"AWS": "111122223334"});
        let mut role = allow.clone();
        role["Principal"] = json!({"AWS": "arn:aws:iam::111122223333:role/ci"});
        for different in [deny, other_account, role] {
            assert!(!same_statement(&allow, &different), "{different}");
            assert_ne!(fingerprint(&allow), fingerprint(&different));
        }
    }
}
