//! `plan|apply --accounts`: several accounts' registries from one command, each through its member role
//! (`sts:AssumeRole` into `arn:aws:iam::ACCOUNT:role/ecr-warden-member`). moto keeps accounts apart by the
//! credentials AssumeRole returns, so a repository made through one account's role exists only there. moto lets
//! any role be assumed; on AWS the role must exist and trust the caller (issue 17's member template).

use integration_tests::faults::FaultProxy;
use integration_tests::{tag_mutability, Moto, ACCOUNT};
use serde_json::Value;

const A: &str = "111111111111";
const B: &str = "222222222222";

async fn create(ecr: &aws_sdk_ecr::Client, name: &str) {
    ecr.create_repository().repository_name(name).send().await.expect("create");
}

/// The repositories one registry's report names, with its tag mutability status.
fn governed(run: &Value) -> Vec<(String, String)> {
    let repositories = run["report"]["repositories"].as_array().cloned().unwrap_or_default();
    repositories
        .iter()
        .map(|r| {
            let status = r["controls"]
                .as_array()
                .and_then(|c| c.iter().find(|c| c["control"] == "tag-mutability"))
                .map(|c| c["status"].as_str().unwrap_or("").to_string());
            (r["repository"].as_str().unwrap_or("").to_string(), status.unwrap_or_default())
        })
        .collect()
}

#[tokio::test]
async fn each_account_is_governed_in_its_own_registry_and_a_second_run_only_reads() {
    let moto = Moto::start();
    let (in_a, in_b) = (moto.ecr_in(A).await, moto.ecr_in(B).await);
    create(&in_a, "team/api").await;
    create(&in_b, "team/web").await;
    let baseline = moto.write_file("b.toml", "[defaults.encryption]\ntype = \"AES256\"\n");
    let baseline = baseline.to_str().expect("utf-8 path");

    let apply =
        moto.ecr_warden(&["apply", "--accounts", &format!("{A},{B}"), "--baseline", baseline, "--output", "json"]);
    assert_eq!(apply.code(), 0, "{apply:?}");
    let runs = apply.json()["registries"].as_array().cloned().expect("one entry per registry");
    let where_: Vec<(&str, &str)> =
        runs.iter().map(|r| (r["account"].as_str().unwrap_or(""), r["region"].as_str().unwrap_or(""))).collect();
    assert_eq!(where_, [(A, "us-east-1"), (B, "us-east-1")]);
    let report_names = |r: &Value| (r["report"]["account"].clone(), r["report"]["region"].clone());
    assert_eq!(report_names(&runs[1]), (Value::from(B), Value::from("us-east-1")), "the report names its registry");
    assert_eq!(governed(&runs[0]), [("team/api".to_string(), "fixed".to_string())], "A sees only its own");
    assert_eq!(governed(&runs[1]), [("team/web".to_string(), "fixed".to_string())]);
    assert_eq!(tag_mutability(&in_a, "team/api").await, "IMMUTABLE");
    assert_eq!(tag_mutability(&in_b, "team/web").await, "IMMUTABLE");
    let own = moto.ecr().await.describe_repositories().send().await.expect("describe");
    assert!(own.repositories().is_empty(), "nothing was made in the caller's own account {ACCOUNT}");

    moto.reset_recording();
    let again =
        moto.ecr_warden(&["plan", "--accounts", &format!("{A},{B}"), "--baseline", baseline, "--output", "json"]);
    assert_eq!(again.code(), 0, "{again:?}");
    let writes: Vec<String> = moto.writes().into_iter().filter(|op| op != "AssumeRole").collect();
    assert_eq!(writes, Vec::<String>::new(), "compliant registries cost reads only");
    assert_eq!(moto.operation_counts().get("AssumeRole"), Some(&2), "one AssumeRole per account");
}

#[tokio::test]
async fn the_callers_own_account_uses_its_own_credentials_and_bad_ids_are_usage_errors() {
    let moto = Moto::start();
    create(&moto.ecr().await, "own/app").await;
    moto.reset_recording();
    let plan = moto.ecr_warden(&["plan", "--accounts", ACCOUNT, "--output", "json"]);
    let runs = plan.json()["registries"].as_array().cloned().expect("registries");
    assert_eq!(governed(&runs[0]).len(), 1, "{runs:?}");
    let calls = moto.operation_counts();
    assert_eq!(calls.get("GetCallerIdentity"), Some(&1), "which account is the caller's own: {calls:?}");
    assert_eq!(calls.get("AssumeRole"), None, "no role is assumed in the caller's own account");

    for bad in [&["plan", "--accounts", "12345"][..], &["plan", "--regions", "eu-west-1"][..]] {
        let run = moto.ecr_warden(bad);
        assert_eq!(run.code(), 64, "{bad:?}: {run:?}");
    }
}

