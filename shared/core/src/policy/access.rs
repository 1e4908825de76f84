//! Who an `Allow` statement lets in, read in every form a principal takes, and whether the baseline allows them
//! (`allowed_accounts`, `allow_organization`, `allowed_services`).
//!
//! - `Principal` `{"AWS": ...}`: an account ID, an account's root ARN, a role, user or assumed-role ARN (the
//!   account is the ARN's); `{"Service": ...}`: a service principal; anything else (`Federated`,
//!   `CanonicalUser`, a value that isn't one of these) can't be placed in an account and is let in by nobody's
//!   leave.
//! - `"*"` (or `{"AWS": "*"}`) admits everyone, unless a condition narrows it to accounts or an organization:
//!   `aws:PrincipalAccount`, `aws:SourceAccount` (account IDs), `aws:PrincipalArn` (the ARNs' accounts),
//!   `aws:PrincipalOrgID` and `aws:PrincipalOrgPaths` (organizations), under `StringEquals`,
//!   `StringEqualsIgnoreCase`, `StringLike`, `ArnEquals` or `ArnLike` (optionally `ForAnyValue:`) with concrete
//!   values. Condition blocks and keys are ANDed, so the statement admits no more than any one key admits: it is
//!   allowed when one key admits only what the baseline allows. `NotPrincipal` admits everyone but someone.
//!
//! IAM's principal forms: IAM User Guide, "AWS JSON policy elements: Principal"; condition keys: "AWS global
//! condition context keys".

use serde_json::Value;

use crate::arn::{is_account_id, Arn};

/// Who a statement lets in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Admitted {
    /// Principals of this account.
    Account(String),
    /// Accounts of this organization.
    Organization(String),
    /// This service principal.
    Service(String),
    /// A principal that can't be placed in an account (as written).
    Unplaced(String),
    /// Anyone.
    Everyone,
}

impl Admitted {
    /// How a report names it.
    pub fn describe(&self) -> String {
        match self {
            Admitted::Account(id) => format!("account {id}"),
            Admitted::Organization(id) => format!("organization {id}"),
            Admitted::Service(name) => format!("service {name}"),
            Admitted::Unplaced(principal) => format!("principal {principal}"),
            Admitted::Everyone => "everyone".to_string(),
        }
    }
}

/// Who the baseline lets into a repository: its own account always.
#[derive(Debug, Clone, Copy)]
pub struct AllowedAccess<'a> {
    /// The repository's account.
    pub own_account: &'a str,
    /// `allowed_accounts` (and `cross_account_pull`'s accounts).
    pub accounts: &'a [String],
    /// The caller's organization, when `allow_organization` is on and it is known.
    pub organization: Option<&'a str>,
    /// `allowed_services`.
    pub services: &'a [String],
}

impl AllowedAccess<'_> {
    fn allows(&self, admitted: &Admitted) -> bool {
        match admitted {
            Admitted::Account(id) => id == self.own_account || self.accounts.contains(id),
            Admitted::Organization(id) => self.organization == Some(id.as_str()),
            Admitted::Service(name) => self.services.contains(name),
            Admitted::Unplaced(_) | Admitted::Everyone => false,
        }
    }

    /// Whom an `Allow` statement lets in beyond what the baseline allows (empty: nobody, or not an `Allow`).
    pub fn outsiders(&self, statement: &Value) -> Vec<Admitted> {
        if statement.get("Effect").and_then(Value::as_str) != Some("Allow") {
            return Vec::new();
        }
        let mut outside = Vec::new();
        for admitted in principals(statement) {
            let found = match admitted {
                Admitted::Everyone => self.narrowed_everyone(statement.get("Condition")),
                named => (!self.allows(&named)).then_some(vec![named]).unwrap_or_default(),
            };
            for one in found {
                if !outside.contains(&one) {
                    outside.push(one);
                }
            }
        }
        outside
    }

    /// Whom `"*"` lets in beyond what the baseline allows, given the statement's condition: nobody when one
    /// narrowing key admits only allowed accounts or organizations; else the outsiders of the narrowest key, or
    /// everyone.
    fn narrowed_everyone(&self, condition: Option<&Value>) -> Vec<Admitted> {
        let keys = narrowing_keys(condition);
        let mut narrowest: Option<Vec<Admitted>> = None;
        for admitted in keys {
            let outside: Vec<Admitted> = admitted.into_iter().filter(|a| !self.allows(a)).collect();
            if outside.is_empty() {
                return Vec::new();
            }
            if narrowest.as_ref().is_none_or(|n| outside.len() < n.len()) {
                narrowest = Some(outside);
            }
        }
        narrowest.unwrap_or_else(|| vec![Admitted::Everyone])
    }
}

