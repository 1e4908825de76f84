//! An organization-wide backfill (issue 17): the backfill function, asked `{"organization": true, "regions": [...]}`,
//! sends every active account's and region's repositories to the work queue, each message naming its registry;
//! the worker governs each message in the registry it names. moto implements AWS Organizations (`ListAccounts`)
//! and keeps accounts apart by the credentials `AssumeRole` returns; it lets any role be assumed, so a refusing
//! role is played by the fault proxy.

use integration_tests::faults::FaultProxy;
use integration_tests::{Moto, ACCOUNT, REGION};
use serde_json::{json, Value};

const MEMBER_ROLE: (&str, &str) = ("ECR_WARDEN_MEMBER_ROLE", "ecr-warden-member");
const IRELAND: &str = "eu-west-1";

/// Every message on `queue_url`, as the SQS event records the worker function is given.
async fn take_messages(moto: &Moto, queue_url: &str, expected: usize) -> Value {
    let sqs = moto.sqs().await;
    let mut records = Vec::new();
    while records.len() < expected {
        let received =
            sqs.receive_message().queue_url(queue_url).max_number_of_messages(10).send().await.expect("receive");
        assert!(!received.messages().is_empty(), "{} of {expected} messages on the queue", records.len());
        for message in received.messages() {
            records.push(json!({"messageId": message.message_id(), "body": message.body(), "eventSource": "aws:sqs"}));
            let receipt = message.receipt_handle().expect("a receipt handle");
            sqs.delete_message().queue_url(queue_url).receipt_handle(receipt).send().await.expect("delete");
        }
    }
    json!({ "Records": records })
}

async fn mutability(ecr: &aws_sdk_ecr::Client) -> Vec<String> {
    let found = ecr.describe_repositories().send().await.expect("describe");
    found
        .repositories()
        .iter()
        .map(|r| r.image_tag_mutability().map(|m| m.as_str().to_string()).unwrap_or_default())
        .collect()
}

/// Three members and the management account, two regions, two repositories in each registry; member C's role
/// refuses. The fan-out sends the six reachable registries' repositories (C's two registries are its errors, and
/// the exit code says so); the worker governs each message in its own registry; a second backfill only reads.
#[tokio::test]
async fn an_organization_backfill_governs_every_reachable_account_and_region() {
    let moto = Moto::start();
    let members = moto.organization(3).await;
    let refusing = members[2].clone();
    let accounts = [ACCOUNT.to_string(), members[0].clone(), members[1].clone(), refusing.clone()];
    let mut registries = Vec::new();
    for account in &accounts {
        for region in [REGION, IRELAND] {
            let ecr = moto.ecr_of(account, region).await;
            for name in ["team/web", "team/api"] {
                ecr.create_repository().repository_name(name).send().await.expect("create");
            }
            registries.push((account.clone(), region, ecr));
        }
    }
    let sqs = moto.sqs().await;
    let queue = sqs.create_queue().queue_name("work").send().await.expect("queue");
    let queue_url = queue.queue_url().expect("url").to_string();
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    proxy.refuse(&refusing, 403, "AccessDenied");
    let env = [
        MEMBER_ROLE,
        ("ECR_WARDEN_WORK_QUEUE_URL", queue_url.as_str()),
        ("AWS_ENDPOINT_URL_STS", proxy.endpoint.as_str()),
    ];
    let request = moto
        .event_file("organization.json", &json!({"organization": true, "regions": [REGION, IRELAND], "dryRun": false}));

    let fanned = moto.ecr_warden_with(&["handle", "--event", &request, "--output", "json"], &env);
    assert_eq!(fanned.code(), 1, "member C's registries couldn't be reached: {fanned:?}");
    let report = &fanned.json()["report"];
    assert_eq!((report["repositories"].as_u64(), report["messages"].as_u64()), (Some(12), Some(6)), "{report:#}");
    let sent = report["registries"].as_array().expect("one entry per account and region");
    assert_eq!(sent.len(), 8, "{report:#}");
    for entry in sent {
        let refused = entry["account"] == refusing.as_str();
        assert_eq!(entry["error"].as_str().is_some_and(|e| e.contains("AccessDenied")), refused, "{entry}");
        assert_eq!(entry["repositories"], if refused { 0 } else { 2 }, "{entry}");
    }

    let records = take_messages(&moto, &queue_url, 6).await;
    let work = moto.event_file("work.json", &records);
    let worked = moto.ecr_warden_with(&["handle", "--event", &work, "--output", "json"], &env);
    assert_eq!(worked.code(), 0, "{worked:?}");
    assert_eq!(worked.json()["summary"]["repositories"], 12, "{worked:?}");
    assert_eq!(worked.json()["batchItemFailures"], json!([]), "{worked:?}");
    for (account, region, ecr) in &registries {
        let expected = if *account == refusing { "MUTABLE" } else { "IMMUTABLE" };
        assert_eq!(mutability(ecr).await, vec![expected; 2], "{account} in {region}");
    }

    // Again: every reachable registry is compliant, so the second backfill sends its messages and reads.
    moto.reset_recording();
    let again = moto.ecr_warden_with(&["handle", "--event", &request, "--output", "json"], &env);
    assert_eq!(again.json()["report"]["messages"], 6, "{again:?}");
    let records = take_messages(&moto, &queue_url, 6).await;
    let work = moto.event_file("work-again.json", &records);
    let worked = moto.ecr_warden_with(&["handle", "--event", &work, "--output", "json"], &env);
    assert_eq!(worked.code(), 0, "{worked:?}");
    let writes: Vec<String> = moto
        .writes()
        .into_iter()
        .filter(|op| !["SendMessageBatch", "AssumeRole", "ReceiveMessage", "DeleteMessage"].contains(&op.as_str()))
        .collect();
    assert_eq!(writes, Vec::<String>::new(), "a compliant organization costs reads only");
}

