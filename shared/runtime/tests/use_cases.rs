//! The use cases against a fake registry: what happens when calls fail, repositories vanish, or many
//! repositories are governed at once.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use async_trait::async_trait;
use serde_json::json;
use warden_core::action::Action;
use warden_core::alert::{Alert, AlertKind, AlertSink, Origin};
use warden_core::baseline::Baseline;
use warden_core::controls::ControlId;
use warden_core::glob::NameGlob;
use warden_core::lifecycle::Image;
use warden_core::observed::{EncryptionType, RegistryScanning, RepositoryFacts, ScanRule, ScanType, TagMutability};
use warden_core::registry::{Applied, Registry, RegistryError, ScanStart};
use warden_core::report::{Outcome, Status, Verdict};
use warden_core::securityhub::{FindingsHub, HubFinding};
use warden_core::sink::SinkError;
use warden_core::vulnerabilities::{Finding, Severity};
use warden_core::work::{WorkBatch, WorkQueue};
use warden_runtime::alerts::Alerts;
use warden_runtime::backfill::{backfill, BackfillRequest};
use warden_runtime::event::LoopGuard;
use warden_runtime::govern::{govern, GovernOptions};
use warden_runtime::handle::{HandleError, Handled, Handler, Purpose};
use warden_runtime::image_push::ImageScan;

#[derive(Clone)]
struct Repo {
    facts: RepositoryFacts,
    lifecycle: Option<String>,
    policy: Option<String>,
    tags: BTreeMap<String, String>,
}

/// An in-memory registry that applies actions to its state and can be told to fail.
#[derive(Default)]
struct FakeRegistry {
    repos: Mutex<BTreeMap<String, Repo>>,
    /// (operation, repository) pairs that fail.
    failures: Mutex<Vec<(&'static str, String, RegistryError)>>,
    writes: Mutex<Vec<String>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// Images scanned (`name@digest`).
    scans: Mutex<Vec<String>>,
    /// What `scan_findings` answers.
    findings: Mutex<Option<Vec<Finding>>>,
    /// Which registry this is (account 123456789012 in us-east-1), when set.
    home: Option<Origin>,
    /// Calls made (each checks for a failure first).
    calls: AtomicUsize,
    /// The registry's scanning rules (none at first, under basic scanning).
    scanning_rules: Mutex<Vec<ScanRule>>,
}

impl FakeRegistry {
    fn with(names: &[&str]) -> Self {
        let fake = Self::default();
        for name in names {
            let facts = RepositoryFacts {
                name: name.to_string(),
                arn: format!("arn:aws:ecr:us-east-1:123456789012:repository/{name}"),
                tag_mutability: TagMutability::Mutable,
                mutability_exclusions: vec![],
                scan_on_push: false,
                encryption: EncryptionType::Kms,
                kms_key: None,
            };
            let repo = Repo { facts, lifecycle: None, policy: None, tags: BTreeMap::new() };
            fake.repos.lock().expect("lock").insert(name.to_string(), repo);
        }
        fake
    }

    fn fail(&self, operation: &'static str, repository: &str, error: RegistryError) {
        self.failures.lock().expect("lock").push((operation, repository.to_string(), error));
    }

    fn check(&self, operation: &'static str, repository: &str) -> Result<(), RegistryError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let failures = self.failures.lock().expect("lock");
        match failures.iter().find(|(op, repo, _)| *op == operation && repo == repository) {
            Some((_, _, error)) => Err(error.clone()),
            None => Ok(()),
        }
    }

    fn repo(&self, name: &str) -> Result<Repo, RegistryError> {
        self.repos.lock().expect("lock").get(name).cloned().ok_or_else(|| RegistryError::NotFound(name.to_string()))
    }

    async fn track<T>(&self, work: impl std::future::Future<Output = T>) -> T {
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        // Let other tasks run so overlapping calls really overlap.
        tokio::task::yield_now().await;
        let out = work.await;
        self.in_flight.fetch_sub(1, Ordering::SeqCst);
        out
    }

    fn writes(&self) -> Vec<String> {
        self.writes.lock().expect("lock").clone()
    }
}

#[async_trait]
impl Registry for FakeRegistry {
    async fn home(&self) -> Result<Option<Origin>, RegistryError> {
        Ok(self.home.clone())
    }

    async fn list_repositories(&self) -> Result<Vec<RepositoryFacts>, RegistryError> {
        self.check("DescribeRepositories", "*")?;
        Ok(self.repos.lock().expect("lock").values().map(|r| r.facts.clone()).collect())
    }

    async fn describe_repository(&self, name: &str) -> Result<RepositoryFacts, RegistryError> {
        self.check("DescribeRepositories", name)?;
        self.repo(name).map(|r| r.facts)
    }

    async fn lifecycle_policy(&self, name: &str) -> Result<Option<String>, RegistryError> {
        self.track(async {
            self.check("GetLifecyclePolicy", name)?;
            self.repo(name).map(|r| r.lifecycle)
        })
        .await
    }

    async fn repository_policy(&self, name: &str) -> Result<Option<String>, RegistryError> {
        self.check("GetRepositoryPolicy", name)?;
        self.repo(name).map(|r| r.policy)
    }

