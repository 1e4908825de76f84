//! `ecr-warden handle`: real event payloads through exactly the code the Lambda functions run.

use aws_sdk_ecr::types::ImageTagMutability;
use integration_tests::{event_fixture, scanning_rules, Moto};
use serde_json::{json, Value};

const OWN_ROLE: &str = "arn:aws:iam::123456789012:role/ecr-warden-repository-events";

fn cloudtrail_fixture() -> Value {
    event_fixture("cloudtrail-create-repository.json")
}

async fn mutability(ecr: &aws_sdk_ecr::Client, name: &str) -> Option<ImageTagMutability> {
    let out = ecr.describe_repositories().repository_names(name).send().await.expect("describe");
    out.repositories()[0].image_tag_mutability().cloned()
}

#[tokio::test]
async fn a_create_repository_event_brings_the_new_repository_to_the_baseline() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("testrepo").send().await.expect("create");
    let event = moto.fixture_event_file("cloudtrail-create-repository.json");

    let run = moto.ecr_warden(&["handle", "--event", &event, "--output", "json"]);
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    assert_eq!(handled["handled"], "repository");
    assert_eq!(handled["because"], "CreateRepository by arn:aws:sts::123456789012:user/Mary_Major");
    assert_eq!(handled["report"]["repository"], "testrepo");
    assert_eq!(mutability(&ecr, "testrepo").await, Some(ImageTagMutability::Immutable));
    assert!(ecr.get_lifecycle_policy().repository_name("testrepo").send().await.is_ok());

    // The same event again (EventBridge delivers at least once): nothing more is written.
    moto.reset_recording();
    let again = moto.ecr_warden(&["handle", "--event", &event]);
    assert_eq!(again.code(), 0, "{again:?}");
    assert_eq!(moto.writes(), Vec::<String>::new());
    // GetCallerIdentity: the command asks once which registry its credentials reach (a function knows it from
    // the ARN it was invoked by).
    let expected_reads = [
        "DescribeRepositories",
        "GetCallerIdentity",
        "GetLifecyclePolicy",
        "GetRegistryScanningConfiguration",
        "GetRepositoryPolicy",
        "ListTagsForResource",
    ];
    let counts = moto.operation_counts();
    assert_eq!(counts.keys().collect::<Vec<_>>(), expected_reads, "each read once: {counts:?}");
    assert!(counts.values().all(|n| *n == 1), "each read once: {counts:?}");
}

