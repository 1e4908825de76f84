//! The baseline file as written: every key optional, unknown keys rejected.
//!
//! Each section is an override: a key that is present replaces the value beneath it (lists included),
//! maps (`tags.required`, repository policy `statements` by `Sid`) are merged key by key. What `defaults` and a rule
//! may hold is made from the list of controls ([`crate::controls::Overrides`]).

use schemars::JsonSchema;
use serde::Deserialize;

use crate::controls::creation_templates::CreationTemplatesFile;
use crate::controls::pull_through_cache::PullThroughCacheFile;
use crate::controls::registry_policy::RegistryPolicyFile;
use crate::controls::signing::SigningFile;
use crate::controls::{Overrides, Rule};
use crate::glob::{NameGlob, OneOrMany};
use crate::mode::Mode;

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
    /// Organization mode: which accounts are governed.
    pub organization: Option<OrganizationFile>,
    /// The registry permissions policy.
    pub registry_policy: Option<RegistryPolicyFile>,
    /// The repository creation templates derived from the baseline.
    pub creation_templates: Option<CreationTemplatesFile>,
    /// The pull through cache rules' upstreams (reported only).
    pub pull_through_cache: Option<PullThroughCacheFile>,
    /// Where images in use are found, which lifecycle policies must never expire.
    pub in_use: Option<crate::lifecycle::in_use::InUseFile>,
    /// Which repositories' images ECR signs, with which profile.
    pub signing: Option<SigningFile>,
}

/// The `[organization]` section: the accounts governed, by ID or by organizational unit (or root). Neither: every
/// account of the organization.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganizationFile {
    /// Account IDs governed.
    #[serde(default)]
    pub accounts: Vec<String>,
    /// Organizational unit and root IDs (`ou-...`, `r-...`) whose accounts are governed, at any depth.
    #[serde(default)]
    pub organizational_units: Vec<String>,
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
    /// Repository-name globs that are exempt for good.
    pub repositories: Option<Vec<NameGlob>>,
    /// Listed exemptions, each with the globs it covers, an owner, a reason and an expiry date.
    pub granted: Option<Vec<super::Grant>>,
    /// Accounts left alone entirely (organization mode).
    pub accounts: Option<Vec<String>>,
}