    async fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, RegistryError> {
        let name = arn.split_once(":repository/").map_or(arn, |(_, n)| n);
        self.check("ListTagsForResource", name)?;
        self.repo(name).map(|r| r.tags)
    }

    async fn images(&self, name: &str) -> Result<Vec<Image>, RegistryError> {
        self.repo(name).map(|_| Vec::new())
    }

    async fn registry_scanning(&self) -> Result<RegistryScanning, RegistryError> {
        Ok(RegistryScanning { scan_type: ScanType::Basic, rules: self.scanning_rules.lock().expect("lock").clone() })
    }

    async fn start_image_scan(&self, name: &str, digest: &str) -> Result<ScanStart, RegistryError> {
        self.repo(name)?;
        let mut scans = self.scans.lock().expect("lock");
        let image = format!("{name}@{digest}");
        if scans.contains(&image) {
            return Ok(ScanStart::AlreadyScanned);
        }
        scans.push(image);
        Ok(ScanStart::Started)
    }

    async fn scan_findings(&self, name: &str, _digest: &str) -> Result<Option<Vec<Finding>>, RegistryError> {
        self.check("DescribeImageScanFindings", name)?;
        self.repo(name)?;
        Ok(self.findings.lock().expect("lock").clone())
    }

    async fn apply(&self, repository: &RepositoryFacts, action: &Action) -> Result<Applied, RegistryError> {
        let operation = match action {
            Action::SetTagMutability { .. } => "PutImageTagMutability",
            Action::EnableScanOnPush => "PutImageScanningConfiguration",
            Action::AddRegistryScanFilter { .. } | Action::SetRegistryScanType { .. } => {
                "PutRegistryScanningConfiguration"
            }
            Action::PutLifecyclePolicy { .. } => "PutLifecyclePolicy",
            Action::SetRepositoryPolicy { .. } => "SetRepositoryPolicy",
            Action::DeleteRepositoryPolicy { .. } => "DeleteRepositoryPolicy",
            Action::Tag { .. } => "TagResource",
        };
        self.check(operation, &repository.name)?;
        let mut repos = self.repos.lock().expect("lock");
        let repo = repos.get_mut(&repository.name).ok_or_else(|| RegistryError::NotFound(repository.name.clone()))?;
        match action {
            Action::SetTagMutability { mutability, exclusions } => {
                repo.facts.tag_mutability = *mutability;
                repo.facts.mutability_exclusions = exclusions.clone();
            }
            Action::EnableScanOnPush => repo.facts.scan_on_push = true,
            Action::PutLifecyclePolicy { policy, .. } => repo.lifecycle = Some(policy.clone()),
            Action::SetRepositoryPolicy { policy, owned, .. } => {
                if let Some(owned) = owned {
                    repo.tags.insert(warden_core::policy::OWNED_STATEMENTS_TAG.to_string(), owned.clone());
                }
                repo.policy = Some(policy.clone());
            }
            Action::DeleteRepositoryPolicy { .. } => repo.policy = None,
            Action::Tag { tags } => repo.tags.extend(tags.clone()),
            Action::SetRegistryScanType { .. } => {
                let message = "this stand-in registry scans BASIC only".to_string();
                return Err(RegistryError::Failed { operation: operation.to_string(), message });
            }
            Action::AddRegistryScanFilter { frequency, filter, .. } => {
                let mut rules = self.scanning_rules.lock().expect("lock");
                let have = RegistryScanning { scan_type: ScanType::Basic, rules: rules.clone() };
                let Some(next) = have
                    .with_filter(*frequency, filter)
                    .map_err(|message| RegistryError::Failed { operation: operation.to_string(), message })?
                else {
                    return Ok(Applied::AlreadySo); // as ECR's registry: nothing is put
                };
                *rules = next.rules;
            }
        }
        self.writes.lock().expect("lock").push(format!("{operation} {}", repository.name));
        Ok(Applied::Written)
    }
}

fn builtin() -> Baseline {
    Baseline::builtin().expect("built-in baseline")
}

/// A backfill of the whole registry that changes it.
fn apply_all() -> BackfillRequest {
    BackfillRequest { dry_run: false, ..BackfillRequest::default() }
}

#[tokio::test]
async fn backfill_fixes_everything_once_and_the_second_run_writes_nothing() {
    let fake = FakeRegistry::with(&["a", "b", "c"]);
    let report = backfill(&fake, &builtin(), &apply_all()).await.expect("backfill");
    assert_eq!(report.summary.verdict(), Verdict::Clean);
    assert_eq!(fake.writes().len(), 3 * 3 + 1, "mutability, lifecycle, tags for each; the registry's rule once");
    // The three observe the registry's rule missing at once; the first put adds it and the others find it there
    // just before theirs: only the repository whose put wrote it reports it fixed.
    let scanning: Vec<Status> = report
        .repositories
        .iter()
        .flat_map(|r| r.controls.iter().filter(|c| c.control == ControlId::Scanning).map(|c| c.status))
        .collect();
    assert_eq!(scanning.iter().filter(|s| **s == Status::Fixed).count(), 1, "{scanning:?}");
    assert_eq!(scanning.iter().filter(|s| **s == Status::Compliant).count(), 2, "{scanning:?}");
    let again = backfill(&fake, &builtin(), &apply_all()).await.expect("backfill");
    assert_eq!(fake.writes().len(), 10, "no second write");
    assert!(again
        .repositories
        .iter()
        .all(|r| r.controls.iter().all(|c| matches!(c.status, Status::Compliant | Status::Off))));
}

#[tokio::test]
async fn one_failing_repository_does_not_stop_the_others() {
    let fake = FakeRegistry::with(&["a", "broken", "c"]);
    let failure =
        RegistryError::Failed { operation: "GetLifecyclePolicy".into(), message: "AccessDeniedException: no".into() };
    fake.fail("GetLifecyclePolicy", "broken", failure);
    let report = backfill(&fake, &builtin(), &apply_all()).await.expect("backfill");
    let outcomes: Vec<(&str, Outcome)> =
        report.repositories.iter().map(|r| (r.repository.as_str(), r.outcome)).collect();
    assert_eq!(outcomes, [("a", Outcome::Governed), ("broken", Outcome::Error), ("c", Outcome::Governed)]);
    assert!(report.repositories[1].reason.as_deref().is_some_and(|r| r.contains("AccessDeniedException")));
    assert!(fake.writes().iter().all(|w| !w.ends_with(" broken")), "nothing written to a half-observed repository");
    assert_eq!(report.summary.verdict(), Verdict::Failed);
}

#[tokio::test]
async fn a_failed_fix_is_reported_on_its_control_and_the_other_fixes_land() {
    let fake = FakeRegistry::with(&["a"]);
    let throttled = RegistryError::Throttled { operation: "TagResource".into(), message: "Rate exceeded".into() };
    fake.fail("TagResource", "a", throttled);
    let report = govern(&fake, &builtin(), "a", GovernOptions::default()).await;
    assert_eq!(report.status(ControlId::Tags), Some(Status::Error));
    let tags = report.controls.iter().find(|c| c.control == ControlId::Tags).expect("tags control");
    assert!(tags.error.as_deref().is_some_and(|e| e.contains("throttled")), "{tags:?}");
    assert_eq!(report.status(ControlId::TagMutability), Some(Status::Fixed));
    assert_eq!(report.status(ControlId::LifecyclePolicy), Some(Status::Fixed));
}

#[tokio::test]
async fn an_event_whose_fix_failed_fails_the_invocation_so_lambda_retries_it() {
    let fake = FakeRegistry::with(&["app"]);
    let throttled = RegistryError::Throttled { operation: "TagResource".into(), message: "Rate exceeded".into() };
    fake.fail("TagResource", "app", throttled);
    let (baseline, guard, alerts) = (builtin(), LoopGuard::default(), Alerts::default());
    let handler = handler_for(Purpose::RepositoryEvents, &fake, &baseline, &guard, &alerts);
    let created = created_event("app");
    match handler.handle(&created, false).await {
        Err(HandleError::Incomplete(message)) => {
            assert!(message.contains("app tags: ") && message.contains("Rate exceeded"), "{message}")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(fake.writes().iter().any(|w| w.starts_with("PutImageTagMutability")), "the other fixes landed");

    // The retry, once the throttling is over, finishes the job.
    fake.failures.lock().expect("lock").clear();
    let Ok(Handled::Repository { report, .. }) = handler.handle(&created, false).await else { panic!("handled") };
    assert_eq!(report.status(ControlId::Tags), Some(Status::Fixed));
    assert_eq!(report.status(ControlId::TagMutability), Some(Status::Compliant));
}

#[tokio::test]
async fn a_repository_deleted_mid_flight_is_gone_not_failed() {
    let fake = FakeRegistry::with(&["a"]);
    fake.fail("PutImageTagMutability", "a", RegistryError::NotFound("a".into()));
    let report = govern(&fake, &builtin(), "a", GovernOptions::default()).await;
    assert_eq!(report.outcome, Outcome::Gone);
    let missing = govern(&fake, &builtin(), "never-existed", GovernOptions::default()).await;
    assert_eq!(missing.outcome, Outcome::Gone);
}

#[tokio::test]
async fn dry_run_writes_nothing_and_reports_pending() {
    let fake = FakeRegistry::with(&["a"]);
    let report = govern(&fake, &builtin(), "a", GovernOptions { dry_run: true, ..Default::default() }).await;
    assert_eq!(fake.writes(), Vec::<String>::new());
    assert_eq!(report.status(ControlId::TagMutability), Some(Status::Pending));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_respects_its_concurrency_bound_and_filters() {
    let names: Vec<String> = (0..40).map(|i| format!("team-{}/app-{i}", i % 2)).collect();
    let fake = FakeRegistry::with(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let request = BackfillRequest {
        dry_run: true,
        repositories: vec![NameGlob::new("team-0/*").expect("glob")],
        concurrency: 3,
        ..BackfillRequest::default()
    };
    let report = backfill(&fake, &builtin(), &request).await.expect("backfill");
    assert_eq!(report.summary.repositories, 20);
    assert!(report.repositories.iter().all(|r| r.repository.starts_with("team-0/")));
    let max = fake.max_in_flight.load(Ordering::SeqCst);
    assert!((1..=3).contains(&max), "at most 3 repositories at once, saw {max}");
}

#[tokio::test]
async fn each_function_takes_only_its_own_events() {
    let fake = FakeRegistry::with(&["app"]);
    let baseline = builtin();
    let guard = LoopGuard::default();
    let cloudtrail = created_event("app");
    let manual_backfill = json!({"dryRun": true});

    let no_alerts = Alerts::default();
    let handler = |purpose| handler_for(purpose, &fake, &baseline, &guard, &no_alerts);
    let backfill_fn = handler(Purpose::Backfill);
    assert!(matches!(backfill_fn.handle(&cloudtrail, false).await, Ok(Handled::Ignored { .. })));
    assert!(matches!(backfill_fn.handle(&manual_backfill, false).await, Ok(Handled::Backfill { .. })));

    let events_fn = handler(Purpose::RepositoryEvents);
    // A person's backfill request sent to an event function is refused, so they hear of it.
    match events_fn.handle(&manual_backfill, false).await {
        Err(HandleError::NotForThisFunction(message)) => assert!(message.contains("backfill function"), "{message}"),
        other => panic!("unexpected {other:?}"),
    }
    assert!(matches!(events_fn.handle(&cloudtrail, true).await, Ok(Handled::Repository { .. })));
    assert_eq!(fake.writes(), Vec::<String>::new(), "both runs were dry");
    assert!(events_fn.handle(&json!("nonsense"), false).await.is_err());

    let push = push_event("app", "sha256:1", "v1");
    let scan = scan_event("app", "sha256:1", json!({"HIGH": 1}));
    assert!(
        matches!(events_fn.handle(&push, true).await, Ok(Handled::Ignored { reason }) if reason.contains("image-pushed"))
    );
    assert!(matches!(handler(Purpose::ImagePushes).handle(&push, true).await, Ok(Handled::Image { .. })));
    assert!(
        matches!(handler(Purpose::ImagePushes).handle(&scan, true).await, Ok(Handled::Ignored { reason }) if reason.contains("scan-completed"))
    );
    assert!(matches!(handler(Purpose::ScanResults).handle(&scan, true).await, Ok(Handled::Scan { .. })));
    assert!(matches!(handler(Purpose::ScanResults).handle(&cloudtrail, true).await, Ok(Handled::Ignored { .. })));
}

/// An alert sink that keeps what it gets, or refuses everything.
struct MemorySink {
    name: &'static str,
    refuse: bool,
    got: std::sync::Arc<Mutex<Vec<Alert>>>,
}

impl MemorySink {
    fn new(name: &'static str, refuse: bool) -> (Self, std::sync::Arc<Mutex<Vec<Alert>>>) {
        let got = std::sync::Arc::new(Mutex::new(Vec::new()));
        (Self { name, refuse, got: got.clone() }, got)
    }
}

#[async_trait]
impl AlertSink for MemorySink {
    fn name(&self) -> String {
        self.name.to_string()
    }

    async fn send(&self, alert: &Alert) -> Result<(), SinkError> {
        if self.refuse {
            return Err(SinkError::PartlyRefused("refused".to_string()));
        }
        self.got.lock().expect("lock").push(alert.clone());
        Ok(())
    }
}

/// A CloudTrail `CreateRepository` event in account 123456789012, us-east-1.
fn created_event(repository: &str) -> serde_json::Value {
    json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ecr", "account": "123456789012",
           "region": "us-east-1",
           "detail": {"eventName": "CreateRepository", "requestParameters": {"repositoryName": repository}}})
}

/// Events about another account's or region's repository of the same name are ignored before any call; those
/// about this registry's are governed.
#[tokio::test]
async fn events_for_another_registry_are_ignored_before_any_call() {
    let home = Origin { account: "123456789012".into(), region: "us-east-1".into() };
    let fake = FakeRegistry { home: Some(home), ..FakeRegistry::with(&["app"]) };
    let (baseline, guard, alerts) = (builtin(), LoopGuard::default(), Alerts::default());
    let handler = handler_for(Purpose::Any, &fake, &baseline, &guard, &alerts);
    for (account, region) in [("210987654321", "us-east-1"), ("123456789012", "eu-west-1")] {
        for mut event in [
            created_event("app"),
            push_event("app", "sha256:1", "v1"),
            scan_event("app", "sha256:1", json!({"CRITICAL": 9})),
        ] {
            (event["account"], event["region"]) = (json!(account), json!(region));
            match handler.handle(&event, false).await {
                Ok(Handled::Ignored { reason }) => {
                    assert!(reason.contains(&format!("account {account} in {region}")), "{reason}")
                }
                other => panic!("{event}: unexpected {other:?}"),
            }
        }
    }
    assert_eq!(fake.calls.load(Ordering::SeqCst), 0, "no call for another registry's events");
    assert!(matches!(handler.handle(&created_event("app"), false).await, Ok(Handled::Repository { .. })));
    assert!(!fake.writes().is_empty(), "its own registry's event is governed");
}

fn push_event(repository: &str, digest: &str, tag: &str) -> serde_json::Value {
    json!({"version": "0", "id": "1", "detail-type": "ECR Image Action", "source": "aws.ecr",
           "account": "123456789012", "region": "us-east-1", "resources": [],
           "detail": {"result": "SUCCESS", "repository-name": repository, "image-digest": digest,
                      "action-type": "PUSH", "image-tag": tag}})
}

fn scan_event(repository: &str, digest: &str, counts: serde_json::Value) -> serde_json::Value {
    json!({"version": "0", "id": "2", "detail-type": "ECR Image Scan", "source": "aws.ecr",
           "account": "123456789012", "region": "us-east-1", "resources": [],
           "detail": {"scan-status": "COMPLETE", "repository-name": repository, "image-digest": digest,
                      "image-tags": [], "finding-severity-counts": counts}})
}

#[tokio::test]
async fn a_push_to_a_manually_scanned_repository_starts_one_scan() {
    let fake = FakeRegistry::with(&["app"]);
    let (baseline, guard, alerts) = (builtin(), LoopGuard::default(), Alerts::default());
    let handler = handler_for(Purpose::ImagePushes, &fake, &baseline, &guard, &alerts);
    let Ok(Handled::Image { report, .. }) = handler.handle(&push_event("app", "sha256:1", "v1"), false).await else {
        panic!("not an image report")
    };
    assert_eq!(report.scan, ImageScan::Started, "scanning was manual when the image arrived");
    assert!(fake.writes().contains(&"PutRegistryScanningConfiguration app".to_string()), "and is on push from now on");
    let Ok(Handled::Image { report, .. }) = handler.handle(&push_event("app", "sha256:2", "v2"), false).await else {
        panic!("not an image report")
    };
    assert!(matches!(report.scan, ImageScan::Automatic { .. }), "{:?}", report.scan);
    assert_eq!(fake.scans.lock().expect("lock").len(), 1);

    let other = FakeRegistry::with(&["app"]);
    let dry = Handler { registry: &other, ..handler };
    let Ok(Handled::Image { report, .. }) = dry.handle(&push_event("app", "sha256:1", ""), true).await else {
        panic!("not an image report")
    };
    assert_eq!(report.scan, ImageScan::WouldStart);
    assert!(other.scans.lock().expect("lock").is_empty() && other.writes().is_empty(), "a dry run changes nothing");
}

#[tokio::test]
async fn a_forbidden_tag_is_one_alert_and_nothing_is_deleted() {
    let fake = FakeRegistry::with(&["prod/api"]);
    let baseline = Baseline::parse(
        "b.toml",
        "[[rules]]\nmatch = \"prod/**\"\nimage_tags = { forbidden = [\"latest\"], allow_untagged = false }\n",
    )
    .expect("baseline");
    let (sink, got) = MemorySink::new("memory", false);
    let alerts = Alerts::new(vec![Box::new(sink)]);
    let guard = LoopGuard::default();
    let handler = handler_for(Purpose::ImagePushes, &fake, &baseline, &guard, &alerts);
    let handled = handler.handle(&push_event("prod/api", "sha256:1", "latest"), false).await.expect("handled");
    let Handled::Image { report, alerts: delivered, .. } = handled else { panic!("not an image report") };
    assert_eq!(report.tag_findings.len(), 1, "{:?}", report.tag_findings);
    assert_eq!(delivered.len(), 1);
    assert_eq!(delivered[0].sent_to, ["memory"]);
    let sent = got.lock().expect("lock").clone();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].kind, AlertKind::Governance);
    assert!(sent[0].problems.iter().any(|p| p.contains("`latest` is forbidden")), "{:?}", sent[0].problems);
    let governance = ["PutImageTagMutability", "PutRegistryScanningConfiguration", "PutLifecyclePolicy", "TagResource"];
    let writes = fake.writes();
    assert!(writes.iter().all(|w| governance.iter().any(|g| w.starts_with(g))), "only settings change: {writes:?}");
    handler.handle(&push_event("prod/api", "sha256:2", ""), false).await.expect("handled");
    let sent = got.lock().expect("lock").clone();
    assert_eq!(sent.len(), 2);
    assert!(sent[1].problems.iter().any(|p| p.contains("without a tag")), "{:?}", sent[1].problems);
}

#[tokio::test]
async fn scan_findings_over_the_threshold_alert_with_the_same_id_every_time() {
    let fake = FakeRegistry::with(&["app"]);
    *fake.findings.lock().expect("lock") = Some(vec![
        Finding { package: Some("openssl".into()), ..Finding::new("CVE-2", Severity::Critical) },
        Finding::new("CVE-1", Severity::High),
    ]);
    let (sink, got) = MemorySink::new("memory", false);
    let alerts = Alerts::new(vec![Box::new(sink)]);
    let (baseline, guard) = (builtin(), LoopGuard::default());
    let handler = handler_for(Purpose::ScanResults, &fake, &baseline, &guard, &alerts);
    let event = scan_event("app", "sha256:1", json!({"CRITICAL": 1, "HIGH": 1}));
    handler.handle(&event, false).await.expect("handled");
    handler.handle(&event, false).await.expect("handled again");
    let got = got.lock().expect("lock").clone();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0], got[1], "a duplicate event yields an identical alert");
    assert_eq!(got[0].severity, Severity::Critical);
    assert_eq!(got[0].findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["CVE-2", "CVE-1"]);

    *fake.findings.lock().expect("lock") = Some(vec![Finding::new("CVE-1", Severity::High)]);
    let Ok(Handled::Scan { report, alerts: delivered, .. }) = handler.handle(&event, false).await else {
        panic!("no scan")
    };
    assert!(delivered.is_empty(), "the findings, not the event's counts, decide");
    assert_eq!(report.no_alert.as_deref(), Some("the findings are within the threshold"));
}

