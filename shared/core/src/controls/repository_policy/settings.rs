//! The `repository_policy` section: the statements the policy must hold (merged by `Sid` across layers), the
//! accounts allowed to pull, and what happens to public statements.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::mode::Mode;
use crate::policy;
use crate::section::{set, At, Problem, Section};

/// Sid of the statement generated from `cross_account_pull`.
pub const CROSS_ACCOUNT_PULL_SID: &str = "EcrWardenCrossAccountPull";

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
}

impl RepositoryPolicySettings {
    /// The statements the repository policy must hold: the configured ones and the cross-account pull one, whose
    /// account principals are written in `partition` (`aws`, `aws-cn`, `aws-us-gov`: the repository's).
    pub fn required_statements(&self, partition: &str) -> Vec<Value> {
        let mut statements: Vec<Value> = self.statements.values().cloned().collect();
        if !self.cross_account_pull.is_empty() {
            let principals: Vec<String> =
                self.cross_account_pull.iter().map(|id| format!("arn:{partition}:iam::{id}:root")).collect();
            statements.push(json!({
                "Sid": CROSS_ACCOUNT_PULL_SID,
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }));
        }
        statements
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
        for (sid, statement) in &self.statements {
            for problem in policy::shape::problems(statement) {
                problems.push(at.problem("statements", format!("`{sid}`: {problem}")));
            }
            if policy::grants_public_access(statement) {
                problems.push(at.problem(
                    "statements",
                    format!("`{sid}` grants public access (no condition narrows who can use it)"),
                ));
            }
            if sid == CROSS_ACCOUNT_PULL_SID {
                problems.push(at.problem("statements", format!("the Sid `{sid}` is reserved for cross_account_pull")));
            }
        }
        problems
    }

    fn combination_problems(&self, at: At<'_>) -> Vec<Problem> {
        let required = self.statements.len() + usize::from(!self.cross_account_pull.is_empty());
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
