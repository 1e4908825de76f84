//! Events for one repository handled at the same time, each in its own process as concurrent Lambda
//! invocations would be: the end state is the baseline, and the repository policy's statements are
//! neither lost nor duplicated.

use integration_tests::{fixture, Moto, Run};
use serde_json::{json, Value};

const REPOSITORY: &str = "team-a/concurrent";
const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
    {"Sid": "TeamPull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
     "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]},
    {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}"#;
/// The built-in baseline, with the encryption moto gives new repositories, so a governed repository is clean.
const BASELINE: &str = "[defaults.encryption]\nmode = \"audit\"\ntype = \"AES256\"\n";

fn fixture_json(name: &str) -> Value {
    let text = std::fs::read_to_string(fixture(&format!("events/{name}"))).expect("fixture");
    serde_json::from_str(&text).expect("fixture is JSON")
}

/// A drifted repository: mutable tags, no scan on push, no lifecycle policy, no tags, a public statement
/// beside the team's own.
async fn drifted_repository(moto: &Moto) {
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name(REPOSITORY).send().await.expect("create");
    ecr.set_repository_policy().repository_name(REPOSITORY).policy_text(POLICY).send().await.expect("policy");
}

/// Runs `ecr-warden handle` on every event file at the same time; every run's result.
fn handle_at_once(moto: &Moto, events: &[String], baseline: &str) -> Vec<Run> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = events
            .iter()
            .map(|event| scope.spawn(move || moto.ecr_warden(&["handle", "--event", event, "--baseline", baseline])))
            .collect();
        runs.into_iter().map(|run| run.join().expect("a handler thread")).collect()
    })
}

/// The end state every test expects: nothing left to do, the team's statement once, the public one gone.
async fn assert_governed_once(moto: &Moto, baseline: &str) {
    let plan = moto.ecr_warden(&["plan", "--baseline", baseline, "--repository", REPOSITORY]);
    assert_eq!(plan.code(), 0, "nothing left to do: {plan:?}");
    let policy = moto.ecr().await.get_repository_policy().repository_name(REPOSITORY).send().await.expect("policy");
    let document: Value = serde_json::from_str(policy.policy_text().expect("text")).expect("policy JSON");
    let ids: Vec<&str> =
        document["Statement"].as_array().expect("statements").iter().filter_map(|s| s["Sid"].as_str()).collect();
    assert_eq!(ids, ["TeamPull"], "{document:#}");
}

#[tokio::test]
async fn a_create_event_and_a_drift_event_handled_at_once_end_at_the_baseline() {
    let moto = Moto::start();
    drifted_repository(&moto).await;
    let baseline = moto.write_file("baseline.toml", BASELINE).to_str().expect("utf-8").to_string();
    let mut create = fixture_json("cloudtrail-create-repository.json");
    create["detail"]["requestParameters"] = json!({"repositoryName": REPOSITORY});
    let mut drift = create.clone();
    drift["detail"]["eventName"] = json!("SetRepositoryPolicy");
    drift["detail"]["requestParameters"] = json!({"repositoryName": REPOSITORY, "policyText": "..."});
    let events = [
        moto.write_file("create.json", &create.to_string()).to_str().expect("utf-8").to_string(),
        moto.write_file("drift.json", &drift.to_string()).to_str().expect("utf-8").to_string(),
    ];

    for run in handle_at_once(&moto, &events, &baseline) {
        assert_eq!(run.code(), 0, "{run:?}");
        assert!(run.stdout().contains(REPOSITORY), "{run:?}");
    }
    assert_governed_once(&moto, &baseline).await;
}

#[tokio::test]
async fn ten_pushes_handled_at_once_end_at_the_baseline() {
    let moto = Moto::start();
    drifted_repository(&moto).await;
    let baseline = moto.write_file("baseline.toml", BASELINE).to_str().expect("utf-8").to_string();
    let events: Vec<String> = (0..10)
        .map(|index| {
            let mut push = fixture_json("ecr-image-push.json");
            push["region"] = json!(integration_tests::REGION);
            push["detail"]["repository-name"] = json!(REPOSITORY);
            push["detail"]["image-digest"] = json!(format!("sha256:{index:064}"));
            push["detail"]["image-tag"] = json!(format!("v1.0.{index}"));
            let file = moto.write_file(&format!("push-{index}.json"), &push.to_string());
            file.to_str().expect("utf-8").to_string()
        })
        .collect();

    for run in handle_at_once(&moto, &events, &baseline) {
        assert_eq!(run.code(), 0, "{run:?}");
    }
    assert_governed_once(&moto, &baseline).await;
}