#[tokio::test]
async fn a_failing_sink_fails_the_invocation_after_the_others_got_the_alert() {
    let fake = FakeRegistry::with(&["app"]);
    *fake.findings.lock().expect("lock") = Some(vec![Finding::new("CVE-9", Severity::Critical)]);
    let (broken, _) = MemorySink::new("broken", true);
    let (working, got) = MemorySink::new("working", false);
    let alerts = Alerts::new(vec![Box::new(broken), Box::new(working)]);
    let (baseline, guard) = (builtin(), LoopGuard::default());
    let handler = handler_for(Purpose::ScanResults, &fake, &baseline, &guard, &alerts);
    match handler.handle(&scan_event("app", "sha256:1", json!({"CRITICAL": 1})), false).await {
        Err(HandleError::Incomplete(message)) => {
            assert!(message.contains("broken") && message.contains("refused"), "{message}")
        }
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(got.lock().expect("lock").len(), 1, "the working sink still got it");
}

/// A handler over the test's registry and settings, with no work queue.
fn handler_for<'a>(
    purpose: Purpose,
    registry: &'a dyn Registry,
    baseline: &'a Baseline,
    guard: &'a LoopGuard,
    alerts: &'a Alerts,
) -> Handler<'a> {
    Handler {
        purpose,
        registry,
        baseline,
        guard,
        alerts,
        work_queue: None,
        findings_hub: None,
        organization: None,
        accounts: None,
    }
}

