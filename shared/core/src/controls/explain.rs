//! What each control checks and how it fixes, in words, with the Security Hub control and AWS Config rule it
//! corresponds to (`ecr-warden explain CONTROL`).

use serde::Serialize;

use super::{ControlId, ALL};

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
}

/// The explanation of `id`.
pub fn explain(id: ControlId) -> Explanation {
    let permissions = match ALL.iter().find(|c| c.id() == id) {
        Some(control) => control.permissions(),
        None => crate::replication::PERMISSIONS,
    };
    let (baseline_section, checks, fixes, security_hub, config_rule) = match id {
        ControlId::TagMutability => (
            "tag_mutability",
            "The repository's tag mutability is the baseline's target: IMMUTABLE, or IMMUTABLE_WITH_EXCLUSION with \
             exactly the listed exclusion filters.",
            "PutImageTagMutability with the target (and its exclusion filters).",
            Some("ECR.2"),
            Some("ecr-private-tag-immutability-enabled"),
        ),
        ControlId::Scanning => (
            "scanning",
            "Images are scanned on push or continuously: by a registry scanning rule whose filter covers the \
             repository (a filter without `*` covers every name containing it), or by the repository's own \
             scan-on-push setting (honoured under basic scanning only).",
            "via = \"registry\" (the default): the filter derived from the baseline glob that governs the repository \
             (`*` for the defaults) is added to the registry scanning rule of the wanted frequency \
             (PutRegistryScanningConfiguration), every existing rule and filter kept, ECR's limits (2 rules, 100 \
             filters) checked first. via = \"repository\": PutImageScanningConfiguration (scanOnPush), an API AWS \
             is deprecating.",
            Some("ECR.1"),
            Some("ecr-private-image-scanning-enabled"),
        ),
        ControlId::Encryption => (
            "encryption",
            "The repository is encrypted at least as strongly as the baseline's type (AES256 < KMS < KMS_DSSE), \
             where the baseline lists KMS keys with one of them, and with customer_managed_key = true with a \
             customer managed key (kms:DescribeKey), not the AWS managed aws/ecr: only then does it match \
             Security Hub ECR.5.",
            "None: ECR sets encryption only when a repository is created. A mismatch is reported with a remedy \
             (recreate the repository while it is empty, or copy its images to a new one).",
            Some("ECR.5"),
            Some("ecr-repository-cmk-encryption-enabled"),
        ),
        ControlId::LifecyclePolicy => (
            "lifecycle_policy",
            "require = \"present\": the repository has a lifecycle policy; require = \"exact\": its policy says \
             exactly what the baseline's says.",
            "PutLifecyclePolicy with the baseline's policy (validated first). Images are never deleted by \
             ecr-warden; ECR applies the policy.",
            Some("ECR.3"),
            Some("ecr-private-lifecycle-policy-configured"),
        ),
        ControlId::RepositoryPolicy => (
            "repository_policy",
            "The baseline's required statements are in the repository policy (matched by Sid) and, with \
             public_access = \"deny\", no statement grants access to everyone (Principal \"*\" or NotPrincipal \
             in an Allow, without a Condition).",
            "SetRepositoryPolicy with the merged document: required statements set, public ones removed and \
             printed in full, every other statement kept as it was; DeleteRepositoryPolicy when only public \
             statements were left.",
            None,
            None,
        ),
        ControlId::Tags => (
            "tags",
            "Every required tag is present and, where the key lists `allowed` values, has one of them.",
            "TagResource with the defaults of missing tags, and of values outside `allowed` where the key says \
             overwrite = true (otherwise such a value is reported). Tags are never removed.",
            None,
            None,
        ),
        ControlId::Replication => (
            "replication (top level, registry-wide)",
            "The registry's replication configuration sends every repository a target's globs match to each of \
             its destinations (regions x registries), and covers the folders of `team/**` globs so repositories \
             created there later are replicated too.",
            "PutReplicationConfiguration with the current configuration plus what is missing: prefix filters on \
             the rule with exactly the target's destinations, or a new rule. Globs become the fewest prefixes \
             that cover the repositories to replicate and none left out; where no prefix can, or ECR's limits \
             (10 rules, 25 destinations, 100 filters a rule) would be passed, it is reported and nothing changes. \
             Existing rules, destinations and filters are kept.",
            None,
            None,
        ),
    };
    Explanation { control: id, baseline_section, checks, fixes, permissions, security_hub, config_rule }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(crate::controls::IDS.len(), ALL.len() + 1, "every id is explained");
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
