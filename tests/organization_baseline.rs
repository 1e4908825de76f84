//! One baseline for the organization (issue 17): `[organization]` narrows the governed accounts (by ID or
//! organizational unit), `[exemptions] accounts` leaves some alone, and a rule's `accounts` /
//! `organizational_units` limit it to some. moto implements AWS Organizations' OUs (`CreateOrganizationalUnit`,
//! `MoveAccount`, `ListParents`), so accounts are placed as on AWS.

use integration_tests::{create_repository_event, event_from, tag_mutability, Moto, ACCOUNT, REGION};
use serde_json::Value;

const MEMBER_ROLE: (&str, &str) = ("ECR_WARDEN_MEMBER_ROLE", "ecr-warden-member");

/// Members A and B are in the `prod` OU, C is under the root. The baseline governs `prod` only and audits tag
/// mutability in B: A's new repository is fixed, B's is reported and left, C's event is ignored with the reason.
/// Each account is placed once (ListParents up to the root) for the life of the process.
#[tokio::test]
async fn the_baseline_governs_its_accounts_and_organizational_units_only() {
    let moto = Moto::start();
    let members = moto.organization(3).await;
    let (a, b, c) = (members[0].as_str(), members[1].as_str(), members[2].as_str());
    let prod = moto.organizational_unit("prod", &[a, b]).await;
    let text = format!(
        "[organization]\norganizational_units = [\"{prod}\"]\n\n\
         [[rules]]\nmatch = \"**\"\naccounts = [\"{b}\"]\ntag_mutability = {{ mode = \"audit\" }}\n"
    );
    let baseline = moto.write_file("org.toml", &text);
    let baseline = baseline.to_str().expect("utf-8");
    let mut registries = Vec::new();
    for account in [a, b, c] {
        let ecr = moto.ecr_in(account).await;
        ecr.create_repository().repository_name("team/web").send().await.expect("create");
        registries.push(ecr);
    }

    moto.reset_recording();
    let mut handled = Vec::new();
    for account in [a, b, c] {
        let event = moto
            .event_file(&format!("{account}.json"), &event_from(&create_repository_event("team/web"), account, REGION));
        let run = moto.ecr_warden_with(
            &["handle", "--event", &event, "--baseline", baseline, "--output", "json"],
            &[MEMBER_ROLE],
        );
        assert_eq!(run.code(), 0, "{run:?}");
        handled.push(run.json());
    }
    assert_eq!(handled[0]["report"]["controls"][0]["status"], "fixed", "{:#}", handled[0]);
    assert_eq!(handled[1]["report"]["controls"][0]["status"], "drift", "audited in B: {:#}", handled[1]);
    assert_eq!(handled[2]["handled"], "ignored", "{:#}", handled[2]);
    let reason = handled[2]["reason"].as_str().unwrap_or_default();
    assert!(reason.contains(&format!("account {c} is not among the baseline's accounts")), "{reason}");
    let calls = moto.operation_counts();
    assert_eq!(calls.get("AssumeRole"), Some(&2), "C's role is never assumed: {calls:?}");
    // A and B: their OU, then the root; C: the root.
    assert_eq!(calls.get("ListParents"), Some(&5), "each account placed up to the root, once a run: {calls:?}");
    let mut states = Vec::new();
    for ecr in &registries {
        states.push(tag_mutability(ecr, "team/web").await);
    }
    assert_eq!(states, ["IMMUTABLE", "MUTABLE", "MUTABLE"]);
}

/// `plan --organization` with the same kind of baseline: an account outside it is listed as skipped, not failed
/// (exit code of the others), and its role is never assumed; an exempt account likewise.
#[tokio::test]
async fn an_organization_plan_skips_the_accounts_the_baseline_leaves_alone() {
    let moto = Moto::start();
    let members = moto.organization(2).await;
    let (a, b) = (members[0].as_str(), members[1].as_str());
    let text =
        format!("[organization]\naccounts = [\"{ACCOUNT}\", \"{a}\", \"{b}\"]\n\n[exemptions]\naccounts = [\"{b}\"]\n");
    let baseline = moto.write_file("org.toml", &text);
    moto.reset_recording();
    let plan = moto.ecr_warden(&[
        "plan",
        "--organization",
        "--baseline",
        baseline.to_str().expect("utf-8"),
        "--output",
        "json",
    ]);
    assert_eq!(plan.code(), 0, "empty registries are compliant: {plan:?}");
    let registries = plan.json()["registries"].as_array().cloned().expect("registries");
    let skipped: Vec<(&str, &str)> =
        registries.iter().filter_map(|r| Some((r["account"].as_str()?, r["skipped"].as_str()?))).collect();
    assert_eq!(skipped.len(), 1, "{registries:?}");
    assert_eq!(skipped[0].0, b);
    assert!(skipped[0].1.contains("is exempt"), "{skipped:?}");
    assert_eq!(moto.operation_counts().get("AssumeRole"), Some(&1), "only A's role: B is skipped before");
}

/// An organization backfill lists an exempt account as skipped (not an error: the exit code stays 0) and sends
/// nothing for it; a work message for it (the baseline changed since) is taken and ignored, not delivered again.
#[tokio::test]
async fn an_organization_backfill_skips_exempt_accounts_and_their_messages() {
    let moto = Moto::start();
    let members = moto.organization(1).await;
    let exempt = members[0].as_str();
    moto.ecr_in(exempt).await.create_repository().repository_name("team/web").send().await.expect("create");
    let sqs = moto.sqs().await;
    let queue = sqs.create_queue().queue_name("work").send().await.expect("queue");
    let queue_url = queue.queue_url().expect("url").to_string();
    let baseline = moto.write_file("org.toml", &format!("[exemptions]\naccounts = [\"{exempt}\"]\n"));
    let baseline = baseline.to_str().expect("utf-8");
    let env = [MEMBER_ROLE, ("ECR_WARDEN_WORK_QUEUE_URL", queue_url.as_str())];

    moto.reset_recording();
    let request = moto.event_file("org.json", &serde_json::json!({"organization": true, "dryRun": false}));
    let fanned =
        moto.ecr_warden_with(&["handle", "--event", &request, "--baseline", baseline, "--output", "json"], &env);
    assert_eq!(fanned.code(), 0, "{fanned:?}");
    let sent = fanned.json()["report"]["registries"].as_array().cloned().expect("registries");
    let skipped: Vec<&Value> = sent.iter().filter(|r| r["account"] == exempt).collect();
    assert!(skipped[0]["skipped"].as_str().is_some_and(|s| s.contains("is exempt")), "{sent:?}");
    assert_eq!(skipped[0]["messages"], 0);
    assert_eq!(moto.operation_counts().get("AssumeRole"), None, "the exempt account is never reached");

    let body = serde_json::json!({"repositories": ["team/web"], "origin": {"account": exempt, "region": "us-east-1"}});
    let records =
        serde_json::json!({"Records": [{"messageId": "m-1", "body": body.to_string(), "eventSource": "aws:sqs"}]});
    let work = moto.event_file("work.json", &records);
    let worked = moto.ecr_warden_with(&["handle", "--event", &work, "--baseline", baseline, "--output", "json"], &env);
    assert_eq!(worked.code(), 0, "{worked:?}");
    assert_eq!(worked.json()["batchItemFailures"], serde_json::json!([]), "{worked:?}");
    assert!(worked.json()["refused"][0].as_str().is_some_and(|r| r.contains("ignored: account")), "{worked:?}");
    assert_eq!(moto.writes().iter().filter(|w| w.as_str() != "SendMessageBatch").count(), 0, "{:?}", moto.writes());
}
