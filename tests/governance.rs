//! `plan` and `apply` against a real (moto) ECR: every control drifted, fixed, and left alone the second
//! time; exemptions honoured; bad baselines rejected before any call.

use aws_sdk_ecr::types::{
    ImageScanningConfiguration, ImageTagMutability, RegistryScanningRule, ScanFrequency, ScanType,
    ScanningRepositoryFilter, ScanningRepositoryFilterType, Tag,
};
use integration_tests::{scanning_rules, Moto};
use serde_json::{json, Value};

const BASELINE: &str = r#"
[exemptions]
repositories = ["legacy/**"]

[defaults.repository_policy]
cross_account_pull = ["111122223333"]

[[rules]]
match = "registry-scanned/*"
scanning = { frequency = "SCAN_ON_PUSH" }
"#;

const USER_STATEMENT: &str = r#"{"Sid":"TeamPush","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::999999999999:root"},"Action":["ecr:PutImage","ecr:InitiateLayerUpload"]}"#;
const PUBLIC_STATEMENT: &str = r#"{"Sid":"Anyone","Effect":"Allow","Principal":"*","Action":"ecr:BatchGetImage"}"#;

async fn create(ecr: &aws_sdk_ecr::Client, name: &str, tags: &[(&str, &str)]) {
    let tags: Vec<Tag> = tags.iter().map(|(k, v)| Tag::builder().key(*k).value(*v).build().expect("tag")).collect();
    ecr.create_repository().repository_name(name).set_tags(Some(tags)).send().await.expect("create repository");
}

/// A repository that drifts on every control it can.
async fn create_drifted(ecr: &aws_sdk_ecr::Client, name: &str) {
    create(ecr, name, &[("owner", "team-a")]).await;
    let policy = format!(r#"{{"Version":"2012-10-17","Statement":[{USER_STATEMENT},{PUBLIC_STATEMENT}]}}"#);
    ecr.set_repository_policy().repository_name(name).policy_text(policy).send().await.expect("set policy");
}

async fn tags(ecr: &aws_sdk_ecr::Client, name: &str) -> Vec<(String, String)> {
    let arn = format!("arn:aws:ecr:us-east-1:123456789012:repository/{name}");
    let out = ecr.list_tags_for_resource().resource_arn(arn).send().await.expect("list tags");
    let mut tags: Vec<(String, String)> = out.tags().iter().map(|t| (t.key().into(), t.value().into())).collect();
    tags.sort();
    tags
}

fn statuses(report: &Value, repository: &str) -> Vec<(String, String)> {
    let repo = report["repositories"]
        .as_array()
        .and_then(|all| all.iter().find(|r| r["repository"] == repository))
        .unwrap_or_else(|| panic!("{repository} not in report"));
    repo["controls"]
        .as_array()
        .map(|controls| {
            controls
                .iter()
                .map(|c| {
                    (c["control"].as_str().unwrap_or("").to_string(), c["status"].as_str().unwrap_or("").to_string())
                })
                .collect()
        })
        .unwrap_or_default()
}

fn pairs(items: &[(&str, &str)]) -> Vec<(String, String)> {
    items.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

/// `via = "repository"` still works, through the API AWS is deprecating ("The PutImageScanningConfiguration
/// API is being deprecated, in favor of specifying the image scanning configuration at the registry level",
/// ECR API reference), and the report says so.
#[tokio::test]
async fn the_repository_level_setting_is_kept_as_an_option_marked_deprecated() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, "app", &[]).await;
    let text = "[defaults.scanning]\nvia = \"repository\"\n[defaults.encryption]\ntype = \"AES256\"\n";
    let baseline = moto.write_file("baseline.toml", text);
    let apply = moto.ecr_warden(&["apply", "--baseline", baseline.to_str().expect("utf-8")]);
    assert_eq!(apply.code(), 0, "{apply:?}");
    assert!(apply.stdout().contains("an API AWS is deprecating"), "{apply:?}");
    let described = ecr.describe_repositories().repository_names("app").send().await.expect("describe");
    assert!(described.repositories()[0].image_scanning_configuration().is_some_and(|c| c.scan_on_push()));
    assert_eq!(scanning_rules(&ecr).await, Vec::<(String, Vec<String>)>::new(), "the registry is left alone");
}

