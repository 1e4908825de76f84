//! `ecr-warden unused` (issue 19, part 4): repositories nobody uses or owns, against moto. moto records no pulls
//! and stamps every push "now", so one repository's `DescribeImages` is answered by a loopback stand-in with an
//! image pushed and last pulled long ago (the fields and epoch-second timestamps of ECR's answer; the request is
//! validated by the contract check like any other).

use integration_tests::faults::FaultProxy;
use integration_tests::Moto;
use serde_json::{json, Value};

const DAY: i64 = 86_400;

async fn create(ecr: &aws_sdk_ecr::Client, name: &str, owner: Option<&str>) {
    let mut create = ecr.create_repository().repository_name(name);
    if let Some(owner) = owner {
        create = create.tags(aws_sdk_ecr::types::Tag::builder().key("owner").value(owner).build().expect("tag"));
    }
    create.send().await.expect("create");
}

async fn push(ecr: &aws_sdk_ecr::Client, name: &str) {
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": format!("sha256:{:064}", 1)},
        "layers": []});
    ecr.put_image()
        .repository_name(name)
        .image_manifest(manifest.to_string())
        .image_tag("v1")
        .send()
        .await
        .expect("push");
}

#[tokio::test]
async fn empty_idle_and_unowned_repositories_are_listed_with_their_size_and_nothing_changes() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, "empty/repo", Some("team-a")).await;
    create(&ecr, "team/fresh", Some("team-a")).await;
    push(&ecr, "team/fresh").await;
    create(&ecr, "team/stale", Some("team-b")).await;
    create(&ecr, "team/nobody", None).await;
    push(&ecr, "team/nobody").await;
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64;
    let stale = json!({"imageDetails": [{"registryId": "123456789012", "repositoryName": "team/stale",
        "imageDigest": format!("sha256:{:064}", 2), "imageTags": ["v1"], "imageSizeInBytes": 5_000_000,
        "imagePushedAt": now - 400 * DAY, "lastRecordedPullTime": now - 200 * DAY}]})
    .to_string();
    proxy.answer("DescribeImages", move |body| body.contains("team/stale").then(|| stale.clone()));
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str())];

    moto.reset_recording();
    let run = moto.ecr_warden_with(&["unused", "--days", "90", "--output", "json"], &env);
    assert_eq!(run.code(), 0, "{run:?}");
    let report = run.json();
    let listed: Vec<(String, Value)> = report["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .map(|r| (r["repository"].as_str().unwrap_or_default().to_string(), r["flags"].clone()))
        .collect();
    assert_eq!(
        listed,
        [
            ("empty/repo".to_string(), json!(["empty"])),
            ("team/nobody".to_string(), json!(["unowned"])),
            ("team/stale".to_string(), json!(["idle"])),
        ],
        "team/fresh is in use and owned: {report:#}"
    );
    let stale = &report["repositories"][2];
    assert_eq!((stale["bytes"].as_u64(), stale["days_since_use"].as_i64()), (Some(5_000_000), Some(200)));
    assert_eq!(stale["owner"], "team-b");
    assert_eq!(
        report["summary"],
        json!({"repositories": 4, "flagged": 3, "empty": 1, "idle": 1, "unowned": 1, "flagged_bytes": 5_000_000 + report["repositories"][1]["bytes"].as_u64().unwrap_or(0), "errors": 0})
    );
    assert!(moto.writes().is_empty(), "read-only: {:?}", moto.writes());

    let table = moto.ecr_warden_with(&["unused", "--days", "90"], &env);
    let stdout = table.stdout();
    assert!(stdout.starts_with("REPOSITORY"), "{stdout}");
    assert!(
        stdout.contains("team/stale   idle") && stdout.contains("5.0 MB") && stdout.contains("200 days ago"),
        "{stdout}"
    );
    assert!(stdout.contains("3 of 4 repositories listed: 1 empty, 1 idle (no push or recorded pull for 90 days), 1 without the `owner` tag"), "{stdout}");

    let bad = moto.ecr_warden(&["unused", "--owner-tag", "aws:owner"]);
    assert_eq!(bad.code(), 64, "a usage mistake: {bad:?}");
    moto.keep_stood_in(&proxy);
}
