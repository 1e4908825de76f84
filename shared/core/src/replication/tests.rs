use super::*;

fn glob(text: &str) -> NameGlob {
    NameGlob::new(text).expect("test glob is valid")
}

fn target(globs: &[&str], regions: &[&str]) -> ReplicationTarget {
    ReplicationTarget {
        repositories: globs.iter().map(|g| glob(g)).collect(),
        regions: regions.iter().map(|r| r.to_string()).collect(),
        registries: Vec::new(),
    }
}

fn settings(targets: Vec<ReplicationTarget>) -> ReplicationSettings {
    ReplicationSettings { mode: Mode::Enforce, targets }
}

fn to(region: &str) -> Destination {
    Destination { region: region.into(), registry_id: "111111111111".into() }
}

fn rule(regions: &[&str], filters: &[&str]) -> ReplicationRule {
    ReplicationRule {
        destinations: regions.iter().map(|r| to(r)).collect(),
        repository_filters: filters.iter().map(|f| RepositoryFilter::prefix(f)).collect(),
    }
}

fn registry(rules: Vec<ReplicationRule>) -> RegistryReplication {
    RegistryReplication {
        registry_id: "111111111111".into(),
        region: "us-east-1".into(),
        configuration: ReplicationConfiguration { rules },
    }
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|n| n.to_string()).collect()
}

fn no_exemptions(_: &str) -> bool {
    false
}

/// Judges, and for drift returns the proposed configuration after checking that judging it again is
/// compliant (the fix is idempotent).
fn fixed(
    settings: &ReplicationSettings,
    have: RegistryReplication,
    repositories: &[String],
) -> ReplicationConfiguration {
    match judge(settings, &have, repositories, no_exemptions) {
        Judgement::Drift { configuration, .. } => {
            let after = RegistryReplication { configuration: configuration.clone(), ..have };
            assert_eq!(judge(settings, &after, repositories, no_exemptions), Judgement::Compliant);
            configuration
        }
        other => panic!("expected drift, got {other:?}"),
    }
}

#[test]
fn no_targets_is_compliant_with_anything() {
    let have = registry(vec![rule(&["eu-west-1"], &["x"])]);
    assert_eq!(judge(&settings(vec![]), &have, &names(&["a/b"]), no_exemptions), Judgement::Compliant);
}

#[test]
fn an_empty_registry_gets_one_rule_with_the_globs_prefixes() {
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    let repositories = names(&["prod/api", "prod/web", "dev/api"]);
    let proposed = fixed(&wanted, registry(vec![]), &repositories);
    assert_eq!(proposed.rules, vec![rule(&["eu-west-1"], &["prod/"])]);
}

#[test]
fn a_double_star_folder_is_covered_before_any_repository_exists() {
    let wanted = settings(vec![target(&["prod/**"], &["eu-west-1"])]);
    let proposed = fixed(&wanted, registry(vec![]), &[]);
    assert_eq!(proposed.rules, vec![rule(&["eu-west-1"], &["prod/"])]);
}

#[test]
fn a_single_star_with_nothing_to_replicate_asks_for_nothing() {
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    assert_eq!(judge(&wanted, &registry(vec![]), &names(&["dev/api"]), no_exemptions), Judgement::Compliant);
}

#[test]
fn existing_rules_destinations_and_filters_are_kept() {
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    let have = registry(vec![rule(&["ap-south-1"], &["legacy"]), rule(&["eu-west-1"], &["shared"])]);
    let proposed = fixed(&wanted, have, &names(&["prod/api", "legacy", "shared"]));
    assert_eq!(proposed.rules, vec![rule(&["ap-south-1"], &["legacy"]), rule(&["eu-west-1"], &["shared", "prod/"])]);
}

#[test]
fn a_repository_covered_by_an_existing_rule_needs_nothing() {
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    let have = registry(vec![rule(&["eu-west-1", "us-west-2"], &["prod/api"])]);
    assert_eq!(judge(&wanted, &have, &names(&["prod/api"]), no_exemptions), Judgement::Compliant);
    let everything = registry(vec![rule(&["eu-west-1"], &[])]);
    assert_eq!(judge(&wanted, &everything, &names(&["prod/api"]), no_exemptions), Judgement::Compliant);
}

#[test]
fn repositories_left_out_under_the_glob_are_steered_around() {
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    let proposed = fixed(&wanted, registry(vec![]), &names(&["prod/api", "prod/web", "prod/eu/api"]));
    assert_eq!(proposed.rules, vec![rule(&["eu-west-1"], &["prod/a", "prod/w"])]);
}

