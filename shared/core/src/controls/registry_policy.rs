//! The registry permissions policy, a registry-level control (`[registry_policy]`): the statements the registry's
//! policy must hold, merged by `Sid`, and, as for repository policies, no public access and no one let in beyond
//! `allowed_accounts` / `allowed_services` once they are set.
//!
//! The registry policy grants other accounts what they do in this registry: replicating into it
//! (`ecr:ReplicateImage`, `ecr:CreateRepository`), pulling through its cache (`ecr:BatchImportUpstreamImage`), and,
//! in the V2 scope that is ECR's default, any ECR action ("Amazon ECR allows all ECR actions in the policy and
//! enforces the registry policy in all ECR requests": ECR user guide, "Private registry permissions"). So a `Deny`
//! here can lock ecr-warden out of every ECR call it makes, repositories included: required statements are checked
//! against all of them ([`lockout::ECR_WARDEN_ACTIONS`]).
//!
//! A registry has no tags in which to record which statements ecr-warden wrote, and its policy is the registry
//! owner's, who writes the baseline: a statement under a baseline `Sid` that differs from the baseline's is
//! replaced, and printed in full in the report.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::repository_policy::is_service_principal;
use super::{ControlId, Description, PublicAccess, RegistryJudgement};
use crate::mode::Mode;
use crate::policy::{self, lockout, AllowedAccess, Merge, MergeRules, PolicyDocument, MAX_POLICY_CHARACTERS};
use crate::section::Problem;
use crate::vulnerabilities::Severity;

/// What observing and fixing the registry policy calls.
pub const PERMISSIONS: &[&str] = &["ecr:DeleteRegistryPolicy", "ecr:GetRegistryPolicy", "ecr:PutRegistryPolicy"];

/// The registry policy control's description.
pub(super) const REGISTRY_POLICY: Description = Description {
    id: ControlId::RegistryPolicy,
    section: "registry_policy (top level, registry-wide)",
    checks: "The registry permissions policy holds every statement of `statements` (by Sid), grants no public access \
             unless `public_access = \"allow\"`, lets in no account or service beyond `allowed_accounts` and \
             `allowed_services` once either is set, and, with `exclusive`, holds nothing else.",
    fixes: "PutRegistryPolicy with the policy that is there plus the missing statements, public and outside grants \
            taken out (or narrowed where they also name allowed principals), each removed or replaced statement \
            printed in full; DeleteRegistryPolicy when nothing is left. Every other statement is kept in order.",
    permissions: PERMISSIONS,
    reads: &[],
    severity: Severity::High,
    security_hub: None,
    config_rule: None,
    changed_by: &["PutRegistryPolicy", "DeleteRegistryPolicy"],
};

/// The `[registry_policy]` section as written.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegistryPolicyFile {
    /// Mode (default `off`).
    pub mode: Option<Mode>,
    /// Required statements, each with a `Sid` (unique).
    #[serde(default)]
    pub statements: Vec<Value>,
    /// Whether public statements are removed (default `deny`).
    pub public_access: Option<PublicAccess>,
    /// Accounts that may be let in besides the registry's own; setting it (or `allowed_services`) makes a
    /// statement letting in anyone else a finding.
    pub allowed_accounts: Option<Vec<String>>,
    /// Service principals that may be let in.
    pub allowed_services: Option<Vec<String>>,
    /// Whether the policy holds only the baseline's statements.
    pub exclusive: Option<bool>,
    /// Whether required `Deny` statements get a condition excepting ecr-warden's roles.
    pub except_ecr_warden: Option<bool>,
    /// ARN patterns of ecr-warden's own roles (default `arn:*:iam::*:role/ecr-warden-*`).
    pub ecr_warden_roles: Option<Vec<String>>,
}

