//! Whether a `Deny` statement would lock ecr-warden's own roles out of a repository.
//!
//! An explicit deny in any policy that applies to a request overrides every allow (IAM User Guide, "Policy
//! evaluation logic"), so a baseline statement denying, say, `ecr:*` to `"*"` would stop ecr-warden from ever
//! reading or repairing the repository again. A `Deny` locks ecr-warden out when it names a principal that may be
//! ecr-warden's (everyone, an account, `NotPrincipal`, or a role ARN one of its role patterns matches), covers an
//! action ecr-warden calls where the policy applies ([`ECR_WARDEN_REPOSITORY_ACTIONS`] for a repository policy,
//! [`ECR_WARDEN_ACTIONS`] for the registry's, which ECR enforces on every ECR request), and no condition excepts
//! its roles.
//!
//! A condition excepts them when a negated ARN or string operator on `aws:PrincipalArn` lists, for each of
//! ecr-warden's role patterns, a value matching it ("for IAM roles, the request context returns the ARN of the
//! role, not the ARN of the user that assumed the role": IAM User Guide, "AWS global condition context keys"),
//! or when the statement only denies plain HTTP (`aws:SecureTransport` false: the AWS SDK always calls over
//! HTTPS). Any other condition is not evaluated: the statement is taken to apply.

use serde_json::{json, Map, Value};

use super::access::strings;
use crate::wildcard::Pattern;

/// The ECR actions ecr-warden's roles call on a repository (the functions' permissions that a repository policy
/// governs, checked against them in the runtime's permission tests), sorted.
pub const ECR_WARDEN_REPOSITORY_ACTIONS: &[&str] = &[
    "ecr:DeleteRepositoryPolicy",
    "ecr:DescribeImageScanFindings",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRepositoryPolicy",
    "ecr:ListTagsForResource",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:PutLifecyclePolicy",
    "ecr:SetRepositoryPolicy",
    "ecr:StartImageScan",
    "ecr:TagResource",
];

/// Every ECR action ecr-warden's roles call (on repositories and on the registry), sorted: what a registry policy
/// may deny them ("the V2 version ... enforces the registry policy in all ECR requests": ECR user guide, "Private
/// registry permissions").
pub const ECR_WARDEN_ACTIONS: &[&str] = &[
    "ecr:CreateRepository",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeleteRegistryPolicy",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:DeleteRepositoryPolicy",
    "ecr:DescribeImageScanFindings",
    "ecr:DescribeImages",
    "ecr:DescribePullThroughCacheRules",
    "ecr:DescribeRegistry",
    "ecr:DescribeRepositories",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:GetLifecyclePolicy",
    "ecr:GetRegistryPolicy",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:GetRepositoryPolicy",
    "ecr:GetSigningConfiguration",
    "ecr:ListTagsForResource",
    "ecr:PutImageScanningConfiguration",
    "ecr:PutImageTagMutability",
    "ecr:PutLifecyclePolicy",
    "ecr:PutRegistryPolicy",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:PutReplicationConfiguration",
    "ecr:PutSigningConfiguration",
    "ecr:SetRepositoryPolicy",
    "ecr:StartImageScan",
    "ecr:TagResource",
    "ecr:UpdateRepositoryCreationTemplate",
];

/// The role ARN patterns taken for ecr-warden's own when the baseline names none: the roles of a stack named
/// `ecr-warden` (CloudFormation names a role it creates after its stack) and member roles named `ecr-warden-...`.
pub const DEFAULT_ROLE_PATTERNS: &[&str] = &["arn:*:iam::*:role/ecr-warden-*"];

/// The condition key naming the caller's role.
const PRINCIPAL_ARN: &str = "aws:principalarn";

/// The negated operators under which listing ecr-warden's roles excepts them.
const EXCEPTING_OPERATORS: &[&str] = &["ArnNotLike", "ArnNotEquals", "StringNotLike", "StringNotEquals"];

