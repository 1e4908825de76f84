//! The baseline file as written: every key optional, unknown keys rejected.
//!
//! Each section is an override: a key that is present replaces the value beneath it (lists included),
//! maps (`tags.required`, repository policy `statements` by `Sid`) are merged key by key.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::choices::{PublicAccess, Require, ScanVia, TagMutabilityTarget};
use crate::glob::NameGlob;
use crate::lifecycle::Preset;
pub use crate::mode::Mode;
use crate::observed::{EncryptionType, ScanFrequency};
use crate::vulnerabilities::{Severity, Suppression};

/// A whole baseline file.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    /// The JSON Schema this file follows (for editors; ignored).
    #[serde(rename = "$schema")]
    pub schema: Option<String>,
    /// Which repositories are left alone.
    pub exemptions: Option<ExemptionsFile>,
    /// Settings for every repository.
    pub defaults: Option<Overrides>,
    /// Per-repository overrides, applied in order over the defaults.
    #[serde(default)]
    pub rules: Vec<Rule>,
    /// Where alerts go.
    pub alerts: Option<AlertsFile>,
    /// Which repositories the registry replicates, and where.
    pub replication: Option<ReplicationFile>,
}

/// The `[replication]` section: registry-level, so it is not part of `defaults` or `rules`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicationFile {
    /// Mode (default `off`).
    pub mode: Option<Mode>,
    /// What is replicated where.
    #[serde(default)]
    pub targets: Vec<ReplicationTargetFile>,
}

/// One `[[replication.targets]]` entry.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplicationTargetFile {
    /// Repository-name globs (one string or a list).
    pub repositories: OneOrMany<NameGlob>,
    /// Destination regions.
    pub regions: Vec<String>,
    /// Destination registries (account IDs); none means this registry's own account.
    #[serde(default)]
    pub registries: Vec<String>,
}

/// The `[alerts]` section: where alerts are sent (each sink optional; the environment variables
/// `ECR_WARDEN_ALERT_TOPIC_ARN` and `ECR_WARDEN_ALERT_BUS` win over these).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AlertsFile {
    /// SNS topic ARN.
    pub sns_topic_arn: Option<String>,
    /// EventBridge bus name or ARN.
    pub event_bus: Option<String>,
    /// Whether governance findings and vulnerability alerts also go to AWS Security Hub (default false).
    pub security_hub: Option<bool>,
}

/// The `[exemptions]` section.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExemptionsFile {
    /// Tag key marking a repository exempt.
    pub tag_key: Option<String>,
    /// Tag value marking a repository exempt.
    pub tag_value: Option<String>,
    /// Repository-name globs that are exempt.
    pub repositories: Option<Vec<NameGlob>>,
}

/// Settings for some or all controls; every key optional.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Overrides {
    /// Tag mutability control.
    pub tag_mutability: Option<TagMutabilityOverride>,
    /// Scanning control.
    pub scanning: Option<ScanningOverride>,
    /// Encryption control.
    pub encryption: Option<EncryptionOverride>,
    /// Lifecycle policy control.
    pub lifecycle_policy: Option<LifecyclePolicyOverride>,
    /// Repository policy control.
    pub repository_policy: Option<RepositoryPolicyOverride>,
    /// Tags control.
    pub tags: Option<TagsOverride>,
    /// Rules for the tags of pushed images.
    pub image_tags: Option<ImageTagsOverride>,
    /// When scan findings become alerts.
    pub vulnerabilities: Option<VulnerabilitiesOverride>,
}

/// One `[[rules]]` entry: the repositories it matches and what it overrides for them.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    /// Repository-name globs (one string or a list); the rule applies where any matches.
    #[serde(rename = "match")]
    pub matches: OneOrMany<NameGlob>,
    /// Tag mutability control.
    pub tag_mutability: Option<TagMutabilityOverride>,
    /// Scanning control.
    pub scanning: Option<ScanningOverride>,
    /// Encryption control.
    pub encryption: Option<EncryptionOverride>,
    /// Lifecycle policy control.
    pub lifecycle_policy: Option<LifecyclePolicyOverride>,
    /// Repository policy control.
    pub repository_policy: Option<RepositoryPolicyOverride>,
    /// Tags control.
    pub tags: Option<TagsOverride>,
    /// Rules for the tags of pushed images.
    pub image_tags: Option<ImageTagsOverride>,
    /// When scan findings become alerts.
    pub vulnerabilities: Option<VulnerabilitiesOverride>,
}