#[tokio::test]
async fn dry_run_plans_without_writing() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("testrepo").send().await.expect("create");
    let event = moto.fixture_event_file("cloudtrail-create-repository.json");
    moto.reset_recording();
    let run = moto.ecr_warden(&["handle", "--event", &event, "--dry-run"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(run.stdout().contains("would: set tag mutability to IMMUTABLE"), "{run:?}");
    assert!(run.stdout().contains("plan only, nothing changed"), "the summary says so too: {run:?}");
    assert_eq!(moto.writes(), Vec::<String>::new());
}

#[tokio::test]
async fn drift_made_by_hand_is_reverted_but_our_own_calls_are_not_handled_again() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("app").send().await.expect("create");
    let mut event = cloudtrail_fixture();
    event["detail"]["eventName"] = json!("PutImageTagMutability");
    event["detail"]["requestParameters"] = json!({"repositoryName": "app", "imageTagMutability": "MUTABLE"});
    let by_admin = moto.write_file("by-admin.json", &event.to_string());
    event["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = json!(OWN_ROLE);
    let by_us = moto.write_file("by-us.json", &event.to_string());
    let guard = [("ECR_WARDEN_ROLE_ARN", OWN_ROLE)];

    moto.reset_recording();
    let ours = moto.ecr_warden_with(&["handle", "--event", by_us.to_str().expect("utf-8")], &guard);
    assert_eq!(ours.code(), 0, "{ours:?}");
    assert!(ours.stdout().contains("made by ecr-warden itself"), "{ours:?}");
    assert_eq!(moto.operations(), Vec::<String>::new(), "ignored before any call");

    let theirs = moto.ecr_warden_with(&["handle", "--event", by_admin.to_str().expect("utf-8")], &guard);
    assert_eq!(theirs.code(), 0, "{theirs:?}");
    assert_eq!(mutability(&ecr, "app").await, Some(ImageTagMutability::Immutable));
}

#[tokio::test]
async fn an_event_for_a_deleted_repository_reports_it_gone() {
    let moto = Moto::start();
    let event = moto.fixture_event_file("cloudtrail-create-repository.json");
    let run = moto.ecr_warden(&["handle", "--event", &event, "--output", "json"]);
    assert_eq!(run.code(), 0, "a deleted repository is not a failure: {run:?}");
    assert_eq!(run.json()["report"]["outcome"], "gone");
    assert_eq!(moto.writes(), Vec::<String>::new());
}

#[tokio::test]
async fn malformed_events_get_a_clear_error_and_no_call() {
    let moto = Moto::start();
    let mut event = cloudtrail_fixture();
    event["detail"]["requestParameters"] = json!({});
    let cases = [
        (moto.write_file("no-name.json", &event.to_string()), "requestParameters.repositoryName is missing"),
        (moto.write_file("not-json.json", "{\"detail-type\": "), "is not JSON"),
        (
            moto.write_file("no-source.json", r#"{"detail-type":"AWS API Call via CloudTrail","detail":{}}"#),
            "missing field `source`",
        ),
    ];
    moto.reset_recording();
    for (file, message) in cases {
        let run = moto.ecr_warden(&["handle", "--event", file.to_str().expect("utf-8")]);
        assert_eq!(run.code(), 1, "{run:?}");
        assert!(run.stderr().contains(message), "expected {message:?}: {run:?}");
    }
    assert_eq!(moto.operations(), Vec::<String>::new(), "nothing was called");
}

#[tokio::test]
async fn other_events_are_ignored_with_a_reason() {
    let moto = Moto::start();
    let referrer = moto.write_file(
        "referrer.json",
        r#"{"version":"0","id":"1","detail-type":"ECR Referrer Action","source":"aws.ecr","account":"123456789012",
            "region":"us-east-1","resources":[],"detail":{"result":"SUCCESS","repository-name":"ab"}}"#,
    );
    moto.reset_recording();
    let run = moto.ecr_warden(&["handle", "--event", referrer.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert!(run.stdout().starts_with("ignored: `ECR Referrer Action` events"), "{run:?}");
    assert_eq!(moto.operations(), Vec::<String>::new(), "nothing was called");
}

#[tokio::test]
async fn a_scheduled_event_audits_the_whole_registry() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for name in ["app", "team/web"] {
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let event = moto.fixture_event_file("scheduled-event.json");
    moto.reset_recording();
    let run = moto.ecr_warden(&["handle", "--event", &event, "--output", "json"]);
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    assert_eq!(handled["handled"], "backfill");
    assert_eq!(handled["report"]["dry_run"], true);
    assert_eq!(handled["report"]["summary"]["repositories"], 2);
    assert_eq!(moto.writes(), Vec::<String>::new(), "the nightly audit changes nothing");
}

/// An event about another registry (another account, another region) or whose resource is not an ECR
/// repository of the event's own registry is ignored with the reason, and no ECR call is made: not even to the
/// local repository of the same name. (The command asks STS once which account its credentials reach.)
#[tokio::test]
async fn events_for_another_registry_are_ignored_and_touch_nothing() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("team-a/api").send().await.expect("create");
    let create = integration_tests::create_repository_event("team-a/api");
    let mut other_account = create.clone();
    other_account["account"] = json!("210987654321");
    let mut other_region = create.clone();
    other_region["region"] = json!("eu-west-1");
    let tag = |arn: &str| {
        let mut event = create.clone();
        event["detail"]["eventName"] = json!("TagResource");
        event["detail"]["requestParameters"] = json!({"resourceArn": arn, "tags": [{"key": "a", "value": "b"}]});
        event
    };
    let mut scan = event_fixture("inspector2-scan.json");
    scan["detail"]["repository-name"] = json!("arn:aws:ecr:us-east-1:210987654321:repository/team-a/api");
    let cases = [
        ("other-account", other_account, "account 210987654321 in us-east-1"),
        ("other-region", other_region, "account 123456789012 in eu-west-1"),
        ("tag-other-account", tag("arn:aws:ecr:us-east-1:210987654321:repository/team-a/api"), "210987654321"),
        ("tag-other-region", tag("arn:aws:ecr:eu-west-1:123456789012:repository/team-a/api"), "eu-west-1"),
        ("tag-not-ecr", tag("arn:aws:s3:::bucket:repository/team-a/api"), "is not an ECR repository ARN"),
        ("scan-other-account", scan, "210987654321"),
    ];
    for (name, event, reason) in cases {
        let file = moto.event_file(&format!("{name}.json"), &event);
        moto.reset_recording();
        let run = moto.ecr_warden(&["handle", "--event", &file, "--output", "json"]);
        assert_eq!(run.code(), 0, "{name}: {run:?}");
        assert_eq!(run.json()["handled"], "ignored", "{name}: {run:?}");
        assert!(run.json()["reason"].as_str().is_some_and(|r| r.contains(reason)), "{name}: {run:?}");
        let calls: Vec<String> = moto.operations().into_iter().filter(|op| op != "GetCallerIdentity").collect();
        assert_eq!(calls, Vec::<String>::new(), "{name}: no ECR call");
    }
    let described =
        moto.ecr().await.describe_repositories().repository_names("team-a/api").send().await.expect("describe");
    assert_eq!(described.repositories()[0].image_tag_mutability(), Some(&ImageTagMutability::Mutable), "untouched");
}

/// Someone empties the registry's scanning rules by hand (`PutRegistryScanningConfiguration` in CloudTrail): the
/// repository-events function puts back the one filter the governed repositories need, once, and says which
/// repositories were left uncovered; handling the event again changes nothing. ecr-warden's own put is ignored.
#[tokio::test]
async fn scanning_rules_changed_by_hand_are_restored_for_every_repository() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for name in ["team-a/api", "team-a/web", "team-b/api"] {
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let baseline = moto.write_file("baseline.toml", "[exemptions]\nrepositories = [\"team-b/**\"]\n");
    let baseline = baseline.to_str().expect("utf-8");
    let none: Vec<aws_sdk_ecr::types::RegistryScanningRule> = vec![];
    let basic = aws_sdk_ecr::types::ScanType::Basic;
    ecr.put_registry_scanning_configuration().scan_type(basic).set_rules(Some(none)).send().await.expect("by hand");
    let mut event = cloudtrail_fixture();
    event["detail"]["eventName"] = json!("PutRegistryScanningConfiguration");
    event["detail"]["requestParameters"] = json!({"scanType": "BASIC", "rules": []});
    let by_admin = moto.event_file("by-admin.json", &event);
    let guard = [("ECR_WARDEN_ROLE_ARN", OWN_ROLE)];

    moto.reset_recording();
    let args = ["handle", "--event", by_admin.as_str(), "--baseline", baseline, "--output", "json"];
    let handled = moto.ecr_warden_with(&args, &guard);
    assert_eq!(handled.code(), 0, "{handled:?}");
    let report = &handled.json()["report"];
    assert_eq!(report["status"], "fixed", "{report:#}");
    assert_eq!(
        report["changes"],
        json!(["add `*` to the registry's SCAN_ON_PUSH scanning rule (it also covers `team-b/**` (exempt), e.g. \
                `team-b/a`); repositories there now it covers the baseline leaves unscanned: team-b/api"])
    );
    assert!(report["finding"].as_str().unwrap_or("").contains("team-a/api, team-a/web"), "{report:#}");
    assert_eq!(scanning_rules(&ecr).await, [("SCAN_ON_PUSH".to_string(), vec!["*".to_string()])]);
    let counts = moto.operation_counts();
    assert_eq!(counts.get("PutRegistryScanningConfiguration"), Some(&1), "one put for all: {counts:?}");
    assert_eq!(counts.get("DescribeRepositories"), Some(&1), "{counts:?}");

    moto.reset_recording();
    let again = moto.ecr_warden_with(&args, &guard);
    assert_eq!(again.json()["report"]["status"], "compliant", "{again:?}");
    assert_eq!(moto.writes(), Vec::<String>::new());

    event["detail"]["userIdentity"]["sessionContext"]["sessionIssuer"]["arn"] = json!(OWN_ROLE);
    let by_us = moto.event_file("by-us.json", &event);
    moto.reset_recording();
    let ours = moto.ecr_warden_with(&["handle", "--event", by_us.as_str(), "--baseline", baseline], &guard);
    assert!(ours.stdout().contains("made by ecr-warden itself"), "{ours:?}");
    assert_eq!(moto.operations(), Vec::<String>::new(), "the loop guard holds for registry calls too");
}

/// A replication configuration emptied by hand (`PutReplicationConfiguration`) is put back as the baseline's
/// `[replication]` section says; with replication off in the baseline, the event is ignored with the reason.
#[tokio::test]
async fn a_replication_configuration_changed_by_hand_is_restored() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("prod/api").send().await.expect("create");
    let text = "[replication]\nmode = \"enforce\"\n[[replication.targets]]\nrepositories = \"prod/**\"\nregions = [\"eu-west-1\"]\n";
    let baseline = moto.write_file("baseline.toml", text);
    let off = moto.write_file("off.toml", "");
    let mut event = cloudtrail_fixture();
    event["detail"]["eventName"] = json!("PutReplicationConfiguration");
    event["detail"]["requestParameters"] = json!({"replicationConfiguration": {"rules": []}});
    let event = moto.event_file("replication.json", &event);

    let ignored = moto.ecr_warden(&["handle", "--event", &event, "--baseline", off.to_str().expect("utf-8")]);
    assert!(ignored.stdout().contains("doesn't govern replication"), "{ignored:?}");

    let args = ["handle", "--event", &event, "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];
    let handled = moto.ecr_warden(&args);
    assert_eq!(handled.code(), 0, "{handled:?}");
    assert_eq!(handled.json()["report"]["status"], "fixed", "{handled:?}");
    let registry = ecr.describe_registry().send().await.expect("describe registry");
    let rules = registry.replication_configuration().map(|c| c.rules().len()).unwrap_or_default();
    assert_eq!(rules, 1, "{registry:?}");
}
