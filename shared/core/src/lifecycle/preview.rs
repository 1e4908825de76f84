//! Which images a lifecycle policy acts on, following ECR's evaluation exactly:
//!
//! 1. rules run in ascending priority, and an image is acted on by at most one rule;
//! 2. an image selected by a higher-priority rule can't be acted on by a lower one, but it still counts
//!    toward the lower rule's image count;
//! 3. `imageCountMoreThan N` keeps the N most recently pushed images it selects and acts on the rest;
//!    the `since…` counts act on images whose time is more than N days before `now`;
//! 4. the result is ordered oldest first, as ECR expires.

use serde::Serialize;

use super::images::{format_ms, Image};
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
pub fn preview(policy: &LifecyclePolicy, images: &[Image], now_ms: i64) -> Preview {
    // Youngest first, as ECR counts; ties broken by digest so the result is deterministic.
    let mut order: Vec<usize> = (0..images.len()).collect();
    order.sort_unstable_by(|&a, &b| {
        images[b].pushed_at_ms.cmp(&images[a].pushed_at_ms).then_with(|| images[a].digest.cmp(&images[b].digest))
    });
    let mut selected_by_higher = vec![false; images.len()];
    let mut acted_by: Vec<Option<usize>> = vec![None; images.len()];
    let mut selected_now = Vec::with_capacity(images.len());
    let mut summaries = Vec::with_capacity(policy.rules.len());
    for (rule_index, rule) in policy.rules.iter().enumerate() {
        selected_now.clear();
        let mut acted_on = 0;
        for &index in &order {
            let image = &images[index];
            if !selects(rule, image) {
                continue;
            }
            selected_now.push(index);
            let beyond = match rule.count {
                Count::MoreThan(n) => selected_now.len() as u64 > n,
                Count::SincePushedDays(days) => older_than(Some(image.pushed_at_ms), days, now_ms),
                Count::SincePulledDays(days) => {
                    older_than(Some(image.last_pulled_ms.unwrap_or(image.pushed_at_ms)), days, now_ms)
                }
                Count::SinceTransitionedDays(days) => older_than(image.archived_at_ms, days, now_ms),
            };
            if beyond && !selected_by_higher[index] && acted_by[index].is_none() {
                acted_by[index] = Some(rule_index);
                acted_on += 1;
            }
        }
        for &index in &selected_now {
            selected_by_higher[index] = true;
        }
        summaries.push(RuleSummary { rule_priority: rule.priority, matched: selected_now.len(), acted_on });
    }
    let mut acted: Vec<Acted> = order
        .iter()
        .rev()
        .filter_map(|&index| {
            let rule = &policy.rules[acted_by[index]?];
            Some(Acted { image: index, rule_priority: rule.priority, action: rule.action })
        })
        .collect();
    // `order` reversed is oldest first; equal push times keep digest order.
    acted.sort_by_key(|a| images[a.image].pushed_at_ms);
    Preview { acted, rules: summaries }
}

fn older_than(time_ms: Option<i64>, days: u64, now_ms: i64) -> bool {
    let limit = i64::try_from(days).unwrap_or(i64::MAX).saturating_mul(DAY_MS);
    time_ms.is_some_and(|t| now_ms.saturating_sub(t) > limit)
}

/// Whether `rule`'s selection matches `image`.
pub fn selects(rule: &Rule, image: &Image) -> bool {
    if rule.storage_class != image.storage_class {
        return false;
    }
    match &rule.tags {
        TagSelection::Any => true,
        TagSelection::Untagged => image.tags.is_empty(),
        TagSelection::Prefixes(prefixes) => {
            !image.tags.is_empty() && prefixes.iter().all(|p| image.tags.iter().any(|t| t.starts_with(p.as_str())))
        }
        TagSelection::Patterns(patterns) => {
            !image.tags.is_empty() && patterns.iter().all(|p| image.tags.iter().any(|t| wildcard::matches(p, t)))
        }
    }
}

/// `GetLifecyclePolicyPreview`'s answer shape, for JSON output.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewOutput {
    /// The images acted on, oldest first.
    pub preview_results: Vec<PreviewResult>,
    /// Totals.
    pub summary: PreviewSummary,
    /// Per-rule counts (not in ECR's answer; kept last so ECR's fields read the same).
    pub rules: Vec<RuleSummary>,
}

/// One image acted on.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PreviewResult {
    /// Digest.
    pub image_digest: String,
    /// Tags.
    pub image_tags: Vec<String>,
    /// Push time, ISO 8601.
    pub image_pushed_at: String,
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
    pub fn output(&self, images: &[Image]) -> PreviewOutput {
        let preview_results: Vec<PreviewResult> = self
            .acted
            .iter()
            .map(|a| {
                let image = &images[a.image];
                PreviewResult {
                    image_digest: image.digest.clone(),
                    image_tags: image.tags.clone(),
                    image_pushed_at: format_ms(image.pushed_at_ms),
                    action: match a.action {
                        RuleAction::Expire => PreviewAction { kind: "EXPIRE", target_storage_class: None },
                        RuleAction::Transition => {
                            PreviewAction { kind: "TRANSITION", target_storage_class: Some("ARCHIVE") }
                        }
                    },
                    applied_rule_priority: a.rule_priority,
                }
            })
            .collect();
        let expiring = self.acted.iter().filter(|a| a.action == RuleAction::Expire).count();
        PreviewOutput {
            summary: PreviewSummary {
                expiring_image_total_count: expiring,
                transitioning_image_total_count: self.acted.len() - expiring,
            },
            preview_results,
            rules: self.rules.clone(),
        }
    }
}
