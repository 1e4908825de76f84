//! Lifecycle policy: the repository must have one (`present`), or exactly the baseline's (`exact`,
//! compared as JSON). A replaced policy is kept in the action so the report shows what it was.

use super::{Control, ControlId, Judgement};
use crate::action::Action;
use crate::baseline::{Mode, Require, Resolved};
use crate::lifecycle::same_policy;
use crate::observed::{Observed, Part};

/// The lifecycle policy control.
pub struct LifecyclePolicy;

impl Control for LifecyclePolicy {
    fn id(&self) -> ControlId {
        ControlId::LifecyclePolicy
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.lifecycle_policy.mode
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ecr:GetLifecyclePolicy", "ecr:PutLifecyclePolicy"]
    }

    fn reads(&self) -> &'static [Part] {
        &[Part::LifecyclePolicy]
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
