//! Repository creation templates derived from the baseline (issue 18), against a loopback stand-in for the
//! template operations (moto 5.2 has none; see `integration_tests::templates`), every other call going to moto:
//! created from a sample baseline, compliant (reads only) on the next run, repaired after a hand edit (the edited
//! template printed in full), a template someone else made reported and left alone, and a hand edit in CloudTrail
//! undone by the repository-events handler.

use integration_tests::faults::FaultProxy;
use integration_tests::templates::Templates;
use integration_tests::{event_fixture, Moto};
use serde_json::{json, Value};

const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ROLE: &str = "arn:aws:iam::123456789012:role/ecr-templates";

/// The sample baseline: every repository immutable, KMS with the key, the built-in lifecycle policy and tag;
/// `team-a/**` keeps `latest` mutable and tags `team=a`, and may be pulled by a partner; `team-a/*-dev` names no
/// whole namespace.
fn sample() -> String {
    format!(
        r#"
[creation_templates]
mode = "enforce"
custom_role_arn = "{ROLE}"

[defaults.encryption]
type = "KMS"
kms_keys = ["{KEY}"]

[[rules]]
match = "team-a/**"
tag_mutability = {{ target = "IMMUTABLE_WITH_EXCLUSION", exclusions = ["latest"] }}
tags = {{ required = {{ team = {{ default = "a" }} }} }}
repository_policy = {{ cross_account_pull = ["444455556666"] }}

[[rules]]
match = "team-a/*-dev"
tag_mutability = {{ mode = "off" }}
"#
    )
}

/// The built-in baseline with templates governed (its `managed-by` tag needs the custom role).
fn built_in_with_templates() -> String {
    format!("[creation_templates]\nmode = \"enforce\"\ncustom_role_arn = \"{ROLE}\"\n")
}

fn templates_report(run: &Value) -> Value {
    let reports = run["registry"].as_array().cloned().unwrap_or_default();
    reports.into_iter().find(|r| r["control"] == "creation-templates").unwrap_or(Value::Null)
}

/// The template operations the stand-in answered, by name.
fn operations(proxy: &FaultProxy) -> Vec<String> {
    let target = |headers: &std::collections::BTreeMap<String, String>| {
        headers.get("x-amz-target").and_then(|t| t.rsplit('.').next()).unwrap_or_default().to_string()
    };
    proxy.stood_in().iter().map(|request| target(&request.headers)).collect()
}

#[tokio::test]
async fn templates_derived_from_the_baseline_are_created_kept_and_repaired() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    let templates = Templates::stand_in(&proxy);
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str())];
    let baseline = moto.write_file("baseline.toml", &sample());
    let args = ["apply", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];

    let applied = moto.ecr_warden_with(&args, &env);
    let report = templates_report(&applied.json());
    assert_eq!(report["status"], "fixed", "{report:#}");
    assert_eq!(report["changes"], json!(["create the template for ROOT", "create the template for team-a"]));
    let held = templates.all();
    assert_eq!(held.keys().collect::<Vec<_>>(), ["ROOT", "team-a"], "team-a/*-dev names no whole namespace");
    let (root, team) = (&held["ROOT"], &held["team-a"]);
    assert_eq!(root["imageTagMutability"], "IMMUTABLE");
    assert_eq!(root["encryptionConfiguration"], json!({"encryptionType": "KMS", "kmsKey": KEY}));
    assert_eq!(root["customRoleArn"], ROLE);
    assert_eq!(root["appliedFor"], json!(["CREATE_ON_PUSH", "PULL_THROUGH_CACHE", "REPLICATION"]));
    assert!(root["lifecyclePolicy"].as_str().is_some_and(|p| p.contains("rulePriority")), "{root:#}");
    assert!(root["description"].as_str().is_some_and(|d| d.starts_with("Managed by ecr-warden")), "{root:#}");
    assert_eq!(team["imageTagMutability"], "IMMUTABLE_WITH_EXCLUSION");
    assert_eq!(team["imageTagMutabilityExclusionFilters"], json!([{"filterType": "WILDCARD", "filter": "latest"}]));
    assert_eq!(
        team["resourceTags"],
        json!([{"Key": "managed-by", "Value": "ecr-warden"}, {"Key": "team", "Value": "a"}])
    );
    let policy: Value = serde_json::from_str(team["repositoryPolicy"].as_str().expect("a policy")).expect("JSON");
    assert_eq!(policy["Statement"][0]["Principal"], json!({"AWS": ["arn:aws:iam::444455556666:root"]}));

    // Compliant: the next run only reads.
    let before = operations(&proxy).len();
    let again = moto.ecr_warden_with(&args, &env);
    assert_eq!(templates_report(&again.json())["status"], "compliant", "{:#}", again.json());
    assert_eq!(operations(&proxy)[before..], ["DescribeRepositoryCreationTemplates"], "reads only");

    // A hand edit is repaired, and the template as it was is printed in full.
    templates.edit("team-a", |t| t["imageTagMutability"] = json!("MUTABLE"));
    let repaired = moto.ecr_warden_with(&args, &env);
    let report = templates_report(&repaired.json());
    assert_eq!(report["status"], "fixed", "{report:#}");
    assert!(report["finding"].as_str().is_some_and(|f| f.contains("team-a differs: tag mutability")), "{report:#}");
    assert_eq!(report["removed"][0]["imageTagMutability"], "MUTABLE", "printed in full: {report:#}");
    assert_eq!(templates.all()["team-a"]["imageTagMutability"], "IMMUTABLE_WITH_EXCLUSION");
    moto.keep_stood_in(&proxy);
}

