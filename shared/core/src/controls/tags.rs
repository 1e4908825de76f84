//! Tags: required keys are added with their default value. A user's tag is never removed, and never
//! overwritten unless the baseline says `overwrite = true` for that key.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Control, ControlId, Description, Judgement, Resolved};
use crate::action::Action;
use crate::limits::{tag_key_problem, tag_value_problem};
use crate::mode::Mode;
use crate::observed::{Observed, Part};
use crate::section::{set, At, Problem, Section};
use crate::vulnerabilities::Severity;

/// The most tags a repository holds (`aws:` ones aside).
pub(super) const MAX_TAGS: usize = 50;

/// The tags control.
pub struct Tags;

/// `tags` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// Required tags by key; merged key by key.
    pub required: Option<BTreeMap<String, RequiredTag>>,
}

/// One required tag.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequiredTag {
    /// The value to add when the tag is missing.
    pub default: Option<String>,
    /// The values allowed; empty allows any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allowed: Vec<String>,
    /// Whether a value outside `allowed` is replaced by `default`.
    #[serde(default)]
    pub overwrite: bool,
}

/// Tags settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagsSettings {
    /// Mode.
    pub mode: Mode,
    /// Required tags by key.
    pub required: BTreeMap<String, RequiredTag>,
}

impl Section for TagsSettings {
    type Layer = TagsOverride;

    fn nothing() -> Self {
        Self::default()
    }

    fn mode_mut(&mut self) -> &mut Mode {
        &mut self.mode
    }

    fn merge(&mut self, layer: &TagsOverride, _at: At<'_>) -> Vec<Problem> {
        set(&mut self.mode, &layer.mode);
        for (key, tag) in layer.required.iter().flatten() {
            self.required.insert(key.clone(), tag.clone());
        }
        Vec::new()
    }

    fn value_problems(&self, at: At<'_>) -> Vec<Problem> {
        let mut problems = Vec::new();
        for (key, tag) in &self.required {
            if let Some(problem) = tag_key_problem(key) {
                problems.push(at.problem("required", problem));
            }
            for problem in tag.default.iter().chain(&tag.allowed).filter_map(|value| tag_value_problem(value)) {
                problems.push(at.problem(&format!("required.{key}"), problem));
            }
            match &tag.default {
                Some(default) if !tag.allowed.is_empty() && !tag.allowed.contains(default) => problems.push(
                    at.problem(&format!("required.{key}.default"), format!("`{default}` is not one of `allowed`")),
                ),
                None if tag.overwrite => problems
                    .push(at.problem(&format!("required.{key}.overwrite"), "needs a `default` to overwrite with")),
                _ => {}
            }
        }
        problems
    }
}

const DESCRIPTION: Description = Description {
    id: ControlId::Tags,
    section: "tags",
    checks: "Every required tag is present and, where the key lists `allowed` values, has one of them.",
    fixes: "TagResource with the defaults of missing tags, and of values outside `allowed` where the key says \
            overwrite = true (otherwise such a value is reported). Tags are never removed.",
    permissions: &["ecr:ListTagsForResource", "ecr:TagResource"],
    reads: &[Part::Tags],
    severity: Severity::Low,
    security_hub: None,
    config_rule: None,
    changed_by: &[],
};

