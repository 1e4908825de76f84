//! One SDK configuration for every client.
//!
//! Region, credentials and endpoint come from the standard environment (`AWS_REGION`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL`, the Lambda execution role, ...). Retries use the SDK's *standard* mode: up to
//! 3 attempts (override with `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE`) with exponential back-off and jitter,
//! which absorbs the occasional `ThrottlingException` from ECR's control plane; a run over many repositories
//! also halves how many it governs at once when calls are throttled (`warden_core::pace`). The SDK's adaptive
//! mode (client-side rate limiting) is not the default because one invocation makes few calls; a registry
//! shared with other busy tools can opt in with `AWS_RETRY_MODE=adaptive`.
//!
//! Every attempt has a deadline: an endpoint that accepts a connection and never answers fails that call
//! after `ECR_WARDEN_TIMEOUT_SECONDS` (default 10; connecting gives up after at most 3.1 s), so a stuck call
//! fails its repository, not the whole run, and a function ends well inside its Lambda timeout.

use std::time::Duration;

use aws_config::timeout::TimeoutConfig;
use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;

/// The environment variable that sets each call attempt's deadline, in seconds.
pub const TIMEOUT_ENV: &str = "ECR_WARDEN_TIMEOUT_SECONDS";

/// An attempt's deadline unless [`TIMEOUT_ENV`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// The SDK's own connect timeout, kept (or the attempt deadline, if that is shorter).
const CONNECT_TIMEOUT: Duration = Duration::from_millis(3_100);

/// A setting in the environment that can't be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ConfigError(pub String);

/// Loads the shared SDK configuration from the environment.
pub async fn sdk_config() -> Result<SdkConfig, ConfigError> {
    let attempt = attempt_timeout(std::env::var(TIMEOUT_ENV).ok().as_deref())?;
    let timeouts = TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT.min(attempt))
        .operation_attempt_timeout(attempt)
        .build();
    let config = aws_config::defaults(BehaviorVersion::latest()).timeout_config(timeouts).load().await;
    crate::errors::remember_place(&config);
    Ok(config)
}

/// The attempt deadline from the environment variable's value: whole or decimal seconds, over 0 and at most
/// 900 (Lambda's longest run).
fn attempt_timeout(value: Option<&str>) -> Result<Duration, ConfigError> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else { return Ok(DEFAULT_TIMEOUT) };
    match value.parse::<f64>() {
        Ok(seconds) if seconds > 0.0 && seconds <= 900.0 => Ok(Duration::from_secs_f64(seconds)),
        _ => {
            Err(ConfigError(format!("{TIMEOUT_ENV} must be a number of seconds over 0 and at most 900, not `{value}`")))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_attempt_deadline_is_read_and_checked() {
        assert_eq!(attempt_timeout(None), Ok(DEFAULT_TIMEOUT));
        assert_eq!(attempt_timeout(Some("")), Ok(DEFAULT_TIMEOUT));
        assert_eq!(attempt_timeout(Some("2.5")), Ok(Duration::from_millis(2_500)));
        for bad in ["0", "-1", "ten", "901", "NaN"] {
            let error = attempt_timeout(Some(bad)).expect_err(bad);
            assert!(error.0.contains(TIMEOUT_ENV) && error.0.contains(bad), "{error}");
        }
    }
}
