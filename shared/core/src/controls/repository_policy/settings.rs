//! The `repository_policy` section: the statements the policy must hold (merged by `Sid` across layers), the
//! accounts allowed to pull, and what happens to public statements.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::mode::Mode;
use crate::policy::{self, lockout};
use crate::section::{set, At, Problem, Section};

/// Sid of the statement generated from `cross_account_pull`.
pub const CROSS_ACCOUNT_PULL_SID: &str = "EcrWardenCrossAccountPull";

/// Sid of the statement generated from `cross_account_push`.
pub const CROSS_ACCOUNT_PUSH_SID: &str = "EcrWardenCrossAccountPush";

/// Sid of the statement generated from `lambda_pull`.
pub const LAMBDA_PULL_SID: &str = "EcrWardenLambdaPull";

/// Sid of the statement generated from `organization_pull`.
pub const ORGANIZATION_PULL_SID: &str = "EcrWardenOrganizationPull";

/// The Sids of the statements ecr-warden generates from settings: a required statement can't use them.
const GENERATED_SIDS: &[&str] =
    &[CROSS_ACCOUNT_PULL_SID, CROSS_ACCOUNT_PUSH_SID, LAMBDA_PULL_SID, ORGANIZATION_PULL_SID];

/// Pulling an image: what `cross_account_pull` grants.
const PULL_ACTIONS: &[&str] = &["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/// Pushing an image (ECR user guide, "IAM permissions for pushing an image to an Amazon ECR private repository"),
/// with pulling: what `cross_account_push` grants.
const PUSH_ACTIONS: &[&str] = &[
    "ecr:BatchCheckLayerAvailability",
    "ecr:BatchGetImage",
    "ecr:CompleteLayerUpload",
    "ecr:GetDownloadUrlForLayer",
    "ecr:InitiateLayerUpload",
    "ecr:PutImage",
    "ecr:UploadLayerPart",
];

/// What Lambda needs to run a function from an image in another account's repository (AWS Knowledge Center,
/// "Lambda ECR image permission errors": the Lambda service principal, `ecr:BatchGetImage` and
/// `ecr:GetDownloadUrlForLayer`, `aws:sourceARN` naming the functions).
const LAMBDA_PULL_ACTIONS: &[&str] = &["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"];

/// `repository_policy` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryPolicyOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// Whether public statements are removed.
    pub public_access: Option<PublicAccess>,
    /// Account IDs allowed to pull (a statement with Sid `EcrWardenCrossAccountPull`).
    pub cross_account_pull: Option<Vec<String>>,
    /// Required statements, each with a `Sid`; merged by `Sid`.
    pub statements: Option<Vec<Value>>,
    /// Accounts that may be let in (besides the repository's own, `cross_account_pull`'s and `cross_account_push`'s);
    /// setting it (or `allow_organization` or `allowed_services`) makes a statement letting in anyone else a
    /// finding.
    pub allowed_accounts: Option<Vec<String>>,
    /// Whether the accounts of the caller's own organization may be let in (a statement narrowed by
    /// `aws:PrincipalOrgID` to it).
    pub allow_organization: Option<bool>,
    /// Service principals that may be let in (`lambda.amazonaws.com`).
    pub allowed_services: Option<Vec<String>>,
    /// Whether the policy holds only the baseline's statements: any other is removed and printed.
    pub exclusive: Option<bool>,
    /// Account IDs allowed to push (and pull): a statement with Sid `EcrWardenCrossAccountPush`.
    pub cross_account_push: Option<Vec<String>>,
    /// Account IDs whose Lambda functions may run images from the repository (the Lambda service principal,
    /// narrowed by `aws:sourceArn` to their functions in the repository's region): `EcrWardenLambdaPull`.
    pub lambda_pull: Option<Vec<String>>,
    /// Whether every account of the caller's organization may pull (`"*"` narrowed by `aws:PrincipalOrgID`):
    /// `EcrWardenOrganizationPull`. One short statement instead of a list of accounts.
    pub organization_pull: Option<bool>,
    /// ARN patterns of ecr-warden's own roles (default `arn:*:iam::*:role/ecr-warden-*`): a required `Deny` that
    /// would deny them an action ecr-warden needs is an error unless it excepts them.
    pub ecr_warden_roles: Option<Vec<String>>,
    /// Whether every required `Deny` that would deny ecr-warden's roles an action it needs gets a condition
    /// excepting them (`ArnNotLike` on `aws:PrincipalArn`).
    pub except_ecr_warden: Option<bool>,
}

/// What happens to statements granting public access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PublicAccess {
    /// They are findings, and removed in enforce mode.
    #[default]
    Deny,
    /// They are left alone.
    Allow,
}

