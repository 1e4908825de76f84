//! Image pushes, scan results and alerts, end to end against moto: an image is pushed (`PutImage`),
//! the push event is replayed through `ecr-warden handle`, scan findings are set through moto's API, the
//! scan-complete fixture is replayed, and the alert is read back from an SQS queue subscribed to the SNS
//! topic and from an SQS queue targeted by a rule on the alert bus.

use integration_tests::{event_fixture, fixture, Moto, REGION};
use serde_json::{json, Value};

const REPOSITORY: &str = "my-repository-name";
const BUS: &str = "ecr-warden-alerts";

/// The topic and bus alerts go to, each with an SQS queue that receives what they send.
struct Sinks {
    topic_arn: String,
    topic_queue: String,
    bus_queue: String,
}

impl Sinks {
    async fn create(moto: &Moto) -> Self {
        let (sns, sqs, events) = (moto.sns().await, moto.sqs().await, moto.events().await);
        let topic_arn = sns.create_topic().name("ecr-warden-alerts").send().await.expect("topic").topic_arn;
        let topic_arn = topic_arn.expect("topic ARN");
        let queue = |name: &'static str| {
            let sqs = sqs.clone();
            async move {
                let url = sqs.create_queue().queue_name(name).send().await.expect("queue").queue_url.expect("url");
                let arn = format!("arn:aws:sqs:{REGION}:123456789012:{name}");
                (url, arn)
            }
        };
        let (topic_queue, topic_queue_arn) = queue("from-topic").await;
        sns.subscribe()
            .topic_arn(&topic_arn)
            .protocol("sqs")
            .endpoint(topic_queue_arn)
            .send()
            .await
            .expect("subscribe");
        let (bus_queue, bus_queue_arn) = queue("from-bus").await;
        events.create_event_bus().name(BUS).send().await.expect("bus");
        let pattern = json!({"source": ["ecr-warden"]}).to_string();
        events.put_rule().name("alerts").event_bus_name(BUS).event_pattern(pattern).send().await.expect("rule");
        let target =
            aws_sdk_eventbridge::types::Target::builder().id("queue").arn(bus_queue_arn).build().expect("target");
        events.put_targets().rule("alerts").event_bus_name(BUS).targets(target).send().await.expect("target");
        Self { topic_arn, topic_queue, bus_queue }
    }

    fn env(&self) -> Vec<(&'static str, &str)> {
        vec![("ECR_WARDEN_ALERT_TOPIC_ARN", &self.topic_arn), ("ECR_WARDEN_ALERT_BUS", BUS)]
    }
}

/// Every message waiting in `queue`, bodies parsed as JSON (moto delivers before `handle` returns).
async fn drain(moto: &Moto, queue: &str) -> Vec<Value> {
    let sqs = moto.sqs().await;
    let mut bodies = Vec::new();
    loop {
        let out = sqs.receive_message().queue_url(queue).max_number_of_messages(10).send().await.expect("receive");
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            return bodies;
        }
        for message in messages {
            let body = message.body.expect("a body");
            bodies.push(serde_json::from_str(&body).expect("JSON body"));
            let receipt = message.receipt_handle.expect("receipt");
            sqs.delete_message().queue_url(queue).receipt_handle(receipt).send().await.expect("delete");
        }
    }
}

/// Pushes one image to `REPOSITORY` and returns its digest.
async fn push_image(moto: &Moto, tag: Option<&str>) -> String {
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                   "digest": format!("sha256:{:064}", 7)},
        "layers": []});
    let put = moto.ecr().await.put_image().repository_name(REPOSITORY).image_manifest(manifest.to_string());
    let out = put.set_image_tag(tag.map(str::to_string)).send().await.expect("put image");
    out.image.and_then(|i| i.image_id).and_then(|i| i.image_digest).expect("a digest")
}

/// A fixture event with its digest (and tag) replaced, written to the test's folder.
fn event_file(moto: &Moto, name: &str, digest: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut event = event_fixture(name);
    event["detail"]["image-digest"] = json!(digest);
    edit(&mut event);
    moto.write_file(name, &event.to_string()).to_str().expect("utf-8").to_string()
}

