//! Amazon ECR as a `Registry`.

use crate::api_calls::counted_client;
use std::collections::{BTreeMap, HashMap, HashSet};

use async_trait::async_trait;
use aws_sdk_ecr::operation::describe_images::DescribeImagesOutput;
use aws_sdk_ecr::types::{
    ImageStatus, RegistryScanningRule, ReplicationConfiguration as SdkReplication, ReplicationDestination,
    ReplicationRule as SdkReplicationRule, Repository, RepositoryFilter as SdkFilter, RepositoryFilterType,
    ScanFrequency as SdkFrequency, ScanType as SdkScanType, ScanningRepositoryFilter, ScanningRepositoryFilterType,
};
use aws_sdk_ecr::Client;
use tokio::sync::Mutex;
use warden_core::action::Action;
use warden_core::alert::Origin;
use warden_core::controls::creation_templates::{CreationTemplate, TemplateChange};
use warden_core::controls::pull_through_cache::CacheRule;
use warden_core::controls::signing::SigningRule;
use warden_core::lifecycle::in_use::{InUse, InUseSettings};
use warden_core::lifecycle::{Image, StorageClass};
use warden_core::observed::{
    repository_name_in_arn, EncryptionType, KeyManager, RegistryScanning, RepositoryFacts, ScanFrequency, ScanRule,
    ScanType, TagMutability,
};
use warden_core::registry::{Applied, Registry, RegistryError, ScanStart};
use warden_core::replication::{
    Destination, RegistryReplication, ReplicationConfiguration, ReplicationRule, RepositoryFilter,
};
use warden_core::usage::Usage;
use warden_core::vulnerabilities::deadlines::{ImageScan, ImageScanState};
use warden_core::vulnerabilities::{Finding, Severity};

use crate::errors::{build_error, registry_error};
use crate::scans;
use crate::SdkConfig;

/// ECR through the AWS SDK.
pub struct EcrRegistry {
    client: Client,
    /// Asked once which account the credentials reach, unless [`EcrRegistry::set_home`] said it first.
    sts: Option<aws_sdk_sts::Client>,
    home: tokio::sync::OnceCell<Origin>,
    /// Serialises read-modify-write changes of the registry scanning configuration within this process.
    registry_lock: Mutex<()>,
    /// With the Tagging API option: where [`Registry::prefetch_tags`] reads, and what it read.
    tagging: Option<aws_sdk_resourcegroupstagging::Client>,
    prefetched: std::sync::RwLock<HashMap<String, BTreeMap<String, String>>>,
    /// Where [`Registry::key_manager`] asks, when the baseline wants a customer managed key.
    kms: Option<aws_sdk_kms::Client>,
    /// Where [`Registry::images_in_use`] asks, when the baseline names ECS or Lambda.
    ecs: Option<aws_sdk_ecs::Client>,
    lambda: Option<aws_sdk_lambda::Client>,
}

/// `DescribeRepositories` page size (ECR's maximum).
const PAGE_SIZE: i32 = 1000;

impl EcrRegistry {
    /// A registry over a client built from `config`.
    pub fn new(config: &SdkConfig) -> Self {
        let mut registry = Self::from_client(counted_client!(aws_sdk_ecr, config));
        registry.sts = Some(counted_client!(aws_sdk_sts, config));
        registry.kms = Some(counted_client!(aws_sdk_kms, config));
        registry.ecs = Some(counted_client!(aws_sdk_ecs, config));
        registry.lambda = Some(counted_client!(aws_sdk_lambda, config));
        registry
    }

    /// A registry over an existing client (its account is unknown unless [`EcrRegistry::set_home`] says it).
    pub fn from_client(client: Client) -> Self {
        Self {
            client,
            sts: None,
            home: tokio::sync::OnceCell::new(),
            registry_lock: Mutex::new(()),
            tagging: None,
            prefetched: Default::default(),
            kms: None,
            ecs: None,
            lambda: None,
        }
    }

    /// Says which account and region this registry is, when the caller knows (a Lambda function, from the ARN
    /// it was invoked by), so no call is made to find out. The first answer stays.
    pub fn set_home(&self, home: Origin) {
        let _ = self.home.set(home);
    }

