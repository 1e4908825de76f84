//! Pull through cache rules (issue 18), reported only: a rule to an upstream the baseline doesn't allow is a
//! violation and is never deleted, and each rule's repositories need a creation template. moto 5.2 has neither
//! cache rules nor templates: a loopback stand-in answers `DescribePullThroughCacheRules` with the registry's
//! rules, and the templates' stand-in (`integration_tests::templates`) the rest; the contract check validates
//! every request they answered.

use integration_tests::faults::FaultProxy;
use integration_tests::templates::Templates;
use integration_tests::Moto;
use serde_json::{json, Value};

/// Answers `DescribePullThroughCacheRules` with two rules: Docker Hub, and a registry nobody approved.
fn cache_rules(proxy: &FaultProxy) {
    let rules = json!({"pullThroughCacheRules": [
        {"ecrRepositoryPrefix": "docker-hub", "upstreamRegistryUrl": "registry-1.docker.io",
         "registryId": "123456789012", "upstreamRegistry": "docker-hub"},
        {"ecrRepositoryPrefix": "sketchy", "upstreamRegistryUrl": "registry.example.com",
         "registryId": "123456789012"},
    ]})
    .to_string();
    proxy.answer("DescribePullThroughCacheRules", move |_| Some(rules.clone()));
}

fn cache_report(run: &Value) -> Value {
    let reports = run["registry"].as_array().cloned().unwrap_or_default();
    reports.into_iter().find(|r| r["control"] == "pull-through-cache").unwrap_or(Value::Null)
}

/// The operations the stand-ins answered, by name.
fn stood_in(proxy: &FaultProxy) -> Vec<String> {
    let target = |request: &integration_tests::http::Request| {
        request.headers.get("x-amz-target").and_then(|t| t.rsplit('.').next()).unwrap_or_default().to_string()
    };
    proxy.stood_in().iter().map(target).collect()
}

#[tokio::test]
async fn a_rule_to_an_unapproved_upstream_is_reported_and_never_deleted() {
    let moto = Moto::start();
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    cache_rules(&proxy);
    let templates = Templates::stand_in(&proxy);
    let env = [("AWS_ENDPOINT_URL_ECR", proxy.endpoint.as_str())];
    let only_cache = "[pull_through_cache]\nmode = \"enforce\"\nallowed_upstreams = [\"registry-1.docker.io\"]\n";
    let baseline = moto.write_file("cache.toml", only_cache);
    let args = ["apply", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];

    let run = moto.ecr_warden_with(&args, &env);
    let report = cache_report(&run.json());
    assert_eq!(report["status"], "violation", "{report:#}");
    let finding = report["finding"].as_str().unwrap_or_default();
    assert!(finding.contains("sketchy caches registry.example.com"), "{finding}");
    assert!(!finding.contains("docker-hub caches"), "the allowed upstream is fine: {finding}");
    assert!(finding.contains("no creation template applies to the repositories of docker-hub, sketchy"), "{finding}");
    assert!(report["remedy"].as_str().is_some_and(|r| r.contains("never deletes a cache rule")), "{report:#}");
    assert_eq!(run.code(), 3, "a finding apply can't fix: {run:?}");
    assert_eq!(
        stood_in(&proxy),
        ["DescribePullThroughCacheRules", "DescribeRepositoryCreationTemplates"],
        "reads only"
    );

    // With the templates governed too, ROOT covers the cached repositories; the unapproved upstream remains.
    let both = format!("{only_cache}[creation_templates]\nmode = \"enforce\"\ncustom_role_arn = \"arn:aws:iam::123456789012:role/ecr-templates\"\n");
    let baseline = moto.write_file("both.toml", &both);
    let run =
        moto.ecr_warden_with(&["apply", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"], &env);
    assert!(templates.all().contains_key("ROOT"), "{run:?}");
    let finding = cache_report(&run.json())["finding"].as_str().unwrap_or_default().to_string();
    assert!(
        finding.contains("sketchy caches registry.example.com") && !finding.contains("no creation template"),
        "{finding}"
    );
    assert!(!stood_in(&proxy)
        .iter()
        .any(|op| op.contains("PullThroughCacheRule") && op != "DescribePullThroughCacheRules"));
    moto.keep_stood_in(&proxy);
}
