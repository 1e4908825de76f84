//! Lifecycle policy: the repository must have one (`present`), or exactly the baseline's (`exact`,
//! compared as JSON). A replaced policy is kept in the action so the report shows what it was.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{Control, ControlId, Description, Judgement, Resolved};
use crate::action::Action;
use crate::lifecycle::{self, same_policy, Preset};
use crate::mode::Mode;
use crate::observed::{Observed, Part};
use crate::section::{set, At, Problem, Section};
use crate::vulnerabilities::Severity;

/// The lifecycle policy control.
pub struct LifecyclePolicy;

/// `lifecycle_policy` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecyclePolicyOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// `present` or `exact`.
    pub require: Option<Require>,
    /// The policy, as a table or as JSON text.
    pub policy: Option<Value>,
    /// Or presets that expand to a policy.
    pub presets: Option<Vec<Preset>>,
}

/// What the lifecycle policy control requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    /// Any lifecycle policy.
    #[default]
    Present,
    /// Exactly the baseline's policy.
    Exact,
}

/// Lifecycle policy settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LifecyclePolicySettings {
    /// Mode.
    pub mode: Mode,
    /// Present or exact.
    pub require: Require,
    /// The baseline's policy as compact JSON text (empty when none was given).
    pub policy: String,
}

impl Section for LifecyclePolicySettings {
    type Layer = LifecyclePolicyOverride;

    fn nothing() -> Self {
        Self::default()
    }

    fn mode_mut(&mut self) -> &mut Mode {
        &mut self.mode
    }

    fn merge(&mut self, layer: &LifecyclePolicyOverride, at: At<'_>) -> Vec<Problem> {
        set(&mut self.mode, &layer.mode);
        set(&mut self.require, &layer.require);
        match (&layer.policy, &layer.presets) {
            (Some(_), Some(_)) => return vec![at.problem("", "give `policy` or `presets`, not both")],
            (Some(policy), None) => match policy_text(policy) {
                Ok(text) => self.policy = text,
                Err(problem) => return vec![at.problem("policy", problem)],
            },
            (None, Some(presets)) => match lifecycle::expand_presets(presets) {
                Ok(text) => self.policy = text,
                Err(found) => return found.into_iter().map(|p| p.under(&at.to_string())).collect(),
            },
            (None, None) => {}
        }
        Vec::new()
    }

    fn value_problems(&self, at: At<'_>) -> Vec<Problem> {
        if self.mode == Mode::Off || self.policy.is_empty() {
            return Vec::new();
        }
        lifecycle::check(&self.policy).into_iter().map(|problem| at.problem("policy", problem)).collect()
    }

    fn combination_problems(&self, at: At<'_>) -> Vec<Problem> {
        match self.mode != Mode::Off && self.policy.is_empty() {
            true => vec![at.problem("policy", "a policy is required")],
            false => Vec::new(),
        }
    }
}

/// A lifecycle policy given as JSON text or as a table, as compact JSON text.
fn policy_text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => {
            serde_json::from_str::<Value>(text).map(|v| v.to_string()).map_err(|e| format!("not valid JSON: {e}"))
        }
        Value::Object(_) => Ok(value.to_string()),
        _ => Err("must be a table or a JSON string".to_string()),
    }
}

const DESCRIPTION: Description = Description {
    id: ControlId::LifecyclePolicy,
    section: "lifecycle_policy",
    checks: "require = \"present\": the repository has a lifecycle policy; require = \"exact\": its policy says \
             exactly what the baseline's says.",
    fixes: "PutLifecyclePolicy with the baseline's policy (validated first). Images are never deleted by \
            ecr-warden; ECR applies the policy.",
    permissions: &["ecr:GetLifecyclePolicy", "ecr:PutLifecyclePolicy"],
    reads: &[Part::LifecyclePolicy],
    severity: Severity::Medium,
    security_hub: Some("ECR.3"),
    config_rule: Some("ecr-private-lifecycle-policy-configured"),
};

impl Control for LifecyclePolicy {
    fn description(&self) -> &'static Description {
        &DESCRIPTION
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.lifecycle_policy.mode
    }

    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement {
        let policy = &want.lifecycle_policy.policy;
        let finding = match (&have.lifecycle_policy, want.lifecycle_policy.require) {
            (None, _) => "no lifecycle policy",
            (Some(_), Require::Present) => return Judgement::Compliant,
            (Some(current), Require::Exact) if same_policy(current, policy) => return Judgement::Compliant,
            (Some(_), Require::Exact) => "the lifecycle policy differs from the baseline's",
        };
        Judgement::Drift {
            finding: finding.to_string(),
            actions: vec![Action::PutLifecyclePolicy {
                policy: policy.clone(),
                replaces: have.lifecycle_policy.clone(),
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{builtin, fresh_repository, settings};

    const OTHER: &str = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":9},"action":{"type":"expire"}}]}"#;

    #[test]
    fn a_missing_policy_is_put() {
        let want = builtin();
        match LifecyclePolicy.judge(&want, &fresh_repository()) {
            Judgement::Drift { actions, .. } => assert_eq!(
                actions,
                vec![Action::PutLifecyclePolicy { policy: want.lifecycle_policy.policy.clone(), replaces: None }]
            ),
            other => panic!("expected drift, got {other:?}"),
        }
    }

    #[test]
    fn any_policy_is_compliant_when_presence_is_required() {
        let mut repo = fresh_repository();
        repo.lifecycle_policy = Some(OTHER.into());
        assert_eq!(LifecyclePolicy.judge(&builtin(), &repo), Judgement::Compliant);
    }

    #[test]
    fn exact_compares_as_json_and_keeps_the_replaced_policy() {
        let want = settings("[defaults.lifecycle_policy]\nrequire = \"exact\"\n");
        let mut repo = fresh_repository();
        let pretty = serde_json::to_string_pretty(
            &serde_json::from_str::<serde_json::Value>(&want.lifecycle_policy.policy).expect("json"),
        )
        .expect("json");
        repo.lifecycle_policy = Some(pretty);
        assert_eq!(LifecyclePolicy.judge(&want, &repo), Judgement::Compliant);
        repo.lifecycle_policy = Some(OTHER.into());
        match LifecyclePolicy.judge(&want, &repo) {
            Judgement::Drift { actions, .. } => {
                assert!(matches!(&actions[0], Action::PutLifecyclePolicy { replaces: Some(old), .. } if old == OTHER))
            }
            other => panic!("expected drift, got {other:?}"),
        }
    }
}
