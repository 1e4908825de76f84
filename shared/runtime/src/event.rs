//! Deciding what an incoming event asks for: govern one repository, backfill the registry, or nothing
//! (with the reason). Pure: no AWS call is made before an event is understood.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use warden_core::alert::Origin;
use warden_core::observed::repository_name_problem;

use crate::backfill::BackfillRequest;
use crate::fan_out::QueueMessage;
use crate::image_events::{self, ImagePush, ScanResult, ScanSource};

/// CloudTrail calls on a repository that can change what the controls judge.
pub const GOVERNED_CALLS: &[&str] = &[
    "CreateRepository",
    "PutImageTagMutability",
    "PutImageScanningConfiguration",
    "PutLifecyclePolicy",
    "DeleteLifecyclePolicy",
    "SetRepositoryPolicy",
    "DeleteRepositoryPolicy",
    "TagResource",
    "UntagResource",
];

/// CloudTrail calls on the registry as a whole that can change what the controls judge.
pub const REGISTRY_CALLS: &[&str] = &["PutRegistryScanningConfiguration", "PutReplicationConfiguration"];

/// A registry-wide setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegistryPart {
    /// Its scanning rules.
    Scanning,
    /// Its replication configuration.
    Replication,
}

/// What an event asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Route {
    /// Govern one repository.
    Govern {
        /// Where it happened.
        origin: Origin,
        /// The repository.
        repository: String,
        /// What happened, for the report (e.g. `CreateRepository by arn:aws:iam::1:role/Admin`).
        because: String,
        /// Whether the repository was just created (its registry's replication is then checked for it).
        created: bool,
    },
    /// A registry-wide setting was changed by hand: govern it over every repository.
    GovernRegistry {
        /// Where it happened.
        origin: Origin,
        /// Which setting.
        part: RegistryPart,
        /// What happened, for the report.
        because: String,
    },
    /// An image was pushed: govern its repository, check its tag, make sure it is scanned.
    ImagePushed(ImagePush),
    /// A scan completed (or Inspector reported a finding): alert if the findings are over the threshold.
    ScanCompleted(ScanResult),
    /// Govern the whole registry.
    Backfill(BackfillRequest),
    /// Govern the repositories that work-queue messages name (an SQS event for the backfill worker).
    WorkBatches(Vec<QueueMessage>),
    /// Nothing to do, deliberately.
    Ignore {
        /// Why.
        reason: String,
    },
}

/// An event that can't be understood.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed event: {}", warden_core::text::escaped(.0))]
pub struct MalformedEvent(pub String);

/// The principals whose calls are ecr-warden's own (its functions' roles), so its fixes don't trigger
/// it again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopGuard {
    role_arns: Vec<String>,
}

impl LoopGuard {
    /// A guard for the roles in `role_arns`, comma-separated (`arn:aws:iam::ACCOUNT:role/[PATH/]NAME`);
    /// `None` or empty disables it.
    pub fn new(role_arns: Option<String>) -> Self {
        let role_arns = role_arns.unwrap_or_default();
        Self { role_arns: role_arns.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect() }
    }

    /// Whether a CloudTrail identity is one of these roles: its session issuer is the role, or its
    /// assumed-role ARN names the role (account and role name; assumed-role ARNs drop the role's path).
    fn is_own(&self, identity: &UserIdentity) -> bool {
        let issuer =
            identity.session_context.as_ref().and_then(|c| c.session_issuer.as_ref()).and_then(|i| i.arn.as_ref());
        let assumed = identity.arn.as_deref().and_then(assumed_role);
        self.role_arns.iter().any(|role| issuer == Some(role) || (assumed.is_some() && assumed == role_of(role)))
    }
}

/// `(account, role name)` of `arn:aws:sts::ACCOUNT:assumed-role/NAME/SESSION`.
fn assumed_role(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (account, resource) = (parts.nth(4)?, parts.next()?);
    let name = resource.strip_prefix("assumed-role/")?.split('/').next()?;
    Some((account, name))
}

