//! The Lambda functions as Lambda runs them: the real `lambda_runtime` in the built binary, talking to a
//! loopback stand-in for the Lambda Runtime API, with moto behind the SDK.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use integration_tests::faults::{Fault, FaultProxy};
use integration_tests::http::{serve, Request, Response, Server};
use integration_tests::{function_log, function_output, start_function, start_function_with, Moto};
use serde_json::{json, Value};

/// A Runtime API that hands out `events` in order, then holds the next long poll open.
fn runtime_api(events: Vec<Value>) -> Server {
    let queue = Mutex::new(events.into_iter().enumerate().collect::<VecDeque<_>>());
    serve(move |request| {
        if request.method == "GET" && request.path.ends_with("/invocation/next") {
            let (index, event) = queue.lock().expect("lock").pop_front()?;
            let deadline = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() + 60_000).unwrap_or(0);
            return Some(Response {
                status: 200,
                headers: vec![
                    ("content-type".into(), "application/json".into()),
                    ("lambda-runtime-aws-request-id".into(), format!("request-{index}")),
                    ("lambda-runtime-deadline-ms".into(), deadline.to_string()),
                    (
                        "lambda-runtime-invoked-function-arn".into(),
                        "arn:aws:lambda:us-east-1:123456789012:function:f".into(),
                    ),
                ],
                body: event.to_string().into_bytes(),
            });
        }
        Some(Response { status: 202, headers: vec![], body: Vec::new() })
    })
}

/// The next `count` answers the function posted (responses and errors), skipping its long polls.
fn answers(api: &Server, count: usize) -> Vec<Request> {
    let mut answers = Vec::new();
    while answers.len() < count {
        let request = api.requests.recv_timeout(Duration::from_secs(60)).expect("the function answers");
        if request.method == "POST" {
            answers.push(request);
        }
    }
    answers
}

/// The CloudTrail `CreateRepository` event of the repository `testrepo`.
fn create_repository_event() -> Value {
    integration_tests::create_repository_event("testrepo")
}

