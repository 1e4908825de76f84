//! A registry's replication configuration as ECR describes it: rules, each with destinations and repository
//! filters.

use std::collections::BTreeSet;

use serde::Serialize;

/// Where images are replicated to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Destination {
    /// The destination region.
    pub region: String,
    /// The destination registry (account ID).
    pub registry_id: String,
}

impl std::fmt::Display for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.registry_id, self.region)
    }
}

/// A repository filter as ECR holds it (`PREFIX_MATCH` is the only type ECR has today; another is kept
/// as it is and covers nothing here).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RepositoryFilter {
    /// The prefix.
    pub filter: String,
    /// The filter type.
    pub filter_type: String,
}

/// The only filter type ECR has.
pub const PREFIX_MATCH: &str = "PREFIX_MATCH";

impl RepositoryFilter {
    /// A `PREFIX_MATCH` filter.
    pub fn prefix(prefix: &str) -> Self {
        Self { filter: prefix.to_string(), filter_type: PREFIX_MATCH.to_string() }
    }

    fn covers(&self, name: &str) -> bool {
        self.filter_type == PREFIX_MATCH && name.starts_with(&self.filter)
    }
}

/// One replication rule: images of the repositories its filters match (every repository when it has
/// none) go to each destination.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReplicationRule {
    /// Where.
    pub destinations: Vec<Destination>,
    /// Which repositories; empty means all.
    pub repository_filters: Vec<RepositoryFilter>,
}

impl ReplicationRule {
    pub(super) fn covers(&self, name: &str, to: &Destination) -> bool {
        self.destinations.contains(to)
            && (self.repository_filters.is_empty() || self.repository_filters.iter().any(|f| f.covers(name)))
    }

    /// Whether every repository whose name starts with `prefix` goes to `to` (`""`: every repository).
    pub(super) fn covers_all_under(&self, prefix: &str, to: &Destination) -> bool {
        self.destinations.contains(to)
            && (self.repository_filters.is_empty()
                || (!prefix.is_empty() && self.repository_filters.iter().any(|f| f.covers(prefix))))
    }

    pub(super) fn destination_set(&self) -> BTreeSet<&Destination> {
        self.destinations.iter().collect()
    }
}

/// A registry's replication configuration, as `DescribeRegistry` returns it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplicationConfiguration {
    /// The rules, in order.
    pub rules: Vec<ReplicationRule>,
}

/// What the registry is and how it replicates now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegistryReplication {
    /// The registry's account ID.
    pub registry_id: String,
    /// The registry's region.
    pub region: String,
    /// Its replication configuration.
    pub configuration: ReplicationConfiguration,
}
