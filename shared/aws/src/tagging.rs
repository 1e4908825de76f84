//! Repository tags in bulk from the Resource Groups Tagging API (`tag:GetResources`, 100 resources a page),
//! an option for passes over the whole registry: a compliant repository then costs 2 calls of its own instead
//! of 3. The API lists only resources that have (or had) tags; a repository it doesn't list is asked
//! directly (`ListTagsForResource`), so a missing answer never reads as "no tags".

use std::collections::{BTreeMap, HashMap};

use aws_sdk_resourcegroupstagging::Client;
use warden_core::registry::RegistryError;

/// The most resources `GetResources` returns a page.
pub(crate) const RESOURCES_PER_PAGE: i32 = 100;

/// Tags by repository ARN, for every ECR repository the Tagging API lists in the client's region.
pub(crate) async fn repository_tags(
    client: &Client,
) -> Result<HashMap<String, BTreeMap<String, String>>, RegistryError> {
    let mut pages = client
        .get_resources()
        .resource_type_filters("ecr:repository")
        .resources_per_page(RESOURCES_PER_PAGE)
        .into_paginator()
        .send();
    let mut tags = HashMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| RegistryError::Failed {
            operation: "GetResources".into(),
            message: crate::errors::message("Resource Groups Tagging", &e),
        })?;
        for resource in page.resource_tag_mapping_list() {
            let Some(arn) = resource.resource_arn() else { continue };
            let map = resource.tags().iter().map(|t| (t.key().to_string(), t.value().to_string())).collect();
            tags.insert(arn.to_string(), map);
        }
    }
    Ok(tags)
}
