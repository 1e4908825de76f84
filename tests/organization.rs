//! Organization mode (`ECR_WARDEN_MEMBER_ROLE`): one hub handles the events of every account of the organization,
//! each in the registry it names. moto implements AWS Organizations (the tests' account is the management
//! account, the members are made up) and keeps accounts apart by the credentials `AssumeRole` returns; it lets any
//! role be assumed, so a refusing role is played by the fault proxy.

use integration_tests::faults::FaultProxy;
use integration_tests::{create_repository_event, event_from, tag_mutability, Moto, ACCOUNT, REGION};

const MEMBER_ROLE: (&str, &str) = ("ECR_WARDEN_MEMBER_ROLE", "ecr-warden-member");

/// An organization of one member whose registry holds `team/web`: the member's ID, an ECR client in it, and the
/// file of that repository's `CreateRepository` event from the member.
async fn one_member_with_a_repository(moto: &Moto) -> (String, aws_sdk_ecr::Client, String) {
    let member = moto.organization(1).await.remove(0);
    let ecr = moto.ecr_in(&member).await;
    ecr.create_repository().repository_name("team/web").send().await.expect("create");
    let event = moto.event_file("m.json", &event_from(&create_repository_event("team/web"), &member, REGION));
    (member, ecr, event)
}

#[tokio::test]
async fn an_event_from_a_member_governs_that_members_registry_and_no_other() {
    let moto = Moto::start();
    let members = moto.organization(3).await;
    let (a, b, c) = (&members[0], &members[1], &members[2]);
    let mut registries = Vec::new();
    for account in [a, b, c] {
        let ecr = moto.ecr_in(account).await;
        ecr.create_repository().repository_name("team/web").send().await.expect("create");
        registries.push(ecr);
    }
    let event = moto.event_file("b.json", &event_from(&create_repository_event("team/web"), b, REGION));

    moto.reset_recording();
    let run = moto.ecr_warden_with(&["handle", "--event", &event, "--output", "json"], &[MEMBER_ROLE]);
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    assert_eq!(handled["handled"], "repository", "{handled}");
    assert_eq!(handled["report"]["controls"][0]["status"], "fixed", "{handled}");
    assert_eq!(tag_mutability(&registries[1], "team/web").await, "IMMUTABLE", "B's repository was governed");
    assert_eq!(tag_mutability(&registries[0], "team/web").await, "MUTABLE", "nothing written in A");
    assert_eq!(tag_mutability(&registries[2], "team/web").await, "MUTABLE", "nothing written in C");
    let calls = moto.operation_counts();
    assert_eq!(calls.get("DescribeAccount"), Some(&1), "B's membership asked once: {calls:?}");
    assert_eq!(calls.get("AssumeRole"), Some(&1), "B's member role assumed once: {calls:?}");
}

