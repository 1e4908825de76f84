//! Governance findings in Security Hub (moto): a drifted control becomes an `ACTIVE`/`FAILED` finding
//! under a stable id, a second run updates the same finding, and once `apply` fixes the repository the
//! finding is archived as `PASSED` and its workflow set to `RESOLVED`.
//!
//! moto has `BatchImportFindings` and `GetFindings` (it ignores `GetFindings`' filters: ecr-warden checks
//! what comes back itself) but not `BatchUpdateFindings`: Security Hub calls go through a loopback proxy
//! that forwards everything to moto except that call, which it answers itself and keeps, so the test can
//! read what ecr-warden asked for.

use aws_sdk_securityhub::types::{ComplianceStatus, RecordState, SeverityLabel};
use integration_tests::faults::FaultProxy;
use integration_tests::Moto;
use serde_json::Value;

const REPOSITORY_ARN: &str = "arn:aws:ecr:us-east-1:123456789012:repository/team/api";
const PRODUCT_ARN: &str = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default";

/// Tag mutability only, in `mode`; findings to Security Hub.
fn baseline(mode: &str) -> String {
    format!(
        r#"
[alerts]
security_hub = true

[defaults]
tag_mutability = {{ mode = "{mode}" }}
scanning = {{ mode = "off" }}
encryption = {{ mode = "off" }}
lifecycle_policy = {{ mode = "off" }}
repository_policy = {{ mode = "off" }}
tags = {{ mode = "off" }}
"#
    )
}

#[tokio::test]
async fn a_governance_finding_appears_in_security_hub_and_is_resolved_after_apply() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("team/api").send().await.expect("create");
    let proxy = FaultProxy::start(&moto.endpoint, 0, 0);
    proxy.stand_in("PATCH", "/findings/batchupdate", r#"{"ProcessedFindings":[],"UnprocessedFindings":[]}"#);
    let env = [("AWS_ENDPOINT_URL_SECURITYHUB", proxy.endpoint.as_str())];
    let audit = moto.write_file("audit.toml", &baseline("audit"));
    let enforce = moto.write_file("enforce.toml", &baseline("enforce"));
    let hub = moto.securityhub().await;
    let findings = || async { hub.get_findings().send().await.expect("get findings").findings().to_vec() };

    // Audit: the drift is reported, and becomes an active, failing finding.
    let run = moto.ecr_warden_with(&["apply", "--baseline", audit.to_str().expect("utf-8")], &env);
    assert_eq!(run.code(), 3, "audit-mode drift remains: {run:?}");
    assert!(run.stderr().contains("Security Hub: 1 active findings sent, 0 resolved"), "{run:?}");
    let found = findings().await;
    assert_eq!(found.len(), 1, "{found:?}");
    let finding = &found[0];
    let id = finding.id().expect("id").to_string();
    assert_eq!(finding.product_arn(), Some(PRODUCT_ARN));
    assert_eq!(finding.generator_id(), Some("ecr-warden/tag-mutability"));
    assert_eq!(finding.record_state(), Some(&RecordState::Active));
    assert_eq!(finding.compliance().and_then(|c| c.status()), Some(&ComplianceStatus::Failed));
    assert_eq!(finding.resources()[0].id(), Some(REPOSITORY_ARN));
    assert_eq!(finding.resources()[0].r#type(), Some("AwsEcrRepository"));
    let severity = finding.finding_provider_fields().and_then(|f| f.severity()).and_then(|s| s.label());
    assert_eq!(severity, Some(&SeverityLabel::Medium));
    let requirements = finding.compliance().map(|c| c.related_requirements().to_vec()).unwrap_or_default();
    assert!(requirements.contains(&"AWS Foundational Security Best Practices ECR.2".to_string()), "{requirements:?}");

    // Again: the same finding, updated in place.
    let again = moto.ecr_warden_with(&["apply", "--baseline", audit.to_str().expect("utf-8")], &env);
    assert_eq!(again.code(), 3, "{again:?}");
    let found = findings().await;
    assert_eq!(found.len(), 1, "no second finding: {found:?}");
    assert_eq!(found[0].id(), Some(id.as_str()));
    assert!(proxy.stood_in().is_empty(), "nothing resolved yet");

    // Enforce: apply fixes the repository; the finding is archived, passing, and its workflow resolved.
    let fix = moto.ecr_warden_with(&["apply", "--baseline", enforce.to_str().expect("utf-8")], &env);
    assert_eq!(fix.code(), 0, "{fix:?}");
    assert!(fix.stderr().contains("Security Hub: 0 active findings sent, 1 resolved"), "{fix:?}");
    let found = findings().await;
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].id(), Some(id.as_str()));
    assert_eq!(found[0].record_state(), Some(&RecordState::Archived));
    assert_eq!(found[0].compliance().and_then(|c| c.status()), Some(&ComplianceStatus::Passed));
    let resolved = proxy.stood_in();
    assert_eq!(resolved.len(), 1, "one BatchUpdateFindings call");
    let body: Value = serde_json::from_str(&resolved[0].body).expect("JSON body");
    assert_eq!(body["Workflow"]["Status"], "RESOLVED");
    assert_eq!(body["FindingIdentifiers"][0]["Id"], id.as_str());
    assert_eq!(body["FindingIdentifiers"][0]["ProductArn"], PRODUCT_ARN);

    // Compliant now: nothing more is sent.
    let quiet = moto.ecr_warden_with(&["apply", "--baseline", enforce.to_str().expect("utf-8")], &env);
    assert_eq!(quiet.code(), 0, "{quiet:?}");
    assert!(quiet.stderr().contains("Security Hub: 0 active findings sent, 0 resolved"), "{quiet:?}");
    assert_eq!(proxy.stood_in().len(), 1, "nothing resolved twice");

    // `plan` never writes to Security Hub.
    let plan = moto.ecr_warden_with(&["plan", "--baseline", audit.to_str().expect("utf-8")], &env);
    assert!(!plan.stderr().contains("Security Hub"), "{plan:?}");
    moto.keep_stood_in(&proxy);
}

#[tokio::test]
async fn an_event_reports_its_repository_findings_to_security_hub() {
    let moto = Moto::start();
    moto.ecr().await.create_repository().repository_name("testrepo").send().await.expect("create");
    let baseline = moto.write_file("audit.toml", &baseline("audit"));
    let event = moto.fixture_event_file("cloudtrail-create-repository.json");
    let handle = |extra: &[&str]| {
        let (event, baseline) = (event.as_str(), baseline.to_str().expect("utf-8"));
        let mut args = vec!["handle", "--event", event, "--baseline", baseline, "--output", "json"];
        args.extend_from_slice(extra);
        moto.ecr_warden(&args)
    };
    let run = handle(&[]);
    assert_eq!(run.code(), 0, "{run:?}");
    assert_eq!(run.json()["security_hub"]["active"], 1, "{run:?}");
    let found = moto.securityhub().await.get_findings().send().await.expect("get findings");
    let resources: Vec<_> = found.findings().iter().flat_map(|f| f.resources()).filter_map(|r| r.id()).collect();
    // The finding names the repository where the event says it is.
    assert_eq!(resources, ["arn:aws:ecr:us-east-1:123456789012:repository/testrepo"]);

    // With --dry-run nothing is sent.
    let dry = handle(&["--dry-run"]);
    assert_eq!(dry.code(), 0, "{dry:?}");
    assert!(dry.json().get("security_hub").is_none(), "{dry:?}");
}
