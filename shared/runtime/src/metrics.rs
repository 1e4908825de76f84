//! CloudWatch metrics in the Embedded Metric Format (EMF): after each invocation a function prints a few JSON
//! lines on standard output (logs go to standard error); Lambda ships them to CloudWatch Logs, where
//! CloudWatch turns them into metrics. No `PutMetricData` call, no extra permission, nothing to batch.
//!
//! A small writer rather than a crate: the format is a handful of keys, and a report's counts map onto it
//! directly. Namespace `ecr-warden`; every metric has the dimension `Function` (the Lambda function's name):
//!
//! - per invocation: `Invocations`, `ColdStart` (1 on a container's first invocation), `Errors` (the
//!   invocation failed, so Lambda retries it), `RepositoriesEvaluated`, `RepositoriesFailed`, `AlertsSent`,
//!   `AlertSinkFailures`, `SecurityHubActive`, `SecurityHubResolved`, `ApiCalls` (AWS API requests, retries
//!   included) and `ApiThrottled` (those the service throttled; see [`warden_aws::api_calls`]);
//! - per control (dimensions `Function`, `Control`): `Compliant`, `Fixed`, `Pending`, `Drift`, `Violation`,
//!   `Error`: how many repositories the control found in that state;
//! - per sink and severity (dimensions `Function`, `Sink`, `Severity`): `AlertsSent`, `AlertSinkFailures`, the
//!   sink being `sns` or `eventbridge`.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use warden_core::report::{Outcome, Status, Summary};

use warden_aws::api_calls::ApiCalls;

use crate::alerts::Delivery;
use crate::handle::Handled;

/// The CloudWatch namespace.
pub(crate) const NAMESPACE: &str = "ecr-warden";

/// What one invocation did, as the metrics see it.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Invocation<'a> {
    /// The Lambda function's name.
    pub function: &'a str,
    /// What it handled; `None` when it failed.
    pub handled: Option<&'a Handled>,
    /// Whether it was the container's first invocation.
    pub cold_start: bool,
    /// The AWS API calls it made.
    pub api_calls: ApiCalls,
    /// When it ended (milliseconds since the Unix epoch).
    pub timestamp_ms: i64,
}

/// The EMF documents for one invocation.
pub(crate) fn documents(invocation: &Invocation) -> Vec<Value> {
    let Invocation { function, handled, cold_start, api_calls, timestamp_ms } = *invocation;
    let mut totals: BTreeMap<&str, f64> = BTreeMap::from([
        ("Invocations", 1.0),
        ("ColdStart", f64::from(u8::from(cold_start))),
        ("Errors", f64::from(u8::from(handled.is_none()))),
        ("ApiCalls", api_calls.attempts as f64),
        ("ApiThrottled", api_calls.throttled as f64),
    ]);
    let mut per_control = Vec::new();
    if let Some(handled) = handled {
        if let Some(summary) = summary(handled) {
            totals.insert("RepositoriesEvaluated", summary.repositories as f64);
            let failed = summary.outcomes.get(&Outcome::Error).copied().unwrap_or_default();
            totals.insert("RepositoriesFailed", failed as f64);
            for (control, statuses) in &summary.controls {
                let counts: BTreeMap<&str, f64> = statuses
                    .iter()
                    .filter(|(status, _)| **status != Status::Off)
                    .map(|(status, n)| (status_metric(*status), *n as f64))
                    .collect();
                if !counts.is_empty() {
                    let dimensions = [("Function", function), ("Control", control.as_str())];
                    per_control.push(document(&dimensions, &counts, timestamp_ms));
                }
            }
        }
        let alerts = handled.alerts();
        per_control.extend(per_sink(function, alerts, timestamp_ms));
        totals.insert("AlertsSent", alerts.iter().filter(|d| !d.sent_to.is_empty()).count() as f64);
        totals.insert("AlertSinkFailures", alerts.iter().map(|d| d.failed.len()).sum::<usize>() as f64);
        if let Some(exported) = handled.security_hub() {
            totals.insert("SecurityHubActive", exported.active as f64);
            totals.insert("SecurityHubResolved", exported.resolved as f64);
        }
    }
    let mut all = vec![document(&[("Function", function)], &totals, timestamp_ms)];
    all.extend(per_control);
    all
}

