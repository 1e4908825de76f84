//! Vulnerability deadlines (issue 19, part 2): a finding past its severity's deadline, counted from its first
//! observation, is reported by every audit (`plan`, `apply`, the nightly backfill) with the newest scan's age and
//! the images Inspector no longer rescans; the nightly audit alerts once per image a day (the id names the day).
//!
//! moto answers `DescribeImageScanFindings` with results set through its own API (enhanced findings with
//! `firstObservedAt`, as Inspector gives them). It has no `SCAN_ELIGIBILITY_EXPIRED` status, so one repository's
//! `DescribeImages` is answered by a loopback stand-in, its request checked by the contract check.

use integration_tests::faults::FaultProxy;
use integration_tests::{Moto, ACCOUNT, REGION, REPOSITORY_CONTROLS_OFF};
use serde_json::{json, Value};

const DAY: i64 = 86_400;

const DEADLINES: &str = r#"
[defaults.vulnerabilities]
mode = "audit"
deadlines = { CRITICAL = 15, HIGH = 30 }
suppressions = [{ id = "CVE-2026-0003", reason = "not reachable", expires = 2099-01-01 }]
"#;

fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).expect("time").as_secs() as i64
}

async fn push(ecr: &aws_sdk_ecr::Client, name: &str) -> String {
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": format!("sha256:{:064}", 3)},
        "layers": []});
    let put = ecr.put_image().repository_name(name).image_manifest(manifest.to_string()).image_tag("v1");
    let digest = put.send().await.expect("push").image.and_then(|i| i.image_id).and_then(|i| i.image_digest);
    digest.expect("a digest")
}

/// An active Inspector finding first observed `days_ago`.
fn enhanced(id: &str, severity: &str, days_ago: i64) -> Value {
    json!({"awsAccountId": ACCOUNT, "findingArn": format!("arn:aws:inspector2:{REGION}:{ACCOUNT}:finding/{id}"),
           "firstObservedAt": now() - days_ago * DAY, "lastObservedAt": now(), "severity": severity, "status": "ACTIVE",
           "score": 9.0, "type": "PACKAGE_VULNERABILITY",
           "packageVulnerabilityDetails": {"vulnerabilityId": id, "source": "NVD",
                                           "vulnerablePackages": [{"name": "openssl", "version": "1.1.1"}]}})
}