#[tokio::test]
async fn apply_fixes_every_drifted_control_and_a_second_apply_only_reads() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create_drifted(&ecr, "team-a/api").await;
    create(&ecr, "legacy/old", &[]).await;
    create(&ecr, "opted-out", &[("ecr-warden:exempt", "true")]).await;
    let baseline = moto.write_file("baseline.toml", BASELINE);
    let baseline = baseline.to_str().expect("utf-8 path");

    moto.reset_recording();
    let plan = moto.ecr_warden(&["plan", "--baseline", baseline, "--output", "json"]);
    assert_eq!(plan.code(), 2, "changes are pending: {plan:?}");
    assert_eq!(moto.writes(), Vec::<String>::new(), "plan changes nothing");
    assert_eq!(
        statuses(&plan.json(), "team-a/api"),
        pairs(&[
            ("tag-mutability", "pending"),
            ("scanning", "pending"),
            ("encryption", "violation"),
            ("lifecycle-policy", "pending"),
            ("repository-policy", "pending"),
            ("tags", "pending"),
        ])
    );

    moto.reset_recording();
    let apply = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
    assert_eq!(apply.code(), 3, "only the encryption violation remains: {apply:?}");
    let report = apply.json();
    assert_eq!(report["summary"]["outcomes"], json!({"governed": 1, "exempt": 2}));
    let mut writes = moto.writes();
    writes.sort();
    assert_eq!(
        writes,
        [
            "PutImageTagMutability",
            "PutLifecyclePolicy",
            "PutRegistryScanningConfiguration",
            "SetRepositoryPolicy",
            "TagResource",
            "TagResource"
        ],
        "one write per drifted control (the policy's with its record of what ecr-warden wrote), none for the exempt"
    );

    // Read the state back with the SDK.
    let described = ecr.describe_repositories().repository_names("team-a/api").send().await.expect("describe");
    let repo = &described.repositories()[0];
    assert_eq!(repo.image_tag_mutability(), Some(&ImageTagMutability::Immutable));
    assert_eq!(scanning_rules(&ecr).await, [("SCAN_ON_PUSH".to_string(), vec!["*".to_string()])], "one filter for all");
    let scanning = &report["repositories"]
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["repository"] == "team-a/api")
        .expect("in report")["controls"][1];
    assert_eq!(
        scanning["actions"][0]["also_covers"],
        json!(["`legacy/**` (exempt), e.g. `legacy/a`"]),
        "the report says the filter also covers exempt names: {scanning:#}"
    );
    let lifecycle =
        ecr.get_lifecycle_policy().repository_name("team-a/api").send().await.expect("lifecycle policy set");
    let lifecycle: Value = serde_json::from_str(lifecycle.lifecycle_policy_text().unwrap_or("")).expect("json");
    assert_eq!(lifecycle["rules"][0]["selection"]["tagStatus"], "untagged");
    assert_eq!(lifecycle["rules"][0]["selection"]["countNumber"], 14);
    let policy = ecr.get_repository_policy().repository_name("team-a/api").send().await.expect("policy");
    let policy: Value = serde_json::from_str(policy.policy_text().unwrap_or("")).expect("json");
    let statements = policy["Statement"].as_array().expect("statement list");
    let user: Value = serde_json::from_str(USER_STATEMENT).expect("json");
    assert_eq!(statements[0], user, "the user's statement is kept as it was");
    assert_eq!(statements[1]["Sid"], "EcrWardenCrossAccountPull");
    assert_eq!(statements.len(), 2, "the public statement is gone");
    let removed = &report["repositories"]
        .as_array()
        .expect("list")
        .iter()
        .find(|r| r["repository"] == "team-a/api")
        .expect("in report")["controls"][4]["actions"][0]["removed"][0];
    assert_eq!(
        removed,
        &serde_json::from_str::<Value>(PUBLIC_STATEMENT).expect("json"),
        "the removed statement is in the report"
    );
    let written: Value = statements[1].clone();
    assert_eq!(
        tags(&ecr, "team-a/api").await,
        pairs(&[
            ("ecr-warden:policy-statements", &warden_core::policy::fingerprint(&written)),
            ("managed-by", "ecr-warden"),
            ("owner", "team-a")
        ]),
        "the statement ecr-warden wrote is recorded"
    );

    // Exempt repositories are untouched.
    for name in ["legacy/old", "opted-out"] {
        let described = ecr.describe_repositories().repository_names(name).send().await.expect("describe");
        assert_eq!(described.repositories()[0].image_tag_mutability(), Some(&ImageTagMutability::Mutable), "{name}");
    }
    assert_eq!(tags(&ecr, "legacy/old").await, vec![]);

    // Idempotent: the second run only reads, and says so.
    moto.reset_recording();
    let again = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
    assert_eq!(again.code(), 3, "{again:?}");
    assert_eq!(moto.writes(), Vec::<String>::new(), "a compliant registry costs reads only");
    let counts = moto.operation_counts();
    assert_eq!(counts.get("DescribeRepositories"), Some(&1), "one page for the whole registry: {counts:?}");
    assert_eq!(counts.get("GetRegistryScanningConfiguration"), Some(&1), "read once per run: {counts:?}");
    // team-a/api: tags, lifecycle policy and repository policy (the reads with no batch API).
    // opted-out: the same three, read at once (its exemption is a tag, known only once read).
    // legacy/old: nothing (exempt by name before any read).
    assert_eq!(counts.get("ListTagsForResource"), Some(&2), "{counts:?}");
    assert_eq!(counts.get("GetLifecyclePolicy"), Some(&2), "{counts:?}");
    assert_eq!(counts.get("GetRepositoryPolicy"), Some(&2), "{counts:?}");
    assert_eq!(counts.values().sum::<usize>(), 8, "{counts:?}");
    assert!(statuses(&again.json(), "team-a/api").iter().all(|(c, s)| s == "compliant" || c == "encryption"));
}

