//! `ecr-warden doctor` (issue 21): the prerequisites a deployment silently depends on, read-only, against moto's
//! CloudTrail, Security Hub, SNS and EventBridge. moto gives a trail without custom event selectors an empty
//! selector list where AWS reports its default (all management events); doctor reads `HasCustomEventSelectors`
//! first, as it must on AWS.

use integration_tests::Moto;
use serde_json::Value;

/// Each check's (name, status).
fn statuses(run: &Value) -> Vec<(String, String)> {
    let checks = run["checks"].as_array().cloned().unwrap_or_default();
    checks
        .iter()
        .map(|c| (c["check"].as_str().unwrap_or("").to_string(), c["status"].as_str().unwrap_or("").to_string()))
        .collect()
}

fn check<'a>(run: &'a Value, name: &str) -> &'a Value {
    let checks = run["checks"].as_array().expect("checks");
    checks.iter().find(|c| c["check"] == name).unwrap_or_else(|| panic!("{name} checked: {run:#}"))
}

#[tokio::test]
async fn doctor_names_what_is_missing_and_passes_once_it_is_there() {
    let moto = Moto::start();
    let baseline = moto.write_file("baseline.toml", "[alerts]\nsecurity_hub = true\n");
    let baseline = baseline.to_str().expect("utf-8 path");
    moto.reset_recording();

    // A fresh account: no trail, no sink, Security Hub off.
    let run = moto.ecr_warden(&["doctor", "--baseline", baseline, "--output", "json"]);
    assert_eq!(run.code(), 1, "a problem: {run:?}");
    let json = run.json();
    assert_eq!(json["status"], "problem");
    let pairs = |list: &[(&str, &str)]| list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>();
    assert_eq!(
        statuses(&json),
        pairs(&[
            ("trail", "problem"),
            ("baseline", "ok"),
            ("alerts", "warning"),
            ("security-hub", "problem"),
            ("inspector", "ok")
        ])
    );
    let trail = check(&json, "trail");
    assert!(trail["what"].as_str().unwrap_or("").starts_with("no CloudTrail trail logs us-east-1"), "{trail:#}");
    assert!(trail["fix"].as_str().unwrap_or("").contains("CreateTrail=true"), "{trail:#}");
    for check in json["checks"].as_array().expect("checks") {
        let keys: Vec<&str> = check.as_object().expect("object").keys().map(String::as_str).collect();
        let expected: &[&str] =
            if check.get("fix").is_some() { &["check", "fix", "status", "what"] } else { &["check", "status", "what"] };
        assert_eq!(keys, expected, "every check's shape");
    }
    // Security Hub's DescribeHub is a REST call (GET), which names no X-Amz-Target: the recording can't name it.
    let writes: Vec<String> = moto.writes().into_iter().filter(|op| op != "(no X-Amz-Target)").collect();
    assert!(writes.is_empty(), "read-only: {writes:?}");

    // A trail that isn't logging is a problem naming the command that starts it.
    let config = moto.sdk_config().await;
    let cloudtrail = aws_sdk_cloudtrail::Client::new(&config);
    moto.s3_bucket("trail-logs");
    cloudtrail
        .create_trail()
        .name("org-audit")
        .s3_bucket_name("trail-logs")
        .is_multi_region_trail(true)
        .send()
        .await
        .expect("trail");
    let run = moto.ecr_warden(&["doctor", "--baseline", baseline, "--output", "json"]).json();
    assert_eq!(check(&run, "trail")["fix"], "aws cloudtrail start-logging --name org-audit");

    // Logging, a topic and a bus that exist, Security Hub on: all ok, exit 0.
    cloudtrail.start_logging().name("org-audit").send().await.expect("start");
    let topic = aws_sdk_sns::Client::new(&config).create_topic().name("alerts").send().await.expect("topic");
    let topic = topic.topic_arn().expect("arn").to_string();
    aws_sdk_securityhub::Client::new(&config).enable_security_hub().send().await.expect("hub");
    let env = [("ECR_WARDEN_ALERT_TOPIC_ARN", topic.as_str()), ("ECR_WARDEN_ALERT_BUS", "default")];
    let run = moto.ecr_warden_with(&["doctor", "--baseline", baseline, "--output", "json"], &env);
    assert_eq!(run.code(), 0, "{run:?}");
    let json = run.json();
    assert_eq!(check(&json, "trail")["what"], "trail org-audit logs management write events in us-east-1");
    assert_eq!(json["status"], "ok");

    // A topic that doesn't exist: the problem names it; the table says it in a line, with the fix under it.
    let gone = topic.replace(":alerts", ":gone");
    let run =
        moto.ecr_warden_with(&["doctor", "--baseline", baseline], &[("ECR_WARDEN_ALERT_TOPIC_ARN", gone.as_str())]);
    assert_eq!(run.code(), 1, "{run:?}");
    let text = run.stdout();
    assert!(text.contains(&format!("problem  alerts        SNS topic {gone} doesn't exist")), "{text}");
    assert!(text.trim_end().ends_with("problem: 1 problems, 0 warnings in 5 checks"), "{text}");

    // A baseline that doesn't load is a problem, not a crash.
    let bad = moto.write_file("bad.toml", "[defaults.tag_mutability]\nmode = \"sometimes\"\n");
    let run = moto.ecr_warden(&["doctor", "--baseline", bad.to_str().expect("utf-8"), "--output", "json"]);
    assert_eq!(run.code(), 1);
    let json = run.json();
    let baseline_check = check(&json, "baseline");
    assert_eq!(baseline_check["status"], "problem");
    let what = baseline_check["what"].as_str().unwrap_or_default();
    assert!(what.contains("unknown variant `sometimes`") && !what.contains('\n'), "one line: {what}");
    assert!(
        moto.writes().iter().all(|op| [
            "CreateTrail",
            "StartLogging",
            "CreateTopic",
            "EnableSecurityHub",
            "(no X-Amz-Target)"
        ]
        .contains(&op.as_str())),
        "doctor writes nothing: {:?}",
        moto.writes()
    );
}

/// Enhanced scanning (asked by the baseline, or the registry's) needs Amazon Inspector's ECR scanning: without it no
/// image is scanned and no scan event arrives.
#[tokio::test]
async fn enhanced_scanning_without_inspector_is_a_problem() {
    let moto = Moto::start();
    let baseline = moto.write_file("baseline.toml", "[defaults.scanning]\nscan_type = \"ENHANCED\"\n");
    let baseline = baseline.to_str().expect("utf-8 path");
    let run = moto.ecr_warden(&["doctor", "--baseline", baseline, "--output", "json"]).json();
    let inspector = check(&run, "inspector");
    assert_eq!(inspector["status"], "problem", "{inspector:#}");
    assert_eq!(inspector["fix"], "aws inspector2 enable --resource-types ECR");
    assert!(inspector["what"].as_str().unwrap_or("").starts_with("the baseline asks for enhanced scanning, but"));

    let config = moto.sdk_config().await;
    let inspector2 = aws_sdk_inspector2::Client::new(&config);
    // moto needs the account named (AWS takes the caller's when it isn't).
    let enable = inspector2.enable().account_ids(integration_tests::ACCOUNT);
    enable.resource_types(aws_sdk_inspector2::types::ResourceScanType::Ecr).send().await.expect("enable");
    let run = moto.ecr_warden(&["doctor", "--baseline", baseline, "--output", "json"]).json();
    assert_eq!(check(&run, "inspector")["status"], "ok", "{run:#}");
}
