//! The IAM actions each Lambda function's code paths call: what its role must grant, no more, no less.
//! `template.yaml` is checked against this (`make check-template`).

mod policy;

use warden_core::controls;

use crate::handle::Purpose;

pub use policy::{doctor_policy_document, member_policy_document, policy_document, PolicyScope, ScopeError};

/// Actions that can't be scoped to a repository ARN and need `Resource: "*"`.
pub const REGISTRY_WIDE: &[&str] = &[
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeleteRegistryPolicy",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:DescribeRegistry",
    "ecr:DescribeRepositories",
    "ecr:DescribePullThroughCacheRules",
    "ecr:DescribeRepositoryCreationTemplates",
    "ecr:GetRegistryPolicy",
    "ecr:GetSigningConfiguration",
    "ecr:GetRegistryScanningConfiguration",
    "ecr:PutRegistryPolicy",
    "ecr:PutRegistryScanningConfiguration",
    "ecr:PutReplicationConfiguration",
    "ecr:PutSigningConfiguration",
    "ecr:UpdateRepositoryCreationTemplate",
    "iam:CreateServiceLinkedRole",
    "inspector2:Enable",
    "inspector2:ListAccountPermissions",
    "inspector2:ListFindings",
    // Organization mode: an account's membership (its resource ARN names the management account, which the hub
    // may not know).
    "organizations:DescribeAccount",
    "organizations:DescribeOrganization",
    "organizations:ListAccounts",
    "organizations:ListParents",
    "tag:GetResources",
];

/// Whether `action` is granted on `Resource: "*"`: [`REGISTRY_WIDE`], and the reads of images in use
/// ([`IMAGES_IN_USE`]: every cluster's tasks and services and every function of the account and region are read).
pub fn on_any_resource(action: &str) -> bool {
    REGISTRY_WIDE.contains(&action) || IMAGES_IN_USE.contains(&action)
}

/// What sending alerts calls (scoped to the alert topic and bus).
pub(crate) const ALERTING: &[&str] = &["events:PutEvents", "sns:Publish"];

/// What a fan-out calls (`SendMessageBatch`, scoped to the work queue).
pub(crate) const FAN_OUT: &[&str] = &["sqs:SendMessage"];

/// What sending findings to Security Hub calls (import on the account's default product; read and resolve
/// on its hub).
pub(crate) const SECURITY_HUB: &[&str] =
    &["securityhub:BatchImportFindings", "securityhub:BatchUpdateFindings", "securityhub:GetFindings"];

/// Changing the registry's scanning rules (`scanning.via = "registry"`, the default).
pub(crate) const REGISTRY_SCANNING: &[&str] = &["ecr:PutRegistryScanningConfiguration"];

/// What `PutRegistryScanningConfiguration` needs besides itself when the registry uses enhanced scanning: "the IAM
/// principal enabling and using enhanced scanning has permissions to call the Amazon Inspector APIs" and may
/// create Inspector's service-linked role (ECR user guide, "IAM permissions required for enhanced scanning").
pub(crate) const ENHANCED_SCANNING: &[&str] =
    &["iam:CreateServiceLinkedRole", "inspector2:Enable", "inspector2:ListAccountPermissions"];

/// Governing replication: the control's actions, and creating ECR's replication service-linked role, which the
/// first `PutReplicationConfiguration` of a registry does (ECR user guide, "Using service-linked roles for
/// Amazon ECR": replication).
pub const REPLICATION: &[&str] =
    &["ecr:DescribeRegistry", "ecr:PutReplicationConfiguration", "iam:CreateServiceLinkedRole"];

/// Governing the registry permissions policy (a baseline `[registry_policy]` section).
pub const REGISTRY_POLICY: &[&str] = warden_core::controls::registry_policy::PERMISSIONS;

/// Governing repository creation templates (a baseline `[creation_templates]` section): the control's actions,
/// `ecr:CreateRepository` among them (ECR user guide, "IAM permissions for creating repository creation templates").
pub const CREATION_TEMPLATES: &[&str] = &[
    "ecr:CreateRepository",
    "ecr:CreateRepositoryCreationTemplate",
    "ecr:DeleteRepositoryCreationTemplate",
    "ecr:UpdateRepositoryCreationTemplate",
];

