//! Invariants of replication, over generated registries: names drawn from a small alphabet so that they
//! share prefixes and nest, globs with `*` and `**`, existing rules in the way.

use proptest::prelude::*;
use warden_core::baseline::Mode;
use warden_core::glob::NameGlob;
use warden_core::replication::{
    choose, judge, Destination, Judgement, RegistryReplication, ReplicationConfiguration, ReplicationRule,
    ReplicationSettings, ReplicationTarget, RepositoryFilter, Want,
};

/// Repository names like `ab/ba-c`: short segments over few letters, so prefixes collide.
fn name() -> impl Strategy<Value = String> {
    prop::collection::vec("[ab]{1,3}(-[ab]{1,2})?", 1..=3)
        .prop_map(|segments| segments.join("/"))
        .prop_filter("ECR names have at least 2 characters", |n| n.len() >= 2)
}

fn names() -> impl Strategy<Value = Vec<String>> {
    prop::collection::btree_set(name(), 0..30).prop_map(|set| set.into_iter().collect())
}

fn glob() -> impl Strategy<Value = String> {
    prop::sample::select(vec!["a/*", "a/**", "ab", "ab*", "b*/a*", "a*/*", "**", "ba/**", "a?/b"])
        .prop_map(str::to_string)
}

fn want() -> impl Strategy<Value = Want> {
    prop::sample::select(vec![Want::Cover, Want::Avoid, Want::Either])
}

fn to(region: &str) -> Destination {
    Destination { region: region.into(), registry_id: "111111111111".into() }
}

proptest! {
    #[test]
    fn chosen_prefixes_cover_exactly_or_name_an_inseparable_pair(
        labelled in prop::collection::btree_map(name(), want(), 0..30),
        start in prop::sample::select(vec!["", "a", "ab", "a/", "b"]),
    ) {
        let names: Vec<(&str, Want)> = labelled.iter().map(|(n, w)| (n.as_str(), *w)).collect();
        match choose(start, &names) {
            Ok(prefixes) => {
                for prefix in &prefixes {
                    prop_assert!(prefix.len() >= 2 && prefix.starts_with(start), "{prefix}");
                }
                for (name, want) in &names {
                    let covered = prefixes.iter().any(|p| name.starts_with(p.as_str()));
                    if *want == Want::Cover && name.starts_with(start) {
                        prop_assert!(covered, "{name} not covered by {prefixes:?}");
                    }
                    if *want == Want::Avoid {
                        prop_assert!(!covered, "{name} covered by {prefixes:?}");
                    }
                }
                // Fewest: no prefix can go, and none is inside another.
                for (i, p) in prefixes.iter().enumerate() {
                    prop_assert!(prefixes.iter().enumerate().all(|(j, q)| i == j || !p.starts_with(q.as_str())));
                }
            }
            Err(pair) => {
                prop_assert!(pair.avoid.starts_with(&pair.cover) && pair.avoid != pair.cover);
                prop_assert_eq!(labelled.get(&pair.cover), Some(&Want::Cover));
                prop_assert_eq!(labelled.get(&pair.avoid), Some(&Want::Avoid));
            }
        }
    }

    #[test]
    fn a_fix_covers_every_matched_repository_keeps_every_rule_and_is_idempotent(
        repositories in names(),
        globs in prop::collection::vec(glob(), 1..3),
        existing in prop::collection::vec((prop::sample::select(vec!["eu-west-1", "us-west-2"]), name()), 0..3),
    ) {
        let target = ReplicationTarget {
            repositories: globs.iter().map(|g| NameGlob::new(g).expect("valid glob")).collect(),
            regions: vec!["eu-west-1".into()],
            registries: Vec::new(),
        };
        let settings = ReplicationSettings { mode: Mode::Enforce, targets: vec![target.clone()] };
        let rules: Vec<ReplicationRule> = existing
            .iter()
            .map(|(region, prefix)| ReplicationRule {
                destinations: vec![to(region)],
                repository_filters: vec![RepositoryFilter::prefix(prefix)],
            })
            .collect();
        let have = RegistryReplication {
            registry_id: "111111111111".into(),
            region: "us-east-1".into(),
            configuration: ReplicationConfiguration { rules: rules.clone() },
        };
        let covered = |configuration: &ReplicationConfiguration, name: &str| {
            configuration.rules.iter().any(|rule| {
                rule.destinations.contains(&to("eu-west-1"))
                    && (rule.repository_filters.is_empty()
                        || rule.repository_filters.iter().any(|f| name.starts_with(&f.filter)))
            })
        };
        match judge(&settings, &have, &repositories, |_| false) {
            Judgement::Compliant => {
                for name in repositories.iter().filter(|n| globs.iter().any(|g| NameGlob::new(g).expect("valid").matches(n))) {
                    prop_assert!(covered(&have.configuration, name), "{name} not covered");
                }
            }
            Judgement::Drift { configuration, .. } => {
                for name in &repositories {
                    let matched = target.repositories.iter().any(|g| g.matches(name));
                    let before = covered(&have.configuration, name);
                    let after = covered(&configuration, name);
                    if matched {
                        prop_assert!(after, "{name} still not covered");
                    } else {
                        // Nothing the baseline leaves out is newly replicated to the target's destination.
                        prop_assert_eq!(before, after, "{} newly covered", name);
                    }
                }
                for rule in &rules {
                    let kept = configuration.rules.iter().any(|r| {
                        // Kept, or widened to every repository (a `**` target).
                        r.destinations == rule.destinations
                            && (r.repository_filters.is_empty()
                                || rule.repository_filters.iter().all(|f| r.repository_filters.contains(f)))
                    });
                    prop_assert!(kept, "{rule:?} lost");
                }
                let after = RegistryReplication { configuration, ..have.clone() };
                prop_assert_eq!(judge(&settings, &after, &repositories, |_| false), Judgement::Compliant);
            }
            Judgement::Violation { finding, .. } => {
                prop_assert!(finding.contains("can't tell them apart") || finding.contains("limits"), "{finding}");
            }
        }
    }
}
