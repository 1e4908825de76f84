//! Repository policy: required statements are merged in by `Sid`, every other statement is kept, and
//! statements granting public access are findings (removed in enforce mode, printed in the report).

use super::{Control, ControlId, Judgement};
use crate::action::Action;
use crate::baseline::{Mode, PublicAccess, Resolved};
use crate::observed::Observed;
use crate::policy::{self, PolicyDocument};

/// The repository policy control.
pub struct RepositoryPolicy;

impl Control for RepositoryPolicy {
    fn id(&self) -> ControlId {
        ControlId::RepositoryPolicy
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.repository_policy.mode
    }

    fn permissions(&self) -> &'static [&'static str] {
        &["ecr:GetRepositoryPolicy", "ecr:SetRepositoryPolicy", "ecr:DeleteRepositoryPolicy"]
    }

    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement {
        let mut document = match &have.repository_policy {
            None => PolicyDocument::empty(),
            Some(text) => match PolicyDocument::parse(text) {
                Ok(document) => document,
                Err(problem) => {
                    return Judgement::Violation {
                        finding: format!("the repository policy can't be read ({problem})"),
                        remedy: "fix or delete the policy by hand; ecr-warden doesn't rewrite what it can't read"
                            .to_string(),
                    }
                }
            },
        };
        let remove_public = want.repository_policy.public_access == PublicAccess::Deny;
        let merge = policy::merge(&mut document, &want.required_statements(), remove_public);
        if merge.statements_set.is_empty() && merge.removed.is_empty() {
            return Judgement::Compliant;
        }
        let mut findings = Vec::new();
        if !merge.statements_set.is_empty() {
            findings.push(format!("missing or outdated statements {}", merge.statements_set.join(", ")));
        }
        if !merge.removed.is_empty() {
            let sids: Vec<&str> = merge.removed.iter().map(|s| policy::sid(s).unwrap_or("(no Sid)")).collect();
            findings.push(format!("public access granted by {}", sids.join(", ")));
        }
        let action = if document.statements.is_empty() {
            Action::DeleteRepositoryPolicy { removed: merge.removed }
        } else {
            Action::SetRepositoryPolicy {
                policy: document.to_text(),
                statements_set: merge.statements_set,
                removed: merge.removed,
            }
        };
        Judgement::Drift { finding: findings.join("; "), actions: vec![action] }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::controls::testing::{builtin, fresh_repository, settings};

    const PULL: &str = "[defaults.repository_policy]\ncross_account_pull = [\"111122223333\"]\n";

    #[test]
    fn no_policy_and_nothing_required_is_compliant() {
        assert_eq!(RepositoryPolicy.judge(&builtin(), &fresh_repository()), Judgement::Compliant);
    }

    #[test]
    fn required_statements_are_added_next_to_user_statements() {
        let user = json!({"Sid":"Mine","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":"ecr:*"});
        let mut repo = fresh_repository();
        repo.repository_policy = Some(json!({"Version":"2012-10-17","Statement":user}).to_string());
        match RepositoryPolicy.judge(&settings(PULL), &repo) {
            Judgement::Drift { actions, .. } => match &actions[..] {
                [Action::SetRepositoryPolicy { policy, statements_set, removed }] => {
                    let doc = PolicyDocument::parse(policy).expect("valid");
                    assert_eq!(doc.statements[0], user, "user statement kept first, unchanged");
                    assert_eq!(doc.statements[1]["Sid"], "EcrWardenCrossAccountPull");
                    assert_eq!(statements_set, &["EcrWardenCrossAccountPull"]);
                    assert!(removed.is_empty());
                }
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("expected drift, got {other:?}"),
        }
    }

    #[test]
    fn a_policy_of_only_public_statements_is_deleted_and_they_are_reported() {
        let public = json!({"Sid":"Open","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"});
        let mut repo = fresh_repository();
        repo.repository_policy = Some(json!({"Version":"2012-10-17","Statement":[public]}).to_string());
        match RepositoryPolicy.judge(&builtin(), &repo) {
            Judgement::Drift { finding, actions } => {
                assert!(finding.contains("public access granted by Open"), "{finding}");
                assert_eq!(actions, vec![Action::DeleteRepositoryPolicy { removed: vec![public] }]);
            }
            other => panic!("expected drift, got {other:?}"),
        }
        let allow = settings("[defaults.repository_policy]\npublic_access = \"allow\"\n");
        assert_eq!(RepositoryPolicy.judge(&allow, &repo), Judgement::Compliant);
    }

    #[test]
    fn an_unreadable_policy_is_never_rewritten() {
        let mut repo = fresh_repository();
        repo.repository_policy = Some("{not json".into());
        assert!(matches!(RepositoryPolicy.judge(&settings(PULL), &repo), Judgement::Violation { .. }));
    }
}
