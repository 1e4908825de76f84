//! What `doctor --stack` reads of a deployed stack, read-only: the stack and its resources (`DescribeStacks`,
//! `ListStackResources`), its rules (`DescribeRule`) and queue triggers (`GetEventSourceMapping`), its
//! dead-letter queues' depth (`GetQueueAttributes`) and its functions' recent failures (`GetMetricData`).

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_cloudwatch::primitives::DateTime;
use aws_sdk_cloudwatch::types::{Dimension, Metric, MetricDataQuery, MetricStat};
use aws_sdk_ecr::error::ProvideErrorMetadata;
use aws_sdk_eventbridge::types::RuleState;
use aws_sdk_sqs::types::QueueAttributeName;
use warden_core::doctor::stack::{FunctionHealth, Trigger, TriggerKind, TriggerState};

use super::said;
use crate::api_calls::counted_client;
use crate::SdkConfig;

/// One resource of a stack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StackResource {
    /// Its logical ID in the template.
    pub logical_id: String,
    /// Its type (`AWS::Events::Rule`, ...).
    pub kind: String,
    /// Its physical ID (a rule's name, a queue's URL, a function's name, ...).
    pub physical_id: String,
}

/// A deployed stack: its status, outputs and resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeployedStack {
    /// `CREATE_COMPLETE`, `UPDATE_ROLLBACK_FAILED`, ...
    pub status: String,
    /// Its outputs by key.
    pub outputs: BTreeMap<String, String>,
    /// Its resources.
    pub resources: Vec<StackResource>,
}

impl DeployedStack {
    /// The physical IDs of its resources of type `kind`.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a StackResource> + 'a {
        self.resources.iter().filter(move |r| r.kind == kind && !r.physical_id.is_empty())
    }
}

/// The stack `name` (a name or a stack ID), or `None` when it doesn't exist (`DescribeStacks` answers a
/// `ValidationError` saying so).
pub async fn deployed_stack(config: &SdkConfig, name: &str) -> Result<Option<DeployedStack>, String> {
    let client = counted_client!(aws_sdk_cloudformation, config);
    let described = match client.describe_stacks().stack_name(name).send().await {
        Ok(described) => described,
        Err(error) => {
            let error = error.into_service_error();
            let missing = error.code() == Some("ValidationError")
                && error.message().is_some_and(|m| m.contains("does not exist"));
            return if missing { Ok(None) } else { Err(said("DescribeStacks", &error)) };
        }
    };
    let Some(stack) = described.stacks().first() else { return Ok(None) };
    let outputs = stack
        .outputs()
        .iter()
        .filter_map(|o| Some((o.output_key()?.to_string(), o.output_value()?.to_string())))
        .collect();
    let pages = client.list_stack_resources().stack_name(name).into_paginator().items().send();
    let summaries = pages.collect::<Result<Vec<_>, _>>().await;
    let summaries = summaries.map_err(|e| said("ListStackResources", &e.into_service_error()))?;
    let resources = summaries
        .iter()
        .map(|r| StackResource {
            logical_id: r.logical_resource_id().unwrap_or_default().to_string(),
            kind: r.resource_type().unwrap_or_default().to_string(),
            physical_id: r.physical_resource_id().unwrap_or_default().to_string(),
        })
        .collect();
    let status = stack.stack_status().map(|s| s.as_str().to_string()).unwrap_or_default();
    Ok(Some(DeployedStack { status, outputs, resources }))
}

/// The bus and name of a rule from its physical ID: the rule's name on the default bus, `BUS|NAME` on another,
/// or its ARN (`arn:...:rule/[BUS/]NAME`).
fn rule_of(physical_id: &str) -> (Option<&str>, &str) {
    if let Some((bus, name)) = physical_id.split_once('|') {
        return (Some(bus), name);
    }
    match physical_id.strip_prefix("arn:").and_then(|_| physical_id.split_once(":rule/")) {
        Some((_, path)) => match path.rsplit_once('/') {
            Some((bus, name)) => (Some(bus), name),
            None => (None, path),
        },
        None => (None, physical_id),
    }
}

/// The stack's EventBridge rules and SQS event source mappings, each with whether it is enabled, or gone (the
/// service answers `ResourceNotFoundException` for a rule or mapping deleted outside CloudFormation).
pub async fn triggers(config: &SdkConfig, stack: &DeployedStack) -> Result<Vec<Trigger>, String> {
    let events = counted_client!(aws_sdk_eventbridge, config);
    let mut triggers = Vec::new();
    for rule in stack.of_kind("AWS::Events::Rule") {
        let (bus, name) = rule_of(&rule.physical_id);
        let described = events.describe_rule().name(name).set_event_bus_name(bus.map(str::to_string)).send().await;
        let described = match described.map_err(|e| e.into_service_error()) {
            Ok(described) => described,
            Err(error) if error.is_resource_not_found_exception() => {
                // The template's rule, whatever it routes.
                let kind = TriggerKind::EventRule;
                triggers.push(Trigger { name: name.to_string(), kind, state: TriggerState::Gone });
                continue;
            }
            Err(error) => return Err(said("DescribeRule", &error)),
        };
        let kind = match described.schedule_expression() {
            Some(_) => TriggerKind::Schedule,
            None => TriggerKind::EventRule,
        };
        // ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS is enabled too (EventBridge API reference, `Rule`).
        let state = match described.state() {
            Some(RuleState::Disabled) | None => TriggerState::Disabled,
            Some(_) => TriggerState::Enabled,
        };
        triggers.push(Trigger { name: name.to_string(), kind, state });
    }
    let lambda = counted_client!(aws_sdk_lambda, config);
    for mapping in stack.of_kind("AWS::Lambda::EventSourceMapping") {
        let described = lambda.get_event_source_mapping().uuid(&mapping.physical_id).send().await;
        // States: Creating, Enabling, Enabled, Disabling, Disabled, Updating, Deleting (Lambda API reference).
        let state = match described.map_err(|e| e.into_service_error()) {
            Ok(described) => match described.state() {
                Some("Enabled" | "Enabling" | "Updating" | "Creating") => TriggerState::Enabled,
                _ => TriggerState::Disabled,
            },
            Err(error) if error.is_resource_not_found_exception() => TriggerState::Gone,
            Err(error) => return Err(said("GetEventSourceMapping", &error)),
        };
        triggers.push(Trigger { name: mapping.physical_id.clone(), kind: TriggerKind::Queue, state });
    }
    Ok(triggers)
}

