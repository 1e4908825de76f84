//! What `ecr-warden doctor` reads, read-only: the trails of the region (`DescribeTrails`, `GetTrailStatus`,
//! `GetEventSelectors`), whether Security Hub is enabled (`DescribeHub`), whether the alert topic and bus exist
//! (`GetTopicAttributes`, `DescribeEventBus`). Each answers a fact or an error to show.

use aws_sdk_cloudtrail::types::{AdvancedEventSelector, EventSelector, ReadWriteType};
use aws_sdk_ecr::error::ProvideErrorMetadata;
use warden_core::doctor::TrailState;

use crate::api_calls::counted_client;
use crate::SdkConfig;

pub mod stack;

/// The AWS error code and message of a failed call, on one line.
fn said<E: ProvideErrorMetadata>(operation: &str, error: &E) -> String {
    let code = error.code().unwrap_or("an error");
    match error.message() {
        Some(message) => format!("{operation}: {code}: {message}"),
        None => format!("{operation}: {code}"),
    }
}

/// Every trail that applies to the configured region (its own, multi-region trails from elsewhere and the
/// organization's trail, which `DescribeTrails` lists as shadow trails), with its status and whether it records
/// management write events.
pub async fn trails(config: &SdkConfig) -> Result<Vec<TrailState>, String> {
    let client = counted_client!(aws_sdk_cloudtrail, config);
    let described = client.describe_trails().include_shadow_trails(true).send().await;
    let described = described.map_err(|e| said("DescribeTrails", &e.into_service_error()))?;
    let mut states = Vec::new();
    for trail in described.trail_list() {
        // A shadow trail's status and selectors are asked of its ARN (CloudTrail API reference, GetTrailStatus).
        let Some(arn) = trail.trail_arn().or(trail.name()) else { continue };
        let status = client.get_trail_status().name(arn).send().await;
        let status = status.map_err(|e| said("GetTrailStatus", &e.into_service_error()))?;
        let management_writes = match trail.has_custom_event_selectors() {
            // Without custom selectors a trail logs all management events (CloudTrail user guide, "Logging
            // management events").
            Some(false) | None => true,
            Some(true) => {
                let selectors = client.get_event_selectors().trail_name(arn).send().await;
                let selectors = selectors.map_err(|e| said("GetEventSelectors", &e.into_service_error()))?;
                selectors.event_selectors().iter().any(basic_writes)
                    || selectors.advanced_event_selectors().iter().any(advanced_writes)
            }
        };
        states.push(TrailState {
            name: trail.name().unwrap_or(arn).to_string(),
            home_region: trail.home_region().unwrap_or_default().to_string(),
            multi_region: trail.is_multi_region_trail().unwrap_or(false),
            organization: trail.is_organization_trail().unwrap_or(false),
            logging: status.is_logging().unwrap_or(false),
            management_writes,
        });
    }
    Ok(states)
}

/// A basic selector records management writes unless it leaves management events out or records reads only.
fn basic_writes(selector: &EventSelector) -> bool {
    selector.include_management_events().unwrap_or(true)
        && !matches!(selector.read_write_type(), Some(ReadWriteType::ReadOnly))
}

/// An advanced selector records management writes when it selects the `Management` category and doesn't keep
/// only reads (`readOnly` equal to `true`).
fn advanced_writes(selector: &AdvancedEventSelector) -> bool {
    let fields = selector.field_selectors();
    let management =
        fields.iter().any(|f| f.field() == "eventCategory" && f.equals().iter().any(|value| value == "Management"));
    let reads_only = fields.iter().any(|f| f.field() == "readOnly" && f.equals().iter().any(|value| value == "true"));
    management && !reads_only
}

