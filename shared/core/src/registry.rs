//! The door to a container registry. The `warden-aws` crate implements it for Amazon ECR; tests use
//! fakes. Everything above this trait is plain data.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::action::Action;
use crate::alert::Origin;
use crate::controls::creation_templates::{CreationTemplate, TemplateChange};
use crate::controls::pull_through_cache::CacheRule;
use crate::controls::signing::SigningRule;
use crate::lifecycle::in_use::{InUse, InUseSettings};
use crate::lifecycle::Image;
use crate::observed::{KeyManager, RegistryScanning, RepositoryFacts};
use crate::replication::{RegistryReplication, ReplicationConfiguration};
use crate::usage::Usage;
use crate::vulnerabilities::deadlines::{ImageScan, ImageScanState};
use crate::vulnerabilities::Finding;

/// Why a registry call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// The repository doesn't exist (it may have been deleted since the event): not a failure of ours.
    #[error("repository `{0}` does not exist")]
    NotFound(String),
    /// The call was still throttled after the SDK's retries.
    #[error("{operation} was throttled: {message}")]
    Throttled {
        /// The API operation.
        operation: String,
        /// The service's message.
        message: String,
    },
    /// Any other failure.
    #[error("{operation} failed: {message}")]
    Failed {
        /// The API operation.
        operation: String,
        /// What went wrong.
        message: String,
    },
}

/// What asking for a basic scan of an image came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ScanStart {
    /// The scan started.
    Started,
    /// The image was already scanned today (ECR allows one basic scan of an image a day).
    AlreadyScanned,
}

