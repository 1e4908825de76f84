//! The IAM actions each Lambda function's code paths call: what its role must grant, no more, no less.
//! `template.yaml` is checked against this (`make check-template`).

use warden_core::controls;

use crate::handle::Purpose;

/// Actions that can't be scoped to a repository ARN and need `Resource: "*"`.
pub const REGISTRY_WIDE: &[&str] = &[
    "ecr:DescribeRegistry",
    "ecr:DescribeRepositories",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:PutReplicationConfiguration",
    "iam:CreateServiceLinkedRole",
    "inspector2:Enable",
    "inspector2:ListAccountPermissions",
    "inspector2:ListFindings",
    "tag:GetResources",
];

/// What sending alerts calls (scoped to the alert topic and bus).
pub const ALERTING: &[&str] = &["events:PutEvents", "sns:Publish"];

/// What a fan-out calls (`SendMessageBatch`, scoped to the work queue).
pub const FAN_OUT: &[&str] = &["sqs:SendMessage"];

/// What sending findings to Security Hub calls (import on the account's default product; read and resolve
/// on its hub).
pub const SECURITY_HUB: &[&str] =
    &["securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings", "securityhub:GetFindings"];

/// Changing the registry's scanning rules (`scanning.via = "registry"`, the default).
pub const REGISTRY_SCANNING: &[&str] = &["ecr:PutRegistryScanningConfiguration"];

/// What `PutRegistryScanningConfiguration` needs besides itself when the registry uses enhanced scanning: "the IAM
/// principal enabling and using enhanced scanning has permissions to call the Amazon Inspector APIs" and may
/// create Inspector's service-linked role (ECR user guide, "IAM permissions required for enhanced scanning").
pub const ENHANCED_SCANNING: &[&str] =
    &["iam:CreateServiceLinkedRole", "inspector2:Enable", "inspector2:ListAccountPermissions"];

/// Governing replication: the control's actions, and creating ECR's replication service-linked role, which the
/// first `PutReplicationConfiguration` of a registry does (ECR user guide, "Using service-linked roles for
/// Amazon ECR": replication).
pub const REPLICATION: &[&str] =
    &["ecr:DescribeRegistry", "ecr:PutReplicationConfiguration", "iam:CreateServiceLinkedRole"];

/// Decrypting a SecureString baseline encrypted with a customer managed key (through SSM only).
pub const BASELINE_KEY: &[&str] = &["kms:Decrypt"];

/// Reading tags 100 repositories a call (`ECR_WARDEN_TAGS_FROM=tagging-api`, backfills only).
pub const TAGGING_API: &[&str] = &["tag:GetResources"];

/// Actions a deployment grants only when it turns their feature on, by feature: `registry_scanning`,
/// `enhanced_scanning`, `replication` (a baseline `[replication]` section), `security_hub` (`[alerts]
/// security_hub = true`) and `tagging_api`.
pub const OPTIONAL: &[(&str, &[&str])] = &[
    ("registry_scanning", REGISTRY_SCANNING),
    ("enhanced_scanning", ENHANCED_SCANNING),
    ("replication", REPLICATION),
    ("security_hub", SECURITY_HUB),
    ("tagging_api", TAGGING_API),
    ("baseline_key", BASELINE_KEY),
];

/// The service each feature may create a service-linked role for (`iam:AWSServiceName`).
pub const SERVICE_LINKED_ROLES: &[(&str, &str)] =
    &[("enhanced_scanning", "inspector2.amazonaws.com"), ("replication", "replication.ecr.amazonaws.com")];

/// Creating a service-linked role: only ever granted with a condition naming the service.
const SERVICE_LINKED_ROLE: &str = "iam:CreateServiceLinkedRole";