/// `(account, role name)` of `arn:aws:iam::ACCOUNT:role/[PATH/]NAME`.
fn role_of(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (account, resource) = (parts.nth(4)?, parts.next()?);
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    Some((account, name))
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ApiCall {
    event_name: String,
    #[serde(default)]
    event_source: Option<String>,
    #[serde(default)]
    error_code: Option<String>,
    #[serde(default)]
    user_identity: Option<UserIdentity>,
    #[serde(default)]
    request_parameters: Option<Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct UserIdentity {
    #[serde(default)]
    arn: Option<String>,
    #[serde(default)]
    session_context: Option<SessionContext>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionContext {
    #[serde(default)]
    session_issuer: Option<SessionIssuer>,
}

#[derive(Debug, Deserialize)]
struct SessionIssuer {
    #[serde(default)]
    arn: Option<String>,
}

/// Decides what `event` asks for: an EventBridge event (anything with `detail-type`), or a manual
/// backfill request ([`BackfillRequest`]: it plans unless it says `"dryRun": false` or `"mode": "apply"`).
pub fn route(event: &Value, guard: &LoopGuard) -> Result<Route, MalformedEvent> {
    let Some(object) = event.as_object() else {
        return Err(MalformedEvent("an event must be a JSON object".into()));
    };
    if let Some(records) = object.get("Records") {
        return queue_messages(records).map(Route::WorkBatches);
    }
    if !object.contains_key("detail-type") && !object.contains_key("source") {
        let request: BackfillRequest = serde_json::from_value(event.clone())
            .map_err(|e| MalformedEvent(format!("not an EventBridge event, nor a backfill request: {e}")))?;
        return Ok(Route::Backfill(request));
    }
    let envelope: EventBridgeEvent<Value> =
        serde_json::from_value(event.clone()).map_err(|e| MalformedEvent(format!("EventBridge envelope: {e}")))?;
    let origin = Origin {
        account: envelope.account.clone().unwrap_or_default(),
        region: envelope.region.clone().unwrap_or_default(),
    };
    let routed = match (envelope.source.as_str(), envelope.detail_type.as_str()) {
        ("aws.ecr", "AWS API Call via CloudTrail") => route_api_call(origin, envelope.detail, guard),
        ("aws.ecr", "ECR Image Action") => image_events::route_image_action(origin, &envelope.detail),
        ("aws.ecr", "ECR Replication Action") => route_replication_action(origin, &envelope.detail),
        ("aws.ecr", "ECR Image Scan") => image_events::route_scan(origin, ScanSource::BasicScan, &envelope.detail),
        ("aws.inspector2", "Inspector2 Scan") => {
            image_events::route_scan(origin, ScanSource::EnhancedScan, &envelope.detail)
        }
        ("aws.inspector2", "Inspector2 Finding") => image_events::route_inspector_finding(origin, &envelope.detail),
        ("aws.events", "Scheduled Event") => {
            // The nightly audit: the whole registry, reported, nothing changed.
            Ok(Route::Backfill(BackfillRequest::default()))
        }
        (source, detail_type) => {
            Ok(Route::Ignore { reason: format!("`{detail_type}` events from `{source}` are not handled here") })
        }
    }?;
    // A name ECR can't hold is refused here, before any call is made with it; so is an event about a
    // repository that doesn't say which registry it concerns.
    let (origin, repository) = match &routed {
        Route::GovernRegistry { origin, .. } if origin.account.is_empty() || origin.region.is_empty() => {
            return Err(MalformedEvent("the event doesn't name its `account` and `region`".into()))
        }
        Route::GovernRegistry { .. } => return Ok(routed),
        Route::Govern { origin, repository, .. } => (origin, repository),
        Route::ImagePushed(push) => (&push.origin, &push.repository),
        Route::ScanCompleted(scan) => (&scan.origin, &scan.repository),
        Route::Backfill(_) | Route::WorkBatches(_) | Route::Ignore { .. } => return Ok(routed),
    };
    if let Some(problem) = repository_name_problem(repository) {
        return Err(MalformedEvent(problem));
    }
    if origin.account.is_empty() || origin.region.is_empty() {
        return Err(MalformedEvent("the event doesn't name its `account` and `region`".into()));
    }
    Ok(routed)
}

/// The messages of an SQS event (`{"Records": [{"messageId", "body", "eventSource": "aws:sqs"}, ...]}`).
fn queue_messages(records: &Value) -> Result<Vec<QueueMessage>, MalformedEvent> {
    let records = records.as_array().ok_or_else(|| MalformedEvent("`Records` must be a list".into()))?;
    records
        .iter()
        .enumerate()
        .map(|(index, record)| {
            let field = |key: &str| record.get(key).and_then(Value::as_str);
            if field("eventSource") != Some("aws:sqs") {
                return Err(MalformedEvent(format!("record {index} is not an SQS message (eventSource aws:sqs)")));
            }
            match (field("messageId").filter(|id| !id.is_empty()), field("body")) {
                (Some(id), Some(body)) => Ok(QueueMessage { id: id.to_string(), body: body.to_string() }),
                _ => Err(MalformedEvent(format!("record {index} has no messageId or body"))),
            }
        })
        .collect()
}

fn route_api_call(origin: Origin, detail: Value, guard: &LoopGuard) -> Result<Route, MalformedEvent> {
    let call: ApiCall =
        serde_json::from_value(detail).map_err(|e| MalformedEvent(format!("CloudTrail detail: {e}")))?;
    if call.event_source.as_deref().is_some_and(|s| s != "ecr.amazonaws.com") {
        return Ok(Route::Ignore { reason: format!("the call was made to {:?}, not ECR", call.event_source) });
    }
    if let Some(code) = call.error_code.filter(|c| !c.is_empty()) {
        return Ok(Route::Ignore { reason: format!("{} failed ({code}): nothing changed", call.event_name) });
    }
    let identity = call.user_identity.unwrap_or_default();
    if guard.is_own(&identity) {
        return Ok(Route::Ignore { reason: format!("{} was made by ecr-warden itself", call.event_name) });
    }
    let by = identity.arn.as_ref().map(|arn| format!(" by {}", warden_core::text::shown(arn, 200))).unwrap_or_default();
    let part = match call.event_name.as_str() {
        "PutRegistryScanningConfiguration" => Some(RegistryPart::Scanning),
        "PutReplicationConfiguration" => Some(RegistryPart::Replication),
        _ => None,
    };
    if let Some(part) = part {
        return Ok(Route::GovernRegistry { origin, part, because: format!("{}{by}", call.event_name) });
    }
    if !GOVERNED_CALLS.contains(&call.event_name.as_str()) {
        return Ok(Route::Ignore { reason: format!("{} doesn't change governed settings", call.event_name) });
    }
    let parameters = call.request_parameters.unwrap_or(Value::Null);
    let repository = match call.event_name.as_str() {
        "TagResource" | "UntagResource" => {
            let arn = parameters.get("resourceArn").and_then(Value::as_str).ok_or_else(|| {
                MalformedEvent(format!("{}: requestParameters.resourceArn is missing or not a string", call.event_name))
            })?;
            match origin.repository_in(arn) {
                Ok(name) => name.to_string(),
                Err(reason) => return Ok(Route::Ignore { reason: format!("{}: {reason}", call.event_name) }),
            }
        }
        _ => parameters.get("repositoryName").and_then(Value::as_str).map(str::to_string).ok_or_else(|| {
            MalformedEvent(format!("{}: requestParameters.repositoryName is missing or not a string", call.event_name))
        })?,
    };
    if repository.is_empty() {
        return Err(MalformedEvent(format!("{}: the repository name is empty", call.event_name)));
    }
    let created = call.event_name == "CreateRepository";
    Ok(Route::Govern { origin, repository, because: format!("{}{by}", call.event_name), created })
}

/// `ECR Replication Action`, in the destination registry: the replicated repository arrives without the
/// source's settings, so it is governed like any other.
fn route_replication_action(origin: Origin, detail: &Value) -> Result<Route, MalformedEvent> {
    let field = |key: &str| detail.get(key).and_then(Value::as_str);
    let name_or_arn = field("repository-name")
        .filter(|name| !name.is_empty())
        .ok_or_else(|| MalformedEvent("ECR Replication Action: detail.repository-name is missing".into()))?;
    let repository = match name_or_arn.starts_with("arn:") {
        true => match origin.repository_in(name_or_arn) {
            Ok(name) => name,
            Err(reason) => return Ok(Route::Ignore { reason: format!("ECR Replication Action: {reason}") }),
        },
        false => name_or_arn,
    };
    let from = match (field("source-account"), field("source-region")) {
        (Some(account), Some(region)) => format!(" from {account}/{region}"),
        _ => String::new(),
    };
    let result = field("result").unwrap_or("unknown");
    if result != "SUCCESS" {
        // A failed replication created nothing to govern.
        return Ok(Route::Ignore { reason: format!("ECR Replication Action {repository}: the result is {result}") });
    }
    let because = warden_core::text::shown(&format!("ECR Replication Action{from} ({result})"), 200);
    Ok(Route::Govern { origin, repository: repository.to_string(), because, created: false })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::json;
    use warden_core::vulnerabilities::Severity;

    use super::*;

    const OWN_ROLE: &str = "arn:aws:iam::123456789012:role/service/ecr-warden";

    fn api_call(event_name: &str, parameters: Value, issuer: &str) -> Value {
        json!({
            "version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ecr",
            "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
            "detail": {
                "eventSource": "ecr.amazonaws.com", "eventName": event_name, "requestParameters": parameters,
                "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/x/s",
                                 "sessionContext": {"sessionIssuer": {"arn": issuer}}}
            }
        })
    }

    fn guard() -> LoopGuard {
        LoopGuard::new(Some(OWN_ROLE.into()))
    }

    #[test]
    fn governed_calls_route_to_their_repository() {
        let event =
            api_call("PutImageTagMutability", json!({"repositoryName": "team/app"}), "arn:aws:iam::1:role/Admin");
        match route(&event, &guard()) {
            Ok(Route::Govern { repository, because, .. }) => {
                assert_eq!(repository, "team/app");
                assert!(because.starts_with("PutImageTagMutability by "), "{because}");
            }
            other => panic!("unexpected {other:?}"),
        }
        let tag = api_call(
            "UntagResource",
            json!({"resourceArn": "arn:aws:ecr:us-east-1:123456789012:repository/team/app", "tagKeys": ["a"]}),
            "arn:aws:iam::1:role/Admin",
        );
        assert!(matches!(route(&tag, &guard()), Ok(Route::Govern { repository, .. }) if repository == "team/app"));
    }

    #[test]
    fn failed_calls_and_other_calls_are_ignored_with_a_reason() {
        let mut failed = api_call("CreateRepository", json!({"repositoryName": "app"}), "arn:aws:iam::1:role/Admin");
        failed["detail"]["errorCode"] = json!("RepositoryAlreadyExistsException");
        assert!(
            matches!(route(&failed, &guard()), Ok(Route::Ignore { reason }) if reason.contains("RepositoryAlreadyExists"))
        );
        let read = api_call("DescribeImages", json!({"repositoryName": "app"}), "arn:aws:iam::1:role/Admin");
        assert!(matches!(route(&read, &guard()), Ok(Route::Ignore { .. })));
    }

    #[test]
    fn the_loop_guard_ignores_only_our_own_role() {
        let own = api_call("PutLifecyclePolicy", json!({"repositoryName": "app"}), OWN_ROLE);
        assert!(matches!(route(&own, &guard()), Ok(Route::Ignore { reason }) if reason.contains("ecr-warden itself")));
        let mut by_session = api_call("PutLifecyclePolicy", json!({"repositoryName": "app"}), "");
        by_session["detail"]["userIdentity"] =
            json!({"arn": "arn:aws:sts::123456789012:assumed-role/ecr-warden/lambda-session"});
        assert!(matches!(route(&by_session, &guard()), Ok(Route::Ignore { .. })), "assumed-role ARN recognised");
        let other = api_call(
            "PutLifecyclePolicy",
            json!({"repositoryName": "app"}),
            "arn:aws:iam::123456789012:role/ecr-warden-2",
        );
        assert!(matches!(route(&other, &guard()), Ok(Route::Govern { .. })));
        assert!(matches!(route(&own, &LoopGuard::new(None)), Ok(Route::Govern { .. })), "no guard configured");
        let both = LoopGuard::new(Some(format!("arn:aws:iam::123456789012:role/backfill, {OWN_ROLE}")));
        assert!(matches!(route(&own, &both), Ok(Route::Ignore { .. })), "any of several roles");
    }

    #[test]
    fn a_replication_action_governs_the_destination_repository() {
        let event = json!({
            "version": "0", "id": "r1", "detail-type": "ECR Replication Action", "source": "aws.ecr",
            "account": "222222222222", "region": "eu-west-1",
            "resources": ["arn:aws:ecr:eu-west-1:222222222222:repository/prod/api"],
            "detail": {"result": "SUCCESS", "repository-name": "prod/api", "image-digest": "sha256:ab",
                       "source-account": "111111111111", "source-region": "us-east-1", "action-type": "REPLICATE"}
        });
        match route(&event, &guard()) {
            Ok(Route::Govern { origin, repository, because, created }) => {
                assert_eq!((repository.as_str(), origin.region.as_str(), created), ("prod/api", "eu-west-1", false));
                assert_eq!(because, "ECR Replication Action from 111111111111/us-east-1 (SUCCESS)");
            }
            other => panic!("unexpected {other:?}"),
        }
        let mut by_arn = event.clone();
        by_arn["detail"]["repository-name"] = json!("arn:aws:ecr:eu-west-1:222222222222:repository/prod/api");
        assert!(matches!(route(&by_arn, &guard()), Ok(Route::Govern { repository, .. }) if repository == "prod/api"));
        let mut nameless = event.clone();
        nameless["detail"].as_object_mut().expect("object").remove("repository-name");
        assert!(matches!(route(&nameless, &guard()), Err(MalformedEvent(m)) if m.contains("repository-name")));
        let mut bad = event;
        bad["detail"]["repository-name"] = json!("../../etc");
        assert!(route(&bad, &guard()).is_err(), "names ECR can't hold are refused");
    }

    /// The ECR user guide's sample replication event has `"result": "SUCCESS"` ("Amazon ECR events and
    /// EventBridge"); any other result replicated nothing.
    #[test]
    fn a_failed_replication_is_ignored() {
        let event = json!({
            "version": "0", "id": "r2", "detail-type": "ECR Replication Action", "source": "aws.ecr",
            "account": "222222222222", "region": "eu-west-1", "resources": [],
            "detail": {"result": "FAILURE", "repository-name": "prod/api", "action-type": "REPLICATE"}
        });
        assert!(matches!(route(&event, &guard()), Ok(Route::Ignore { reason }) if reason.contains("FAILURE")));
    }

    #[test]
    fn registry_wide_changes_by_hand_govern_the_registry_and_ours_are_ignored() {
        let admin = "arn:aws:iam::123456789012:role/Admin";
        let scanning = api_call("PutRegistryScanningConfiguration", json!({"scanType": "BASIC", "rules": []}), admin);
        match route(&scanning, &guard()) {
            Ok(Route::GovernRegistry { part, because, origin }) => {
                assert_eq!(part, RegistryPart::Scanning);
                assert!(because.starts_with("PutRegistryScanningConfiguration by "), "{because}");
                assert_eq!(origin.account, "123456789012");
            }
            other => panic!("unexpected {other:?}"),
        }
        let replication = api_call("PutReplicationConfiguration", json!({}), admin);
        assert!(matches!(
            route(&replication, &guard()),
            Ok(Route::GovernRegistry { part: RegistryPart::Replication, .. })
        ));
        let own = api_call("PutRegistryScanningConfiguration", json!({}), OWN_ROLE);
        assert!(matches!(route(&own, &guard()), Ok(Route::Ignore { reason }) if reason.contains("ecr-warden itself")));
        let mut nowhere = scanning;
        nowhere["account"] = json!("");
        assert!(route(&nowhere, &guard()).is_err(), "a registry event must say which registry");
    }

    /// A resource ARN in an event names the repository in full: another account's or region's repository, or
    /// something that is not an ECR repository, is not this event's to govern.
    #[test]
    fn repositories_of_another_registry_or_not_ecr_are_ignored() {
        let tag =
            |arn: &str| api_call("TagResource", json!({"resourceArn": arn, "tags": []}), "arn:aws:iam::1:role/Admin");
        for arn in [
            "arn:aws:ecr:us-east-1:210987654321:repository/team-a/api",
            "arn:aws:ecr:eu-west-1:123456789012:repository/team-a/api",
            "arn:aws:s3:::bucket:repository/team-a/api",
            "team-a/api",
        ] {
            match route(&tag(arn), &guard()) {
                Ok(Route::Ignore { reason }) => assert!(reason.contains(arn), "{reason}"),
                other => panic!("{arn}: unexpected {other:?}"),
            }
        }
        let scan = json!({"detail-type": "Inspector2 Scan", "source": "aws.inspector2", "account": "123456789012",
            "region": "us-east-1", "detail": {"scan-status": "INITIAL_SCAN_COMPLETE",
            "repository-name": "arn:aws:ecr:us-east-1:210987654321:repository/app", "image-digest": "sha256:1"}});
        assert!(matches!(route(&scan, &guard()), Ok(Route::Ignore { reason }) if reason.contains("210987654321")));
        let mut nowhere = api_call("CreateRepository", json!({"repositoryName": "app"}), "arn:aws:iam::1:role/Admin");
        nowhere.as_object_mut().expect("object").remove("account");
        assert!(route(&nowhere, &guard()).expect_err("no account").0.contains("`account` and `region`"));
    }

    #[test]
    fn scheduled_events_audit_the_whole_registry() {
        let event = json!({"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","detail":{}});
        assert_eq!(route(&event, &guard()), Ok(Route::Backfill(BackfillRequest::default())));
    }

    #[test]
    fn manual_backfill_requests_are_checked() {
        let request = route(&json!({"dryRun": true, "repositories": ["team-a/*"], "concurrency": 4}), &guard());
        match request {
            Ok(Route::Backfill(r)) => assert_eq!((r.dry_run, r.repositories.len(), r.concurrency), (true, 1, 4)),
            other => panic!("unexpected {other:?}"),
        }
        // Writes only when the payload says so.
        let dry_run = |payload: Value| match route(&payload, &guard()) {
            Ok(Route::Backfill(request)) => Ok(request.dry_run),
            Ok(other) => panic!("{payload}: unexpected {other:?}"),
            Err(error) => Err(error.0),
        };
        for plans in [json!({}), json!({"mode": "plan"}), json!({"dryRun": true}), json!({"fanOut": true})] {
            assert_eq!(dry_run(plans.clone()), Ok(true), "{plans}");
        }
        for applies in [json!({"dryRun": false}), json!({"mode": "apply"}), json!({"dryRun": false, "mode": "apply"})] {
            assert_eq!(dry_run(applies.clone()), Ok(false), "{applies}");
        }
        for contradicts in [json!({"dryRun": true, "mode": "apply"}), json!({"dryRun": false, "mode": "plan"})] {
            assert!(dry_run(contradicts.clone()).is_err_and(|e| e.contains("disagree")), "{contradicts}");
        }
        assert!(dry_run(json!({"mode": "yes"})).is_err());
        assert_eq!(route(&json!({}), &guard()), Ok(Route::Backfill(BackfillRequest::default())));
        let err = route(&json!({"dryrun": true}), &guard()).expect_err("unknown key");
        assert!(err.0.contains("dryrun"), "{err}");
        assert!(route(&json!({"concurrency": 0}), &guard()).is_err());
        assert!(route(&json!({"repositories": ["[bad"]}), &guard()).is_err());
    }

    #[test]
    fn malformed_events_say_what_is_wrong() {
        assert!(route(&json!([1, 2]), &guard()).is_err());
        let no_detail = json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ecr"});
        assert!(route(&no_detail, &guard()).expect_err("no detail").0.contains("detail"));
        let no_name = api_call("CreateRepository", json!({}), "arn:aws:iam::1:role/Admin");
        assert!(route(&no_name, &guard()).expect_err("no name").0.contains("repositoryName"));
        let mut no_event_name = api_call("CreateRepository", json!({"repositoryName": "app"}), "");
        no_event_name["detail"].as_object_mut().map(|d| d.remove("eventName"));
        assert!(route(&no_event_name, &guard()).expect_err("no eventName").0.contains("eventName"));
    }

    #[test]
    fn other_event_types_are_ignored() {
        let cache = json!({"detail-type": "ECR Pull Through Cache Action", "source": "aws.ecr", "detail": {}});
        assert!(
            matches!(route(&cache, &guard()), Ok(Route::Ignore { reason }) if reason.contains("ECR Pull Through Cache"))
        );
        let spoofed = json!({"detail-type": "ECR Image Scan", "source": "aws.inspector2", "detail": {}});
        assert!(matches!(route(&spoofed, &guard()), Ok(Route::Ignore { .. })), "detail-type and source must agree");
    }

    fn image_action(action: &str, result: &str, tag: &str) -> Value {
        json!({"detail-type": "ECR Image Action", "source": "aws.ecr", "account": "123456789012",
               "region": "us-west-2", "resources": [],
               "detail": {"action-type": action, "result": result, "repository-name": "team/app",
                          "image-digest": "sha256:abc", "image-tag": tag}})
    }

    #[test]
    fn successful_pushes_route_with_their_origin_and_tag() {
        match route(&image_action("PUSH", "SUCCESS", "v1"), &guard()) {
            Ok(Route::ImagePushed(push)) => {
                assert_eq!((push.repository.as_str(), push.digest.as_str()), ("team/app", "sha256:abc"));
                assert_eq!(push.tag.as_deref(), Some("v1"));
                assert_eq!(
                    push.origin.repository_arn("team/app"),
                    "arn:aws:ecr:us-west-2:123456789012:repository/team/app"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(
            matches!(route(&image_action("PUSH", "SUCCESS", ""), &guard()), Ok(Route::ImagePushed(p)) if p.tag.is_none()),
            "a digest-only push has no tag"
        );
    }

    #[test]
    fn deletes_archives_and_failed_pushes_are_acknowledged() {
        for (action, result) in [("DELETE", "SUCCESS"), ("UPDATE_STORAGE_CLASS", "SUCCESS"), ("PUSH", "FAILED")] {
            match route(&image_action(action, result, "v1"), &guard()) {
                Ok(Route::Ignore { reason }) => assert!(reason.contains("team/app"), "{reason}"),
                other => panic!("{action} {result}: unexpected {other:?}"),
            }
        }
        let mut no_digest = image_action("PUSH", "SUCCESS", "v1");
        no_digest["detail"].as_object_mut().map(|d| d.remove("image-digest"));
        assert!(route(&no_digest, &guard()).expect_err("no digest").0.contains("image-digest"));
        let mut no_action = image_action("PUSH", "SUCCESS", "v1");
        no_action["detail"]["action-type"] = json!(7);
        assert!(route(&no_action, &guard()).is_err());
    }

    #[test]
    fn enhanced_scans_name_the_repository_by_arn_and_drop_total() {
        let event = json!({"detail-type": "Inspector2 Scan", "source": "aws.inspector2", "account": "123456789012",
            "region": "us-east-2",
            "detail": {"scan-status": "INITIAL_SCAN_COMPLETE",
                       "repository-name": "arn:aws:ecr:us-east-2:123456789012:repository/amazon/sample",
                       "finding-severity-counts": {"CRITICAL": 7, "HIGH": 61, "TOTAL": 68},
                       "image-digest": "sha256:36c7", "image-tags": ["latest"]}});
        match route(&event, &guard()) {
            Ok(Route::ScanCompleted(scan)) => {
                assert_eq!(scan.repository, "amazon/sample");
                assert_eq!(scan.source, ScanSource::EnhancedScan);
                assert_eq!(scan.counts.values().sum::<u32>(), 68);
                assert_eq!(scan.tags, ["latest"]);
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn basic_scans_may_have_empty_counts_and_no_tags() {
        let event = json!({"detail-type": "ECR Image Scan", "source": "aws.ecr", "account": "1", "region": "r",
            "detail": {"scan-status": "COMPLETE", "repository-name": "app", "finding-severity-counts": {},
                       "image-digest": "sha256:1", "image-tags": []}});
        assert!(
            matches!(route(&event, &guard()), Ok(Route::ScanCompleted(s)) if s.counts.is_empty() && s.tags.is_empty())
        );
        let mut failed = event.clone();
        failed["detail"]["scan-status"] = json!("FAILED");
        assert!(matches!(route(&failed, &guard()), Ok(Route::Ignore { .. })));
        let mut bad_counts = event.clone();
        bad_counts["detail"]["finding-severity-counts"] = json!({"HIGH": "many"});
        assert!(route(&bad_counts, &guard()).expect_err("bad count").0.contains("HIGH"));
    }

    #[test]
    fn huge_severity_counts_saturate_instead_of_wrapping() {
        let event = |counts: Value| {
            json!({"detail-type": "ECR Image Scan", "source": "aws.ecr", "account": "1", "region": "r",
                "detail": {"scan-status": "COMPLETE", "repository-name": "app", "finding-severity-counts": counts,
                           "image-digest": "sha256:1", "image-tags": []}})
        };
        for counts in [
            json!({"CRITICAL": 4_294_967_295u64, "critical": 1}),
            json!({"CRITICAL": 4_294_967_296u64}),
            json!({"CRITICAL": u64::MAX}),
        ] {
            match route(&event(counts.clone()), &guard()) {
                Ok(Route::ScanCompleted(scan)) => assert_eq!(scan.counts[&Severity::Critical], u32::MAX, "{counts}"),
                other => panic!("{counts}: unexpected {other:?}"),
            }
        }
    }

    #[test]
    fn inspector_findings_carry_their_one_finding_whatever_its_status() {
        let event = json!({"detail-type": "Inspector2 Finding", "source": "aws.inspector2", "account": "1",
            "region": "r", "detail": {"severity": "UNTRIAGED", "status": "ACTIVE", "inspectorScore": 6.5,
                "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1", "sourceUrl": "https://x",
                    "vulnerablePackages": [{"name": "libssh2", "version": "1.4.3", "fixedInVersion": "1.4.4"}]},
                "resources": [{"details": {"awsEcrContainerImage": {"repositoryName": "a/b", "imageHash": "sha256:9",
                                                                    "imageTags": []}}}]}});
        match route(&event, &guard()) {
            Ok(Route::ScanCompleted(scan)) => {
                let (finding, active) = scan.finding.expect("one finding");
                assert_eq!((finding.id.as_str(), finding.severity, active), ("CVE-1", Severity::Untriaged, true));
                assert_eq!(finding.fixed_in.as_deref(), Some("1.4.4"));
                assert_eq!(scan.counts, BTreeMap::from([(Severity::Untriaged, 1)]));
            }
            other => panic!("unexpected {other:?}"),
        }
        // A closed finding changes the image's state too: it is routed, to be judged with the image's findings.
        let mut closed = event.clone();
        closed["detail"]["status"] = json!("CLOSED");
        assert!(
            matches!(route(&closed, &guard()), Ok(Route::ScanCompleted(s)) if s.finding.as_ref().is_some_and(|(_, a)| !a))
        );
        let mut not_ecr = event.clone();
        not_ecr["detail"]["resources"] = json!([{"details": {"awsLambdaFunction": {}}}]);
        assert!(matches!(route(&not_ecr, &guard()), Ok(Route::Ignore { .. })));
    }
}
