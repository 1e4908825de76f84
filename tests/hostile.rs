//! Hostile and broken input through `ecr-warden handle` (exactly the functions' code): every event gets a
//! clear outcome, a refused one makes no call at all, and repository policies written in every legal shape
//! keep every statement ecr-warden doesn't own.

use integration_tests::{event_fixture, Moto};
use serde_json::{json, Value};

fn create_event(repository: Value) -> Value {
    let mut event = event_fixture("cloudtrail-create-repository.json");
    event["detail"]["requestParameters"] = json!({ "repositoryName": repository });
    event
}

#[tokio::test]
async fn broken_events_are_refused_with_a_clear_error_and_no_call() {
    let moto = Moto::start();
    let mut wrong_detail_type = create_event(json!("app"));
    wrong_detail_type["detail-type"] = json!(5);
    let mut detail_not_object = create_event(json!("app"));
    detail_not_object["detail"] = json!("CreateRepository");
    let mut push_name_list = event_fixture("ecr-image-push.json");
    push_name_list["detail"]["repository-name"] = json!(["app"]);
    let mut scan_counts_text = event_fixture("ecr-image-scan-complete.json");
    scan_counts_text["detail"]["finding-severity-counts"] = json!("many");
    let too_long = "a".repeat(257);
    let deep = "[".repeat(10_000) + &"]".repeat(10_000);

    let cases: Vec<(&str, String, &str)> = vec![
        ("top-level-list", "[1, 2]".into(), "an event must be a JSON object"),
        ("deep", deep, "is nested too deeply (over 128 levels)"),
        ("wrong-detail-type", wrong_detail_type.to_string(), "EventBridge envelope"),
        ("detail-not-object", detail_not_object.to_string(), "CloudTrail detail"),
        ("name-number", create_event(json!(42)).to_string(), "repositoryName is missing or not a string"),
        ("name-traversal", create_event(json!("../../etc/passwd")).to_string(), "is not a repository name"),
        ("name-upper", create_event(json!("Team/App")).to_string(), "is not a repository name"),
        ("name-control", create_event(json!("app\u{0}x")).to_string(), "is not a repository name"),
        ("name-too-long", create_event(json!(too_long)).to_string(), "2 to 256 characters"),
        ("push-name-list", push_name_list.to_string(), "detail.repository-name is missing"),
        ("scan-counts-text", scan_counts_text.to_string(), "finding-severity-counts"),
        ("backfill-unknown-key", r#"{"dryrun": true}"#.into(), "nor a backfill request"),
        ("backfill-concurrency", r#"{"concurrency": 0}"#.into(), "concurrency must be between 1 and 64"),
    ];
    moto.reset_recording();
    for (name, text, message) in cases {
        let file = moto.write_file(&format!("{name}.json"), &text);
        let run = moto.ecr_warden(&["handle", "--event", file.to_str().expect("utf-8")]);
        assert_eq!(run.code(), 1, "{name}: {run:?}");
        assert!(run.stderr().contains(message), "{name}: expected {message:?}: {run:?}");
        assert!(run.stderr().len() < 2_000, "{name}: the error is short, not the event echoed back: {run:?}");
        assert!(!run.stderr().contains("panicked"), "{name}: {run:?}");
    }
    assert_eq!(moto.operations(), Vec::<String>::new(), "nothing was called");
}

#[tokio::test]
async fn unknown_and_oversized_events_are_ignored_with_a_reason_and_no_call() {
    let moto = Moto::start();
    let mut unknown_source = create_event(json!("app"));
    unknown_source["source"] = json!("aws.s3");
    let mut unknown_type = event_fixture("ecr-image-push.json");
    unknown_type["detail-type"] = json!("ECR Scan Resource Change");
    // Far past EventBridge's 256 KB limit.
    unknown_type["detail"]["padding"] = json!("x".repeat(1 << 20));
    let mut other_service = create_event(json!("app"));
    other_service["detail"]["eventSource"] = json!("s3.amazonaws.com");

    moto.reset_recording();
    for (name, event, reason) in [
        ("unknown-source", unknown_source, "events from `aws.s3` are not handled here"),
        ("unknown-type", unknown_type, "`ECR Scan Resource Change` events"),
        ("other-service", other_service, "not ECR"),
    ] {
        let file = moto.write_file(&format!("{name}.json"), &event.to_string());
        let run = moto.ecr_warden(&["handle", "--event", file.to_str().expect("utf-8")]);
        assert_eq!(run.code(), 0, "{name}: {run:?}");
        assert!(run.stdout().starts_with("ignored: ") && run.stdout().contains(reason), "{name}: {run:?}");
    }
    assert_eq!(moto.operations(), Vec::<String>::new(), "nothing was called");
}

#[tokio::test]
async fn a_repository_with_the_longest_name_ecr_allows_is_governed() {
    let moto = Moto::start();
    let name = format!("{}9/{}", "a-b.c_d".repeat(18), "b1".repeat(64));
    assert_eq!(name.len(), 256);
    moto.ecr().await.create_repository().repository_name(&name).send().await.expect("create");
    let file = moto.write_file("longest.json", &create_event(json!(name)).to_string());
    let run = moto.ecr_warden(&["handle", "--event", file.to_str().expect("utf-8"), "--output", "json"]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.json()["report"]["repository"], json!(name));
    assert_eq!(run.json()["report"]["controls"][0]["status"], "fixed");
}

/// Policies in every legal shape: each keeps every statement that isn't public (same JSON value, same
/// order), public ones are removed, and a second run changes nothing.
#[tokio::test]
async fn policies_in_every_shape_keep_every_statement_ecr_warden_does_not_own() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let arn = "arn:aws:iam::123456789012:root";
    let kept = [
        json!({"Sid": "PrincipalString", "Effect": "Allow", "Principal": {"AWS": arn}, "Action": "ecr:BatchGetImage"}),
        json!({"Sid": "PrincipalList", "Effect": "Allow", "Principal": {"AWS": [arn, "arn:aws:iam::210987654321:root"]},
               "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}),
        json!({"Sid": "OrgOnly", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
               "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}}}),
        json!({"Effect": "Deny", "NotPrincipal": {"AWS": arn}, "Action": "ecr:DeleteRepository"}),
        json!({"Sid": "Service", "Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"},
               "Action": "ecr:BatchGetImage"}),
    ];
    let public = [
        json!({"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}),
        json!({"Sid": "AllButOne", "Effect": "Allow", "NotPrincipal": {"AWS": arn}, "Action": "ecr:BatchGetImage"}),
        // Conditions that look narrowing but admit anyone.
        json!({"Sid": "SecureTransportOnly", "Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "ecr:*",
               "Condition": {"Bool": {"aws:SecureTransport": "true"}}}),
        json!({"Sid": "AnyAccount", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
               "Condition": {"StringLike": {"aws:PrincipalAccount": "*"}}}),
        json!({"Sid": "OrgIfExists", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
               "Condition": {"StringEqualsIfExists": {"aws:PrincipalOrgID": "o-abc123"}}}),
    ];
    // A public principal beside a named account: the statement stays, for the account only.
    let mixed = json!({"Sid": "EveryoneList", "Effect": "Allow", "Principal": {"AWS": [arn, "*"]}, "Action": "ecr:*"});
    let mixed_narrowed =
        json!({"Sid": "EveryoneList", "Effect": "Allow", "Principal": {"AWS": [arn]}, "Action": "ecr:*"});
    let documents = [
        // A single statement as an object, not a list.
        ("single", json!({"Version": "2012-10-17", "Statement": kept[0].clone()})),
        (
            "mixed",
            json!({"Version": "2012-10-17", "Id": "team", "Statement": [
            kept[1].clone(), public[0].clone(), kept[2].clone(), mixed.clone(), public[1].clone(), kept[3].clone(),
            public[2].clone(), public[3].clone(), kept[4].clone(), public[4].clone()]}),
        ),
    ];
    for (name, document) in &documents {
        ecr.create_repository().repository_name(*name).send().await.expect("create");
        ecr.set_repository_policy()
            .repository_name(*name)
            .policy_text(document.to_string())
            .send()
            .await
            .expect("policy");
    }

    let apply = moto.ecr_warden(&["apply", "--output", "json"]);
    assert!([0, 3].contains(&apply.code()), "{apply:?}");
    for (name, document) in &documents {
        let text = ecr.get_repository_policy().repository_name(*name).send().await.expect("policy");
        let now: Value = serde_json::from_str(text.policy_text().expect("text")).expect("JSON");
        // A document with nothing to change is left as it was written (a single statement stays an object).
        let statements = match &now["Statement"] {
            Value::Array(list) => list.clone(),
            single => vec![single.clone()],
        };
        let expected: Vec<Value> = match &document["Statement"] {
            Value::Array(list) => list
                .iter()
                .filter(|s| !public.contains(s))
                .map(|s| if *s == mixed { mixed_narrowed.clone() } else { s.clone() })
                .collect(),
            single => vec![single.clone()],
        };
        assert_eq!(statements, expected, "{name}: every statement not public kept, in order");
        assert_eq!(now["Version"], "2012-10-17");
        if *name == "mixed" {
            assert_eq!(now["Id"], "team", "other top-level keys kept");
        }
    }
    let report = apply.json();
    let removed = in_actions(&report, "removed");
    assert_eq!(removed.len(), public.len(), "each public statement is printed in the report: {apply:?}");
    let narrowed = in_actions(&report, "narrowed");
    assert_eq!(narrowed, [&json!({"before": mixed, "after": mixed_narrowed})], "printed before and after");

    moto.reset_recording();
    let again = moto.ecr_warden(&["apply"]);
    assert!([0, 3].contains(&again.code()), "{again:?}");
    assert_eq!(moto.writes(), Vec::<String>::new(), "a second run writes nothing");
}

/// Every item of the list `key` in every action of a plan/apply report.
fn in_actions<'a>(report: &'a Value, key: &str) -> Vec<&'a Value> {
    report["repositories"]
        .as_array()
        .expect("repositories")
        .iter()
        .flat_map(|r| r["controls"].as_array().into_iter().flatten())
        .flat_map(|c| c["actions"].as_array().into_iter().flatten())
        .filter_map(|a| a[key].as_array())
        .flatten()
        .collect()
}