/// The principals a statement names (`Everyone` for `"*"` and for `NotPrincipal`).
fn principals(statement: &Value) -> Vec<Admitted> {
    if statement.get("NotPrincipal").is_some() {
        return vec![Admitted::Everyone];
    }
    let mut found = Vec::new();
    match statement.get("Principal") {
        Some(Value::String(s)) if s == "*" => found.push(Admitted::Everyone),
        Some(Value::Object(kinds)) => {
            for (kind, values) in kinds {
                found.extend(strings(values).into_iter().map(|value| principal(kind, value)));
            }
        }
        Some(other) => found.push(Admitted::Unplaced(other.to_string())),
        None => {}
    }
    found
}

/// Whom one principal value of a kind (`AWS`, `Service`, ...) names.
fn principal(kind: &str, value: &str) -> Admitted {
    match (kind, value) {
        (_, "*") => Admitted::Everyone,
        ("AWS", value) => account_of(value).map_or(Admitted::Unplaced(value.to_string()), Admitted::Account),
        ("Service", value) => Admitted::Service(value.to_string()),
        (_, value) => Admitted::Unplaced(format!("{kind}:{value}")),
    }
}

/// The account an `AWS` principal names: an account ID, or an IAM or STS ARN's account.
fn account_of(principal: &str) -> Option<String> {
    if is_account_id(principal) {
        return Some(principal.to_string());
    }
    let arn = Arn::parse(principal)?;
    (matches!(arn.service, "iam" | "sts") && is_account_id(arn.account)).then(|| arn.account.to_string())
}

/// For each narrowing key of a condition, whom it admits (see the module documentation).
fn narrowing_keys(condition: Option<&Value>) -> Vec<Vec<Admitted>> {
    let Some(Value::Object(blocks)) = condition else { return Vec::new() };
    let mut keys = Vec::new();
    for (operator, block) in blocks {
        let positive = matches!(
            operator.strip_prefix("ForAnyValue:").unwrap_or(operator),
            "StringEquals" | "StringEqualsIgnoreCase" | "StringLike" | "ArnEquals" | "ArnLike"
        );
        let Value::Object(block) = block else { continue };
        if !positive {
            continue;
        }
        for (key, values) in block {
            let values = strings(values);
            if values.is_empty() {
                continue;
            }
            let organization = |id: &str| (!id.is_empty() && !id.contains(['*', '?'])).then(|| id.to_string());
            // A value that names no account or organization (a wildcard in it) leaves the key narrowing nothing.
            let admitted: Option<Vec<Admitted>> = match key.to_ascii_lowercase().as_str() {
                "aws:principalaccount" | "aws:sourceaccount" => {
                    values.iter().map(|v| is_account_id(v).then(|| Admitted::Account(v.to_string()))).collect()
                }
                "aws:principalarn" => values.iter().map(|v| account_of(v).map(Admitted::Account)).collect(),
                "aws:principalorgid" => values.iter().map(|v| organization(v).map(Admitted::Organization)).collect(),
                "aws:principalorgpaths" => values
                    .iter()
                    .map(|v| v.split('/').next().and_then(organization).map(Admitted::Organization))
                    .collect(),
                _ => None,
            };
            keys.extend(admitted);
        }
    }
    keys
}

