//! Repository policy: required statements are merged in by `Sid`, every other statement is kept, and
//! statements granting public access are findings (removed or narrowed in enforce mode, printed in the report).
//! A statement under a required `Sid` that ecr-warden didn't write is never overwritten: it is a violation.

mod settings;

pub(crate) use settings::{is_role_pattern, is_service_principal};

use serde_json::Value;

pub use settings::{
    PublicAccess, RepositoryPolicyOverride, RepositoryPolicySettings, CROSS_ACCOUNT_PULL_SID, CROSS_ACCOUNT_PUSH_SID,
    LAMBDA_PULL_SID, ORGANIZATION_PULL_SID,
};

use super::{Control, ControlId, Description, Judgement, Resolved};
use crate::action::Action;
use crate::mode::Mode;
use crate::observed::{Observed, Part, RepositoryArn};
use crate::policy::{self, AllowedAccess, MergeRules, PolicyDocument, MAX_OWNED_STATEMENTS, MAX_POLICY_CHARACTERS};
use crate::vulnerabilities::Severity;

/// The repository policy control.
pub struct RepositoryPolicy;

/// Past this share of ECR's policy size, a policy ecr-warden writes comes with a warning and a way to shorten it.
const NEAR_LIMIT_PERCENT: usize = 80;

const DESCRIPTION: Description = Description {
    id: ControlId::RepositoryPolicy,
    section: "repository_policy",
    checks: "The baseline's required statements are in the repository policy (matched by Sid); with \
             public_access = \"deny\", no statement grants access to everyone (Principal \"*\" or NotPrincipal \
             in an Allow, without a Condition); with allowed_accounts, allow_organization or allowed_services, \
             no Allow statement lets in another account, organization, service or principal (principals read in \
             every form, \"*\" as narrowed by aws:PrincipalAccount, aws:SourceAccount, aws:PrincipalArn or \
             aws:PrincipalOrgID).",
    fixes: "SetRepositoryPolicy with the merged document: required statements set, public ones and those \
            letting in others than the baseline allows removed (or narrowed to the allowed principals) and \
            printed in full, every other statement kept as it was; DeleteRepositoryPolicy when nothing else was \
            left.",
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
    changed_by: &[],
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
        // The partition and region of the repository's own ARN (never a literal `aws`: China and GovCloud have
        // their own; Lambda pulls only from its own region).
        let arn = RepositoryArn::parse(&have.facts.arn);
        let (partition, region) = arn.as_ref().map_or(("aws", ""), |arn| (arn.partition, arn.region));
        let required = want.repository_policy.required_statements(partition, region);
        let owned = policy::owned_statements(&have.tags);
        let settings = &want.repository_policy;
        let allowed_accounts = settings.allowed_account_ids();
        let access = settings.restricts_access().then(|| AllowedAccess {
            own_account: RepositoryArn::parse(&have.facts.arn).map_or("", |arn| arn.account),
            accounts: &allowed_accounts,
            organization: settings.organization_id.as_deref().filter(|_| settings.allow_organization),
            services: settings.allowed_services.as_deref().unwrap_or_default(),
        });
        let rules = MergeRules { remove_public, owned: &owned, access: access.as_ref(), exclusive: settings.exclusive };
        let merge = policy::merge(&mut document, &required, &rules);
        if !merge.conflicts.is_empty() {
            return conflict(&merge);
        }
        if !merge.changed() {
            return Judgement::Compliant;
        }
        let mut findings = policy::findings(&merge, remove_public);
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
                remedy: "shorten the repository's own statements, or require fewer or shorter statements (one \
                         organization_pull instead of long account lists)"
                    .into(),
            };
        }
        if length * 100 > MAX_POLICY_CHARACTERS * NEAR_LIMIT_PERCENT {
            findings.push(format!(
                "the policy will be {length} of ECR's {MAX_POLICY_CHARACTERS} characters: organization_pull (one \
                 statement for the whole organization) instead of long account lists would leave room"
            ));
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

    /// `allowed_accounts`: a grant to an account the baseline doesn't name is a finding, removed (or taken out of
    /// a principal list naming allowed accounts too) and printed in full; the repository's own account and
    /// `cross_account_pull`'s are always allowed, and a compliant policy costs nothing.
    #[test]
    fn a_grant_to_an_account_outside_allowed_accounts_is_removed_and_printed() {
        let text = "[defaults.repository_policy]\nallowed_accounts = [\"222222222222\"]\n\
                    cross_account_pull = [\"333333333333\"]\n";
        let want = settings(text);
        let partner = json!({"Sid":"Partner","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::222222222222:root"},
                             "Action":"ecr:BatchGetImage"});
        let own = json!({"Sid":"Own","Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ecr:*"});
        let stranger = json!({"Sid":"Stranger","Effect":"Allow","Principal":{"AWS":"999999999999"},"Action":"ecr:*"});
        let mixed = json!({"Sid":"Mixed","Effect":"Allow","Action":"ecr:BatchGetImage",
                           "Principal":{"AWS":["222222222222","arn:aws:iam::888888888888:role/x"]}});
        let pull = want.repository_policy.required_statements("aws", "us-east-1").remove(0);
        let repo = with_policy(vec![partner.clone(), own.clone(), stranger.clone(), mixed.clone(), pull.clone()]);
        match RepositoryPolicy.judge(&want, &repo) {
            Judgement::Drift { finding, actions } => {
                assert!(finding.contains("Stranger lets in account 999999999999"), "{finding}");
                assert!(finding.contains("Mixed lets in account 888888888888"), "{finding}");
                let [Action::SetRepositoryPolicy { policy, removed, narrowed, .. }] = &actions[..] else {
                    panic!("{actions:?}")
                };
                assert_eq!(removed, &vec![stranger], "printed in full");
                assert_eq!(narrowed[0].before, mixed);
                let doc = PolicyDocument::parse(policy).expect("valid");
                assert_eq!(doc.statements[..2], [partner.clone(), own.clone()], "allowed grants kept as they were");
                assert_eq!(doc.statements[2]["Principal"], json!({"AWS": ["222222222222"]}));
                assert_eq!(doc.statements[3], pull);
            }
            other => panic!("expected drift, got {other:?}"),
        }
        let compliant = with_policy(vec![partner, own, pull]);
        assert_eq!(RepositoryPolicy.judge(&want, &compliant), Judgement::Compliant);
        let unrestricted = with_policy(vec![json!({"Sid":"Any","Effect":"Allow","Principal":{"AWS":"999999999999"},
                                                    "Action":"ecr:*"})]);
        assert_eq!(RepositoryPolicy.judge(&builtin(), &unrestricted), Judgement::Compliant, "no list, no check");
    }

    /// `allowed_services` and `allow_organization`: a service principal or the organization is let in only when
    /// named; `"*"` narrowed to the organization by `aws:PrincipalOrgID` is judged by the organization's ID.
    #[test]
    fn services_and_the_organization_are_let_in_only_when_allowed() {
        let text = "[defaults.repository_policy]\nallowed_services = [\"lambda.amazonaws.com\"]\n\
                    allow_organization = true\n";
        let mut want = settings_with_organization(text, "o-abc1234567");
        let lambda = json!({"Sid":"Lambda","Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},
                            "Action":"ecr:BatchGetImage"});
        let org = |id: &str| {
            json!({"Sid":"Org","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage",
                                    "Condition":{"StringEquals":{"aws:PrincipalOrgID": id}}})
        };
        let codebuild = json!({"Sid":"Build","Effect":"Allow","Principal":{"Service":"codebuild.amazonaws.com"},
                               "Action":"ecr:*"});
        assert_eq!(
            RepositoryPolicy.judge(&want, &with_policy(vec![lambda.clone(), org("o-abc1234567")])),
            Judgement::Compliant
        );
        match RepositoryPolicy.judge(&want, &with_policy(vec![lambda.clone(), org("o-other12345"), codebuild])) {
            Judgement::Drift { finding, .. } => {
                assert!(finding.contains("Org lets in organization o-other12345"), "{finding}");
                assert!(finding.contains("Build lets in service codebuild.amazonaws.com"), "{finding}");
            }
            other => panic!("expected drift, got {other:?}"),
        }
        want.repository_policy.allow_organization = false;
        let judged = RepositoryPolicy.judge(&want, &with_policy(vec![org("o-abc1234567")]));
        assert!(matches!(judged, Judgement::Drift { .. }), "the organization only with allow_organization");
    }

    /// `exclusive`: every statement but the baseline's is removed and printed, whoever wrote it; the baseline's
    /// own is kept (or added), and a policy holding only it is compliant.
    #[test]
    fn an_exclusive_policy_holds_only_the_baselines_statements() {
        let want = settings(&format!("{PULL}exclusive = true\n"));
        let pull = want.repository_policy.required_statements("aws", "us-east-1").remove(0);
        let team = json!({"Sid":"Team","Effect":"Allow","Principal":{"AWS":"123456789012"},"Action":"ecr:*"});
        let deny = json!({"Effect":"Deny","Principal":"*","Action":"ecr:DeleteRepository"});
        match RepositoryPolicy.judge(&want, &with_policy(vec![team.clone(), pull.clone(), deny.clone()])) {
            Judgement::Drift { finding, actions } => {
                assert!(finding.contains("exclusive: Team, (no Sid) not the baseline's"), "{finding}");
                let [Action::SetRepositoryPolicy { policy, removed, .. }] = &actions[..] else { panic!("{actions:?}") };
                assert_eq!(removed, &vec![team, deny], "printed in full");
                assert_eq!(PolicyDocument::parse(policy).expect("valid").statements, vec![pull.clone()]);
            }
            other => panic!("expected drift, got {other:?}"),
        }
        assert_eq!(RepositoryPolicy.judge(&want, &with_policy(vec![pull])), Judgement::Compliant);
    }

    /// `cross_account_push`, `lambda_pull` and `organization_pull` write the statements the seeds wrote by hand,
    /// in the repository's partition and region; with `allowed_accounts` set they are the baseline's own, never
    /// outsiders; `organization_pull` needs the organization's ID (an error without it, not a missing statement).
    #[test]
    fn push_lambda_and_organization_pulls_are_generated_statements() {
        let text = "[defaults.repository_policy]\ncross_account_push = [\"222222222222\"]\n\
                    lambda_pull = [\"333333333333\"]\norganization_pull = true\nallowed_accounts = []\n";
        let want = settings_with_organization(text, "o-abc1234567");
        let required = want.repository_policy.required_statements("aws-cn", "cn-north-1");
        let by_sid = |sid: &str| required.iter().find(|s| s["Sid"] == sid).cloned().expect(sid);
        let push = by_sid(CROSS_ACCOUNT_PUSH_SID);
        assert_eq!(push["Principal"], json!({"AWS": ["arn:aws-cn:iam::222222222222:root"]}));
        assert!(push["Action"].as_array().expect("actions").contains(&json!("ecr:PutImage")));
        let lambda = by_sid(LAMBDA_PULL_SID);
        assert_eq!(lambda["Principal"], json!({"Service": "lambda.amazonaws.com"}));
        assert_eq!(
            lambda["Condition"]["StringLike"]["aws:sourceArn"],
            json!(["arn:aws-cn:lambda:cn-north-1:333333333333:function:*"])
        );
        let organization = by_sid(ORGANIZATION_PULL_SID);
        assert_eq!(organization["Condition"]["StringEquals"]["aws:PrincipalOrgID"], "o-abc1234567");
        assert!(!policy::grants_public_access(&organization), "narrowed to the organization");

        let written = RepositoryPolicy.judge(&want, &fresh_repository());
        let Judgement::Drift { actions, .. } = written else { panic!("{written:?}") };
        let [Action::SetRepositoryPolicy { policy: text, .. }] = &actions[..] else { panic!("{actions:?}") };
        let repo = with_policy(PolicyDocument::parse(text).expect("valid").statements);
        assert_eq!(RepositoryPolicy.judge(&want, &repo), Judgement::Compliant, "the baseline's own let nobody else in");

        let unplaced =
            crate::baseline::Baseline::parse("t.toml", "[defaults.repository_policy]\norganization_pull = true\n");
        let problems = unplaced.expect("valid").resolve("repo").expect_err("the organization isn't known");
        assert!(problems[0].to_string().contains("organization_pull need the organization"), "{problems:?}");
    }

    /// A policy written past 80% of ECR's 10,240 characters says so, and how to shorten it.
    #[test]
    fn a_policy_near_ecrs_limit_comes_with_a_warning() {
        let accounts: Vec<String> = (0..300).map(|n| format!("\"{:012}\"", 100_000_000_000u64 + n)).collect();
        let want = settings(&format!("[defaults.repository_policy]\ncross_account_pull = [{}]\n", accounts.join(", ")));
        match RepositoryPolicy.judge(&want, &fresh_repository()) {
            Judgement::Drift { finding, .. } => {
                assert!(finding.contains("of ECR's 10240 characters: organization_pull"), "{finding}");
            }
            other => panic!("expected drift, got {other:?}"),
        }
        let short = RepositoryPolicy.judge(&settings(PULL), &fresh_repository());
        assert!(matches!(short, Judgement::Drift { finding, .. } if !finding.contains("organization_pull")));
    }

    fn settings_with_organization(text: &str, organization: &str) -> Resolved {
        let baseline = crate::baseline::Baseline::parse("test.toml", text).expect("valid");
        let placement = crate::baseline::Placement {
            account: "123456789012".into(),
            organizational_units: vec![],
            organization_id: Some(organization.into()),
        };
        baseline.in_account(placement).resolve("repo").expect("resolves")
    }
}
