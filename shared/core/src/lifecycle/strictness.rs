//! Whether one lifecycle policy is at least as strict as another, judged by what they do rather than by their
//! text: both are previewed (the exact engine, [`preview`]) on synthetic image sets built to exercise the
//! baseline's rules (images just inside and just past each rule's count or age, with its tags and storage
//! class), and the candidate must act on every image the baseline acts on, at least as strongly (expiring is
//! stronger than archiving). And the fix: the baseline's rules merged into a policy at free priorities, checked
//! the same way to be at least as strict as both the baseline and the policy it replaces.

use serde_json::Value;

use super::images::Image;
use super::model::{Count, LifecyclePolicy, Rule, RuleAction, StorageClass, TagSelection};
use super::preview::preview;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The moment the synthetic images are judged at (any fixed time: only ages matter).
const NOW_MS: i64 = 1_800_000_000_000;

/// How a candidate fared on the baseline's synthetic images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comparison {
    /// Images the baseline acts on, over every synthetic set.
    pub baseline_acts_on: usize,
    /// Of those, the ones the candidate acts on at least as strongly.
    pub candidate_covers: usize,
    /// One image the candidate spares, described (`an untagged image pushed 15 days ago`).
    pub spared: Option<String>,
}

impl Comparison {
    /// Whether the candidate is at least as strict.
    pub fn at_least(&self) -> bool {
        self.candidate_covers == self.baseline_acts_on
    }
}

/// Compares `candidate` with `baseline` on the synthetic images of `baseline`'s rules.
pub fn compare(candidate: &LifecyclePolicy, baseline: &LifecyclePolicy) -> Comparison {
    let mut comparison = Comparison { baseline_acts_on: 0, candidate_covers: 0, spared: None };
    for images in probe_sets(baseline) {
        let wanted = preview(baseline, &images, NOW_MS);
        let done = preview(candidate, &images, NOW_MS);
        for acted in &wanted.acted {
            comparison.baseline_acts_on += 1;
            let covered =
                done.acted.iter().any(|d| d.image == acted.image && strength(d.action) >= strength(acted.action));
            if covered {
                comparison.candidate_covers += 1;
            } else {
                // The youngest spared image (the preview lists oldest first): the one just past the limit.
                comparison.spared = Some(describe(&images[acted.image]));
            }
        }
    }
    comparison
}

/// `have` (a policy text) with `baseline`'s rules merged in at free priorities, at least as strict as both; the
/// baseline's rules are tried after the policy's own (which keep precedence), then before them. `None` when
/// neither order is.
pub fn merged(have: &str, baseline: &str) -> Option<String> {
    let (have_policy, baseline_policy) = (LifecyclePolicy::parse(have).ok()?, LifecyclePolicy::parse(baseline).ok()?);
    let mut document: Value = serde_json::from_str(have).ok()?;
    let theirs = document.get("rules")?.as_array()?.clone();
    let ours = rules_of(baseline)?;
    let used: Vec<u64> = theirs.iter().filter_map(|r| r["rulePriority"].as_u64()).collect();
    let highest = used.iter().copied().max().unwrap_or(0);
    let lowest = used.iter().copied().min().unwrap_or(1);
    let mut orders = vec![renumbered(&ours, highest + 1)];
    if lowest > ours.len() as u64 {
        orders.push(renumbered(&ours, 1));
    }
    for added in orders {
        let mut rules = theirs.clone();
        rules.extend(added);
        rules.sort_by_key(|r| r["rulePriority"].as_u64());
        document["rules"] = Value::Array(rules);
        let text = document.to_string();
        let Ok(candidate) = LifecyclePolicy::parse(&text) else { continue };
        if compare(&candidate, &baseline_policy).at_least() && compare(&candidate, &have_policy).at_least() {
            return Some(text);
        }
    }
    None
}

/// A policy text's rules, as written.
fn rules_of(text: &str) -> Option<Vec<Value>> {
    serde_json::from_str::<Value>(text).ok()?.get("rules")?.as_array().cloned()
}

/// `rules` in their order, numbered from `first`.
fn renumbered(rules: &[Value], first: u64) -> Vec<Value> {
    let mut sorted = rules.to_vec();
    sorted.sort_by_key(|r| r["rulePriority"].as_u64());
    for (offset, rule) in sorted.iter_mut().enumerate() {
        rule["rulePriority"] = Value::from(first + offset as u64);
    }
    sorted
}