/// Findings moto returns for the image: two critical, one high, one medium.
fn set_findings(moto: &Moto, digest: &str) {
    let finding = |id: &str, severity: &str, package: &str, version: &str, score: &str| {
        json!({"name": id, "severity": severity, "uri": format!("https://nvd.nist.gov/vuln/detail/{id}"),
               "attributes": [{"key": "package_name", "value": package}, {"key": "package_version", "value": version},
                              {"key": "CVSS3_SCORE", "value": score}]})
    };
    let result = json!({
        "registryId": "123456789012", "repositoryName": REPOSITORY, "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
        "imageScanFindings": {
            "findings": [
                finding("CVE-2024-0001", "CRITICAL", "openssl", "1.1.1k", "9.1"),
                finding("CVE-2024-0002", "HIGH", "zlib", "1.2.11", "7.5"),
                finding("CVE-2024-0003", "CRITICAL", "glibc", "2.31", "9.8"),
                finding("CVE-2024-0004", "MEDIUM", "curl", "7.68.0", "5.3"),
            ],
            "findingSeverityCounts": {"CRITICAL": 2, "HIGH": 1, "MEDIUM": 1}
        }
    });
    let status =
        moto.moto_api("/moto-api/static/ecr/scan-finding-results", &json!({"results": [result], "region": REGION}));
    assert_eq!(status, 201, "moto took the findings");
}