    /// Reads tags for a pass over the registry from the Resource Groups Tagging API, 100 repositories a
    /// call (`tag:GetResources`), instead of one `ListTagsForResource` per repository.
    pub fn with_tagging_api(mut self, tagging: aws_sdk_resourcegroupstagging::Client) -> Self {
        self.tagging = Some(tagging);
        self
    }

    /// [`EcrRegistry::with_tagging_api`] with a client built from `config`.
    pub fn with_tags_in_bulk(self, config: &SdkConfig) -> Self {
        self.with_tagging_api(counted_client!(aws_sdk_resourcegroupstagging, config))
    }

    /// Every page of `DescribeImages` for repository `name` (its images as ECR describes them).
    async fn image_pages(&self, name: &str) -> Result<Vec<DescribeImagesOutput>, RegistryError> {
        let mut pages =
            self.client.describe_images().repository_name(name).max_results(PAGE_SIZE).into_paginator().send();
        let mut read = Vec::new();
        while let Some(page) = pages.next().await {
            read.push(page.map_err(|e| registry_error("DescribeImages", name, e))?);
        }
        Ok(read)
    }

    /// Adds `filter` to the registry's scanning rules, read just before under the registry lock; nothing is put
    /// when a rule there already covers it.
    async fn put_registry_scanning(&self, frequency: ScanFrequency, filter: &str) -> Result<Applied, RegistryError> {
        let _guard = self.registry_lock.lock().await;
        let current = self.registry_scanning().await?;
        let failed =
            |message: String| RegistryError::Failed { operation: "PutRegistryScanningConfiguration".into(), message };
        let Some(next) = current.with_filter(frequency, filter).map_err(failed)? else {
            return Ok(Applied::AlreadySo);
        };
        self.put_scanning_configuration(&next, filter).await.map(|()| Applied::Written)
    }

    /// Switches the registry to `scan_type`, keeping its rules (read just before, under the same lock as filters);
    /// nothing is put when it already scans so.
    async fn put_registry_scan_type(&self, scan_type: ScanType) -> Result<Applied, RegistryError> {
        let _guard = self.registry_lock.lock().await;
        let current = self.registry_scanning().await?;
        if current.scan_type == scan_type {
            return Ok(Applied::AlreadySo);
        }
        self.put_scanning_configuration(&RegistryScanning { scan_type, ..current }, "*")
            .await
            .map(|()| Applied::Written)
    }

    /// `PutRegistryScanningConfiguration` of `next` (errors name `what` the put was for).
    async fn put_scanning_configuration(&self, next: &RegistryScanning, what: &str) -> Result<(), RegistryError> {
        let failed =
            |message: String| RegistryError::Failed { operation: "PutRegistryScanningConfiguration".into(), message };
        let rules = next.rules.iter().map(sdk_rule).collect::<Result<Vec<_>, _>>().map_err(failed)?;
        let scan_type = match next.scan_type {
            ScanType::Basic => SdkScanType::Basic,
            ScanType::Enhanced => SdkScanType::Enhanced,
        };
        self.client
            .put_registry_scanning_configuration()
            .scan_type(scan_type)
            .set_rules(Some(rules))
            .customize()
            .config_override(sent_once())
            .send()
            .await
            .map_err(|e| registry_error("PutRegistryScanningConfiguration", what, e))?;
        Ok(())
    }
}

#[async_trait]
impl Registry for EcrRegistry {
    async fn home(&self) -> Result<Option<Origin>, RegistryError> {
        let Some(sts) = &self.sts else { return Ok(self.home.get().cloned()) };
        let region = self.client.config().region().map(ToString::to_string);
        let home = self
            .home
            .get_or_try_init(|| async {
                let region = region.ok_or_else(|| build_error("GetCallerIdentity", "no region is configured"))?;
                let identity = sts.get_caller_identity().send().await.map_err(|e| RegistryError::Failed {
                    operation: "GetCallerIdentity".into(),
                    message: crate::errors::message("STS", &e),
                })?;
                let account = identity.account().ok_or_else(|| build_error("GetCallerIdentity", "no account"))?;
                Ok::<_, RegistryError>(Origin { account: account.to_string(), region })
            })
            .await?;
        Ok(Some(home.clone()))
    }

