//! `DescribeRepositories` and `DescribeImageScanFindings` paging: moto answers in one page whatever is
//! asked, so a loopback endpoint that really pages stands in for ECR here.

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
            body: page.to_string().into_bytes(),
        })
    });
    let registry = registry_at(&server.address).await;

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

async fn registry_at(address: &str) -> EcrRegistry {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(format!("http://{address}"))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
        .retry_config(RetryConfig::disabled())
        .load()
        .await;
    EcrRegistry::new(&config)
}

#[tokio::test]
async fn every_page_of_scan_findings_is_read_basic_and_enhanced() {
    let server = serve(|request| {
        let body: Value = serde_json::from_str(&request.body).unwrap_or(Value::Null);
        let basic = |id: &str| json!({"name": id, "severity": "HIGH", "attributes": [{"key": "package_name", "value": "zlib"}]});
        let page = match body.get("nextToken").and_then(Value::as_str) {
            None => json!({"imageScanFindings": {"findings": [basic("CVE-1"), basic("CVE-2")]}, "nextToken": "page-2"}),
            Some(_) => json!({"imageScanFindings": {"enhancedFindings": [{
                "severity": "CRITICAL", "score": 9.8, "sourceUrl": "https://x",
                "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-3", "source": "NVD", "sourceUrl": "https://nvd/CVE-3",
                    "vulnerablePackages": [{"name": "openssl", "version": "3.0.2", "fixedInVersion": "3.0.7"}]}}]}}),
        };
        Some(Response {
            status: 200,
            headers: vec![("content-type".into(), "application/x-amz-json-1.1".into())],
            body: page.to_string().into_bytes(),
        })
    });
    let registry = registry_at(&server.address).await;
    let findings = registry.scan_findings("app", "sha256:1").await.expect("findings").expect("a scan");
    let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["CVE-1", "CVE-2", "CVE-3"]);
    assert_eq!(findings[0].package.as_deref(), Some("zlib"));
    assert_eq!(findings[2].fixed_in.as_deref(), Some("3.0.7"));
    assert_eq!(findings[2].score, Some(9.8));
    let first: Value =
        serde_json::from_str(&server.requests.recv_timeout(Duration::from_secs(5)).expect("a request").body)
            .expect("JSON body");
    assert_eq!(first["maxResults"], 1000, "pages of ECR's maximum size");
    assert_eq!(first["imageId"], json!({"imageDigest": "sha256:1"}));
    let second: Value =
        serde_json::from_str(&server.requests.recv_timeout(Duration::from_secs(5)).expect("a request").body)
            .expect("JSON body");
    assert_eq!(second["nextToken"], "page-2");
    assert!(server.requests.try_recv().is_err(), "no request past the last page");
}