/// The registry policy settings, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegistryPolicySettings {
    /// Mode.
    pub mode: Mode,
    /// Required statements by Sid, as the policy must hold them (with ecr-warden's exception where asked).
    pub statements: BTreeMap<String, Value>,
    /// What to do with public statements.
    pub public_access: PublicAccess,
    /// Accounts that may be let in; `None` with `allowed_services` also `None`: access isn't restricted.
    pub allowed_accounts: Option<Vec<String>>,
    /// Service principals that may be let in.
    pub allowed_services: Option<Vec<String>>,
    /// Whether only the baseline's statements may be in the policy.
    pub exclusive: bool,
}

impl RegistryPolicySettings {
    /// Reads and checks the section; every problem goes to `problems`, named `registry_policy.<key>`.
    pub fn from_file(file: Option<&RegistryPolicyFile>, problems: &mut Vec<Problem>) -> Self {
        let Some(file) = file else { return Self::default() };
        let at = |key: &str| format!("registry_policy.{key}");
        let roles: Vec<String> = match &file.ecr_warden_roles {
            Some(roles) => roles.clone(),
            None => lockout::DEFAULT_ROLE_PATTERNS.iter().map(|p| p.to_string()).collect(),
        };
        for role in roles.iter().filter(|role| !super::repository_policy::is_role_pattern(role)) {
            problems.push(Problem::new(at("ecr_warden_roles"), format!("`{role}` is not a role ARN pattern")));
        }
        for account in file.allowed_accounts.iter().flatten().filter(|a| !crate::arn::is_account_id(a)) {
            problems.push(Problem::new(at("allowed_accounts"), format!("`{account}` is not a 12-digit account ID")));
        }
        for service in file.allowed_services.iter().flatten().filter(|s| !is_service_principal(s)) {
            problems.push(Problem::new(at("allowed_services"), format!("`{service}` is not a service principal")));
        }
        let mut statements = BTreeMap::new();
        for (index, statement) in file.statements.iter().enumerate() {
            let at = format!("registry_policy.statements[{index}]");
            let Some(sid) = policy::sid(statement) else {
                problems.push(Problem::new(at, "every required statement needs a string `Sid`"));
                continue;
            };
            let required = match file.except_ecr_warden {
                Some(true) => lockout::excepting_ecr_warden(statement, &roles, lockout::ECR_WARDEN_ACTIONS),
                _ => statement.clone(),
            };
            for problem in
                policy::required_statement_problems(sid, &required, &roles, lockout::ECR_WARDEN_ACTIONS, "the registry")
            {
                problems.push(Problem::new(at.clone(), problem));
            }
            if statements.insert(sid.to_string(), required).is_some() {
                problems.push(Problem::new(at, format!("the Sid `{sid}` is used by an earlier statement")));
            }
        }
        let mode = file.mode.unwrap_or(Mode::Off);
        let governs_nothing = statements.is_empty()
            && file.allowed_accounts.is_none()
            && file.allowed_services.is_none()
            && file.public_access == Some(PublicAccess::Allow);
        if mode != Mode::Off && governs_nothing {
            problems.push(Problem::new(
                at("mode"),
                "nothing to govern: name `statements`, `allowed_accounts` or `allowed_services`, or set mode = \"off\"",
            ));
        }
        Self {
            mode,
            statements,
            public_access: file.public_access.unwrap_or_default(),
            allowed_accounts: file.allowed_accounts.clone(),
            allowed_services: file.allowed_services.clone(),
            exclusive: file.exclusive.unwrap_or(false),
        }
    }
}

/// What the registry policy comes to: the fix is the policy to put (`None`: delete it, nothing is left).
pub type Judgement = RegistryJudgement<Option<String>>;