#[test]
fn an_inseparable_pair_is_a_violation_and_changes_nothing() {
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    match judge(&wanted, &registry(vec![]), &names(&["prod/api", "prod/api/v2"]), no_exemptions) {
        Judgement::Violation { finding, remedy } => {
            assert!(finding.contains("`prod/api`") && finding.contains("`prod/api/v2`"), "{finding}");
            assert!(remedy.contains("prod/api/v2"), "{remedy}");
        }
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn exempt_repositories_are_neither_needed_nor_avoided() {
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    let repositories = names(&["prod/api", "prod/api/v2"]);
    let exempt = |name: &str| name == "prod/api/v2";
    match judge(&wanted, &registry(vec![]), &repositories, exempt) {
        Judgement::Drift { configuration, .. } => {
            assert_eq!(configuration.rules, vec![rule(&["eu-west-1"], &["prod/"])])
        }
        other => panic!("expected drift, got {other:?}"),
    }
}

#[test]
fn targets_with_the_same_destinations_share_a_rule() {
    let wanted = settings(vec![target(&["prod/**"], &["eu-west-1"]), target(&["shared-base"], &["eu-west-1"])]);
    let proposed = fixed(&wanted, registry(vec![]), &names(&["prod/api", "shared-base", "dev/x"]));
    assert_eq!(proposed.rules, vec![rule(&["eu-west-1"], &["prod/", "shared-base"])]);
}

#[test]
fn another_account_is_a_destination_of_its_own() {
    let mut t = target(&["prod/**"], &["eu-west-1", "us-west-2"]);
    t.registries = vec!["222222222222".into()];
    let proposed = fixed(&settings(vec![t]), registry(vec![]), &[]);
    let other = |region: &str| Destination { region: region.into(), registry_id: "222222222222".into() };
    assert_eq!(proposed.rules[0].destinations, vec![other("eu-west-1"), other("us-west-2")]);
}

#[test]
fn the_registry_itself_is_not_a_destination() {
    let wanted = settings(vec![target(&["prod/**"], &["us-east-1"])]);
    assert!(matches!(judge(&wanted, &registry(vec![]), &[], no_exemptions), Judgement::Violation { .. }));
}

#[test]
fn double_star_alone_means_every_repository() {
    let wanted = settings(vec![target(&["**"], &["eu-west-1"])]);
    let have = registry(vec![rule(&["eu-west-1"], &["prod/"])]);
    let proposed = fixed(&wanted, have, &names(&["prod/api"]));
    assert_eq!(proposed.rules, vec![rule(&["eu-west-1"], &[])]);
}

#[test]
fn past_ecr_limits_is_a_violation() {
    let rules: Vec<ReplicationRule> = (0..MAX_RULES).map(|i| rule(&["eu-west-1"], &[&format!("team{i}/")])).collect();
    let wanted = settings(vec![target(&["prod/**"], &["eu-west-2"])]);
    match judge(&wanted, &registry(rules), &[], no_exemptions) {
        Judgement::Violation { finding, .. } => assert!(finding.contains("11 rules, ECR allows 10"), "{finding}"),
        other => panic!("expected a violation, got {other:?}"),
    }
    // Each prod/xNNNa needs a prefix of its own to steer around prod/xNNNb/nested (not matched by prod/*).
    let mut repositories: Vec<String> = (0..=MAX_FILTERS).map(|i| format!("prod/x{i:03}a")).collect();
    repositories.extend((0..=MAX_FILTERS).map(|i| format!("prod/x{i:03}b/nested")));
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    match judge(&wanted, &registry(vec![]), &repositories, no_exemptions) {
        Judgement::Violation { finding, .. } => assert!(finding.contains("101 filters, ECR allows 100"), "{finding}"),
        other => panic!("expected a violation, got {other:?}"),
    }
}

#[test]
fn the_finding_names_a_repository_and_the_destination() {
    let wanted = settings(vec![target(&["prod/*"], &["eu-west-1"])]);
    match judge(&wanted, &registry(vec![]), &names(&["prod/api", "prod/web"]), no_exemptions) {
        Judgement::Drift { finding, changes, .. } => {
            assert!(finding.contains("`prod/api` is not replicated to 111111111111/eu-west-1"), "{finding}");
            assert!(finding.contains("and 1 more"), "{finding}");
            assert_eq!(changes, vec!["add rule 1: filters `prod/` to 111111111111/eu-west-1".to_string()]);
        }
        other => panic!("expected drift, got {other:?}"),
    }
}
