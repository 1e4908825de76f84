//! Which images a lifecycle policy acts on, following ECR's evaluation exactly:
//!
//! 1. rules run in ascending priority, and an image is acted on by at most one rule;
//! 2. an image selected by a higher-priority rule can't be acted on by a lower one, but it still counts
//!    toward the lower rule's image count;
//! 3. `imageCountMoreThan N` keeps the N most recently pushed images it selects and acts on the rest;
//!    the `since…` counts act on images whose time is more than N days before `now`;
//! 4. the result is ordered oldest first, as ECR expires.

use serde::Serialize;

use super::images::{Image, Timestamp};
use super::model::{Count, LifecyclePolicy, Rule, RuleAction, TagSelection};
use crate::wildcard;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// What happens to one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Acted {
    /// Index into the images given.
    pub image: usize,
    /// The rule that acts on it.
    pub rule_priority: u64,
    /// What it does.
    pub action: RuleAction,
}

/// Per-rule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSummary {
    /// The rule.
    pub rule_priority: u64,
    /// Images its selection matched.
    pub matched: usize,
    /// Images it acts on.
    pub acted_on: usize,
}

/// The outcome of a preview.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    /// The images acted on, oldest push first.
    pub acted: Vec<Acted>,
    /// One summary per rule, in priority order.
    pub rules: Vec<RuleSummary>,
}

/// Evaluates `policy` over `images` at `now_ms` (milliseconds since the epoch).
///
/// Tags are matched once per image for every rule, then each rule walks compact arrays in push order:
/// memory is read in sequence, which is what keeps a preview of 100,000 images fast.
pub fn preview(policy: &LifecyclePolicy, images: &[Image], now_ms: i64) -> Preview {
    let n = images.len();
    // Youngest first, as ECR counts; ties broken by digest so the result is deterministic.
    let mut order: Vec<(i64, usize)> = images.iter().enumerate().map(|(i, image)| (image.pushed_at_ms, i)).collect();
    order.sort_unstable_by(|a, b| b.0.cmp(&a.0).then_with(|| images[a.1].digest.cmp(&images[b.1].digest)));
    let rules: Vec<CompiledRule> = policy.rules.iter().map(CompiledRule::new).collect();
    let words = rules.len().div_ceil(64).max(1);
    let (masks, times) = in_push_order(&rules, images, &order, words);
    let mut selected_by_higher = vec![false; n];
    let mut acted_by: Vec<Option<usize>> = vec![None; n];
    let mut summaries = Vec::with_capacity(rules.len());
    for (r, rule) in policy.rules.iter().enumerate() {
        let (word, bit) = (r / 64, 1u64 << (r % 64));
        let selects_at = |position: usize| masks[position * words + word] & bit != 0;
        let (mut matched, mut acted_on) = (0u64, 0);
        for position in 0..n {
            if !selects_at(position) {
                continue;
            }
            matched += 1;
            let (pushed, pulled, archived) = times[position];
            let beyond = match rule.count {
                Count::MoreThan(keep) => matched > keep,
                Count::SincePushedDays(days) => older_than(Some(pushed), days, now_ms),
                Count::SincePulledDays(days) => older_than(Some(pulled), days, now_ms),
                Count::SinceTransitionedDays(days) => older_than(archived, days, now_ms),
            };
            if beyond && !selected_by_higher[position] && acted_by[position].is_none() {
                acted_by[position] = Some(r);
                acted_on += 1;
            }
        }
        for (position, shielded) in selected_by_higher.iter_mut().enumerate() {
            *shielded |= selects_at(position);
        }
        summaries.push(RuleSummary { rule_priority: rule.priority, matched: matched as usize, acted_on });
    }
    // Oldest first: push order reversed (equal push times keep digest order).
    let acted = (0..n)
        .rev()
        .filter_map(|position| {
            let rule = &policy.rules[acted_by[position]?];
            Some(Acted { image: order[position].1, rule_priority: rule.priority, action: rule.action })
        })
        .collect();
    Preview { acted, rules: summaries }
}

/// An image's times: pushed, pulled (or else pushed), archived.
type Times = (i64, i64, Option<i64>);

/// The rules each image is selected by (`words` words of one bit a rule) and its times, in push order.
/// Computed in storage order (each image and its tags read once, in sequence), then laid out in push order so
/// every rule pass reads memory in sequence; what is laid out in storage order is freed on return, before the
/// passes allocate.
fn in_push_order(
    rules: &[CompiledRule],
    images: &[Image],
    order: &[(i64, usize)],
    words: usize,
) -> (Vec<u64>, Vec<Times>) {
    let mut by_index = vec![0u64; images.len() * words];
    let mut times_by_index = Vec::with_capacity(images.len());
    for (index, image) in images.iter().enumerate() {
        for (r, rule) in rules.iter().enumerate() {
            if rule.selects(image) {
                by_index[index * words + r / 64] |= 1 << (r % 64);
            }
        }
        let pushed = image.pushed_at_ms;
        times_by_index.push((pushed, image.last_pulled_ms.unwrap_or(pushed), image.archived_at_ms));
    }
    let mut masks = vec![0u64; images.len() * words];
    let mut times = Vec::with_capacity(images.len());
    for (position, &(_, index)) in order.iter().enumerate() {
        masks[position * words..(position + 1) * words].copy_from_slice(&by_index[index * words..(index + 1) * words]);
        times.push(times_by_index[index]);
    }
    (masks, times)
}

