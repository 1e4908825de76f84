//! What "public" means for a repository policy statement.
//!
//! A statement is public when it is an `Allow` to everyone (`Principal: "*"`, a principal list holding `"*"`)
//! or to everyone but someone (`NotPrincipal`), and no condition really narrows who can use it. A condition
//! narrows only when it names who the caller is, or where the call comes from, with concrete values:
//!
//! - keys: `aws:PrincipalOrgID`, `aws:PrincipalOrgPaths`, `aws:PrincipalAccount`, `aws:PrincipalArn`,
//!   `aws:SourceAccount`, `aws:SourceArn`, `aws:SourceVpce`, `aws:SourceVpc`, `aws:SourceIp`;
//! - operators: `StringEquals`, `StringEqualsIgnoreCase`, `StringLike`, `ArnEquals`, `ArnLike` (ARN and ID
//!   keys) and `IpAddress` (`aws:SourceIp`), alone or after `ForAnyValue:`. Not the `...IfExists` forms (true
//!   when the key is absent), not `ForAllValues:` (true for an empty set of values), not the negated
//!   operators, not `Null` or `Bool`;
//! - values: every value concrete. An ID has no wildcard; an org path's organization ID has none; an ARN
//!   names its account (12 digits) or, for a resource without one, its resource without a wildcard; an IP
//!   range is not `/0`.
//!
//! IAM's condition operators and the `...IfExists` / `ForAllValues` semantics: IAM User Guide, "IAM JSON
//! policy elements: Condition operators" and "Set operators for multivalued context keys".

use std::net::IpAddr;

use serde_json::{Map, Value};

use crate::arn::{is_account_id, Arn};

/// The condition keys whose concrete values narrow who can use a statement (lowercase: IAM condition keys are
/// case-insensitive).
const NARROWING_KEYS: &[&str] = &[
    "aws:principalorgid",
    "aws:principalorgpaths",
    "aws:principalaccount",
    "aws:principalarn",
    "aws:sourceaccount",
    "aws:sourcearn",
    "aws:sourcevpce",
    "aws:sourcevpc",
    "aws:sourceip",
];

/// Whether a statement grants access to anyone, as the module documentation defines it.
pub fn grants_public_access(statement: &Value) -> bool {
    statement.get("Effect").and_then(Value::as_str) == Some("Allow")
        && has_public_principal(statement)
        && !is_narrowed(statement.get("Condition"))
}

/// Whether the statement's principal is everyone (`"*"` anywhere in it) or everyone but someone (`NotPrincipal`).
fn has_public_principal(statement: &Value) -> bool {
    if statement.get("NotPrincipal").is_some() {
        return true;
    }
    match statement.get("Principal") {
        Some(Value::String(s)) => s == "*",
        Some(Value::Object(map)) => map.values().any(is_or_contains_star),
        _ => false,
    }
}

fn is_or_contains_star(value: &Value) -> bool {
    match value {
        Value::String(s) => s == "*",
        Value::Array(items) => items.iter().any(|i| i.as_str() == Some("*")),
        _ => false,
    }
}

/// A public statement whose principal also names others (`{"AWS": ["*", "arn:...:root"]}`), with `"*"` taken
/// out: `None` when nothing but `"*"` is named (or the statement uses `NotPrincipal` or `Principal: "*"`).
pub fn without_public_principals(statement: &Value) -> Option<Value> {
    if statement.get("NotPrincipal").is_some() {
        return None;
    }
    let Some(Value::Object(principals)) = statement.get("Principal") else { return None };
    let mut named = Map::new();
    for (kind, value) in principals {
        match value {
            Value::String(s) if s == "*" => {}
            Value::Array(items) => {
                let kept: Vec<Value> = items.iter().filter(|i| i.as_str() != Some("*")).cloned().collect();
                if !kept.is_empty() {
                    named.insert(kind.clone(), Value::Array(kept));
                }
            }
            other => {
                named.insert(kind.clone(), other.clone());
            }
        }
    }
    if named.is_empty() {
        return None;
    }
    let mut narrowed = statement.clone();
    narrowed["Principal"] = Value::Object(named);
    Some(narrowed)
}