#[tokio::test]
async fn repository_events_function_governs_and_rejects_malformed_events_without_crashing() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("testrepo").send().await.expect("create");
    let good = create_repository_event();
    let mut malformed = good.clone();
    malformed["detail"]["requestParameters"] = json!({});

    let api = runtime_api(vec![malformed, good.clone()]);
    moto.reset_recording();
    let function = start_function("repository-events", &api.address, &moto);
    let posted = answers(&api, 2);
    drop(function);

    assert_eq!(posted[0].path, "/2018-06-01/runtime/invocation/request-0/error");
    assert!(posted[0].body.contains("requestParameters.repositoryName is missing"), "{:?}", posted[0]);
    let error: Value = serde_json::from_str(&posted[0].body).expect("JSON error");
    assert_eq!(error["errorType"], "Malformed", "what failed, in Lambda's error record");
    assert_eq!(posted[1].path, "/2018-06-01/runtime/invocation/request-1/response", "the process lived on");
    let handled: Value = serde_json::from_str(&posted[1].body).expect("JSON response");
    assert_eq!(handled["handled"], "repository");
    assert_eq!(handled["report"]["repository"], "testrepo");
    assert_eq!(handled["report"]["controls"][0]["status"], "fixed");
    assert!(!moto.writes().is_empty(), "the second event was governed");

    // Each invocation printed its CloudWatch metrics (EMF) on standard output before answering.
    let output = std::fs::read_to_string(function_output("repository-events", &moto)).expect("function output");
    let documents: Vec<Value> =
        output.lines().map(|l| serde_json::from_str(l).expect("one JSON document a line")).collect();
    let totals: Vec<&Value> =
        documents.iter().filter(|d| d.get("Control").is_none() && d.get("Sink").is_none()).collect();
    assert_eq!(totals.len(), 2, "one per invocation: {output}");
    assert_eq!((totals[0]["Errors"].as_f64(), totals[0]["ColdStart"].as_f64()), (Some(1.0), Some(1.0)));
    assert_eq!((totals[1]["Errors"].as_f64(), totals[1]["ColdStart"].as_f64()), (Some(0.0), Some(0.0)));
    assert_eq!(totals[1]["RepositoriesEvaluated"].as_f64(), Some(1.0));
    let calls = moto.operations().len() as f64;
    assert_eq!(totals[1]["ApiCalls"].as_f64(), Some(calls), "every ECR call the function made: {output}");
    assert_eq!(totals[1]["ApiThrottled"].as_f64(), Some(0.0));
    assert!(documents.iter().all(|d| d["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "ecr-warden"));
    assert!(documents.iter().all(|d| d["Function"] == "repository-events"));
    let mutability = documents.iter().find(|d| d["Control"] == "tag-mutability").expect("per-control metrics");
    assert_eq!(mutability["Fixed"].as_f64(), Some(1.0));

    let log = std::fs::read_to_string(function_log("repository-events", &moto)).expect("function log");
    let lines: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect();
    let failure = lines.iter().find(|l| l["level"] == "ERROR").expect("the malformed event is logged");
    assert_eq!(failure["requestId"], "request-0");
    assert!(failure["message"].as_str().is_some_and(|m| m.contains("repositoryName is missing")), "{failure}");
    let in_control = |message: &str| lines.iter().find(|l| l["control"] == "tag-mutability" && l["message"] == message);
    let fixed = in_control("written").expect("the write is logged");
    assert!(in_control("fixed: the read-back holds the baseline").is_some(), "the read-back is logged: {log}");
    assert_eq!(fixed["requestId"], "request-1");
    assert_eq!(fixed["event_id"], good["id"]);
    assert_eq!(fixed["repository"], "testrepo");
    assert_eq!(fixed["action"], "set tag mutability to IMMUTABLE");
    let about_the_event: Vec<&Value> = lines.iter().filter(|l| l["requestId"] == "request-1").collect();
    assert!(about_the_event.len() > 3, "{log}");
    assert!(about_the_event.iter().all(|l| l["event_id"] == good["id"]), "every line of the event names it: {log}");
}

/// The `ApiCalls` and `ApiThrottled` metrics against what really crossed the wire: the function's calls go
/// through a proxy that throttles a share of them; retries are calls too.
#[tokio::test]
async fn api_call_metrics_count_every_attempt_and_every_throttled_one() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("testrepo").send().await.expect("create");
    let event = create_repository_event();
    let proxy = FaultProxy::start_with(&moto.endpoint, 30, 3, &[Fault::Throttling]);

    let api = runtime_api(vec![event]);
    let env = [("AWS_ENDPOINT_URL", proxy.endpoint.as_str()), ("AWS_MAX_ATTEMPTS", "3")];
    let function = start_function_with("repository-events", &api.address, &moto, &env);
    let posted = answers(&api, 1);
    drop(function);
    // Whether a call stayed throttled through all its attempts (the invocation then fails, to be retried) or
    // not, the metrics count what was sent.
    assert!(posted[0].path.starts_with("/2018-06-01/runtime/invocation/request-0/"), "{:?}", posted[0]);

    let output = std::fs::read_to_string(function_output("repository-events", &moto)).expect("function output");
    let totals: Value = output
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("one JSON document a line"))
        .find(|d| d.get("Control").is_none() && d.get("Sink").is_none())
        .expect("the invocation's totals");
    let throttled = proxy.injected().get(&Fault::Throttling).copied().unwrap_or_default();
    assert!(throttled > 0, "this seed throttles some calls");
    assert_eq!(totals["ApiThrottled"].as_f64(), Some(throttled as f64), "{totals:#}");
    assert_eq!(totals["ApiCalls"].as_f64(), Some(proxy.received() as f64), "{totals:#}");
}

#[tokio::test]
async fn backfill_function_answers_manual_requests() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for name in ["app", "team/b"] {
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let api = runtime_api(vec![json!({"concurrency": 0}), json!({"dryRun": true, "repositories": ["team/*"]})]);
    moto.reset_recording();
    let function = start_function("backfill", &api.address, &moto);
    let posted = answers(&api, 2);
    drop(function);

    assert!(posted[0].path.ends_with("/request-0/error"), "{:?}", posted[0]);
    assert!(posted[0].body.contains("concurrency must be between 1 and 64"), "{:?}", posted[0]);
    let error: Value = serde_json::from_str(&posted[0].body).expect("JSON error");
    assert_eq!(error["errorType"], "Malformed");
    let handled: Value = serde_json::from_str(&posted[1].body).expect("JSON response");
    assert_eq!(handled["handled"], "backfill");
    assert_eq!(handled["report"]["summary"]["repositories"], 1);
    assert_eq!(handled["report"]["repositories"][0]["repository"], "team/b");
    assert_eq!(moto.writes(), Vec::<String>::new(), "a dry run writes nothing");
}

