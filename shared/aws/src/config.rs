//! One SDK configuration for every client.
//!
//! Region, credentials and endpoint come from the standard environment (`AWS_REGION`, `AWS_PROFILE`,
//! `AWS_ENDPOINT_URL`, the Lambda execution role, ...). Retries use the SDK's *standard* mode: up to
//! 3 attempts (override with `AWS_MAX_ATTEMPTS` / `AWS_RETRY_MODE`) with exponential back-off and jitter,
//! which absorbs the occasional `ThrottlingException` from ECR's control plane. Adaptive mode (client-side
//! rate limiting) is not the default because one invocation makes few calls; a large backfill can opt in
//! with `AWS_RETRY_MODE=adaptive`.

use aws_config::BehaviorVersion;
pub use aws_config::SdkConfig;

/// Loads the shared SDK configuration from the environment.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
