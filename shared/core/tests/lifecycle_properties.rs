//! Invariants of the lifecycle preview, over generated policies and images.

use proptest::prelude::*;
use warden_core::lifecycle::{
    preview, selects, Count, Image, LifecyclePolicy, Rule, RuleAction, StorageClass, TagSelection,
};

const DAY: i64 = 86_400_000;
const NOW: i64 = 1_000 * DAY;
const TAGS: &[&str] = &["prod-1", "prod-2", "beta-1", "beta-2", "dev", "v1.0", "v2.0-rc1", "latest"];

fn images() -> impl Strategy<Value = Vec<Image>> {
    prop::collection::vec((prop::sample::subsequence(TAGS, 0..3), 0..200i64, prop::option::of(0..200i64)), 0..40)
        .prop_map(|specs| {
            specs
                .into_iter()
                .enumerate()
                .map(|(i, (tags, days_ago, pulled_days_ago))| Image {
                    digest: format!("sha256:{i:04}"),
                    tags: tags.into_iter().map(str::to_string).collect(),
                    pushed_at_ms: NOW - days_ago * DAY - i as i64,
                    last_pulled_ms: pulled_days_ago.map(|d| NOW - d * DAY),
                    archived_at_ms: None,
                    storage_class: StorageClass::Standard,
                })
                .collect()
        })
}

fn count() -> impl Strategy<Value = Count> {
    prop_oneof![
        (1..10u64).prop_map(Count::MoreThan),
        (1..150u64).prop_map(Count::SincePushedDays),
        (1..150u64).prop_map(Count::SincePulledDays),
    ]
}

/// Valid policies: a few tagged rules with distinct prefix sets or patterns, at most one untagged rule,
/// and optionally an `any` rule last.
fn policies() -> impl Strategy<Value = LifecyclePolicy> {
    let tagged = prop_oneof![
        prop::sample::subsequence(&["prod", "beta", "v"][..], 1..3)
            .prop_map(|p| TagSelection::Prefixes(p.into_iter().map(str::to_string).collect())),
        prop::sample::select(&["v*", "*-rc*", "*1*", "prod-*"][..])
            .prop_map(|p| TagSelection::Patterns(vec![p.to_string()])),
    ];
    (prop::collection::vec((tagged, count()), 0..4), prop::option::of(count()), prop::option::of(count()), 0..4usize)
        .prop_map(|(tagged, untagged, any, untagged_at)| {
            let mut selections: Vec<(TagSelection, Count)> = Vec::new();
            for (selection, count) in tagged {
                if !selections.iter().any(|(s, _)| *s == selection) {
                    selections.push((selection, count));
                }
            }
            if let Some(count) = untagged {
                selections.insert(untagged_at.min(selections.len()), (TagSelection::Untagged, count));
            }
            if let Some(count) = any {
                selections.push((TagSelection::Any, count));
            }
            let rules = selections
                .into_iter()
                .enumerate()
                .map(|(i, (tags, count))| Rule {
                    priority: i as u64 + 1,
                    tags,
                    storage_class: StorageClass::Standard,
                    count,
                    action: RuleAction::Expire,
                })
                .collect();
            LifecyclePolicy { rules }
        })
}

fn raise(count: Count, by: u64) -> Count {
    match count {
        Count::MoreThan(n) => Count::MoreThan(n + by),
        Count::SincePushedDays(n) => Count::SincePushedDays(n + by),
        Count::SincePulledDays(n) => Count::SincePulledDays(n + by),
        Count::SinceTransitionedDays(n) => Count::SinceTransitionedDays(n + by),
    }
}

fn acted_set(policy: &LifecyclePolicy, images: &[Image]) -> Vec<usize> {
    let mut acted: Vec<usize> = preview(policy, images, NOW).acted.iter().map(|a| a.image).collect();
    acted.sort_unstable();
    acted
}