/// The actions of `needed` that `statement` denies to ecr-warden's roles (`roles`: ARN patterns), empty when it
/// denies none of them.
pub fn denied_to_ecr_warden(statement: &Value, roles: &[String], needed: &[&'static str]) -> Vec<&'static str> {
    if statement.get("Effect").and_then(Value::as_str) != Some("Deny")
        || !may_name_ecr_warden(statement, roles)
        || excepts(statement.get("Condition"), roles)
    {
        return Vec::new();
    }
    needed.iter().copied().filter(|action| covers(statement, action)).collect()
}

/// `statement` with a condition excepting `roles` (`ArnNotLike` on `aws:PrincipalArn`) when it would otherwise
/// deny ecr-warden one of the `needed` actions; otherwise unchanged.
pub fn excepting_ecr_warden(statement: &Value, roles: &[String], needed: &[&'static str]) -> Value {
    if denied_to_ecr_warden(statement, roles, needed).is_empty() {
        return statement.clone();
    }
    let mut excepted = statement.clone();
    let condition =
        excepted.as_object_mut().map(|map| map.entry("Condition").or_insert_with(|| Value::Object(Map::new())));
    if let Some(Value::Object(blocks)) = condition {
        let block = blocks.entry("ArnNotLike").or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(keys) = block {
            let mut values: Vec<Value> = match keys.remove("aws:PrincipalArn") {
                Some(Value::Array(items)) => items,
                Some(single) => vec![single],
                None => Vec::new(),
            };
            values.extend(roles.iter().map(|role| json!(role)));
            keys.insert("aws:PrincipalArn".to_string(), Value::Array(values));
        }
    }
    excepted
}

/// Whether the statement's principal may be one of ecr-warden's roles.
fn may_name_ecr_warden(statement: &Value, roles: &[String]) -> bool {
    if statement.get("NotPrincipal").is_some() {
        return true;
    }
    match statement.get("Principal") {
        Some(Value::String(star)) => star == "*",
        Some(Value::Object(kinds)) => kinds.get("AWS").map(strings).unwrap_or_default().iter().any(|principal| {
            *principal == "*"
                || crate::arn::is_account_id(principal)
                || principal.ends_with(":root")
                || roles.iter().any(|role| Pattern::new(role).matches(principal))
        }),
        _ => false,
    }
}

/// Whether the statement's `Action` (or everything but its `NotAction`) covers `action`; IAM action names are
/// case-insensitive and `*` stands for any run of characters.
fn covers(statement: &Value, action: &str) -> bool {
    let matches = |listed: &Value| {
        strings(listed)
            .iter()
            .any(|pattern| Pattern::new(&pattern.to_ascii_lowercase()).matches(&action.to_ascii_lowercase()))
    };
    match (statement.get("Action"), statement.get("NotAction")) {
        (Some(actions), _) => matches(actions),
        (None, Some(not_actions)) => !matches(not_actions),
        (None, None) => false,
    }
}

/// Whether the condition excepts every role pattern, or only denies plain HTTP.
fn excepts(condition: Option<&Value>, roles: &[String]) -> bool {
    let Some(Value::Object(blocks)) = condition else { return false };
    let insecure_only = blocks.iter().any(|(operator, keys)| {
        operator.trim_end_matches("IfExists") == "Bool"
            && keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(key, value)| {
                    key.eq_ignore_ascii_case("aws:SecureTransport")
                        && strings_or_bools(value).iter().all(|v| v.eq_ignore_ascii_case("false"))
                })
            })
    });
    let roles_excepted = blocks.iter().any(|(operator, keys)| {
        EXCEPTING_OPERATORS.contains(&operator.trim_end_matches("IfExists"))
            && keys.as_object().is_some_and(|keys| {
                keys.iter().any(|(key, values)| {
                    key.eq_ignore_ascii_case(PRINCIPAL_ARN)
                        && roles.iter().all(|role| strings(values).iter().any(|v| Pattern::new(v).matches(role)))
                })
            })
    });
    insecure_only || roles_excepted
}