fn strength(action: RuleAction) -> u8 {
    match action {
        RuleAction::Transition => 1,
        RuleAction::Expire => 2,
    }
}

/// One synthetic set per rule of `policy` (two for `any`: untagged and tagged images), and one with all of them
/// together (where rules meet).
fn probe_sets(policy: &LifecyclePolicy) -> Vec<Vec<Image>> {
    let mut sets: Vec<Vec<Image>> = Vec::new();
    for (index, rule) in policy.rules.iter().enumerate() {
        for (kind, tags) in tag_kinds(rule).into_iter().enumerate() {
            sets.push(images_for(rule, &tags, &format!("r{index}k{kind}")));
        }
    }
    if sets.len() > 1 {
        let together: Vec<Image> = sets.iter().flatten().cloned().collect();
        sets.push(together);
    }
    sets
}

/// The tags an image the rule selects carries, as templates in which `#` becomes the image's number (so that
/// each image's tags are its own, as ECR's are): none, one per prefix or pattern, or both kinds for `any`.
fn tag_kinds(rule: &Rule) -> Vec<Vec<String>> {
    match &rule.tags {
        TagSelection::Untagged => vec![Vec::new()],
        TagSelection::Prefixes(prefixes) => vec![prefixes.iter().map(|p| format!("{p}#")).collect()],
        TagSelection::Patterns(patterns) => vec![patterns.iter().map(|p| p.replace('*', "#")).collect()],
        TagSelection::Any => vec![Vec::new(), vec!["probe#".to_string()]],
    }
}

/// Images around the rule's count: a few past `imageCountMoreThan N`, and ages half a day inside and past `N`
/// days (so that a limit one day longer spares the one past, and one day shorter takes the one inside).
fn images_for(rule: &Rule, tags: &[String], name: &str) -> Vec<Image> {
    const HALF_DAY: i64 = DAY_MS / 2;
    let image = |i: usize, pushed_ms: i64, pulled_ms: Option<i64>, archived_ms: Option<i64>| Image {
        digest: format!("sha256:{name}-{i}"),
        tags: tags.iter().map(|t| t.replace('#', &i.to_string())).collect(),
        pushed_at_ms: NOW_MS - pushed_ms,
        last_pulled_ms: pulled_ms.map(|age| NOW_MS - age),
        archived_at_ms: archived_ms.map(|age| NOW_MS - age),
        storage_class: rule.storage_class,
    };
    // Counts and ages as ECR allows them are far below this; the cap keeps a hostile number from allocating.
    let n = |count: u64| i64::try_from(count.min(100_000)).unwrap_or(100_000);
    let inside = |days: u64| n(days) * DAY_MS - HALF_DAY;
    let past = |days: u64| n(days) * DAY_MS + HALF_DAY;
    let archived = (rule.storage_class == StorageClass::Archive).then_some(DAY_MS);
    let old = |days: u64| 3 * n(days) * DAY_MS + DAY_MS;
    match rule.count {
        Count::MoreThan(count) => {
            (0..n(count) + 3).map(|i| image(i as usize, (i + 1) * DAY_MS, None, archived)).collect()
        }
        Count::SincePushedDays(days) => {
            let (inside, past) = (inside(days), past(days));
            [inside, past, 2 * past].into_iter().enumerate().map(|(i, age)| image(i, age, None, archived)).collect()
        }
        Count::SincePulledDays(days) => [Some(inside(days)), Some(past(days)), None]
            .into_iter()
            .enumerate()
            .map(|(i, pulled)| image(i, old(days), pulled, archived))
            .collect(),
        Count::SinceTransitionedDays(days) => [inside(days), past(days)]
            .into_iter()
            .enumerate()
            .map(|(i, age)| image(i, old(days), None, Some(age)))
            .collect(),
    }
}