/// A registry scanning rule of `frequency` for every repository (filter `*`).
fn every_repository(frequency: ScanFrequency) -> RegistryScanningRule {
    let filter = ScanningRepositoryFilter::builder()
        .filter("*")
        .filter_type(ScanningRepositoryFilterType::Wildcard)
        .build()
        .expect("filter");
    RegistryScanningRule::builder().scan_frequency(frequency).repository_filters(filter).build().expect("rule")
}

#[tokio::test]
async fn registry_scanning_rules_are_merged_not_replaced() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let manual = every_repository(ScanFrequency::Manual);
    ecr.put_registry_scanning_configuration().scan_type(ScanType::Basic).rules(manual).send().await.expect("put rules");
    create(&ecr, "registry-scanned/a", &[]).await;
    create(&ecr, "registry-scanned/b", &[]).await;
    let baseline = moto.write_file("baseline.toml", BASELINE);

    let apply = moto.ecr_warden(&[
        "apply",
        "--baseline",
        baseline.to_str().expect("utf-8"),
        "--repository",
        "registry-scanned/*",
    ]);
    assert_eq!(apply.code(), 3, "{apply:?}");

    assert_eq!(
        scanning_rules(&ecr).await,
        vec![
            ("MANUAL".to_string(), vec!["*".to_string()]),
            ("SCAN_ON_PUSH".to_string(), vec!["registry-scanned/*".to_string()]),
        ],
        "the existing rule is kept; one filter from the rule's glob covers both repositories"
    );
    for name in ["registry-scanned/a", "registry-scanned/b"] {
        let described = ecr.describe_repositories().repository_names(name).send().await.expect("describe");
        let scan_on_push =
            described.repositories()[0].image_scanning_configuration().map(ImageScanningConfiguration::scan_on_push);
        assert_eq!(scan_on_push, Some(false), "fixed through the registry, not the repository");
    }

    moto.reset_recording();
    let plan = moto.ecr_warden(&[
        "plan",
        "--baseline",
        baseline.to_str().expect("utf-8"),
        "--repository",
        "registry-scanned/*",
    ]);
    assert_eq!(plan.code(), 3, "nothing pending after apply: {plan:?}");
    assert!(plan.stdout().contains("compliant"), "{plan:?}");
}

