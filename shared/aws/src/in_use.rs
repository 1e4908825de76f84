//! The images in use in one account and region, as ECS and Lambda tell them (see
//! `warden_core::lifecycle::in_use`):
//!
//! - ECS: every cluster (`ListClusters`), its running tasks (`ListTasks` with `desiredStatus` `RUNNING`,
//!   `DescribeTasks` 100 at a time: each container's `imageDigest`, else its `image`) and its services
//!   (`ListServices`, `DescribeServices` 10 at a time: each deployment's task definition, read once with
//!   `DescribeTaskDefinition`: each container definition's `image`). A service's deployments are its current
//!   tasks and those it would launch next: what a scale-out pulls.
//! - Lambda: every function (`ListFunctions`) packaged as an image (`PackageType` `Image`): `GetFunction`'s
//!   `Code.ResolvedImageUri`, the digest it runs.

use std::collections::BTreeSet;

use aws_sdk_ecr::error::{ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use warden_core::alert::Origin;
use warden_core::lifecycle::in_use::{InUse, InUseSettings};
use warden_core::registry::RegistryError;

/// `DescribeTasks` takes at most 100 tasks (ECS API reference).
const TASKS_PER_DESCRIBE: usize = 100;
/// `DescribeServices` takes at most 10 services (ECS API reference).
const SERVICES_PER_DESCRIBE: usize = 10;

fn failed<E>(operation: &str, service: &str, error: SdkError<E, HttpResponse>) -> RegistryError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    RegistryError::Failed { operation: operation.into(), message: crate::errors::message(service, &error) }
}

/// Every image in use in `origin`'s registry that `settings` ask to look for.
pub(crate) async fn images_in_use(
    ecs: &aws_sdk_ecs::Client,
    lambda: &aws_sdk_lambda::Client,
    origin: &Origin,
    settings: &InUseSettings,
) -> Result<InUse, RegistryError> {
    let mut in_use = InUse::default();
    for image in &settings.images {
        in_use.add(origin, &qualified(image, origin), "the baseline's [in_use] list");
    }
    if settings.ecs {
        ecs_images(ecs, origin, &mut in_use).await?;
    }
    if settings.lambda {
        lambda_images(lambda, origin, &mut in_use).await?;
    }
    Ok(in_use)
}

/// A listed image as a full URI in `origin`'s registry, unless it is one already.
fn qualified(image: &str, origin: &Origin) -> String {
    match image.contains(".dkr.ecr.") {
        true => image.to_string(),
        false => format!("{}.dkr.ecr.{}.amazonaws.com/{image}", origin.account, origin.region),
    }
}

