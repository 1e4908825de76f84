//! Who may be let into a repository (issue 18): `allowed_accounts`, `allow_organization` (the caller's own
//! organization, from AWS Organizations `DescribeOrganization`, which moto implements) and `allowed_services`.
//! A statement letting in anyone else is found, removed by `apply` and printed in full; the others stay.

use integration_tests::Moto;
use serde_json::{json, Value};

async fn policy_of(ecr: &aws_sdk_ecr::Client, name: &str) -> Value {
    let got = ecr.get_repository_policy().repository_name(name).send().await.expect("a policy");
    serde_json::from_str(got.policy_text().expect("text")).expect("JSON")
}

fn sids(policy: &Value) -> Vec<String> {
    let statements = policy["Statement"].as_array().cloned().unwrap_or_default();
    statements.iter().map(|s| s["Sid"].as_str().unwrap_or_default().to_string()).collect()
}

#[tokio::test]
async fn a_grant_outside_the_allowed_accounts_and_organization_is_removed_and_printed() {
    let moto = Moto::start();
    moto.organization(1).await;
    let organization = moto.organizations().await.describe_organization().send().await.expect("organization");
    let organization = organization.organization().and_then(|o| o.id()).expect("an ID").to_string();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("team/api").send().await.expect("create");
    let statements = json!([
        {"Sid": "Partner", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "ecr:BatchGetImage"},
        {"Sid": "OurOrganization", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": organization}}},
        {"Sid": "Lambda", "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
         "Action": "ecr:BatchGetImage"},
        {"Sid": "Stranger", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::999999999999:root"},
         "Action": ["ecr:BatchGetImage", "ecr:PutImage"]},
    ]);
    let policy = json!({"Version": "2012-10-17", "Statement": statements}).to_string();
    ecr.set_repository_policy().repository_name("team/api").policy_text(policy).send().await.expect("set");
    let text = "[defaults.repository_policy]\nallowed_accounts = [\"444455556666\"]\nallow_organization = true\n\
                allowed_services = [\"lambda.amazonaws.com\"]\n\n[defaults.encryption]\nmode = \"off\"\n";
    let baseline = moto.write_file("access.toml", text);
    let baseline = baseline.to_str().expect("utf-8");
    let args = ["--baseline", baseline, "--repository", "team/api", "--output", "json"];

    let plan = moto.ecr_warden(&[&["plan"][..], &args[..]].concat());
    let control = |run: &Value| {
        let controls = run["repositories"][0]["controls"].as_array().cloned().unwrap_or_default();
        controls.into_iter().find(|c| c["control"] == "repository-policy").expect("the control")
    };
    let planned = control(&plan.json());
    assert_eq!(planned["status"], "pending", "{planned:#}");
    let finding = planned["finding"].as_str().unwrap_or_default();
    assert!(finding.contains("Stranger lets in account 999999999999"), "{finding}");
    assert!(!finding.contains("Partner") && !finding.contains("OurOrganization") && !finding.contains("Lambda"));

    let apply = moto.ecr_warden(&[&["apply"][..], &args[..]].concat());
    let applied = control(&apply.json());
    assert_eq!(applied["status"], "fixed", "{applied:#}");
    assert_eq!(applied["actions"][0]["removed"][0]["Sid"], "Stranger", "printed in full: {applied:#}");
    assert_eq!(applied["actions"][0]["removed"][0]["Action"], json!(["ecr:BatchGetImage", "ecr:PutImage"]));
    assert_eq!(sids(&policy_of(&ecr, "team/api").await), ["Partner", "OurOrganization", "Lambda"]);

    moto.reset_recording();
    let again = moto.ecr_warden(&[&["apply"][..], &args[..]].concat());
    assert_eq!(control(&again.json())["status"], "compliant");
    let writes: Vec<String> = moto.writes();
    assert_eq!(writes, Vec::<String>::new(), "compliant: reads only");
    assert_eq!(moto.operation_counts().get("DescribeOrganization"), Some(&1), "asked once");
}

#[tokio::test]
async fn a_required_deny_locking_ecr_warden_out_is_refused_and_put_only_with_the_exception() {
    // An explicit deny in a resource policy overrides every allow (IAM User Guide, "Policy evaluation logic"): a
    // baseline `Deny` of `ecr:*` to everyone would stop every later read and repair. `aws:PrincipalArn` is the
    // role's ARN for a role's session (IAM User Guide, "AWS global condition context keys"), so an `ArnNotLike`
    // on it excepts ecr-warden's roles.
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("team/api").send().await.expect("create");
    let deny = "[[defaults.repository_policy.statements]]\nSid = \"NoWrites\"\nEffect = \"Deny\"\nPrincipal = \"*\"\n\
                Action = \"ecr:*\"\nCondition = { StringNotEquals = { \"aws:PrincipalAccount\" = \"123456789012\" } }\n";
    let refused = moto.write_file("deny.toml", deny);
    moto.reset_recording();
    let run = moto.ecr_warden(&["apply", "--baseline", refused.to_str().expect("utf-8"), "--repository", "team/api"]);
    assert_eq!(run.code(), 1, "refused: {}", run.stderr());
    assert!(run.stderr().contains("`NoWrites` denies ecr-warden's own roles ecr:DeleteRepositoryPolicy and 12 more"));
    assert!(moto.writes().is_empty(), "nothing changed: {:?}", moto.writes());

    let excepted = format!(
        "[defaults.repository_policy]\nexcept_ecr_warden = true\n\n{deny}\n[defaults.encryption]\nmode = \"off\"\n"
    );
    let excepted = moto.write_file("excepted.toml", &excepted);
    let args = ["--baseline", excepted.to_str().expect("utf-8"), "--repository", "team/api", "--output", "json"];
    let run = moto.ecr_warden(&[&["apply"][..], &args[..]].concat());
    assert_eq!(run.code(), 0, "{}", run.stderr());
    let policy = policy_of(&ecr, "team/api").await;
    assert_eq!(
        policy["Statement"][0]["Condition"],
        json!({"StringNotEquals": {"aws:PrincipalAccount": "123456789012"},
               "ArnNotLike": {"aws:PrincipalArn": ["arn:*:iam::*:role/ecr-warden-*"]}})
    );
    moto.reset_recording();
    let again = moto.ecr_warden(&[&["apply"][..], &args[..]].concat());
    assert_eq!(again.code(), 0, "{}", again.stderr());
    assert_eq!(moto.writes(), Vec::<String>::new(), "compliant: reads only");
}
