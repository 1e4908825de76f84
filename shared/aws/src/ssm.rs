//! Reading a baseline stored as an SSM parameter (how the Lambda functions get theirs).

use crate::api_calls::counted_client;

use crate::SdkConfig;

/// Why a parameter couldn't be read.
#[derive(Debug, thiserror::Error)]
#[error("can't read SSM parameter `{name}`: {message}")]
pub struct ParameterError {
    /// The parameter name.
    pub name: String,
    /// What went wrong.
    pub message: String,
}

/// The value of the parameter `name` (decrypted, for SecureString parameters).
pub async fn parameter(config: &SdkConfig, name: &str) -> Result<String, ParameterError> {
    let client = counted_client!(aws_sdk_ssm, config);
    let fail = |message: String| ParameterError { name: name.to_string(), message };
    let output = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|e| fail(crate::errors::message("SSM", &e)))?;
    output.parameter().and_then(|p| p.value()).map(str::to_string).ok_or_else(|| fail("it has no value".into()))
}