proptest! {
    #[test]
    fn an_image_is_acted_on_by_at_most_one_rule_which_selects_it_and_no_higher_rule_does(policy in policies(), images in images()) {
        let result = preview(&policy, &images, NOW);
        let mut seen = std::collections::BTreeSet::new();
        for acted in &result.acted {
            prop_assert!(seen.insert(acted.image), "image {} acted on twice", acted.image);
            let rule = policy.rules.iter().find(|r| r.priority == acted.rule_priority).expect("rule exists");
            prop_assert!(selects(rule, &images[acted.image]));
            for higher in policy.rules.iter().filter(|r| r.priority < acted.rule_priority) {
                prop_assert!(!selects(higher, &images[acted.image]), "shielded by rule {}", higher.priority);
            }
        }
        let pushed: Vec<i64> = result.acted.iter().map(|a| images[a.image].pushed_at_ms).collect();
        prop_assert!(pushed.windows(2).all(|w| w[0] <= w[1]), "oldest first");
    }

    #[test]
    fn raising_a_count_never_acts_on_more_images(policy in policies(), images in images(), which in 0..8usize, by in 1..20u64) {
        prop_assume!(!policy.rules.is_empty());
        let mut raised = policy.clone();
        let index = which % raised.rules.len();
        raised.rules[index].count = raise(raised.rules[index].count, by);
        let before = acted_set(&policy, &images);
        let after = acted_set(&raised, &images);
        prop_assert!(after.iter().all(|i| before.contains(i)), "{after:?} is not within {before:?}");
    }

    #[test]
    fn a_single_count_rule_keeps_exactly_the_newest_images_it_selects(images in images(), n in 1..10u64, any in any::<bool>()) {
        let tags = if any { TagSelection::Any } else { TagSelection::Prefixes(vec!["prod".into()]) };
        let rule = Rule { priority: 1, tags, storage_class: StorageClass::Standard, count: Count::MoreThan(n), action: RuleAction::Expire };
        let policy = LifecyclePolicy { rules: vec![rule.clone()] };
        let acted = acted_set(&policy, &images);
        let mut selected: Vec<usize> = (0..images.len()).filter(|&i| selects(&rule, &images[i])).collect();
        selected.sort_by_key(|&i| std::cmp::Reverse(images[i].pushed_at_ms));
        let keep = (n as usize).min(selected.len());
        let mut expected: Vec<usize> = selected[keep..].to_vec();
        expected.sort_unstable();
        prop_assert_eq!(acted, expected);
    }

    #[test]
    fn adding_an_image_never_spares_one_an_any_count_rule_expired(images in images(), n in 1..10u64, days_ago in 0..200i64) {
        let rule = Rule { priority: 1, tags: TagSelection::Any, storage_class: StorageClass::Standard, count: Count::MoreThan(n), action: RuleAction::Expire };
        let policy = LifecyclePolicy { rules: vec![rule] };
        let before = acted_set(&policy, &images);
        let mut more = images.clone();
        more.push(Image {
            digest: "sha256:added".into(),
            tags: vec![],
            pushed_at_ms: NOW - days_ago * DAY,
            last_pulled_ms: None,
            archived_at_ms: None,
            storage_class: StorageClass::Standard,
        });
        let after = acted_set(&policy, &more);
        prop_assert!(before.iter().all(|i| after.contains(i)), "{before:?} not within {after:?}");
    }
}

/// A one-rule policy text: untagged images expire `days` after their push, or only the newest `keep` are kept.
fn one_rule(count: Count) -> LifecyclePolicy {
    let selection = match count {
        Count::SincePushedDays(days) => format!(
            r#"{{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":{days}}}"#
        ),
        Count::MoreThan(keep) => {
            format!(r#"{{"tagStatus":"untagged","countType":"imageCountMoreThan","countNumber":{keep}}}"#)
        }
        _ => unreachable!("only these two are generated"),
    };
    let text = format!(r#"{{"rules":[{{"rulePriority":1,"selection":{selection},"action":{{"type":"expire"}}}}]}}"#);
    LifecyclePolicy::parse(&text).expect("a valid policy")
}

proptest! {
    /// `at_least` follows the numbers: expiring sooner, or keeping fewer, is at least as strict, and expiring
    /// later, or keeping more, is not (the synthetic images sit on both sides of every limit).
    #[test]
    fn at_least_follows_the_limits(a in 1..400u64, b in 1..400u64, by_age in any::<bool>()) {
        let count = |n| if by_age { Count::SincePushedDays(n) } else { Count::MoreThan(n) };
        let comparison = warden_core::lifecycle::compare_strictness(&one_rule(count(a)), &one_rule(count(b)));
        prop_assert_eq!(comparison.at_least(), a <= b, "{} vs {}: {:?}", a, b, comparison);
    }

    /// A policy is always at least as strict as itself.
    #[test]
    fn every_policy_is_at_least_as_strict_as_itself(policy in policies()) {
        prop_assert!(warden_core::lifecycle::compare_strictness(&policy, &policy).at_least());
    }
}