/// `accounts` names the registries itself: an account outside the organization is that account's error (not a
/// role to assume), the listed member is sent. Outside organization mode, the request is refused at once.
#[tokio::test]
async fn listed_accounts_must_be_members_and_need_organization_mode() {
    let moto = Moto::start();
    let member = moto.organization(1).await.remove(0);
    moto.ecr_of(&member, REGION).await.create_repository().repository_name("team/web").send().await.expect("create");
    let sqs = moto.sqs().await;
    let queue = sqs.create_queue().queue_name("work").send().await.expect("queue");
    let queue_url = queue.queue_url().expect("url").to_string();
    let stranger = "999999999999";
    let request = moto.event_file("accounts.json", &json!({"accounts": [member, stranger], "dryRun": false}));

    let queue_env = ("ECR_WARDEN_WORK_QUEUE_URL", queue_url.as_str());
    let single = moto.ecr_warden_with(&["handle", "--event", &request], &[queue_env]);
    assert_eq!(single.code(), 1, "{single:?}");
    assert!(single.stderr().contains("need organization mode: set ECR_WARDEN_MEMBER_ROLE"), "{single:?}");

    moto.reset_recording();
    let fanned = moto.ecr_warden_with(&["handle", "--event", &request, "--output", "json"], &[MEMBER_ROLE, queue_env]);
    assert_eq!(fanned.code(), 1, "{fanned:?}");
    let sent = &fanned.json()["report"]["registries"];
    assert_eq!(sent[0]["account"], member.as_str());
    assert_eq!((sent[0]["repositories"].as_u64(), sent[0]["error"].as_str()), (Some(1), None), "{sent:#}");
    assert_eq!(sent[1]["account"], stranger);
    let error = sent[1]["error"].as_str().unwrap_or_default();
    assert!(error.contains("999999999999 is not in the organization"), "{error}");
    let calls = moto.operation_counts();
    assert_eq!(calls.get("AssumeRole"), Some(&1), "only the member's role is assumed: {calls:?}");
}
