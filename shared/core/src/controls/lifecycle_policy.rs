//! Lifecycle policy: the repository must have one (`present`), exactly the baseline's (`exact`, compared as
//! JSON), or one at least as strict as the baseline's (`at_least`, judged by previewing both on synthetic images:
//! see `lifecycle::compare_strictness`), in which case the fix merges the baseline's rules into the policy at free
//! priorities. A replaced policy is kept in the action so the report shows what it was.

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
    /// `present`, `exact` or `at_least`.
    pub require: Option<Require>,
    /// The policy, as a table or as JSON text.
    pub policy: Option<Value>,
    /// Or presets that expand to a policy.
    pub presets: Option<Vec<Preset>>,
}

/// What the lifecycle policy control requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Require {
    /// Any lifecycle policy.
    #[default]
    Present,
    /// Exactly the baseline's policy.
    Exact,
    /// A policy that acts on every image the baseline's acts on (at least as strongly).
    AtLeast,
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
             exactly what the baseline's says; require = \"at_least\": its policy expires (or archives) every image \
             the baseline's would, judged by previewing both on synthetic images around each baseline rule's limits.",
    fixes: "PutLifecyclePolicy with the baseline's policy (validated first); with at_least, the repository's policy \
            with the baseline's rules merged in at free priorities, checked to be at least as strict as both. Images \
            are never deleted by ecr-warden; ECR applies the policy.",
    permissions: &["ecr:GetLifecyclePolicy", "ecr:PutLifecyclePolicy"],
    reads: &[Part::LifecyclePolicy],
    severity: Severity::Medium,
    security_hub: Some("ECR.3"),
    config_rule: Some("ecr-private-lifecycle-policy-configured"),
    changed_by: &[],
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
            (Some(current), Require::AtLeast) => return at_least(current, policy),
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

/// `require = "at_least"`: compliant when `current` acts on every image `baseline` does; otherwise the merge, with
/// the counts on the synthetic images before and after it, or a violation when no merge is.
fn at_least(current: &str, baseline: &str) -> Judgement {
    let Ok(wanted) = lifecycle::LifecyclePolicy::parse(baseline) else {
        // Checked when the baseline was loaded.
        return Judgement::Compliant;
    };
    let Ok(have) = lifecycle::LifecyclePolicy::parse(current) else {
        return Judgement::Violation {
            finding: "the lifecycle policy can't be judged: it breaks ECR's rules".to_string(),
            remedy: "fix it by hand (`ecr-warden lifecycle validate` names what is wrong)".to_string(),
        };
    };
    let before = lifecycle::compare_strictness(&have, &wanted);
    if before.at_least() {
        return Judgement::Compliant;
    }
    let spared = before.spared.map(|image| format!(" (it keeps {image})")).unwrap_or_default();
    let finding = format!(
        "the lifecycle policy is weaker than the baseline's: of the {} synthetic images the baseline's expires, it \
         expires {}{spared}",
        before.baseline_acts_on, before.candidate_covers
    );
    match lifecycle::merged_policy(current, baseline) {
        Some(merged) => Judgement::Drift {
            finding: format!("{finding}; with the baseline's rules merged in: all {}", before.baseline_acts_on),
            actions: vec![Action::PutLifecyclePolicy { policy: merged, replaces: Some(current.to_string()) }],
        },
        None => Judgement::Violation {
            finding: format!(
                "{finding}; the baseline's rules can't be merged in without breaking ECR's rules or \
                              the team's own (one untagged rule, unique tag prefixes, `any` last)"
            ),
            remedy: "tighten the repository's policy by hand, or let the baseline's replace it (require = \"exact\")"
                .to_string(),
        },
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

    /// The built-in policy expires untagged images 14 days after their push.
    const AT_LEAST: &str = "[defaults.lifecycle_policy]\nrequire = \"at_least\"\n";

    #[test]
    fn at_least_accepts_a_stricter_policy_and_merges_into_a_weaker_one() {
        let want = settings(AT_LEAST);
        let mut repo = fresh_repository();
        let stricter = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":3},"action":{"type":"expire"}}]}"#;
        repo.lifecycle_policy = Some(stricter.into());
        assert_eq!(LifecyclePolicy.judge(&want, &repo), Judgement::Compliant, "judged by what it does, not its text");

        let releases = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"tagged","tagPrefixList":["release"],"countType":"imageCountMoreThan","countNumber":50},"action":{"type":"expire"}}]}"#;
        repo.lifecycle_policy = Some(releases.into());
        let Judgement::Drift { finding, actions } = LifecyclePolicy.judge(&want, &repo) else {
            panic!("drift expected")
        };
        assert!(finding.contains("of the 2 synthetic images the baseline's expires, it expires 0"), "{finding}");
        assert!(finding.contains("merged in: all 2"), "{finding}");
        let Action::PutLifecyclePolicy { policy, replaces } = &actions[0] else { panic!("a put") };
        assert_eq!(replaces.as_deref(), Some(releases), "the replaced policy is kept in the report");
        assert!(policy.contains("\"release\"") && policy.contains("\"untagged\""), "both rules: {policy}");
        repo.lifecycle_policy = Some(policy.clone());
        assert_eq!(LifecyclePolicy.judge(&want, &repo), Judgement::Compliant, "idempotent");
    }

    #[test]
    fn at_least_reports_what_no_merge_can_fix() {
        let want = settings(AT_LEAST);
        let mut repo = fresh_repository();
        repo.lifecycle_policy = Some(
            r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":90},"action":{"type":"expire"}}]}"#.into(),
        );
        let Judgement::Violation { finding, .. } = LifecyclePolicy.judge(&want, &repo) else { panic!("violation") };
        assert!(finding.contains("it keeps an untagged image pushed 14.5 days ago"), "{finding}");
        assert!(finding.contains("one untagged rule"), "{finding}");
    }
}