/// The IAM actions the function serving `purpose` calls, sorted.
pub fn for_purpose(purpose: Purpose) -> Vec<&'static str> {
    let any = purpose == Purpose::Any;
    // Every function reads its baseline from SSM (and decrypts it, under a customer managed key).
    let mut actions = vec!["ssm:GetParameter"];
    actions.extend(BASELINE_KEY);
    if purpose != Purpose::ScanResults {
        // Governing a repository: each control's observe and fix; a registry scanning rule put under enhanced
        // scanning needs Inspector's permissions too.
        actions.extend(controls::all_permissions());
        actions.extend(ENHANCED_SCANNING);
    }
    if matches!(purpose, Purpose::RepositoryEvents | Purpose::ImagePushes | Purpose::ScanResults) || any {
        actions.extend(ALERTING);
    }
    if purpose == Purpose::ImagePushes || any {
        actions.push("ecr:StartImageScan");
    }
    if purpose == Purpose::ScanResults || any {
        // Reading an enhanced scan's findings through ECR also needs Inspector's ListFindings.
        actions.extend(["ecr:DescribeImageScanFindings", "inspector2:ListFindings"]);
    }
    if matches!(purpose, Purpose::Backfill | Purpose::BackfillWorker) || any {
        // A backfill request may ask for `lifecycleImpact`, which reads images; it may read tags in bulk.
        actions.push("ecr:DescribeImages");
        actions.extend(TAGGING_API);
    }
    if purpose == Purpose::Backfill || any {
        actions.extend(FAN_OUT);
    }
    if matches!(purpose, Purpose::RepositoryEvents | Purpose::Backfill) || any {
        // A whole-registry backfill and a repository just created check the registry's replication (only
        // when the baseline has a `[replication]` section; the template grants these only when asked).
        actions.extend(REPLICATION);
    }
    // Every function reports what it finds to Security Hub when the baseline asks.
    actions.extend(SECURITY_HUB);
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// Where a role's policy document points: the account and region the function runs in, and the resources
/// it may read or send to. Without a baseline parameter, topic or bus, the document grants no access to them.
#[derive(Debug, Clone)]
pub struct PolicyScope {
    /// AWS partition (`aws`, `aws-cn`, `aws-us-gov`).
    pub partition: String,
    /// The region the function runs in.
    pub region: String,
    /// The 12-digit account ID.
    pub account: String,
    /// SSM parameter holding the baseline (a name such as `/ecr-warden/baseline`).
    pub baseline_parameter: Option<String>,
    /// The SNS topic ARN alerts are published to.
    pub alert_topic_arn: Option<String>,
    /// The EventBridge bus ARN alerts are put on.
    pub alert_bus_arn: Option<String>,
    /// The SQS queue ARN a backfill fans out to.
    pub work_queue_arn: Option<String>,
    /// Whether the baseline fixes scanning through registry rules (grants `PutRegistryScanningConfiguration`).
    pub registry_scanning: bool,
    /// Whether the registry uses enhanced scanning (grants what a put under it needs).
    pub enhanced_scanning: bool,
    /// Whether the baseline governs replication (grants its registry-wide actions).
    pub replication: bool,
    /// Whether findings go to Security Hub.
    pub security_hub: bool,
    /// Whether backfills read tags through the Resource Groups Tagging API.
    pub tagging_api: bool,
    /// The customer managed KMS key the baseline parameter is encrypted with, if any.
    pub baseline_key_arn: Option<String>,
}

impl PolicyScope {
    /// Whether the optional `feature` (a name in [`OPTIONAL`]) is turned on.
    pub fn has(&self, feature: &str) -> bool {
        match feature {
            "registry_scanning" => self.registry_scanning,
            "enhanced_scanning" => self.enhanced_scanning,
            "replication" => self.replication,
            "security_hub" => self.security_hub,
            "tagging_api" => self.tagging_api,
            "baseline_key" => self.baseline_key_arn.is_some(),
            _ => false,
        }
    }
}

/// Why a policy document can't be written.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ScopeError {
    /// The account isn't 12 digits.
    #[error("account must be a 12-digit AWS account ID, got {0:?}")]
    Account(String),
    /// The region or partition has characters no region or partition has.
    #[error("{0} must be lowercase letters, digits and dashes (e.g. us-east-1, aws), got {1:?}")]
    Name(&'static str, String),
    /// An ARN that isn't an ARN of the expected service.
    #[error("{0} must be an ARN starting with arn:{1}:{2}:, got {3:?}")]
    Arn(&'static str, String, &'static str, String),
    /// A parameter name with characters SSM doesn't allow.
    #[error("baseline parameter must be an SSM parameter name (letters, digits, . - _ /), got {0:?}")]
    Parameter(String),
}

