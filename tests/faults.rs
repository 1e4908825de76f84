//! Faults between ecr-warden and ECR: a backfill over 200 drifted repositories with a fifth of all calls
//! failing (throttling, 500, 503, dropped connections before and after the call was applied, slow answers)
//! ends with every repository compliant or reported as failed with the cause, nothing weaker than before,
//! and no panic; a second run without faults finishes the job.

use std::collections::BTreeSet;

use integration_tests::faults::{Fault, FaultProxy};
use integration_tests::Moto;
use serde_json::Value;

const REPOSITORIES: usize = 200;
const USER_STATEMENT: &str = r#"{"Sid": "TeamPull", "Effect": "Allow",
    "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
    "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}"#;
const PUBLIC_STATEMENT: &str =
    r#"{"Sid": "Public", "Effect": "Allow", "Principal": "*", "Action": "ecr:BatchGetImage"}"#;
/// The built-in baseline, with the encryption moto gives new repositories, so a fixed registry is clean.
const BASELINE: &str = "[defaults.encryption]\nmode = \"audit\"\ntype = \"AES256\"\n";

fn name(index: usize) -> String {
    format!("team-{}/service-{index:03}", index % 7)
}

/// Every 4th repository also has a public statement, which the baseline removes.
async fn seed_drifted(moto: &Moto) {
    let ecr = moto.ecr().await;
    for index in 0..REPOSITORIES {
        let name = name(index);
        ecr.create_repository().repository_name(&name).send().await.expect("create");
        let statements = if index % 4 == 0 {
            format!("[{USER_STATEMENT}, {PUBLIC_STATEMENT}]")
        } else {
            format!("[{USER_STATEMENT}]")
        };
        let policy = format!(r#"{{"Version": "2012-10-17", "Statement": {statements}}}"#);
        ecr.set_repository_policy().repository_name(&name).policy_text(policy).send().await.expect("policy");
    }
}

/// Each repository's policy statement IDs, read straight from moto.
async fn statement_ids(moto: &Moto) -> Vec<(String, Vec<String>)> {
    let ecr = moto.ecr().await;
    let mut all = Vec::new();
    for index in 0..REPOSITORIES {
        let name = name(index);
        let policy = ecr.get_repository_policy().repository_name(&name).send().await.expect("the policy is kept");
        let document: Value = serde_json::from_str(policy.policy_text().unwrap_or("{}")).expect("policy JSON");
        let ids = document["Statement"]
            .as_array()
            .expect("statements")
            .iter()
            .map(|s| s["Sid"].as_str().unwrap_or("").to_string())
            .collect();
        all.push((name, ids));
    }
    all
}

/// The repositories the report lists as failed (a control in error, or the repository in error), each
/// checked to carry its cause.
fn failed_with_cause(report: &Value) -> BTreeSet<String> {
    let mut failed = BTreeSet::new();
    for repository in report["repositories"].as_array().expect("repositories") {
        let name = repository["repository"].as_str().expect("name").to_string();
        if repository["outcome"] == "error" {
            assert!(repository["reason"].as_str().is_some_and(|r| !r.is_empty()), "no cause: {repository:#}");
            failed.insert(name.clone());
        }
        for control in repository["controls"].as_array().into_iter().flatten() {
            if control["status"] == "error" {
                assert!(control["error"].as_str().is_some_and(|e| !e.is_empty()), "no cause: {control:#}");
                failed.insert(name.clone());
            }
        }
    }
    failed
}

fn pending(report: &Value) -> BTreeSet<String> {
    let mut pending = BTreeSet::new();
    for repository in report["repositories"].as_array().expect("repositories") {
        let controls = repository["controls"].as_array().into_iter().flatten();
        if controls.filter(|c| c["status"] != "compliant" && c["status"] != "off").count() > 0 {
            pending.insert(repository["repository"].as_str().expect("name").to_string());
        }
    }
    pending
}

#[tokio::test]
async fn a_backfill_under_twenty_percent_faults_ends_compliant_or_reported_and_never_weaker() {
    let moto = Moto::start();
    seed_drifted(&moto).await;
    let baseline = moto.write_file("baseline.toml", BASELINE);
    let baseline = baseline.to_str().expect("path");
    let proxy = FaultProxy::start(&moto.endpoint, 20, 7);

    // The SDK's own retry settings (standard mode, 3 attempts), not the tests' shorter ones.
    let env = [("AWS_ENDPOINT_URL", proxy.endpoint.as_str()), ("AWS_MAX_ATTEMPTS", "3")];
    let started = std::time::Instant::now();
    let faulty = moto.ecr_warden_with(&["apply", "--baseline", baseline, "--output", "json"], &env);
    eprintln!("the faulty apply took {:?}", started.elapsed());
    assert!(!faulty.stderr().contains("panicked"), "{faulty:?}");
    assert!([0, 1].contains(&faulty.code()), "clean or failed, never a crash: {faulty:?}");
    let report = faulty.json();
    assert_eq!(report["repositories"].as_array().map(Vec::len), Some(REPOSITORIES), "every repository reported");
    let failed = failed_with_cause(&report);

    let injected = proxy.injected();
    for fault in Fault::ALL {
        assert!(injected.get(&fault).is_some_and(|n| *n > 0), "{fault:?} was injected: {injected:?}");
    }
    eprintln!("faults injected: {injected:?}; repositories reported failed: {}", failed.len());
    assert!(!failed.is_empty(), "some calls failed every attempt, and their repositories say so: {injected:?}");
    assert_eq!(faulty.code(), 1, "a run with failures exits 1");

    // Nothing weaker than before: every user statement is there exactly once; public ones are gone or, where
    // that fix failed, still there (never a policy without the user's statements).
    for (name, ids) in statement_ids(&moto).await {
        assert_eq!(ids.iter().filter(|id| *id == "TeamPull").count(), 1, "{name}: {ids:?}");
        assert!(ids.iter().all(|id| id == "TeamPull" || id == "Public"), "{name}: {ids:?}");
    }

    // Straight to moto: whatever the faulty run didn't report as failed holds the baseline.
    let plan = moto.ecr_warden(&["plan", "--baseline", baseline, "--output", "json"]);
    let still_pending = pending(&plan.json());
    assert!(still_pending.is_subset(&failed), "unreported drift: {:?}", still_pending.difference(&failed));

    // A second run without faults finishes the job, and a third finds nothing to do.
    let second = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
    assert_eq!(second.code(), 0, "{second:?}");
    moto.reset_recording();
    let third = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
    assert_eq!(third.code(), 0, "{third:?}");
    assert_eq!(moto.writes(), Vec::<String>::new(), "a compliant registry costs reads only");
    for (name, ids) in statement_ids(&moto).await {
        assert_eq!(ids, vec!["TeamPull".to_string()], "{name}");
    }
}

/// An endpoint that accepts connections and never answers: `plan`, `apply` and `handle` each end in seconds
/// with one line saying what didn't answer and which setting sets the deadline, instead of hanging forever.
#[tokio::test]
async fn an_endpoint_that_never_answers_fails_in_seconds_with_a_clear_error() {
    let moto = Moto::start();
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", black_hole.local_addr().expect("address"));
    // Connections are accepted (the kernel's backlog) and never read: no answer ever comes.
    let event = moto.write_file("event.json", &integration_tests::create_repository_event("team-a/api").to_string());
    let event = event.to_str().expect("utf-8");
    let env = [("AWS_ENDPOINT_URL", endpoint.as_str()), ("ECR_WARDEN_TIMEOUT_SECONDS", "1")];
    for args in [&["plan"][..], &["apply"], &["handle", "--event", event]] {
        let started = std::time::Instant::now();
        let run = moto.ecr_warden_with(args, &env);
        let took = started.elapsed();
        assert_eq!(run.code(), 1, "{args:?}: {run:?}");
        assert!(took < std::time::Duration::from_secs(20), "{args:?} took {took:?}");
        let stderr = run.stderr();
        // ECR, or for `handle` STS first (which account the credentials reach).
        assert!(stderr.contains(&format!(" at {endpoint} didn't answer in time")), "{args:?}: {stderr}");
        assert!(stderr.contains("ECR_WARDEN_TIMEOUT_SECONDS"), "{args:?}: {stderr}");
        assert!(!stderr.contains("DispatchFailure") && !stderr.contains("TimeoutError {"), "{args:?}: {stderr}");
    }
    drop(black_hole);
}

/// A call that hangs for one repository fails that repository, with the cause; the others are governed.
#[tokio::test]
async fn a_stuck_call_fails_its_repository_not_the_run() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for name in ["team-a/stuck", "team-a/fine"] {
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let baseline = moto.write_file("baseline.toml", BASELINE);
    let proxy = FaultProxy::start_with(&moto.endpoint, 0, 0, &[]);
    proxy.hang("GetRepositoryPolicy", "team-a/stuck");
    let env = [("AWS_ENDPOINT_URL", proxy.endpoint.as_str()), ("ECR_WARDEN_TIMEOUT_SECONDS", "1")];
    let run =
        moto.ecr_warden_with(&["plan", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"], &env);
    assert_eq!(run.code(), 1, "{run:?}");
    let report = run.json();
    let by_name = |name: &str| {
        report["repositories"].as_array().expect("list").iter().find(|r| r["repository"] == name).cloned().expect(name)
    };
    let stuck = by_name("team-a/stuck");
    assert_eq!(stuck["outcome"], "error");
    assert!(
        stuck["reason"].as_str().is_some_and(|r| r.contains("GetRepositoryPolicy") && r.contains("in time")),
        "{stuck}"
    );
    assert_eq!(by_name("team-a/fine")["outcome"], "governed");
}

/// The pace of a run against a registry that throttles every call arriving while 8 others are being answered
/// (two repositories' reads; a request quota without a clock): the adaptive pace is halved from 8 repositories at
/// once, a fixed pace stays, and each report counts exactly the throttled calls its repositories' work met (the
/// benchmark, not this test, compares how many: see docs/benchmarks.md).
#[tokio::test]
async fn an_adaptive_pace_backs_off_where_the_registry_throttles_and_reports_it() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for index in 0..40 {
        ecr.create_repository().repository_name(name(index)).send().await.expect("create");
    }
    let baseline = moto.write_file("baseline.toml", BASELINE);
    let baseline = baseline.to_str().expect("path");
    let proxy = FaultProxy::start_with(&moto.endpoint, 0, 0, &[]);
    proxy.throttle_above(8);
    let env = [("AWS_ENDPOINT_URL", proxy.endpoint.as_str()), ("AWS_MAX_ATTEMPTS", "5")];
    let throttled_so_far = || proxy.injected().get(&Fault::Throttling).copied().unwrap_or(0);

    let mut paces = Vec::new();
    for (pace, maximum) in [("fixed", "8"), ("adaptive", "32")] {
        let before = throttled_so_far();
        let args = ["plan", "--baseline", baseline, "--output", "json", "--pace", pace, "--concurrency", maximum];
        let run = moto.ecr_warden_with(&args, &env);
        assert_eq!(run.code(), 2, "every repository planned, none failed: {run:?}");
        let report = run.json();
        assert_eq!(report["repositories"].as_array().map(Vec::len), Some(40));
        let reported = &report["pace"];
        assert_eq!(reported["mode"], pace);
        assert_eq!(reported["maximum"].to_string(), maximum, "{reported}");
        assert_eq!(reported["startedAt"].as_u64(), Some(8), "{reported}");
        assert_eq!(reported["throttledCalls"].as_u64(), Some((throttled_so_far() - before) as u64), "{reported}");
        paces.push(reported.clone());
    }
    let (fixed, adaptive) = (&paces[0], &paces[1]);
    eprintln!("fixed: {fixed}\nadaptive: {adaptive}");
    assert_eq!((fixed["endedAt"].as_u64(), fixed["cuts"].as_u64()), (Some(8), Some(0)), "{fixed}");
    assert!(fixed["throttledCalls"].as_u64() > Some(0), "{fixed}");
    assert!(adaptive["cuts"].as_u64() >= Some(1) && adaptive["throttledCalls"].as_u64() > Some(0), "{adaptive}");
}