/// A string or a list of strings (anything else: none).
pub(crate) fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `statement` without the named principals outside the baseline (`None` when none allowed would be left, or
/// the statement lets in everyone).
pub fn without_outsiders(statement: &Value, access: &AllowedAccess<'_>) -> Option<Value> {
    if statement.get("NotPrincipal").is_some() {
        return None;
    }
    let Some(Value::Object(kinds)) = statement.get("Principal") else { return None };
    let mut kept = serde_json::Map::new();
    for (kind, values) in kinds {
        let allowed: Vec<Value> = strings(values)
            .into_iter()
            .filter(|value| access.allows(&principal(kind, value)))
            .map(|value| Value::String(value.to_string()))
            .collect();
        if !allowed.is_empty() {
            kept.insert(kind.clone(), Value::Array(allowed));
        }
    }
    if kept.is_empty() {
        return None;
    }
    let mut narrowed = statement.clone();
    narrowed["Principal"] = Value::Object(kept);
    Some(narrowed)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const OWN: &str = "111111111111";

    fn access<'a>(accounts: &'a [String], organization: Option<&'a str>, services: &'a [String]) -> AllowedAccess<'a> {
        AllowedAccess { own_account: OWN, accounts, organization, services }
    }

    fn allow(principal: Value) -> Value {
        json!({"Sid": "S", "Effect": "Allow", "Principal": principal, "Action": "ecr:*"})
    }

    #[test]
    fn principals_are_read_in_every_form() {
        let partner = ["222222222222".to_string()];
        let rules = access(&partner, None, &[]);
        for inside in [
            json!({"AWS": "222222222222"}),
            json!({"AWS": "arn:aws:iam::222222222222:root"}),
            json!({"AWS": ["arn:aws:iam::222222222222:role/ci", "arn:aws-cn:iam::111111111111:user/me"]}),
            json!({"AWS": "arn:aws:sts::222222222222:assumed-role/ci/session"}),
        ] {
            assert_eq!(rules.outsiders(&allow(inside.clone())), vec![], "{inside}");
        }
        let stranger = allow(json!({"AWS": ["222222222222", "arn:aws:iam::999999999999:root"]}));
        assert_eq!(rules.outsiders(&stranger), vec![Admitted::Account("999999999999".into())]);
        assert_eq!(rules.outsiders(&allow(json!("*"))), vec![Admitted::Everyone]);
        assert_eq!(rules.outsiders(&allow(json!({"Service": "lambda.amazonaws.com"}))).len(), 1);
        assert_eq!(rules.outsiders(&allow(json!({"Federated": "cognito-identity.amazonaws.com"}))).len(), 1);
        assert_eq!(
            rules.outsiders(&allow(json!({"AWS": "AIDAEXAMPLE"}))),
            vec![Admitted::Unplaced("AIDAEXAMPLE".into())]
        );
        let deny = json!({"Effect": "Deny", "Principal": "*", "Action": "ecr:*"});
        assert_eq!(rules.outsiders(&deny), vec![], "a Deny lets nobody in");
        let not = json!({"Effect": "Allow", "NotPrincipal": {"AWS": "222222222222"}, "Action": "ecr:*"});
        assert_eq!(rules.outsiders(&not), vec![Admitted::Everyone]);
    }

    #[test]
    fn everyone_narrowed_by_a_condition_admits_what_the_condition_names() {
        let partner = ["222222222222".to_string()];
        let services = ["lambda.amazonaws.com".to_string()];
        let rules = access(&partner, Some("o-abc123"), &services);
        let open = |condition: Value| json!({"Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage", "Condition": condition});
        for inside in [
            json!({"StringEquals": {"aws:PrincipalAccount": ["222222222222", OWN]}}),
            json!({"StringEquals": {"aws:SourceAccount": "222222222222"}}),
            json!({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::222222222222:role/ci-*"}}),
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
            json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": "o-abc123/r-ab12/ou-ab12-11111111/*"}}),
            // ANDed: one key admitting only allowed accounts is enough.
            json!({"StringEquals": {"aws:PrincipalOrgID": "o-other1", "aws:PrincipalAccount": "222222222222"}}),
        ] {
            assert_eq!(rules.outsiders(&open(inside.clone())), vec![], "{inside}");
        }
        let other_org = rules.outsiders(&open(json!({"StringEquals": {"aws:PrincipalOrgID": "o-other1"}})));
        assert_eq!(other_org, vec![Admitted::Organization("o-other1".into())]);
        let wildcard = rules.outsiders(&open(json!({"StringLike": {"aws:PrincipalAccount": "2222*"}})));
        assert_eq!(wildcard, vec![Admitted::Everyone], "a wildcard names no account");
        let negated = rules.outsiders(&open(json!({"StringNotEquals": {"aws:PrincipalAccount": "222222222222"}})));
        assert_eq!(negated, vec![Admitted::Everyone]);
        let vpc = rules.outsiders(&open(json!({"StringEquals": {"aws:SourceVpc": "vpc-111bbb22"}})));
        assert_eq!(vpc, vec![Admitted::Everyone], "a VPC doesn't say whose account calls");
        let no_org = access(&partner, None, &services);
        assert_eq!(no_org.outsiders(&open(json!({"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}))).len(), 1);
    }

    #[test]
    fn outsiders_are_taken_out_of_named_principals() {
        let partner = ["222222222222".to_string()];
        let rules = access(&partner, None, &[]);
        let mixed = allow(json!({"AWS": ["arn:aws:iam::222222222222:root", "arn:aws:iam::999999999999:root"]}));
        let narrowed = without_outsiders(&mixed, &rules).expect("the partner is left");
        assert_eq!(narrowed["Principal"], json!({"AWS": ["arn:aws:iam::222222222222:root"]}));
        assert_eq!(rules.outsiders(&narrowed), vec![]);
        assert_eq!(without_outsiders(&allow(json!({"AWS": "999999999999"})), &rules), None);
        assert_eq!(without_outsiders(&allow(json!("*")), &rules), None);
    }
}
