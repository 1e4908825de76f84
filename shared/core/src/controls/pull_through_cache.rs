//! Pull through cache rules, a registry-level control that only reports (`[pull_through_cache]`): every rule must
//! cache an upstream registry the baseline allows, and the repositories each rule creates must get a repository
//! creation template (one for the rule's prefix, or `ROOT`, applying to `PULL_THROUGH_CACHE`: "the repository
//! prefix you specify during rule creation is what you should specify as your repository creation template
//! prefix", API reference, `CreateRepositoryCreationTemplate`).
//!
//! A rule to another upstream is a violation and is never deleted: deleting a cache rule breaks every pull
//! through it, and the images it cached stay in their repositories anyway; a person decides.

use schemars::JsonSchema;
use serde::Deserialize;

use super::creation_templates::{CreationTemplate, ROOT};
use super::{ControlId, Description, RegistryJudgement};
use crate::mode::Mode;
use crate::section::Problem;
use crate::vulnerabilities::Severity;
use crate::wildcard::Pattern;

/// What the control reads.
pub const PERMISSIONS: &[&str] = &["ecr:DescribePullThroughCacheRules", "ecr:DescribeRepositoryCreationTemplates"];

/// The scenario a creation template must apply to for cached repositories.
const PULL_THROUGH_CACHE: &str = "PULL_THROUGH_CACHE";

/// The pull through cache control's description.
pub(super) const PULL_THROUGH_CACHE_RULES: Description = Description {
    id: ControlId::PullThroughCache,
    section: "pull_through_cache (top level, registry-wide)",
    checks: "Every pull through cache rule caches an upstream registry `allowed_upstreams` allows, and a repository \
             creation template (for the rule's prefix, or ROOT) applies to the repositories it creates.",
    fixes: "None: reported only. Deleting a cache rule breaks every pull through it; remove or change a rule to an \
            unapproved upstream by hand, and create the templates with [creation_templates].",
    permissions: PERMISSIONS,
    reads: &[],
    severity: Severity::Medium,
    security_hub: None,
    config_rule: None,
    changed_by: &["CreatePullThroughCacheRule", "UpdatePullThroughCacheRule"],
};

/// The `[pull_through_cache]` section as written.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PullThroughCacheFile {
    /// Mode (default `off`); `enforce` reports as `audit` does: rules are never changed.
    pub mode: Option<Mode>,
    /// Upstream registry URLs rules may cache (`registry-1.docker.io`, `public.ecr.aws`, `ghcr.io`; `*` stands
    /// for any run of characters: `*.dkr.ecr.*.amazonaws.com`).
    #[serde(default)]
    pub allowed_upstreams: Vec<String>,
    /// Whether every rule's repositories must get a creation template (default true).
    pub require_creation_template: Option<bool>,
}

/// The pull through cache settings, checked.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PullThroughCacheSettings {
    /// Mode.
    pub mode: Mode,
    /// Allowed upstream registry URLs (patterns).
    pub allowed_upstreams: Vec<String>,
    /// Whether a creation template must apply to each rule's repositories.
    pub require_creation_template: bool,
}

impl PullThroughCacheSettings {
    /// Reads and checks the section; problems are named `pull_through_cache.<key>`.
    pub fn from_file(file: Option<&PullThroughCacheFile>, problems: &mut Vec<Problem>) -> Self {
        let Some(file) = file else { return Self::default() };
        for url in file.allowed_upstreams.iter().filter(|url| url.is_empty() || url.contains("://")) {
            problems.push(Problem::new(
                "pull_through_cache.allowed_upstreams",
                format!("`{url}` is not a registry host name (as ECR shows it: registry-1.docker.io, no scheme)"),
            ));
        }
        Self {
            mode: file.mode.unwrap_or(Mode::Off),
            allowed_upstreams: file.allowed_upstreams.clone(),
            require_creation_template: file.require_creation_template.unwrap_or(true),
        }
    }

    /// Whether rules may cache `url`.
    fn allows(&self, url: &str) -> bool {
        let host = url.trim_start_matches("https://").trim_end_matches('/');
        self.allowed_upstreams.iter().any(|allowed| Pattern::new(allowed).matches(host))
    }
}

/// A pull through cache rule, as ECR describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CacheRule {
    /// The prefix of the repositories it creates (`docker-hub`).
    pub ecr_repository_prefix: String,
    /// The upstream registry's URL (`registry-1.docker.io`).
    pub upstream_registry_url: String,
}

