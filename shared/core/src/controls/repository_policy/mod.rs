//! Repository policy: required statements are merged in by `Sid`, every other statement is kept, and
//! statements granting public access are findings (removed or narrowed in enforce mode, printed in the report).
//! A statement under a required `Sid` that ecr-warden didn't write is never overwritten: it is a violation.

mod settings;

use serde_json::Value;

pub use settings::{PublicAccess, RepositoryPolicyOverride, RepositoryPolicySettings, CROSS_ACCOUNT_PULL_SID};

use super::{Control, ControlId, Description, Judgement, Resolved};
use crate::action::Action;
use crate::mode::Mode;
use crate::observed::{Observed, Part, RepositoryArn};
use crate::policy::{self, PolicyDocument, MAX_OWNED_STATEMENTS, MAX_POLICY_CHARACTERS};
use crate::vulnerabilities::Severity;

/// The repository policy control.
pub struct RepositoryPolicy;

const DESCRIPTION: Description = Description {
    id: ControlId::RepositoryPolicy,
    section: "repository_policy",
    checks: "The baseline's required statements are in the repository policy (matched by Sid) and, with \
             public_access = \"deny\", no statement grants access to everyone (Principal \"*\" or NotPrincipal \
             in an Allow, without a Condition).",
    fixes: "SetRepositoryPolicy with the merged document: required statements set, public ones removed and \
            printed in full, every other statement kept as it was; DeleteRepositoryPolicy when only public \
            statements were left.",
    permissions: &[
        "ecr:GetRepositoryPolicy",
        "ecr:SetRepositoryPolicy",
        "ecr:DeleteRepositoryPolicy",
        "ecr:TagResource",
    ],
    reads: &[Part::RepositoryPolicy, Part::Tags],
    severity: Severity::High,
    security_hub: None,
    config_rule: None,
};

impl Control for RepositoryPolicy {
    fn description(&self) -> &'static Description {
        &DESCRIPTION
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.repository_policy.mode
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
        // The partition of the repository's own ARN (never a literal `aws`: China and GovCloud have their own).
        let partition = RepositoryArn::parse(&have.facts.arn).map_or("aws", |arn| arn.partition);
        let required = want.repository_policy.required_statements(partition);
        let owned = policy::owned_statements(&have.tags);
        let merge = policy::merge(&mut document, &required, remove_public, &owned);
        if !merge.conflicts.is_empty() {
            return conflict(&merge);
        }
        if !merge.changed() {
            return Judgement::Compliant;
        }
        let mut findings = Vec::new();
        if !merge.statements_set.is_empty() {
            findings.push(format!("missing or outdated statements {}", merge.statements_set.join(", ")));
        }
        let public: Vec<&Value> = merge.removed.iter().chain(merge.narrowed.iter().map(|n| &n.before)).collect();
        if !public.is_empty() {
            let sids: Vec<&str> = public.iter().map(|s| policy::sid(s).unwrap_or("(no Sid)")).collect();
            findings.push(format!("public access granted by {}", sids.join(", ")));
        }
        if document.statements.is_empty() {
            let action = Action::DeleteRepositoryPolicy { removed: merge.removed };
            return Judgement::Drift { finding: findings.join("; "), actions: vec![action] };
        }
        let text = document.to_text();
        let length = text.chars().count();
        if length > MAX_POLICY_CHARACTERS {
            return Judgement::Violation {
                finding: format!(
                    "{}; the merged policy would be {length} characters, over ECR's {MAX_POLICY_CHARACTERS}",
                    findings.join("; ")
                ),
                remedy: "shorten the repository's own statements, or require fewer or shorter statements".into(),
            };
        }
        let action = Action::SetRepositoryPolicy {
            policy: text,
            statements_set: merge.statements_set,
            replaced: merge.replaced,
            removed: merge.removed,
            narrowed: merge.narrowed,
            owned: owned_record(&required, &owned, &document)
                .filter(|record| have.tags.get(policy::OWNED_STATEMENTS_TAG) != Some(record)),
        };
        Judgement::Drift { finding: findings.join("; "), actions: vec![action] }
    }
}

/// Statements under required Sids that ecr-warden didn't write: reported in full, nothing written.
fn conflict(merge: &policy::Merge) -> Judgement {
    let statements: Vec<String> = merge.conflicts.iter().map(Value::to_string).collect();
    let sids: Vec<&str> = merge.conflicts.iter().filter_map(policy::sid).collect();
    let mut finding = format!(
        "the policy holds statements under the baseline's Sid {} that ecr-warden didn't write and won't overwrite: {}",
        sids.join(", "),
        statements.join(", ")
    );
    if !merge.public.is_empty() {
        finding.push_str(&format!("; it also grants public access ({} statement(s))", merge.public.len()));
    }
    Judgement::Violation {
        finding,
        remedy: "rename or remove the conflicting statement, or give the baseline's statement another Sid; \
                 then run ecr-warden again"
            .to_string(),
    }
}