/// A work queue that keeps what it is sent.
#[derive(Default)]
struct MemoryQueue {
    sent: Mutex<Vec<String>>,
}

#[async_trait]
impl WorkQueue for MemoryQueue {
    fn name(&self) -> &str {
        "memory"
    }

    async fn send(&self, bodies: &[String]) -> Result<(), SinkError> {
        self.sent.lock().expect("lock").extend(bodies.iter().cloned());
        Ok(())
    }
}

fn queue_event(messages: &[(&str, String)]) -> serde_json::Value {
    let records: Vec<_> =
        messages.iter().map(|(id, body)| json!({"messageId": id, "body": body, "eventSource": "aws:sqs"})).collect();
    json!({ "Records": records })
}

#[tokio::test]
async fn a_fan_out_sends_the_selected_repositories_fifty_a_message_and_changes_nothing() {
    let names: Vec<String> = (0..130).map(|i| format!("team-{}/app-{i:03}", i % 2)).collect();
    let fake = FakeRegistry::with(&names.iter().map(String::as_str).collect::<Vec<_>>());
    let queue = MemoryQueue::default();
    let (baseline, guard, alerts) = (builtin(), LoopGuard::default(), Alerts::default());
    let handler =
        Handler { work_queue: Some(&queue), ..handler_for(Purpose::Backfill, &fake, &baseline, &guard, &alerts) };
    let request = json!({"fanOut": true, "dryRun": true, "repositories": ["team-0/*"]});
    let Ok(Handled::FannedOut { report }) = handler.handle(&request, false).await else { panic!("fanned out") };
    assert_eq!((report.repositories, report.messages, report.dry_run), (65, 2, true));
    assert_eq!(fake.writes(), Vec::<String>::new(), "the fan-out itself changes nothing");

    let batches: Vec<WorkBatch> =
        queue.sent.lock().expect("lock").iter().map(|b| serde_json::from_str(b).expect("a work batch")).collect();
    assert_eq!(batches.iter().map(|b| b.repositories.len()).collect::<Vec<_>>(), [50, 15]);
    assert!(batches.iter().all(|b| b.dry_run));
    let origin = batches[0].origin.as_ref().expect("the registry's origin, for Security Hub findings");
    assert_eq!((origin.account.as_str(), origin.region.as_str()), ("123456789012", "us-east-1"));
    let sent: Vec<&String> = batches.iter().flat_map(|b| &b.repositories).collect();
    let expected: Vec<&String> = names.iter().filter(|n| n.starts_with("team-0/")).collect();
    assert_eq!(sent, expected, "each selected repository once");

    let without_queue = Handler { work_queue: None, ..handler };
    assert!(matches!(without_queue.handle(&request, false).await, Err(HandleError::NoWorkQueue)));
}

