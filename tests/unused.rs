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

/// `--organization`: every active account's registries (the caller's own with its own credentials, each member's
/// through its role), grouped by account with each account's counts and everyone's; a member whose role refuses is
/// that registry's error and the run exits 1 after the others are reported.
#[tokio::test]
async fn the_organization_is_reported_account_by_account() {
    let moto = Moto::start();
    let members = moto.organization(2).await;
    create(&moto.ecr().await, "own/empty", Some("team-a")).await;
    create(&moto.ecr_of(&members[0], "us-east-1").await, "team/unowned", None).await;
    create(&moto.ecr_of(&members[0], "eu-west-1").await, "team/empty", None).await;
    moto.reset_recording();

    let args = ["unused", "--organization", "--regions", "us-east-1,eu-west-1", "--output", "json"];
    let run = moto.ecr_warden(&args);
    assert_eq!(run.code(), 0, "{run:?}");
    let json = run.json();
    assert_eq!(json["registries"].as_array().map(Vec::len), Some(6), "3 accounts × 2 regions: {json:#}");
    let flagged = |account: &str| json["accounts"][account]["summary"]["flagged"].as_u64();
    assert_eq!(
        (flagged(integration_tests::ACCOUNT), flagged(&members[0]), flagged(&members[1])),
        (Some(1), Some(2), Some(0))
    );
    assert_eq!(json["accounts"][&members[0]]["summary"]["unowned"], 2);
    assert_eq!((json["summary"]["repositories"].as_u64(), json["summary"]["empty"].as_u64()), (Some(3), Some(3)));
    assert!(moto.writes().iter().all(|op| op == "AssumeRole"), "read-only: {:?}", moto.writes());

    let table = moto.ecr_warden(&["unused", "--organization", "--regions", "us-east-1,eu-west-1"]);
    let text = table.stdout();
    assert!(text.contains(&format!("ACCOUNT {}\n", members[0])), "{text}");
    assert!(text.contains("team/empty  empty, unowned"), "{text}");
    assert!(text.contains(&format!("account {}: 2 of 2 repositories listed", members[0])), "{text}");
    assert!(text.contains("all 3 accounts: 3 of 3 repositories listed: 3 empty"), "{text}");
    assert!(text.trim_end().ends_with("(6 registries)"), "{text}");

    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    proxy.refuse(&members[1], 403, "AccessDenied");
    let env = [("AWS_ENDPOINT_URL_STS", proxy.endpoint.as_str())];
    let refused = moto.ecr_warden_with(&["unused", "--organization", "--output", "json"], &env);
    assert_eq!(refused.code(), 1, "{refused:?}");
    let json = refused.json();
    let failed: Vec<&Value> =
        json["registries"].as_array().expect("registries").iter().filter(|r| r.get("error").is_some()).collect();
    assert_eq!(failed.len(), 1, "{json:#}");
    assert_eq!(failed[0]["account"], members[1].as_str());
    assert_eq!(json["accounts"][&members[1]]["failed"], 1);
}
