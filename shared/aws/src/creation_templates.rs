//! Repository creation templates through the AWS SDK: reading every template, and creating, updating or deleting
//! one (`ecr:*RepositoryCreationTemplate*`).

use std::collections::BTreeMap;

use aws_sdk_ecr::types::{
    EncryptionConfigurationForRepositoryCreationTemplate, EncryptionType, ImageTagMutability,
    ImageTagMutabilityExclusionFilter, ImageTagMutabilityExclusionFilterType, RctAppliedFor,
    RepositoryCreationTemplate, Tag,
};
use aws_sdk_ecr::Client;
use warden_core::controls::creation_templates::{CreationTemplate, TemplateChange, TemplateEncryption};
use warden_core::registry::RegistryError;

use crate::errors::{build_error, registry_error};

/// `DescribeRepositoryCreationTemplates` page size (ECR's maximum).
const PAGE_SIZE: i32 = 1000;

/// Every template in the registry, all pages.
pub(crate) async fn all(client: &Client) -> Result<Vec<CreationTemplate>, RegistryError> {
    let mut pages = client.describe_repository_creation_templates().max_results(PAGE_SIZE).into_paginator().send();
    let mut templates = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| registry_error("DescribeRepositoryCreationTemplates", "*", e))?;
        templates.extend(page.repository_creation_templates().iter().map(read));
    }
    Ok(templates)
}

/// One template as the core holds it.
fn read(template: &RepositoryCreationTemplate) -> CreationTemplate {
    CreationTemplate {
        prefix: template.prefix().unwrap_or_default().to_string(),
        description: template.description().unwrap_or_default().to_string(),
        image_tag_mutability: template.image_tag_mutability().map(|m| m.as_str().to_string()),
        image_tag_mutability_exclusion_filters: template
            .image_tag_mutability_exclusion_filters()
            .iter()
            .map(|f| f.filter().to_string())
            .collect(),
        encryption_configuration: template.encryption_configuration().map(|e| TemplateEncryption {
            encryption_type: e.encryption_type().as_str().to_string(),
            kms_key: e.kms_key().filter(|key| !key.is_empty()).map(str::to_string),
        }),
        lifecycle_policy: template.lifecycle_policy().filter(|p| !p.is_empty()).map(str::to_string),
        repository_policy: template.repository_policy().filter(|p| !p.is_empty()).map(str::to_string),
        resource_tags: template
            .resource_tags()
            .iter()
            .map(|t| (t.key().to_string(), t.value().to_string()))
            .collect::<BTreeMap<_, _>>(),
        applied_for: template.applied_for().iter().map(|a| a.as_str().to_string()).collect(),
        custom_role_arn: template.custom_role_arn().filter(|r| !r.is_empty()).map(str::to_string),
    }
}

/// Makes one change.
pub(crate) async fn change(client: &Client, change: &TemplateChange) -> Result<(), RegistryError> {
    match change {
        TemplateChange::Create(template) => create(client, template).await,
        TemplateChange::Update(template) => update(client, template).await,
        TemplateChange::Delete(prefix) => {
            let sent = client.delete_repository_creation_template().prefix(prefix).send().await;
            sent.map(|_| ()).map_err(|e| registry_error("DeleteRepositoryCreationTemplate", prefix, e))
        }
    }
}

/// The parts of a template a request carries, built for `operation`.
struct Parts {
    encryption: Option<EncryptionConfigurationForRepositoryCreationTemplate>,
    tags: Vec<Tag>,
    exclusions: Vec<ImageTagMutabilityExclusionFilter>,
    applied_for: Vec<RctAppliedFor>,
}

fn parts(operation: &str, template: &CreationTemplate) -> Result<Parts, RegistryError> {
    let failed = |e: aws_sdk_ecr::error::BuildError| build_error(operation, e);
    let encryption = match &template.encryption_configuration {
        Some(e) => Some(
            EncryptionConfigurationForRepositoryCreationTemplate::builder()
                .encryption_type(EncryptionType::from(e.encryption_type.as_str()))
                .set_kms_key(e.kms_key.clone())
                .build()
                .map_err(failed)?,
        ),
        None => None,
    };
    let tags = template
        .resource_tags
        .iter()
        .map(|(key, value)| Tag::builder().key(key).value(value).build().map_err(failed))
        .collect::<Result<Vec<_>, _>>()?;
    let exclusions = template
        .image_tag_mutability_exclusion_filters
        .iter()
        .map(|f| {
            let builder = ImageTagMutabilityExclusionFilter::builder().filter(f);
            builder.filter_type(ImageTagMutabilityExclusionFilterType::Wildcard).build().map_err(failed)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let applied_for = template.applied_for.iter().map(|a| RctAppliedFor::from(a.as_str())).collect();
    Ok(Parts { encryption, tags, exclusions, applied_for })
}

async fn create(client: &Client, template: &CreationTemplate) -> Result<(), RegistryError> {
    const OPERATION: &str = "CreateRepositoryCreationTemplate";
    let Parts { encryption, tags, exclusions, applied_for } = parts(OPERATION, template)?;
    client
        .create_repository_creation_template()
        .prefix(&template.prefix)
        .description(&template.description)
        .set_image_tag_mutability(template.image_tag_mutability.as_deref().map(ImageTagMutability::from))
        .set_image_tag_mutability_exclusion_filters(Some(exclusions).filter(|e| !e.is_empty()))
        .set_encryption_configuration(encryption)
        .set_lifecycle_policy(template.lifecycle_policy.clone())
        .set_repository_policy(template.repository_policy.clone())
        .set_resource_tags(Some(tags).filter(|t| !t.is_empty()))
        .set_applied_for(Some(applied_for))
        .set_custom_role_arn(template.custom_role_arn.clone())
        .send()
        .await
        .map_err(|e| registry_error(OPERATION, &template.prefix, e))?;
    Ok(())
}

/// Every part is sent, empty where the template has none (the API reference doesn't say what an update leaves of
/// parts it omits), so that nothing of the old template is left; the read-back after it checks that it took.
async fn update(client: &Client, template: &CreationTemplate) -> Result<(), RegistryError> {
    const OPERATION: &str = "UpdateRepositoryCreationTemplate";
    let Parts { encryption, tags, exclusions, applied_for } = parts(OPERATION, template)?;
    let aes256 = || {
        EncryptionConfigurationForRepositoryCreationTemplate::builder()
            .encryption_type(EncryptionType::Aes256)
            .build()
            .map_err(|e| build_error(OPERATION, e))
    };
    let encryption = match encryption {
        Some(e) => e,
        None => aes256()?,
    };
    client
        .update_repository_creation_template()
        .prefix(&template.prefix)
        .description(&template.description)
        .image_tag_mutability(ImageTagMutability::from(template.image_tag_mutability.as_deref().unwrap_or("MUTABLE")))
        // At least one filter when any is sent (API reference, `ImageTagMutabilityExclusionFilters`: 1 to 5).
        .set_image_tag_mutability_exclusion_filters(Some(exclusions).filter(|e| !e.is_empty()))
        .encryption_configuration(encryption)
        .lifecycle_policy(template.lifecycle_policy.clone().unwrap_or_default())
        .repository_policy(template.repository_policy.clone().unwrap_or_default())
        .set_resource_tags(Some(tags))
        .set_applied_for(Some(applied_for))
        .custom_role_arn(template.custom_role_arn.clone().unwrap_or_default())
        .send()
        .await
        .map_err(|e| registry_error(OPERATION, &template.prefix, e))?;
    Ok(())
}