/// Condition values written as strings or JSON booleans, as text.
fn strings_or_bools(value: &Value) -> Vec<String> {
    let items = match value {
        Value::Array(items) => items.iter().collect(),
        single => vec![single],
    };
    items.iter().map(|item| item.as_str().map(str::to_string).unwrap_or_else(|| item.to_string())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn defaults() -> Vec<String> {
        DEFAULT_ROLE_PATTERNS.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn a_deny_of_everything_to_everyone_locks_ecr_warden_out() {
        let statement = json!({"Sid": "DenyAll", "Effect": "Deny", "Principal": "*", "Action": "ecr:*"});
        assert_eq!(
            denied_to_ecr_warden(&statement, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS),
            ECR_WARDEN_REPOSITORY_ACTIONS
        );
    }

    #[test]
    fn only_the_actions_ecr_warden_needs_are_named() {
        let statement =
            json!({"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": ["ecr:Put*", "ecr:BatchDeleteImage"]});
        assert_eq!(
            denied_to_ecr_warden(&statement, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS),
            ["ecr:PutImageScanningConfiguration", "ecr:PutImageTagMutability", "ecr:PutLifecyclePolicy"]
        );
        let unrelated =
            json!({"Effect": "Deny", "Principal": "*", "Action": ["ecr:BatchDeleteImage", "ecr:DeleteRepository"]});
        assert!(denied_to_ecr_warden(&unrelated, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS).is_empty());
    }

    #[test]
    fn action_names_are_case_insensitive_and_not_action_inverts() {
        let lower = json!({"Effect": "Deny", "Principal": "*", "Action": "ECR:setrepositorypolicy"});
        assert_eq!(
            denied_to_ecr_warden(&lower, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS),
            ["ecr:SetRepositoryPolicy"]
        );
        let all_but_reads =
            json!({"Effect": "Deny", "Principal": "*", "NotAction": ["ecr:Describe*", "ecr:Get*", "ecr:List*"]});
        let denied = denied_to_ecr_warden(&all_but_reads, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS);
        assert!(denied.contains(&"ecr:SetRepositoryPolicy") && !denied.contains(&"ecr:GetRepositoryPolicy"));
    }

    #[test]
    fn allows_and_denies_to_others_are_not_lockouts() {
        let allow = json!({"Effect": "Allow", "Principal": "*", "Action": "ecr:*"});
        let service = json!({"Effect": "Deny", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "ecr:*"});
        let other_role =
            json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::111122223333:role/ci"}, "Action": "ecr:*"});
        for statement in [allow, service, other_role] {
            assert!(
                denied_to_ecr_warden(&statement, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS).is_empty(),
                "{statement}"
            );
        }
    }

    #[test]
    fn an_account_principal_or_not_principal_may_be_ecr_warden() {
        // An account principal stands for every principal of the account, ecr-warden's roles included.
        let account = json!({"Effect": "Deny", "Principal": {"AWS": "123456789012"}, "Action": "ecr:TagResource"});
        let root = json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:root"}, "Action": "ecr:TagResource"});
        let role = json!({"Effect": "Deny", "Principal": {"AWS": "arn:aws:iam::123456789012:role/ecr-warden-Worker"}, "Action": "ecr:TagResource"});
        let not = json!({"Effect": "Deny", "NotPrincipal": {"AWS": "arn:aws:iam::123456789012:role/admin"}, "Action": "ecr:TagResource"});
        for statement in [account, root, role, not] {
            assert_eq!(
                denied_to_ecr_warden(&statement, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS),
                ["ecr:TagResource"],
                "{statement}"
            );
        }
    }

    #[test]
    fn a_condition_excepting_every_role_pattern_or_denying_plain_http_is_no_lockout() {
        let except = |values: Value| {
            json!({"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
                   "Condition": {"ArnNotLike": {"aws:PrincipalArn": values}}})
        };
        assert!(denied_to_ecr_warden(
            &except(json!("arn:*:iam::*:role/ecr-warden-*")),
            &defaults(),
            ECR_WARDEN_REPOSITORY_ACTIONS
        )
        .is_empty());
        assert!(denied_to_ecr_warden(
            &except(json!(["arn:aws:iam::*:role/admin", "arn:*:iam::*:role/*"])),
            &defaults(),
            ECR_WARDEN_REPOSITORY_ACTIONS
        )
        .is_empty());
        // Excepting some other role leaves ecr-warden denied.
        assert!(!denied_to_ecr_warden(
            &except(json!("arn:aws:iam::*:role/admin")),
            &defaults(),
            ECR_WARDEN_REPOSITORY_ACTIONS
        )
        .is_empty());
        let insecure = json!({"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
                              "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
        assert!(denied_to_ecr_warden(&insecure, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS).is_empty());
        // Any other condition is not evaluated: it is taken to apply.
        let vpc = json!({"Effect": "Deny", "Principal": "*", "Action": "ecr:*",
                         "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}}});
        assert!(!denied_to_ecr_warden(&vpc, &defaults(), ECR_WARDEN_REPOSITORY_ACTIONS).is_empty());
    }

    #[test]
    fn the_exception_is_added_to_a_lockout_only_and_keeps_existing_conditions() {
        let roles = vec!["arn:aws:iam::*:role/warden-*".to_string()];
        let lockout = json!({"Sid": "NoVpc", "Effect": "Deny", "Principal": "*", "Action": "ecr:*",
                             "Condition": {"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"},
                                           "ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}});
        let excepted = excepting_ecr_warden(&lockout, &roles, ECR_WARDEN_REPOSITORY_ACTIONS);
        assert_eq!(
            excepted["Condition"],
            json!({"StringNotEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"},
                   "ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/admin", "arn:aws:iam::*:role/warden-*"]}})
        );
        assert!(denied_to_ecr_warden(&excepted, &roles, ECR_WARDEN_REPOSITORY_ACTIONS).is_empty());
        let unrelated = json!({"Effect": "Deny", "Principal": "*", "Action": "ecr:BatchDeleteImage"});
        assert_eq!(excepting_ecr_warden(&unrelated, &roles, ECR_WARDEN_REPOSITORY_ACTIONS), unrelated);
    }
}