#[tokio::test]
async fn an_invalid_baseline_is_rejected_with_every_problem_and_no_call() {
    let moto = Moto::start();
    create(&moto.ecr().await, "app", &[]).await;
    let bad = moto.write_file(
        "bad.toml",
        "[defaults.tag_mutability]\ntarget = \"IMMUTABLE_WITH_EXCLUSION\"\n\n[defaults.tags.required]\nteam = { overwrite = true }\n",
    );
    moto.reset_recording();
    let run = moto.ecr_warden(&["apply", "--baseline", bad.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr().contains("defaults.tag_mutability.exclusions"), "{run:?}");
    assert!(run.stderr().contains("line 5, column 10: defaults.tags.required.team.overwrite"), "{run:?}");
    assert_eq!(moto.operations(), Vec::<String>::new(), "nothing was called");

    let typo = moto.write_file("typo.toml", "[defaults.scaning]\nmode = \"off\"\n");
    let run = moto.ecr_warden(&["baseline", "validate", typo.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 1, "{run:?}");
    assert!(run.stderr().contains("scaning") && run.stderr().contains("line 1"), "{run:?}");
}

#[tokio::test]
async fn audit_mode_reports_without_changing() {
    let moto = Moto::start();
    create(&moto.ecr().await, "app", &[]).await;
    moto.reset_recording();
    let run = moto.ecr_warden_with(&["apply", "--output", "json"], &[("ECR_WARDEN_MODE", "audit")]);
    assert_eq!(run.code(), 3, "drift is reported, not fixed: {run:?}");
    assert_eq!(moto.writes(), Vec::<String>::new());
    assert!(statuses(&run.json(), "app").contains(&("tag-mutability".to_string(), "drift".to_string())));
}

#[tokio::test]
async fn the_baseline_can_come_from_an_ssm_parameter() {
    let moto = Moto::start();
    create(&moto.ecr().await, "app", &[]).await;
    let baseline = "[defaults.tags]\nmode = \"off\"\n\n[defaults.tag_mutability]\nmode = \"audit\"\n";
    let ssm = moto.ssm().await;
    ssm.put_parameter()
        .name("/ecr-warden/baseline")
        .value(baseline)
        .r#type(aws_sdk_ssm::types::ParameterType::String)
        .send()
        .await
        .expect("put parameter");

    let run =
        moto.ecr_warden_with(&["plan", "--output", "json"], &[("ECR_WARDEN_BASELINE", "ssm:/ecr-warden/baseline")]);
    assert_eq!(run.code(), 2, "{run:?}");
    let statuses = statuses(&run.json(), "app");
    assert!(statuses.contains(&("tags".to_string(), "off".to_string())), "{statuses:?}");
    assert!(statuses.contains(&("tag-mutability".to_string(), "drift".to_string())), "{statuses:?}");

    moto.reset_recording();
    let missing = moto.ecr_warden_with(&["apply"], &[("ECR_WARDEN_BASELINE", "ssm:/no/such/parameter")]);
    assert_eq!(missing.code(), 1, "{missing:?}");
    assert!(missing.stderr().contains("can't read SSM parameter `/no/such/parameter`"), "{missing:?}");
    assert_eq!(moto.operations(), ["GetParameter"], "nothing but the parameter was read");
}

/// The baseline may require ENHANCED scanning; switching a BASIC registry is an explicit opt-in
/// (`allow_scan_type_change`), since enhanced scanning is Amazon Inspector, billed per image scanned. Without it the
/// repository is reported and nothing changes; with it the registry is switched once, its rules kept.
#[tokio::test]
async fn a_required_scan_type_is_switched_only_when_the_baseline_allows_it() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, "scanned/a", &[]).await;
    let on_push = every_repository(ScanFrequency::ScanOnPush);
    ecr.put_registry_scanning_configuration().scan_type(ScanType::Basic).rules(on_push).send().await.expect("put");
    let only_scanning = |extra: &str| {
        format!(
            "[defaults]\ntag_mutability.mode = \"off\"\nencryption.mode = \"off\"\nlifecycle_policy.mode = \"off\"\n\
             repository_policy.mode = \"off\"\ntags.mode = \"off\"\n[defaults.scanning]\nscan_type = \"ENHANCED\"\n{extra}"
        )
    };
    let refused = moto.write_file("refused.toml", &only_scanning(""));
    moto.reset_recording();
    let run = moto.ecr_warden(&["apply", "--baseline", refused.to_str().expect("utf-8"), "--output", "json"]);
    assert_eq!(run.code(), 3, "a finding apply may not fix: {run:?}");
    let scanning = &run.json()["repositories"][0]["controls"][1];
    assert_eq!(scanning["status"], "violation", "{scanning:#}");
    assert!(scanning["remedy"].as_str().is_some_and(|r| r.contains("allow_scan_type_change")), "{scanning:#}");
    assert!(moto.writes().is_empty(), "{:?}", moto.writes());

    let allowed = moto.write_file("allowed.toml", &only_scanning("allow_scan_type_change = true\n"));
    let run = moto.ecr_warden(&["apply", "--baseline", allowed.to_str().expect("utf-8")]);
    assert_eq!(run.code(), 0, "{run:?}");
    let now = ecr.get_registry_scanning_configuration().send().await.expect("get");
    let configuration = now.scanning_configuration().expect("a configuration");
    assert_eq!(configuration.scan_type(), Some(&ScanType::Enhanced));
    assert_eq!(scanning_rules(&ecr).await, [("SCAN_ON_PUSH".to_string(), vec!["*".to_string()])], "rules kept");
    moto.reset_recording();
    let again = moto.ecr_warden(&["apply", "--baseline", allowed.to_str().expect("utf-8")]);
    assert_eq!(again.code(), 0, "{again:?}");
    assert!(moto.writes().is_empty(), "compliant: reads only, {:?}", moto.writes());
}
