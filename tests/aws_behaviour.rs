//! AWS behaviours moto doesn't model, played by a stand-in in front of moto: each test cites the AWS page that
//! says how AWS behaves, so that a regression fails even though moto alone would not notice.

use integration_tests::faults::FaultProxy;
use integration_tests::{scanning_rules, Moto};
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
        // A repository reports the rule fixed only if its own put wrote it: one per filter, the rest found it
        // already made (compliant), however many observed it missing at once.
        assert_eq!(scanning["fixed"].as_u64(), Some(want[0].1.len() as u64), "{scanning}");
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

/// Security Hub ECR.5 and the AWS Config rule `ecr-repository-cmk-encryption-enabled` fail a repository
/// encrypted with the AWS managed key: with `encryptionType` KMS and no key, "Amazon ECR uses an AWS managed
/// key ... with the alias aws/ecr" (ECR user guide, "Encryption at rest"), and `kms:DescribeKey` says
/// `"KeyManager": "AWS"` for it (KMS API reference, `KeyMetadata`). moto gives such a repository a key ARN it
/// doesn't hold and manages every key it has as CUSTOMER, so a stand-in answers DescribeKey for that key as
/// AWS would. With `customer_managed_key = true`, that repository is a violation citing ECR.5; one under a
/// customer managed key is compliant; each key is described once.
#[tokio::test]
async fn an_aws_managed_key_fails_the_customer_managed_key_requirement_as_ecr_5_does() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let key = moto.kms().await.create_key().send().await.expect("create key");
    let key_arn = key.key_metadata().and_then(|m| m.arn()).expect("key ARN").to_string();
    let kms = |key: Option<&str>| {
        let config = aws_sdk_ecr::types::EncryptionConfiguration::builder()
            .encryption_type(aws_sdk_ecr::types::EncryptionType::Kms)
            .set_kms_key(key.map(str::to_string));
        config.build().expect("encryption configuration")
    };
    let customer = Some(key_arn.as_str());
    for (name, key) in [("cmk/app", customer), ("cmk/web", customer), ("managed/app", None), ("managed/web", None)] {
        let create = ecr.create_repository().repository_name(name).encryption_configuration(kms(key));
        create.send().await.expect("create");
    }
    let proxy = FaultProxy::start_with(&moto.endpoint, 0, 1, &[]);
    // Every other key is the one ECR chose itself (moto makes up one per repository; AWS uses aws/ecr).
    proxy.answer("DescribeKey", move |body| {
        let request: Value = serde_json::from_str(body).ok()?;
        let asked = request["KeyId"].as_str()?.to_string();
        (asked != key_arn).then(|| {
            let id = asked.rsplit('/').next().unwrap_or_default();
            json!({"KeyMetadata": {"KeyId": id, "Arn": asked, "AWSAccountId": "123456789012",
                   "KeyManager": "AWS", "KeyState": "Enabled", "Enabled": true}})
            .to_string()
        })
    });

    let baseline = moto.write_file("cmk.toml", "[defaults.encryption]\ncustomer_managed_key = true\n");
    let env = [("AWS_ENDPOINT_URL", proxy.endpoint.as_str())];
    let plan =
        moto.ecr_warden_with(&["plan", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"], &env);
    let report = plan.json();
    let encryption = |name: &str| {
        let repositories = report["repositories"].as_array().expect("repositories");
        let repository = repositories.iter().find(|r| r["repository"] == name).expect("in the report");
        let controls = repository["controls"].as_array().expect("controls");
        controls.iter().find(|c| c["control"] == "encryption").expect("encryption").clone()
    };
    for name in ["cmk/app", "cmk/web"] {
        assert_eq!(encryption(name)["status"], "compliant", "{plan:?}");
        assert_eq!(encryption(name)["security_hub_control"], "ECR.5");
    }
    for name in ["managed/app", "managed/web"] {
        let control = encryption(name);
        assert_eq!(control["status"], "violation", "{control:#}");
        assert!(control["finding"].as_str().unwrap_or("").contains("AWS managed key"), "{control:#}");
    }
    // One DescribeKey per key, not per repository: the customer managed key shared by two repositories is
    // described once (by moto); each made-up key once (here).
    assert_eq!(moto.operation_counts().get("DescribeKey"), Some(&1));
    assert_eq!(proxy.stood_in().len(), 2);

    // Without the requirement, the AWS managed key is KMS encryption like any other, and no longer ECR.5.
    let plain = moto.write_file("kms.toml", "[defaults.encryption]\ntype = \"KMS\"\n");
    let plan = moto.ecr_warden_with(&["plan", "--baseline", plain.to_str().expect("utf-8"), "--output", "json"], &env);
    let report = plan.json();
    let repositories = report["repositories"].as_array().expect("repositories");
    let managed = repositories.iter().find(|r| r["repository"] == "managed/app").expect("in the report");
    let control = managed["controls"].as_array().expect("controls").iter().find(|c| c["control"] == "encryption");
    let control = control.expect("encryption");
    assert_eq!(control["status"], "compliant", "{control:#}");
    assert_eq!(control["security_hub_control"], Value::Null, "KMS alone is not what ECR.5 asks: {control:#}");
}
