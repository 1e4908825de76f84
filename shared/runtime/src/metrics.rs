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
//!   `Error`: how many repositories the control found in that state.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};
use warden_core::report::{Outcome, Status, Summary};

use warden_aws::api_calls::ApiCalls;

use crate::handle::Handled;

/// The CloudWatch namespace.
pub const NAMESPACE: &str = "ecr-warden";

/// What one invocation did, as the metrics see it.
#[derive(Debug, Clone, Copy)]
pub struct Invocation<'a> {
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
pub fn documents(invocation: &Invocation) -> Vec<Value> {
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
                    per_control.push(document(function, Some(control.as_str()), &counts, timestamp_ms));
                }
            }
        }
        let alerts = handled.alerts();
        totals.insert("AlertsSent", alerts.iter().filter(|d| !d.sent_to.is_empty()).count() as f64);
        totals.insert("AlertSinkFailures", alerts.iter().map(|d| d.failed.len()).sum::<usize>() as f64);
        if let Some(exported) = handled.security_hub() {
            totals.insert("SecurityHubActive", exported.active as f64);
            totals.insert("SecurityHubResolved", exported.resolved as f64);
        }
    }
    let mut all = vec![document(function, None, &totals, timestamp_ms)];
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
        Handled::Scan { .. } | Handled::FannedOut { .. } | Handled::Ignored { .. } => None,
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

/// One EMF document: the metadata naming the metrics and their dimensions, then the values.
fn document(function: &str, control: Option<&str>, values: &BTreeMap<&str, f64>, timestamp_ms: i64) -> Value {
    let dimensions: Vec<&str> = if control.is_some() { vec!["Function", "Control"] } else { vec!["Function"] };
    let metrics: Vec<Value> = values.keys().map(|name| json!({"Name": name, "Unit": "Count"})).collect();
    let mut document = Map::new();
    document.insert(
        "_aws".into(),
        json!({
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{"Namespace": NAMESPACE, "Dimensions": [dimensions], "Metrics": metrics}],
        }),
    );
    document.insert("Function".into(), Value::from(function));
    if let Some(control) = control {
        document.insert("Control".into(), Value::from(control));
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
        let controls = statuses
            .iter()
            .map(|(control, status)| ControlReport {
                control: *control,
                status: *status,
                finding: None,
                remedy: None,
                actions: vec![],
                error: None,
                lifecycle_impact: None,
            })
            .collect();
        let report = RepositoryReport { repository: "app".into(), outcome: Outcome::Governed, reason: None, controls };
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
