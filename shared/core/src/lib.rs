//! The pure domain of ecr-warden.
//!
//! Everything here is plain data and pure functions: a [`baseline::Baseline`] says what repositories must
//! look like, an [`observed::Observed`] says what one repository looks like now, and each
//! [`controls::Control`] judges one aspect of it and proposes [`action::Action`]s that would fix it.
//! The [`registry::Registry`] trait is the only door to the outside world; the `warden-aws` crate
//! implements it with the AWS SDK, tests with a fake. Nothing in this crate performs I/O.
//!
//! Judging one repository against a baseline, as every entry point does:
//!
//! ```
//! use std::collections::BTreeMap;
//! use warden_core::controls::ControlId;
//! use warden_core::observed::{EncryptionType, Observed, RepositoryFacts, TagMutability};
//! use warden_core::report::{plan, Status};
//!
//! let baseline = warden_core::baseline::Baseline::parse("baseline.toml", "[defaults.encryption]\ntype = \"AES256\"\n")
//!     .expect("a valid baseline");
//! let want = baseline.resolve("team-a/api").expect("settings for the repository");
//! let have = Observed {
//!     facts: RepositoryFacts {
//!         name: "team-a/api".into(),
//!         arn: "arn:aws:ecr:us-east-1:123456789012:repository/team-a/api".into(),
//!         tag_mutability: TagMutability::Mutable,
//!         mutability_exclusions: vec![],
//!         scan_on_push: false,
//!         encryption: EncryptionType::Aes256,
//!         kms_key: None,
//!     },
//!     lifecycle_policy: None,
//!     repository_policy: None,
//!     tags: BTreeMap::new(),
//!     registry_scanning: None,
//!     key_manager: None,
//! };
//! let report = plan(&want, &have);
//! let status = |control| report.iter().find(|c| c.control == control).map(|c| c.status);
//! assert_eq!(status(ControlId::TagMutability), Some(Status::Pending), "mutable tags: a fix is planned");
//! assert_eq!(status(ControlId::Encryption), Some(Status::Compliant));
//! ```

pub mod action;
pub mod alert;
pub mod arn;
pub mod baseline;
pub mod clock;
pub mod controls;
pub mod doctor;
pub mod glob;
pub mod image_tags;
pub mod lifecycle;
mod limits;
pub use limits::tag_key_problem;
mod mode;
pub mod observed;
pub mod origin;
pub mod pace;
pub mod policy;
pub mod registry;
pub mod replication;
pub mod report;
pub mod scan_filter;
pub mod section;
pub mod securityhub;
pub mod sink;
pub mod text;
pub mod usage;
pub mod vulnerabilities;
mod wildcard;
pub mod work;