    async fn list_repositories(&self) -> Result<Vec<RepositoryFacts>, RegistryError> {
        let mut pages = self.client.describe_repositories().max_results(PAGE_SIZE).into_paginator().send();
        let mut facts = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| registry_error("DescribeRepositories", "*", e))?;
            for repository in page.repositories() {
                facts.push(repository_facts(repository)?);
            }
        }
        Ok(facts)
    }

    async fn describe_repository(&self, name: &str) -> Result<RepositoryFacts, RegistryError> {
        let output = self
            .client
            .describe_repositories()
            .repository_names(name)
            .send()
            .await
            .map_err(|e| registry_error("DescribeRepositories", name, e))?;
        match output.repositories() {
            [one] => repository_facts(one),
            _ => Err(RegistryError::NotFound(name.to_string())),
        }
    }

    async fn lifecycle_policy(&self, name: &str) -> Result<Option<String>, RegistryError> {
        match self.client.get_lifecycle_policy().repository_name(name).send().await {
            Ok(output) => Ok(output.lifecycle_policy_text().map(str::to_string)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_lifecycle_policy_not_found_exception()) => Ok(None),
            Err(e) => Err(registry_error("GetLifecyclePolicy", name, e)),
        }
    }

    async fn repository_policy(&self, name: &str) -> Result<Option<String>, RegistryError> {
        match self.client.get_repository_policy().repository_name(name).send().await {
            Ok(output) => Ok(output.policy_text().map(str::to_string)),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_policy_not_found_exception()) => Ok(None),
            Err(e) => Err(registry_error("GetRepositoryPolicy", name, e)),
        }
    }

    async fn prefetch_tags(&self, arns: &[String], registry_size: usize) -> Result<(), RegistryError> {
        let Some(tagging) = &self.tagging else { return Ok(()) };
        self.prefetched.write().unwrap_or_else(|poisoned| poisoned.into_inner()).clear();
        // The Tagging API pages through the whole registry: worth it only when that is fewer calls than one
        // `ListTagsForResource` per selected repository.
        if arns.len() <= registry_size.div_ceil(crate::tagging::RESOURCES_PER_PAGE as usize) {
            return Ok(());
        }
        let wanted: HashSet<&String> = arns.iter().collect();
        let mut tags = crate::tagging::repository_tags(tagging).await?;
        tags.retain(|arn, _| wanted.contains(arn));
        *self.prefetched.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = tags;
        Ok(())
    }

    async fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, RegistryError> {
        // Taken, not copied: a later event for the same repository reads its tags afresh.
        let prefetched = self.prefetched.write().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(arn);
        if let Some(tags) = prefetched {
            return Ok(tags);
        }
        let output = self
            .client
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| registry_error("ListTagsForResource", repository_name_in_arn(arn).unwrap_or(arn), e))?;
        Ok(output.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect())
    }

    async fn images(&self, name: &str) -> Result<Vec<Image>, RegistryError> {
        let pages = self.image_pages(name).await?;
        let images = pages.iter().flat_map(|page| page.image_details()).map(|detail| Image {
            digest: detail.image_digest().unwrap_or_default().to_string(),
            tags: detail.image_tags().to_vec(),
            pushed_at_ms: millis(detail.image_pushed_at()).unwrap_or_default(),
            last_pulled_ms: millis(detail.last_recorded_pull_time()),
            archived_at_ms: millis(detail.last_archived_at()),
            storage_class: match detail.image_status() {
                Some(ImageStatus::Archived) => StorageClass::Archive,
                _ => StorageClass::Standard,
            },
        });
        Ok(images.collect())
    }

    async fn usage(&self, name: &str) -> Result<Usage, RegistryError> {
        let mut usage = Usage::default();
        for detail in self.image_pages(name).await?.iter().flat_map(|page| page.image_details()) {
            usage.images += 1;
            usage.bytes += detail.image_size_in_bytes().and_then(|b| u64::try_from(b).ok()).unwrap_or(0);
            usage.last_push_ms = usage.last_push_ms.max(millis(detail.image_pushed_at()));
            usage.last_pull_ms = usage.last_pull_ms.max(millis(detail.last_recorded_pull_time()));
        }
        Ok(usage)
    }

    async fn key_manager(&self, key_arn: &str) -> Result<KeyManager, RegistryError> {
        let failed = |message: String| RegistryError::Failed { operation: "DescribeKey".into(), message };
        let Some(kms) = &self.kms else { return Err(failed("no KMS client is configured".into())) };
        let output =
            kms.describe_key().key_id(key_arn).send().await.map_err(|e| failed(crate::errors::message("KMS", &e)))?;
        match output.key_metadata().and_then(|m| m.key_manager()) {
            Some(aws_sdk_kms::types::KeyManagerType::Customer) => Ok(KeyManager::Customer),
            Some(aws_sdk_kms::types::KeyManagerType::Aws) => Ok(KeyManager::Aws),
            other => Err(failed(format!("KMS said nothing known about who manages {key_arn} ({other:?})"))),
        }
    }

    async fn registry_scanning(&self) -> Result<RegistryScanning, RegistryError> {
        let output = self
            .client
            .get_registry_scanning_configuration()
            .send()
            .await
            .map_err(|e| registry_error("GetRegistryScanningConfiguration", "*", e))?;
        let Some(config) = output.scanning_configuration() else {
            return Ok(RegistryScanning { scan_type: ScanType::Basic, rules: Vec::new() });
        };
        let scan_type = match config.scan_type() {
            Some(SdkScanType::Enhanced) => ScanType::Enhanced,
            _ => ScanType::Basic,
        };
        let rules = config
            .rules()
            .iter()
            .filter_map(|rule| {
                Some(ScanRule {
                    frequency: ScanFrequency::parse(rule.scan_frequency().as_str())?,
                    filters: rule.repository_filters().iter().map(|f| f.filter().to_string()).collect(),
                })
            })
            .collect();
        Ok(RegistryScanning { scan_type, rules })
    }

    async fn start_image_scan(&self, name: &str, digest: &str) -> Result<ScanStart, RegistryError> {
        scans::start_image_scan(&self.client, name, digest).await
    }

    async fn scan_findings(&self, name: &str, digest: &str) -> Result<Option<Vec<Finding>>, RegistryError> {
        Ok(self.image_scan(name, digest).await?.map(|scan| scan.findings))
    }

    async fn image_scan(&self, name: &str, digest: &str) -> Result<Option<ImageScan>, RegistryError> {
        scans::image_scan(&self.client, name, digest).await
    }

    async fn images_in_use(&self, settings: &InUseSettings) -> Result<InUse, RegistryError> {
        let (Some(ecs), Some(lambda)) = (&self.ecs, &self.lambda) else {
            return Err(build_error("ListClusters", "no ECS or Lambda client is configured"));
        };
        let origin =
            self.home().await?.ok_or_else(|| build_error("ListClusters", "the registry's account is unknown"))?;
        crate::in_use::images_in_use(ecs, lambda, &origin, settings).await
    }

    async fn image_scan_states(&self, name: &str) -> Result<Vec<ImageScanState>, RegistryError> {
        let pages = self.image_pages(name).await?;
        let states = pages.iter().flat_map(|page| page.image_details()).map(|detail| {
            let summary = detail.image_scan_findings_summary();
            ImageScanState {
                digest: detail.image_digest().unwrap_or_default().to_string(),
                tags: detail.image_tags().to_vec(),
                pushed_at_ms: millis(detail.image_pushed_at()).unwrap_or_default(),
                status: detail.image_scan_status().and_then(|s| s.status()).map(|s| s.as_str().to_string()),
                completed_ms: millis(summary.and_then(|s| s.image_scan_completed_at())),
                counts: summary.and_then(|s| s.finding_severity_counts()).map(|counts| {
                    counts
                        .iter()
                        .map(|(severity, n)| (Severity::parse(severity.as_str()), (*n).max(0) as u32))
                        .collect()
                }),
            }
        });
        Ok(states.collect())
    }

    async fn replication(&self) -> Result<RegistryReplication, RegistryError> {
        let output =
            self.client.describe_registry().send().await.map_err(|e| registry_error("DescribeRegistry", "*", e))?;
        let missing = |what: &str| build_error("DescribeRegistry", format!("the answer has no {what}"));
        let registry_id = output.registry_id().ok_or_else(|| missing("registryId"))?.to_string();
        let region = self.client.config().region().ok_or_else(|| missing("region (none configured)"))?.to_string();
        let rules = output.replication_configuration().map(SdkReplication::rules).unwrap_or_default();
        let rules = rules
            .iter()
            .map(|rule| ReplicationRule {
                destinations: rule
                    .destinations()
                    .iter()
                    .map(|d| Destination { region: d.region().to_string(), registry_id: d.registry_id().to_string() })
                    .collect(),
                repository_filters: rule
                    .repository_filters()
                    .iter()
                    .map(|f| RepositoryFilter {
                        filter: f.filter().to_string(),
                        filter_type: f.filter_type().as_str().to_string(),
                    })
                    .collect(),
            })
            .collect();
        Ok(RegistryReplication { registry_id, region, configuration: ReplicationConfiguration { rules } })
    }

    async fn put_replication(&self, configuration: &ReplicationConfiguration) -> Result<(), RegistryError> {
        let failed = |e: aws_sdk_ecr::error::BuildError| build_error("PutReplicationConfiguration", e);
        let mut rules = Vec::new();
        for rule in &configuration.rules {
            let mut builder = SdkReplicationRule::builder();
            for d in &rule.destinations {
                let destination =
                    ReplicationDestination::builder().region(&d.region).registry_id(&d.registry_id).build();
                builder = builder.destinations(destination.map_err(failed)?);
            }
            for f in &rule.repository_filters {
                let filter_type = RepositoryFilterType::from(f.filter_type.as_str());
                builder = builder.repository_filters(
                    SdkFilter::builder().filter(&f.filter).filter_type(filter_type).build().map_err(failed)?,
                );
            }
            rules.push(builder.build().map_err(failed)?);
        }
        let configuration = SdkReplication::builder().set_rules(Some(rules)).build().map_err(failed)?;
        self.client
            .put_replication_configuration()
            .replication_configuration(configuration)
            .customize()
            .config_override(sent_once())
            .send()
            .await
            .map_err(|e| registry_error("PutReplicationConfiguration", "*", e))?;
        Ok(())
    }

    async fn registry_policy(&self) -> Result<Option<(String, String)>, RegistryError> {
        match self.client.get_registry_policy().send().await {
            Ok(output) => {
                let account = output.registry_id().unwrap_or_default().to_string();
                Ok(output.policy_text().map(|text| (account, text.to_string())))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_registry_policy_not_found_exception()) => Ok(None),
            Err(e) => Err(registry_error("GetRegistryPolicy", "*", e)),
        }
    }

    async fn put_registry_policy(&self, policy: Option<&str>) -> Result<(), RegistryError> {
        let Some(policy) = policy else {
            return match self.client.delete_registry_policy().customize().config_override(sent_once()).send().await {
                Ok(_) => Ok(()),
                // Gone already (another writer deleted it): what was asked for.
                Err(e) if e.as_service_error().is_some_and(|s| s.is_registry_policy_not_found_exception()) => Ok(()),
                Err(e) => Err(registry_error("DeleteRegistryPolicy", "*", e)),
            };
        };
        self.client
            .put_registry_policy()
            .policy_text(policy)
            .customize()
            .config_override(sent_once())
            .send()
            .await
            .map_err(|e| registry_error("PutRegistryPolicy", "*", e))?;
        Ok(())
    }

    async fn creation_templates(&self) -> Result<Vec<CreationTemplate>, RegistryError> {
        crate::creation_templates::all(&self.client).await
    }

    async fn cache_rules(&self) -> Result<Vec<CacheRule>, RegistryError> {
        let mut pages = self.client.describe_pull_through_cache_rules().max_results(PAGE_SIZE).into_paginator().send();
        let mut rules = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| registry_error("DescribePullThroughCacheRules", "*", e))?;
            rules.extend(page.pull_through_cache_rules().iter().map(|rule| CacheRule {
                ecr_repository_prefix: rule.ecr_repository_prefix().unwrap_or_default().to_string(),
                upstream_registry_url: rule.upstream_registry_url().unwrap_or_default().to_string(),
            }));
        }
        Ok(rules)
    }

    async fn signing_rules(&self) -> Result<Vec<SigningRule>, RegistryError> {
        crate::signing::rules(&self.client).await
    }

    async fn put_signing_rules(&self, rules: &[SigningRule]) -> Result<(), RegistryError> {
        crate::signing::put(&self.client, rules, sent_once()).await
    }

    async fn change_creation_template(&self, change: &TemplateChange) -> Result<(), RegistryError> {
        crate::creation_templates::change(&self.client, change).await
    }

    async fn apply(&self, repository: &RepositoryFacts, action: &Action) -> Result<Applied, RegistryError> {
        match action {
            Action::AddRegistryScanFilter { frequency, filter, .. } => {
                self.put_registry_scanning(*frequency, filter).await
            }
            Action::SetRegistryScanType { scan_type } => self.put_registry_scan_type(*scan_type).await,
            _ => crate::ecr_writes::apply(&self.client, repository, action).await.map(|()| Applied::Written),
        }
    }
}

