//! `DescribeRepositories` paging: moto answers in one page whatever is asked, so a loopback endpoint
//! that really pages stands in for ECR here.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecr::config::Credentials;
use integration_tests::http::{serve, Response};
use serde_json::{json, Value};
use warden_aws::EcrRegistry;
use warden_core::registry::Registry;

fn repository(name: &str) -> Value {
    json!({"repositoryName": name, "repositoryArn": format!("arn:aws:ecr:us-east-1:123456789012:repository/{name}"),
           "imageTagMutability": "MUTABLE", "imageScanningConfiguration": {"scanOnPush": false},
           "encryptionConfiguration": {"encryptionType": "AES256"}})
}

#[tokio::test]
async fn every_page_of_repositories_is_read() {
    let server = serve(|request| {
        let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
        let page = match body.get("nextToken").and_then(Value::as_str) {
            None => json!({"repositories": [repository("a"), repository("b")], "nextToken": "page-2"}),
            Some("page-2") => json!({"repositories": [repository("c")], "nextToken": "page-3"}),
            Some(_) => json!({"repositories": [repository("d")]}),
        };
        Some(Response {
            status: 200,
            headers: vec![("content-type".into(), "application/x-amz-json-1.1".into())],
            body: page.to_string(),
        })
    });
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{}", server.address))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    let registry = EcrRegistry::new(&config);

    let names: Vec<String> = registry.list_repositories().await.expect("list").into_iter().map(|r| r.name).collect();
    assert_eq!(names, ["a", "b", "c", "d"]);

    let requests: Vec<Value> = (0..3)
        .map(|_| server.requests.recv_timeout(Duration::from_secs(5)).expect("a request"))
        .map(|r| {
            assert!(r.headers["x-amz-target"].ends_with("DescribeRepositories"), "{r:?}");
            serde_json::from_str(&r.body).expect("JSON body")
        })
        .collect();
    assert_eq!(requests[0], json!({"maxResults": 1000}), "pages of ECR's maximum size");
    assert_eq!(requests[1], json!({"maxResults": 1000, "nextToken": "page-2"}));
    assert_eq!(requests[2], json!({"maxResults": 1000, "nextToken": "page-3"}));
    assert!(server.requests.try_recv().is_err(), "no request past the last page");
}
