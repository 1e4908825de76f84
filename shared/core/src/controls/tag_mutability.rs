//! Tag mutability: tags must not be overwritable, except for the baseline's allowed exclusions. A
//! repository stricter than the target is compliant; a fix never loosens what the repository had.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Control, ControlId, Description, Judgement, Resolved};
use crate::action::Action;
use crate::mode::Mode;
use crate::observed::{Observed, Part, TagMutability as Setting};
use crate::section::{set, At, Problem, Section};
use crate::vulnerabilities::Severity;

/// The tag mutability control.
pub struct TagMutability;

/// `tag_mutability` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TagMutabilityOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// The setting to hold repositories to.
    pub target: Option<TagMutabilityTarget>,
    /// Allowed exclusion filters, with `IMMUTABLE_WITH_EXCLUSION`.
    pub exclusions: Option<Vec<String>>,
}

/// The tag mutability a baseline can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TagMutabilityTarget {
    /// No tag can be overwritten.
    #[default]
    Immutable,
    /// No tag can be overwritten except those matching the allowed exclusions.
    ImmutableWithExclusion,
}

/// Tag mutability settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagMutabilitySettings {
    /// Mode.
    pub mode: Mode,
    /// Target setting.
    pub target: TagMutabilityTarget,
    /// Allowed exclusion filters.
    pub exclusions: Vec<String>,
}

impl Section for TagMutabilitySettings {
    type Layer = TagMutabilityOverride;

    fn nothing() -> Self {
        Self::default()
    }

    fn mode_mut(&mut self) -> &mut Mode {
        &mut self.mode
    }

    fn merge(&mut self, layer: &TagMutabilityOverride, _at: At<'_>) -> Vec<Problem> {
        set(&mut self.mode, &layer.mode);
        set(&mut self.target, &layer.target);
        set(&mut self.exclusions, &layer.exclusions);
        Vec::new()
    }

    fn value_problems(&self, at: At<'_>) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.exclusions.len() > 5 {
            problems.push(at.problem("exclusions", format!("at most 5 filters, found {}", self.exclusions.len())));
        }
        for filter in self.exclusions.iter().filter(|filter| !valid_exclusion_filter(filter)) {
            problems.push(
                at.problem("exclusions", format!("`{filter}` must be 1-128 characters of letters, digits, `._*-`")),
            );
        }
        problems
    }

    fn combination_problems(&self, at: At<'_>) -> Vec<Problem> {
        let with_exclusions = self.target == TagMutabilityTarget::ImmutableWithExclusion;
        let problem = match (self.mode, with_exclusions, self.exclusions.is_empty()) {
            (Mode::Off, _, _) => return Vec::new(),
            (_, true, true) => "IMMUTABLE_WITH_EXCLUSION needs 1 to 5 exclusion filters",
            (_, false, false) => "exclusions only apply to IMMUTABLE_WITH_EXCLUSION, the target is IMMUTABLE",
            _ => return Vec::new(),
        };
        vec![at.problem("exclusions", problem)]
    }
}

/// ECR's rule for tag mutability exclusion filters: `^[0-9a-zA-Z._*-]{1,128}$`.
fn valid_exclusion_filter(filter: &str) -> bool {
    (1..=128).contains(&filter.len())
        && filter.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'*' | b'-'))
}

const DESCRIPTION: Description = Description {
    id: ControlId::TagMutability,
    section: "tag_mutability",
    checks: "The repository's tag mutability is the baseline's target: IMMUTABLE, or IMMUTABLE_WITH_EXCLUSION with \
             exactly the listed exclusion filters.",
    fixes: "PutImageTagMutability with the target (and its exclusion filters).",
    permissions: &["ecr:DescribeRepositories", "ecr:PutImageTagMutability"],
    reads: &[Part::Facts],
    severity: Severity::Medium,
    security_hub: Some("ECR.2"),
    config_rule: Some("ecr-private-tag-immutability-enabled"),
    changed_by: &[],
};

