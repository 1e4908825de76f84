//! The Tagging API option against mocked SDK clients (moto's Resource Groups Tagging API doesn't cover ECR):
//! `prefetch_tags` reads every page of `GetResources`, `tags` answers from it without `ListTagsForResource`,
//! a repository the Tagging API didn't list is asked directly, and a pass over a few repositories of a large
//! registry doesn't page through it (nor keep what an earlier pass read).

use aws_sdk_ecr::operation::list_tags_for_resource::ListTagsForResourceOutput;
use aws_sdk_resourcegroupstagging::operation::get_resources::GetResourcesOutput;
use aws_sdk_resourcegroupstagging::types::{ResourceTagMapping, Tag};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use warden_aws::EcrRegistry;
use warden_core::registry::Registry;

const ARN: &str = "arn:aws:ecr:us-east-1:123456789012:repository/";

fn mapping(name: &str, tags: &[(&str, &str)]) -> ResourceTagMapping {
    let tags = tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build().expect("tag")).collect();
    ResourceTagMapping::builder().resource_arn(format!("{ARN}{name}")).set_tags(Some(tags)).build()
}

#[tokio::test]
async fn tags_come_from_the_tagging_api_in_pages_and_unlisted_repositories_are_asked_directly() {
    let pages = mock!(aws_sdk_resourcegroupstagging::Client::get_resources)
        .match_requests(|req| {
            req.resource_type_filters() == ["ecr:repository"] && req.resources_per_page() == Some(100)
        })
        .sequence()
        .output(|| {
            GetResourcesOutput::builder()
                .resource_tag_mapping_list(mapping("team-a/api", &[("managed-by", "ecr-warden")]))
                .resource_tag_mapping_list(mapping("team-a/web", &[("owner", "a"), ("managed-by", "terraform")]))
                .pagination_token("page-2")
                .build()
        })
        .output(|| {
            GetResourcesOutput::builder()
                .resource_tag_mapping_list(mapping("team-b/api", &[]))
                .pagination_token("")
                .build()
        })
        .build();
    let tagging = mock_client!(aws_sdk_resourcegroupstagging, RuleMode::Sequential, [&pages]);
    let direct = mock!(aws_sdk_ecr::Client::list_tags_for_resource)
        .match_requests(|req| req.resource_arn() == Some(&format!("{ARN}team-c/new")))
        .then_output(|| {
            ListTagsForResourceOutput::builder()
                .tags(aws_sdk_ecr::types::Tag::builder().key("owner").value("c").build().expect("tag"))
                .build()
        });
    let other =
        mock!(aws_sdk_ecr::Client::list_tags_for_resource).then_output(|| ListTagsForResourceOutput::builder().build());
    let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&direct, &other]);
    let registry = EcrRegistry::from_client(ecr).with_tagging_api(tagging);

    let pass: Vec<String> =
        ["team-a/api", "team-a/web", "team-b/api", "team-c/new"].iter().map(|n| format!("{ARN}{n}")).collect();
    registry.prefetch_tags(&pass, 4).await.expect("prefetch");
    assert_eq!(pages.num_calls(), 2, "both pages read");

    let web = registry.tags(&format!("{ARN}team-a/web")).await.expect("tags");
    assert_eq!(web.get("managed-by").map(String::as_str), Some("terraform"));
    assert_eq!(web.len(), 2);
    assert!(registry.tags(&format!("{ARN}team-b/api")).await.expect("tags").is_empty(), "listed without tags");
    assert_eq!(direct.num_calls() + other.num_calls(), 0, "listed repositories cost no call of their own");

    let unlisted = registry.tags(&format!("{ARN}team-c/new")).await.expect("tags");
    assert_eq!(unlisted.get("owner").map(String::as_str), Some("c"));
    assert_eq!(direct.num_calls(), 1, "a repository the Tagging API didn't list is asked directly");

    // A later pass over one repository of 1,000: one direct call beats 10 pages; nothing earlier is reused.
    registry.prefetch_tags(&[format!("{ARN}team-a/api")], 1_000).await.expect("prefetch");
    assert_eq!(pages.num_calls(), 2, "no paging for a small pass");
    registry.tags(&format!("{ARN}team-a/api")).await.expect("tags");
    assert_eq!(other.num_calls(), 1, "asked directly, not answered from the earlier pass");
}

#[tokio::test]
async fn without_the_option_nothing_is_prefetched() {
    let direct =
        mock!(aws_sdk_ecr::Client::list_tags_for_resource).then_output(|| ListTagsForResourceOutput::builder().build());
    let ecr = mock_client!(aws_sdk_ecr, RuleMode::MatchAny, [&direct]);
    let registry = EcrRegistry::from_client(ecr);
    registry.prefetch_tags(&[format!("{ARN}team-a/api")], 1).await.expect("a no-op");
    registry.tags(&format!("{ARN}team-a/api")).await.expect("tags");
    assert_eq!(direct.num_calls(), 1);
}
