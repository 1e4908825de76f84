//! A Lambda function's whole life: at init, logging, the SDK configuration, the baseline and the client
//! are set up once; then every invocation goes through [`Handler::handle`], in a log span carrying the event's
//! id (lambda_runtime's own span carries the request id).
//!
//! Configuration (environment): `ECR_WARDEN_BASELINE` (file or `ssm:<name>`; default: built-in),
//! `ECR_WARDEN_MODE` (`enforce` or `audit`), `ECR_WARDEN_ROLE_ARN` (the function's own role: its calls
//! are ignored), `ECR_WARDEN_DRY_RUN=true` (plan only, for a trial deployment), `ECR_WARDEN_ALERT_TOPIC_ARN`
//! and `ECR_WARDEN_ALERT_BUS` (alert sinks; win over the baseline's `[alerts]`), `ECR_WARDEN_WORK_QUEUE_URL` (where
//! a backfill with `"fanOut": true` sends its work), `ECR_WARDEN_TAGS_FROM=tagging-api` (a backfill reads tags 100
//! repositories a call with `tag:GetResources`; grant it first), `ECR_WARDEN_MEMBER_ROLE` (organization mode: the
//! role assumed in every member account, the `organization` module; `ECR_WARDEN_MEMBER_EXTERNAL_ID` if the role
//! requires an external ID; `ECR_WARDEN_REGIONS`, the regions an organization-wide backfill covers by default). After each invocation the function prints its
//! CloudWatch metrics on standard output (the `metrics` module).

use lambda_runtime::{service_fn, Diagnostic, LambdaEvent};
use serde_json::Value;
use tracing::field::Empty;
use tracing::Instrument;
use warden_aws::securityhub::SecurityHub;
use warden_aws::{sdk_config, EcrRegistry, SdkConfig, SqsWorkQueue};
use warden_core::alert::Origin;
use warden_core::baseline::Baseline;
use warden_core::securityhub::FindingsHub;
use warden_core::work::WorkQueue;

use crate::account_baseline::AccountBaselines;
use crate::alerts::Alerts;
use crate::baseline_source::BaselineSource;
use crate::event::LoopGuard;
use crate::handle::{Handler, Purpose};
use crate::logging::{self, LogFormat};
use crate::metrics;
use crate::organization::OrganizationMode;

/// Runs a Lambda function that handles the events of `purpose` until the runtime stops it.
pub async fn serve(purpose: Purpose) -> Result<(), lambda_runtime::Error> {
    logging::init(LogFormat::Json, "info");
    let config = sdk_config().await?;
    let baseline = BaselineSource::from_env(None).load(&config).await?;
    let services = Services::from_env(&config, &baseline)?;
    let dry_run = std::env::var("ECR_WARDEN_DRY_RUN").is_ok_and(|v| v == "true");
    let handler = services.handler(purpose, &baseline);
    let registry = &services.registry;
    let function = std::env::var("AWS_LAMBDA_FUNCTION_NAME").unwrap_or_else(|_| "ecr-warden".to_string());
    let first = std::sync::atomic::AtomicBool::new(true);
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let (handler, function, first) = (&handler, &function, &first);
        async move {
            // lambda_runtime's own span gives every line the `requestId`; this one adds the event's id.
            let span = tracing::info_span!("invocation", event_id = Empty);
            if let Some(id) = event.payload.get("id").and_then(Value::as_str) {
                span.record("event_id", id);
            }
            // The ARN the function was invoked by says which registry it serves: no call to find out.
            if let Some(home) = Origin::of_function_arn(&event.context.invoked_function_arn) {
                registry.set_home(home);
            }
            let handled = handler.handle(&event.payload, dry_run).instrument(span).await;
            let cold_start = first.swap(false, std::sync::atomic::Ordering::Relaxed);
            let now_ms = warden_core::clock::now_ms();
            let invocation = metrics::Invocation {
                function,
                handled: handled.as_ref().ok(),
                cold_start,
                api_calls: warden_aws::api_calls::take(),
                timestamp_ms: now_ms,
            };
            for document in metrics::documents(&invocation) {
                println!("{document}");
            }
            let handled = handled.map_err(Diagnostic::from)?;
            serde_json::to_value(handled).map_err(|error| Diagnostic {
                error_type: "Unserializable".to_string(),
                error_message: format!("the answer couldn't be written as JSON: {error}"),
            })
        }
    }))
    .await
}

/// What a [`Handler`] works with, built once per process the same way for every Lambda function and for
/// `ecr-warden handle`: the registry (tags in bulk with `ECR_WARDEN_TAGS_FROM=tagging-api`), the loop guard
/// (`ECR_WARDEN_ROLE_ARN`), the alert sinks, the work queue (`ECR_WARDEN_WORK_QUEUE_URL`) and Security Hub when
/// the baseline sends findings there.
pub struct Services {
    /// The registry.
    pub registry: EcrRegistry,
    guard: LoopGuard,
    alerts: Alerts,
    queue: Option<SqsWorkQueue>,
    security_hub: Option<SecurityHub>,
    organization: Option<OrganizationMode>,
    accounts: AccountBaselines,
}

impl Services {
    /// Builds them from `config`, the environment and the baseline's `[alerts]`; an error names a bad variable.
    pub fn from_env(config: &SdkConfig, baseline: &Baseline) -> Result<Self, String> {
        let tags_in_bulk = match std::env::var("ECR_WARDEN_TAGS_FROM").unwrap_or_default().as_str() {
            "" | "list-tags" => false,
            "tagging-api" => true,
            other => return Err(format!("ECR_WARDEN_TAGS_FROM must be list-tags or tagging-api, not {other:?}")),
        };
        let registry = match tags_in_bulk {
            true => EcrRegistry::new(config).with_tags_in_bulk(config),
            false => EcrRegistry::new(config),
        };
        let security_hub = baseline.alerts.security_hub;
        let organization = OrganizationMode::from_env(config, tags_in_bulk, security_hub)?;
        let mut guard = LoopGuard::new(std::env::var("ECR_WARDEN_ROLE_ARN").ok());
        if let Some(organization) = &organization {
            guard = guard.with_member_role(organization.role_name());
        }
        Ok(Self {
            registry,
            guard,
            alerts: Alerts::from_env(config, &baseline.alerts),
            queue: work_queue_from_env(config),
            security_hub: security_hub.then(|| SecurityHub::new(config)),
            organization,
            accounts: AccountBaselines::new(config),
        })
    }

    /// The handler for `purpose` over these services and `baseline`.
    pub fn handler<'a>(&'a self, purpose: Purpose, baseline: &'a Baseline) -> Handler<'a> {
        Handler {
            purpose,
            registry: &self.registry,
            baseline,
            guard: &self.guard,
            alerts: &self.alerts,
            work_queue: self.queue.as_ref().map(|q| q as &dyn WorkQueue),
            findings_hub: self.security_hub.as_ref().map(|hub| hub as &dyn FindingsHub),
            organization: self.organization.as_ref(),
            accounts: Some(&self.accounts),
        }
    }
}

/// The work queue named by `ECR_WARDEN_WORK_QUEUE_URL`, if set and not empty.
pub(crate) fn work_queue_from_env(config: &SdkConfig) -> Option<SqsWorkQueue> {
    std::env::var("ECR_WARDEN_WORK_QUEUE_URL")
        .ok()
        .filter(|url| !url.is_empty())
        .map(|url| SqsWorkQueue::new(config, url))
}
