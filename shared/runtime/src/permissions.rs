//! The IAM actions each Lambda function's code paths call: what its role must grant, no more, no less.
//! `template.yaml` is checked against this (`make check-template`).

use warden_core::controls;

use crate::handle::Purpose;

/// Actions that can't be scoped to a repository ARN and need `Resource: "*"`.
pub const REGISTRY_WIDE: &[&str] = &[
    "ecr:DescribeRepositories",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:PutRegistryScanningConfiguration",
    "inspector2:ListFindings",
];

/// What sending alerts calls (scoped to the alert topic and bus).
pub const ALERTING: &[&str] = &["events:PutEvents", "sns:Publish"];

/// The IAM actions the function serving `purpose` calls, sorted.
pub fn for_purpose(purpose: Purpose) -> Vec<&'static str> {
    let any = purpose == Purpose::Any;
    // Every function reads its baseline from SSM.
    let mut actions = vec!["ssm:GetParameter"];
    if purpose != Purpose::ScanResults {
        // Governing a repository: each control's observe and fix.
        actions.extend(controls::all_permissions());
    }
    if matches!(purpose, Purpose::RepositoryEvents | Purpose::ImagePushes | Purpose::ScanResults) || any {
        actions.extend(ALERTING);
    }
    if purpose == Purpose::ImagePushes || any {
        actions.push("ecr:StartImageScan");
    }
    if purpose == Purpose::ScanResults || any {
        // Reading an enhanced scan's findings through ECR also needs Inspector's ListFindings.
        actions.extend(["ecr:DescribeImageScanFindings", "inspector2:ListFindings"]);
    }
    if purpose == Purpose::Backfill || any {
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
        for purpose in [Purpose::RepositoryEvents, Purpose::ImagePushes, Purpose::ScanResults, Purpose::Backfill] {
            let actions = for_purpose(purpose);
            assert!(!actions.iter().any(|a| a.contains("BatchDeleteImage") || *a == "ecr:DeleteRepository"));
            assert!(!actions.iter().any(|a| a.contains("PutImage\"") || a.ends_with(":PutImage")));
        }
    }

    #[test]
    fn each_function_gets_what_its_code_path_calls() {
        let governs = |p| for_purpose(p).contains(&"ecr:PutImageTagMutability");
        assert!(governs(Purpose::RepositoryEvents) && governs(Purpose::ImagePushes) && governs(Purpose::Backfill));
        assert!(!governs(Purpose::ScanResults), "the scan function only reads findings and alerts");
        assert!(for_purpose(Purpose::ImagePushes).contains(&"ecr:StartImageScan"));
        assert!(!for_purpose(Purpose::RepositoryEvents).contains(&"ecr:StartImageScan"));
        assert!(for_purpose(Purpose::ScanResults).contains(&"ecr:DescribeImageScanFindings"));
        assert!(!for_purpose(Purpose::Backfill).contains(&"sns:Publish"), "backfills report, they don't alert");
        assert!(for_purpose(Purpose::Backfill).contains(&"ecr:DescribeImages"));
        assert!(!for_purpose(Purpose::RepositoryEvents).contains(&"ecr:DescribeImages"));
        let any = for_purpose(Purpose::Any);
        for purpose in [Purpose::RepositoryEvents, Purpose::ImagePushes, Purpose::ScanResults, Purpose::Backfill] {
            assert!(for_purpose(purpose).iter().all(|a| any.contains(a)), "{purpose:?}");
        }
    }
}
