//! The pure domain of ecr-warden.
//!
//! Everything here is plain data and pure functions: a [`baseline::Baseline`] says what repositories must
//! look like, an [`observed::Observed`] says what one repository looks like now, and each
//! [`controls::Control`] judges one aspect of it and proposes [`action::Action`]s that would fix it.
//! The [`registry::Registry`] trait is the only door to the outside world; the `warden-aws` crate
//! implements it with the AWS SDK, tests with a fake. Nothing in this crate performs I/O.

pub mod action;
pub mod alert;
pub mod arn;
pub mod baseline;
pub mod controls;
pub mod glob;
pub mod image_tags;
pub mod lifecycle;
pub mod mode;
pub mod observed;
pub mod origin;
pub mod policy;
pub mod registry;
pub mod replication;
pub mod report;
pub mod scan_filter;
pub mod securityhub;
pub mod text;
pub mod vulnerabilities;
pub mod wildcard;
pub mod work;