/// Whether Security Hub is enabled in the configured account and region (`DescribeHub` answers
/// `InvalidAccessException` when it isn't).
pub async fn security_hub_enabled(config: &SdkConfig) -> Result<bool, String> {
    let client = counted_client!(aws_sdk_securityhub, config);
    match client.describe_hub().send().await {
        Ok(_) => Ok(true),
        Err(error) => {
            let error = error.into_service_error();
            match error.code() {
                Some("InvalidAccessException") | Some("ResourceNotFoundException") => Ok(false),
                _ => Err(said("DescribeHub", &error)),
            }
        }
    }
}

/// The state of Amazon Inspector's ECR scanning for `account` (`BatchGetAccountStatus`: `ENABLED`, `DISABLED`,
/// `ENABLING`, ...); `DISABLED` when Inspector has never been enabled there.
pub async fn inspector_ecr_status(config: &SdkConfig, account: &str) -> Result<String, String> {
    let client = counted_client!(aws_sdk_inspector2, config);
    let answer = client.batch_get_account_status().account_ids(account).send().await;
    let answer = answer.map_err(|e| said("BatchGetAccountStatus", &e.into_service_error()))?;
    let ecr = answer.accounts().iter().find(|a| a.account_id() == account).and_then(|a| a.resource_state());
    let status = ecr.and_then(|state| state.ecr()).map(|ecr| ecr.status().as_str().to_string());
    Ok(status.unwrap_or_else(|| "DISABLED".to_string()))
}

/// Whether the SNS topic `arn` exists (`GetTopicAttributes` answers `NotFound` when it doesn't).
pub async fn topic_exists(config: &SdkConfig, arn: &str) -> Result<bool, String> {
    let client = counted_client!(aws_sdk_sns, config);
    let answer = client.get_topic_attributes().topic_arn(arn).send().await;
    exists("GetTopicAttributes", "NotFound", answer.map_err(|e| e.into_service_error()))
}

/// Whether the EventBridge bus `bus` (a name or an ARN) exists (`DescribeEventBus` answers
/// `ResourceNotFoundException` when it doesn't).
pub async fn bus_exists(config: &SdkConfig, bus: &str) -> Result<bool, String> {
    let client = counted_client!(aws_sdk_eventbridge, config);
    let answer = client.describe_event_bus().name(bus).send().await;
    exists("DescribeEventBus", "ResourceNotFoundException", answer.map_err(|e| e.into_service_error()))
}

/// Whether a describe call found its resource: `missing` is the code AWS answers when it doesn't exist; any other
/// error is shown.
fn exists<T, E: ProvideErrorMetadata>(operation: &str, missing: &str, answer: Result<T, E>) -> Result<bool, String> {
    match answer {
        Ok(_) => Ok(true),
        Err(error) if error.code() == Some(missing) => Ok(false),
        Err(error) => Err(said(operation, &error)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_cloudtrail::types::AdvancedFieldSelector;

    #[test]
    fn selectors_record_management_writes_unless_they_leave_them_out() {
        let basic = |management: bool, kind: ReadWriteType| {
            EventSelector::builder().include_management_events(management).read_write_type(kind).build()
        };
        assert!(basic_writes(&basic(true, ReadWriteType::All)));
        assert!(basic_writes(&basic(true, ReadWriteType::WriteOnly)));
        assert!(!basic_writes(&basic(true, ReadWriteType::ReadOnly)));
        assert!(!basic_writes(&basic(false, ReadWriteType::All)), "data events only");
        let field = |name: &str, value: &str| {
            AdvancedFieldSelector::builder().field(name).equals(value).build().expect("a field selector")
        };
        let advanced = |fields: Vec<AdvancedFieldSelector>| {
            AdvancedEventSelector::builder().set_field_selectors(Some(fields)).build().expect("a selector")
        };
        assert!(advanced_writes(&advanced(vec![field("eventCategory", "Management")])));
        assert!(!advanced_writes(&advanced(vec![field("eventCategory", "Management"), field("readOnly", "true")])));
        assert!(advanced_writes(&advanced(vec![field("eventCategory", "Management"), field("readOnly", "false")])));
        assert!(!advanced_writes(&advanced(vec![field("eventCategory", "Data")])));
    }
}
