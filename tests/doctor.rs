//! `ecr-warden doctor` (issue 21): the prerequisites a deployment silently depends on, read-only, against moto's
//! CloudTrail, Security Hub, SNS and EventBridge. moto gives a trail without custom event selectors an empty
//! selector list where AWS reports its default (all management events); doctor reads `HasCustomEventSelectors`
//! first, as it must on AWS.

use std::sync::{Arc, Mutex};

use integration_tests::http::{serve, Cbor, Response, Server};
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

/// (name, status) pairs as [`statuses`] gives them.
fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
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
    assert_eq!(
        statuses(&json),
        pairs(&[
            ("trail", "problem"),
            ("baseline", "ok"),
            ("alerts", "warning"),
            ("security-hub", "problem"),
            ("inspector", "ok"),
            ("replication", "ok")
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
    assert!(text.trim_end().ends_with("problem: 1 problems, 0 warnings in 6 checks"), "{text}");

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

/// A stack shaped like the hub's: a function, an event rule and the nightly audit's schedule (disabled, as
/// `EnableNightlyAudit=false` leaves it), the dead-letter queues, the alert topic and the baseline parameter,
/// whose outputs name what the functions use.
const STACK: &str = r#"{
  "Resources": {
    "FunctionRole": {"Type": "AWS::IAM::Role", "Properties": {"AssumeRolePolicyDocument": {"Version": "2012-10-17",
      "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}}},
    "RepositoryEventsFunction": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "provided.al2023",
      "Handler": "bootstrap", "Role": {"Fn::GetAtt": ["FunctionRole", "Arn"]}, "Code": {"ZipFile": "bootstrap"}}},
    "RepositoryEventsFunctionRepositoryApiCalls": {"Type": "AWS::Events::Rule", "Properties": {
      "EventPattern": {"source": ["aws.ecr"]}, "State": "ENABLED"}},
    "BackfillFunctionNightlyAudit": {"Type": "AWS::Events::Rule", "Properties": {
      "ScheduleExpression": "cron(0 6 * * ? *)", "State": "DISABLED"}},
    "FailedEventsQueue": {"Type": "AWS::SQS::Queue"},
    "WorkQueue": {"Type": "AWS::SQS::Queue"},
    "WorkDeadLetterQueue": {"Type": "AWS::SQS::Queue"},
    "AlertTopic": {"Type": "AWS::SNS::Topic"},
    "BaselineParameter": {"Type": "AWS::SSM::Parameter", "Properties": {"Name": "ecr-warden-baseline",
      "Type": "String", "Value": "[alerts]\nsecurity_hub = true\n"}}
  },
  "Outputs": {
    "BaselineParameter": {"Value": {"Ref": "BaselineParameter"}},
    "AlertTopicArn": {"Value": {"Ref": "AlertTopic"}},
    "AlertBusName": {"Value": "default"},
    "FailedEventsQueueUrl": {"Value": {"Ref": "FailedEventsQueue"}}
  }
}"#;

/// moto's CloudWatch doesn't speak the Smithy RPC v2 CBOR protocol the SDK uses for it, so `GetMetricData` is
/// answered by a loopback stand-in: each query ID of `results` gets its values (the rest none).
fn metrics_stand_in(results: Arc<Mutex<Vec<(String, f64)>>>) -> Server {
    serve(move |request| {
        let wanted = request.path == "/service/GraniteServiceVersion20100801/operation/GetMetricData";
        let answers = results.lock().expect("results").clone();
        let results = answers
            .into_iter()
            .map(|(id, value)| {
                Cbor::Map(vec![("Id", Cbor::Text(id)), ("Values", Cbor::Array(vec![Cbor::Double(value)]))])
            })
            .collect();
        let body = Cbor::Map(vec![("MetricDataResults", Cbor::Array(results))]).encode();
        Some(Response {
            status: if wanted { 200 } else { 400 },
            headers: vec![
                ("content-type".into(), "application/cbor".into()),
                ("smithy-protocol".into(), "rpc-v2-cbor".into()),
            ],
            body,
        })
    })
}

/// `--stack`: the stack's state, rules, dead-letter queues and functions' failures, and its outputs naming the
/// baseline parameter and the alert topic the functions use.
#[tokio::test]
async fn a_deployed_stack_is_checked_through_its_resources_and_outputs() {
    let moto = Moto::start();
    let config = moto.sdk_config().await;
    let cloudformation = aws_sdk_cloudformation::Client::new(&config);
    cloudformation.create_stack().stack_name("ew").template_body(STACK).send().await.expect("stack");
    let resources = cloudformation.list_stack_resources().stack_name("ew").send().await.expect("resources");
    let physical = |logical: &str| {
        let summaries = resources.stack_resource_summaries();
        let found = summaries.iter().find(|r| r.logical_resource_id() == Some(logical));
        found.and_then(|r| r.physical_resource_id()).expect("a physical ID").to_string()
    };
    let (function, rule, schedule) = (
        physical("RepositoryEventsFunction"),
        physical("RepositoryEventsFunctionRepositoryApiCalls"),
        physical("BackfillFunctionNightlyAudit"),
    );
    let results = Arc::new(Mutex::new(Vec::new()));
    let metrics = metrics_stand_in(Arc::clone(&results));
    let cloudwatch = format!("http://{}", metrics.address);
    let env = [("AWS_ENDPOINT_URL_CLOUDWATCH", cloudwatch.as_str())];
    moto.reset_recording();

    let run = moto.ecr_warden_with(&["doctor", "--stack", "ew", "--output", "json"], &env);
    assert_eq!(run.code(), 1, "{run:?}");
    let json = run.json();
    assert_eq!(
        statuses(&json),
        pairs(&[
            ("trail", "problem"),
            ("baseline", "ok"),
            ("alerts", "ok"),
            // The stack's parameter asks for Security Hub, which isn't enabled: the baseline came from the stack.
            ("security-hub", "problem"),
            ("inspector", "ok"),
            ("replication", "ok"),
            ("stack", "ok"),
            ("rules", "warning"),
            ("dead-letters", "ok"),
            ("functions", "ok"),
        ])
    );
    let topic = physical("AlertTopic");
    assert_eq!(check(&json, "alerts")["what"], format!("alerts go to {topic} and default"));
    assert_eq!(check(&json, "stack")["what"], "stack ew is CREATE_COMPLETE: deployed");
    assert_eq!(
        check(&json, "rules")["fix"],
        format!("deploy with EnableNightlyAudit=true, or aws events enable-rule --name {schedule}")
    );
    assert_eq!(
        check(&json, "dead-letters")["what"],
        "no message waits in the failed-events queue or the work dead-letter queue"
    );
    assert_eq!(check(&json, "functions")["what"], "1 functions, 0 invocations in the last 24 hours, none failed");
    // One GetMetricData asked for the function's Lambda and EMF metrics over a day.
    let request = metrics.requests.try_recv().expect("GetMetricData was asked");
    for asked in
        ["AWS/Lambda", "Invocations", "Errors", "ecr-warden", "RepositoriesFailed", "AlertSinkFailures", &function]
    {
        assert!(request.body.contains(asked), "{asked} in {}", request.body);
    }
    assert!(metrics.requests.try_recv().is_err(), "one call");
    let writes: Vec<String> = moto.writes().into_iter().filter(|op| op != "(no X-Amz-Target)").collect();
    assert!(writes.is_empty(), "read-only: {writes:?}");
    // Everything it called is in the policy `permissions doctor --policy` prints (the caller's identity needs
    // none; the baseline parameter is granted on its own).
    let listed = moto.ecr_warden(&["permissions", "doctor"]).stdout();
    for operation in moto.operation_counts().keys() {
        let free = ["GetCallerIdentity", "GetParameter", "(no X-Amz-Target)"].contains(&operation.as_str());
        assert!(free || listed.contains(&format!(":{operation}\"")), "{operation} in {listed}");
    }

    // The event rule disabled, an event in the failed-events queue, failures in the metrics: problems, each
    // naming what to do.
    let events = aws_sdk_eventbridge::Client::new(&config);
    events.disable_rule().name(&rule).send().await.expect("disable");
    let sqs = aws_sdk_sqs::Client::new(&config);
    let failed_events = physical("FailedEventsQueue");
    sqs.send_message().queue_url(&failed_events).message_body("{}").send().await.expect("message");
    sqs.send_message().queue_url(physical("WorkQueue")).message_body("{}").send().await.expect("work in flight");
    *results.lock().expect("results") = vec![("f0m0".into(), 5.0), ("f0m1".into(), 2.0), ("f0m3".into(), 1.0)];
    let run = moto.ecr_warden_with(&["doctor", "--stack", "ew", "--output", "json"], &env).json();
    let rules = check(&run, "rules");
    assert_eq!(rules["status"], "problem");
    assert_eq!(
        rules["fix"],
        format!("aws events enable-rule --name {rule}; aws events enable-rule --name {schedule}"),
        "{rules:#}"
    );
    let dead_letters = check(&run, "dead-letters");
    assert_eq!(dead_letters["status"], "problem");
    let what = dead_letters["what"].as_str().unwrap_or_default();
    assert!(what.starts_with(&format!("messages wait: 1 in the failed-events queue ({failed_events})")), "{what}");
    assert!(!what.contains("work dead-letter"), "the work queue's message is work in flight: {what}");
    let functions = check(&run, "functions");
    assert_eq!(functions["status"], "problem", "an alert was lost");
    assert_eq!(
        functions["what"],
        format!("in the last 24 hours: {function}: 2 of 5 invocations failed, 1 alerts not delivered")
    );

    // The event rule deleted by hand (its target first, as EventBridge requires): the stack still lists it, so it
    // is gone, and says how to get it back rather than asking for read permissions.
    let targets = events.list_targets_by_rule().rule(&rule).send().await.expect("targets");
    let ids: Vec<String> = targets.targets().iter().map(|t| t.id().to_string()).collect();
    if !ids.is_empty() {
        events.remove_targets().rule(&rule).set_ids(Some(ids)).send().await.expect("remove targets");
    }
    events.delete_rule().name(&rule).send().await.expect("delete the rule");
    let run = moto.ecr_warden_with(&["doctor", "--stack", "ew", "--output", "json"], &env).json();
    let rules = check(&run, "rules");
    assert_eq!(rules["status"], "problem");
    assert_eq!(
        rules["what"],
        format!("{rule} of the stack deleted outside CloudFormation: what it carried never reaches ecr-warden")
    );
    assert!(rules["fix"].as_str().is_some_and(|fix| fix.contains("detect-stack-drift")), "{rules:#}");

    // A stack that doesn't exist is a problem; the baseline falls back to the built-in one.
    let run = moto.ecr_warden_with(&["doctor", "--stack", "nope", "--output", "json"], &env).json();
    assert_eq!(check(&run, "stack")["what"], "no stack nope exists in us-east-1");
    assert_eq!(check(&run, "security-hub")["status"], "ok", "the built-in baseline: {run:#}");
    assert!(run["checks"].as_array().expect("checks").iter().all(|c| c["check"] != "rules"));

    // A name that can't be a stack's is refused on one line, before anything is read.
    let run = moto.ecr_warden(&["doctor", "--stack", "not_a_stack"]);
    assert_eq!(run.code(), 64, "a usage mistake");
    assert!(run.stderr().contains("a stack name (a letter, then letters, digits and hyphens"), "{}", run.stderr());
}

/// Governing replication needs ECR's replication service-linked role, which the first replication configuration
/// creates (ECR user guide, "Amazon ECR service-linked role for replication"): missing, a warning saying how.
#[tokio::test]
async fn governed_replication_without_its_service_linked_role_is_a_warning() {
    let moto = Moto::start();
    let text = "[replication]\nmode = \"enforce\"\n[[replication.targets]]\nrepositories = \"prod/**\"\nregions = [\"eu-west-1\"]\n";
    let baseline = moto.write_file("baseline.toml", text);
    let baseline = baseline.to_str().expect("utf-8 path");
    let run = moto.ecr_warden(&["doctor", "--baseline", baseline, "--output", "json"]).json();
    let replication = check(&run, "replication");
    assert_eq!(replication["status"], "warning", "{replication:#}");
    assert!(replication["fix"].as_str().unwrap_or("").starts_with("deploy with GovernReplication=true"));

    let iam = moto.iam().await;
    let trust = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"replication.ecr.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;
    let role = iam
        .create_role()
        .role_name("AWSServiceRoleForECRReplication")
        .path("/aws-service-role/replication.ecr.amazonaws.com/");
    role.assume_role_policy_document(trust).send().await.expect("the role");
    let run = moto.ecr_warden(&["doctor", "--baseline", baseline, "--output", "json"]).json();
    assert_eq!(check(&run, "replication")["what"], "ECR's replication role AWSServiceRoleForECRReplication exists");
}
