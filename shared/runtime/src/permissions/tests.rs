use super::*;

fn scope() -> PolicyScope {
    PolicyScope {
        partition: "aws".into(),
        region: "eu-west-1".into(),
        account: "123456789012".into(),
        baseline_parameter: None,
        alert_topic_arn: None,
        alert_bus_arn: None,
        work_queue_arn: None,
        registry_scanning: true,
        enhanced_scanning: false,
        replication: false,
        registry_policy: false,
        creation_templates: false,
        creation_template_role: None,
        signing: false,
        images_in_use: false,
        security_hub: false,
        tagging_api: false,
        baseline_key_arn: None,
        member_role: None,
    }
}

fn statement<'a>(document: &'a serde_json::Value, sid: &str) -> Option<&'a serde_json::Value> {
    document["Statement"].as_array()?.iter().find(|s| s["Sid"] == sid)
}

#[test]
fn a_policy_document_scopes_each_action_to_its_narrowest_resource() {
    let scope = PolicyScope {
        baseline_parameter: Some("/ecr-warden/baseline".into()),
        alert_topic_arn: Some("arn:aws:sns:eu-west-1:123456789012:alerts".into()),
        alert_bus_arn: Some("arn:aws:events:eu-west-1:123456789012:event-bus/ecr-warden".into()),
        security_hub: true,
        enhanced_scanning: true,
        baseline_key_arn: Some("arn:aws:kms:eu-west-1:123456789012:key/1".into()),
        member_role: Some("ecr-warden-member".into()),
        images_in_use: true,
        ..scope()
    };
    let document = policy_document(Purpose::ImagePushes, &scope).expect("valid scope");
    assert_eq!(
        statement(&document, "ImportFindings").unwrap()["Resource"],
        "arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/default"
    );
    assert_eq!(
        statement(&document, "ResolveFindings").unwrap()["Resource"],
        "arn:aws:securityhub:eu-west-1:123456789012:hub/default"
    );
    let repositories = statement(&document, "Repositories").expect("repository statement");
    assert_eq!(repositories["Resource"], "arn:aws:ecr:eu-west-1:123456789012:repository/*");
    assert!(repositories["Action"].as_array().unwrap().contains(&"ecr:StartImageScan".into()));
    assert!(!repositories["Action"].as_array().unwrap().contains(&"ecr:DescribeRepositories".into()));
    assert_eq!(statement(&document, "RegistryWide").unwrap()["Resource"], "*");
    assert_eq!(
        statement(&document, "ReadBaseline").unwrap()["Resource"],
        "arn:aws:ssm:eu-west-1:123456789012:parameter/ecr-warden/baseline"
    );
    assert_eq!(statement(&document, "PublishAlerts").unwrap()["Action"], serde_json::json!(["sns:Publish"]));
    assert_eq!(statement(&document, "PutAlertEvents").unwrap()["Action"], serde_json::json!(["events:PutEvents"]));

    let granted: Vec<&str> = document["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter().map(|a| a.as_str().unwrap()))
        .collect();
    let mut granted_sorted = granted.clone();
    granted_sorted.sort_unstable();
    assert_eq!(granted_sorted, for_purpose(Purpose::ImagePushes), "exactly what the code calls");
}

#[test]
fn a_policy_document_leaves_out_what_has_no_resource_given() {
    let document = policy_document(Purpose::Backfill, &scope()).expect("valid scope");
    let text = document.to_string();
    assert!(!text.contains("securityhub") && !text.contains("PutReplicationConfiguration"), "features off");
    let with_replication =
        policy_document(Purpose::Backfill, &PolicyScope { replication: true, ..scope() }).expect("valid");
    assert!(statement(&with_replication, "RegistryWide").unwrap().to_string().contains("PutReplicationConfiguration"));
    assert!(statement(&document, "ReadBaseline").is_none());
    assert!(statement(&document, "PublishAlerts").is_none(), "no topic given");
    // A backfill alerts on vulnerabilities past their deadline: a topic given is granted.
    let with_topic = PolicyScope { alert_topic_arn: Some("arn:aws:sns:eu-west-1:123456789012:a".into()), ..scope() };
    let publish = policy_document(Purpose::Backfill, &with_topic).unwrap();
    assert_eq!(statement(&publish, "PublishAlerts").unwrap()["Action"], serde_json::json!(["sns:Publish"]));
    // The scan function governs nothing: no repository writes.
    let scans = policy_document(Purpose::ScanResults, &scope()).unwrap();
    let actions = &statement(&scans, "Repositories").unwrap()["Action"];
    assert_eq!(actions, &serde_json::json!(["ecr:DescribeImageScanFindings"]));
}

/// ECR user guide, "IAM permissions required for enhanced scanning": `iam:CreateServiceLinkedRole` only with
/// `iam:AWSServiceName` = `inspector2.amazonaws.com`; "Using service-linked roles for Amazon ECR": replication's
/// role is `replication.ecr.amazonaws.com`. Never unconditioned.
#[test]
fn service_linked_roles_are_granted_only_for_the_features_turned_on_and_by_service_name() {
    let condition = |scope: PolicyScope| {
        let document = policy_document(Purpose::Backfill, &scope).expect("valid");
        let unconditioned = statement(&document, "RegistryWide").map(|s| s["Action"].to_string());
        assert!(!unconditioned.unwrap_or_default().contains("CreateServiceLinkedRole"), "{document:#}");
        statement(&document, "CreateServiceLinkedRoles").map(|s| s["Condition"].clone())
    };
    assert_eq!(condition(scope()), None);
    assert_eq!(
        condition(PolicyScope { enhanced_scanning: true, ..scope() }),
        Some(serde_json::json!({"StringEquals": {"iam:AWSServiceName": ["inspector2.amazonaws.com"]}}))
    );
    assert_eq!(
        condition(PolicyScope { enhanced_scanning: true, replication: true, ..scope() }),
        Some(serde_json::json!({"StringEquals": {"iam:AWSServiceName": [
            "inspector2.amazonaws.com", "replication.ecr.amazonaws.com"
        ]}}))
    );
    let replication_only = policy_document(Purpose::Backfill, &PolicyScope { replication: true, ..scope() });
    let text = replication_only.expect("valid").to_string();
    assert!(text.contains("replication.ecr.amazonaws.com") && !text.contains("inspector2:Enable"), "{text}");
    for action in warden_core::replication::PERMISSIONS {
        assert!(REPLICATION.contains(action), "{action}");
    }
}

#[test]
fn keys_are_described_in_the_region_and_the_baseline_key_decrypts_only_through_ssm() {
    let document = policy_document(Purpose::RepositoryEvents, &scope()).expect("valid");
    let describe = statement(&document, "DescribeRepositoryKeys").expect("DescribeKey for the encryption control");
    assert_eq!(describe["Resource"], "arn:aws:kms:eu-west-1:*:key/*");
    assert!(statement(&document, "DecryptBaseline").is_none(), "no key, no decrypt");
    let key = "arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    let with_key = PolicyScope { baseline_key_arn: Some(key.into()), ..scope() };
    let document = policy_document(Purpose::ScanResults, &with_key).expect("valid");
    let decrypt = statement(&document, "DecryptBaseline").expect("decrypt");
    assert_eq!(decrypt["Resource"], key);
    assert_eq!(decrypt["Action"], serde_json::json!(["kms:Decrypt"]));
    assert_eq!(decrypt["Condition"]["StringEquals"]["kms:ViaService"], "ssm.eu-west-1.amazonaws.com");
    let not_a_key = PolicyScope { baseline_key_arn: Some("alias/aws/ssm".into()), ..scope() };
    assert!(matches!(policy_document(Purpose::Backfill, &not_a_key), Err(ScopeError::Arn(..))));
}

#[test]
fn registry_wide_writes_are_left_out_when_their_feature_is_off() {
    let actions = |scope: PolicyScope| policy_document(Purpose::Backfill, &scope).expect("valid").to_string();
    assert!(actions(scope()).contains("ecr:PutRegistryScanningConfiguration"));
    let per_repository = actions(PolicyScope { registry_scanning: false, ..scope() });
    assert!(!per_repository.contains("PutRegistryScanningConfiguration"), "{per_repository}");
    assert!(per_repository.contains("ecr:GetRegistryScanningConfiguration"), "reading it is always needed");
    assert!(!actions(scope()).contains("tag:GetResources"));
    assert!(actions(PolicyScope { tagging_api: true, ..scope() }).contains("tag:GetResources"));
}

#[test]
fn a_policy_scope_with_bad_values_is_refused() {
    let refused = |scope: PolicyScope| policy_document(Purpose::Backfill, &scope).unwrap_err();
    assert!(matches!(refused(PolicyScope { account: "1234".into(), ..scope() }), ScopeError::Account(_)));
    assert!(matches!(refused(PolicyScope { region: "eu-west-1*".into(), ..scope() }), ScopeError::Name(..)));
    assert!(matches!(refused(PolicyScope { partition: "".into(), ..scope() }), ScopeError::Name(..)));
    let topic = PolicyScope { alert_topic_arn: Some("arn:aws:sqs:eu-west-1:123456789012:q".into()), ..scope() };
    assert!(matches!(refused(topic), ScopeError::Arn(..)));
    let parameter = PolicyScope { baseline_parameter: Some("baseline*".into()), ..scope() };
    assert!(matches!(refused(parameter), ScopeError::Parameter(_)));
}

/// Every function's purpose.
const FUNCTIONS: [Purpose; 5] = Purpose::FUNCTIONS;

#[test]
fn functions_never_get_destructive_image_actions() {
    for purpose in FUNCTIONS {
        let actions = for_purpose(purpose);
        assert!(!actions.iter().any(|a| a.contains("BatchDeleteImage") || *a == "ecr:DeleteRepository"));
        assert!(!actions.iter().any(|a| a.contains("PutImage\"") || a.ends_with(":PutImage")));
    }
}

#[test]
fn each_function_gets_what_its_code_path_calls() {
    let governs = |p| for_purpose(p).contains(&"ecr:PutImageTagMutability");
    assert!(governs(Purpose::RepositoryEvents) && governs(Purpose::ImagePushes) && governs(Purpose::Backfill));
    assert!(!governs(Purpose::ScanResults), "the scan function only reads findings and alerts");
    assert!(for_purpose(Purpose::ImagePushes).contains(&"ecr:StartImageScan"));
    assert!(!for_purpose(Purpose::RepositoryEvents).contains(&"ecr:StartImageScan"));
    assert!(for_purpose(Purpose::ScanResults).contains(&"ecr:DescribeImageScanFindings"));
    assert!(for_purpose(Purpose::Backfill).contains(&"sns:Publish"), "an audit alerts on overdue vulnerabilities");
    assert!(for_purpose(Purpose::BackfillWorker).contains(&"ecr:DescribeImageScanFindings"), "and reads findings");
    assert!(for_purpose(Purpose::Backfill).contains(&"ecr:DescribeImages"));
    assert!(for_purpose(Purpose::Backfill).contains(&"sqs:SendMessage"), "a backfill may fan out");
    assert!(!for_purpose(Purpose::BackfillWorker).contains(&"sqs:SendMessage"), "workers don't fan out");
    assert!(governs(Purpose::BackfillWorker));
    assert!(!for_purpose(Purpose::RepositoryEvents).contains(&"ecr:DescribeImages"));
    let any = for_purpose(Purpose::Any);
    for purpose in FUNCTIONS {
        assert!(for_purpose(purpose).iter().all(|a| any.contains(a)), "{purpose:?}");
    }
}

/// Organization mode: the hub's functions may assume only the member role (in any account), and ask AWS
/// Organizations about accounts; without a member role neither is granted.
#[test]
fn organization_mode_grants_assuming_the_member_role_only() {
    let hub = PolicyScope { member_role: Some("ecr-warden-member".into()), ..scope() };
    let document = policy_document(Purpose::RepositoryEvents, &hub).expect("valid scope");
    let assume = statement(&document, "AssumeMemberRoles").expect("assume statement");
    assert_eq!(assume["Action"], serde_json::json!(["sts:AssumeRole"]));
    assert_eq!(assume["Resource"], "arn:aws:iam::*:role/ecr-warden-member");
    let wide = statement(&document, "RegistryWide").expect("registry-wide statement");
    assert!(wide["Action"].as_array().unwrap().contains(&"organizations:DescribeAccount".into()));
    // Only the backfill function lists the organization's accounts (`{"organization": true}`).
    assert!(!wide["Action"].as_array().unwrap().contains(&"organizations:ListAccounts".into()));
    let backfill = policy_document(Purpose::Backfill, &hub).expect("valid scope");
    let wide = statement(&backfill, "RegistryWide").expect("registry-wide statement");
    assert!(wide["Action"].as_array().unwrap().contains(&"organizations:ListAccounts".into()));

    let single = policy_document(Purpose::RepositoryEvents, &scope()).expect("valid scope");
    assert!(statement(&single, "AssumeMemberRoles").is_none());
    for action in ["organizations:DescribeAccount", "organizations:ListParents", "sts:AssumeRole"] {
        assert!(!single.to_string().contains(action), "{action} in {single}");
    }
    // A baseline's allow_organization asks the organization's ID, in every mode.
    assert!(single.to_string().contains("organizations:DescribeOrganization"), "{single}");
    let bad = PolicyScope { member_role: Some("a role".into()), ..scope() };
    assert!(matches!(policy_document(Purpose::Backfill, &bad), Err(ScopeError::MemberRole(_))));
}

/// The member role holds what the functions do in a registry, and nothing of the hub's own: no baseline, alert
/// sink, work queue, or reaching other accounts.
#[test]
fn the_member_role_holds_registry_actions_and_nothing_of_the_hub() {
    let member = for_member();
    for action in ["ecr:PutLifecyclePolicy", "ecr:StartImageScan", "ecr:DescribeImageScanFindings", "kms:DescribeKey"] {
        assert!(member.contains(&action), "{action} missing from {member:?}");
    }
    let hub_only = [
        "events:PutEvents",
        "kms:Decrypt",
        "organizations:DescribeAccount",
        "organizations:ListAccounts",
        "sns:Publish",
    ];
    for hub_only in hub_only.into_iter().chain(["sqs:SendMessage", "ssm:GetParameter", "sts:AssumeRole"]) {
        assert!(!member.contains(&hub_only), "{hub_only} is the hub's own");
    }
    let every_function: std::collections::BTreeSet<&str> = for_purpose(Purpose::Any).into_iter().collect();
    let expected: Vec<&str> = every_function.into_iter().filter(|a| !is_hub_only(a)).collect();
    assert_eq!(member, expected);
    let document = member_policy_document(&PolicyScope { security_hub: true, ..scope() }).expect("valid scope");
    assert_eq!(statement(&document, "Repositories").unwrap()["Resource"], "arn:aws:ecr:*:123456789012:repository/*");
    assert_eq!(
        statement(&document, "ImportFindings").unwrap()["Resource"],
        "arn:aws:securityhub:*:123456789012:product/123456789012/default"
    );
}

#[test]
fn the_lockout_check_knows_every_action_the_functions_call_on_a_repository() {
    // The ECR actions whose resource is the registry, not a repository (those granted on `*`, but for listing
    // repositories): a repository policy can't deny them (Service Authorization Reference, Amazon ECR: resource
    // types per action); and `ecr:CreateRepository`, which creating a template needs, and which no existing
    // repository's policy governs.
    let registry_level = |action: &str| {
        (REGISTRY_WIDE.contains(&action) && action != "ecr:DescribeRepositories") || action == "ecr:CreateRepository"
    };
    let ecr: Vec<&str> = for_purpose(Purpose::Any).into_iter().filter(|action| action.starts_with("ecr:")).collect();
    let on_repositories: Vec<&str> = ecr.iter().copied().filter(|action| !registry_level(action)).collect();
    assert_eq!(on_repositories, warden_core::policy::lockout::ECR_WARDEN_REPOSITORY_ACTIONS);
    // The registry policy applies to every ECR request (V2 scope): all of them.
    assert_eq!(ecr, warden_core::policy::lockout::ECR_WARDEN_ACTIONS);
}

#[test]
fn the_registry_controls_permissions_are_granted_by_their_feature_or_always() {
    use warden_core::controls::{creation_templates, pull_through_cache, registry_policy};
    let granted: Vec<&str> = [CREATION_TEMPLATES, REGISTRY_READS, REGISTRY_POLICY].concat();
    for action in
        [creation_templates::PERMISSIONS, pull_through_cache::PERMISSIONS, registry_policy::PERMISSIONS].concat()
    {
        assert!(granted.contains(&action), "{action}");
    }
    // The reads are not behind a feature: the pull through cache check reads templates whatever is governed.
    for action in REGISTRY_READS {
        assert!(OPTIONAL.iter().all(|(_, actions)| !actions.contains(action)), "{action}");
    }
}

#[test]
fn doctor_reads_only_and_its_baseline_parameter_is_named() {
    assert!(DOCTOR.iter().all(|action| {
        let verb = action.split(':').nth(1).unwrap_or("");
        ["Describe", "Get", "List", "BatchGet"].iter().any(|read| verb.starts_with(read))
    }));
    let scope = PolicyScope { baseline_parameter: Some("/ecr-warden/baseline".into()), ..scope() };
    let document = doctor_policy_document(&scope).expect("valid scope");
    assert_eq!(statement(&document, "DoctorReads").unwrap()["Resource"], "*");
    assert_eq!(
        statement(&document, "ReadBaseline").unwrap()["Resource"],
        "arn:aws:ssm:eu-west-1:123456789012:parameter/ecr-warden/baseline"
    );
}
