//! What every ecr-warden entry point shares. The Lambda functions and the `ecr-warden` command run the
//! same use cases through this crate:
//!
//! - [`govern::govern`]: observe one repository, judge it, fix what the baseline enforces, report;
//! - [`backfill::backfill`]: the same over the whole registry (or the repositories matching globs);
//! - [`fan_out::fan_out`] / [`fan_out::work`]: a backfill spread over a work queue and worker invocations;
//! - [`image_push::image_pushed`]: govern a pushed image's repository, check its tag, make sure it's scanned;
//! - [`scan_completed::scan_completed`]: assess a scan's findings against the threshold;
//! - [`usage::usage_report`]: list the repositories nobody uses or owns (read-only);
//! - [`handle::Handler::handle`]: route an EventBridge event (or a manual backfill request) to one of the above.
//!
//! [`function::serve`] is the whole `main` of a Lambda function. The crate also loads the baseline ([`baseline_source`]) and sets up logging ([`logging`]) and delivers alerts ([`alerts`]).

pub mod account_baseline;
pub mod alerts;
pub mod backfill;
pub mod baseline_source;
mod converge;
pub mod event;
pub mod fan_out;
pub mod function;
pub mod govern;
pub mod handle;
pub mod image_push;
mod in_use_guard;
pub mod logging;
mod metrics;
pub mod organization;
pub mod paced;
pub mod permissions;
mod purpose;
pub mod registry_controls;
mod registry_scanning;
pub mod scan_completed;
pub mod security_hub;
pub mod usage;
pub mod vulnerability_review;

pub use warden_aws as aws;
pub use warden_core as core;