/// The record of the statements ecr-warden owns once the policy is written: every required statement, then
/// those it owned before that are still in the document, as many as a tag value holds; `None` when there is
/// nothing to record.
fn owned_record(required: &[Value], owned_before: &[String], document: &PolicyDocument) -> Option<String> {
    let mut record: Vec<String> = required.iter().map(policy::fingerprint).collect();
    let present: Vec<String> = document.statements.iter().map(policy::fingerprint).collect();
    for old in owned_before {
        if present.contains(old) && !record.contains(old) {
            record.push(old.clone());
        }
    }
    record.truncate(MAX_OWNED_STATEMENTS);
    (!record.is_empty()).then(|| record.join(" "))
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
                [Action::SetRepositoryPolicy { policy, statements_set, removed, owned, .. }] => {
                    let doc = PolicyDocument::parse(policy).expect("valid");
                    assert_eq!(doc.statements[0], user, "user statement kept first, unchanged");
                    assert_eq!(doc.statements[1]["Sid"], "EcrWardenCrossAccountPull");
                    assert_eq!(statements_set, &["EcrWardenCrossAccountPull"]);
                    assert!(removed.is_empty());
                    assert_eq!(owned.as_deref(), Some(policy::fingerprint(&doc.statements[1]).as_str()), "recorded");
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

    fn pull_statement(accounts: &[&str]) -> Value {
        let principals: Vec<String> = accounts.iter().map(|a| format!("arn:aws:iam::{a}:root")).collect();
        json!({"Sid": "EcrWardenCrossAccountPull", "Effect": "Allow", "Principal": {"AWS": principals},
               "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]})
    }

    fn with_policy(statements: Vec<Value>) -> Observed {
        let mut repo = fresh_repository();
        repo.repository_policy = Some(json!({"Version": "2012-10-17", "Statement": statements}).to_string());
        repo
    }

    #[test]
    fn a_users_statement_under_the_reserved_sid_is_a_violation_printed_in_full() {
        let mut users = pull_statement(&["111122223333"]);
        users["Effect"] = json!("Deny");
        match RepositoryPolicy.judge(&settings(PULL), &with_policy(vec![users.clone()])) {
            Judgement::Violation { finding, remedy } => {
                assert!(finding.contains(&users.to_string()), "{finding}");
                assert!(remedy.contains("rename"), "{remedy}");
            }
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn ecr_wardens_own_outdated_statement_is_replaced_and_printed() {
        let old = pull_statement(&["444455556666"]);
        let mut repo = with_policy(vec![old.clone()]);
        repo.tags.insert(policy::OWNED_STATEMENTS_TAG.into(), policy::fingerprint(&old));
        match RepositoryPolicy.judge(&settings(PULL), &repo) {
            Judgement::Drift { actions, .. } => match &actions[..] {
                [Action::SetRepositoryPolicy { replaced, statements_set, .. }] => {
                    assert_eq!(replaced, &[old]);
                    assert_eq!(statements_set, &["EcrWardenCrossAccountPull"]);
                }
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("expected drift, got {other:?}"),
        }
    }

    #[test]
    fn a_merged_policy_over_ecrs_limit_is_a_violation_before_any_write() {
        let filler = |i: usize| {
            json!({"Sid": format!("Team{i}"), "Effect": "Allow", "Action": "ecr:BatchGetImage",
                   "Principal": {"AWS": format!("arn:aws:iam::{:012}:role/{}", i, "r".repeat(60))}})
        };
        // The team's own policy fits, just: the baseline's statement would take it over the limit.
        let mut statements = Vec::new();
        while with_policy(statements.clone()).repository_policy.is_some_and(|p| p.len() < MAX_POLICY_CHARACTERS - 200) {
            statements.push(filler(statements.len()));
        }
        let repo = with_policy(statements);
        match RepositoryPolicy.judge(&settings(PULL), &repo) {
            Judgement::Violation { finding, .. } => assert!(finding.contains("10240"), "{finding}"),
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn a_mixed_principal_list_keeps_the_named_grant() {
        let mixed = json!({"Sid": "Mixed", "Effect": "Allow", "Action": "ecr:BatchGetImage",
                           "Principal": {"AWS": ["*", "arn:aws:iam::444455556666:root"]}});
        match RepositoryPolicy.judge(&builtin(), &with_policy(vec![mixed.clone()])) {
            Judgement::Drift { finding, actions } => {
                assert!(finding.contains("public access granted by Mixed"), "{finding}");
                let [Action::SetRepositoryPolicy { policy, narrowed, removed, .. }] = &actions[..] else {
                    panic!("unexpected {actions:?}")
                };
                assert!(removed.is_empty());
                assert_eq!(narrowed[0].before, mixed);
                let doc = PolicyDocument::parse(policy).expect("valid");
                assert_eq!(doc.statements[0]["Principal"], json!({"AWS": ["arn:aws:iam::444455556666:root"]}));
            }
            other => panic!("expected drift, got {other:?}"),
        }
    }

    /// A repository in another partition gets its cross-account statement in that partition.
    #[test]
    fn principals_are_written_in_the_repositorys_partition() {
        let mut repo = fresh_repository();
        repo.facts.arn = "arn:aws-cn:ecr:cn-north-1:123456789012:repository/repo".into();
        match RepositoryPolicy.judge(&settings(PULL), &repo) {
            Judgement::Drift { actions, .. } => match &actions[..] {
                [Action::SetRepositoryPolicy { policy, .. }] => {
                    assert!(policy.contains("arn:aws-cn:iam::111122223333:root"), "{policy}");
                    assert!(!policy.contains("arn:aws:iam::"), "{policy}");
                }
                other => panic!("unexpected {other:?}"),
            },
            other => panic!("expected drift, got {other:?}"),
        }
    }
}
