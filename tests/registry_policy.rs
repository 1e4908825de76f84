//! The registry permissions policy (issue 18), against moto's `GetRegistryPolicy` / `PutRegistryPolicy` /
//! `DeleteRegistryPolicy`: the baseline's statements merged by Sid, public and unknown-account grants taken out
//! and printed in full, compliant (reads only) on the next run, and a hand edit (`PutRegistryPolicy` in
//! CloudTrail) undone.
//!
//! moto checks registry policies as AWS's V1 scope did (only `ecr:CreateRepository` and `ecr:ReplicateImage`, and
//! an IAM identity-policy check that wants `Resource`); AWS's default V2 scope takes every ECR action ("Amazon ECR
//! allows all ECR actions in the policy": ECR user guide, "Private registry permissions"). The statements here
//! keep to what both accept.

use integration_tests::faults::{FaultProxy, Stage};
use integration_tests::{event_fixture, Moto, ACCOUNT, REPOSITORY_CONTROLS_OFF};
use serde_json::{json, Value};

/// A replication grant to `account`'s root.
fn replication(sid: &str, account: &str) -> Value {
    json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{account}:root")},
           "Action": ["ecr:CreateRepository", "ecr:ReplicateImage"],
           "Resource": format!("arn:aws:ecr:us-east-1:{ACCOUNT}:repository/*")})
}

/// Only the registry policy (after [`REPOSITORY_CONTROLS_OFF`]), so the runs' writes are its alone.
const REGISTRY_POLICY: &str = r#"
[registry_policy]
mode = "enforce"
allowed_accounts = ["111122223333", "444455556666"]

[[registry_policy.statements]]
Sid = "ReplicateFromProd"
Effect = "Allow"
Principal = { AWS = "arn:aws:iam::111122223333:root" }
Action = ["ecr:CreateRepository", "ecr:ReplicateImage"]
Resource = "arn:aws:ecr:us-east-1:123456789012:repository/*"
"#;

/// The whole baseline.
fn baseline_text() -> String {
    format!("{REPOSITORY_CONTROLS_OFF}{REGISTRY_POLICY}")
}

async fn registry_policy(ecr: &aws_sdk_ecr::Client) -> Value {
    let got = ecr.get_registry_policy().send().await.expect("a registry policy");
    serde_json::from_str(got.policy_text().expect("text")).expect("JSON")
}

fn registry_report(run: &Value) -> Value {
    let reports = run["registry"].as_array().cloned().unwrap_or_default();
    reports.into_iter().find(|r| r["control"] == "registry-policy").unwrap_or(Value::Null)
}

#[tokio::test]
async fn the_registry_policy_is_merged_and_outsiders_are_taken_out_and_printed() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let partner = replication("Partner", "444455556666");
    let stranger = replication("Stranger", "999999999999");
    let policy = json!({"Version": "2012-10-17", "Statement": [partner.clone(), stranger.clone()]});
    ecr.put_registry_policy().policy_text(policy.to_string()).send().await.expect("put");
    let baseline = moto.write_file("baseline.toml", &baseline_text());
    let args = ["--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];

    moto.reset_recording();
    let plan = moto.ecr_warden(&[&["plan"][..], &args[..]].concat());
    let planned = registry_report(&plan.json());
    assert_eq!(planned["status"], "pending", "{planned:#}");
    let finding = planned["finding"].as_str().unwrap_or_default();
    assert!(finding.contains("missing or outdated statements ReplicateFromProd"), "{finding}");
    assert!(finding.contains("Stranger lets in account 999999999999"), "{finding}");
    assert!(moto.writes().is_empty(), "plan writes nothing: {:?}", moto.writes());

    let apply = moto.ecr_warden(&[&["apply"][..], &args[..]].concat());
    let applied = registry_report(&apply.json());
    assert_eq!(applied["status"], "fixed", "{applied:#}");
    assert_eq!(applied["removed"], json!([stranger]), "printed in full: {applied:#}");
    let now = registry_policy(&ecr).await;
    assert_eq!(now["Statement"], json!([partner, replication("ReplicateFromProd", "111122223333")]));

    moto.reset_recording();
    let again = moto.ecr_warden(&[&["apply"][..], &args[..]].concat());
    assert_eq!(registry_report(&again.json())["status"], "compliant", "{:#}", again.json());
    assert_eq!(moto.writes(), Vec::<String>::new(), "compliant: reads only");

    // The table prints what was taken out, in full.
    ecr.put_registry_policy().policy_text(policy.to_string()).send().await.expect("put");
    let table = moto.ecr_warden(&["plan", "--baseline", baseline.to_str().expect("utf-8")]);
    assert!(table.stdout().contains("registry-policy: pending"), "{}", table.stdout());
    assert!(table.stdout().contains("taken out: {\"Action\":[\"ecr:CreateRepository\""), "{}", table.stdout());
}