/// Judges the registry policy `have` (`None`: there is none) of the registry in `account`.
pub fn judge(settings: &RegistryPolicySettings, have: Option<&str>, account: &str) -> Judgement {
    let mut document = match have {
        None => PolicyDocument::empty(),
        Some(text) => match PolicyDocument::parse(text) {
            Ok(document) => document,
            Err(problem) => {
                return Judgement::Violation {
                    finding: format!("the registry policy can't be read ({problem})"),
                    remedy: "fix or delete the policy by hand; ecr-warden doesn't rewrite what it can't read".into(),
                }
            }
        },
    };
    let required: Vec<Value> = settings.statements.values().cloned().collect();
    // Every statement there counts as replaceable under a baseline Sid (see the module documentation).
    let owned: Vec<String> = document.statements.iter().map(policy::fingerprint).collect();
    let restricted = settings.allowed_accounts.is_some() || settings.allowed_services.is_some();
    let access = restricted.then(|| AllowedAccess {
        own_account: account,
        accounts: settings.allowed_accounts.as_deref().unwrap_or_default(),
        organization: None,
        services: settings.allowed_services.as_deref().unwrap_or_default(),
    });
    let remove_public = settings.public_access == PublicAccess::Deny;
    let rules = MergeRules { remove_public, owned: &owned, access: access.as_ref(), exclusive: settings.exclusive };
    let merge = policy::merge(&mut document, &required, &rules);
    if !merge.changed() {
        return Judgement::Compliant;
    }
    let finding = policy::findings(&merge, remove_public).join("; ");
    let changes = changes(&merge);
    let mut removed = merge.removed;
    removed.extend(merge.replaced);
    removed.extend(merge.narrowed.into_iter().map(|narrowed| narrowed.before));
    if document.statements.is_empty() {
        return Judgement::Drift { finding, changes, fix: None, removed };
    }
    let text = document.to_text();
    let length = text.chars().count();
    if length > MAX_POLICY_CHARACTERS {
        return Judgement::Violation {
            finding: format!(
                "{finding}; the merged policy would be {length} characters, over ECR's {MAX_POLICY_CHARACTERS}"
            ),
            remedy: "shorten the registry policy's statements or require fewer".into(),
        };
    }
    Judgement::Drift { finding, changes, fix: Some(text), removed }
}

