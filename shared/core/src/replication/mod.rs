//! Registry replication: the baseline names repositories (by glob) and where they must be replicated; the
//! registry's replication configuration must cover them. Pure: [`judge`] compares what a registry has with
//! what the baseline asks and, where something is missing, proposes the whole new configuration, keeping
//! every rule, destination and filter already there.

mod model;
pub(crate) mod prefixes;

use std::collections::BTreeSet;

use crate::glob::NameGlob;
use crate::mode::Mode;

pub use model::{
    Destination, RegistryReplication, ReplicationConfiguration, ReplicationRule, RepositoryFilter, PREFIX_MATCH,
};
pub use prefixes::{choose, exact_prefix, literal_start, Inseparable, Want, MIN_FILTER_LEN};

/// The IAM actions the replication control needs (registry-wide: their resource is `*`).
pub const PERMISSIONS: &[&str] = &["ecr:DescribeRegistry", "ecr:PutReplicationConfiguration"];

/// ECR's limit on rules in a registry's replication configuration.
pub const MAX_RULES: usize = 10;
/// ECR's limit on distinct destinations across all rules.
pub const MAX_DESTINATIONS: usize = 25;
/// ECR's limit on repository filters in one rule.
pub const MAX_FILTERS: usize = 100;

/// One baseline replication target: repositories and where they go.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicationTarget {
    /// Repository-name globs.
    pub repositories: Vec<NameGlob>,
    /// Destination regions.
    pub regions: Vec<String>,
    /// Destination registries (account IDs); empty means the registry's own account.
    pub registries: Vec<String>,
}

impl ReplicationTarget {
    fn matches(&self, name: &str) -> bool {
        self.repositories.iter().any(|glob| glob.matches(name))
    }

    fn destinations(&self, own_registry: &str) -> Vec<Destination> {
        let registries: Vec<&str> = if self.registries.is_empty() {
            vec![own_registry]
        } else {
            self.registries.iter().map(String::as_str).collect()
        };
        let mut all: Vec<Destination> = self
            .regions
            .iter()
            .flat_map(|region| {
                registries.iter().map(|id| Destination { region: region.clone(), registry_id: id.to_string() })
            })
            .collect();
        all.sort();
        all.dedup();
        all
    }
}

/// The baseline's `[replication]` section, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReplicationSettings {
    /// Mode.
    pub mode: Mode,
    /// What goes where.
    pub targets: Vec<ReplicationTarget>,
}

/// What [`judge`] concluded.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// Every target is covered.
    Compliant,
    /// Something is missing; `configuration` is the whole configuration that would cover it.
    Drift {
        /// What is missing.
        finding: String,
        /// The configuration to put: the current one with rules or filters added.
        configuration: ReplicationConfiguration,
        /// What changes, one line each.
        changes: Vec<String>,
    },
    /// Something is missing that ecr-warden can't add.
    Violation {
        /// What is wrong.
        finding: String,
        /// What a person can do.
        remedy: String,
    },
}