/// The counts of what was governed, where the invocation governed anything.
fn summary(handled: &Handled) -> Option<Summary> {
    match handled {
        Handled::Repository { report, .. } => Some(Summary::of(std::slice::from_ref(report))),
        Handled::Image { report, .. } => Some(Summary::of(std::slice::from_ref(&report.governance))),
        Handled::Backfill { report, .. } => Some(report.summary.clone()),
        Handled::Work(report) => Some(report.summary.clone()),
        Handled::Registry { .. } | Handled::Scan { .. } | Handled::FannedOut { .. } | Handled::Ignored { .. } => None,
    }
}

fn status_metric(status: Status) -> &'static str {
    match status {
        Status::Compliant => "Compliant",
        Status::Fixed => "Fixed",
        Status::Pending => "Pending",
        Status::Drift => "Drift",
        Status::Violation => "Violation",
        Status::Off => "Off",
        Status::Error => "Error",
    }
}

/// One document per sink kind and alert severity: alerts sent there and failures to send.
fn per_sink(function: &str, alerts: &[Delivery], timestamp_ms: i64) -> Vec<Value> {
    let mut counts: BTreeMap<(String, &str), BTreeMap<&str, f64>> = BTreeMap::new();
    let kind = |sink: &str| sink.split(':').next().unwrap_or(sink).to_string();
    for delivery in alerts {
        let severity = delivery.alert.severity.as_str();
        for sink in &delivery.sent_to {
            *counts.entry((kind(sink), severity)).or_default().entry("AlertsSent").or_default() += 1.0;
        }
        for failure in &delivery.failed {
            *counts.entry((kind(&failure.sink), severity)).or_default().entry("AlertSinkFailures").or_default() += 1.0;
        }
    }
    counts
        .iter()
        .map(|((sink, severity), values)| {
            document(&[("Function", function), ("Sink", sink), ("Severity", severity)], values, timestamp_ms)
        })
        .collect()
}

/// One EMF document: the metadata naming the metrics and their dimensions, then the dimensions' and the
/// metrics' values.
fn document(dimensions: &[(&str, &str)], values: &BTreeMap<&str, f64>, timestamp_ms: i64) -> Value {
    let names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let metrics: Vec<Value> = values.keys().map(|name| json!({"Name": name, "Unit": "Count"})).collect();
    let mut document = Map::new();
    document.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [names], "Metrics": metrics}],
        }),
    );
    for (name, value) in dimensions {
        document.insert((*name).into(), Value::from(*value));
    }
    for (name, value) in values {
        document.insert((*name).into(), Value::from(*value));
    }
    Value::Object(document)
}

#[cfg(test)]
mod tests {
    use warden_core::controls::ControlId;
    use warden_core::report::{ControlReport, RepositoryReport};

    use super::*;

    fn governed(statuses: &[(ControlId, Status)]) -> Handled {
        let controls = statuses.iter().map(|(control, status)| ControlReport::new(*control, *status)).collect();
        let report = RepositoryReport {
            repository: "app".into(),
            outcome: Outcome::Governed,
            reason: None,
            exemption: None,
            vulnerabilities: None,
            controls,
        };
        Handled::Repository {
            because: "CreateRepository".into(),
            report,
            registry: vec![],
            alerts: vec![],
            security_hub: None,
        }
    }