/// The core's view of an SDK `Repository`.
fn repository_facts(repository: &Repository) -> Result<RepositoryFacts, RegistryError> {
    let missing = |field: &str| RegistryError::Failed {
        operation: "DescribeRepositories".into(),
        message: format!("the answer has no {field}"),
    };
    let name = repository.repository_name().ok_or_else(|| missing("repositoryName"))?;
    let arn = repository.repository_arn().ok_or_else(|| missing("repositoryArn"))?;
    let tag_mutability = repository
        .image_tag_mutability()
        .and_then(|m| TagMutability::parse(m.as_str()))
        .unwrap_or(TagMutability::Mutable);
    let encryption = repository.encryption_configuration();
    Ok(RepositoryFacts {
        name: name.to_string(),
        arn: arn.to_string(),
        tag_mutability,
        mutability_exclusions: repository
            .image_tag_mutability_exclusion_filters()
            .iter()
            .map(|f| f.filter().to_string())
            .collect(),
        scan_on_push: repository.image_scanning_configuration().is_some_and(|c| c.scan_on_push()),
        encryption: encryption
            .and_then(|e| EncryptionType::parse(e.encryption_type().as_str()))
            .unwrap_or(EncryptionType::Aes256),
        kms_key: encryption.and_then(|e| e.kms_key()).map(str::to_string),
    })
}

fn sdk_rule(rule: &ScanRule) -> Result<RegistryScanningRule, String> {
    let filters = rule
        .filters
        .iter()
        .map(|f| {
            ScanningRepositoryFilter::builder().filter(f).filter_type(ScanningRepositoryFilterType::Wildcard).build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    RegistryScanningRule::builder()
        .scan_frequency(SdkFrequency::from(rule.frequency.as_str()))
        .set_repository_filters(Some(filters))
        .build()
        .map_err(|e| e.to_string())
}

/// A timestamp in milliseconds since the epoch, when ECR gave one.
pub(crate) fn millis(time: Option<&aws_sdk_ecr::primitives::DateTime>) -> Option<i64> {
    time.and_then(|t| t.to_millis().ok())
}

/// A registry-wide put is a read-modify-write of a whole configuration: it is sent once, never retried by the
/// SDK after a back-off (by then it may drop what another writer put); the caller reads afresh and retries.
fn sent_once() -> aws_sdk_ecr::config::Builder {
    aws_sdk_ecr::config::Builder::default().retry_config(aws_sdk_ecr::config::retry::RetryConfig::disabled())
}
