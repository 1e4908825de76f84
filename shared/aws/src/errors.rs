//! Turning SDK errors into what a person reads: one line saying what failed, where and why, never the SDK's
//! debug dump. "Not found" and throttling are told apart from every other failure for the core.

use std::error::Error;
use std::sync::OnceLock;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use warden_core::registry::RegistryError;
use warden_core::sink::SinkError;

use crate::SdkConfig;

/// ECR error codes that mean "the thing asked about isn't there".
pub(crate) const REPOSITORY_NOT_FOUND: &str = "RepositoryNotFoundException";

/// Where calls go, for messages: `at http://...` with `AWS_ENDPOINT_URL`, else `in REGION`.
static PLACE: OnceLock<String> = OnceLock::new();

/// Remembers where the SDK sends calls, so that a connection failure can say so.
pub(crate) fn remember_place(config: &SdkConfig) {
    let place = match (config.endpoint_url(), config.region()) {
        (Some(url), _) => format!("at {url}"),
        (None, Some(region)) => format!("in {region}"),
        (None, None) => "(no region is configured: set AWS_REGION)".to_string(),
    };
    let _ = PLACE.set(place);
}

/// Maps an SDK error of the ECR `operation` on `repository`.
pub(crate) fn registry_error<E>(operation: &str, repository: &str, error: SdkError<E, HttpResponse>) -> RegistryError
where
    E: ProvideErrorMetadata + Error + 'static,
{
    match error.code() {
        Some(REPOSITORY_NOT_FOUND) => RegistryError::NotFound(repository.to_string()),
        _ if throttled(&error) => {
            RegistryError::Throttled { operation: operation.to_string(), message: message("ECR", &error) }
        }
        _ => RegistryError::Failed { operation: operation.to_string(), message: message("ECR", &error) },
    }
}