/// Reading the registry's own settings that a baseline section governs: its creation templates and its pull
/// through cache rules (read-only, always granted to the functions that govern the registry).
pub(crate) const REGISTRY_READS: &[&str] =
    &["ecr:DescribePullThroughCacheRules", "ecr:DescribeRepositoryCreationTemplates"];

/// Passing the custom role a template names to ECR (`creation_templates.custom_role_arn`): "iam:PassRole ... is
/// necessary for services and applications" to assume the role (same page); only that role, only to ECR.
pub const CREATION_TEMPLATE_ROLE: &[&str] = &["iam:PassRole"];

/// Governing managed image signing (a baseline `[signing]` section).
pub const SIGNING: &[&str] = warden_core::controls::signing::PERMISSIONS;

/// Reading the images in use (a baseline `[in_use]` section), which lifecycle policies must never expire: ECS
/// tasks, services and task definitions, Lambda functions (read-only).
pub const IMAGES_IN_USE: &[&str] = &[
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeTasks",
    "ecs:ListClusters",
    "ecs:ListServices",
    "ecs:ListTasks",
    "lambda:GetFunction",
    "lambda:ListFunctions",
];

/// What `ecr-warden doctor` calls, all read-only: the region's trails, the alert topic and bus, Security Hub, the
/// registry's scan type and Inspector's ECR scanning, ECR's replication role; with `--stack`, the stack, its rules
/// and queue triggers, its dead-letter queues' depth and its functions' metrics; and the baseline parameter
/// (`ssm:GetParameter`, granted on that parameter only).
pub const DOCTOR: &[&str] = &[
    "cloudformation:DescribeStacks",
    "cloudformation:ListStackResources",
    "cloudtrail:DescribeTrails",
    "cloudtrail:GetEventSelectors",
    "cloudtrail:GetTrailStatus",
    "cloudwatch:GetMetricData",
    "ecr:GetRegistryScanningConfiguration",
    "events:DescribeEventBus",
    "events:DescribeRule",
    "iam:GetRole",
    "inspector2:BatchGetAccountStatus",
    "lambda:GetEventSourceMapping",
    "securityhub:DescribeHub",
    "sns:GetTopicAttributes",
    "sqs:GetQueueAttributes",
];

/// Decrypting a SecureString baseline encrypted with a customer managed key (through SSM only).
pub(crate) const BASELINE_KEY: &[&str] = &["kms:Decrypt"];

/// Reading tags 100 repositories a call (`ECR_WARDEN_TAGS_FROM=tagging-api`, backfills only).
pub(crate) const TAGGING_API: &[&str] = &["tag:GetResources"];

/// Organization mode, in the hub: whether an event's account is in the organization, which organizational units
/// it is in (for a baseline naming them), the member role that reaches its registry (`ECR_WARDEN_MEMBER_ROLE`),
/// and (the backfill function only, [`LIST_ACCOUNTS`]) the organization's accounts for an organization-wide
/// backfill.
pub(crate) const ORGANIZATION: &[&str] =
    &["organizations:DescribeAccount", "organizations:ListAccounts", "organizations:ListParents", "sts:AssumeRole"];

/// Listing the organization's accounts: only a backfill of the whole organization does.
const LIST_ACCOUNTS: &str = "organizations:ListAccounts";

/// The caller's organization ID, for a baseline whose repository policies may let it in (`allow_organization`):
/// any account of an organization may ask (Organizations API reference, `DescribeOrganization`).
pub(crate) const ORGANIZATION_ID: &[&str] = &["organizations:DescribeOrganization"];

/// Reading the baseline from its SSM parameter (every function).
const READ_BASELINE: &[&str] = &["ssm:GetParameter"];

/// What stays with the hub's own roles in organization mode: its baseline, its alert sinks, its work queue, and
/// reaching the members. The member role holds the rest of what the functions call.
const HUB_ONLY: &[&[&str]] = &[READ_BASELINE, BASELINE_KEY, ALERTING, FAN_OUT, ORGANIZATION, ORGANIZATION_ID];

