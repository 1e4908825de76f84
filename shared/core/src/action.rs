//! Changes that would bring a repository to its baseline. Plain data: the edge applies them.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::observed::{ScanFrequency, ScanType, TagMutability};
use crate::policy::Narrowed;

/// One change to a repository (or to the registry, for scanning rules).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// `PutImageTagMutability`.
    SetTagMutability {
        /// The new setting.
        mutability: TagMutability,
        /// Exclusion filters, for the `*_WITH_EXCLUSION` settings.
        exclusions: Vec<String>,
    },
    /// `PutImageScanningConfiguration` with `scanOnPush: true`: the repository-level setting, which AWS is
    /// deprecating in favour of registry scanning rules (`via = "repository"` only).
    EnableScanOnPush,
    /// `PutRegistryScanningConfiguration`: add `filter` to the registry rule of `frequency`, keeping every
    /// other rule and filter.
    AddRegistryScanFilter {
        /// The rule's frequency.
        frequency: ScanFrequency,
        /// The wildcard filter to add, derived from the baseline glob that governs the repository.
        filter: String,
        /// Names the filter also covers that the baseline leaves unscanned (see `ScanScope::also_covers`).
        #[serde(skip_serializing_if = "Vec::is_empty")]
        also_covers: Vec<String>,
    },
    /// `PutRegistryScanningConfiguration`: switch the registry to `scan_type`, keeping every rule.
    SetRegistryScanType {
        /// The scan type.
        scan_type: ScanType,
    },
    /// `PutLifecyclePolicy`.
    PutLifecyclePolicy {
        /// The policy text to set.
        policy: String,
        /// The policy it replaces, kept in the report so nothing is lost silently.
        replaces: Option<String>,
    },
    /// `SetRepositoryPolicy` with a merged document, after recording (`TagResource`) which statements in it
    /// ecr-warden wrote.
    SetRepositoryPolicy {
        /// The new policy text.
        policy: String,
        /// Sids of the baseline statements added or updated.
        statements_set: Vec<String>,
        /// ecr-warden's own earlier statements replaced (outdated or duplicated), in full.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        replaced: Vec<serde_json::Value>,
        /// Statements removed (public access), printed in full so nothing is lost silently.
        removed: Vec<serde_json::Value>,
        /// Public statements kept with their public principal taken out: before (in full) and after.
        #[serde(skip_serializing_if = "Vec::is_empty")]
        narrowed: Vec<Narrowed>,
        /// The new value of the `ecr-warden:policy-statements` tag, when it changes: the fingerprints of the
        /// statements ecr-warden owns in the new policy.
        #[serde(skip_serializing_if = "Option::is_none")]
        owned: Option<String>,
    },
    /// `DeleteRepositoryPolicy`: every statement in the policy was removed (public access) and none is left.
    DeleteRepositoryPolicy {
        /// The statements removed, in full.
        removed: Vec<serde_json::Value>,
    },
    /// `TagResource` with tags to add or set.
    Tag {
        /// Keys and values to set.
        tags: BTreeMap<String, String>,
    },
}

impl Action {
    /// A one-line description for people.
    pub fn describe(&self) -> String {
        match self {
            Action::SetTagMutability { mutability, exclusions } if exclusions.is_empty() => {
                format!("set tag mutability to {}", mutability.as_str())
            }
            Action::SetTagMutability { mutability, exclusions } => {
                format!("set tag mutability to {} excluding {}", mutability.as_str(), exclusions.join(", "))
            }
            Action::EnableScanOnPush => {
                "enable scan on push on the repository (PutImageScanningConfiguration, an API AWS is deprecating)"
                    .to_string()
            }
            Action::AddRegistryScanFilter { frequency, filter, also_covers } if also_covers.is_empty() => {
                format!("add `{filter}` to the registry's {} scanning rule", frequency.as_str())
            }
            Action::AddRegistryScanFilter { frequency, filter, also_covers } => format!(
                "add `{filter}` to the registry's {} scanning rule (it also covers {})",
                frequency.as_str(),
                also_covers.join("; ")
            ),
            Action::SetRegistryScanType { scan_type: ScanType::Enhanced } => {
                "switch the registry to ENHANCED scanning (Amazon Inspector, billed per image scanned), keeping its rules"
                    .to_string()
            }
            Action::SetRegistryScanType { scan_type } => {
                format!("switch the registry to {} scanning, keeping its rules", scan_type.as_str())
            }
            Action::PutLifecyclePolicy { replaces: None, .. } => "put the baseline lifecycle policy".to_string(),
            Action::PutLifecyclePolicy { replaces: Some(_), .. } => {
                "replace the lifecycle policy with the baseline's".to_string()
            }
            Action::SetRepositoryPolicy { statements_set, replaced, removed, narrowed, .. } => {
                let mut parts = Vec::new();
                if !statements_set.is_empty() {
                    parts.push(format!("set statements {}", statements_set.join(", ")));
                }
                if !replaced.is_empty() {
                    parts.push(format!("replace {} outdated statement(s) of ecr-warden's", replaced.len()));
                }
                if !removed.is_empty() {
                    parts.push(format!("remove {} public statement(s)", removed.len()));
                }
                if !narrowed.is_empty() {
                    parts.push(format!("take the public principal out of {} statement(s)", narrowed.len()));
                }
                format!("repository policy: {}", parts.join("; "))
            }
            Action::DeleteRepositoryPolicy { removed } => {
                format!("delete the repository policy (its {} public statement(s) removed)", removed.len())
            }
            Action::Tag { tags } => {
                let pairs: Vec<String> = tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
                format!("tag {}", pairs.join(", "))
            }
        }
    }

    /// Whether this action changes the registry as a whole rather than one repository.
    pub fn is_registry_level(&self) -> bool {
        matches!(self, Action::AddRegistryScanFilter { .. } | Action::SetRegistryScanType { .. })
    }
}
