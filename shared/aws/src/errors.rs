//! Turning SDK errors into the core's `RegistryError`: "not found" and throttling are told apart from
//! every other failure, and messages carry the whole error chain.

use aws_sdk_ecr::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use warden_core::registry::RegistryError;

/// ECR error codes that mean "the thing asked about isn't there".
pub(crate) const REPOSITORY_NOT_FOUND: &str = "RepositoryNotFoundException";

/// Maps an SDK error of `operation` on `repository`.
pub(crate) fn registry_error<E, R>(operation: &str, repository: &str, error: SdkError<E, R>) -> RegistryError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match error.code() {
        Some(REPOSITORY_NOT_FOUND) => RegistryError::NotFound(repository.to_string()),
        Some("ThrottlingException" | "TooManyRequestsException" | "ThrottledException") => {
            RegistryError::Throttled { operation: operation.to_string(), message: message(&error) }
        }
        _ => RegistryError::Failed { operation: operation.to_string(), message: message(&error) },
    }
}

/// The error's code where it has one, else the whole error chain.
pub(crate) fn message<E, R>(error: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    match (error.code(), error.message()) {
        (Some(code), Some(text)) => format!("{code}: {text}"),
        (Some(code), None) => code.to_string(),
        _ => DisplayErrorContext(error).to_string(),
    }
}