#[tokio::test]
async fn a_template_someone_else_made_is_reported_and_left_alone() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    let templates = Templates::stand_in(&proxy);
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str())];
    let theirs = json!({"prefix": "ROOT", "description": "the platform team's", "imageTagMutability": "MUTABLE",
                        "appliedFor": ["PULL_THROUGH_CACHE"]});
    templates.put(theirs.clone());
    let unrelated = json!({"prefix": "vendor", "description": "", "appliedFor": ["REPLICATION"]});
    templates.put(unrelated.clone());
    let baseline = moto.write_file("baseline.toml", &built_in_with_templates());
    let run =
        moto.ecr_warden_with(&["apply", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"], &env);
    let report = templates_report(&run.json());
    assert_eq!(report["status"], "violation", "{report:#}");
    assert!(
        report["finding"].as_str().is_some_and(|f| f
            .contains("ROOT (tag mutability, encryption, lifecycle policy, resource tags, applied for, custom role)")),
        "{report:#}"
    );
    assert_eq!(run.code(), 3, "a violation apply can't fix: {run:?}");
    assert_eq!(templates.all()["ROOT"], theirs, "never overwritten");
    assert_eq!(templates.all()["vendor"], unrelated, "never deleted");
    moto.keep_stood_in(&proxy);
}

#[tokio::test]
async fn a_template_changed_by_hand_is_restored_from_its_cloudtrail_event() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    let templates = Templates::stand_in(&proxy);
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str())];
    let baseline = moto.write_file("baseline.toml", &built_in_with_templates());
    let baseline = baseline.to_str().expect("utf-8");
    let created = moto.ecr_warden_with(&["apply", "--baseline", baseline], &env);
    assert_eq!(created.code(), 0, "{created:?}");
    templates.edit("ROOT", |t| t["imageTagMutability"] = json!("MUTABLE"));

    let mut event = event_fixture("cloudtrail-create-repository.json");
    event["detail"]["eventName"] = json!("UpdateRepositoryCreationTemplate");
    event["detail"]["requestParameters"] = json!({"prefix": "ROOT", "imageTagMutability": "MUTABLE"});
    let event = moto.event_file("template.json", &event);
    let handled =
        moto.ecr_warden_with(&["handle", "--event", &event, "--baseline", baseline, "--output", "json"], &env);
    assert_eq!(handled.code(), 0, "{handled:?}");
    assert_eq!(handled.json()["report"]["status"], "fixed", "{handled:?}");
    assert_eq!(templates.all()["ROOT"]["imageTagMutability"], "IMMUTABLE");
    moto.keep_stood_in(&proxy);
}
