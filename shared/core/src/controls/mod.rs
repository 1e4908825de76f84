//! The controls: each judges one aspect of a repository against the baseline and proposes the actions
//! that would fix it.
//!
//! **A control is one module.** `tag_mutability.rs`, say, holds the baseline section it reads (the keys a layer
//! may write, the settings they resolve to, how layers merge and what is checked, as a
//! [`Section`](crate::section::Section)), its [`Description`] (IAM actions, the parts of a repository it reads,
//! severity, Security Hub control and AWS Config rule, the `explain` text), and its judgement. The calls that
//! fix it are the AWS edge's, one function per [`Action`].
//!
//! **One list.** `controls/list.rs` names every section once, in report order, with its control where it has one; a
//! macro turns that list into the baseline's `defaults` and rules ([`Overrides`], [`Rule`], and so the JSON
//! Schema), the settings they resolve to ([`Resolved`]: laying a layer, the checks, audit-only mode) and the
//! repository controls ([`ALL`], which drive `plan`, `explain` and `permissions`). A macro rather than a registry
//! of trait objects because the sections differ in type: `Overrides` and `Resolved` are plain structs with one
//! typed field per section, so the rest of the code reads `want.scanning.frequency` and serde, schemars and the
//! compiler check every section, where a registry would hand out `dyn Any` and check at run time. The controls
//! themselves, which share one shape, are trait objects ([`Control`]), listed by the same macro.

pub mod creation_templates;
mod encryption;
mod explain;
mod lifecycle_policy;
mod list;
pub mod pull_through_cache;
pub mod registry_policy;
mod replication;
mod repository_policy;
mod scanning;
pub mod signing;
mod tag_mutability;
mod tags;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::action::Action;
use crate::mode::Mode;
use crate::observed::{Observed, Part};
use crate::vulnerabilities::Severity;

pub use encryption::{Encryption, EncryptionOverride, EncryptionSettings};
pub use explain::{explain, Explanation};
pub use lifecycle_policy::{LifecyclePolicy, LifecyclePolicyOverride, LifecyclePolicySettings, Require};
pub use list::{Overrides, Resolved, Rule, ALL, REGISTRY_LEVEL};
pub use repository_policy::{
    PublicAccess, RepositoryPolicy, RepositoryPolicyOverride, RepositoryPolicySettings, CROSS_ACCOUNT_PULL_SID,
    CROSS_ACCOUNT_PUSH_SID, LAMBDA_PULL_SID, ORGANIZATION_PULL_SID,
};
pub use scanning::{ScanScope, ScanVia, Scanning, ScanningOverride, ScanningSettings};
pub use tag_mutability::{TagMutability, TagMutabilityOverride, TagMutabilitySettings, TagMutabilityTarget};
pub use tags::{RequiredTag, Tags, TagsOverride, TagsSettings};

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
    /// The registry permissions policy (registry-level: see [`registry_policy`]).
    RegistryPolicy,
    /// Repository creation templates (registry-level: see [`creation_templates`]).
    CreationTemplates,
    /// Pull through cache rules (registry-level, reported only: see [`pull_through_cache`]).
    PullThroughCache,
    /// Managed image signing (registry-level: see [`signing`]).
    Signing,
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
            ControlId::RegistryPolicy => "registry-policy",
            ControlId::CreationTemplates => "creation-templates",
            ControlId::PullThroughCache => "pull-through-cache",
            ControlId::Signing => "signing",
        }
    }

    /// How much a failing control matters, in alerts and Security Hub alike (each control's [`Description`]).
    pub fn severity(self) -> Severity {
        describe(self).severity
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

/// What a registry-level setting comes to (the registry policy, the creation templates): `Fix` is what would
/// make it hold the baseline.
#[derive(Debug, Clone, PartialEq)]
pub enum RegistryJudgement<Fix> {
    /// It holds the baseline.
    Compliant,
    /// It doesn't, and nothing ecr-warden may do can fix it.
    Violation {
        /// What is wrong.
        finding: String,
        /// What a person can do.
        remedy: String,
    },
    /// It doesn't, and `fix` would fix it.
    Drift {
        /// What is wrong.
        finding: String,
        /// What the fix does, one line each.
        changes: Vec<String>,
        /// The fix.
        fix: Fix,
        /// What the fix takes out or replaces, in full.
        removed: Vec<serde_json::Value>,
    },
}

/// What a control is, besides its judgement: its name, its section, what it needs of AWS and how it maps to AWS's
/// own controls. Each control module declares one; `explain`, `permissions`, alerts and Security Hub read it.
#[derive(Debug)]
pub struct Description {
    /// The control's name.
    pub id: ControlId,
    /// Its section in a baseline (`[defaults.<section>]` or a rule's `<section>`).
    pub section: &'static str,
    /// What it checks, in words.
    pub checks: &'static str,
    /// How it fixes drift, or why it can't.
    pub fixes: &'static str,
    /// The IAM actions observing and fixing it need.
    pub permissions: &'static [&'static str],
    /// The parts of a repository's state its judgement looks at.
    pub reads: &'static [Part],
    /// How much a failure matters: what exposes images or lets them go unscanned is HIGH, what weakens their
    /// integrity or keeping MEDIUM, bookkeeping LOW.
    pub severity: Severity,
    /// The AWS Security Hub control it corresponds to, if any.
    pub security_hub: Option<&'static str>,
    /// The AWS Config managed rule behind that Security Hub control, if any.
    pub config_rule: Option<&'static str>,
    /// The CloudTrail calls that change the registry-wide setting it governs: such a call made by someone else
    /// has the setting governed again, over every repository (empty: nothing registry-wide).
    pub changed_by: &'static [&'static str],
}

