//! Delivering alerts to every configured sink. Every sink is tried even when one fails; a failure is
//! reported so the function can return an error and Lambda retries (the alert's id keeps a retry
//! harmless for consumers that drop repeats).

use futures::future::join_all;
use serde::Serialize;
use tracing::{info, warn};
use warden_aws::alerts::{EventBusSink, SnsSink};
use warden_aws::SdkConfig;
use warden_core::alert::{Alert, AlertSink};
use warden_core::baseline::AlertTargets;

/// Environment variable naming the SNS topic; wins over the baseline's `alerts.sns_topic_arn`.
pub(crate) const TOPIC_ENV: &str = "ECR_WARDEN_ALERT_TOPIC_ARN";
/// Environment variable naming the EventBridge bus; wins over the baseline's `alerts.event_bus`.
pub(crate) const BUS_ENV: &str = "ECR_WARDEN_ALERT_BUS";

/// The SNS topic and the EventBridge bus alerts go to: `ECR_WARDEN_ALERT_TOPIC_ARN` and `ECR_WARDEN_ALERT_BUS`,
/// each falling back to the baseline's `[alerts]`; an empty variable counts as unset.
pub fn sinks_named(baseline: &AlertTargets) -> (Option<String>, Option<String>) {
    let pick = |name: &str, fallback: &Option<String>| {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty()).or_else(|| fallback.clone())
    };
    (pick(TOPIC_ENV, &baseline.sns_topic_arn), pick(BUS_ENV, &baseline.event_bus))
}

/// Where alerts go.
#[derive(Default)]
pub struct Alerts {
    sinks: Vec<Box<dyn AlertSink>>,
}

/// One sink that didn't take an alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SinkFailure {
    /// The sink.
    pub sink: String,
    /// Why.
    pub error: String,
}

/// One alert and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Delivery {
    /// The alert.
    pub alert: Alert,
    /// Sinks that took it.
    pub sent_to: Vec<String>,
    /// Sinks that didn't.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failed: Vec<SinkFailure>,
    /// Not sent: a dry run.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub dry_run: bool,
}

impl Alerts {
    /// Alerts going to `sinks`.
    pub fn new(sinks: Vec<Box<dyn AlertSink>>) -> Self {
        Self { sinks }
    }

    /// The sinks named by the environment (`ECR_WARDEN_ALERT_TOPIC_ARN`, `ECR_WARDEN_ALERT_BUS`), each
    /// falling back to the baseline's `[alerts]`; an empty variable counts as unset.
    pub fn from_env(config: &SdkConfig, baseline: &AlertTargets) -> Self {
        let (topic, bus) = sinks_named(baseline);
        let mut sinks: Vec<Box<dyn AlertSink>> = Vec::new();
        if let Some(topic) = topic {
            sinks.push(Box::new(SnsSink::new(config, topic)));
        }
        if let Some(bus) = bus {
            sinks.push(Box::new(EventBusSink::new(config, bus)));
        }
        Self { sinks }
    }

    /// Sends `alert` to every sink at once (or to none, in a dry run).
    pub async fn deliver(&self, alert: Alert, dry_run: bool) -> Delivery {
        if dry_run {
            return Delivery { alert, sent_to: Vec::new(), failed: Vec::new(), dry_run: true };
        }
        let results = join_all(self.sinks.iter().map(|sink| async {
            let result = sink.send(&alert).await;
            (sink.name(), result)
        }))
        .await;
        let (mut sent_to, mut failed) = (Vec::new(), Vec::new());
        for (sink, result) in results {
            match result {
                Ok(()) => {
                    info!(alert_id = %alert.id, %sink, "alert sent");
                    sent_to.push(sink);
                }
                Err(error) => {
                    warn!(alert_id = %alert.id, %sink, %error, "alert not sent");
                    failed.push(SinkFailure { sink, error: error.to_string() });
                }
            }
        }
        if self.sinks.is_empty() {
            warn!(alert_id = %alert.id, "no alert sink is configured: the alert is only in the function's answer");
        }
        Delivery { alert, sent_to, failed, dry_run: false }
    }
}