/// Judges the registry's replication against `settings`. `repositories` are every repository in the
/// registry; `exempt` says which are left alone (neither needed nor avoided).
pub fn judge(
    settings: &ReplicationSettings,
    have: &RegistryReplication,
    repositories: &[String],
    exempt: impl Fn(&str) -> bool,
) -> Judgement {
    let own = Destination { region: have.region.clone(), registry_id: have.registry_id.clone() };
    let mut proposed = have.configuration.clone();
    let mut missing = Vec::new();
    let mut changes = Vec::new();
    for (index, target) in settings.targets.iter().enumerate() {
        let destinations = target.destinations(&have.registry_id);
        if destinations.contains(&own) {
            return Judgement::Violation {
                finding: format!("replication.targets[{index}] names this registry itself ({own}) as a destination"),
                remedy: "ECR can't replicate a registry to itself: remove this region or account from the target"
                    .to_string(),
            };
        }
        let gap = Gap::of(target, &destinations, &have.configuration, repositories, &exempt);
        if gap.is_empty() {
            continue;
        }
        missing.push(gap.describe(index));
        match gap.fill(target, &destinations, &mut proposed, repositories, &exempt) {
            Ok(mut done) => changes.append(&mut done),
            Err(Inseparable { cover, avoid }) => {
                return Judgement::Violation {
                    finding: format!(
                        "replication.targets[{index}] covers `{cover}` but not `{avoid}`, and ECR's prefix filters \
                         can't tell them apart (every prefix of `{cover}` is one of `{avoid}`)"
                    ),
                    remedy: format!(
                        "make the target's globs match both or neither (e.g. add `{avoid}`), or rename one repository"
                    ),
                };
            }
        }
    }
    if missing.is_empty() {
        return Judgement::Compliant;
    }
    if let Some(problem) = over_limits(&proposed) {
        return Judgement::Violation {
            finding: format!("{}; covering it would exceed ECR's limits: {problem}", missing.join("; ")),
            remedy: "merge replication rules or targets by hand, or ask for fewer destinations".to_string(),
        };
    }
    Judgement::Drift { finding: missing.join("; "), configuration: proposed, changes }
}

/// ECR's limits that `configuration` breaks, if any.
pub(crate) fn over_limits(configuration: &ReplicationConfiguration) -> Option<String> {
    let rules = &configuration.rules;
    let distinct: BTreeSet<&Destination> = rules.iter().flat_map(|rule| rule.destinations.iter()).collect();
    if rules.len() > MAX_RULES {
        return Some(format!("{} rules, ECR allows {MAX_RULES}", rules.len()));
    }
    if distinct.len() > MAX_DESTINATIONS {
        return Some(format!("{} destinations, ECR allows {MAX_DESTINATIONS}", distinct.len()));
    }
    rules.iter().enumerate().find(|(_, rule)| rule.repository_filters.len() > MAX_FILTERS).map(|(index, rule)| {
        format!("rule {} would have {} filters, ECR allows {MAX_FILTERS}", index + 1, rule.repository_filters.len())
    })
}

/// What one target is missing.
struct Gap {
    /// Repositories that don't reach every destination, with the destinations they miss.
    repositories: Vec<(String, Vec<Destination>)>,
    /// Exact prefixes (from `team/**` globs) not covered for some destination, so repositories created
    /// later would be missed.
    prefixes: Vec<String>,
}

impl Gap {
    fn of(
        target: &ReplicationTarget,
        destinations: &[Destination],
        configuration: &ReplicationConfiguration,
        repositories: &[String],
        exempt: &impl Fn(&str) -> bool,
    ) -> Self {
        let covered = |name: &str, to: &Destination| configuration.rules.iter().any(|rule| rule.covers(name, to));
        let repositories = repositories
            .iter()
            .filter(|name| target.matches(name) && !exempt(name))
            .filter_map(|name| {
                let missed: Vec<Destination> = destinations.iter().filter(|to| !covered(name, to)).cloned().collect();
                (!missed.is_empty()).then(|| (name.clone(), missed))
            })
            .collect();
        let mut prefixes: Vec<String> = target
            .repositories
            .iter()
            .filter_map(|glob| exact_prefix(glob.as_str()))
            .filter(|prefix| {
                destinations.iter().any(|to| !configuration.rules.iter().any(|rule| rule.covers_all_under(prefix, to)))
            })
            .map(str::to_string)
            .collect();
        prefixes.dedup();
        Self { repositories, prefixes }
    }

    fn is_empty(&self) -> bool {
        self.repositories.is_empty() && self.prefixes.is_empty()
    }

    fn describe(&self, index: usize) -> String {
        let mut parts = Vec::new();
        if let Some((name, missed)) = self.repositories.first() {
            let to: Vec<String> = missed.iter().map(ToString::to_string).collect();
            let more = match self.repositories.len() {
                1 => String::new(),
                n => format!(" (and {} more repositories)", n - 1),
            };
            parts.push(format!("`{name}` is not replicated to {}{more}", to.join(", ")));
        }
        for prefix in &self.prefixes {
            match prefix.as_str() {
                "" => parts.push("not every repository is replicated".to_string()),
                _ => parts.push(format!("repositories created under `{prefix}` would not be replicated")),
            }
        }
        format!("replication.targets[{index}]: {}", parts.join(", "))
    }