#[tokio::test]
async fn a_push_is_scanned_and_its_critical_findings_arrive_once_on_sns_and_the_bus() {
    let moto = Moto::start();
    let sinks = Sinks::create(&moto).await;
    moto.ecr().await.create_repository().repository_name(REPOSITORY).send().await.expect("create");
    let digest = push_image(&moto, Some("v1.2.3")).await;

    // The push: the repository is governed and, scanning being manual when the image arrived, a scan starts.
    let push = event_file(&moto, "ecr-image-push.json", &digest, |e| e["detail"]["image-tag"] = json!("v1.2.3"));
    moto.reset_recording();
    let run = moto.ecr_warden_with(&["handle", "--event", &push, "--output", "json"], &sinks.env());
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    assert_eq!(handled["handled"], "image", "{handled:#}");
    assert_eq!(handled["report"]["scan"], json!({"scan": "started"}));
    assert_eq!(moto.operation_counts().get("StartImageScan"), Some(&1));
    assert!(handled.get("alerts").is_none(), "a compliant tag and fixed drift make no alert: {handled:#}");

    // The same push again: the repository is compliant now and scans on push, so it costs 5 reads and no write.
    moto.reset_recording();
    let again = moto.ecr_warden_with(&["handle", "--event", &push, "--output", "json"], &sinks.env());
    assert_eq!(again.code(), 0, "{again:?}");
    assert_eq!(again.json()["report"]["scan"]["scan"], "automatic");
    let counts = moto.operation_counts();
    // GetCallerIdentity: which registry the credentials reach, asked once by the command (a function knows it
    // from the ARN it was invoked by).
    let reads = [
        "DescribeRepositories",
        "GetCallerIdentity",
        "GetLifecyclePolicy",
        "GetRegistryScanningConfiguration",
        "GetRepositoryPolicy",
        "ListTagsForResource",
    ];
    assert_eq!(counts.keys().collect::<Vec<_>>(), reads, "{counts:?}");
    assert!(counts.values().all(|n| *n == 1), "each read once: {counts:?}");

    // The scan completes with findings over the threshold (more than 0 critical).
    set_findings(&moto, &digest);
    let scan = event_file(&moto, "ecr-image-scan-complete.json", &digest, |_| {});
    moto.reset_recording();
    let run = moto.ecr_warden_with(&["handle", "--event", &scan, "--output", "json"], &sinks.env());
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    let alert_id = handled["alerts"][0]["alert"]["id"].as_str().expect("an alert").to_string();
    assert_eq!(handled["alerts"][0]["sent_to"].as_array().map(Vec::len), Some(2), "{handled:#}");
    let counts = moto.operation_counts();
    assert_eq!(counts.get("DescribeImageScanFindings"), Some(&1), "one page of findings: {counts:?}");
    assert_eq!(counts.get("PutEvents"), Some(&1), "{counts:?}");
    assert_eq!(
        counts.keys().filter(|op| op.contains("Repositor") || op.contains("Lifecycle")).count(),
        0,
        "{counts:?}"
    );

    let delivered = drain(&moto, &sinks.topic_queue).await;
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    let sns = &delivered[0];
    let subject = sns["Subject"].as_str().expect("a subject");
    let title = format!("CRITICAL vulnerabilities in {REPOSITORY}@{}: CRITICAL 2, HIGH 1, MEDIUM 1", &digest[..19]);
    assert!(subject.len() < 100, "SNS wants fewer than 100 characters: {subject}");
    assert!(subject.ends_with("...") && format!("ecr-warden: {title}").starts_with(&subject[..subject.len() - 3]));
    assert_eq!(sns["MessageAttributes"]["severity"]["Value"], "CRITICAL");
    assert_eq!(sns["MessageAttributes"]["repository"]["Value"], REPOSITORY);
    assert_eq!(sns["MessageAttributes"]["kind"]["Value"], "vulnerability");
    let message = sns["Message"].as_str().expect("a message");
    let glibc = message.find("CRITICAL CVE-2024-0003 glibc 2.31").expect("glibc listed");
    let openssl = message.find("CRITICAL CVE-2024-0001 openssl 1.1.1k").expect("openssl listed");
    assert!(glibc < openssl, "higher score first:\n{message}");
    assert!(message.contains("HIGH CVE-2024-0002 zlib 1.2.11"), "{message}");
    assert!(!message.contains("CVE-2024-0004"), "MEDIUM is below the listing severity:\n{message}");
    assert!(message.contains(&format!("Alert id: {alert_id}")), "{message}");
    assert!(
        message.contains("console.aws.amazon.com/ecr/repositories/private/123456789012/my-repository-name/_/image/")
    );

    let on_bus = drain(&moto, &sinks.bus_queue).await;
    assert_eq!(on_bus.len(), 1, "{on_bus:#?}");
    assert_eq!(on_bus[0]["source"], "ecr-warden");
    assert_eq!(on_bus[0]["detail-type"], "ECR Vulnerability Alert");
    assert_eq!(on_bus[0]["detail"]["id"], alert_id.as_str());
    assert_eq!(on_bus[0]["detail"]["title"], title.as_str(), "the bus carries the whole title");
    assert_eq!(on_bus[0]["detail"]["counts"], json!({"CRITICAL": 2, "HIGH": 1, "MEDIUM": 1}));

    // The same event again (at-least-once delivery): the identical alert, so consumers can drop it.
    let again = moto.ecr_warden_with(&["handle", "--event", &scan, "--output", "json"], &sinks.env());
    assert_eq!(again.code(), 0, "{again:?}");
    let repeated = drain(&moto, &sinks.topic_queue).await;
    assert_eq!(repeated.len(), 1);
    assert_eq!((&repeated[0]["Subject"], &repeated[0]["Message"]), (&sns["Subject"], &sns["Message"]));
    assert_eq!(drain(&moto, &sinks.bus_queue).await[0]["detail"], on_bus[0]["detail"]);
}