    #[test]
    fn an_invocation_is_one_document_of_totals_and_one_per_control() {
        let handled = governed(&[
            (ControlId::TagMutability, Status::Fixed),
            (ControlId::Encryption, Status::Violation),
            (ControlId::Tags, Status::Off),
        ]);
        let docs = documents(&Invocation {
            function: "repository-events",
            handled: Some(&handled),
            cold_start: true,
            api_calls: ApiCalls { attempts: 7, throttled: 2 },
            timestamp_ms: 1_700_000_000_000,
        });
        assert_eq!(docs.len(), 3, "totals, tag-mutability, encryption (off controls say nothing): {docs:#?}");
        let totals = &docs[0];
        assert_eq!(totals["_aws"]["Timestamp"], 1_700_000_000_000_i64);
        let directive = &totals["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(directive["Namespace"], "ecr-warden");
        assert_eq!(directive["Dimensions"], json!([["Function"]]));
        assert_eq!(totals["Function"], "repository-events");
        assert_eq!((totals["ColdStart"].as_f64(), totals["Errors"].as_f64()), (Some(1.0), Some(0.0)));
        assert_eq!(totals["RepositoriesEvaluated"].as_f64(), Some(1.0));
        assert_eq!((totals["ApiCalls"].as_f64(), totals["ApiThrottled"].as_f64()), (Some(7.0), Some(2.0)));
        // Every metric named in the directive has a value in the document, as EMF requires.
        for metric in directive["Metrics"].as_array().expect("metrics") {
            let name = metric["Name"].as_str().expect("name");
            assert!(totals[name].is_number(), "{name} has no value");
        }
        let encryption = docs.iter().find(|d| d["Control"] == "encryption").expect("encryption document");
        assert_eq!(encryption["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Function", "Control"]]));
        assert_eq!(encryption["Violation"].as_f64(), Some(1.0));
        assert!(encryption.get("Fixed").is_none());
    }

    #[test]
    fn alerts_are_counted_by_sink_kind_and_severity() {
        use warden_core::alert::{Alert, GovernanceFinding, Origin};
        use warden_core::vulnerabilities::Severity;

        use crate::alerts::SinkFailure;

        let origin = Origin { account: "123456789012".into(), region: "us-east-1".into() };
        let finding =
            GovernanceFinding { control: "encryption".into(), severity: Severity::High, text: "AES256".into() };
        let alert = Alert::governance(&origin, "app", None, vec![finding]).expect("an alert");
        let mut handled = governed(&[(ControlId::Encryption, Status::Violation)]);
        if let Handled::Repository { alerts, .. } = &mut handled {
            alerts.push(Delivery {
                alert,
                sent_to: vec!["sns:arn:aws:sns:us-east-1:123456789012:alerts".into(), "eventbridge:alerts".into()],
                failed: vec![SinkFailure { sink: "eventbridge:other".into(), error: "AccessDenied".into() }],
                dry_run: false,
            });
        }
        let docs = documents(&Invocation {
            function: "repository-events",
            handled: Some(&handled),
            cold_start: false,
            api_calls: ApiCalls::default(),
            timestamp_ms: 0,
        });
        let by_sink =
            |sink: &str| docs.iter().find(|d| d["Sink"] == sink).unwrap_or_else(|| panic!("{sink}: {docs:#?}"));
        let sns = by_sink("sns");
        assert_eq!(sns["_aws"]["CloudWatchMetrics"][0]["Dimensions"], json!([["Function", "Sink", "Severity"]]));
        assert_eq!((sns["Severity"].as_str(), sns["AlertsSent"].as_f64()), (Some("HIGH"), Some(1.0)));
        let eventbridge = by_sink("eventbridge");
        assert_eq!(
            (eventbridge["AlertsSent"].as_f64(), eventbridge["AlertSinkFailures"].as_f64()),
            (Some(1.0), Some(1.0))
        );
        assert_eq!((docs[0]["AlertsSent"].as_f64(), docs[0]["AlertSinkFailures"].as_f64()), (Some(1.0), Some(1.0)));
    }

    #[test]
    fn a_failed_invocation_counts_an_error_and_nothing_else() {
        let docs = documents(&Invocation {
            function: "backfill",
            handled: None,
            cold_start: false,
            api_calls: ApiCalls::default(),
            timestamp_ms: 0,
        });
        assert_eq!(docs.len(), 1);
        assert_eq!((docs[0]["Errors"].as_f64(), docs[0]["Invocations"].as_f64()), (Some(1.0), Some(1.0)));
        assert!(docs[0].get("RepositoriesEvaluated").is_none());
    }
}
