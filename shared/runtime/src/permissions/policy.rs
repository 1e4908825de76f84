//! The policy document a function's role needs, scoped to the deployment's account, region and resources
//! (`ecr-warden permissions FUNCTION --policy`).

use super::{for_member, for_purpose, on_any_resource, OPTIONAL, SERVICE_LINKED_ROLE, SERVICE_LINKED_ROLES};
use crate::handle::Purpose;

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
    /// Whether the baseline governs the registry permissions policy (grants reading, putting and deleting it).
    pub registry_policy: bool,
    /// Whether the baseline governs repository creation templates.
    pub creation_templates: bool,
    /// The custom role (name) the templates name for ECR (grants passing it to ECR).
    pub creation_template_role: Option<String>,
    /// Whether the baseline governs managed image signing.
    pub signing: bool,
    /// Whether the baseline names images in use (`[in_use]`: grants reading ECS and Lambda).
    pub images_in_use: bool,
    /// Whether findings go to Security Hub.
    pub security_hub: bool,
    /// Whether backfills read tags through the Resource Groups Tagging API.
    pub tagging_api: bool,
    /// The customer managed KMS key the baseline parameter is encrypted with, if any.
    pub baseline_key_arn: Option<String>,
    /// Organization mode: the member role assumed in every account (grants assuming it and asking AWS
    /// Organizations whether an account is a member).
    pub member_role: Option<String>,
}

impl PolicyScope {
    /// Whether the optional `feature` (a name in [`OPTIONAL`]) is turned on.
    pub fn has(&self, feature: &str) -> bool {
        match feature {
            "registry_scanning" => self.registry_scanning,
            "enhanced_scanning" => self.enhanced_scanning,
            "replication" => self.replication,
            "registry_policy" => self.registry_policy,
            "creation_templates" => self.creation_templates,
            "creation_template_role" => self.creation_template_role.is_some(),
            "signing" => self.signing,
            "images_in_use" => self.images_in_use,
            "security_hub" => self.security_hub,
            "tagging_api" => self.tagging_api,
            "baseline_key" => self.baseline_key_arn.is_some(),
            "organization" => self.member_role.is_some(),
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
    /// A member role name IAM doesn't allow.
    #[error("member role: {0}")]
    MemberRole(String),
    /// A creation template role name IAM doesn't allow.
    #[error("creation template role: {0}")]
    TemplateRole(String),
}

/// The IAM policy document (JSON) for the function serving `purpose`: what [`for_purpose`] lists, each action
/// on the narrowest resource it supports (repositories, the baseline parameter, the topic, the bus) and `*`
/// only for actions that need it ([`on_any_resource`]). Alerting and SSM actions appear only when their resource is given.
pub fn policy_document(purpose: Purpose, scope: &PolicyScope) -> Result<serde_json::Value, ScopeError> {
    scope.check()?;
    Ok(document(for_purpose(purpose), scope, &scope.region))
}

/// The IAM policy document (JSON) of the member role in `scope.account`: what [`for_member`] lists, on the
/// account's repositories, keys and Security Hub in every region (an IAM role serves all of them).
pub fn member_policy_document(scope: &PolicyScope) -> Result<serde_json::Value, ScopeError> {
    scope.check()?;
    Ok(document(for_member(), scope, "*"))
}

/// The IAM policy document (JSON) `ecr-warden doctor` needs: its reads ([`super::DOCTOR`]) on `*` (the trails and
/// sinks it looks for may be anywhere in the account), and the baseline parameter, when one is given.
pub fn doctor_policy_document(scope: &PolicyScope) -> Result<serde_json::Value, ScopeError> {
    scope.check()?;
    let PolicyScope { partition, account, region, .. } = scope;
    let mut statements = vec![serde_json::json!({
        "Sid": "DoctorReads", "Effect": "Allow", "Action": super::DOCTOR, "Resource": "*",
    })];
    if let Some(name) = &scope.baseline_parameter {
        let name = name.trim_start_matches('/');
        statements.push(serde_json::json!({
            "Sid": "ReadBaseline", "Effect": "Allow", "Action": ["ssm:GetParameter"],
            "Resource": format!("arn:{partition}:ssm:{region}:{account}:parameter/{name}"),
        }));
    }
    Ok(serde_json::json!({ "Version": "2012-10-17", "Statement": statements }))
}

/// `actions`, each on the narrowest resource in `region` (or `*`) of the scope's account.
fn document(actions: Vec<&'static str>, scope: &PolicyScope, region: &str) -> serde_json::Value {
    let PolicyScope { partition, account, .. } = scope;
    // An action is left out when every feature that needs it is off.
    let wanted = |action: &str| {
        let mut features = OPTIONAL.iter().filter(|(_, actions)| actions.contains(&action)).peekable();
        features.peek().is_none() || features.any(|(feature, _)| scope.has(feature))
    };
    let actions: Vec<&str> = actions.into_iter().filter(|a| wanted(a)).collect();
    let mut statements = Vec::new();
    let mut add = |sid: &str, actions: Vec<&str>, resource: String| {
        if !actions.is_empty() {
            statements.push(serde_json::json!({
                "Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource,
            }));
        }
    };
    let repository_scoped = actions.iter().filter(|a| a.starts_with("ecr:") && !on_any_resource(a)).copied().collect();
    add("Repositories", repository_scoped, format!("arn:{partition}:ecr:{region}:{account}:repository/*"));
    let registry_wide = actions.iter().filter(|a| on_any_resource(a) && **a != SERVICE_LINKED_ROLE).copied().collect();
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
    if let Some(role) = &scope.creation_template_role {
        add("PassTemplateRole", granted("iam:PassRole"), format!("arn:{partition}:iam::{account}:role/{role}"));
    }
    if let Some(role) = &scope.member_role {
        add("AssumeMemberRoles", granted("sts:AssumeRole"), format!("arn:{partition}:iam::*:role/{role}"));
    }
    // Only through SSM: the key can't be used to decrypt anything else directly.
    let via_ssm = serde_json::json!({ "StringEquals": { "kms:ViaService": format!("ssm.{region}.amazonaws.com") } });
    for statement in statements.iter_mut().filter(|s| s["Sid"] == "DecryptBaseline") {
        statement["Condition"] = via_ssm.clone();
    }
    // Only to ECR, which assumes it to create repositories from a template.
    let to_ecr = serde_json::json!({ "StringEquals": { "iam:PassedToService": "ecr.amazonaws.com" } });
    for statement in statements.iter_mut().filter(|s| s["Sid"] == "PassTemplateRole") {
        statement["Condition"] = to_ecr.clone();
    }
    let services: Vec<&str> =
        SERVICE_LINKED_ROLES.iter().filter(|(feature, _)| scope.has(feature)).map(|(_, service)| *service).collect();
    if actions.contains(&SERVICE_LINKED_ROLE) && !services.is_empty() {
        statements.push(serde_json::json!({
            "Sid": "CreateServiceLinkedRoles", "Effect": "Allow", "Action": [SERVICE_LINKED_ROLE], "Resource": "*",
            "Condition": { "StringEquals": { "iam:AWSServiceName": services } },
        }));
    }
    serde_json::json!({ "Version": "2012-10-17", "Statement": statements })
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
        if let Some(role) = &self.member_role {
            warden_aws::member::check_role_name(role).map_err(ScopeError::MemberRole)?;
        }
        if let Some(role) = &self.creation_template_role {
            warden_aws::member::check_role_name(role).map_err(ScopeError::TemplateRole)?;
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
