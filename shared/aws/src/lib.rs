//! The AWS edge of ecr-warden: [`EcrRegistry`] implements the core's `Registry` trait with the AWS SDK,
//! [`alerts`] sends alerts to SNS and EventBridge, [`SqsWorkQueue`] sends backfill work to SQS, [`sdk_config`] builds the SDK configuration every entry point shares, and [`ssm`] reads a baseline
//! stored in Parameter Store.

pub mod alerts;
pub mod api_calls;
mod config;
mod creation_templates;
pub mod doctor;
mod ecr;
mod ecr_writes;
mod errors;
mod in_use;
pub mod member;
pub mod organization;
mod queue;
mod scans;
pub mod securityhub;
mod signing;
pub mod ssm;
mod tagging;

pub use config::{sdk_config, ConfigError, SdkConfig, DEFAULT_TIMEOUT, TIMEOUT_ENV};
pub use ecr::EcrRegistry;
pub use queue::SqsWorkQueue;