#[tokio::test]
async fn image_and_scan_functions_take_their_own_events() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("my-repository-name").send().await.expect("create");
    let read = integration_tests::event_fixture;
    let mut finding = read("inspector2-finding.json");
    finding["detail"]["severity"] = json!("CRITICAL");

    let api = runtime_api(vec![read("ecr-image-push.json"), finding.clone()]);
    let function = start_function("image-pushed", &api.address, &moto);
    let posted = answers(&api, 2);
    drop(function);
    let pushed: Value = serde_json::from_str(&posted[0].body).expect("JSON response");
    assert_eq!(pushed["handled"], "image", "{pushed:#}");
    assert_eq!(pushed["report"]["governance"]["repository"], "my-repository-name");
    let elsewhere: Value = serde_json::from_str(&posted[1].body).expect("JSON response");
    assert_eq!(elsewhere["reason"], "this event is for the scan-completed function");

    // The image's findings as ECR answers DescribeImageScanFindings: the event's one and a lower one. The
    // finding event is judged with all of them (one finding never says an image's state).
    let sample = "amazon/amazon-ecs-sample";
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name(sample).send().await.expect("create");
    let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1,
                   "digest": format!("sha256:{:064}", 7)}, "layers": []});
    let pushed = ecr.put_image().repository_name(sample).image_manifest(manifest.to_string()).send().await;
    let digest =
        pushed.expect("put image").image.and_then(|i| i.image_id).and_then(|i| i.image_digest).expect("digest");
    let mut finding = finding;
    finding["detail"]["resources"][0]["details"]["awsEcrContainerImage"]["imageHash"] = json!(digest);
    let image = aws_sdk_ecr::types::ImageIdentifier::builder().image_digest(&digest).build();
    ecr.start_image_scan().repository_name(sample).image_id(image).send().await.expect("moto scans it");
    let result = json!({
        "registryId": integration_tests::ACCOUNT, "repositoryName": sample, "imageId": {"imageDigest": digest},
        "imageScanStatus": {"status": "COMPLETE", "description": "The scan was completed successfully."},
        "imageScanFindings": {
            "findings": [{"name": "CVE-2019-17498", "severity": "CRITICAL", "attributes": []},
                         {"name": "CVE-2024-0004", "severity": "MEDIUM", "attributes": []}],
            "findingSeverityCounts": {"CRITICAL": 1, "MEDIUM": 1}
        }
    });
    let results = json!({"results": [result], "region": integration_tests::REGION});
    assert_eq!(moto.moto_api("/moto-api/static/ecr/scan-finding-results", &results), 201, "moto took the findings");

    let api = runtime_api(vec![finding]);
    let function = start_function("scan-completed", &api.address, &moto);
    let posted = answers(&api, 1);
    drop(function);
    let scanned: Value = serde_json::from_str(&posted[0].body).expect("JSON response");
    assert_eq!(scanned["handled"], "scan", "{scanned:#}");
    let alert = &scanned["alerts"][0]["alert"];
    assert_eq!(alert["severity"], "CRITICAL");
    assert_eq!(alert["findings"][0]["id"], "CVE-2019-17498");
    assert_eq!(alert["repository"], "amazon/amazon-ecs-sample");
    assert_eq!(scanned["alerts"][0]["sent_to"], json!([]), "no sink configured in this test");
}