/// One line per change the merge makes.
fn changes(merge: &Merge) -> Vec<String> {
    let name = |statement: &Value| policy::sid(statement).unwrap_or("(no Sid)").to_string();
    let mut lines: Vec<String> = merge.statements_set.iter().map(|sid| format!("set statement {sid}")).collect();
    lines.extend(merge.replaced.iter().map(|s| format!("replace statement {} (printed in full)", name(s))));
    lines.extend(merge.removed.iter().map(|s| format!("remove statement {} (printed in full)", name(s))));
    lines.extend(merge.narrowed.iter().map(|n| format!("narrow statement {}", name(&n.before))));
    lines
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn settings(toml: &str) -> RegistryPolicySettings {
        let file: RegistryPolicyFile = toml::from_str(toml).expect("TOML");
        let mut problems = Vec::new();
        let settings = RegistryPolicySettings::from_file(Some(&file), &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
        settings
    }

    fn replication(sid: &str, account: &str) -> Value {
        json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
               "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
               "Resource": "arn:aws:ecr:us-east-1:123456789012:repository/*"})
    }

    const REQUIRED: &str = r#"
        mode = "enforce"
        [[statements]]
        Sid = "ReplicateFromProd"
        Effect = "Allow"
        Principal = { AWS = "arn:aws:iam::111122223333:root" }
        Action = ["ecr:CreateRepository", "ecr:ReplicateImage"]
        Resource = "arn:aws:ecr:us-east-1:123456789012:repository/*"
    "#;

    #[test]
    fn a_missing_statement_is_added_beside_the_others_and_then_compliant() {
        let want = settings(REQUIRED);
        let theirs = json!({"Version": "2012-10-17", "Statement": [replication("Theirs", "444455556666")]});
        let Judgement::Drift { fix: Some(policy), changes, removed, .. } =
            judge(&want, Some(&theirs.to_string()), "123456789012")
        else {
            panic!("drift expected")
        };
        assert_eq!(changes, ["set statement ReplicateFromProd"]);
        assert!(removed.is_empty());
        let document = PolicyDocument::parse(&policy).expect("JSON");
        assert_eq!(
            document.statements,
            [replication("Theirs", "444455556666"), replication("ReplicateFromProd", "111122223333")]
        );
        assert_eq!(judge(&want, Some(&policy), "123456789012"), Judgement::Compliant);
    }

    #[test]
    fn a_different_statement_under_a_baseline_sid_is_replaced_and_printed() {
        let want = settings(REQUIRED);
        let old = replication("ReplicateFromProd", "999999999999");
        let have = json!({"Statement": [old.clone()]}).to_string();
        let Judgement::Drift { removed, changes, .. } = judge(&want, Some(&have), "123456789012") else {
            panic!("drift expected")
        };
        assert_eq!(removed, [old]);
        assert_eq!(
            changes,
            ["set statement ReplicateFromProd", "replace statement ReplicateFromProd (printed in full)"]
        );
    }

    #[test]
    fn public_and_outside_grants_are_taken_out_and_an_empty_policy_is_deleted() {
        let want = settings("mode = \"enforce\"\nallowed_accounts = [\"111122223333\"]\n");
        let public = json!({"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "ecr:ReplicateImage"});
        let stranger = replication("Stranger", "999999999999");
        let have = json!({"Statement": [public.clone(), stranger.clone()]}).to_string();
        let Judgement::Drift { finding, fix: policy, removed, .. } = judge(&want, Some(&have), "123456789012") else {
            panic!("drift expected")
        };
        assert!(finding.contains("public access granted by Anyone"), "{finding}");
        assert!(finding.contains("Stranger lets in account 999999999999"), "{finding}");
        assert_eq!(policy, None, "nothing left: the policy is deleted");
        assert_eq!(removed, [public, stranger]);
        let allowed = json!({"Statement": [replication("Partner", "111122223333")]}).to_string();
        assert_eq!(judge(&want, Some(&allowed), "123456789012"), Judgement::Compliant);
    }

    #[test]
    fn a_deny_locking_ecr_warden_out_of_the_registry_is_refused_unless_excepted() {
        let deny =
            "mode = \"enforce\"\n[[statements]]\nSid = \"NoScanChanges\"\nEffect = \"Deny\"\nPrincipal = \"*\"\n\
                    Action = \"ecr:PutRegistryScanningConfiguration\"\nResource = \"*\"\n";
        let file: RegistryPolicyFile = toml::from_str(deny).expect("TOML");
        let mut problems = Vec::new();
        RegistryPolicySettings::from_file(Some(&file), &mut problems);
        assert_eq!(problems.len(), 1, "{problems:#?}");
        let problem = problems[0].to_string();
        assert!(
            problem.contains(
                "denies ecr-warden's own roles ecr:PutRegistryScanningConfiguration, locking it out of the registry"
            ),
            "{problem}"
        );
        let excepted = settings(&format!("except_ecr_warden = true\n{deny}"));
        assert_eq!(
            excepted.statements["NoScanChanges"]["Condition"],
            json!({"ArnNotLike": {"aws:PrincipalArn": ["arn:*:iam::*:role/ecr-warden-*"]}})
        );
    }

    #[test]
    fn off_by_default_and_bad_values_are_named() {
        let mut problems = Vec::new();
        assert_eq!(RegistryPolicySettings::from_file(None, &mut problems).mode, Mode::Off);
        let file: RegistryPolicyFile =
            toml::from_str("allowed_accounts = [\"12\"]\nstatements = [{ Effect = \"Allow\" }]\n").expect("TOML");
        RegistryPolicySettings::from_file(Some(&file), &mut problems);
        let text: Vec<String> = problems.iter().map(ToString::to_string).collect();
        assert!(
            text.iter().any(|p| p.contains("registry_policy.allowed_accounts: `12` is not a 12-digit account ID")),
            "{text:#?}"
        );
        assert!(
            text.iter()
                .any(|p| p.contains("registry_policy.statements[0]: every required statement needs a string `Sid`")),
            "{text:#?}"
        );
    }
}