/// Whether a `Condition` element narrows who can use the statement: some block of a narrowing operator
/// holds some narrowing key whose every value is concrete (blocks and keys are ANDed, so one suffices).
fn is_narrowed(condition: Option<&Value>) -> bool {
    let Some(Value::Object(blocks)) = condition else { return false };
    blocks.iter().any(|(operator, keys)| {
        let Some(operator) = Operator::narrowing(operator) else { return false };
        let Value::Object(keys) = keys else { return false };
        keys.iter().any(|(key, values)| narrows(operator, &key.to_ascii_lowercase(), values))
    })
}

/// The operators that can narrow, with what they compare.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Operator {
    /// `StringEquals`, `StringEqualsIgnoreCase`, `ArnEquals`: exact values (ArnEquals still allows
    /// wildcards per ARN segment, so it is judged like a pattern).
    Exact,
    /// `StringLike`, `ArnLike`, `ArnEquals`: `*` and `?` are wildcards.
    Pattern,
    /// `IpAddress`.
    Ip,
}

impl Operator {
    fn narrowing(name: &str) -> Option<Self> {
        match name.strip_prefix("ForAnyValue:").unwrap_or(name) {
            "StringEquals" | "StringEqualsIgnoreCase" => Some(Operator::Exact),
            "StringLike" | "ArnEquals" | "ArnLike" => Some(Operator::Pattern),
            "IpAddress" => Some(Operator::Ip),
            _ => None,
        }
    }
}