#[tokio::test]
async fn a_worker_answers_which_messages_to_deliver_again() {
    let fake = FakeRegistry::with(&["team-a/ok", "team-a/other", "team-b/broken"]);
    let throttled = RegistryError::Throttled { operation: "TagResource".into(), message: "Rate exceeded".into() };
    fake.fail("TagResource", "team-b/broken", throttled);
    let (baseline, guard, alerts) = (builtin(), LoopGuard::default(), Alerts::default());
    let handler = handler_for(Purpose::BackfillWorker, &fake, &baseline, &guard, &alerts);
    let batch = |names: &[&str]| json!({"repositories": names}).to_string();
    let event = queue_event(&[
        ("m-1", batch(&["team-a/ok", "team-a/other"])),
        ("m-2", batch(&["team-b/broken"])),
        ("m-3", "not json".to_string()),
        ("m-4", batch(&["../etc"])),
        ("m-5", batch(&["team-a/gone"])),
    ]);
    let Ok(Handled::Work(report)) = handler.handle(&event, false).await else { panic!("worked") };
    let again: Vec<&str> = report.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(again, ["m-2", "m-3", "m-4"], "a failed repository, an unreadable body, an invalid name");
    assert_eq!(report.summary.repositories, 4, "the readable messages' repositories, the gone one included");
    assert_eq!(report.failed.iter().map(|r| r.repository.as_str()).collect::<Vec<_>>(), ["team-b/broken"]);
    assert_eq!(report.refused.len(), 2);
    assert!(fake.writes().iter().any(|w| w == "PutImageTagMutability team-a/ok"), "{:?}", fake.writes());

    let answer = serde_json::to_value(Handled::Work(report)).expect("JSON");
    assert_eq!(answer["batchItemFailures"][0], json!({"itemIdentifier": "m-2"}), "Lambda's partial batch format");

    let backfill_fn = Handler { purpose: Purpose::Backfill, ..handler };
    let refused = backfill_fn.handle(&event, false).await;
    assert!(matches!(refused, Err(HandleError::NotForThisFunction(m)) if m.contains("backfill-worker")));
}