impl Control for Tags {
    fn description(&self) -> &'static Description {
        &DESCRIPTION
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.tags.mode
    }

    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement {
        let mut to_set = BTreeMap::new();
        let mut drift = Vec::new();
        let mut unfixable = Vec::new();
        for (key, rule) in &want.tags.required {
            match (have.tags.get(key), &rule.default) {
                (Some(value), _) if rule.allowed.is_empty() || rule.allowed.contains(value) => {}
                (None, Some(default)) => {
                    drift.push(format!("missing {key}"));
                    to_set.insert(key.clone(), default.clone());
                }
                (None, None) => unfixable.push(format!("missing {key} (the baseline gives no default)")),
                (Some(value), Some(default)) if rule.overwrite => {
                    drift.push(format!("{key}={value} is not allowed"));
                    to_set.insert(key.clone(), default.clone());
                }
                (Some(value), _) => unfixable.push(format!("{key}={value} is not one of {}", rule.allowed.join(", "))),
            }
        }
        // ECR holds at most 50 tags on a repository (keys starting with `aws:` don't count): a write past that
        // would fail on every run (AWS General Reference, "Tagging AWS resources").
        let counted = |key: &String| !key.to_ascii_lowercase().starts_with("aws:");
        let after = have.tags.keys().filter(|k| counted(k)).count()
            + to_set.keys().filter(|k| counted(k) && !have.tags.contains_key(*k)).count();
        if !to_set.is_empty() && after > MAX_TAGS {
            return Judgement::Violation {
                finding: format!("{}; adding them would make {after} tags, ECR allows {MAX_TAGS}", drift.join("; ")),
                remedy: "remove tags the repository no longer needs, or require fewer".to_string(),
            };
        }
        // What can be fixed is fixed, whatever can't be: a tag without a default doesn't hold up the others.
        // Once they are written, the read-back finds only what can't be fixed, a violation.
        if !to_set.is_empty() {
            drift.extend(unfixable.into_iter().map(|problem| format!("{problem}, left for a person")));
            return Judgement::Drift { finding: drift.join("; "), actions: vec![Action::Tag { tags: to_set }] };
        }
        if unfixable.is_empty() {
            return Judgement::Compliant;
        }
        Judgement::Violation {
            finding: unfixable.join("; "),
            remedy: "set the tags by hand, or give the baseline a default for them".to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{builtin, fresh_repository, settings};

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn missing_tags_are_added_with_their_default() {
        let judgement = Tags.judge(&builtin(), &fresh_repository());
        let want = vec![Action::Tag { tags: tags(&[("managed-by", "ecr-warden")]) }];
        assert!(matches!(judgement, Judgement::Drift { ref actions, .. } if actions == &want), "{judgement:?}");
    }

    #[test]
    fn user_values_are_kept_unless_overwrite_is_set() {
        let mut repo = fresh_repository();
        repo.tags = tags(&[("managed-by", "terraform"), ("owner", "me")]);
        assert_eq!(Tags.judge(&builtin(), &repo), Judgement::Compliant, "any value allowed by default");

        let allowed =
            settings("[defaults.tags.required.managed-by]\ndefault = \"ecr-warden\"\nallowed = [\"ecr-warden\"]\n");
        assert!(matches!(Tags.judge(&allowed, &repo), Judgement::Violation { .. }));

        let overwrite = settings(
            "[defaults.tags.required.managed-by]\ndefault = \"ecr-warden\"\nallowed = [\"ecr-warden\"]\noverwrite = true\n",
        );
        let want = vec![Action::Tag { tags: tags(&[("managed-by", "ecr-warden")]) }];
        assert!(matches!(Tags.judge(&overwrite, &repo), Judgement::Drift { ref actions, .. } if actions == &want));
    }

    #[test]
    fn a_required_tag_without_default_is_a_violation() {
        let want = settings("[defaults.tags.required.team]\nallowed = [\"a\", \"b\"]\n");
        let mut repo = fresh_repository();
        repo.tags = tags(&[("managed-by", "ecr-warden")]);
        match Tags.judge(&want, &repo) {
            Judgement::Violation { finding, .. } => assert!(finding.contains("missing team"), "{finding}"),
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    /// A required tag without a default doesn't hold up the fix of the others (issue 15, item 11).
    #[test]
    fn what_can_be_fixed_is_fixed_beside_what_cannot() {
        let want = settings(
            "[defaults.tags.required.team]
allowed = [\"a\", \"b\"]\n",
        );
        match Tags.judge(&want, &fresh_repository()) {
            Judgement::Drift { finding, actions } => {
                assert_eq!(actions, vec![Action::Tag { tags: tags(&[("managed-by", "ecr-warden")]) }]);
                assert!(
                    finding.contains("missing team (the baseline gives no default), left for a person"),
                    "{finding}"
                );
            }
            other => panic!("expected drift, got {other:?}"),
        }
    }

    /// Past ECR's 50 tags a repository, adding required tags is a violation before any write.
    #[test]
    fn required_tags_past_fifty_are_a_violation() {
        let mut repo = fresh_repository();
        repo.tags = (0..50).map(|i| (format!("team-tag-{i}"), "x".to_string())).collect();
        repo.tags.insert("aws:cloudformation:stack-name".into(), "s".into());
        match Tags.judge(&builtin(), &repo) {
            Judgement::Violation { finding, .. } => assert!(finding.contains("51 tags, ECR allows 50"), "{finding}"),
            other => panic!("expected a violation, got {other:?}"),
        }
        repo.tags.remove("team-tag-0");
        assert!(
            matches!(Tags.judge(&builtin(), &repo), Judgement::Drift { .. }),
            "49 + 1 fits (aws: tags don't count)"
        );
    }
}
