//! The controls: each judges one aspect of a repository against the baseline and proposes the actions
//! that would fix it. Each declares the IAM actions its observation and fix need, so the deployment's
//! policies can be checked against the code.

mod encryption;
mod explain;
mod lifecycle_policy;
mod repository_policy;
mod scanning;
mod tag_mutability;
mod tags;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::baseline::{Mode, Resolved};
use crate::observed::{Observed, Part};
use crate::vulnerabilities::Severity;

pub use encryption::Encryption;
pub use explain::{explain, Explanation};
pub use lifecycle_policy::LifecyclePolicy;
pub use repository_policy::RepositoryPolicy;
pub use scanning::Scanning;
pub use tag_mutability::TagMutability;
pub use tags::Tags;

/// A control's stable name, used in reports and output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ControlId {
    /// Tag immutability.
    TagMutability,
    /// Scan on push or continuous scanning.
    Scanning,
    /// Encryption at rest.
    Encryption,
    /// A lifecycle policy.
    LifecyclePolicy,
    /// Repository policy: required statements, no public access.
    RepositoryPolicy,
    /// Required tags.
    Tags,
    /// Registry replication (registry-level: see [`crate::replication`]).
    Replication,
}

impl ControlId {
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            ControlId::TagMutability => "tag-mutability",
            ControlId::Scanning => "scanning",
            ControlId::Encryption => "encryption",
            ControlId::LifecyclePolicy => "lifecycle-policy",
            ControlId::RepositoryPolicy => "repository-policy",
            ControlId::Tags => "tags",
            ControlId::Replication => "replication",
        }
    }

    /// How much a failing control matters, in alerts and Security Hub alike: what exposes images or lets them go
    /// unscanned is HIGH, what weakens their integrity or keeping MEDIUM, bookkeeping LOW.
    pub fn severity(self) -> Severity {
        match self {
            ControlId::Scanning | ControlId::RepositoryPolicy => Severity::High,
            ControlId::TagMutability | ControlId::Encryption | ControlId::LifecyclePolicy => Severity::Medium,
            ControlId::Tags | ControlId::Replication => Severity::Low,
        }
    }
}

impl fmt::Display for ControlId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a control concluded about one repository.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// The repository holds the baseline.
    Compliant,
    /// It doesn't, and these actions would fix it.
    Drift {
        /// What is wrong.
        finding: String,
        /// What would fix it.
        actions: Vec<Action>,
    },
    /// It doesn't, and nothing ecr-warden may do can fix it.
    Violation {
        /// What is wrong.
        finding: String,
        /// What a person can do about it.
        remedy: String,
    },
}

/// One control: how to judge a repository and what would fix it.
pub trait Control: Sync {
    /// The control's stable name.
    fn id(&self) -> ControlId;
    /// The control's mode in the resolved settings.
    fn mode(&self, want: &Resolved) -> Mode;
    /// The IAM actions observing and fixing this control need.
    fn permissions(&self) -> &'static [&'static str];
    /// The parts of a repository's state [`Control::judge`] looks at.
    fn reads(&self) -> &'static [Part];
    /// Judges the repository; pure.
    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement;
    /// The AWS Security Hub control this judgement matches under `want`, if it matches one.
    fn security_hub_control(&self, _want: &Resolved) -> Option<&'static str> {
        explain::explain(self.id()).security_hub
    }
}

/// The control named `id`, when it is a repository control.
pub fn by_id(id: ControlId) -> Option<&'static dyn Control> {
    ALL.iter().copied().find(|control| control.id() == id)
}

/// Every control's name: the repository controls in report order, then the registry-level ones.
pub const IDS: &[ControlId] = &[
    ControlId::TagMutability,
    ControlId::Scanning,
    ControlId::Encryption,
    ControlId::LifecyclePolicy,
    ControlId::RepositoryPolicy,
    ControlId::Tags,
    ControlId::Replication,
];

/// Every repository control, in report order.
pub const ALL: &[&dyn Control] = &[&TagMutability, &Scanning, &Encryption, &LifecyclePolicy, &RepositoryPolicy, &Tags];

/// IAM actions every governed repository needs regardless of controls: finding it and reading its tags
/// (exemptions are tags).
pub const BASE_PERMISSIONS: &[&str] = &["ecr:DescribeRepositories", "ecr:ListTagsForResource"];

/// Every IAM action governing needs, sorted and without duplicates.
pub fn all_permissions() -> Vec<&'static str> {
    let mut all: Vec<&'static str> =
        BASE_PERMISSIONS.iter().copied().chain(ALL.iter().flat_map(|c| c.permissions().iter().copied())).collect();
    all.sort_unstable();
    all.dedup();
    all
}

#[cfg(test)]
pub(crate) mod testing {
    //! Builders shared by the controls' tests.
    use std::collections::BTreeMap;

    use crate::baseline::{Baseline, Resolved};
    use crate::observed::{EncryptionType, Observed, RepositoryFacts, TagMutability};

    /// The built-in settings.
    pub(crate) fn builtin() -> Resolved {
        Baseline::builtin().expect("built-in parses").resolve("repo").expect("resolves")
    }

    /// Settings from a baseline text.
    pub(crate) fn settings(toml: &str) -> Resolved {
        match Baseline::parse("test.toml", toml) {
            Ok(b) => b.resolve("repo").expect("resolves"),
            Err(e) => panic!("{e}"),
        }
    }

    /// A repository with every setting at ECR's creation default.
    pub(crate) fn fresh_repository() -> Observed {
        Observed {
            facts: RepositoryFacts {
                name: "repo".into(),
                arn: "arn:aws:ecr:us-east-1:123456789012:repository/repo".into(),
                tag_mutability: TagMutability::Mutable,
                mutability_exclusions: vec![],
                scan_on_push: false,
                encryption: EncryptionType::Aes256,
                kms_key: None,
            },
            lifecycle_policy: None,
            repository_policy: None,
            tags: BTreeMap::new(),
            registry_scanning: None,
            key_manager: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_names_are_unique_and_stable() {
        let names: Vec<&str> = ALL.iter().map(|c| c.id().as_str()).collect();
        assert_eq!(
            names,
            ["tag-mutability", "scanning", "encryption", "lifecycle-policy", "repository-policy", "tags"]
        );
    }

    #[test]
    fn permissions_are_ecr_actions_and_reading_key_metadata() {
        let all = all_permissions();
        assert!(all.iter().all(|p| p.starts_with("ecr:") || *p == "kms:DescribeKey"), "{all:?}");
        assert!(all.contains(&"ecr:PutImageTagMutability"));
        assert!(!all.iter().any(|p| p.contains("Delete") && *p != "ecr:DeleteRepositoryPolicy"));
        assert!(!all.contains(&"ecr:BatchDeleteImage"), "images are never deleted");
    }
}