/// Repository policy settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepositoryPolicySettings {
    /// Mode.
    pub mode: Mode,
    /// What to do with public statements.
    pub public_access: PublicAccess,
    /// Accounts allowed to pull.
    pub cross_account_pull: Vec<String>,
    /// Required statements by Sid.
    pub statements: BTreeMap<String, Value>,
    /// Accounts that may be let in; `None`: access isn't restricted to a list (see [`Self::restricts_access`]).
    pub allowed_accounts: Option<Vec<String>>,
    /// Whether the caller's organization may be let in.
    pub allow_organization: bool,
    /// Service principals that may be let in.
    pub allowed_services: Option<Vec<String>>,
    /// The caller's organization ID, when `allow_organization` needs it (filled in for the account governed).
    pub organization_id: Option<String>,
    /// Whether only the baseline's statements may be in the policy.
    pub exclusive: bool,
    /// Accounts allowed to push.
    pub cross_account_push: Vec<String>,
    /// Accounts whose Lambda functions may pull.
    pub lambda_pull: Vec<String>,
    /// Whether the caller's organization may pull.
    pub organization_pull: bool,
    /// ARN patterns of ecr-warden's own roles; empty: [`lockout::DEFAULT_ROLE_PATTERNS`].
    pub ecr_warden_roles: Vec<String>,
    /// Whether required `Deny` statements get a condition excepting ecr-warden's roles.
    pub except_ecr_warden: bool,
}

impl RepositoryPolicySettings {
    /// The statements the repository policy must hold: the configured ones and those generated from
    /// `cross_account_pull`, `cross_account_push`, `lambda_pull` and `organization_pull`, with ARNs in `partition`
    /// (`aws`, `aws-cn`, `aws-us-gov`: the repository's) and Lambda functions in `region` (the repository's: Lambda
    /// pulls only from its own region).
    pub fn required_statements(&self, partition: &str, region: &str) -> Vec<Value> {
        let mut statements: Vec<Value> = self.statements.values().map(|s| self.as_required(s)).collect();
        // An account grant: the accounts' roots, these actions.
        let grant = |sid: &str, accounts: &[String], actions: &[&str]| {
            let roots: Vec<String> = accounts.iter().map(|id| format!("arn:{partition}:iam::{id}:root")).collect();
            json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": roots}, "Action": actions})
        };
        if !self.cross_account_pull.is_empty() {
            statements.push(grant(CROSS_ACCOUNT_PULL_SID, &self.cross_account_pull, PULL_ACTIONS));
        }
        if !self.cross_account_push.is_empty() {
            statements.push(grant(CROSS_ACCOUNT_PUSH_SID, &self.cross_account_push, PUSH_ACTIONS));
        }
        if !self.lambda_pull.is_empty() {
            let functions: Vec<String> =
                self.lambda_pull.iter().map(|id| format!("arn:{partition}:lambda:{region}:{id}:function:*")).collect();
            statements.push(json!({
                "Sid": LAMBDA_PULL_SID,
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": LAMBDA_PULL_ACTIONS,
                "Condition": {"StringLike": {"aws:sourceArn": functions}},
            }));
        }
        if let Some(organization) = self.organization_id.as_ref().filter(|_| self.organization_pull) {
            statements.push(json!({
                "Sid": ORGANIZATION_PULL_SID,
                "Effect": "Allow",
                "Principal": "*",
                "Action": PULL_ACTIONS,
                "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization}},
            }));
        }
        statements
    }
}

impl RepositoryPolicySettings {
    /// The ARN patterns taken for ecr-warden's own roles.
    pub fn role_patterns(&self) -> Vec<String> {
        if self.ecr_warden_roles.is_empty() {
            lockout::DEFAULT_ROLE_PATTERNS.iter().map(|p| p.to_string()).collect()
        } else {
            self.ecr_warden_roles.clone()
        }
    }

    /// A configured statement as the policy must hold it: with the exception for ecr-warden's roles when
    /// `except_ecr_warden` asks for it and the statement would deny them.
    fn as_required(&self, statement: &Value) -> Value {
        if self.except_ecr_warden {
            lockout::excepting_ecr_warden(statement, &self.role_patterns(), lockout::ECR_WARDEN_REPOSITORY_ACTIONS)
        } else {
            statement.clone()
        }
    }

    /// Whether the baseline says who may be let in (`allowed_accounts`, `allow_organization` or
    /// `allowed_services`): then a statement letting in anyone else is a finding.
    pub fn restricts_access(&self) -> bool {
        self.allowed_accounts.is_some() || self.allow_organization || self.allowed_services.is_some()
    }

    /// The accounts that may be let in: `allowed_accounts` and those `cross_account_pull` and
    /// `cross_account_push` grant to (`lambda_pull` grants to the Lambda service, not to its accounts).
    pub fn allowed_account_ids(&self) -> Vec<String> {
        let mut accounts = self.allowed_accounts.clone().unwrap_or_default();
        accounts.extend(self.cross_account_pull.iter().cloned());
        accounts.extend(self.cross_account_push.iter().cloned());
        accounts
    }

    /// Whether these settings need the caller's organization ID (`allow_organization`, `organization_pull`).
    pub fn needs_organization_id(&self) -> bool {
        self.allow_organization || self.organization_pull
    }
}

impl Section for RepositoryPolicySettings {
    type Layer = RepositoryPolicyOverride;

    fn nothing() -> Self {
        Self::default()
    }

    fn mode_mut(&mut self) -> &mut Mode {
        &mut self.mode
    }

