//! The baseline file as written: every key optional, unknown keys rejected.
//!
//! Each section is an override: a key that is present replaces the value beneath it (lists included),
//! maps (`tags.required`, repository policy `statements` by `Sid`) are merged key by key.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::settings::{PublicAccess, Require, ScanVia, TagMutabilityTarget};
use crate::glob::NameGlob;
use crate::lifecycle::Preset;
use crate::observed::{EncryptionType, ScanFrequency};

/// What a control does with what it finds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// Fix drift.
    Enforce,
    /// Report drift, change nothing.
    Audit,
    /// Don't look.
    #[default]
    Off,
}

impl Mode {
    /// The mode as written in a baseline.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Enforce => "enforce",
            Mode::Audit => "audit",
            Mode::Off => "off",
        }
    }
}

/// A whole baseline file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BaselineFile {
    /// Which repositories are left alone.
    pub exemptions: Option<ExemptionsFile>,
    /// Settings for every repository.
    pub defaults: Option<Overrides>,
    /// Per-repository overrides, applied in order over the defaults.
    #[serde(default)]
    pub rules: Vec<Rule>,
}

/// The `[exemptions]` section.
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
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
}

/// One `[[rules]]` entry: the repositories it matches and what it overrides for them.
#[derive(Debug, Clone, Deserialize)]
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
        }
    }
}

/// A value written either alone or as a list.
#[derive(Debug, Clone, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncryptionOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// The expected encryption type.
    #[serde(rename = "type")]
    pub kind: Option<EncryptionType>,
    /// Allowed KMS key ARNs; empty allows any key.
    pub kms_keys: Option<Vec<String>>,
}

/// `lifecycle_policy` keys.
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
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
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TagsOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// Required tags by key; merged key by key.
    pub required: Option<BTreeMap<String, RequiredTag>>,
}

/// One required tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