fn narrows(operator: Operator, key: &str, values: &Value) -> bool {
    if !NARROWING_KEYS.contains(&key) || (operator == Operator::Ip) != (key == "aws:sourceip") {
        return false;
    }
    let values: Vec<&Value> = match values {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    !values.is_empty()
        && values.iter().all(|value| value.as_str().is_some_and(|value| is_concrete(operator, key, value)))
}

fn is_concrete(operator: Operator, key: &str, value: &str) -> bool {
    if value.is_empty() {
        return false;
    }
    let wild = |text: &str| text.contains(['*', '?']);
    match (operator, key) {
        (Operator::Ip, _) => is_narrow_ip_range(value),
        (Operator::Exact, _) => true,
        (Operator::Pattern, "aws:principalarn" | "aws:sourcearn") => arn_names_its_owner(value),
        (Operator::Pattern, "aws:principalorgpaths") => value.split('/').next().is_some_and(|org| !wild(org)),
        (Operator::Pattern, _) => !wild(value),
    }
}

/// An ARN pattern that names an account (12 digits, no wildcard), or a resource without an account (an S3
/// bucket's `arn:aws:s3:::name`) whose name has no wildcard.
fn arn_names_its_owner(arn: &str) -> bool {
    let Some(arn) = Arn::parse(arn) else { return false };
    match arn.account.is_empty() {
        false => is_account_id(arn.account),
        true => !arn.resource.is_empty() && !arn.resource.contains(['*', '?']),
    }
}

/// An IP address or CIDR range that is not everything (`/0`).
fn is_narrow_ip_range(value: &str) -> bool {
    let (address, prefix) = match value.split_once('/') {
        Some((address, prefix)) => (address, Some(prefix)),
        None => (value, None),
    };
    let Ok(address) = address.parse::<IpAddr>() else { return false };
    let bits = if address.is_ipv4() { 32 } else { 128 };
    match prefix {
        None => true,
        Some(prefix) => prefix.parse::<u8>().is_ok_and(|p| (1..=bits).contains(&p)),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn open_with(condition: Value) -> Value {
        json!({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage", "Condition": condition})
    }

    #[test]
    fn public_principals_in_every_spelling() {
        for principal in [json!("*"), json!({"AWS": "*"}), json!({"AWS": ["arn:aws:iam::1:root", "*"]})] {
            let statement = json!({"Effect": "Allow", "Principal": principal, "Action": "ecr:*"});
            assert!(grants_public_access(&statement), "{statement}");
        }
        assert!(grants_public_access(&json!({"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"}})));
        assert!(!grants_public_access(&json!({"Effect":"Deny","Principal":"*"})));
        assert!(!grants_public_access(&json!({"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"}})));
        assert!(!grants_public_access(&json!({"Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"}})));
    }

    /// Each operator family both ways: a concrete value narrows, a wildcard or an operator that is true
    /// without the key doesn't.
    #[test]
    fn conditions_narrow_only_with_concrete_values_under_positive_operators() {
        let narrowing = [
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
            json!({"StringEqualsIgnoreCase": {"aws:PrincipalAccount": "111122223333"}}),
            json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/ou-ab12-11111111/*"}}),
            json!({"StringLike": {"aws:PrincipalAccount": ["111122223333", "444455556666"]}}),
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/ci-*"}}),
            json!({"ArnEquals": {"aws:SourceArn": "arn:aws:s3:::team-bucket"}}),
            json!({"StringEquals": {"AWS:SOURCEACCOUNT": "111122223333"}}),
            json!({"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
            json!({"StringEquals": {"aws:SourceVpc": "vpc-111bbb22"}}),
            json!({"IpAddress": {"aws:SourceIp": ["203.0.113.0/24", "2001:db8::/32"]}}),
            json!({"Bool": {"aws:SecureTransport": "true"}, "StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
        ];
        for condition in narrowing {
            assert!(!grants_public_access(&open_with(condition.clone())), "narrows: {condition}");
        }
        let open = [
            json!({}),
            json!({"StringEquals": {}}),
            json!({"Bool": {"aws:SecureTransport": "true"}}),
            json!({"StringLike": {"aws:PrincipalAccount": "*"}}),
            json!({"StringLike": {"aws:PrincipalAccount": "1111*"}}),
            json!({"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}),
            json!({"ForAllValues:StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
            json!({"Null": {"aws:PrincipalOrgID": "false"}}),
            json!({"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
            json!({"StringEquals": {"aws:PrincipalOrgID": []}}),
            json!({"StringEquals": {"aws:PrincipalOrgID": ""}}),
            json!({"StringEquals": {"aws:PrincipalOrgID": 7}}),
            json!({"StringLike": {"aws:PrincipalOrgPaths": "o-*/r-ab12/*"}}),
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:root"}}),
            json!({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}),
            json!({"ArnEquals": {"aws:PrincipalArn": "not-an-arn"}}),
            json!({"StringLike": {"aws:PrincipalAccount": ["111122223333", "*"]}}),
            json!({"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}),
            json!({"IpAddress": {"aws:SourceIp": "::/0"}}),
            json!({"IpAddress": {"aws:PrincipalAccount": "10.0.0.0/8"}}),
            json!({"StringEquals": {"aws:SourceIp": "10.0.0.1"}}),
            json!({"StringEquals": {"aws:username": "alice"}}),
        ];
        for condition in open {
            assert!(grants_public_access(&open_with(condition.clone())), "still public: {condition}");
        }
        assert!(grants_public_access(&json!({"Effect": "Allow", "Principal": "*", "Condition": "x"})));
    }

    #[test]
    fn a_public_principal_beside_named_ones_is_taken_out() {
        let mixed = json!({"Sid": "Mixed", "Effect": "Allow", "Action": "ecr:*",
                           "Principal": {"AWS": ["*", "arn:aws:iam::444455556666:root"], "Service": "*"}});
        let narrowed = without_public_principals(&mixed).expect("a named principal is left");
        assert_eq!(narrowed["Principal"], json!({"AWS": ["arn:aws:iam::444455556666:root"]}));
        assert_eq!(narrowed["Sid"], "Mixed");
        assert!(!grants_public_access(&narrowed));
        assert_eq!(without_public_principals(&json!({"Effect": "Allow", "Principal": {"AWS": ["*"]}})), None);
        assert_eq!(without_public_principals(&json!({"Effect": "Allow", "Principal": "*"})), None);
        assert_eq!(without_public_principals(&json!({"Effect": "Allow", "NotPrincipal": {"AWS": "x"}})), None);
    }
}