/// A work message naming another registry (account and region) is refused before anything is read: its findings
/// would be filed under an account this function doesn't govern. A message naming this registry is governed.
#[tokio::test]
async fn a_worker_refuses_a_message_for_another_registry() {
    let home = Origin { account: "123456789012".into(), region: "us-east-1".into() };
    let fake = FakeRegistry { home: Some(home), ..FakeRegistry::with(&["team-a/ok"]) };
    let (baseline, guard, alerts) = (builtin(), LoopGuard::default(), Alerts::default());
    let handler = handler_for(Purpose::BackfillWorker, &fake, &baseline, &guard, &alerts);
    let batch = |account: &str| {
        json!({"repositories": ["team-a/ok"], "origin": {"account": account, "region": "us-east-1"}}).to_string()
    };
    let event = queue_event(&[("m-1", batch("999999999999")), ("m-2", batch("123456789012"))]);
    let Ok(Handled::Work(report)) = handler.handle(&event, false).await else { panic!("worked") };
    let again: Vec<&str> = report.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    assert_eq!(again, ["m-1"]);
    let reason = &report.refused[0];
    assert!(
        reason.contains("account 999999999999 in us-east-1; these credentials reach account 123456789012"),
        "{reason}"
    );
    assert_eq!(report.summary.repositories, 1, "only the message for this registry is governed");
}