async fn ecs_images(ecs: &aws_sdk_ecs::Client, origin: &Origin, in_use: &mut InUse) -> Result<(), RegistryError> {
    let mut clusters = Vec::new();
    let mut pages = ecs.list_clusters().into_paginator().send();
    while let Some(page) = pages.next().await {
        clusters.extend(page.map_err(|e| failed("ListClusters", "ECS", e))?.cluster_arns().iter().cloned());
    }
    let mut task_definitions = BTreeSet::new();
    for cluster in &clusters {
        let mut tasks = Vec::new();
        let mut pages = ecs
            .list_tasks()
            .cluster(cluster)
            .desired_status(aws_sdk_ecs::types::DesiredStatus::Running)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            tasks.extend(page.map_err(|e| failed("ListTasks", "ECS", e))?.task_arns().iter().cloned());
        }
        for chunk in tasks.chunks(TASKS_PER_DESCRIBE) {
            let described = ecs.describe_tasks().cluster(cluster).set_tasks(Some(chunk.to_vec())).send().await;
            let described = described.map_err(|e| failed("DescribeTasks", "ECS", e))?;
            for task in described.tasks() {
                let user = format!("ECS task {}", task.task_arn().unwrap_or("(unnamed)"));
                for container in task.containers() {
                    // The digest a container runs, when ECS has resolved it; else the reference it was started from.
                    let reference = match (container.image(), container.image_digest()) {
                        (Some(image), Some(digest)) => Some(format!("{}@{digest}", without_pin(image))),
                        (Some(image), None) => Some(image.to_string()),
                        (None, _) => None,
                    };
                    if let Some(reference) = reference {
                        in_use.add(origin, &reference, &user);
                    }
                }
            }
        }
        let mut services = Vec::new();
        let mut pages = ecs.list_services().cluster(cluster).into_paginator().send();
        while let Some(page) = pages.next().await {
            services.extend(page.map_err(|e| failed("ListServices", "ECS", e))?.service_arns().iter().cloned());
        }
        for chunk in services.chunks(SERVICES_PER_DESCRIBE) {
            let described = ecs.describe_services().cluster(cluster).set_services(Some(chunk.to_vec())).send().await;
            let described = described.map_err(|e| failed("DescribeServices", "ECS", e))?;
            for service in described.services() {
                let user = format!("ECS service {}", service.service_arn().unwrap_or("(unnamed)"));
                let deployed = service.deployments().iter().filter_map(|d| d.task_definition());
                for definition in service.task_definition().into_iter().chain(deployed) {
                    task_definitions.insert((definition.to_string(), user.clone()));
                }
            }
        }
    }
    let mut read = std::collections::HashMap::new();
    for (definition, user) in task_definitions {
        if !read.contains_key(&definition) {
            let described = ecs.describe_task_definition().task_definition(&definition).send().await;
            let described = described.map_err(|e| failed("DescribeTaskDefinition", "ECS", e))?;
            let images: Vec<String> = described
                .task_definition()
                .map(|d| d.container_definitions().iter().filter_map(|c| c.image().map(str::to_string)).collect())
                .unwrap_or_default();
            read.insert(definition.clone(), images);
        }
        for image in read.get(&definition).into_iter().flatten() {
            in_use.add(origin, image, &user);
        }
    }
    Ok(())
}

/// `NAME:TAG` or `NAME@DIGEST` without its tag or digest.
fn without_pin(image: &str) -> &str {
    let image = image.split('@').next().unwrap_or(image);
    match image.rsplit_once(':') {
        Some((name, tag)) if !tag.contains('/') => name,
        _ => image,
    }
}

async fn lambda_images(
    lambda: &aws_sdk_lambda::Client,
    origin: &Origin,
    in_use: &mut InUse,
) -> Result<(), RegistryError> {
    let mut functions = Vec::new();
    let mut pages = lambda.list_functions().into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| failed("ListFunctions", "Lambda", e))?;
        let images =
            page.functions().iter().filter(|f| f.package_type() == Some(&aws_sdk_lambda::types::PackageType::Image));
        let named = images.filter_map(|f| Some((f.function_name()?.to_string(), f.function_arn()?.to_string())));
        functions.extend(named);
    }
    for (name, arn) in functions {
        let got = lambda.get_function().function_name(&name).send().await;
        let got = got.map_err(|e| failed("GetFunction", "Lambda", e))?;
        let code = got.code();
        if let Some(uri) = code.and_then(|c| c.resolved_image_uri()).or_else(|| code.and_then(|c| c.image_uri())) {
            in_use.add(origin, uri, &format!("Lambda function {arn}"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_containers_image_loses_its_tag_before_its_digest_is_added() {
        let host = "123456789012.dkr.ecr.us-east-1.amazonaws.com";
        assert_eq!(without_pin(&format!("{host}/team/api:v1")), format!("{host}/team/api"));
        assert_eq!(without_pin(&format!("{host}/team/api@sha256:{:064}", 1)), format!("{host}/team/api"));
        assert_eq!(without_pin("registry:5000/app"), "registry:5000/app");
        let origin = Origin { account: "123456789012".into(), region: "us-east-1".into() };
        assert_eq!(qualified("team/api:v1", &origin), format!("{host}/team/api:v1"));
    }
}