/// Whether `action` is one of the hub's own ([`HUB_ONLY`]).
fn is_hub_only(action: &str) -> bool {
    HUB_ONLY.iter().any(|actions| actions.contains(&action))
}

/// Actions a deployment grants only when it turns their feature on, by feature: `registry_scanning`,
/// `enhanced_scanning`, `replication` (a baseline `[replication]` section), `security_hub` (`[alerts]
/// security_hub = true`), `registry_policy` (a `[registry_policy]` section), `creation_templates` (a
/// `[creation_templates]` section) and `creation_template_role` (its custom role), `signing` (a `[signing]`
/// section), `images_in_use` (an `[in_use]` section), `tagging_api`, `baseline_key` and `organization` (organization
/// mode).
pub const OPTIONAL: &[(&str, &[&str])] = &[
    ("registry_scanning", REGISTRY_SCANNING),
    ("enhanced_scanning", ENHANCED_SCANNING),
    ("replication", REPLICATION),
    ("registry_policy", REGISTRY_POLICY),
    ("creation_templates", CREATION_TEMPLATES),
    ("creation_template_role", CREATION_TEMPLATE_ROLE),
    ("signing", SIGNING),
    ("images_in_use", IMAGES_IN_USE),
    ("security_hub", SECURITY_HUB),
    ("tagging_api", TAGGING_API),
    ("baseline_key", BASELINE_KEY),
    ("organization", ORGANIZATION),
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
    let mut actions = READ_BASELINE.to_vec();
    actions.extend(BASELINE_KEY);
    if purpose != Purpose::ScanResults {
        // Governing a repository: each control's observe and fix; a registry scanning rule put under enhanced
        // scanning needs Inspector's permissions too.
        actions.extend(controls::all_permissions());
        actions.extend(ENHANCED_SCANNING);
        // A repository policy may let in the caller's organization (`allow_organization`).
        actions.extend(ORGANIZATION_ID);
        // A lifecycle policy about to be put is checked against the images in use.
        actions.extend(IMAGES_IN_USE);
    }
    // Every function alerts: on events, and an audit (a backfill, its workers) on vulnerabilities past their
    // deadline.
    actions.extend(ALERTING);
    if purpose == Purpose::ImagePushes || any {
        actions.push("ecr:StartImageScan");
    }
    if matches!(purpose, Purpose::ScanResults | Purpose::Backfill | Purpose::BackfillWorker) || any {
        // Reading an enhanced scan's findings through ECR also needs Inspector's ListFindings; an audit reads them
        // where the baseline sets vulnerability deadlines.
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
        // A whole-registry backfill and a repository just created check the registry's replication, and a
        // whole-registry backfill and a change to it the registry policy (only when the baseline has the
        // section; the template grants these only when asked).
        actions.extend(REPLICATION);
        actions.extend(REGISTRY_POLICY);
        actions.extend(CREATION_TEMPLATES);
        actions.extend(CREATION_TEMPLATE_ROLE);
        actions.extend(REGISTRY_READS);
        actions.extend(SIGNING);
    }
    // Every function reports what it finds to Security Hub when the baseline asks.
    actions.extend(SECURITY_HUB);
    // In organization mode every function may handle another account's event (the worker, its work messages);
    // the backfill function may be asked for the whole organization.
    let lists_accounts = purpose == Purpose::Backfill || any;
    actions.extend(ORGANIZATION.iter().filter(|action| **action != LIST_ACCOUNTS || lists_accounts));
    actions.sort_unstable();
    actions.dedup();
    actions
}

/// The IAM actions the member role of organization mode must grant, sorted: everything the functions call in a
/// registry (the hub's functions act through it in the member's account), nothing of the hub's own (its baseline, alert sinks, work queue, and reaching other accounts).
pub fn for_member() -> Vec<&'static str> {
    for_purpose(Purpose::Any).into_iter().filter(|action| !is_hub_only(action)).collect()
}

#[cfg(test)]
mod tests;