/// Security Hub in memory: keeps what is imported, or refuses everything.
#[derive(Default)]
struct MemoryHub {
    imported: Mutex<Vec<HubFinding>>,
    down: bool,
}

#[async_trait]
impl FindingsHub for MemoryHub {
    async fn import(&self, findings: &[HubFinding]) -> Result<(), SinkError> {
        if self.down {
            return Err(SinkError::PartlyRefused("Security Hub is not enabled".into()));
        }
        self.imported.lock().expect("lock").extend(findings.iter().cloned());
        Ok(())
    }
    /// The asked-about findings whose latest import was failing (Security Hub holds them active).
    async fn active(&self, findings: &[HubFinding]) -> Result<Vec<String>, SinkError> {
        let imported = self.imported.lock().expect("lock");
        let latest_failing = |id: &str| imported.iter().rev().find(|f| f.id == id).is_some_and(HubFinding::is_failing);
        Ok(findings.iter().filter(|f| latest_failing(&f.id)).map(|f| f.id.clone()).collect())
    }
    async fn resolve(&self, _: &str, _: &[String]) -> Result<(), SinkError> {
        Ok(())
    }
}

#[tokio::test]
async fn a_worker_sends_its_findings_to_security_hub_and_has_every_message_redelivered_if_that_fails() {
    let fake = FakeRegistry::with(&["team-a/api", "team-a/web"]);
    let text = "[alerts]\nsecurity_hub = true\n\n[defaults.tag_mutability]\nmode = \"audit\"\n";
    let baseline = Baseline::parse("hub.toml", text).expect("valid baseline");
    let (guard, alerts) = (LoopGuard::default(), Alerts::default());
    let hub = MemoryHub::default();
    let worker =
        Handler { findings_hub: Some(&hub), ..handler_for(Purpose::BackfillWorker, &fake, &baseline, &guard, &alerts) };
    let origin = json!({"account": "123456789012", "region": "us-east-1"});
    let event = queue_event(&[
        ("m-1", json!({"repositories": ["team-a/api"], "origin": origin}).to_string()),
        ("m-2", json!({"repositories": ["team-a/web"]}).to_string()),
    ]);
    let Ok(Handled::Work(report)) = worker.handle(&event, false).await else { panic!("worked") };
    assert!(report.batch_item_failures.is_empty(), "{report:?}");
    let imported = hub.imported.lock().expect("lock").clone();
    assert!(!imported.is_empty(), "the tag mutability drift (audit mode) at least");
    assert!(
        imported.iter().all(|f| f.is_failing() && f.resource_id.ends_with(":repository/team-a/api")),
        "failing findings of the message that names its origin only: {imported:?}"
    );

    let down = MemoryHub { down: true, ..MemoryHub::default() };
    let worker = Handler { findings_hub: Some(&down), ..worker };
    let Ok(Handled::Work(report)) = worker.handle(&event, false).await else { panic!("worked") };
    let again: Vec<&str> = report.batch_item_failures.iter().map(|f| f.item_identifier.as_str()).collect();
    // m-2 names no registry, so it has no findings to send (and was governed): only m-1 is tried again.
    assert_eq!(again, ["m-1"], "every message whose findings weren't sent, so they are sent again");
}