    /// Adds what the gap needs to `configuration`: filters on the rule with exactly the target's
    /// destinations, or a new rule. Returns what was changed.
    fn fill(
        &self,
        target: &ReplicationTarget,
        destinations: &[Destination],
        configuration: &mut ReplicationConfiguration,
        repositories: &[String],
        exempt: &impl Fn(&str) -> bool,
    ) -> Result<Vec<String>, Inseparable> {
        let everything = self.prefixes.iter().any(String::is_empty);
        let mut filters: Vec<String> = self.prefixes.iter().filter(|p| !p.is_empty()).cloned().collect();
        if !everything {
            let uncovered: BTreeSet<&str> = self.repositories.iter().map(|(name, _)| name.as_str()).collect();
            let names: Vec<(&str, Want)> = repositories
                .iter()
                .map(|name| {
                    let want = if exempt(name) {
                        Want::Either
                    } else if uncovered.contains(name.as_str()) {
                        Want::Cover
                    } else if target.matches(name) {
                        Want::Either
                    } else {
                        Want::Avoid
                    };
                    (name.as_str(), want)
                })
                .collect();
            for glob in &target.repositories {
                let chosen = choose(literal_start(glob.as_str()), &names)?;
                filters.extend(chosen.into_iter().filter(|prefix| {
                    // A prefix is only needed for names this glob matches that nothing chosen covers yet.
                    names.iter().any(|(name, want)| {
                        *want == Want::Cover && glob.matches(name) && name.starts_with(prefix.as_str())
                    })
                }));
            }
            // Names matched by one glob are covered by the prefixes of the first glob that chose them.
            filters.sort();
            filters.dedup();
            filters = without_redundant(filters);
        }
        let wanted: BTreeSet<&Destination> = destinations.iter().collect();
        let rule_index = configuration.rules.iter().position(|rule| rule.destination_set() == wanted);
        let to: Vec<String> = destinations.iter().map(ToString::to_string).collect();
        let mut changes = Vec::new();
        match rule_index {
            Some(index) => {
                let rule = &mut configuration.rules[index];
                if everything {
                    rule.repository_filters.clear();
                    changes.push(format!("rule {}: replicate every repository to {}", index + 1, to.join(", ")));
                } else {
                    for filter in filters {
                        if !rule.repository_filters.iter().any(|f| f.filter == filter && f.filter_type == PREFIX_MATCH)
                        {
                            changes.push(format!("rule {}: add filter `{filter}`", index + 1));
                            rule.repository_filters.push(RepositoryFilter::prefix(&filter));
                        }
                    }
                }
            }
            None => {
                let repository_filters: Vec<RepositoryFilter> =
                    if everything { Vec::new() } else { filters.iter().map(|f| RepositoryFilter::prefix(f)).collect() };
                let which = if everything {
                    "every repository".to_string()
                } else {
                    format!("filters {}", filters.iter().map(|f| format!("`{f}`")).collect::<Vec<_>>().join(", "))
                };
                changes.push(format!("add rule {}: {which} to {}", configuration.rules.len() + 1, to.join(", ")));
                configuration.rules.push(ReplicationRule { destinations: destinations.to_vec(), repository_filters });
            }
        }
        Ok(changes)
    }
}

/// Drops prefixes another one in the list already covers (`prod/a` under `prod/`). `sorted` is sorted.
fn without_redundant(sorted: Vec<String>) -> Vec<String> {
    let mut kept: Vec<String> = Vec::new();
    for prefix in sorted {
        if !kept.iter().any(|k| prefix.starts_with(k.as_str())) {
            kept.push(prefix);
        }
    }
    kept
}

#[cfg(test)]
mod tests;