/// A registry policy edited by hand (`PutRegistryPolicy` in CloudTrail) is brought back to the baseline; with no
/// `[registry_policy]` in the baseline the event is ignored with the reason.
#[tokio::test]
async fn a_registry_policy_changed_by_hand_is_restored() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let public = json!({"Sid": "Anyone", "Effect": "Allow", "Principal": "*", "Action": "ecr:ReplicateImage",
                        "Resource": "*"});
    let policy = json!({"Version": "2012-10-17", "Statement": [public]});
    ecr.put_registry_policy().policy_text(policy.to_string()).send().await.expect("put");
    let mut event = event_fixture("cloudtrail-create-repository.json");
    event["detail"]["eventName"] = json!("PutRegistryPolicy");
    event["detail"]["requestParameters"] = json!({"policyText": policy.to_string()});
    let event = moto.event_file("registry-policy.json", &event);
    let off = moto.write_file("off.toml", "");
    let ignored = moto.ecr_warden(&["handle", "--event", &event, "--baseline", off.to_str().expect("utf-8")]);
    assert!(ignored.stdout().contains("doesn't govern registry-policy"), "{ignored:?}");

    let baseline = moto.write_file("baseline.toml", &baseline_text());
    let args = ["handle", "--event", &event, "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];
    let handled = moto.ecr_warden(&args);
    assert_eq!(handled.code(), 0, "{handled:?}");
    let report = &handled.json()["report"];
    assert_eq!(report["status"], "fixed", "{report:#}");
    assert!(report["finding"].as_str().unwrap_or_default().contains("public access granted by Anyone"), "{report:#}");
    assert_eq!(registry_policy(&ecr).await["Statement"], json!([replication("ReplicateFromProd", "111122223333")]));
}

/// Another writer puts its own registry policy right after ecr-warden's put (its own statement, and the stranger
/// back): the read-back after the pause sees it, judges again and puts again, keeping the writer's statement.
#[tokio::test]
async fn a_registry_policy_put_right_after_ecr_wardens_is_judged_again() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let stranger = replication("Stranger", "999999999999");
    let first = json!({"Version": "2012-10-17", "Statement": [stranger.clone()]});
    ecr.put_registry_policy().policy_text(first.to_string()).send().await.expect("put");
    let baseline = moto.write_file("baseline.toml", &baseline_text());
    let proxy = FaultProxy::start_with(&moto.endpoint, 0, 0, &[]);
    let hold = proxy.hold("PutRegistryPolicy", Stage::AfterForward);
    let theirs = replication("TheirPartner", "444455556666");
    let policy = json!({"Version": "2012-10-17", "Statement": [theirs.clone(), stranger.clone()]}).to_string();
    let run = std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            let args = ["apply", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];
            moto.ecr_warden_with(&args, &[("AWS_ENDPOINT_URL", &proxy.endpoint)])
        });
        hold.wait();
        // The other writer, in a thread with a runtime of its own (the test's is blocked here).
        scope
            .spawn(|| {
                let own = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
                own.block_on(async {
                    let ecr = moto.ecr().await;
                    ecr.put_registry_policy().policy_text(&policy).send().await.expect("put");
                });
            })
            .join()
            .expect("the writer thread");
        hold.release();
        run.join().expect("the apply thread")
    });
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(registry_report(&run.json())["status"], "fixed", "{run:?}");
    let now = registry_policy(&ecr).await;
    assert_eq!(now["Statement"], json!([theirs, replication("ReplicateFromProd", "111122223333")]), "theirs kept");
}