    fn merge(&mut self, layer: &RepositoryPolicyOverride, at: At<'_>) -> Vec<Problem> {
        set(&mut self.mode, &layer.mode);
        set(&mut self.public_access, &layer.public_access);
        set(&mut self.cross_account_pull, &layer.cross_account_pull);
        if layer.allowed_accounts.is_some() {
            self.allowed_accounts = layer.allowed_accounts.clone();
        }
        set(&mut self.allow_organization, &layer.allow_organization);
        set(&mut self.exclusive, &layer.exclusive);
        set(&mut self.cross_account_push, &layer.cross_account_push);
        set(&mut self.lambda_pull, &layer.lambda_pull);
        set(&mut self.organization_pull, &layer.organization_pull);
        set(&mut self.ecr_warden_roles, &layer.ecr_warden_roles);
        set(&mut self.except_ecr_warden, &layer.except_ecr_warden);
        if layer.allowed_services.is_some() {
            self.allowed_services = layer.allowed_services.clone();
        }
        let mut problems = Vec::new();
        let mut seen = Vec::new();
        for (index, statement) in layer.statements.iter().flatten().enumerate() {
            let at = format!("{at}.statements[{index}]");
            let problem = |message: String| Problem::new(at.clone(), message);
            match policy::sid(statement) {
                Some(sid) if seen.contains(&sid) => {
                    problems.push(problem(format!("the Sid `{sid}` is used by an earlier statement of this list")))
                }
                Some(sid) => {
                    seen.push(sid);
                    self.statements.insert(sid.to_string(), statement.clone());
                }
                None => problems.push(problem("every required statement needs a string `Sid`".to_string())),
            }
        }
        problems
    }

    fn value_problems(&self, at: At<'_>) -> Vec<Problem> {
        let mut problems = Vec::new();
        for account in self.cross_account_pull.iter().filter(|account| !crate::arn::is_account_id(account)) {
            problems.push(at.problem("cross_account_pull", format!("`{account}` is not a 12-digit account ID")));
        }
        let lists = [
            ("allowed_accounts", self.allowed_accounts.as_deref().unwrap_or_default()),
            ("cross_account_push", self.cross_account_push.as_slice()),
            ("lambda_pull", self.lambda_pull.as_slice()),
        ];
        for (key, accounts) in lists {
            for account in accounts.iter().filter(|account| !crate::arn::is_account_id(account)) {
                problems.push(at.problem(key, format!("`{account}` is not a 12-digit account ID")));
            }
        }
        for role in self.ecr_warden_roles.iter().filter(|role| !is_role_pattern(role)) {
            problems.push(at.problem(
                "ecr_warden_roles",
                format!("`{role}` is not a role ARN pattern (arn:<partition>:iam::<account>:role/<name>, `*` allowed)"),
            ));
        }
        for service in self.allowed_services.iter().flatten().filter(|service| !is_service_principal(service)) {
            problems.push(at.problem(
                "allowed_services",
                format!("`{service}` is not a service principal (a host name such as lambda.amazonaws.com)"),
            ));
        }
        for (sid, statement) in &self.statements {
            let required = self.as_required(statement);
            let needed = lockout::ECR_WARDEN_REPOSITORY_ACTIONS;
            for problem in
                policy::required_statement_problems(sid, &required, &self.role_patterns(), needed, "the repository")
            {
                problems.push(at.problem("statements", problem));
            }
            if GENERATED_SIDS.contains(&sid.as_str()) {
                problems.push(at.problem("statements", format!("the Sid `{sid}` is reserved for ecr-warden's own")));
            }
        }
        problems
    }

    fn combination_problems(&self, at: At<'_>) -> Vec<Problem> {
        let generated = [
            !self.cross_account_pull.is_empty(),
            !self.cross_account_push.is_empty(),
            !self.lambda_pull.is_empty(),
            self.organization_pull,
        ];
        let required = self.statements.len() + generated.iter().filter(|g| **g).count();
        if required <= policy::MAX_OWNED_STATEMENTS {
            return Vec::new();
        }
        vec![at.problem(
            "statements",
            format!(
                "at most {} required statements (ecr-warden records the ones it wrote in one tag), found {required}",
                policy::MAX_OWNED_STATEMENTS
            ),
        )]
    }
}

/// Whether `pattern` looks like a role ARN, wildcards allowed: `arn:<partition>:iam::<account>:role/<name>`.
pub(crate) fn is_role_pattern(pattern: &str) -> bool {
    let parts: Vec<&str> = pattern.splitn(6, ':').collect();
    matches!(parts.as_slice(), ["arn", partition, "iam", "", account, resource]
        if !partition.is_empty() && !account.is_empty() && resource.strip_prefix("role/").is_some_and(|name| !name.is_empty()))
}

/// Whether `name` looks like a service principal: dot-separated words of lowercase letters, digits and dashes,
/// ending in `amazonaws.com` or another domain (`lambda.amazonaws.com`, `ecs-tasks.amazonaws.com`).
pub(crate) fn is_service_principal(name: &str) -> bool {
    let words: Vec<&str> = name.split('.').collect();
    words.len() >= 2
        && words
            .iter()
            .all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-'))
}