/// The backfill fan-out end to end: `{"fanOut": true}` sends 120 repositories to a moto SQS queue in
/// messages of 50; the backfill-worker binary, given those messages (and one broken message) as an SQS event,
/// governs every repository and names only the broken message in its partial batch response.
#[tokio::test]
async fn a_fanned_out_backfill_is_governed_by_the_worker_function_through_sqs() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for index in 0..120 {
        ecr.create_repository()
            .repository_name(format!("team-{}/svc-{index:03}", index % 3))
            .send()
            .await
            .expect("create");
    }
    let sqs = moto.sqs().await;
    let queue = sqs.create_queue().queue_name("work").send().await.expect("queue");
    let queue_url = queue.queue_url().expect("url").to_string();

    let request = moto.write_file("fan-out.json", r#"{"fanOut": true, "dryRun": false}"#);
    let fanned = moto.ecr_warden_with(
        &["handle", "--event", request.to_str().expect("utf-8"), "--output", "json"],
        &[("ECR_WARDEN_WORK_QUEUE_URL", queue_url.as_str())],
    );
    assert_eq!(fanned.code(), 0, "{fanned:?}");
    assert_eq!(fanned.json()["report"]["repositories"], 120);
    assert_eq!(fanned.json()["report"]["messages"], 3);
    assert!(moto.writes().iter().all(|w| w == "SendMessageBatch" || w == "CreateQueue" || w == "CreateRepository"));

    let mut records = Vec::new();
    while records.len() < 3 {
        let received =
            sqs.receive_message().queue_url(&queue_url).max_number_of_messages(10).send().await.expect("receive");
        assert!(!received.messages().is_empty(), "the fan-out's messages are on the queue");
        for message in received.messages() {
            records.push(json!({"messageId": message.message_id(), "body": message.body(), "eventSource": "aws:sqs"}));
        }
    }
    let sizes: Vec<usize> = records
        .iter()
        .map(|r| {
            let batch: Value = serde_json::from_str(r["body"].as_str().expect("body")).expect("a work batch");
            batch["repositories"].as_array().expect("names").len()
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 120, "{sizes:?}");
    assert!(sizes.iter().all(|n| *n <= 50), "{sizes:?}");
    records.push(json!({"messageId": "broken-1", "body": "{\"repositories\": 7}", "eventSource": "aws:sqs"}));

    let api = runtime_api(vec![json!({ "Records": records })]);
    let function = start_function("backfill-worker", &api.address, &moto);
    let posted = answers(&api, 1);
    drop(function);
    assert_eq!(posted[0].path, "/2018-06-01/runtime/invocation/request-0/response", "{:?}", posted[0]);
    let answer: Value = serde_json::from_str(&posted[0].body).expect("JSON response");
    assert_eq!(answer["handled"], "work");
    assert_eq!(answer["batchItemFailures"], json!([{"itemIdentifier": "broken-1"}]), "{answer:#}");
    assert_eq!(answer["summary"]["repositories"], 120);

    // Only encryption, which can't be fixed after creation, is left.
    let plan = moto.ecr_warden(&["plan"]);
    assert_eq!(plan.code(), 3, "{plan:?}");
}

/// Organization mode in a warm function: each member's role is assumed and its membership asked once, however
/// many of its events arrive (issue 17: "one AssumeRole per account per warm container, not per event").
#[tokio::test]
async fn a_warm_organization_hub_assumes_each_members_role_once() {
    let moto = Moto::start();
    let members = moto.organization(2).await;
    let mut events = Vec::new();
    for (account, names) in [(&members[0], ["a/one", "a/two"]), (&members[1], ["b/one", "b/two"])] {
        let ecr = moto.ecr_in(account).await;
        for name in names {
            ecr.create_repository().repository_name(name).send().await.expect("create");
            let event = integration_tests::create_repository_event(name);
            events.push(integration_tests::event_from(&event, account, integration_tests::REGION));
        }
    }
    let api = runtime_api(events);
    moto.reset_recording();
    let env = [("ECR_WARDEN_MEMBER_ROLE", "ecr-warden-member")];
    let function = start_function_with("repository-events", &api.address, &moto, &env);
    let posted = answers(&api, 4);
    drop(function);

    for answer in &posted {
        let handled: Value = serde_json::from_str(&answer.body).expect("JSON response");
        assert_eq!(handled["handled"], "repository", "{answer:?}");
        assert_eq!(handled["report"]["controls"][0]["status"], "fixed", "{answer:?}");
    }
    let calls = moto.operation_counts();
    assert_eq!(calls.get("AssumeRole"), Some(&2), "once per member account: {calls:?}");
    assert_eq!(calls.get("DescribeAccount"), Some(&2), "once per member account: {calls:?}");
}
