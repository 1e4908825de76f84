//! What each control checks and how it fixes, in words, with the Security Hub control and AWS Config rule it
//! corresponds to (`ecr-warden explain CONTROL`).

use serde::Serialize;

use super::{describe, ControlId};

/// A control explained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Explanation {
    /// The control's name.
    pub control: ControlId,
    /// Its section in a baseline (`[defaults.<section>]` or a rule's `<section>`).
    pub baseline_section: &'static str,
    /// What it checks.
    pub checks: &'static str,
    /// How it fixes drift, or why it can't.
    pub fixes: &'static str,
    /// The IAM actions observing and fixing it need.
    pub permissions: &'static [&'static str],
    /// The AWS Security Hub control it corresponds to, if any.
    pub security_hub: Option<&'static str>,
    /// The AWS Config managed rule behind that Security Hub control, if any.
    pub config_rule: Option<&'static str>,
    /// The CloudTrail calls that have its registry-wide setting governed again.
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub changed_by: &'static [&'static str],
}

/// The explanation of `id`, from its control's [`Description`](super::Description).
pub fn explain(id: ControlId) -> Explanation {
    let d = describe(id);
    Explanation {
        control: d.id,
        baseline_section: d.section,
        checks: d.checks,
        fixes: d.fixes,
        permissions: d.permissions,
        security_hub: d.security_hub,
        config_rule: d.config_rule,
        changed_by: d.changed_by,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::ALL;

    #[test]
    fn every_control_is_explained_with_its_own_permissions() {
        for control in ALL {
            let explanation = explain(control.id());
            assert_eq!(explanation.control, control.id());
            assert_eq!(explanation.permissions, control.permissions());
            assert!(!explanation.checks.is_empty() && !explanation.fixes.is_empty());
            assert_eq!(explanation.security_hub.is_some(), explanation.config_rule.is_some());
        }
        let replication = explain(ControlId::Replication);
        assert_eq!(replication.permissions, crate::replication::PERMISSIONS);
    }

    #[test]
    fn security_hub_controls_match_aws_numbering() {
        let hub = |id| explain(id).security_hub;
        assert_eq!(hub(ControlId::Scanning), Some("ECR.1"));
        assert_eq!(hub(ControlId::TagMutability), Some("ECR.2"));
        assert_eq!(hub(ControlId::LifecyclePolicy), Some("ECR.3"));
        assert_eq!(hub(ControlId::Encryption), Some("ECR.5"));
        assert_eq!(hub(ControlId::Tags), None, "ECR.4 is about public repositories");
    }
}
