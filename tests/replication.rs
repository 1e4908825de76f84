//! Replication governance against moto's ECR: registry drift planned in its own section and fixed by
//! `apply` (existing rules kept, idempotent), a glob no prefix can express reported without a change, a new
//! repository's `CreateRepository` event extending the configuration, and an `ECR Replication Action`
//! bringing the replicated (destination) repository to the baseline.
//!
//! moto accepts one replication rule only ("This feature is disabled" past one), so the scenarios here use
//! one; several rules are covered by the core's unit and property tests.

use aws_sdk_ecr::types::{
    ImageTagMutability, ReplicationConfiguration, ReplicationDestination, ReplicationRule, RepositoryFilter,
    RepositoryFilterType,
};
use integration_tests::{Moto, REPOSITORY_CONTROLS_OFF};
use serde_json::{json, Value};

const ACCOUNT: &str = "123456789012";

/// Only the replication control (after [`REPOSITORY_CONTROLS_OFF`]), so the runs' writes are replication's alone.
const REPLICATION: &str = r#"
[replication]
mode = "enforce"

[[replication.targets]]
repositories = ["prod/*"]
regions = ["eu-west-1"]
"#;

/// The whole baseline.
fn baseline_text() -> String {
    format!("{REPOSITORY_CONTROLS_OFF}{REPLICATION}")
}

async fn create(ecr: &aws_sdk_ecr::Client, names: &[&str]) {
    for name in names {
        ecr.create_repository().repository_name(*name).send().await.expect("create repository");
    }
}

/// The registry's one rule as (destinations, filters).
async fn replication(ecr: &aws_sdk_ecr::Client) -> Vec<(Vec<String>, Vec<String>)> {
    let registry = ecr.describe_registry().send().await.expect("describe registry");
    let rules = registry.replication_configuration().map(|c| c.rules().to_vec()).unwrap_or_default();
    rules
        .iter()
        .map(|rule| {
            let destinations =
                rule.destinations().iter().map(|d| format!("{}/{}", d.registry_id(), d.region())).collect();
            let filters = rule.repository_filters().iter().map(|f| f.filter().to_string()).collect();
            (destinations, filters)
        })
        .collect()
}

async fn put_rule(ecr: &aws_sdk_ecr::Client, region: &str, filters: &[&str]) {
    let mut rule = ReplicationRule::builder()
        .destinations(ReplicationDestination::builder().region(region).registry_id(ACCOUNT).build().expect("dest"));
    for filter in filters {
        rule = rule.repository_filters(
            RepositoryFilter::builder()
                .filter(*filter)
                .filter_type(RepositoryFilterType::PrefixMatch)
                .build()
                .expect("filter"),
        );
    }
    let configuration =
        ReplicationConfiguration::builder().rules(rule.build().expect("rule")).build().expect("configuration");
    ecr.put_replication_configuration().replication_configuration(configuration).send().await.expect("put");
}

fn rule(destination: &str, filters: &[&str]) -> (Vec<String>, Vec<String>) {
    (vec![destination.to_string()], filters.iter().map(|f| f.to_string()).collect())
}

#[tokio::test]
async fn plan_shows_registry_drift_and_apply_fixes_it_keeping_the_existing_rule() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, &["prod/api", "prod/web", "prod/eu/api", "dev/api", "legacy-tools"]).await;
    put_rule(&ecr, "eu-west-1", &["legacy"]).await;
    let baseline = moto.write_file("baseline.toml", &baseline_text());
    let baseline = baseline.to_str().expect("utf-8 path");

    moto.reset_recording();
    let plan = moto.ecr_warden(&["plan", "--baseline", baseline, "--output", "json"]);
    assert_eq!(plan.code(), 2, "registry changes are pending: {plan:?}");
    assert_eq!(moto.writes(), Vec::<String>::new(), "plan changes nothing");
    let registry = &plan.json()["registry"][0];
    assert_eq!(registry["control"], "replication");
    assert_eq!(registry["status"], "pending");
    // prod/* leaves out prod/eu/api, so `prod/` won't do: prod/a and prod/w cover exactly prod/api and prod/web.
    assert_eq!(registry["changes"], json!(["rule 1: add filter `prod/a`", "rule 1: add filter `prod/w`"]));
    assert!(
        registry["finding"]
            .as_str()
            .is_some_and(|f| f.contains("`prod/api` is not replicated to 123456789012/eu-west-1")),
        "{registry}"
    );
    let table = moto.ecr_warden(&["plan", "--baseline", baseline]);
    assert!(table.stdout().starts_with("REGISTRY\nreplication: pending\n"), "{table:?}");
    assert!(table.stdout().contains("    would: rule 1: add filter `prod/a`"), "{table:?}");

    moto.reset_recording();
    let apply = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
    assert_eq!(apply.code(), 0, "{apply:?}");
    assert_eq!(apply.json()["registry"][0]["status"], "fixed");
    assert_eq!(moto.writes(), ["PutReplicationConfiguration"]);
    assert_eq!(
        replication(&ecr).await,
        [rule("123456789012/eu-west-1", &["legacy", "prod/a", "prod/w"])],
        "the existing filter is kept"
    );

    moto.reset_recording();
    let again = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
    assert_eq!(again.code(), 0, "{again:?}");
    assert_eq!(again.json()["registry"][0]["status"], "compliant");
    assert_eq!(moto.writes(), Vec::<String>::new(), "a second apply only reads");
    assert_eq!(moto.operation_counts().get("DescribeRegistry"), Some(&1));
}