/// One control: how to judge a repository and what would fix it.
pub trait Control: Sync {
    /// What the control is (see [`Description`]).
    fn description(&self) -> &'static Description;
    /// The control's mode in the resolved settings.
    fn mode(&self, want: &Resolved) -> Mode;
    /// Judges the repository; pure.
    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement;

    /// The control's stable name.
    fn id(&self) -> ControlId {
        self.description().id
    }
    /// The IAM actions observing and fixing this control need.
    fn permissions(&self) -> &'static [&'static str] {
        self.description().permissions
    }
    /// The parts of a repository's state [`Control::judge`] looks at.
    fn reads(&self) -> &'static [Part] {
        self.description().reads
    }
    /// The AWS Security Hub control this judgement matches under `want`, if it matches one.
    fn security_hub_control(&self, _want: &Resolved) -> Option<&'static str> {
        self.description().security_hub
    }
}

/// The control named `id`, when it is a repository control.
pub fn by_id(id: ControlId) -> Option<&'static dyn Control> {
    ALL.iter().copied().find(|control| control.id() == id)
}

/// The parts of a repository the controls that are on under `want` read, each once, in the order the controls
/// declare them: what governing a repository reads.
pub fn reads_for(want: &Resolved) -> Vec<Part> {
    parts_read_by(ALL.iter().copied().filter(|control| control.mode(want) != Mode::Off))
}

/// The parts `controls` read, each once, in the order they declare them.
pub fn parts_read_by(controls: impl IntoIterator<Item = &'static dyn Control>) -> Vec<Part> {
    let mut parts: Vec<Part> = Vec::new();
    for part in controls.into_iter().flat_map(|control| control.reads()) {
        if !parts.contains(part) {
            parts.push(*part);
        }
    }
    parts
}

/// The description of every control: the repository controls in report order, then the registry-level ones.
pub(crate) fn descriptions() -> impl Iterator<Item = &'static Description> {
    ALL.iter().map(|control| control.description()).chain(list::REGISTRY_LEVEL.iter().copied())
}

/// The control whose registry-wide setting the CloudTrail call `name` changes, if any.
pub fn changed_by(name: &str) -> Option<ControlId> {
    descriptions().find(|d| d.changed_by.contains(&name)).map(|d| d.id)
}

/// The description of the control `id`.
pub fn describe(id: ControlId) -> &'static Description {
    descriptions().find(|d| d.id == id).unwrap_or(&replication::REPLICATION)
}

/// Every control's name: the repository controls in report order, then the registry-level ones.
pub fn ids() -> impl Iterator<Item = ControlId> {
    descriptions().map(|d| d.id)
}

/// IAM actions every governed repository needs regardless of controls: finding it and reading its tags
/// (exemptions are tags).
pub(crate) const BASE_PERMISSIONS: &[&str] = &["ecr:DescribeRepositories", "ecr:ListTagsForResource"];

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

    use super::Resolved;
    use crate::baseline::Baseline;
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
    fn every_control_name_is_described_once() {
        let names: Vec<ControlId> = ids().collect();
        for id in &names {
            assert_eq!(describe(*id).id, *id, "{id} has its own description");
            match id {
                // A new name fails to compile here until it is in a list (ALL, or REGISTRY_LEVEL).
                ControlId::TagMutability
                | ControlId::Scanning
                | ControlId::Encryption
                | ControlId::LifecyclePolicy
                | ControlId::RepositoryPolicy
                | ControlId::Tags
                | ControlId::Replication
                | ControlId::RegistryPolicy
                | ControlId::CreationTemplates
                | ControlId::PullThroughCache
                | ControlId::Signing => {}
            }
        }
        let unique: std::collections::BTreeSet<_> = names.iter().collect();
        assert_eq!((unique.len(), names.len()), (11, 11), "{names:?}");
    }

    #[test]
    fn only_the_controls_that_are_on_are_read_for() {
        let builtin = testing::builtin();
        let all = reads_for(&builtin);
        for part in [Part::Facts, Part::RegistryScanning, Part::LifecyclePolicy, Part::RepositoryPolicy, Part::Tags] {
            assert!(all.contains(&part), "{part:?} in {all:?}");
        }
        let mut lifecycle_off = builtin.clone();
        lifecycle_off.lifecycle_policy.mode = Mode::Off;
        lifecycle_off.scanning.mode = Mode::Off;
        let parts = reads_for(&lifecycle_off);
        assert!(!parts.contains(&Part::LifecyclePolicy) && !parts.contains(&Part::RegistryScanning), "{parts:?}");
        assert_eq!(parts.len(), all.len() - 2, "each part once");
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
