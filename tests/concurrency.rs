//! Work handled at the same time, each in its own process as concurrent Lambda invocations would be: events
//! for one repository, events for many repositories sharing the registry's scanning rule, two applies over
//! the same registry, and a person changing a policy while ecr-warden is between its read and its write. The
//! end state is the baseline, and nothing a team or another writer put there is lost or duplicated.

use std::future::Future;

use integration_tests::faults::{Fault, FaultProxy, Hold, Stage};
use integration_tests::{event_fixture, Moto, Run};
use serde_json::{json, Value};

const REPOSITORY: &str = "team-a/concurrent";
const POLICY: &str = r#"{"Version": "2012-10-17", "Statement": [
    {"Sid": "TeamPull", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
     "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]},
    {"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}]}"#;
/// The built-in baseline, with the encryption moto gives new repositories, so a governed repository is clean.
const BASELINE: &str = "[defaults.encryption]\nmode = \"audit\"\ntype = \"AES256\"\n";

/// A drifted repository: mutable tags, no scan on push, no lifecycle policy, no tags, a public statement
/// beside the team's own.
async fn drifted_repository(moto: &Moto) {
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name(REPOSITORY).send().await.expect("create");
    ecr.set_repository_policy().repository_name(REPOSITORY).policy_text(POLICY).send().await.expect("policy");
}

/// Runs `ecr-warden handle` on every event file at the same time; every run's result.
fn handle_at_once(moto: &Moto, events: &[String], baseline: &str) -> Vec<Run> {
    std::thread::scope(|scope| {
        let runs: Vec<_> = events
            .iter()
            .map(|event| scope.spawn(move || moto.ecr_warden(&["handle", "--event", event, "--baseline", baseline])))
            .collect();
        runs.into_iter().map(|run| run.join().expect("a handler thread")).collect()
    })
}

/// The end state every test expects: nothing left to do, the team's statement once, the public one gone.
async fn assert_governed_once(moto: &Moto, baseline: &str) {
    let plan = moto.ecr_warden(&["plan", "--baseline", baseline, "--repository", REPOSITORY]);
    assert_eq!(plan.code(), 0, "nothing left to do: {plan:?}");
    let policy = moto.ecr().await.get_repository_policy().repository_name(REPOSITORY).send().await.expect("policy");
    let document: Value = serde_json::from_str(policy.policy_text().expect("text")).expect("policy JSON");
    let ids: Vec<&str> =
        document["Statement"].as_array().expect("statements").iter().filter_map(|s| s["Sid"].as_str()).collect();
    assert_eq!(ids, ["TeamPull"], "{document:#}");
}

#[tokio::test]
async fn a_create_event_and_a_drift_event_handled_at_once_end_at_the_baseline() {
    let moto = Moto::start();
    drifted_repository(&moto).await;
    let baseline = moto.write_file("baseline.toml", BASELINE).to_str().expect("utf-8").to_string();
    let mut create = event_fixture("cloudtrail-create-repository.json");
    create["detail"]["requestParameters"] = json!({"repositoryName": REPOSITORY});
    let mut drift = create.clone();
    drift["detail"]["eventName"] = json!("SetRepositoryPolicy");
    drift["detail"]["requestParameters"] = json!({"repositoryName": REPOSITORY, "policyText": "..."});
    let events = [
        moto.write_file("create.json", &create.to_string()).to_str().expect("utf-8").to_string(),
        moto.write_file("drift.json", &drift.to_string()).to_str().expect("utf-8").to_string(),
    ];

    for run in handle_at_once(&moto, &events, &baseline) {
        assert_eq!(run.code(), 0, "{run:?}");
        assert!(run.stdout().contains(REPOSITORY), "{run:?}");
    }
    assert_governed_once(&moto, &baseline).await;
}

#[tokio::test]
async fn ten_pushes_handled_at_once_end_at_the_baseline() {
    let moto = Moto::start();
    drifted_repository(&moto).await;
    let baseline = moto.write_file("baseline.toml", BASELINE).to_str().expect("utf-8").to_string();
    let events: Vec<String> = (0..10)
        .map(|index| {
            let mut push = event_fixture("ecr-image-push.json");
            push["detail"]["repository-name"] = json!(REPOSITORY);
            push["detail"]["image-digest"] = json!(format!("sha256:{index:064}"));
            push["detail"]["image-tag"] = json!(format!("v1.0.{index}"));
            let file = moto.write_file(&format!("push-{index}.json"), &push.to_string());
            file.to_str().expect("utf-8").to_string()
        })
        .collect();

    for run in handle_at_once(&moto, &events, &baseline) {
        assert_eq!(run.code(), 0, "{run:?}");
    }
    assert_governed_once(&moto, &baseline).await;
}

/// The registry's scanning filters, read straight from moto.
async fn scan_filters(moto: &Moto) -> Vec<String> {
    let config = moto.ecr().await.get_registry_scanning_configuration().send().await.expect("scanning configuration");
    let rules = config.scanning_configuration().map(|c| c.rules().to_vec()).unwrap_or_default();
    let mut filters: Vec<String> =
        rules.iter().flat_map(|r| r.repository_filters().iter().map(|f| f.filter().to_string())).collect();
    filters.sort();
    filters
}

/// A baseline whose scanning rule gives each repository its own registry filter (`NAME*`), so that concurrent
/// writers each add a different filter to the one rule.
fn one_scanning_filter_each(names: &[String]) -> String {
    let mut text = "[defaults.encryption]\nmode = \"audit\"\ntype = \"AES256\"\n".to_string();
    text.push_str("[defaults.scanning]\nmode = \"off\"\n");
    for name in names {
        text.push_str(&format!("[[rules]]\nmatch = \"{name}\"\nscanning = {{ mode = \"enforce\" }}\n"));
    }
    text
}

fn with_stars(names: &[String]) -> Vec<String> {
    names.iter().map(|name| format!("{name}*")).collect()
}

/// Ten repositories created at once, each event in its own process, all adding their filter to the one
/// registry scanning rule, through a proxy that makes a third of the calls 150 ms slow (a put that lands late
/// drops what a faster writer added, unless the faster writer reads back and writes again): every filter is
/// there at the end, and every report says `fixed` only because its read-back showed it.
#[tokio::test]
async fn ten_repositories_created_at_once_keep_every_registry_scanning_filter() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let names: Vec<String> = (0..10).map(|i| format!("team-a/svc-{i:02}")).collect();
    let mut events = Vec::new();
    for name in &names {
        ecr.create_repository().repository_name(name).send().await.expect("create");
        let mut create = event_fixture("cloudtrail-create-repository.json");
        create["detail"]["requestParameters"] = json!({ "repositoryName": name });
        let file = moto.write_file(&format!("{}.json", name.replace('/', "-")), &create.to_string());
        events.push(file.to_str().expect("utf-8").to_string());
    }
    let text = one_scanning_filter_each(&names);
    let baseline = moto.write_file("baseline.toml", &text).to_str().expect("utf-8").to_string();
    let proxy = FaultProxy::start_with(&moto.endpoint, 33, 11, &[Fault::Slow]);

    let runs: Vec<Run> = std::thread::scope(|scope| {
        let runs: Vec<_> = events
            .iter()
            .map(|event| {
                let (baseline, proxy, moto) = (&baseline, &proxy, &moto);
                scope.spawn(move || {
                    let args = ["handle", "--event", event, "--baseline", baseline, "--output", "json"];
                    moto.ecr_warden_with(&args, &[("AWS_ENDPOINT_URL", &proxy.endpoint)])
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().expect("a handler thread")).collect()
    });

    for run in &runs {
        assert_eq!(run.code(), 0, "{run:?}");
        let scanning = &run.json()["report"]["controls"][1];
        assert_eq!(scanning["control"], "scanning");
        assert!(["fixed", "compliant"].contains(&scanning["status"].as_str().unwrap_or("")), "{run:?}");
    }
    assert!(proxy.injected().get(&Fault::Slow).is_some_and(|n| *n > 0), "some calls were slow");
    assert_eq!(scan_filters(&moto).await, with_stars(&names), "no filter lost");
}

/// Two `apply`s over the same 30 drifted repositories at once, through the slow proxy: every registry filter
/// and every team statement survives, the public statements are gone, the required statement is there once.
/// Both runs may write the same repository (the duplicate work is counted and printed); each write is correct.
#[tokio::test]
async fn two_applies_at_once_lose_nothing() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let names: Vec<String> = (0..30).map(|i| format!("team-b/svc-{i:02}")).collect();
    for name in &names {
        ecr.create_repository().repository_name(name).send().await.expect("create");
        ecr.set_repository_policy().repository_name(name).policy_text(POLICY).send().await.expect("policy");
    }
    let mut text = one_scanning_filter_each(&names);
    text.push_str("[defaults.repository_policy]\ncross_account_pull = [\"111122223333\"]\n");
    let baseline = moto.write_file("baseline.toml", &text).to_str().expect("utf-8").to_string();
    let proxy = FaultProxy::start_with(&moto.endpoint, 33, 5, &[Fault::Slow]);

    moto.reset_recording();
    let runs: Vec<Run> = std::thread::scope(|scope| {
        let runs: Vec<_> = (0..2)
            .map(|_| {
                let (baseline, proxy, moto) = (&baseline, &proxy, &moto);
                scope.spawn(move || {
                    let args = ["apply", "--baseline", baseline.as_str(), "--output", "json"];
                    moto.ecr_warden_with(&args, &[("AWS_ENDPOINT_URL", &proxy.endpoint)])
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().expect("an apply thread")).collect()
    });
    for run in &runs {
        assert_eq!(run.code(), 0, "{run:?}");
    }
    let counts = moto.operation_counts();
    eprintln!(
        "two concurrent applies over {} repositories: SetRepositoryPolicy {:?}, PutRegistryScanningConfiguration {:?}",
        names.len(),
        counts.get("SetRepositoryPolicy"),
        counts.get("PutRegistryScanningConfiguration")
    );

    assert_eq!(scan_filters(&moto).await, with_stars(&names), "no filter lost");
    for name in &names {
        let policy = ecr.get_repository_policy().repository_name(name).send().await.expect("policy");
        let document: Value = serde_json::from_str(policy.policy_text().expect("text")).expect("policy JSON");
        let ids: Vec<&str> =
            document["Statement"].as_array().expect("statements").iter().filter_map(|s| s["Sid"].as_str()).collect();
        assert_eq!(ids, ["TeamPull", "EcrWardenCrossAccountPull"], "{name}: {document:#}");
    }
    let plan = moto.ecr_warden(&["plan", "--baseline", &baseline]);
    assert_eq!(plan.code(), 0, "nothing left to do: {plan:?}");
}

/// The statement IDs of a repository's policy, read straight from moto.
async fn statement_ids(moto: &Moto, name: &str) -> Vec<String> {
    let policy = moto.ecr().await.get_repository_policy().repository_name(name).send().await.expect("policy");
    let document: Value = serde_json::from_str(policy.policy_text().expect("text")).expect("policy JSON");
    document["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter_map(|s| s["Sid"].as_str())
        .map(String::from)
        .collect()
}

/// `POLICY` with one more team statement.
fn policy_with(sid: &str) -> String {
    let mut document: Value = serde_json::from_str(POLICY).expect("policy JSON");
    let statement = json!({"Sid": sid, "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
                           "Action": "ecr:BatchGetImage"});
    document["Statement"].as_array_mut().expect("statements").push(statement);
    document.to_string()
}

/// Runs `apply` on one repository through `proxy` in a thread, while the test does `meanwhile` at the moment
/// `hold` holds a request; the run's result.
fn apply_while(
    moto: &Moto,
    proxy: &FaultProxy,
    hold: &Hold,
    baseline: &str,
    meanwhile: impl Future<Output = ()> + Send,
) -> Run {
    std::thread::scope(|scope| {
        let run = scope.spawn(|| {
            let args = ["apply", "--baseline", baseline, "--repository", REPOSITORY, "--output", "json"];
            moto.ecr_warden_with(&args, &[("AWS_ENDPOINT_URL", &proxy.endpoint)])
        });
        hold.wait();
        // The test's own change, in a thread with a runtime of its own: the test's is blocked in this function.
        let change = scope.spawn(|| {
            let own = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
            own.block_on(meanwhile);
        });
        change.join().expect("the change thread");
        hold.release();
        run.join().expect("the apply thread")
    })
}

/// A drifted repository applied while a team sets its policy (`POLICY` plus a statement `sid`, the public one
/// back) at the moment the proxy holds ecr-warden's first `held` call, after moto answered it.
async fn apply_while_a_team_sets_its_policy(held: &str, sid: &str) -> (Moto, Run) {
    let moto = Moto::start();
    drifted_repository(&moto).await;
    let baseline = moto.write_file("baseline.toml", BASELINE).to_str().expect("utf-8").to_string();
    let proxy = FaultProxy::start_with(&moto.endpoint, 0, 0, &[]);
    let hold = proxy.hold(held, Stage::AfterForward);
    let run = apply_while(&moto, &proxy, &hold, &baseline, async {
        let ecr = moto.ecr().await;
        let policy = policy_with(sid);
        ecr.set_repository_policy().repository_name(REPOSITORY).policy_text(policy).send().await.expect("set");
    });
    (moto, run)
}

/// A team adds a statement after ecr-warden read the policy and before it writes: the statement is read again
/// before the write and kept.
#[tokio::test]
async fn a_statement_added_between_the_read_and_the_write_is_kept() {
    let (moto, run) = apply_while_a_team_sets_its_policy("GetRepositoryPolicy", "UserPullB").await;
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(statement_ids(&moto, REPOSITORY).await, ["TeamPull", "UserPullB"], "kept; the public one removed");
}

/// Another writer puts its own policy right after ecr-warden's write (with the public statement back, and a
/// statement of its own): the read-back sees it, judges again, and writes again.
#[tokio::test]
async fn a_policy_written_right_after_ecr_wardens_is_judged_again() {
    let (moto, run) = apply_while_a_team_sets_its_policy("SetRepositoryPolicy", "UserPullC").await;
    assert_eq!(run.code(), 0, "{run:?}");
    let policy = &run.json()["repositories"][0]["controls"][4];
    assert_eq!(policy["status"], "fixed", "{run:?}");
    assert_eq!(policy["actions"].as_array().map(Vec::len), Some(2), "written twice, both in the report: {run:?}");
    assert_eq!(statement_ids(&moto, REPOSITORY).await, ["TeamPull", "UserPullC"]);
}

/// A team puts its own lifecycle policy after ecr-warden saw none and before it puts the baseline's: with
/// `require = "present"` the team's policy is kept, nothing is written.
#[tokio::test]
async fn a_lifecycle_policy_put_between_the_read_and_the_write_is_kept() {
    let moto = Moto::start();
    drifted_repository(&moto).await;
    let baseline = moto.write_file("baseline.toml", BASELINE).to_str().expect("utf-8").to_string();
    let proxy = FaultProxy::start_with(&moto.endpoint, 0, 0, &[]);
    let hold = proxy.hold("GetLifecyclePolicy", Stage::AfterForward);
    let teams = r#"{"rules":[{"rulePriority":1,"description":"the team's","selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":500},"action":{"type":"expire"}}]}"#;

    let run = apply_while(&moto, &proxy, &hold, &baseline, async {
        let ecr = moto.ecr().await;
        ecr.put_lifecycle_policy().repository_name(REPOSITORY).lifecycle_policy_text(teams).send().await.expect("put");
    });
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.json()["repositories"][0]["controls"][3]["status"], "compliant", "{run:?}");
    let now = moto.ecr().await.get_lifecycle_policy().repository_name(REPOSITORY).send().await.expect("policy");
    assert!(now.lifecycle_policy_text().is_some_and(|t| t.contains("the team's")), "{now:?}");
}

/// A team sets a required tag after ecr-warden read the tags and before it adds the default: the team's value
/// is kept (the baseline never overwrites a present tag unless it says `overwrite = true`).
#[tokio::test]
async fn a_tag_set_between_the_read_and_the_write_is_kept() {
    let moto = Moto::start();
    drifted_repository(&moto).await;
    let baseline = moto.write_file("baseline.toml", BASELINE).to_str().expect("utf-8").to_string();
    let proxy = FaultProxy::start_with(&moto.endpoint, 0, 0, &[]);
    let hold = proxy.hold("ListTagsForResource", Stage::AfterForward);
    let arn =
        format!("arn:aws:ecr:{}:{}:repository/{REPOSITORY}", integration_tests::REGION, integration_tests::ACCOUNT);

    let run = apply_while(&moto, &proxy, &hold, &baseline, async {
        let tag = aws_sdk_ecr::types::Tag::builder().key("managed-by").value("team-x").build().expect("tag");
        moto.ecr().await.tag_resource().resource_arn(&arn).tags(tag).send().await.expect("tag");
    });
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.json()["repositories"][0]["controls"][5]["status"], "compliant", "{run:?}");
    let tags = moto.ecr().await.list_tags_for_resource().resource_arn(&arn).send().await.expect("tags");
    let managed_by: Vec<&str> = tags.tags().iter().filter(|t| t.key() == "managed-by").map(|t| t.value()).collect();
    assert_eq!(managed_by, ["team-x"]);
}
