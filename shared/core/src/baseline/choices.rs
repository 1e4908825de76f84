//! The values a baseline key can choose from, shared by the file as written ([`super::model`]) and the
//! settings resolved from it ([`super::settings`]).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The tag mutability a baseline can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TagMutabilityTarget {
    /// No tag can be overwritten.
    #[default]
    Immutable,
    /// No tag can be overwritten except those matching the allowed exclusions.
    ImmutableWithExclusion,
}

/// How the scanning control fixes a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScanVia {
    /// The repository's own scan-on-push setting.
    #[default]
    Repository,
    /// A registry scanning rule covering the repository.
    Registry,
}

/// What the lifecycle policy control requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Require {
    /// Any lifecycle policy.
    #[default]
    Present,
    /// Exactly the baseline's policy.
    Exact,
}

/// What happens to statements granting public access.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum PublicAccess {
    /// They are findings, and removed in enforce mode.
    #[default]
    Deny,
    /// They are left alone.
    Allow,
}
