//! The functions' roles hold exactly what their code calls (`ecr-warden permissions`, which `template.yaml` is
//! checked against): here a function runs as an IAM user whose policy is that document, with moto enforcing IAM,
//! so an action the code calls and the policy lacks fails a test, not a deployment.
//!
//! What moto's enforcement covers (moto/iam/access_control.py): the `Action` of identity policies, `Allow` and
//! `Deny`. It doesn't model resources (every request is checked against `Resource: "*"`, so a statement scoped to
//! repository ARNs never matches) nor most condition keys, so the document is checked with its resources widened
//! to `*` and its conditions dropped: resources and conditions are checked by `make check-template` instead.

use integration_tests::{create_repository_event, Moto};
use serde_json::Value;

/// A user whose only policy is `document` (resources widened to `*`, conditions dropped, as moto can judge
/// only actions), with `extra` actions; returns its access key.
async fn user_with(moto: &Moto, name: &str, document: &Value, extra: &[&str]) -> (String, String) {
    let mut statements: Vec<Value> = document["Statement"].as_array().expect("statements").clone();
    for statement in &mut statements {
        statement["Resource"] = Value::from("*");
        statement.as_object_mut().expect("a statement").remove("Condition");
    }
    if !extra.is_empty() {
        statements.push(serde_json::json!({"Effect": "Allow", "Action": extra, "Resource": "*"}));
    }
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    let iam = moto.iam().await;
    iam.create_user().user_name(name).send().await.expect("create user");
    iam.put_user_policy().user_name(name).policy_name("function").policy_document(policy).send().await.expect("policy");
    let key = iam.create_access_key().user_name(name).send().await.expect("access key");
    let key = key.access_key().expect("a key");
    (key.access_key_id().to_string(), key.secret_access_key().to_string())
}

/// A function's policy document.
fn policy_of(moto: &Moto, function: &str) -> Value {
    let args = ["permissions", function, "--policy", "--account", "123456789012", "--region", "us-east-1"];
    let printed = moto.ecr_warden(&args);
    assert_eq!(printed.code(), 0, "{printed:?}");
    printed.json()
}

fn repository_events_policy(moto: &Moto) -> Value {
    policy_of(moto, "repository-events")
}

/// Runs `handle` on a create event for `repository` as the user with `key`, IAM enforced from the first call.
fn handle_as(moto: &Moto, repository: &str, key: &(String, String)) -> integration_tests::Run {
    let event = moto.event_file("create.json", &create_repository_event(repository));
    let status = moto.moto_raw("/moto-api/reset-auth", "0");
    assert_eq!(status, 200, "moto enforces IAM from now on");
    let env = [("AWS_ACCESS_KEY_ID", key.0.as_str()), ("AWS_SECRET_ACCESS_KEY", key.1.as_str())];
    moto.ecr_warden_with(&["handle", "--event", &event, "--output", "json"], &env)
}

#[tokio::test]
async fn the_repository_events_function_needs_nothing_its_policy_lacks() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("app").send().await.expect("create");
    // `handle` (not the Lambda) asks STS which account it runs in: AWS allows GetCallerIdentity to everyone,
    // moto wants it granted.
    let key = user_with(&moto, "repository-events", &repository_events_policy(&moto), &["sts:GetCallerIdentity"]).await;
    let handled = handle_as(&moto, "app", &key);
    assert_eq!(handled.code(), 0, "{handled:?}");
    let statuses: Vec<String> = handled.json()["report"]["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .map(|c| format!("{} {}", c["control"].as_str().unwrap_or(""), c["status"].as_str().unwrap_or("")))
        .collect();
    assert!(statuses.iter().filter(|s| s.ends_with(" fixed")).count() >= 4, "{statuses:?}");
}

#[tokio::test]
async fn an_action_missing_from_the_policy_fails_the_run() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("app").send().await.expect("create");
    let mut document = repository_events_policy(&moto);
    for statement in document["Statement"].as_array_mut().expect("statements") {
        if let Some(actions) = statement["Action"].as_array_mut() {
            actions.retain(|a| a != "ecr:PutLifecyclePolicy");
        }
    }
    let key = user_with(&moto, "short", &document, &["sts:GetCallerIdentity"]).await;
    let handled = handle_as(&moto, "app", &key);
    assert_ne!(handled.code(), 0, "{handled:?}");
    // moto answers a denied JSON-protocol call with an XML body, so the one line says the HTTP status.
    let refused = handled.stderr().contains("PutLifecyclePolicy failed") && handled.stderr().contains("HTTP 403");
    assert!(refused, "{handled:?}");
}

/// A whole-registry apply (the backfill function's code path) as the backfill role.
#[tokio::test]
async fn the_backfill_function_needs_nothing_its_policy_lacks() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for name in ["team-a/api", "team-a/web", "team-b/api"] {
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let key = user_with(&moto, "backfill", &policy_of(&moto, "backfill"), &[]).await;
    assert_eq!(moto.moto_raw("/moto-api/reset-auth", "0"), 200, "moto enforces IAM from now on");
    let env = [("AWS_ACCESS_KEY_ID", key.0.as_str()), ("AWS_SECRET_ACCESS_KEY", key.1.as_str())];
    let baseline = moto.write_file("baseline.toml", "[defaults.encryption]\ntype = \"AES256\"\n");
    let apply = moto.ecr_warden_with(&["apply", "--baseline", baseline.to_str().expect("utf-8")], &env);
    assert_eq!(apply.code(), 0, "everything fixed, nothing refused: {apply:?}");
}
