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

/// The registry's scanning rules: (frequency, sorted filters).
async fn scanning_rules(ecr: &aws_sdk_ecr::Client) -> Vec<(String, Vec<String>)> {
    let config = ecr.get_registry_scanning_configuration().send().await.expect("get rules");
    let rules = config.scanning_configuration().map(|c| c.rules().to_vec()).unwrap_or_default();
    let rule = |r: &aws_sdk_ecr::types::RegistryScanningRule| {
        let mut filters: Vec<String> = r.repository_filters().iter().map(|f| f.filter().to_string()).collect();
        filters.sort();
        (r.scan_frequency().as_str().to_string(), filters)
    };
    rules.iter().map(rule).collect()
}

/// 150 repositories governed at the registry level stay within ECR's limits: a scanning rule holds at most
/// 100 filters (API reference, `RegistryScanningRule.repositoryFilters`, 0-100 items), so one filter per
/// repository would break at the 101st. The built-in baseline covers them all with `*`; a baseline with a rule
/// per team, with one filter per team glob. A second run writes nothing.
#[tokio::test]
async fn a_hundred_and_fifty_repositories_take_one_filter_per_glob_not_per_repository() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let names: Vec<String> = (0..150).map(|i| format!("team-{}/svc-{i:03}", ["a", "b", "c"][i % 3])).collect();
    for name in &names {
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let per_team =
        "[defaults.scanning]\nmode = \"off\"\n[[rules]]\nmatch = \"team-a/**\"\nscanning = { mode = \"enforce\" }\n\
                    [[rules]]\nmatch = [\"team-b/**\", \"team-c/**\"]\nscanning = { mode = \"enforce\" }\n";
    let per_team = moto.write_file("per-team.toml", per_team);
    let builtin = moto.write_file("builtin.toml", "");
    let cases = [
        (per_team, vec![("SCAN_ON_PUSH".to_string(), vec!["team-a/*".into(), "team-b/*".into(), "team-c/*".into()])]),
        (builtin, vec![("SCAN_ON_PUSH".to_string(), vec!["*".into()])]),
    ];
    for (baseline, want) in cases {
        let no_rules = ecr.put_registry_scanning_configuration().scan_type(aws_sdk_ecr::types::ScanType::Basic);
        no_rules.set_rules(Some(vec![])).send().await.expect("no scanning rules");
        let baseline = baseline.to_str().expect("utf-8");
        let apply = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
        assert!(apply.code() == 0 || apply.code() == 3, "{apply:?}");
        let report = apply.json();
        let scanning = &report["summary"]["controls"]["scanning"];
        assert!(scanning["fixed"].as_u64().unwrap_or(0) >= 1, "{scanning}");
        assert_eq!(scanning["error"], Value::Null, "{scanning}");
        assert_eq!(scanning["violation"], Value::Null, "{scanning}");
        assert_eq!(scanning_rules(&ecr).await, want);

        moto.reset_recording();
        let again = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
        assert!(again.code() == 0 || again.code() == 3, "{again:?}");
        assert_eq!(again.json()["summary"]["controls"]["scanning"], json!({"compliant": 150}));
        assert!(!moto.writes().iter().any(|w| w.contains("Scanning")), "{:?}", moto.writes());
    }
}
