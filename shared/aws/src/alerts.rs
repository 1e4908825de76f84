//! Alert sinks on AWS: an SNS topic (subject, readable body, filterable message attributes) and an
//! EventBridge bus (source `ecr-warden`, the alert as JSON `detail`).

use crate::api_calls::counted_client;
use async_trait::async_trait;
use aws_sdk_eventbridge::types::PutEventsRequestEntry;
use aws_sdk_sns::types::MessageAttributeValue;
use warden_core::alert::{Alert, AlertSink};
use warden_core::sink::SinkError;

use crate::SdkConfig;

/// The `source` of ecr-warden's events on a bus.
pub(crate) const EVENT_SOURCE: &str = "ecr-warden";

/// Publishes alerts to an SNS topic.
pub struct SnsSink {
    client: aws_sdk_sns::Client,
    topic_arn: String,
}

impl SnsSink {
    /// A sink publishing to `topic_arn`.
    pub fn new(config: &SdkConfig, topic_arn: impl Into<String>) -> Self {
        Self { client: counted_client!(aws_sdk_sns, config), topic_arn: topic_arn.into() }
    }
}

#[async_trait]
impl AlertSink for SnsSink {
    fn name(&self) -> String {
        format!("sns:{}", self.topic_arn)
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        let mut publish =
            self.client.publish().topic_arn(&self.topic_arn).subject(alert.subject()).message(alert.body());
        for (name, value) in alert.attributes() {
            let value = MessageAttributeValue::builder()
                .data_type("String")
                .string_value(value)
                .build()
                .map_err(|e| SinkError::Request(e.to_string()))?;
            publish = publish.message_attributes(name, value);
        }
        publish.send().await.map(|_| ()).map_err(|e| crate::errors::sink_error("SNS", &e))
    }
}

/// Puts alerts on an EventBridge bus.
pub struct EventBusSink {
    client: aws_sdk_eventbridge::Client,
    bus: String,
}

impl EventBusSink {
    /// A sink putting events on `bus` (a name or an ARN).
    pub fn new(config: &SdkConfig, bus: impl Into<String>) -> Self {
        Self { client: counted_client!(aws_sdk_eventbridge, config), bus: bus.into() }
    }
}

#[async_trait]
impl AlertSink for EventBusSink {
    fn name(&self) -> String {
        format!("eventbridge:{}", self.bus)
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        let detail = serde_json::to_string(alert).map_err(|e| SinkError::Request(e.to_string()))?;
        let entry = PutEventsRequestEntry::builder()
            .event_bus_name(&self.bus)
            .source(EVENT_SOURCE)
            .detail_type(alert.kind.detail_type())
            .resources(&alert.repository_arn)
            .detail(detail)
            .build();
        let output = self
            .client
            .put_events()
            .entries(entry)
            .send()
            .await
            .map_err(|e| crate::errors::sink_error("EventBridge", &e))?;
        // PutEvents answers 200 even when an entry was refused: the entry says why.
        match output.entries().iter().find(|e| e.error_code().is_some()) {
            Some(failed) => Err(SinkError::PartlyRefused(format!(
                "PutEvents refused the event: {}: {}",
                failed.error_code().unwrap_or_default(),
                failed.error_message().unwrap_or_default()
            ))),
            None if output.failed_entry_count() > 0 => {
                Err(SinkError::PartlyRefused("PutEvents refused the event".to_string()))
            }
            None => Ok(()),
        }
    }
}