/// An event naming an account outside the organization (DescribeAccount: `AccountNotFoundException`,
/// Organizations API reference) is ignored with the reason, before any role is assumed or anything written.
#[tokio::test]
async fn an_event_from_outside_the_organization_is_ignored() {
    let moto = Moto::start();
    moto.organization(1).await;
    let stranger = "999999999999";
    moto.ecr_in(stranger).await.create_repository().repository_name("team/web").send().await.expect("create");
    let event = moto.event_file("x.json", &event_from(&create_repository_event("team/web"), stranger, REGION));

    moto.reset_recording();
    let run = moto.ecr_warden_with(&["handle", "--event", &event, "--output", "json"], &[MEMBER_ROLE]);
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    assert_eq!(handled["handled"], "ignored", "{handled}");
    let reason = handled["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("999999999999 is not in the organization"), "{reason}");
    assert_eq!(moto.operation_counts().get("AssumeRole"), None);
    assert_eq!(moto.writes(), Vec::<String>::new());
    assert_eq!(tag_mutability(&moto.ecr_in(stranger).await, "team/web").await, "MUTABLE");
}

/// The hub's own account in another region is governed through the member role there (the functions' own roles
/// are scoped to their region), without asking AWS Organizations. Without organization mode the same event is
/// ignored (it names another registry).
#[tokio::test]
async fn the_hubs_own_account_in_another_region_is_reached_through_the_member_role() {
    let moto = Moto::start();
    moto.organization(1).await;
    let ireland = moto.ecr_at("eu-west-1").await;
    ireland.create_repository().repository_name("team/api").send().await.expect("create");
    let event = moto.event_file("eu.json", &event_from(&create_repository_event("team/api"), ACCOUNT, "eu-west-1"));

    let single = moto.ecr_warden(&["handle", "--event", &event, "--output", "json"]);
    assert_eq!(single.json()["handled"], "ignored", "{single:?}");

    moto.reset_recording();
    let run = moto.ecr_warden_with(&["handle", "--event", &event, "--output", "json"], &[MEMBER_ROLE]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.json()["handled"], "repository", "{run:?}");
    assert_eq!(tag_mutability(&ireland, "team/api").await, "IMMUTABLE");
    let calls = moto.operation_counts();
    assert_eq!((calls.get("AssumeRole"), calls.get("DescribeAccount")), (Some(&1), None), "{calls:?}");
}

/// A member whose role refuses (`AccessDenied`: STS API reference, `AssumeRole`, Errors) fails the event with the
/// role named, so Lambda retries it and then sends it to the failed-events queue; nothing is written.
#[tokio::test]
async fn a_member_whose_role_refuses_fails_the_event_and_changes_nothing() {
    let moto = Moto::start();
    let (member, ecr, event) = one_member_with_a_repository(&moto).await;
    let member = &member;
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    proxy.refuse(member, 403, "AccessDenied");

    moto.reset_recording();
    let env = [MEMBER_ROLE, ("AWS_ENDPOINT_URL_STS", proxy.endpoint.as_str())];
    let run = moto.ecr_warden_with(&["handle", "--event", &event, "--output", "json"], &env);
    assert_eq!(run.code(), 1, "{run:?}");
    let stderr = run.stderr();
    assert!(
        stderr.contains(&format!("can't assume arn:aws:iam::{member}:role/ecr-warden-member"))
            && stderr.contains("AccessDenied"),
        "{stderr}"
    );
    assert_eq!(moto.writes(), Vec::<String>::new());
    assert_eq!(tag_mutability(&ecr, "team/web").await, "MUTABLE");
}

#[tokio::test]
async fn a_bad_member_role_name_is_a_one_line_error() {
    let moto = Moto::start();
    let event = moto.event_file("e.json", &create_repository_event("team/web"));
    let run = moto.ecr_warden_with(&["handle", "--event", &event], &[("ECR_WARDEN_MEMBER_ROLE", "no spaces")]);
    assert_eq!(run.code(), 1, "{run:?}");
    let stderr = run.stderr();
    assert!(stderr.contains("ECR_WARDEN_MEMBER_ROLE: `no spaces` is not an IAM role name"), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
}

/// The member template's optional external ID: the hub presents `ECR_WARDEN_MEMBER_EXTERNAL_ID` with every
/// AssumeRole (the proxy refuses an AssumeRole carrying the stale ID, as a role whose trust names another would).
#[tokio::test]
async fn the_external_id_is_presented_when_assuming_member_roles() {
    let moto = Moto::start();
    let (member, ecr, event) = one_member_with_a_repository(&moto).await;
    let member = &member;
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    proxy.refuse("ExternalId=stale-id", 403, "AccessDenied");
    let sts = ("AWS_ENDPOINT_URL_STS", proxy.endpoint.as_str());

    let stale = [MEMBER_ROLE, sts, ("ECR_WARDEN_MEMBER_EXTERNAL_ID", "stale-id")];
    let run = moto.ecr_warden_with(&["handle", "--event", &event, "--output", "json"], &stale);
    assert_eq!(run.code(), 1, "the stale ID was presented and refused: {run:?}");
    assert_eq!(tag_mutability(&ecr, "team/web").await, "MUTABLE");

    let current = [MEMBER_ROLE, sts, ("ECR_WARDEN_MEMBER_EXTERNAL_ID", "current-id")];
    let run = moto.ecr_warden_with(&["handle", "--event", &event, "--output", "json"], &current);
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(tag_mutability(&ecr, "team/web").await, "IMMUTABLE");

    let cli = moto.ecr_warden_with(&["plan", "--accounts", member, "--external-id", "stale-id"], &[sts]);
    assert_eq!(cli.code(), 1, "the command line presents it too: {cli:?}");
    assert!(cli.stdout().contains("AccessDenied"), "{cli:?}");
}

/// Security Hub findings about a member's repository belong to the member account, and with the default product
/// ARN only that account may import them ("the identifier of the account that you are calling BatchImportFindings
/// from needs to be the same as the AwsAccountId attribute": Security Hub API reference, `BatchImportFindings`):
/// the hub imports them through the member role, into the member's Security Hub, none into its own.
#[tokio::test]
async fn a_members_findings_are_imported_into_the_members_security_hub() {
    let moto = Moto::start();
    let (member, _, event) = one_member_with_a_repository(&moto).await;
    let member = &member;
    let baseline = moto.write_file("b.toml", "[alerts]\nsecurity_hub = true\n");

    let args = ["handle", "--event", &event, "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];
    let run = moto.ecr_warden_with(&args, &[MEMBER_ROLE]);
    assert_eq!(run.code(), 0, "{run:?}");
    let in_member = aws_sdk_securityhub::Client::new(&moto.config_in(member).await);
    let findings = in_member.get_findings().send().await.expect("findings").findings().to_vec();
    assert!(!findings.is_empty(), "the member's hub has the findings");
    for finding in &findings {
        assert_eq!(finding.aws_account_id(), Some(member.as_str()));
        assert_eq!(
            finding.product_arn(),
            Some(format!("arn:aws:securityhub:{REGION}:{member}:product/{member}/default").as_str())
        );
    }
    let own = moto.securityhub().await.get_findings().send().await.expect("findings");
    assert!(own.findings().is_empty(), "nothing in the hub account's Security Hub: {:?}", own.findings());
}

/// What an event names becomes a role ARN and an endpoint host: an account that isn't 12 digits or a region that
/// isn't a region name is ignored before any call (no AssumeRole, no DescribeAccount, nothing sent elsewhere).
#[tokio::test]
async fn an_event_naming_a_malformed_account_or_region_is_ignored_before_any_call() {
    let moto = Moto::start();
    let members = moto.organization(1).await;
    let event = create_repository_event("team/web");
    for (account, region) in [("12345678901x", REGION), (members[0].as_str(), "eu-west-1.attacker.example")] {
        let mut hostile = event_from(&event, account, REGION);
        hostile["region"] = region.into();
        let file = moto.event_file("h.json", &hostile);
        moto.reset_recording();
        let run = moto.ecr_warden_with(&["handle", "--event", &file, "--output", "json"], &[MEMBER_ROLE]);
        assert_eq!(run.code(), 0, "{run:?}");
        let handled = run.json();
        assert_eq!(handled["handled"], "ignored", "{handled}");
        assert!(handled["reason"].as_str().unwrap_or_default().contains("not an account ID and a region"), "{handled}");
        let calls = moto.operation_counts();
        assert_eq!((calls.get("AssumeRole"), calls.get("DescribeAccount")), (None, None), "{calls:?}");
    }
}