/// The IAM policy document (JSON) for the function serving `purpose`: what [`for_purpose`] lists, each action
/// on the narrowest resource it supports (repositories, the baseline parameter, the topic, the bus) and `*`
/// only for [`REGISTRY_WIDE`] actions. Alerting and SSM actions appear only when their resource is given.
pub fn policy_document(purpose: Purpose, scope: &PolicyScope) -> Result<serde_json::Value, ScopeError> {
    scope.check()?;
    let PolicyScope { partition, region, account, .. } = scope;
    // An action is left out when every feature that needs it is off.
    let wanted = |action: &str| {
        let mut features = OPTIONAL.iter().filter(|(_, actions)| actions.contains(&action)).peekable();
        features.peek().is_none() || features.any(|(feature, _)| scope.has(feature))
    };
    let actions: Vec<&str> = for_purpose(purpose).into_iter().filter(|a| wanted(a)).collect();
    let mut statements = Vec::new();
    let mut add = |sid: &str, actions: Vec<&str>, resource: String| {
        if !actions.is_empty() {
            statements.push(serde_json::json!({
                "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource,
            }));
        }
    };
    let repository_scoped =
        actions.iter().filter(|a| a.starts_with("ecr:") && !REGISTRY_WIDE.contains(a)).copied().collect();
    add("Repositories", repository_scoped, format!("arn:{partition}:ecr:{region}:{account}:repository/*"));
    let registry_wide =
        actions.iter().filter(|a| REGISTRY_WIDE.contains(a) && **a != SERVICE_LINKED_ROLE).copied().collect();
    add("RegistryWide", registry_wide, "*".to_string());
    let granted = |action: &'static str| actions.iter().filter(|a| **a == action).copied().collect::<Vec<_>>();
    if let Some(name) = &scope.baseline_parameter {
        let name = name.trim_start_matches('/');
        add(
            "ReadBaseline",
            granted("ssm:GetParameter"),
            format!("arn:{partition}:ssm:{region}:{account}:parameter/{name}"),
        );
    }
    if let Some(key) = &scope.baseline_key_arn {
        add("DecryptBaseline", granted("kms:Decrypt"), key.clone());
    }
    // The key a repository is encrypted with is in its region (any account may own it).
    add("DescribeRepositoryKeys", granted("kms:DescribeKey"), format!("arn:{partition}:kms:{region}:*:key/*"));
    if let Some(topic) = &scope.alert_topic_arn {
        add("PublishAlerts", granted("sns:Publish"), topic.clone());
    }
    if let Some(bus) = &scope.alert_bus_arn {
        add("PutAlertEvents", granted("events:PutEvents"), bus.clone());
    }
    if let Some(queue) = &scope.work_queue_arn {
        add("SendWork", granted("sqs:SendMessage"), queue.clone());
    }
    let securityhub = format!("arn:{partition}:securityhub:{region}:{account}");
    add(
        "ImportFindings",
        granted("securityhub:BatchImportFindings"),
        format!("{securityhub}:product/{account}/default"),
    );
    let mut on_hub = granted("securityhub:BatchUpdateFindings");
    on_hub.extend(granted("securityhub:GetFindings"));
    add("ResolveFindings", on_hub, format!("{securityhub}:hub/default"));
    // Only through SSM: the key can't be used to decrypt anything else directly.
    let via_ssm = serde_json::json!({ "StringEquals": { "kms:ViaService": format!("ssm.{region}.amazonaws.com") } });
    for statement in statements.iter_mut().filter(|s| s["Sid"] == "DecryptBaseline") {
        statement["Condition"] = via_ssm.clone();
    }
    let services: Vec<&str> =
        SERVICE_LINKED_ROLES.iter().filter(|(feature, _)| scope.has(feature)).map(|(_, service)| *service).collect();
    if actions.contains(&SERVICE_LINKED_ROLE) && !services.is_empty() {
        statements.push(serde_json::json!({
            "Sid": "CreateServiceLinkedRoles", "Effect": "Allow", "Action": [SERVICE_LINKED_ROLE], "Resource": "*",
            "Condition": { "StringEquals": { "iam:AWSServiceName": services } },
        }));
    }
    Ok(serde_json::json!({ "Version": "2012-10-17", "Statement": statements }))
}

impl PolicyScope {
    fn check(&self) -> Result<(), ScopeError> {
        if !warden_core::arn::is_account_id(&self.account) {
            return Err(ScopeError::Account(self.account.clone()));
        }
        let plain =
            |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !plain(&self.partition) {
            return Err(ScopeError::Name("partition", self.partition.clone()));
        }
        if !plain(&self.region) {
            return Err(ScopeError::Name("region", self.region.clone()));
        }
        if let Some(name) = &self.baseline_parameter {
            let allowed = |c: char| c.is_ascii_alphanumeric() || "._-/".contains(c);
            if name.trim_start_matches('/').is_empty() || !name.chars().all(allowed) {
                return Err(ScopeError::Parameter(name.clone()));
            }
        }
        for (what, service, arn) in [
            ("alert topic", "sns", &self.alert_topic_arn),
            ("alert bus", "events", &self.alert_bus_arn),
            ("work queue", "sqs", &self.work_queue_arn),
            ("baseline key", "kms", &self.baseline_key_arn),
        ] {
            if let Some(arn) = arn {
                if !arn.starts_with(&format!("arn:{}:{service}:", self.partition)) {
                    return Err(ScopeError::Arn(what, self.partition.clone(), service, arn.clone()));
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
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
            security_hub: false,
            tagging_api: false,
            baseline_key_arn: None,
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
        assert!(statement(&with_replication, "RegistryWide")
            .unwrap()
            .to_string()
            .contains("PutReplicationConfiguration"));
        assert!(statement(&document, "ReadBaseline").is_none());
        assert!(statement(&document, "PublishAlerts").is_none());
        // A backfill doesn't alert, so a topic given changes nothing.
        let with_topic =
            PolicyScope { alert_topic_arn: Some("arn:aws:sns:eu-west-1:123456789012:a".into()), ..scope() };
        assert_eq!(policy_document(Purpose::Backfill, &with_topic).unwrap(), document);
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
        assert!(!for_purpose(Purpose::Backfill).contains(&"sns:Publish"), "backfills report, they don't alert");
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
}
