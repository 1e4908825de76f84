//! Deciding what an incoming event asks for: govern one repository, backfill the registry, or nothing
//! (with the reason). Pure: no AWS call is made before an event is understood.

use aws_lambda_events::eventbridge::EventBridgeEvent;
use serde::Deserialize;
use serde_json::Value;

use warden_core::alert::Origin;
use warden_core::controls::ControlId;
use warden_core::observed::repository_name_problem;

use crate::backfill::BackfillRequest;
use crate::fan_out::QueueMessage;

mod image;
mod kinds;
#[cfg(test)]
mod tests;

pub use kinds::{ImagePush, MalformedEvent, RegistryPart, Route, ScanResult, ScanSource};

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

/// The principals whose calls are ecr-warden's own (its functions' roles), so its fixes don't trigger
/// it again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoopGuard {
    role_arns: Vec<String>,
    member_role: Option<String>,
}

impl LoopGuard {
    /// A guard for the roles in `role_arns`, comma-separated (`arn:aws:iam::ACCOUNT:role/[PATH/]NAME`);
    /// `None` or empty disables it.
    pub fn new(role_arns: Option<String>) -> Self {
        let role_arns = role_arns.unwrap_or_default();
        let role_arns = role_arns.split(',').map(str::trim).filter(|a| !a.is_empty()).map(str::to_string).collect();
        Self { role_arns, member_role: None }
    }

    /// Also recognises the sessions of the member role `name` in every account (organization mode: the hub
    /// changes member registries through that role, which only the hub may assume).
    pub fn with_member_role(mut self, name: &str) -> Self {
        self.member_role = Some(name.to_string());
        self
    }

    /// Whether a CloudTrail identity is one of these roles: its session issuer is the role, or its
    /// assumed-role ARN names the role (account and role name; assumed-role ARNs drop the role's path); or, in
    /// organization mode, a session of the member role in any account.
    fn is_own(&self, identity: &UserIdentity) -> bool {
        let issuer =
            identity.session_context.as_ref().and_then(|c| c.session_issuer.as_ref()).and_then(|i| i.arn.as_ref());
        let assumed = identity.arn.as_deref().and_then(assumed_role);
        let member = |name: Option<&str>| name.is_some() && name == self.member_role.as_deref();
        member(assumed.map(|(_, name)| name))
            || member(issuer.and_then(|arn| role_of(arn)).map(|(_, name)| name))
            || self.role_arns.iter().any(|role| issuer == Some(role) || (assumed.is_some() && assumed == role_of(role)))
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
        ("aws.ecr", "ECR Image Action") => image::route_image_action(origin, &envelope.detail),
        ("aws.ecr", "ECR Replication Action") => route_replication_action(origin, &envelope.detail),
        ("aws.ecr", "ECR Pull Through Cache Action") => route_cache_action(origin, &envelope.detail),
        ("aws.ecr", "ECR Image Scan") => image::route_scan(origin, ScanSource::BasicScan, &envelope.detail),
        ("aws.inspector2", "Inspector2 Scan") => image::route_scan(origin, ScanSource::EnhancedScan, &envelope.detail),
        ("aws.inspector2", "Inspector2 Finding") => image::route_inspector_finding(origin, &envelope.detail),
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
    // A registry-wide setting, by the control that governs it (each control's description names its calls).
    let part = warden_core::controls::changed_by(&call.event_name).map(|id| match id {
        ControlId::Scanning => RegistryPart::Scanning,
        registry_level => RegistryPart::Control(registry_level),
    });
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
    let because = format!("{}{by}", call.event_name);
    let tags_set = tags_set(&parameters);
    let by = identity.arn.map(|arn| warden_core::text::shown(&arn, 200));
    Ok(Route::Govern { origin, repository, because, created, tags_set, by })
}

/// The tags a call's `requestParameters` set: ECR's `tags` list of `{"Key", "Value"}` (lower-case names accepted
/// too); anything else is no tag.
fn tags_set(parameters: &Value) -> Vec<(String, String)> {
    let Some(tags) = parameters.get("tags").and_then(Value::as_array) else { return Vec::new() };
    let field = |tag: &Value, upper: &str, lower: &str| {
        tag.get(upper).or_else(|| tag.get(lower)).and_then(Value::as_str).map(str::to_string)
    };
    tags.iter().filter_map(|tag| Some((field(tag, "Key", "key")?, field(tag, "Value", "value")?))).collect()
}

/// `ECR Pull Through Cache Action`: a pull through the cache synced the repository from its upstream, creating it
/// on the first pull (from a creation template at best): it is governed at once like any other.
fn route_cache_action(origin: Origin, detail: &Value) -> Result<Route, MalformedEvent> {
    let field = |key: &str| detail.get(key).and_then(Value::as_str);
    let repository = field("repository-name")
        .filter(|name| !name.is_empty())
        .ok_or_else(|| MalformedEvent("ECR Pull Through Cache Action: detail.repository-name is missing".into()))?;
    let status = field("sync-status").unwrap_or("unknown");
    if status != "SUCCESS" {
        return Ok(Route::Ignore {
            reason: format!("ECR Pull Through Cache Action {repository}: the sync is {status}"),
        });
    }
    let upstream = field("upstream-registry-url").map(|url| format!(" from {url}")).unwrap_or_default();
    let because = warden_core::text::shown(&format!("ECR Pull Through Cache Action{upstream}"), 200);
    Ok(Route::govern(origin, repository, because))
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
    Ok(Route::govern(origin, repository, because))
}
