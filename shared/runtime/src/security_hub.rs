//! Findings to AWS Security Hub, when the baseline asks (`[alerts] security_hub = true`): failing findings
//! are imported (created, or updated under their stable id); a passing finding is sent only when Security
//! Hub holds it active, to archive it and set its workflow to `RESOLVED`. A compliant repository costs one
//! read of Security Hub and no write.

use serde::Serialize;
use tracing::info;
use warden_core::securityhub::{FindingsHub, HubFinding};
use warden_core::sink::SinkError;

/// What an export did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Exported {
    /// Failing findings imported (created or updated).
    pub active: usize,
    /// Findings that passed again: archived and resolved.
    pub resolved: usize,
    /// Why the export failed, if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Sends `findings` (all of one product) to `hub`.
pub async fn export(hub: &dyn FindingsHub, findings: Vec<HubFinding>) -> Exported {
    match try_export(hub, findings).await {
        Ok(exported) => exported,
        Err(error) => Exported { error: Some(format!("Security Hub: {error}")), ..Exported::default() },
    }
}

async fn try_export(hub: &dyn FindingsHub, findings: Vec<HubFinding>) -> Result<Exported, SinkError> {
    let Some(product) = findings.first().map(|f| f.product_arn.clone()) else {
        return Ok(Exported::default());
    };
    let (mut sending, passing): (Vec<HubFinding>, Vec<HubFinding>) = findings.into_iter().partition(|f| f.is_failing());
    let active = sending.len();
    let open = if passing.is_empty() { Vec::new() } else { hub.active(&passing).await? };
    let closing: Vec<HubFinding> = passing.into_iter().filter(|f| open.contains(&f.id)).collect();
    let closing_ids: Vec<String> = closing.iter().map(|f| f.id.clone()).collect();
    sending.extend(closing);
    if !sending.is_empty() {
        hub.import(&sending).await?;
    }
    if !closing_ids.is_empty() {
        hub.resolve(&product, &closing_ids).await?;
    }
    info!(active, resolved = closing_ids.len(), "findings sent to Security Hub");
    Ok(Exported { active, resolved: closing_ids.len(), error: None })
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use async_trait::async_trait;
    use warden_core::alert::Origin;
    use warden_core::controls::ControlId;
    use warden_core::report::{ControlReport, Outcome, RepositoryReport, Status};
    use warden_core::securityhub::{governance_findings, Compliance};

    use super::*;

    /// Security Hub in memory: findings by id, with their compliance and workflow.
    #[derive(Default)]
    struct Hub {
        findings: Mutex<Vec<(String, Compliance, bool)>>,
        calls: Mutex<Vec<&'static str>>,
    }

    #[async_trait]
    impl FindingsHub for Hub {
        async fn import(&self, findings: &[HubFinding]) -> Result<(), SinkError> {
            self.calls.lock().expect("calls").push("import");
            let mut held = self.findings.lock().expect("findings");
            for f in findings {
                held.retain(|(id, _, _)| id != &f.id);
                held.push((f.id.clone(), f.compliance, false));
            }
            Ok(())
        }
        async fn active(&self, findings: &[HubFinding]) -> Result<Vec<String>, SinkError> {
            self.calls.lock().expect("calls").push("active");
            let ids: Vec<String> = findings.iter().map(|f| f.id.clone()).collect();
            let held = self.findings.lock().expect("findings");
            Ok(held
                .iter()
                .filter(|(id, c, _)| *c == Compliance::Failed && ids.contains(id))
                .map(|f| f.0.clone())
                .collect())
        }
        async fn resolve(&self, _: &str, ids: &[String]) -> Result<(), SinkError> {
            self.calls.lock().expect("calls").push("resolve");
            for finding in self.findings.lock().expect("findings").iter_mut().filter(|f| ids.contains(&f.0)) {
                finding.2 = true;
            }
            Ok(())
        }
    }

    fn report(status: Status) -> RepositoryReport {
        RepositoryReport {
            repository: "app".into(),
            outcome: Outcome::Governed,
            reason: None,
            exemption: None,
            vulnerabilities: None,
            controls: vec![ControlReport {
                control: ControlId::TagMutability,
                status,
                finding: Some("tags can be overwritten".into()),
                remedy: None,
                actions: vec![],
                error: None,
                lifecycle_impact: None,
                security_hub_control: None,
                in_use: Vec::new(),
            }],
        }
    }

    fn findings(status: Status) -> Vec<HubFinding> {
        governance_findings(&Origin { account: "123456789012".into(), region: "us-east-1".into() }, &report(status))
    }

    #[tokio::test]
    async fn a_failing_finding_is_imported_then_resolved_once_it_passes() {
        let hub = Hub::default();
        assert_eq!(export(&hub, findings(Status::Drift)).await, Exported { active: 1, resolved: 0, error: None });
        assert_eq!(hub.findings.lock().expect("held")[0].1, Compliance::Failed);

        assert_eq!(export(&hub, findings(Status::Fixed)).await, Exported { active: 0, resolved: 1, error: None });
        let held = hub.findings.lock().expect("held").clone();
        assert_eq!(held.len(), 1, "the same finding, updated");
        assert_eq!((held[0].1, held[0].2), (Compliance::Passed, true));

        // Compliant again: one read, nothing written.
        hub.calls.lock().expect("calls").clear();
        assert_eq!(export(&hub, findings(Status::Compliant)).await, Exported::default());
        assert_eq!(*hub.calls.lock().expect("calls"), ["active"]);
    }

    #[tokio::test]
    async fn a_passing_finding_security_hub_never_had_is_not_sent() {
        let hub = Hub::default();
        assert_eq!(export(&hub, findings(Status::Compliant)).await, Exported::default());
        assert!(hub.findings.lock().expect("held").is_empty());
        assert_eq!(export(&hub, Vec::new()).await, Exported::default());
    }
}