/// How many messages wait in the queue at `url` (`ApproximateNumberOfMessages`).
pub async fn queue_messages(config: &SdkConfig, url: &str) -> Result<u64, String> {
    let client = counted_client!(aws_sdk_sqs, config);
    let name = QueueAttributeName::ApproximateNumberOfMessages;
    let answer = client.get_queue_attributes().queue_url(url).attribute_names(name.clone()).send().await;
    let answer = answer.map_err(|e| said("GetQueueAttributes", &e.into_service_error()))?;
    let count = answer.attributes().and_then(|attributes| attributes.get(&name)).and_then(|n| n.parse().ok());
    Ok(count.unwrap_or(0))
}

/// The metrics read for each function: (namespace, metric, dimension) and which field they fill.
const FUNCTION_METRICS: [(&str, &str, &str); 4] = [
    ("AWS/Lambda", "Invocations", "FunctionName"),
    ("AWS/Lambda", "Errors", "FunctionName"),
    ("ecr-warden", "RepositoriesFailed", "Function"),
    ("ecr-warden", "AlertSinkFailures", "Function"),
];

/// Each function's invocations and failures over the last `hours`, summed (one `GetMetricData` call a page;
/// 4 queries a function, at most 500 a call).
pub async fn function_health(config: &SdkConfig, names: &[String], hours: u32) -> Result<Vec<FunctionHealth>, String> {
    let client = counted_client!(aws_sdk_cloudwatch, config);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or(Duration::ZERO).as_secs();
    // Whole minutes: a period is a multiple of 60 seconds (CloudWatch API reference, `MetricStat`).
    let end = now - now % 60 + 60;
    let seconds = i32::try_from(u64::from(hours) * 3600).unwrap_or(i32::MAX);
    let mut queries = Vec::new();
    for (index, name) in names.iter().enumerate() {
        for (which, (namespace, metric, dimension)) in FUNCTION_METRICS.iter().enumerate() {
            let metric = Metric::builder()
                .namespace(*namespace)
                .metric_name(*metric)
                .dimensions(Dimension::builder().name(*dimension).value(name).build())
                .build();
            let stat = MetricStat::builder().metric(metric).period(seconds).stat("Sum").build();
            queries.push(MetricDataQuery::builder().id(format!("f{index}m{which}")).metric_stat(stat).build());
        }
    }
    let mut health: Vec<FunctionHealth> =
        names.iter().map(|name| FunctionHealth { name: name.clone(), ..Default::default() }).collect();
    for chunk in queries.chunks(500) {
        let pages = client
            .get_metric_data()
            .set_metric_data_queries(Some(chunk.to_vec()))
            .start_time(DateTime::from_secs((end - u64::from(hours) * 3600) as i64))
            .end_time(DateTime::from_secs(end as i64))
            .into_paginator()
            .send();
        let pages = pages.collect::<Result<Vec<_>, _>>().await;
        let pages = pages.map_err(|e| said("GetMetricData", &e.into_service_error()))?;
        for result in pages.iter().flat_map(|page| page.metric_data_results()) {
            let Some((index, which)) = result.id().and_then(query_of) else { continue };
            let Some(function) = health.get_mut(index) else { continue };
            let sum: f64 = result.values().iter().sum();
            match which {
                0 => function.invocations += sum,
                1 => function.failed += sum,
                2 => function.repositories_failed += sum,
                _ => function.alerts_lost += sum,
            }
        }
    }
    Ok(health)
}

/// The function and metric indexes of a query ID `f{function}m{metric}`.
fn query_of(id: &str) -> Option<(usize, usize)> {
    let (function, metric) = id.strip_prefix('f')?.split_once('m')?;
    Some((function.parse().ok()?, metric.parse().ok()?))
}

/// Whether the IAM role `name` exists (`GetRole` answers `NoSuchEntity` when it doesn't).
pub async fn role_exists(config: &SdkConfig, name: &str) -> Result<bool, String> {
    let client = counted_client!(aws_sdk_iam, config);
    let answer = client.get_role().role_name(name).send().await;
    super::exists("GetRole", "NoSuchEntity", answer.map_err(|e| e.into_service_error()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rule_is_found_from_its_physical_id() {
        assert_eq!(rule_of("stack-Pushes-1AB"), (None, "stack-Pushes-1AB"));
        assert_eq!(rule_of("alerts|stack-Pushes-1AB"), (Some("alerts"), "stack-Pushes-1AB"));
        assert_eq!(rule_of("arn:aws:events:eu-west-1:123456789012:rule/pushes"), (None, "pushes"));
        assert_eq!(rule_of("arn:aws:events:eu-west-1:123456789012:rule/alerts/pushes"), (Some("alerts"), "pushes"));
    }

    #[test]
    fn query_ids_name_their_function_and_metric() {
        assert_eq!(query_of("f12m3"), Some((12, 3)));
        assert_eq!(query_of("x1m1"), None);
    }
}
