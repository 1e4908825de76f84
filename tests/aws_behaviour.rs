//! AWS behaviours moto doesn't model, played by a stand-in in front of moto: each test cites the AWS page that
//! says how AWS behaves, so that a regression fails even though moto alone would not notice.

use integration_tests::faults::FaultProxy;
use integration_tests::Moto;
use serde_json::{json, Value};

const REPOSITORY: &str = "team-a/api";

/// What ECR does to a repository policy it stores: an account ID principal becomes the account's root ARN
/// ("the service might convert it to the principal ARN": IAM User Guide, "AWS JSON policy elements: Principal",
/// AWS account principals), a one-item list becomes a string, and lists come back in another order.
fn as_ecr_stores_it(body: &str) -> String {
    let mut request: Value = serde_json::from_str(body).expect("a SetRepositoryPolicy request");
    let mut policy: Value = serde_json::from_str(request["policyText"].as_str().expect("policyText")).expect("JSON");
    fn rewrite(value: &mut Value, key: &str) {
        match value {
            Value::Array(items) if items.len() == 1 => *value = items.remove(0),
            Value::Array(items) => items.reverse(),
            _ => {}
        }
        if key == "AWS" {
            let root = |id: &str| match id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
                true => Value::String(format!("arn:aws:iam::{id}:root")),
                false => Value::String(id.to_string()),
            };
            match value {
                Value::String(id) => *value = root(id),
                Value::Array(items) => items.iter_mut().for_each(|i| *i = root(i.as_str().unwrap_or_default())),
                _ => {}
            }
        }
    }
    for statement in policy["Statement"].as_array_mut().expect("statements") {
        for key in ["Action", "Resource"] {
            if let Some(value) = statement.get_mut(key) {
                rewrite(value, key);
            }
        }
        if let Some(Value::Object(principals)) = statement.get_mut("Principal") {
            for (kind, value) in principals.iter_mut() {
                rewrite(value, kind);
            }
        }
    }
    request["policyText"] = json!(policy.to_string());
    request.to_string()
}

/// A policy ecr-warden wrote, stored by ECR in its own form, is compliant on the next run: no write, whatever the
/// spelling (before statements were compared by meaning, every run rewrote it).
#[tokio::test]
async fn a_policy_ecr_stored_in_its_own_form_is_not_written_again() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name(REPOSITORY).send().await.expect("create");
    let baseline = moto.write_file(
        "baseline.toml",
        r#"
        [defaults.encryption]
        mode = "off"
        [defaults.repository_policy]
        cross_account_pull = ["111122223333", "444455556666"]
        [[defaults.repository_policy.statements]]
        Sid = "CiPush"
        Effect = "Allow"
        Principal = { AWS = ["210987654321"] }
        Action = ["ecr:PutImage", "ecr:InitiateLayerUpload", "ecr:UploadLayerPart", "ecr:CompleteLayerUpload"]
        "#,
    );
    let baseline = baseline.to_str().expect("utf-8");
    let proxy = FaultProxy::start_with(&moto.endpoint, 0, 0, &[]);
    proxy.rewrite("SetRepositoryPolicy", as_ecr_stores_it);
    let env = [("AWS_ENDPOINT_URL", proxy.endpoint.as_str())];

    let first = moto.ecr_warden_with(&["apply", "--baseline", baseline], &env);
    assert_eq!(first.code(), 0, "{first:?}");
    let stored = moto.ecr().await.get_repository_policy().repository_name(REPOSITORY).send().await.expect("policy");
    let stored = stored.policy_text().expect("text");
    assert!(stored.contains("arn:aws:iam::210987654321:root"), "stored as ECR stores it: {stored}");

    moto.reset_recording();
    let second = moto.ecr_warden_with(&["apply", "--baseline", baseline], &env);
    assert_eq!(second.code(), 0, "{second:?}");
    assert_eq!(moto.writes(), Vec::<String>::new(), "the second run makes no write");
}