/// Reads and changes repositories in one registry.
#[async_trait]
pub trait Registry: Send + Sync {
    /// The account and region of this registry (where the credentials reach), when known: an event that names
    /// another is not for it. By default unknown.
    async fn home(&self) -> Result<Option<Origin>, RegistryError> {
        Ok(None)
    }
    /// Every repository in the registry, all pages.
    async fn list_repositories(&self) -> Result<Vec<RepositoryFacts>, RegistryError>;
    /// Ahead of a pass over `arns` (out of `registry_size` repositories), reads their tags in bulk where the
    /// registry can and it costs fewer calls than one each; later [`Registry::tags`] calls for them are
    /// answered from what was read, and anything read for an earlier pass is forgotten. By default, nothing.
    async fn prefetch_tags(&self, _arns: &[String], _registry_size: usize) -> Result<(), RegistryError> {
        Ok(())
    }
    /// One repository's settings.
    async fn describe_repository(&self, name: &str) -> Result<RepositoryFacts, RegistryError>;
    /// The repository's lifecycle policy text, if it has one.
    async fn lifecycle_policy(&self, name: &str) -> Result<Option<String>, RegistryError>;
    /// The repository's policy text, if it has one.
    async fn repository_policy(&self, name: &str) -> Result<Option<String>, RegistryError>;
    /// The repository's tags.
    async fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, RegistryError>;
    /// Every image in the repository (for lifecycle previews).
    async fn images(&self, name: &str) -> Result<Vec<Image>, RegistryError>;
    /// The registry's scanning configuration.
    async fn registry_scanning(&self) -> Result<RegistryScanning, RegistryError>;
    /// Starts a basic scan of the image `digest` in repository `name`.
    async fn start_image_scan(&self, name: &str, digest: &str) -> Result<ScanStart, RegistryError> {
        let _ = (name, digest);
        Err(RegistryError::Failed { operation: "StartImageScan".into(), message: "not supported here".into() })
    }
    /// Every finding of the image's last completed scan (basic or enhanced), all pages; `None` when the
    /// image has no completed scan.
    async fn scan_findings(&self, name: &str, digest: &str) -> Result<Option<Vec<Finding>>, RegistryError> {
        let _ = (name, digest);
        Err(RegistryError::Failed {
            operation: "DescribeImageScanFindings".into(),
            message: "not supported here".into(),
        })
    }
    /// The image's last completed scan in full (basic or enhanced findings, all pages, and when it completed);
    /// `None` when the image has no completed scan.
    async fn image_scan(&self, name: &str, digest: &str) -> Result<Option<ImageScan>, RegistryError> {
        let findings = self.scan_findings(name, digest).await?;
        Ok(findings.map(|findings| ImageScan { completed_ms: None, findings }))
    }
    /// The images in use in this registry's account and region, from the sources `settings` name (ECS, Lambda,
    /// the baseline's list).
    async fn images_in_use(&self, settings: &InUseSettings) -> Result<InUse, RegistryError> {
        let _ = settings;
        Err(RegistryError::Failed { operation: "ListClusters".into(), message: "not supported here".into() })
    }
    /// What `DescribeImages` says of each image's scan (all pages).
    async fn image_scan_states(&self, name: &str) -> Result<Vec<ImageScanState>, RegistryError> {
        let _ = name;
        Err(RegistryError::Failed { operation: "DescribeImages".into(), message: "not supported here".into() })
    }
    /// The registry's account, region and replication configuration (`DescribeRegistry`).
    async fn replication(&self) -> Result<RegistryReplication, RegistryError> {
        Err(RegistryError::Failed { operation: "DescribeRegistry".into(), message: "not supported here".into() })
    }
    /// Replaces the registry's replication configuration (`PutReplicationConfiguration`).
    async fn put_replication(&self, configuration: &ReplicationConfiguration) -> Result<(), RegistryError> {
        let _ = configuration;
        Err(RegistryError::Failed {
            operation: "PutReplicationConfiguration".into(),
            message: "not supported here".into(),
        })
    }
    /// The registry permissions policy (`GetRegistryPolicy`): the registry's ID (its account) and the policy's text;
    /// `None` when there is none.
    async fn registry_policy(&self) -> Result<Option<(String, String)>, RegistryError> {
        Err(RegistryError::Failed { operation: "GetRegistryPolicy".into(), message: "not supported here".into() })
    }
    /// Replaces the registry permissions policy (`PutRegistryPolicy`), or deletes it (`None`: `DeleteRegistryPolicy`).
    async fn put_registry_policy(&self, policy: Option<&str>) -> Result<(), RegistryError> {
        let operation = if policy.is_some() { "PutRegistryPolicy" } else { "DeleteRegistryPolicy" };
        Err(RegistryError::Failed { operation: operation.into(), message: "not supported here".into() })
    }
    /// What the repository's images say about its use (`DescribeImages`, all pages: count, size, newest push and
    /// recorded pull).
    async fn usage(&self, name: &str) -> Result<Usage, RegistryError> {
        let _ = name;
        Err(RegistryError::Failed { operation: "DescribeImages".into(), message: "not supported here".into() })
    }
    /// The registry's repository creation templates (`DescribeRepositoryCreationTemplates`, all pages).
    async fn creation_templates(&self) -> Result<Vec<CreationTemplate>, RegistryError> {
        let operation = "DescribeRepositoryCreationTemplates".into();
        Err(RegistryError::Failed { operation, message: "not supported here".into() })
    }
    /// The registry's pull through cache rules (`DescribePullThroughCacheRules`, all pages).
    async fn cache_rules(&self) -> Result<Vec<CacheRule>, RegistryError> {
        let operation = "DescribePullThroughCacheRules".into();
        Err(RegistryError::Failed { operation, message: "not supported here".into() })
    }
    /// The registry's signing rules (`GetSigningConfiguration`; none when it has no configuration).
    async fn signing_rules(&self) -> Result<Vec<SigningRule>, RegistryError> {
        Err(RegistryError::Failed { operation: "GetSigningConfiguration".into(), message: "not supported here".into() })
    }
    /// Replaces the registry's signing rules (`PutSigningConfiguration`).
    async fn put_signing_rules(&self, rules: &[SigningRule]) -> Result<(), RegistryError> {
        let _ = rules;
        Err(RegistryError::Failed { operation: "PutSigningConfiguration".into(), message: "not supported here".into() })
    }
    /// Creates, updates or deletes one repository creation template.
    async fn change_creation_template(&self, change: &TemplateChange) -> Result<(), RegistryError> {
        let _ = change;
        let operation = "UpdateRepositoryCreationTemplate".into();
        Err(RegistryError::Failed { operation, message: "not supported here".into() })
    }
    /// Who manages the KMS key `key_arn` (`kms:DescribeKey`).
    async fn key_manager(&self, key_arn: &str) -> Result<KeyManager, RegistryError> {
        let _ = key_arn;
        Err(RegistryError::Failed { operation: "DescribeKey".into(), message: "not supported here".into() })
    }
    /// Carries out one action on the repository (or on the registry, for registry-level actions), saying
    /// whether it wrote.
    async fn apply(&self, repository: &RepositoryFacts, action: &Action) -> Result<Applied, RegistryError>;
}

/// What [`Registry::apply`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The write was sent.
    Written,
    /// Nothing was sent: a registry-wide setting, read again just before the put, already held what the action
    /// adds (another writer made it since it was observed).
    AlreadySo,
}
