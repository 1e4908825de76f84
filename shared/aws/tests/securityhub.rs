//! The Security Hub adapter against a mocked SDK client (moto has no `BatchUpdateFindings`): what is
//! imported for failing and passing findings, which findings count as active, and the workflow update.

use aws_sdk_securityhub::operation::batch_import_findings::BatchImportFindingsOutput;
use aws_sdk_securityhub::operation::batch_update_findings::BatchUpdateFindingsOutput;
use aws_sdk_securityhub::operation::get_findings::GetFindingsOutput;
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, ComplianceStatus, RecordState, SeverityLabel, StringFilterComparison, WorkflowStatus,
};
use aws_smithy_mocks::{mock, mock_client, RuleMode};
use warden_aws::securityhub::SecurityHub;
use warden_core::alert::Origin;
use warden_core::controls::ControlId;
use warden_core::report::{ControlReport, Outcome, RepositoryReport, Status};
use warden_core::securityhub::{governance_findings, FindingsHub, HubFinding};

const PRODUCT: &str = "arn:aws:securityhub:us-east-1:123456789012:product/123456789012/default";

fn findings(status: Status) -> Vec<HubFinding> {
    let report = RepositoryReport {
        repository: "team/api".into(),
        outcome: Outcome::Governed,
        reason: None,
        exemption: None,
        vulnerabilities: None,
        controls: vec![ControlReport {
            control: ControlId::Encryption,
            status,
            finding: Some("encrypted with AES256, the baseline wants KMS".into()),
            remedy: Some("recreate the repository with a KMS key".into()),
            actions: vec![],
            error: None,
            lifecycle_impact: None,
            security_hub_control: None,
            in_use: Vec::new(),
        }],
    };
    governance_findings(&Origin { account: "123456789012".into(), region: "us-east-1".into() }, &report)
}

#[tokio::test]
async fn failing_findings_are_imported_active_and_passing_ones_archived() {
    let import = mock!(aws_sdk_securityhub::Client::batch_import_findings)
        .match_requests(|req| {
            let finding = &req.findings()[0];
            let severity = finding.finding_provider_fields().and_then(|f| f.severity()).and_then(|s| s.label());
            finding.record_state() == Some(&RecordState::Active)
                && finding.compliance().and_then(|c| c.status()) == Some(&ComplianceStatus::Failed)
                && severity == Some(&SeverityLabel::Medium)
                && finding.product_arn() == Some(PRODUCT)
                && finding.schema_version() == Some("2018-10-08")
                && finding.remediation().and_then(|r| r.recommendation()).and_then(|r| r.text())
                    == Some("recreate the repository with a KMS key")
                && finding.created_at().is_some_and(|t| t.ends_with('Z'))
        })
        .then_output(|| BatchImportFindingsOutput::builder().failed_count(0).success_count(1).build());
    let archive = mock!(aws_sdk_securityhub::Client::batch_import_findings)
        .match_requests(|req| {
            let finding = &req.findings()[0];
            finding.record_state() == Some(&RecordState::Archived)
                && finding.compliance().and_then(|c| c.status()) == Some(&ComplianceStatus::Passed)
        })
        .then_output(|| BatchImportFindingsOutput::builder().failed_count(0).success_count(1).build());
    let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&import, &archive]);
    let hub = SecurityHub::from_client(client);
    hub.import(&findings(Status::Violation)).await.expect("import failing");
    hub.import(&findings(Status::Compliant)).await.expect("import passing");
    assert_eq!((import.num_calls(), archive.num_calls()), (1, 1));
}

#[tokio::test]
async fn only_our_active_findings_asked_about_count_as_active() {
    let ours = findings(Status::Violation)[0].id.clone();
    let theirs = |id: &str, product: &str, state: RecordState| {
        AwsSecurityFinding::builder()
            .id(id)
            .product_arn(product)
            .generator_id("ecr-warden/encryption")
            .record_state(state)
            .build()
    };
    let query = mock!(aws_sdk_securityhub::Client::get_findings)
        .match_requests(|req| {
            let filters = req.filters();
            fn equals(
                f: Option<&[aws_sdk_securityhub::types::StringFilter]>,
            ) -> Option<(String, Option<StringFilterComparison>)> {
                f.and_then(|f| f.first()).map(|f| (f.value().unwrap_or("").to_string(), f.comparison().cloned()))
            }
            let resource = "arn:aws:ecr:us-east-1:123456789012:repository/team/api".to_string();
            equals(filters.map(|f| f.resource_id())) == Some((resource, Some(StringFilterComparison::Equals)))
                && equals(filters.map(|f| f.product_arn()))
                    == Some((PRODUCT.to_string(), Some(StringFilterComparison::Equals)))
                && equals(filters.map(|f| f.record_state()))
                    == Some(("ACTIVE".to_string(), Some(StringFilterComparison::Equals)))
        })
        .then_output({
            let ours = ours.clone();
            move || {
                GetFindingsOutput::builder()
                    .findings(theirs(&ours, PRODUCT, RecordState::Active))
                    .findings(theirs(
                        "other-product",
                        "arn:aws:securityhub:us-east-1::product/aws/inspector",
                        RecordState::Active,
                    ))
                    .findings(theirs("archived", PRODUCT, RecordState::Archived))
                    .findings(theirs("not-asked", PRODUCT, RecordState::Active))
                    .build()
            }
        });
    let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&query]);
    let hub = SecurityHub::from_client(client);
    let mut asked = findings(Status::Compliant);
    for id in ["other-product", "archived"] {
        let mut other = asked[0].clone();
        other.id = id.to_string();
        asked.push(other);
    }
    assert_eq!(hub.active(&asked).await.expect("active"), [ours]);
    assert_eq!(hub.active(&[]).await.expect("nothing asked"), Vec::<String>::new());
    assert_eq!(query.num_calls(), 1, "nothing asked, nothing called");
}

#[tokio::test]
async fn resolving_sets_the_workflow_of_each_finding() {
    let ids: Vec<String> = (0..150).map(|n| format!("finding-{n}")).collect();
    let update = mock!(aws_sdk_securityhub::Client::batch_update_findings)
        .match_requests(|req| {
            req.workflow().and_then(|w| w.status()) == Some(&WorkflowStatus::Resolved)
                && req.finding_identifiers().iter().all(|f| f.product_arn() == Some(PRODUCT))
                && req.finding_identifiers().len() <= 100
        })
        .then_output(|| BatchUpdateFindingsOutput::builder().build());
    let client = mock_client!(aws_sdk_securityhub, RuleMode::MatchAny, [&update]);
    SecurityHub::from_client(client).resolve(PRODUCT, &ids).await.expect("resolve");
    assert_eq!(update.num_calls(), 2, "100 a call");
}