/// What the registry's cache rules come to: never a fix, since they are only reported.
pub type Judgement = RegistryJudgement<()>;

/// Judges the registry's cache `rules` with its creation `templates`.
pub fn judge(settings: &PullThroughCacheSettings, rules: &[CacheRule], templates: &[CreationTemplate]) -> Judgement {
    let mut findings = Vec::new();
    let unapproved: Vec<String> = rules
        .iter()
        .filter(|rule| !settings.allows(&rule.upstream_registry_url))
        .map(|rule| format!("{} caches {}", rule.ecr_repository_prefix, rule.upstream_registry_url))
        .collect();
    if !unapproved.is_empty() {
        findings.push(format!("rules to upstreams the baseline doesn't allow: {}", unapproved.join(", ")));
    }
    let applies = |template: &CreationTemplate| template.applied_for.iter().any(|a| a == PULL_THROUGH_CACHE);
    let root = templates.iter().any(|t| t.prefix == ROOT && applies(t));
    if settings.require_creation_template && !root {
        let untemplated: Vec<&str> = rules
            .iter()
            .filter(|rule| !templates.iter().any(|t| t.prefix == rule.ecr_repository_prefix && applies(t)))
            .map(|rule| rule.ecr_repository_prefix.as_str())
            .collect();
        if !untemplated.is_empty() {
            findings.push(format!(
                "no creation template applies to the repositories of {} (neither one for the prefix nor ROOT, for \
                 PULL_THROUGH_CACHE): they start without the baseline, and their encryption can't be changed later",
                untemplated.join(", ")
            ));
        }
    }
    if findings.is_empty() {
        return Judgement::Compliant;
    }
    Judgement::Violation {
        finding: findings.join("; "),
        remedy: "ecr-warden never deletes a cache rule (every pull through it would break): change or delete it by \
                 hand, allow its upstream in allowed_upstreams, and create templates with [creation_templates]"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    fn settings(allowed: &[&str]) -> PullThroughCacheSettings {
        PullThroughCacheSettings {
            mode: Mode::Audit,
            allowed_upstreams: allowed.iter().map(|s| s.to_string()).collect(),
            require_creation_template: true,
        }
    }

    fn rule(prefix: &str, url: &str) -> CacheRule {
        CacheRule { ecr_repository_prefix: prefix.into(), upstream_registry_url: url.into() }
    }

    fn template(prefix: &str, applied_for: &[&str]) -> CreationTemplate {
        CreationTemplate {
            prefix: prefix.into(),
            description: String::new(),
            image_tag_mutability: None,
            image_tag_mutability_exclusion_filters: Vec::new(),
            encryption_configuration: None,
            lifecycle_policy: None,
            repository_policy: None,
            resource_tags: Default::default(),
            applied_for: applied_for.iter().map(|s| s.to_string()).collect::<BTreeSet<_>>(),
            custom_role_arn: None,
        }
    }

    #[test]
    fn a_rule_to_an_unapproved_upstream_is_reported() {
        let rules = [rule("docker-hub", "registry-1.docker.io"), rule("sketchy", "registry.example.com")];
        let templates = [template("ROOT", &["PULL_THROUGH_CACHE"])];
        let Judgement::Violation { finding, remedy } = judge(&settings(&["registry-1.docker.io"]), &rules, &templates)
        else {
            panic!("violation expected")
        };
        assert_eq!(finding, "rules to upstreams the baseline doesn't allow: sketchy caches registry.example.com");
        assert!(remedy.contains("never deletes a cache rule"), "{remedy}");
        let allowed = settings(&["registry-1.docker.io", "*.example.com"]);
        assert_eq!(judge(&allowed, &rules, &templates), Judgement::Compliant);
    }

    #[test]
    fn each_rule_needs_a_template_for_its_prefix_or_root_applying_to_pull_through_cache() {
        let allowed = settings(&["*"]);
        let rules = [rule("docker-hub", "registry-1.docker.io"), rule("quay", "quay.io")];
        let replication_only = [template("ROOT", &["REPLICATION"]), template("docker-hub", &["PULL_THROUGH_CACHE"])];
        let Judgement::Violation { finding, .. } = judge(&allowed, &rules, &replication_only) else {
            panic!("violation expected")
        };
        assert!(finding.starts_with("no creation template applies to the repositories of quay"), "{finding}");
        let root = [template("ROOT", &["PULL_THROUGH_CACHE", "REPLICATION"])];
        assert_eq!(judge(&allowed, &rules, &root), Judgement::Compliant);
    }
}
