//! The writes an [`Action`] asks of one repository, one function each: what the core decided, sent as one call
//! (two for a repository policy, whose record of ecr-warden's statements goes first). Registry-wide writes, which
//! must merge with what the registry holds, are [`crate::EcrRegistry`]'s own.

use std::collections::BTreeMap;

use aws_sdk_ecr::types::{
    ImageScanningConfiguration, ImageTagMutability, ImageTagMutabilityExclusionFilter,
    ImageTagMutabilityExclusionFilterType, Tag,
};
use warden_core::action::Action;
use warden_core::observed::{RepositoryFacts, TagMutability};
use warden_core::registry::RegistryError;

use aws_sdk_ecr::Client;

use crate::errors::{build_error, registry_error};

/// Carries out `action` on `repository`; a registry-wide action is refused here.
pub(crate) async fn apply(
    registry: &Client,
    repository: &RepositoryFacts,
    action: &Action,
) -> Result<(), RegistryError> {
    match action {
        Action::SetTagMutability { mutability, exclusions } => {
            set_tag_mutability(registry, &repository.name, *mutability, exclusions).await
        }
        Action::EnableScanOnPush => enable_scan_on_push(registry, &repository.name).await,
        Action::AddRegistryScanFilter { .. } | Action::SetRegistryScanType { .. } => {
            Err(build_error("PutRegistryScanningConfiguration", "a registry-wide change is not a repository's write"))
        }
        Action::PutLifecyclePolicy { policy, .. } => put_lifecycle_policy(registry, &repository.name, policy).await,
        Action::SetRepositoryPolicy { policy, owned, .. } => {
            set_repository_policy(registry, repository, policy, owned.as_deref()).await
        }
        Action::DeleteRepositoryPolicy { .. } => delete_repository_policy(registry, &repository.name).await,
        Action::Tag { tags } => tag(registry, repository, tags).await,
    }
}

async fn set_tag_mutability(
    registry: &Client,
    name: &str,
    mutability: TagMutability,
    exclusions: &[String],
) -> Result<(), RegistryError> {
    let filters = exclusions
        .iter()
        .map(|f| {
            ImageTagMutabilityExclusionFilter::builder()
                .filter(f)
                .filter_type(ImageTagMutabilityExclusionFilterType::Wildcard)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| build_error("PutImageTagMutability", e))?;
    registry
        .put_image_tag_mutability()
        .repository_name(name)
        .image_tag_mutability(ImageTagMutability::from(mutability.as_str()))
        .set_image_tag_mutability_exclusion_filters((!filters.is_empty()).then_some(filters))
        .send()
        .await
        .map_err(|e| registry_error("PutImageTagMutability", name, e))?;
    Ok(())
}

async fn enable_scan_on_push(registry: &Client, name: &str) -> Result<(), RegistryError> {
    registry
        .put_image_scanning_configuration()
        .repository_name(name)
        .image_scanning_configuration(ImageScanningConfiguration::builder().scan_on_push(true).build())
        .send()
        .await
        .map_err(|e| registry_error("PutImageScanningConfiguration", name, e))?;
    Ok(())
}

async fn put_lifecycle_policy(registry: &Client, name: &str, policy: &str) -> Result<(), RegistryError> {
    registry
        .put_lifecycle_policy()
        .repository_name(name)
        .lifecycle_policy_text(policy)
        .send()
        .await
        .map_err(|e| registry_error("PutLifecyclePolicy", name, e))?;
    Ok(())
}

/// The record first: should the policy write fail, a record of a statement that isn't there proves nothing and
/// harms nothing; a policy without its record would make ecr-warden's own statement look like a team's.
async fn set_repository_policy(
    registry: &Client,
    repository: &RepositoryFacts,
    policy: &str,
    owned: Option<&str>,
) -> Result<(), RegistryError> {
    let name = repository.name.as_str();
    if let Some(owned) = owned {
        let record = BTreeMap::from([(warden_core::policy::OWNED_STATEMENTS_TAG.to_string(), owned.to_string())]);
        tag(registry, repository, &record).await?;
    }
    registry
        .set_repository_policy()
        .repository_name(name)
        .policy_text(policy)
        .send()
        .await
        .map_err(|e| registry_error("SetRepositoryPolicy", name, e))?;
    Ok(())
}

async fn delete_repository_policy(registry: &Client, name: &str) -> Result<(), RegistryError> {
    match registry.delete_repository_policy().repository_name(name).send().await {
        Ok(_) => Ok(()),
        // Already gone: the end state is what was wanted.
        Err(e) if e.as_service_error().is_some_and(|s| s.is_repository_policy_not_found_exception()) => Ok(()),
        Err(e) => Err(registry_error("DeleteRepositoryPolicy", name, e)),
    }
}

async fn tag(
    registry: &Client,
    repository: &RepositoryFacts,
    tags: &BTreeMap<String, String>,
) -> Result<(), RegistryError> {
    let tags = tags
        .iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| build_error("TagResource", e))?;
    registry
        .tag_resource()
        .resource_arn(&repository.arn)
        .set_tags(Some(tags))
        .send()
        .await
        .map_err(|e| registry_error("TagResource", &repository.name, e))?;
    Ok(())
}