fn older_than(time_ms: Option<i64>, days: u64, now_ms: i64) -> bool {
    let limit = i64::try_from(days).unwrap_or(i64::MAX).saturating_mul(DAY_MS);
    time_ms.is_some_and(|t| now_ms.saturating_sub(t) > limit)
}

/// Whether `rule`'s selection matches `image`.
pub fn selects(rule: &Rule, image: &Image) -> bool {
    CompiledRule::new(rule).selects(image)
}

/// A rule's selection with its wildcard patterns split once.
struct CompiledRule<'a> {
    rule: &'a Rule,
    patterns: Vec<wildcard::Pattern<'a>>,
}

impl<'a> CompiledRule<'a> {
    fn new(rule: &'a Rule) -> Self {
        let patterns = match &rule.tags {
            TagSelection::Patterns(patterns) => patterns.iter().map(|p| wildcard::Pattern::new(p)).collect(),
            _ => Vec::new(),
        };
        Self { rule, patterns }
    }

    fn selects(&self, image: &Image) -> bool {
        if self.rule.storage_class != image.storage_class {
            return false;
        }
        match &self.rule.tags {
            TagSelection::Any => true,
            TagSelection::Untagged => image.tags.is_empty(),
            TagSelection::Prefixes(prefixes) => {
                !image.tags.is_empty() && prefixes.iter().all(|p| image.tags.iter().any(|t| t.starts_with(p.as_str())))
            }
            TagSelection::Patterns(_) => {
                !image.tags.is_empty() && self.patterns.iter().all(|p| image.tags.iter().any(|t| p.matches(t)))
            }
        }
    }
}

/// `GetLifecyclePolicyPreview`'s answer shape, for JSON output; it borrows the images' digests and tags.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewOutput<'a> {
    /// The images acted on, oldest first.
    pub preview_results: Vec<PreviewResult<'a>>,
    /// Totals.
    pub summary: PreviewSummary,
    /// Per-rule counts (not in ECR's answer; kept last so ECR's fields read the same).
    pub rules: Vec<RuleSummary>,
}

/// One image acted on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewResult<'a> {
    /// Digest.
    pub image_digest: &'a str,
    /// Tags.
    pub image_tags: &'a [String],
    /// Push time, ISO 8601 as the AWS CLI prints it.
    pub image_pushed_at: Timestamp,
    /// What happens.
    pub action: PreviewAction,
    /// The rule that does it.
    pub applied_rule_priority: u64,
}

/// `EXPIRE`, or `TRANSITION` to archive.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewAction {
    /// `EXPIRE` or `TRANSITION`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// `ARCHIVE` for transitions.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_storage_class: Option<&'static str>,
}

/// Totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewSummary {
    /// Images that would be expired (deleted).
    pub expiring_image_total_count: usize,
    /// Images that would move to archive.
    #[serde(skip_serializing_if = "is_zero")]
    pub transitioning_image_total_count: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Preview {
    /// The preview in `GetLifecyclePolicyPreview`'s shape.
    pub fn output<'a>(&self, images: &'a [Image]) -> PreviewOutput<'a> {
        PreviewOutput {
            preview_results: self.acted.iter().map(|acted| acted.result(images)).collect(),
            summary: self.summary(),
            rules: self.rules.clone(),
        }
    }

    /// The totals.
    pub fn summary(&self) -> PreviewSummary {
        let expiring = self.acted.iter().filter(|a| a.action == RuleAction::Expire).count();
        PreviewSummary {
            expiring_image_total_count: expiring,
            transitioning_image_total_count: self.acted.len() - expiring,
        }
    }
}

impl Acted {
    /// This image's entry of `previewResults`.
    pub fn result<'a>(&self, images: &'a [Image]) -> PreviewResult<'a> {
        let image = &images[self.image];
        PreviewResult {
            image_digest: &image.digest,
            image_tags: &image.tags,
            image_pushed_at: Timestamp(image.pushed_at_ms),
            action: match self.action {
                RuleAction::Expire => PreviewAction { kind: "EXPIRE", target_storage_class: None },
                RuleAction::Transition => PreviewAction { kind: "TRANSITION", target_storage_class: Some("ARCHIVE") },
            },
            applied_rule_priority: self.rule_priority,
        }
    }
}