/// Maps an SDK error of a call to `service` made to deliver something (an alert, findings, work messages).
pub(crate) fn sink_error<E>(service: &'static str, error: &SdkError<E, HttpResponse>) -> SinkError
where
    E: ProvideErrorMetadata + Error + 'static,
{
    SinkError::Call { service, throttled: throttled(error), message: message(service, error) }
}

/// Whether the service was asking to slow down: one of the SDK's throttling codes, or HTTP 429.
fn throttled<E>(error: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata + Error + 'static,
{
    error.raw_response().is_some_and(|r| r.status().as_u16() == 429)
        || error.code().is_some_and(crate::api_calls::is_throttling_code)
}

/// One line for people about a failed call to `service`: the service's error code and message; or that it
/// couldn't be reached, didn't answer in time or sent an unreadable answer, and where; or that no
/// credentials were found, and how to give some.
pub(crate) fn message<E>(service: &str, error: &SdkError<E, HttpResponse>) -> String
where
    E: ProvideErrorMetadata + Error + 'static,
{
    let place = PLACE.get().map_or("at its endpoint", String::as_str);
    let status = || error.raw_response().map(|r| r.status().as_u16()).unwrap_or_default();
    match error {
        SdkError::ServiceError(_) => match (error.code(), error.message()) {
            (Some(code), Some(text)) => format!("{code}: {}", one_line(text)),
            (Some(code), None) => code.to_string(),
            _ => format!("{service} {place} refused the call (HTTP {})", status()),
        },
        SdkError::TimeoutError(_) => format!("{service} {place} didn't answer in time (ECR_WARDEN_TIMEOUT_SECONDS)"),
        SdkError::DispatchFailure(failure) => {
            if let Some(problem) = credentials_problem(error) {
                return problem;
            }
            let cause = root_cause(error);
            if failure.is_timeout() {
                format!("{service} {place} didn't answer in time: {cause}")
            } else if failure.is_io() {
                format!("can't reach {service} {place}: {cause}")
            } else {
                format!("the call to {service} {place} failed: {cause}")
            }
        }
        SdkError::ResponseError(_) => {
            format!("{service} {place} sent an answer that can't be read (HTTP {}): {}", status(), root_cause(error))
        }
        _ => format!("the call to {service} couldn't be made: {}", root_cause(error)),
    }
}

/// Why credentials couldn't be had, when that is why the call failed.
fn credentials_problem(error: &(dyn Error + 'static)) -> Option<String> {
    let mut source = Some(error);
    while let Some(current) = source {
        if let Some(credentials) = current.downcast_ref::<CredentialsError>() {
            let cause = match credentials {
                CredentialsError::CredentialsNotLoaded(_) => "no AWS credentials were found".to_string(),
                other => format!("no usable AWS credentials ({})", root_cause(other)),
            };
            return Some(format!(
                "{cause}: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or run where a role \
                 provides them"
            ));
        }
        source = current.source();
    }
    None
}

/// Why credentials couldn't be had (an assumed role refused, say), in one line: the innermost cause.
pub(crate) fn credentials_reason(error: &CredentialsError) -> String {
    root_cause(error)
}

/// The innermost cause in an error's chain, as one line.
fn root_cause(error: &(dyn Error + 'static)) -> String {
    let mut innermost = error;
    while let Some(source) = innermost.source() {
        innermost = source;
    }
    one_line(&innermost.to_string())
}

/// Text on one line: line breaks become spaces, other control characters are escaped.
fn one_line(text: &str) -> String {
    let joined = text.split(['\n', '\r']).map(str::trim).filter(|l| !l.is_empty()).collect::<Vec<_>>().join(" ");
    warden_core::text::escaped(&joined)
}

/// A request that couldn't be built, or an answer without what it must hold, as a failure of `operation`.
pub(crate) fn build_error(operation: &str, error: impl std::fmt::Display) -> RegistryError {
    RegistryError::Failed { operation: operation.to_string(), message: error.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_single_and_controls_escaped() {
        assert_eq!(one_line("first\n  second\r\nthird\u{1b}[2J"), "first second third\\u{1b}[2J");
    }

    #[test]
    fn missing_credentials_say_how_to_give_some() {
        let error = CredentialsError::not_loaded("no providers in chain provided credentials");
        let found = credentials_problem(&error).expect("recognised");
        assert!(found.starts_with("no AWS credentials were found") && found.contains("AWS_PROFILE"), "{found}");
    }

    fn refused(
        status: u16,
        code: &str,
    ) -> SdkError<aws_sdk_ecr::operation::put_lifecycle_policy::PutLifecyclePolicyError, HttpResponse> {
        use aws_sdk_ecr::operation::put_lifecycle_policy::PutLifecyclePolicyError;
        use aws_smithy_types::error::ErrorMetadata;
        let raw = HttpResponse::new(status.try_into().expect("status"), aws_smithy_types::body::SdkBody::empty());
        SdkError::service_error(PutLifecyclePolicyError::generic(ErrorMetadata::builder().code(code).build()), raw)
    }

    /// One throttling classifier: the SDK's list of throttling codes (as the metrics count them) and HTTP 429, not
    /// three codes of our own.
    #[test]
    fn throttling_is_every_code_the_sdk_retries_as_throttling_and_429() {
        for (status, code) in
            [(400, "ThrottlingException"), (400, "RequestLimitExceeded"), (429, "SlowDown"), (429, "X")]
        {
            let error = registry_error("PutLifecyclePolicy", "app", refused(status, code));
            assert!(matches!(error, RegistryError::Throttled { .. }), "{status} {code}: {error:?}");
        }
        let error = registry_error("PutLifecyclePolicy", "app", refused(400, "InvalidParameterException"));
        assert!(matches!(error, RegistryError::Failed { .. }), "{error:?}");
        let error = registry_error("PutLifecyclePolicy", "app", refused(400, REPOSITORY_NOT_FOUND));
        assert_eq!(error, RegistryError::NotFound("app".into()));
    }

    /// Sends to sinks are classified by the same rule, and say what failed in one line.
    #[test]
    fn a_failed_send_is_typed_and_knows_throttling() {
        let error = sink_error("SNS", &refused(400, "ThrottlingException"));
        assert!(matches!(error, SinkError::Call { service: "SNS", throttled: true, .. }), "{error:?}");
        let error = sink_error("SQS", &refused(400, "AccessDenied"));
        assert!(matches!(error, SinkError::Call { throttled: false, .. }), "{error:?}");
        assert_eq!(error.to_string(), "AccessDenied");
    }
}
