//! The IAM actions each Lambda function's code paths call: what its role must grant, no more, no less.
//! `template.yaml` is checked against this (`make check-template`).

use warden_core::{controls, replication};

use crate::handle::Purpose;

/// Actions that can't be scoped to a repository ARN and need `Resource: "*"`.
pub const REGISTRY_WIDE: &[&str] = &[
    "ecr:DescribeRegistry",
    "ecr:DescribeRepositories",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:PutReplicationConfiguration",
    "inspector2:ListFindings",
];

/// What sending alerts calls (scoped to the alert topic and bus).
pub const ALERTING: &[&str] = &["events:PutEvents", "sns:Publish"];

/// What a fan-out calls (`SendMessageBatch`, scoped to the work queue).
pub const FAN_OUT: &[&str] = &["sqs:SendMessage"];

/// What sending findings to Security Hub calls (import on the account's default product; read and resolve
/// on its hub).
pub const SECURITY_HUB: &[&str] =
    &["securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings", "securityhub:GetFindings"];

/// Actions a deployment grants only when it turns their feature on, by feature: `replication` (a baseline
/// `[replication]` section) and `security_hub` (`[alerts] security_hub = true`).
pub const OPTIONAL: &[(&str, &[&str])] = &[("replication", replication::PERMISSIONS), ("security_hub", SECURITY_HUB)];

/// The IAM actions the function serving `purpose` calls, sorted.
pub fn for_purpose(purpose: Purpose) -> Vec<&'static str> {
    let any = purpose == Purpose::Any;
    // Every function reads its baseline from SSM.
    let mut actions = vec!["ssm:GetParameter"];
    if purpose != Purpose::ScanResults {
        // Governing a repository: each control's observe and fix.
        actions.extend(controls::all_permissions());
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
        // A backfill request may ask for `lifecycleImpact`, which reads images.
        actions.push("ecr:DescribeImages");
    }
    if purpose == Purpose::Backfill || any {
        actions.extend(FAN_OUT);
    }
    if matches!(purpose, Purpose::RepositoryEvents | Purpose::Backfill) || any {
        // A whole-registry backfill and a repository just created check the registry's replication (only
        // when the baseline has a `[replication]` section; the template grants these only when asked).
        actions.extend(replication::PERMISSIONS);
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
    /// Whether the baseline governs replication (grants its registry-wide actions).
    pub replication: bool,
    /// Whether findings go to Security Hub.
    pub security_hub: bool,
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
    let turned_off: Vec<&str> = OPTIONAL
        .iter()
        .filter(|(feature, _)| match *feature {
            "replication" => !scope.replication,
            _ => !scope.security_hub,
        })
        .flat_map(|(_, actions)| actions.iter().copied())
        .collect();
    let actions: Vec<&str> = for_purpose(purpose).into_iter().filter(|a| !turned_off.contains(a)).collect();
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
    let registry_wide = actions.iter().filter(|a| REGISTRY_WIDE.contains(a)).copied().collect();
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
            replication: false,
            security_hub: false,
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
    const FUNCTIONS: [Purpose; 5] = [
        Purpose::RepositoryEvents,
        Purpose::ImagePushes,
        Purpose::ScanResults,
        Purpose::Backfill,
        Purpose::BackfillWorker,
    ];

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
