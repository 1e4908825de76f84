//! Replication, the registry-level control: what it is and needs. Its section is the baseline's top-level
//! `[replication]` (see [`crate::replication`], which judges the registry's configuration and plans the put).

use super::{ControlId, Description};
use crate::vulnerabilities::Severity;

/// The replication control's description.
pub(super) const REPLICATION: Description = Description {
    id: ControlId::Replication,
    section: "replication (top level, registry-wide)",
    checks: "The registry's replication configuration sends every repository a target's globs match to each of \
             its destinations (regions x registries), and covers the folders of `team/**` globs so repositories \
             created there later are replicated too.",
    fixes: "PutReplicationConfiguration with the current configuration plus what is missing: prefix filters on \
            the rule with exactly the target's destinations, or a new rule. Globs become the fewest prefixes \
            that cover the repositories to replicate and none left out; where no prefix can, or ECR's limits \
            (10 rules, 25 destinations, 100 filters a rule) would be passed, it is reported and nothing changes. \
            Existing rules, destinations and filters are kept.",
    permissions: crate::replication::PERMISSIONS,
    reads: &[],
    severity: Severity::Low,
    security_hub: None,
    config_rule: None,
    changed_by: &["PutReplicationConfiguration"],
};
