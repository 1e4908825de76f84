//! The AWS edge of ecr-warden: [`EcrRegistry`] implements the core's `Registry` trait with the AWS SDK,
//! [`sdk_config`] builds the SDK configuration every entry point shares, and [`ssm`] reads a baseline
//! stored in Parameter Store.

mod config;
mod ecr;
mod errors;
pub mod ssm;

pub use config::{sdk_config, SdkConfig};
pub use ecr::EcrRegistry;