#[tokio::test]
async fn findings_past_their_deadline_are_reported_by_every_audit_and_alerted_once_a_day() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("team/api").send().await.expect("create");
    ecr.create_repository().repository_name("team/old").send().await.expect("create");
    let digest = push(&ecr, "team/api").await;
    let image = aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(&digest).build();
    ecr.start_image_scan().repository_name("team/api").image_id(image).send().await.expect("scan");
    let result = json!({
        "registryId": ACCOUNT, "repositoryName": "team/api", "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "ACTIVE", "description": "Continuous scan is selected for image."},
        "imageScanFindings": {
            "imageScanCompletedAt": now() - 2 * DAY,
            "enhancedFindings": [
                enhanced("CVE-2026-0001", "CRITICAL", 20),
                enhanced("CVE-2026-0002", "HIGH", 10),
                enhanced("CVE-2026-0003", "CRITICAL", 90),
            ],
            "findingSeverityCounts": {"CRITICAL": 2, "HIGH": 1}
        }
    });
    let set =
        moto.moto_api("/moto-api/static/ecr/scan-finding-results", &json!({"results": [result], "region": REGION}));
    assert_eq!(set, 201, "moto took the findings");
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    let lapsed = json!({"imageDetails": [{"registryId": ACCOUNT, "repositoryName": "team/old",
        "imageDigest": format!("sha256:{:064}", 9), "imageTags": ["2023"], "imagePushedAt": now() - 900 * DAY,
        "imageScanStatus": {"status": "SCAN_ELIGIBILITY_EXPIRED", "description": "no longer eligible"}}]})
    .to_string();
    proxy.answer("DescribeImages", move |body| body.contains("team/old").then(|| lapsed.clone()));
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str())];
    let baseline = moto.write_file("baseline.toml", &format!("{REPOSITORY_CONTROLS_OFF}{DEADLINES}"));
    let baseline = baseline.to_str().expect("utf-8 path");

    moto.reset_recording();
    let plan = moto.ecr_warden_with(&["plan", "--baseline", baseline, "--output", "json"], &env);
    assert_eq!(plan.code(), 3, "a finding past its deadline is a finding apply can't fix: {plan:?}");
    let report = plan.json();
    let review = |name: &str| {
        let all = report["repositories"].as_array().expect("repositories");
        all.iter().find(|r| r["repository"] == name).map(|r| r["vulnerabilities"].clone()).expect("reviewed")
    };
    let api = review("team/api");
    assert_eq!(api["overdue"][0]["digest"], digest.as_str());
    let overdue: Vec<(&str, i64)> = api["overdue"][0]["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| (f["id"].as_str().unwrap_or(""), f["days_overdue"].as_i64().unwrap_or(-1)))
        .collect();
    assert_eq!(overdue, [("CVE-2026-0001", 5)], "HIGH is within 30 days; the suppressed one doesn't count: {api:#}");
    assert_eq!((api["newest_scan_days"].as_i64(), api["images_reviewed"].as_u64()), (Some(2), Some(1)));
    let old = review("team/old");
    assert_eq!(old["unmonitored"], json!([format!("sha256:{:064}", 9)]));
    assert_eq!(old["images_reviewed"], 0, "a lapsed image has no fresh findings to read");
    assert_eq!(
        (report["summary"]["overdue_findings"].as_u64(), report["summary"]["unmonitored_images"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(
        moto.operation_counts().get("DescribeImageScanFindings"),
        Some(&1),
        "only the image that may be overdue"
    );
    assert!(moto.writes().is_empty(), "read-only: {:?}", moto.writes());

    let table = moto.ecr_warden_with(&["plan", "--baseline", baseline], &env).stdout();
    assert!(table.contains("team/api vulnerabilities: 1 past their deadline in team/api:v1"), "{table}");
    assert!(table.contains("    CRITICAL CVE-2026-0001: due by "), "{table}");
    assert!(table.contains("team/old vulnerabilities: 1 images no longer rescanned by Inspector"), "{table}");
    assert!(table.contains("; 1 vulnerability findings past their deadline; 1 images no longer rescanned"), "{table}");

    // The nightly audit: one alert per image with overdue findings, the same id on a second run that day.
    let audit = moto.fixture_event_file("scheduled-event.json");
    let env_audit = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str()), ("ECR_WARDEN_BASELINE", baseline)];
    let alert_of = |run: &integration_tests::Run| {
        assert_eq!(run.code(), 0, "{run:?}");
        let handled = run.json();
        let alerts = handled["alerts"].as_array().cloned().unwrap_or_default();
        assert_eq!(alerts.len(), 1, "one alert, for the one image: {handled:#}");
        alerts[0]["alert"].clone()
    };
    let first = alert_of(&moto.ecr_warden_with(&["handle", "--event", &audit, "--output", "json"], &env_audit));
    assert_eq!(first["title"], "CRITICAL: 1 finding past their deadline in team/api:v1");
    let problem = first["problems"][0].as_str().unwrap_or_default();
    assert!(
        problem.starts_with("CRITICAL CVE-2026-0001 openssl: first observed ") && problem.ends_with(", 5 days overdue"),
        "{problem}"
    );
    let second = alert_of(&moto.ecr_warden_with(&["handle", "--event", &audit, "--output", "json"], &env_audit));
    assert_eq!(first["id"], second["id"], "at most one alert per image a day");
    moto.keep_stood_in(&proxy);
}

#[tokio::test]
async fn without_deadlines_an_audit_reads_no_images() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("team/api").send().await.expect("create");
    push(&ecr, "team/api").await;
    let baseline = moto.write_file(
        "baseline.toml",
        &format!("{REPOSITORY_CONTROLS_OFF}[defaults.vulnerabilities]\nmode = \"audit\"\n"),
    );
    moto.reset_recording();
    let plan = moto.ecr_warden(&["plan", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"]);
    assert_eq!(plan.code(), 0, "{plan:?}");
    let calls = moto.operation_counts();
    assert_eq!((calls.get("DescribeImages"), calls.get("DescribeImageScanFindings")), (None, None), "{calls:?}");
    assert!(plan.json()["repositories"][0].get("vulnerabilities").is_none());
}