#[tokio::test]
async fn a_glob_no_prefix_can_express_is_reported_and_nothing_changes() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, &["prod/api", "prod/api/v2"]).await;
    let baseline = moto.write_file("baseline.toml", &baseline_text());

    moto.reset_recording();
    let apply = moto.ecr_warden(&["apply", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"]);
    assert_eq!(apply.code(), 3, "a violation apply can't fix: {apply:?}");
    let registry = &apply.json()["registry"][0];
    assert_eq!(registry["status"], "violation");
    assert!(registry["finding"].as_str().is_some_and(|f| f.contains("`prod/api/v2`")), "{registry}");
    assert!(registry["remedy"].as_str().is_some(), "{registry}");
    assert_eq!(moto.writes(), Vec::<String>::new());
    assert_eq!(replication(&ecr).await, []);
}

#[tokio::test]
async fn audit_mode_reports_registry_drift_without_changing_it() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, &["prod/api"]).await;
    let baseline = moto.write_file("baseline.toml", &baseline_text().replace("mode = \"enforce\"", "mode = \"audit\""));
    let apply = moto.ecr_warden(&["apply", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"]);
    assert_eq!(apply.code(), 3, "{apply:?}");
    assert_eq!(apply.json()["registry"][0]["status"], "drift");
    assert_eq!(replication(&ecr).await, []);
}

fn create_repository_event(name: &str) -> Value {
    integration_tests::create_repository_event(name)
}

#[tokio::test]
async fn a_new_repository_is_added_to_replication_when_it_is_created() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, &["prod/api", "prod/eu/api"]).await;
    put_rule(&ecr, "eu-west-1", &["prod/a"]).await;
    create(&ecr, &["prod/web"]).await;
    let baseline = moto.write_file("baseline.toml", &baseline_text());
    let baseline = baseline.to_str().expect("utf-8");
    let event = moto.write_file("event.json", &create_repository_event("prod/web").to_string());
    let event = event.to_str().expect("utf-8");

    moto.reset_recording();
    let run = moto.ecr_warden(&["handle", "--event", event, "--baseline", baseline, "--output", "json"]);
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    assert_eq!(handled["registry"][0]["status"], "fixed", "{handled}");
    assert_eq!(replication(&ecr).await, [rule("123456789012/eu-west-1", &["prod/a", "prod/w"])]);

    // Delivered again: one read of the registry, nothing written.
    moto.reset_recording();
    let again = moto.ecr_warden(&["handle", "--event", event, "--baseline", baseline, "--output", "json"]);
    assert_eq!(again.code(), 0, "{again:?}");
    assert_eq!(again.json()["registry"][0]["status"], "compliant");
    assert_eq!(moto.writes(), Vec::<String>::new());
    assert_eq!(moto.operation_counts().get("DescribeRegistry"), Some(&1));

    // A repository the baseline doesn't replicate costs no registry call at all.
    create(&ecr, &["dev/tool"]).await;
    let other = moto.write_file("other.json", &create_repository_event("dev/tool").to_string());
    moto.reset_recording();
    let run = moto.ecr_warden(&["handle", "--event", other.to_str().expect("utf-8"), "--baseline", baseline]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(moto.operation_counts().get("DescribeRegistry"), None);
}

#[tokio::test]
async fn a_replication_action_brings_the_replicated_repository_to_the_baseline() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    // Replication created it here without the source's settings: mutable, no lifecycle policy.
    create(&ecr, &["prod/api"]).await;
    let event = moto.fixture_event_file("ecr-replication-action.json");
    let event = event.as_str();

    let run = moto.ecr_warden(&["handle", "--event", event, "--output", "json"]);
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    assert_eq!(handled["handled"], "repository");
    assert_eq!(handled["because"], "ECR Replication Action from 210987654321/eu-west-1 (SUCCESS)");
    let described = ecr.describe_repositories().repository_names("prod/api").send().await.expect("describe");
    assert_eq!(described.repositories()[0].image_tag_mutability(), Some(&ImageTagMutability::Immutable));
    assert!(ecr.get_lifecycle_policy().repository_name("prod/api").send().await.is_ok());

    moto.reset_recording();
    let again = moto.ecr_warden(&["handle", "--event", event]);
    assert_eq!(again.code(), 0, "{again:?}");
    assert_eq!(moto.writes(), Vec::<String>::new(), "a second delivery only reads");
}
