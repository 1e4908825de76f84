//! Managed image signing (issue 18), against a loopback stand-in for `GetSigningConfiguration` /
//! `PutSigningConfiguration` (moto 5.2 has neither) holding the registry's configuration; every request it
//! answers is validated by the contract check. The baseline's filters join the profile's rule, the other rules
//! stay, the next run only reads, and a hand edit (`PutSigningConfiguration` in CloudTrail) is undone.

use std::sync::{Arc, Mutex};

use integration_tests::faults::FaultProxy;
use integration_tests::{event_fixture, Moto};
use serde_json::{json, Value};

const PROFILE: &str = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/ecr_images";
const OTHER: &str = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/legacy";

/// Answers the signing calls from `held`, as ECR would describe it.
fn stand_in(proxy: &FaultProxy, held: &Arc<Mutex<Value>>) {
    let store = Arc::clone(held);
    proxy.answer("GetSigningConfiguration", move |_| {
        let configuration = store.lock().expect("held").clone();
        Some(json!({"registryId": "123456789012", "signingConfiguration": configuration}).to_string())
    });
    let store = Arc::clone(held);
    proxy.answer("PutSigningConfiguration", move |body| {
        let request: Value = serde_json::from_str(body).ok()?;
        *store.lock().expect("held") = request["signingConfiguration"].clone();
        Some(json!({"signingConfiguration": request["signingConfiguration"]}).to_string())
    });
}

fn signing_report(run: &Value) -> Value {
    let reports = run["registry"].as_array().cloned().unwrap_or_default();
    reports.into_iter().find(|r| r["control"] == "signing").unwrap_or(Value::Null)
}

fn baseline() -> String {
    format!(
        "[signing]\nmode = \"enforce\"\nprofile_arn = \"{PROFILE}\"\nrepositories = [\"prod/**\", \"payments/*\"]\n"
    )
}

#[tokio::test]
async fn the_baselines_repositories_are_signed_and_other_rules_stay() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    let legacy = json!({"signingProfileArn": OTHER, "repositoryFilters": [{"filter": "legacy/*", "filterType": "WILDCARD_MATCH"}]});
    let held = Arc::new(Mutex::new(json!({"rules": [legacy.clone()]})));
    stand_in(&proxy, &held);
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str())];
    let file = moto.write_file("signing.toml", &baseline());
    let args = ["apply", "--baseline", file.to_str().expect("utf-8"), "--output", "json"];

    let run = moto.ecr_warden_with(&args, &env);
    let report = signing_report(&run.json());
    assert_eq!(report["status"], "fixed", "{report:#}");
    assert_eq!(
        held.lock().expect("held").clone(),
        json!({"rules": [legacy, {"signingProfileArn": PROFILE, "repositoryFilters": [
            {"filter": "payments/*", "filterType": "WILDCARD_MATCH"}, {"filter": "prod/*", "filterType": "WILDCARD_MATCH"}]}]}),
        "the legacy rule kept, a rule of the profile added"
    );

    let puts = || proxy.stood_in().iter().filter(|r| r.body.contains("signingConfiguration")).count();
    let before = puts();
    let again = moto.ecr_warden_with(&args, &env);
    assert_eq!(signing_report(&again.json())["status"], "compliant", "{:#}", again.json());
    assert_eq!(puts(), before, "compliant: reads only");

    // Someone takes the profile's rule out by hand; the CloudTrail event brings it back.
    *held.lock().expect("held") = json!({"rules": []});
    let mut event = event_fixture("cloudtrail-create-repository.json");
    event["detail"]["eventName"] = json!("PutSigningConfiguration");
    event["detail"]["requestParameters"] = json!({"signingConfiguration": {"rules": []}});
    let event = moto.event_file("signing.json", &event);
    let handled = moto.ecr_warden_with(
        &["handle", "--event", &event, "--baseline", file.to_str().expect("utf-8"), "--output", "json"],
        &env,
    );
    assert_eq!(handled.json()["report"]["status"], "fixed", "{handled:?}");
    assert_eq!(held.lock().expect("held")["rules"][0]["signingProfileArn"], PROFILE);
    moto.keep_stood_in(&proxy);
}
