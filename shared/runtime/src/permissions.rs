//! The IAM actions each Lambda function's code paths call: what its role must grant, no more, no less.
//! `template.yaml` is checked against this (`make check-template`).

use warden_core::controls;

use crate::handle::Purpose;

/// ECR actions that can't be scoped to a repository ARN and need `Resource: "*"`.
pub const REGISTRY_WIDE: &[&str] =
    &["ecr:DescribeRepositories", "ecr:GetRegistryScanningConfiguration", "ecr:PutRegistryScanningConfiguration"];

/// The IAM actions the function serving `purpose` calls, sorted.
pub fn for_purpose(purpose: Purpose) -> Vec<&'static str> {
    // Every function governs repositories (each control's observe and fix) and reads its baseline from SSM.
    let mut actions = controls::all_permissions();
    actions.push("ssm:GetParameter");
    if matches!(purpose, Purpose::Backfill | Purpose::Any) {
        // A backfill request may ask for `lifecycleImpact`, which reads images.
        actions.push("ecr:DescribeImages");
    }
    actions.sort_unstable();
    actions.dedup();
    actions
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_never_get_destructive_image_actions() {
        for purpose in [Purpose::RepositoryEvents, Purpose::Backfill] {
            let actions = for_purpose(purpose);
            assert!(!actions.iter().any(|a| a.contains("BatchDeleteImage") || a.contains("DeleteRepository\"")));
            assert!(actions.contains(&"ecr:PutImageTagMutability"));
            assert!(REGISTRY_WIDE.iter().all(|a| actions.contains(a)));
        }
        assert!(!for_purpose(Purpose::RepositoryEvents).contains(&"ecr:DescribeImages"));
        assert!(for_purpose(Purpose::Backfill).contains(&"ecr:DescribeImages"));
    }
}