#[tokio::test]
async fn a_forbidden_tag_is_a_governance_alert_and_the_image_stays() {
    let moto = Moto::start();
    let sinks = Sinks::create(&moto).await;
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name(REPOSITORY).send().await.expect("create");
    let digest = push_image(&moto, Some("latest")).await;
    // The topic comes from the baseline's [alerts] section here, the bus from the environment.
    let text =
        format!("[alerts]\nsns_topic_arn = \"{}\"\n[defaults.image_tags]\nforbidden = [\"latest\"]\n", sinks.topic_arn);
    let baseline = moto.write_file("baseline.toml", &text);
    let push = event_file(&moto, "ecr-image-push.json", &digest, |_| {});
    let args =
        ["handle", "--event", push.as_str(), "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];
    let run = moto.ecr_warden_with(&args, &[("ECR_WARDEN_ALERT_BUS", BUS)]);
    assert_eq!(run.code(), 0, "{run:?}");
    let delivered = drain(&moto, &sinks.topic_queue).await;
    assert_eq!(delivered.len(), 1, "{delivered:#?}");
    assert_eq!(delivered[0]["MessageAttributes"]["kind"]["Value"], "governance");
    let message = delivered[0]["Message"].as_str().expect("message");
    assert!(message.contains("image-tags: the tag `latest` is forbidden"), "{message}");
    assert_eq!(drain(&moto, &sinks.bus_queue).await[0]["detail-type"], "ECR Governance Finding");
    let images = ecr.describe_images().repository_name(REPOSITORY).send().await.expect("images");
    assert_eq!(images.image_details().len(), 1, "the image is never deleted");
    assert_eq!(images.image_details()[0].image_tags(), ["latest"], "nor retagged");
}

#[tokio::test]
async fn an_untagged_push_is_handled_and_a_second_scan_the_same_day_is_not_an_error() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name(REPOSITORY).send().await.expect("create");
    let digest = push_image(&moto, None).await;
    let push = event_file(&moto, "ecr-image-push.json", &digest, |e| e["detail"]["image-tag"] = json!(""));
    let baseline = moto.write_file("baseline.toml", "[defaults.scanning]\nmode = \"audit\"\n");
    let args =
        ["handle", "--event", push.as_str(), "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];
    let first = moto.ecr_warden(&args);
    assert_eq!(first.code(), 0, "{first:?}");
    assert_eq!(first.json()["report"]["scan"], json!({"scan": "started"}));
    assert_eq!(first.json()["report"]["image"]["tags"], json!([]));
    let second = moto.ecr_warden(&args);
    assert_eq!(second.code(), 0, "{second:?}");
    assert_eq!(second.json()["report"]["scan"], json!({"scan": "already_scanned"}), "scanning is still manual (audit)");
}

#[tokio::test]
async fn a_failing_sink_fails_the_run_and_the_other_sink_still_gets_the_alert() {
    let moto = Moto::start();
    let sinks = Sinks::create(&moto).await;
    moto.ecr().await.create_repository().repository_name(REPOSITORY).send().await.expect("create");
    let digest = push_image(&moto, Some("v1")).await;
    moto.ecr()
        .await
        .start_image_scan()
        .repository_name(REPOSITORY)
        .image_id(aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(&digest).build())
        .send()
        .await
        .expect("scan");
    set_findings(&moto, &digest);
    let scan = event_file(&moto, "ecr-image-scan-complete.json", &digest, |_| {});
    let missing_topic = format!("arn:aws:sns:{REGION}:123456789012:no-such-topic");
    let env = [("ECR_WARDEN_ALERT_TOPIC_ARN", missing_topic.as_str()), ("ECR_WARDEN_ALERT_BUS", BUS)];
    let run = moto.ecr_warden_with(&["handle", "--event", &scan, "--output", "json"], &env);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr().contains("no-such-topic"), "{run:?}");
    let on_bus = drain(&moto, &sinks.bus_queue).await;
    assert_eq!(on_bus.len(), 1, "the bus still got it");
}

#[tokio::test]
async fn every_fixture_event_has_a_clear_outcome() {
    let moto = Moto::start();
    let folder = fixture("events");
    let mut names: Vec<_> = std::fs::read_dir(&folder).expect("fixtures").map(|e| e.expect("entry").path()).collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    for path in names {
        let name = path.file_name().and_then(|n| n.to_str()).expect("a file name");
        let file = moto.fixture_event_file(name);
        let run = moto.ecr_warden(&["handle", "--event", &file, "--dry-run", "--output", "json"]);
        assert_eq!(run.code(), 0, "{}: {run:?}", path.display());
        let handled = run.json();
        let outcome = handled["handled"].as_str().unwrap_or_default();
        assert!(
            ["repository", "image", "scan", "backfill", "ignored"].contains(&outcome),
            "{}: {handled:#}",
            path.display()
        );
        let expected = match path.file_name().and_then(|n| n.to_str()).unwrap_or_default() {
            "ecr-image-push.json" => "image",
            "ecr-image-delete.json" => "ignored",
            "ecr-image-scan-complete.json" | "inspector2-scan.json" | "inspector2-finding.json" => "scan",
            "scheduled-event.json" => "backfill",
            "cloudtrail-create-repository.json" | "ecr-replication-action.json" => "repository",
            other => panic!("a new fixture, {other}: say what it should come to"),
        };
        assert_eq!(outcome, expected, "{}: {handled:#}", path.display());
    }
}