impl Control for TagMutability {
    fn description(&self) -> &'static Description {
        &DESCRIPTION
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.tag_mutability.mode
    }

    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement {
        let allowed = &want.tag_mutability.exclusions;
        let current = have.facts.tag_mutability;
        let current_exclusions = &have.facts.mutability_exclusions;
        let (fix, exclusions) = match (want.tag_mutability.target, current) {
            (_, Setting::Immutable) => return Judgement::Compliant,
            (TagMutabilityTarget::ImmutableWithExclusion, Setting::ImmutableWithExclusion) => {
                let kept: Vec<String> = current_exclusions.iter().filter(|e| allowed.contains(e)).cloned().collect();
                if kept.len() == current_exclusions.len() {
                    return Judgement::Compliant;
                }
                // Never loosen: keep only the exclusions that were both set and allowed.
                if kept.is_empty() {
                    (Setting::Immutable, kept)
                } else {
                    (Setting::ImmutableWithExclusion, kept)
                }
            }
            (TagMutabilityTarget::ImmutableWithExclusion, _) => (Setting::ImmutableWithExclusion, allowed.clone()),
            (TagMutabilityTarget::Immutable, _) => (Setting::Immutable, Vec::new()),
        };
        let finding = if current_exclusions.is_empty() {
            format!("tags are {}", current.as_str())
        } else {
            format!("tags are {} excluding {}", current.as_str(), current_exclusions.join(", "))
        };
        Judgement::Drift { finding, actions: vec![Action::SetTagMutability { mutability: fix, exclusions }] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{builtin, fresh_repository, settings};

    const WITH_EXCLUSIONS: &str =
        "[defaults.tag_mutability]\ntarget = \"IMMUTABLE_WITH_EXCLUSION\"\nexclusions = [\"latest\", \"dev-*\"]\n";

    fn fix_of(judgement: Judgement) -> (Setting, Vec<String>) {
        match judgement {
            Judgement::Drift { actions, .. } => match actions.as_slice() {
                [Action::SetTagMutability { mutability, exclusions }] => (*mutability, exclusions.clone()),
                other => panic!("unexpected actions {other:?}"),
            },
            other => panic!("expected drift, got {other:?}"),
        }
    }

    #[test]
    fn mutable_repositories_are_made_immutable() {
        let (setting, exclusions) = fix_of(TagMutability.judge(&builtin(), &fresh_repository()));
        assert_eq!((setting, exclusions), (Setting::Immutable, vec![]));
    }

    #[test]
    fn immutable_repositories_are_compliant_even_when_exclusions_are_allowed() {
        let mut repo = fresh_repository();
        repo.facts.tag_mutability = Setting::Immutable;
        assert_eq!(TagMutability.judge(&builtin(), &repo), Judgement::Compliant);
        assert_eq!(TagMutability.judge(&settings(WITH_EXCLUSIONS), &repo), Judgement::Compliant, "stricter is fine");
    }

    #[test]
    fn mutable_with_exclusion_counts_as_mutable() {
        let mut repo = fresh_repository();
        repo.facts.tag_mutability = Setting::MutableWithExclusion;
        repo.facts.mutability_exclusions = vec!["release-*".into()];
        let (setting, exclusions) = fix_of(TagMutability.judge(&settings(WITH_EXCLUSIONS), &repo));
        assert_eq!((setting, exclusions), (Setting::ImmutableWithExclusion, vec!["latest".into(), "dev-*".into()]));
    }

    #[test]
    fn fewer_exclusions_than_allowed_are_compliant() {
        let mut repo = fresh_repository();
        repo.facts.tag_mutability = Setting::ImmutableWithExclusion;
        repo.facts.mutability_exclusions = vec!["latest".into()];
        assert_eq!(TagMutability.judge(&settings(WITH_EXCLUSIONS), &repo), Judgement::Compliant);
    }

    #[test]
    fn unallowed_exclusions_are_dropped_without_adding_others() {
        let mut repo = fresh_repository();
        repo.facts.tag_mutability = Setting::ImmutableWithExclusion;
        repo.facts.mutability_exclusions = vec!["latest".into(), "*".into()];
        let fix = fix_of(TagMutability.judge(&settings(WITH_EXCLUSIONS), &repo));
        assert_eq!(fix, (Setting::ImmutableWithExclusion, vec!["latest".into()]));
        repo.facts.mutability_exclusions = vec!["*".into()];
        let fix = fix_of(TagMutability.judge(&settings(WITH_EXCLUSIONS), &repo));
        assert_eq!(fix, (Setting::Immutable, vec![]), "nothing allowed is left: fully immutable");
        let fix = fix_of(TagMutability.judge(&builtin(), &repo));
        assert_eq!(fix, (Setting::Immutable, vec![]));
    }
}