impl Rule {
    /// The rule's settings as an [`Overrides`].
    pub fn overrides(&self) -> Overrides {
        Overrides {
            tag_mutability: self.tag_mutability.clone(),
            scanning: self.scanning.clone(),
            encryption: self.encryption.clone(),
            lifecycle_policy: self.lifecycle_policy.clone(),
            repository_policy: self.repository_policy.clone(),
            tags: self.tags.clone(),
            image_tags: self.image_tags.clone(),
            vulnerabilities: self.vulnerabilities.clone(),
        }
    }
}

/// A value written either alone or as a list.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// A single value.
    One(T),
    /// A list of values.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The values as a slice.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

/// `tag_mutability` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagMutabilityOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// The setting to hold repositories to.
    pub target: Option<TagMutabilityTarget>,
    /// Allowed exclusion filters, with `IMMUTABLE_WITH_EXCLUSION`.
    pub exclusions: Option<Vec<String>>,
}

/// `scanning` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanningOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// Fix with the repository setting or a registry rule.
    pub via: Option<ScanVia>,
    /// The registry rule frequency, with `via = "registry"`.
    pub frequency: Option<ScanFrequency>,
}

/// `encryption` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EncryptionOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// The expected encryption type.
    #[serde(rename = "type")]
    pub kind: Option<EncryptionType>,
    /// Allowed KMS key ARNs; empty allows any key.
    pub kms_keys: Option<Vec<String>>,
    /// Whether the key must be customer managed, not the AWS managed `aws/ecr` (what Security Hub ECR.5 and the
    /// AWS Config rule `ecr-repository-cmk-encryption-enabled` ask).
    pub customer_managed_key: Option<bool>,
}

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

/// `repository_policy` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RepositoryPolicyOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// Whether public statements are removed.
    pub public_access: Option<PublicAccess>,
    /// Account IDs allowed to pull (a statement with Sid `EcrWardenCrossAccountPull`).
    pub cross_account_pull: Option<Vec<String>>,
    /// Required statements, each with a `Sid`; merged by `Sid`.
    pub statements: Option<Vec<Value>>,
}

/// `tags` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// Required tags by key; merged key by key.
    pub required: Option<BTreeMap<String, RequiredTag>>,
}

/// `image_tags` keys: rules for the tag of every pushed image. Violations are findings and alerts; images
/// are never deleted or retagged.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ImageTagsOverride {
    /// Mode (`audit` and `enforce` both report; nothing is changed).
    pub mode: Option<Mode>,
    /// Regular expressions a tag must match one of (whole tag); empty allows any.
    pub allowed: Option<Vec<String>>,
    /// Regular expressions no tag may match (whole tag).
    pub forbidden: Option<Vec<String>>,
    /// Whether digest-only pushes (no tag) are allowed.
    pub allow_untagged: Option<bool>,
}

/// `vulnerabilities` keys: when scan findings become an alert.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VulnerabilitiesOverride {
    /// Mode (`off`: no vulnerability alerts; `audit` and `enforce` both alert).
    pub mode: Option<Mode>,
    /// Most findings accepted per severity (alert when a count is over); merged key by key.
    pub threshold: Option<BTreeMap<Severity, u32>>,
    /// Least severe severity listed in an alert.
    pub list_min_severity: Option<Severity>,
    /// Most findings listed in an alert.
    pub max_listed: Option<usize>,
    /// Accepted vulnerability IDs, each with a reason and an expiry date.
    pub suppressions: Option<Vec<Suppression>>,
}

/// One required tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredTag {
    /// The value to add when the tag is missing.
    pub default: Option<String>,
    /// The values allowed; empty allows any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Whether a value outside `allowed` is replaced by `default`.
    #[serde(default)]
    pub overwrite: bool,
}