/// A required tag without a default is left for a person, and the other required tags are written anyway: the
/// control ends as a violation (what is left) with the write it made in the report.
#[tokio::test]
async fn a_tag_without_default_does_not_hold_up_the_others() {
    let fake = FakeRegistry::with(&["app"]);
    let baseline = Baseline::parse("b.toml", "[defaults.tags.required.team]\nallowed = [\"a\"]\n").expect("valid");
    let report = govern(&fake, &baseline, "app", GovernOptions::default()).await;
    let tags = report.controls.iter().find(|c| c.control == ControlId::Tags).expect("tags control");
    assert_eq!(tags.status, Status::Violation, "{tags:?}");
    assert!(tags.finding.as_deref().is_some_and(|f| f.contains("missing team")), "{tags:?}");
    assert_eq!(tags.actions.len(), 1, "the managed-by tag was written: {tags:?}");
    assert!(fake.writes().iter().any(|w| w == "TagResource app"), "{:?}", fake.writes());
}

/// An `Inspector2 Finding` event for `finding` (`status`: ACTIVE or CLOSED) of the image `sha256:1` in `app`.
fn finding_event(finding: &str, severity: &str, status: &str) -> serde_json::Value {
    json!({"version": "0", "id": "3", "detail-type": "Inspector2 Finding", "source": "aws.inspector2",
           "account": "123456789012", "region": "us-east-1",
           "detail": {"severity": severity, "status": status, "awsAccountId": "123456789012",
                      "packageVulnerabilityDetails": {"vulnerabilityId": finding},
                      "resources": [{"details": {"awsEcrContainerImage": {"repositoryName": "app",
                                     "imageHash": "sha256:1", "registry": "123456789012"}}}]}})
}

/// One Inspector finding never says an image's state (Inspector sends one event per finding created, updated or
/// closed: ECR user guide, "EventBridge events sent for enhanced scanning"). A HIGH finding's event while a
/// CRITICAL one is open keeps the image failing in Security Hub and raises no new alert; the CRITICAL one's
/// event alerts; once it is closed the image passes; without its findings the image isn't judged at all.
#[tokio::test]
async fn an_inspector_finding_event_is_judged_with_the_images_whole_finding_set() {
    let fake = FakeRegistry::with(&["app"]);
    *fake.findings.lock().expect("lock") =
        Some(vec![Finding::new("CVE-CRIT", Severity::Critical), Finding::new("CVE-HIGH", Severity::High)]);
    let text = "[alerts]\nsecurity_hub = true\n";
    let baseline = Baseline::parse("hub.toml", text).expect("valid baseline");
    let (sink, got) = MemorySink::new("memory", false);
    let alerts = Alerts::new(vec![Box::new(sink)]);
    let guard = LoopGuard::default();
    let hub = MemoryHub::default();
    let handler =
        Handler { findings_hub: Some(&hub), ..handler_for(Purpose::ScanResults, &fake, &baseline, &guard, &alerts) };
    let failing = || hub.imported.lock().expect("lock").last().map(HubFinding::is_failing);

    handler.handle(&finding_event("CVE-HIGH", "HIGH", "ACTIVE"), false).await.expect("handled");
    assert_eq!(failing(), Some(true), "the CRITICAL finding still makes the image fail");
    assert!(got.lock().expect("lock").is_empty(), "the HIGH finding adds nothing over the threshold");

    handler.handle(&finding_event("CVE-CRIT", "CRITICAL", "ACTIVE"), false).await.expect("handled");
    assert_eq!(got.lock().expect("lock").len(), 1, "the CRITICAL finding's event alerts");
    let alert = got.lock().expect("lock")[0].clone();
    assert_eq!(alert.findings.iter().map(|f| f.id.as_str()).collect::<Vec<_>>(), ["CVE-CRIT", "CVE-HIGH"]);

    *fake.findings.lock().expect("lock") = Some(vec![Finding::new("CVE-HIGH", Severity::High)]);
    handler.handle(&finding_event("CVE-CRIT", "CRITICAL", "CLOSED"), false).await.expect("handled");
    assert_eq!(failing(), Some(false), "with the CRITICAL finding closed, the image passes");

    let before = hub.imported.lock().expect("lock").len();
    fake.fail(
        "DescribeImageScanFindings",
        "app",
        RegistryError::Failed { operation: "DescribeImageScanFindings".into(), message: "AccessDenied".into() },
    );
    match handler.handle(&finding_event("CVE-HIGH", "HIGH", "ACTIVE"), false).await {
        Err(HandleError::Incomplete(message)) => assert!(message.contains("state is unknown"), "{message}"),
        other => panic!("unexpected {other:?}"),
    }
    assert_eq!(hub.imported.lock().expect("lock").len(), before, "nothing sent to Security Hub, nothing resolved");
}