/// A member whose role is missing or refuses is that registry's error (the role named, and AWS's reason); the other
/// accounts are governed, and the exit code says something failed (`AccessDenied` is what STS answers a caller the
/// role doesn't trust: STS API reference, `AssumeRole`, Errors).
#[tokio::test]
async fn a_member_that_refuses_the_role_is_its_own_error_and_the_others_finish() {
    let moto = Moto::start();
    create(&moto.ecr_in(A).await, "team/api").await;
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    proxy.refuse(B, 403, "AccessDenied");
    let env = [("AWS_ENDPOINT_URL_STS", proxy.endpoint.as_str())];
    let run = moto.ecr_warden_with(&["apply", "--accounts", &format!("{A},{B}"), "--output", "json"], &env);
    assert_eq!(run.code(), 1, "a registry failed: {run:?}");
    let runs = run.json()["registries"].as_array().cloned().expect("registries");
    assert_eq!(governed(&runs[0]), [("team/api".to_string(), "fixed".to_string())]);
    let error = runs[1]["error"].as_str().unwrap_or_default();
    assert!(
        error.starts_with(&format!("can't assume arn:aws:iam::{B}:role/ecr-warden-member: "))
            && error.contains("AccessDenied"),
        "{error}"
    );
    assert!(runs[1].get("report").is_none());
}

/// `--organization`: every active account of the organization (AWS Organizations `ListAccounts`), the caller's own
/// with its own credentials and each member's role assumed once for all its regions. The table groups registries by
/// account with a summary for each and one for all; the JSON has the same counts.
#[tokio::test]
async fn the_whole_organization_is_governed_account_by_account() {
    let moto = Moto::start();
    let members = moto.organization(2).await;
    create(&moto.ecr().await, "own/app").await;
    create(&moto.ecr_of(&members[0], "eu-west-1").await, "team/api").await;
    create(&moto.ecr_of(&members[1], "us-east-1").await, "team/web").await;
    create(&moto.ecr_of(&members[1], "eu-west-1").await, "team/db").await;
    moto.reset_recording();

    let args = ["plan", "--organization", "--regions", "us-east-1,eu-west-1", "--output", "json"];
    let plan = moto.ecr_warden(&args);
    assert_ne!(plan.code(), 1, "{plan:?}");
    let json = plan.json();
    let registries = json["registries"].as_array().cloned().expect("registries");
    assert_eq!(registries.len(), 6, "3 accounts × 2 regions: {json:#}");
    let counted = |account: &str| json["accounts"][account]["summary"]["repositories"].as_u64();
    assert_eq!((counted(ACCOUNT), counted(&members[0]), counted(&members[1])), (Some(1), Some(1), Some(2)));
    assert_eq!(json["accounts"][&members[1]]["registries"], 2);
    assert_eq!(json["summary"]["repositories"], 4);
    let calls = moto.operation_counts();
    assert_eq!(calls.get("AssumeRole"), Some(&2), "each member's role once, for both regions: {calls:?}");
    assert!(calls.get("ListAccounts").is_some_and(|n| *n >= 1), "{calls:?}");

    let table = moto.ecr_warden(&["plan", "--organization", "--regions", "us-east-1,eu-west-1"]);
    let text = table.stdout();
    // Accounts in ListAccounts' order, sorted by ID (moto makes the members' IDs up).
    let mut ids = [ACCOUNT.to_string(), members[0].clone(), members[1].clone()];
    ids.sort();
    let at: Vec<usize> =
        ids.iter().map(|id| text.find(&format!("ACCOUNT {id}")).expect("each account has its section")).collect();
    assert!(at.windows(2).all(|pair| pair[0] < pair[1]), "{text}");
    assert!(text.contains(&format!("account {}: 2 repositories (2 ", members[1])), "{text}");
    assert!(text.contains(" in 2 registries\n"), "{text}");
    assert!(text.contains("all 3 accounts: 4 repositories ("), "{text}");

    let both = moto.ecr_warden(&["plan", "--organization", "--accounts", ACCOUNT]);
    assert_eq!(both.code(), 64, "{both:?}");
}