/// How a report names a synthetic image.
fn describe(image: &Image) -> String {
    let tagged = match image.tags.as_slice() {
        [] => "an untagged image".to_string(),
        tags => format!("an image tagged {}", tags.join(", ")),
    };
    let archived = if image.storage_class == StorageClass::Archive { " (archived)" } else { "" };
    let days = (NOW_MS - image.pushed_at_ms) as f64 / DAY_MS as f64;
    format!("{tagged}{archived} pushed {days:.1} days ago")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(rules: &str) -> String {
        format!(r#"{{"rules":[{rules}]}}"#)
    }

    fn untagged_after(days: u64, priority: u64) -> String {
        format!(
            r#"{{"rulePriority":{priority},"selection":{{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":{days}}},"action":{{"type":"expire"}}}}"#
        )
    }

    fn keep_newest(count: u64, priority: u64) -> String {
        format!(
            r#"{{"rulePriority":{priority},"selection":{{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":{count}}},"action":{{"type":"expire"}}}}"#
        )
    }

    fn parse(text: &str) -> LifecyclePolicy {
        LifecyclePolicy::parse(text).expect("a valid policy")
    }

    #[test]
    fn a_shorter_expiry_is_at_least_as_strict_and_a_longer_one_is_not() {
        let baseline = parse(&policy(&untagged_after(14, 1)));
        assert!(compare(&parse(&policy(&untagged_after(7, 1))), &baseline).at_least());
        let weaker = compare(&parse(&policy(&untagged_after(30, 1))), &baseline);
        assert!(!weaker.at_least());
        assert_eq!(weaker.spared.as_deref(), Some("an untagged image pushed 14.5 days ago"));
        // Keeping the newest 500 images of any kind expires none of these few.
        assert!(!compare(&parse(&policy(&keep_newest(500, 1))), &baseline).at_least());
    }

    fn tagged(prefix: &str, count: u64, priority: u64) -> String {
        format!(
            r#"{{"rulePriority":{priority},"selection":{{"tagStatus":"tagged","tagPrefixList":["{prefix}"],"countType":"imageCountMoreThan","countNumber":{count}}},"action":{{"type":"expire"}}}}"#
        )
    }

    fn tagged_after(prefix: &str, days: u64, priority: u64) -> String {
        format!(
            r#"{{"rulePriority":{priority},"selection":{{"tagStatus":"tagged","tagPrefixList":["{prefix}"],"countType":"sinceImagePushed","countUnit":"days","countNumber":{days}}},"action":{{"type":"expire"}}}}"#
        )
    }

    fn priorities(text: &str) -> Vec<u64> {
        let value: Value = serde_json::from_str(text).expect("JSON");
        value["rules"].as_array().expect("rules").iter().filter_map(|r| r["rulePriority"].as_u64()).collect()
    }

    #[test]
    fn the_merge_keeps_the_teams_rules_first_and_is_at_least_as_strict_as_both() {
        let have = policy(&tagged("release", 50, 1));
        let baseline = policy(&untagged_after(14, 1));
        let merged = merged(&have, &baseline).expect("a merge");
        assert_eq!(priorities(&merged), [1, 2], "the baseline's rule at the first free priority after the team's");
        let merged_policy = parse(&merged);
        assert!(compare(&merged_policy, &parse(&baseline)).at_least());
        assert!(compare(&merged_policy, &parse(&have)).at_least(), "the team's rule still acts");
    }

    #[test]
    fn a_team_rule_shielding_the_baselines_images_puts_the_baseline_first_where_priorities_are_free() {
        // The team keeps its 1000 newest `dev` images, which shields the baseline's `dev-` images from any later
        // rule (prefix sets must differ between rules: ECR's rule).
        let have = policy(&tagged("dev", 1000, 5));
        let baseline = policy(&tagged_after("dev-", 30, 1));
        let merged = merged(&have, &baseline).expect("a merge");
        assert_eq!(priorities(&merged), [1, 5], "{merged}");
        // With no free priority below the team's, no order works: nothing is proposed.
        assert_eq!(super::merged(&policy(&tagged("dev", 1000, 1)), &baseline), None);
    }

    /// ECR allows one rule selecting untagged images: a team's own untagged rule can't be joined by the
    /// baseline's, so nothing is proposed (the control reports it instead).
    #[test]
    fn a_second_untagged_rule_is_never_proposed() {
        let have = policy(&untagged_after(90, 1));
        assert_eq!(merged(&have, &policy(&untagged_after(14, 1))), None);
    }
}
