//! Tag mutability: tags must not be overwritable, except for the baseline's allowed exclusions. A
//! repository stricter than the target is compliant; a fix never loosens what the repository had.

use super::{Control, ControlId, Judgement};
use crate::action::Action;
use crate::baseline::{Mode, Resolved, TagMutabilityTarget};
use crate::observed::{Observed, Part, TagMutability as Setting};

/// The tag mutability control.
pub struct TagMutability;

impl Control for TagMutability {
    fn id(&self) -> ControlId {
        ControlId::TagMutability
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.tag_mutability.mode
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ecr:DescribeRepositories", "ecr:PutImageTagMutability"]
    }

    fn reads(&self) -> &'static [Part] {
        &[Part::Facts]
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
