//! AWS Security Hub as a [`FindingsHub`]: findings imported under the account's default product
//! (`BatchImportFindings`, 100 a call), active ones found with `GetFindings` (all pages), workflows set to
//! `RESOLVED` with `BatchUpdateFindings` (100 a call).

use crate::api_calls::counted_client;
use async_trait::async_trait;
use aws_sdk_securityhub::primitives::{DateTime, DateTimeFormat};
use aws_sdk_securityhub::types::{
    AwsSecurityFinding, AwsSecurityFindingFilters, AwsSecurityFindingIdentifier, Compliance, ComplianceStatus,
    FindingProviderFields, FindingProviderSeverity, Recommendation, RecordState, Remediation, Resource, SeverityLabel,
    StringFilter, StringFilterComparison, WorkflowStatus, WorkflowUpdate,
};
use warden_core::securityhub::{FindingsHub, HubFinding};
use warden_core::sink::SinkError;

use crate::SdkConfig;

/// Most findings in one `BatchImportFindings` or `BatchUpdateFindings` call.
pub(crate) const BATCH: usize = 100;
/// Most resource ids a `GetFindings` query names (Security Hub allows 20 values a filter field).
const MAX_FILTER_VALUES: usize = 20;

/// Security Hub through the AWS SDK.
pub struct SecurityHub {
    client: aws_sdk_securityhub::Client,
}

impl SecurityHub {
    /// A client for the configured account and region.
    pub fn new(config: &SdkConfig) -> Self {
        Self::from_client(counted_client!(aws_sdk_securityhub, config))
    }

    /// Wraps a client (tests give one with a mocked transport).
    pub fn from_client(client: aws_sdk_securityhub::Client) -> Self {
        Self { client }
    }
}

/// `finding` in ASFF, with `now` as its update time: failing ones `ACTIVE`, passing ones `ARCHIVED`.
fn asff(finding: &HubFinding, now: &str) -> AwsSecurityFinding {
    let passed = !finding.is_failing();
    let severity = FindingProviderSeverity::builder()
        .label(SeverityLabel::from(finding.severity))
        .original(finding.severity)
        .build();
    let mut provider_fields = FindingProviderFields::builder().severity(severity);
    for kind in &finding.types {
        provider_fields = provider_fields.types(*kind);
    }
    let resource =
        Resource::builder().r#type(finding.resource_type).id(&finding.resource_id).region(&finding.region).build();
    let compliance = Compliance::builder()
        .status(if passed { ComplianceStatus::Passed } else { ComplianceStatus::Failed })
        .set_related_requirements(Some(finding.related_requirements.clone()).filter(|r| !r.is_empty()))
        .build();
    let mut asff = AwsSecurityFinding::builder()
        .schema_version("2018-10-08")
        .id(&finding.id)
        .product_arn(&finding.product_arn)
        .product_name("ecr-warden")
        .company_name("ecr-warden")
        .generator_id(&finding.generator_id)
        .aws_account_id(&finding.account)
        .region(&finding.region)
        .created_at(now)
        .updated_at(now)
        .title(&finding.title)
        .description(&finding.description)
        .finding_provider_fields(provider_fields.build())
        .resources(resource)
        .compliance(compliance)
        .record_state(if passed { RecordState::Archived } else { RecordState::Active })
        .set_source_url(finding.source_url.clone())
        .set_product_fields(Some(finding.product_fields.clone().into_iter().collect()));
    if let Some(text) = &finding.remediation {
        let recommendation = Recommendation::builder().text(text).build();
        asff = asff.remediation(Remediation::builder().recommendation(recommendation).build());
    }
    asff.build()
}

fn filter(value: &str, comparison: StringFilterComparison) -> StringFilter {
    StringFilter::builder().value(value).comparison(comparison).build()
}

#[async_trait]
impl FindingsHub for SecurityHub {
    async fn import(&self, findings: &[HubFinding]) -> Result<(), SinkError> {
        let now = DateTime::from(std::time::SystemTime::now())
            .fmt(DateTimeFormat::DateTime)
            .map_err(|e| SinkError::Request(e.to_string()))?;
        for chunk in findings.chunks(BATCH) {
            let output = self
                .client
                .batch_import_findings()
                .set_findings(Some(chunk.iter().map(|f| asff(f, &now)).collect()))
                .send()
                .await
                .map_err(|e| crate::errors::sink_error("Security Hub", &e))?;
            if let Some(failed) = output.failed_findings().first() {
                return Err(SinkError::PartlyRefused(format!(
                    "{} of {} findings not imported, e.g. {}: {} {}",
                    output.failed_count().unwrap_or_default(),
                    chunk.len(),
                    failed.id().unwrap_or("?"),
                    failed.error_code().unwrap_or(""),
                    failed.error_message().unwrap_or("")
                )));
            }
        }
        Ok(())
    }

    async fn active(&self, findings: &[HubFinding]) -> Result<Vec<String>, SinkError> {
        let Some(product_arn) = findings.first().map(|f| f.product_arn.as_str()) else {
            return Ok(Vec::new());
        };
        let ids: Vec<&str> = findings.iter().map(|f| f.id.as_str()).collect();
        // One query, however many findings are asked about (GetFindings is Security Hub's slowest API, 3
        // calls a second): narrowed to their resources when there are few (an event), otherwise every
        // active ecr-warden finding of the product (a backfill).
        let mut resources: Vec<&str> = findings.iter().map(|f| f.resource_id.as_str()).collect();
        resources.sort_unstable();
        resources.dedup();
        let mut filters = AwsSecurityFindingFilters::builder()
            .product_arn(filter(product_arn, StringFilterComparison::Equals))
            .record_state(filter("ACTIVE", StringFilterComparison::Equals))
            .generator_id(filter("ecr-warden/", StringFilterComparison::Prefix));
        if resources.len() <= MAX_FILTER_VALUES {
            for resource in resources {
                filters = filters.resource_id(filter(resource, StringFilterComparison::Equals));
            }
        }
        let filters = filters.build();
        let mut pages = self.client.get_findings().filters(filters).max_results(100).into_paginator().send();
        let mut active = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| crate::errors::sink_error("Security Hub", &e))?;
            for finding in page.findings() {
                // Checked here too, so a service that ignores a filter can't make a finding look active.
                let ours = finding.product_arn() == Some(product_arn)
                    && finding.record_state() == Some(&RecordState::Active)
                    && finding.generator_id().is_some_and(|g| g.starts_with("ecr-warden/"));
                if let Some(id) = finding.id().filter(|id| ours && ids.contains(id)) {
                    active.push(id.to_string());
                }
            }
        }
        Ok(active)
    }

    async fn resolve(&self, product_arn: &str, ids: &[String]) -> Result<(), SinkError> {
        for chunk in ids.chunks(BATCH) {
            let identifiers = chunk
                .iter()
                .map(|id| AwsSecurityFindingIdentifier::builder().id(id).product_arn(product_arn).build())
                .collect();
            let output = self
                .client
                .batch_update_findings()
                .set_finding_identifiers(Some(identifiers))
                .workflow(WorkflowUpdate::builder().status(WorkflowStatus::Resolved).build())
                .send()
                .await
                .map_err(|e| crate::errors::sink_error("Security Hub", &e))?;
            if let Some(failed) = output.unprocessed_findings().first() {
                return Err(SinkError::PartlyRefused(format!(
                    "{} findings not resolved, e.g. {}: {}",
                    output.unprocessed_findings().len(),
                    failed.finding_identifier().and_then(|f| f.id()).unwrap_or("?"),
                    failed.error_message().unwrap_or("")
                )));
            }
        }
        Ok(())
    }
}
