//! One entry point for every event: the Lambda functions and `ecr-warden handle` call [`Handler::handle`].

use std::sync::Arc;

use futures::StreamExt;
use serde_json::Value;
use tracing::{error, info};
use warden_core::alert::{exempt_tag_set, governance_findings, Alert, Origin};
use warden_core::baseline::Baseline;
use warden_core::controls::ControlId;
use warden_core::registry::Registry;
use warden_core::report::RegistryReport;
use warden_core::securityhub::{governance_findings as hub_findings, vulnerability_finding, FindingsHub, HubFinding};
use warden_core::vulnerabilities::Date;
use warden_core::work::WorkQueue;

use crate::account_baseline::{narrow, AccountBaselines, InAccount};
use crate::alerts::{Alerts, Delivery};
use crate::backfill::{backfill, Accounts, BackfillRequest, DEFAULT_CONCURRENCY};
use crate::event::{route, ImagePush, LoopGuard, RegistryPart, Route, ScanResult};
use crate::fan_out::accounts::AccountsFanOut;
use crate::fan_out::{by_registry, fan_out, work, BatchItemFailure, QueueMessage, WorkReport};
use crate::govern::{govern, GovernOptions};
use crate::image_push::image_pushed;
use crate::organization::{MemberRegistry, OrganizationMode};
use crate::registry_controls::{govern_new_repository, govern_one};
use crate::registry_scanning::govern_registry_scanning;
use crate::scan_completed::scan_completed;
use crate::security_hub::{export, Exported};

mod outcome;

pub use crate::purpose::Purpose;
pub use outcome::{HandleError, Handled};

/// An event deliberately left alone, logged; the reason quotes the event, so its control characters are escaped.
/// Alerts delivered at once (each to every sink).
const ALERTS_AT_ONCE: usize = 8;

/// What a call that changed a repository said about itself.
struct Call {
    /// What happened, for the report.
    because: String,
    /// Whether it created the repository.
    created: bool,
    /// The tags it set.
    tags_set: Vec<(String, String)>,
    /// Who made it.
    by: Option<String>,
}

fn ignored(reason: String) -> Handled {
    let reason = warden_core::text::shown(&reason, 500);
    info!(%reason, "event ignored");
    Handled::Ignored { reason }
}

/// The account and region an event about a repository or the registry names.
fn origin_of(route: &Route) -> Option<&Origin> {
    match route {
        Route::Govern { origin, .. } | Route::GovernRegistry { origin, .. } => Some(origin),
        Route::ImagePushed(push) => Some(&push.origin),
        Route::ScanCompleted(scan) => Some(&scan.origin),
        Route::Backfill(_) | Route::WorkBatches(_) | Route::Ignore { .. } => None,
    }
}

/// Where something is handled, and with which baseline ([`Handler::place`]).
enum Placed {
    /// Not here (another registry outside organization mode, or an account outside the organization): why.
    Elsewhere(String),
    /// The baseline leaves the account alone: why.
    Excluded(String),
    /// Handled in a member's registry (else this one), with the baseline narrowed to its account (else as it is).
    Governed { member: Option<Arc<MemberRegistry>>, baseline: Option<Arc<Baseline>> },
}

/// The registry an event is handled in.
enum Target {
    /// The handler's own.
    Here,
    /// Another account's or region's (admitted, not reached yet), in organization mode.
    Member,
    /// None: the event is ignored, for this reason.
    Elsewhere(String),
}

/// Everything handling needs, built once per process.
pub struct Handler<'a> {
    /// Which events this entry point takes on.
    pub purpose: Purpose,
    /// The registry.
    pub registry: &'a dyn Registry,
    /// The baseline.
    pub baseline: &'a Baseline,
    /// ecr-warden's own role, whose calls are ignored.
    pub guard: &'a LoopGuard,
    /// Where alerts go.
    pub alerts: &'a Alerts,
    /// Where a fan-out sends backfill work, if anywhere.
    pub work_queue: Option<&'a dyn WorkQueue>,
    /// Security Hub, where findings go when the baseline's `[alerts] security_hub` is on.
    pub findings_hub: Option<&'a dyn FindingsHub>,
    /// Organization mode: the other accounts' and regions' registries, reached through the member role.
    pub organization: Option<&'a OrganizationMode>,
    /// The baseline as it applies in each account, when it names accounts (see [`crate::account_baseline`]).
    pub accounts: Option<&'a AccountBaselines>,
}

impl Handler<'_> {
    /// Handles one event; `dry_run` plans without changing anything or sending alerts, whatever the
    /// event asks. When one repository's fix or read failed, or an alert sink failed, the answer is an
    /// error (so Lambda retries, then the event goes to the dead-letter queue), after everything else was
    /// done and the outcome logged. A backfill answers its report whatever failed in it.
    pub async fn handle(&self, event: &Value, dry_run: bool) -> Result<Handled, HandleError> {
        let handled = self.handle_route(route(event, self.guard)?, dry_run).await?;
        let mut failed = match &handled {
            Handled::Repository { report, registry, .. } => {
                registry.iter().filter_map(RegistryReport::failure).chain(report.failures()).collect()
            }
            Handled::Image { report, .. } => report.governance.failures(),
            Handled::Registry { report, .. } => report.failure().into_iter().collect(),
            Handled::Scan { report, .. } => {
                report.error.iter().map(|e| format!("{}: {e}", report.repository)).collect()
            }
            _ => Vec::new(),
        };
        // A backfill's report says what wasn't sent: failing it would lose the report.
        if !matches!(handled, Handled::Backfill { .. }) {
            for delivery in handled.alerts() {
                let alert = &delivery.alert.id;
                failed.extend(delivery.failed.iter().map(|f| format!("alert {alert} to {}: {}", f.sink, f.error)));
            }
            failed.extend(handled.security_hub().and_then(|e| e.error.clone()));
        }
        if failed.is_empty() {
            Ok(handled)
        } else {
            let failed = failed.join("; ");
            error!(%failed, "handled in part");
            Err(HandleError::Incomplete(failed))
        }
    }

    async fn handle_route(&self, route: Route, dry_run: bool) -> Result<Handled, HandleError> {
        if let Some(function) = self.purpose.elsewhere(&route) {
            // A person's request or a queue message sent here by mistake is refused, so they hear of it; an
            // EventBridge event of another kind (a rule pointed at the wrong function) is only ignored.
            if matches!(route, Route::Backfill(_) | Route::WorkBatches(_)) {
                let what = if matches!(route, Route::Backfill(_)) { "a backfill request" } else { "queue messages" };
                return Err(HandleError::NotForThisFunction(format!(
                    "refused: this function takes {} events; send {what} to the {function} function",
                    self.purpose.takes()
                )));
            }
            return Ok(ignored(format!("this event is for the {function} function")));
        }
        // Other accounts' backfills are placed per registry, work messages per registry they name.
        let placed_here = origin_of(&route).is_some()
            || matches!(&route, Route::Backfill(request) if request.accounts == Accounts::Own);
        if !placed_here {
            return self.dispatch(route, dry_run).await;
        }
        let origin = origin_of(&route).cloned();
        match self.place(origin.as_ref()).await? {
            Placed::Elsewhere(reason) | Placed::Excluded(reason) => Ok(ignored(reason)),
            Placed::Governed { member, baseline } => {
                self.governing(member.as_deref(), baseline.as_deref()).dispatch(route, dry_run).await
            }
        }
    }

    /// Where what names `origin` (`None`: this registry) is handled, and with which baseline: the registry is
    /// admitted first (organization mode: an active member), then the baseline narrowed to its account (an account
    /// it leaves alone is never reached), then the member role assumed.
    async fn place(&self, origin: Option<&Origin>) -> Result<Placed, HandleError> {
        let target = match origin {
            Some(origin) => self.target_of(origin).await?,
            None => Target::Here,
        };
        if let Target::Elsewhere(reason) = target {
            return Ok(Placed::Elsewhere(reason));
        }
        let baseline = match self.in_account(origin.map(|origin| origin.account.as_str())).await? {
            InAccount::Excluded(reason) => return Ok(Placed::Excluded(reason)),
            InAccount::Narrowed(baseline) => Some(baseline),
            InAccount::AsIs => None,
        };
        let member = match (target, origin) {
            (Target::Member, Some(origin)) => Some(self.member(origin).await?),
            _ => None,
        };
        Ok(Placed::Governed { member, baseline })
    }

    /// The baseline as it applies in `account` (`None`: this registry's own).
    async fn in_account(&self, account: Option<&str>) -> Result<InAccount, HandleError> {
        if !self.baseline.names_accounts() {
            return Ok(InAccount::AsIs);
        }
        let account = match account {
            Some(account) => account.to_string(),
            None => self.home_account().await?,
        };
        narrow(self.accounts, self.baseline, &account).await.map_err(HandleError::Member)
    }

    /// The member registry `origin` names, reached through its role (organization mode).
    async fn member(&self, origin: &Origin) -> Result<Arc<MemberRegistry>, HandleError> {
        let organization = self.organization.ok_or(HandleError::NotOrganizationMode)?;
        organization.reach(origin).await.map_err(HandleError::Member)
    }

    /// The account of this handler's registry.
    async fn home_account(&self) -> Result<String, HandleError> {
        let home = self.registry.home().await.map_err(HandleError::Home)?;
        home.map(|origin| origin.account)
            .ok_or_else(|| HandleError::Member("this registry's account is unknown".into()))
    }

    /// This handler with `baseline` (else its own), working on a member's registry and its Security Hub (else its
    /// own).
    fn governing<'m>(&'m self, member: Option<&'m MemberRegistry>, baseline: Option<&'m Baseline>) -> Handler<'m> {
        let handler = Handler { baseline: baseline.unwrap_or(self.baseline), ..*self };
        match member {
            Some(member) => Handler {
                registry: &member.registry,
                findings_hub: member.security_hub.as_ref().map(|hub| hub as &dyn FindingsHub),
                ..handler
            },
            None => handler,
        }
    }

    /// Hands a route to the use case it asks for, on this handler's registry.
    async fn dispatch(&self, route: Route, dry_run: bool) -> Result<Handled, HandleError> {
        match route {
            Route::Ignore { reason } => Ok(ignored(reason)),
            Route::Govern { origin, repository, because, created, tags_set, by } => {
                let call = Call { because, created, tags_set, by };
                Ok(self.govern_repository(origin, repository, call, dry_run).await)
            }
            Route::GovernRegistry { part, because, .. } => self.govern_registry(part, because, dry_run).await,
            Route::ImagePushed(push) => Ok(self.image_pushed(push, dry_run).await),
            Route::ScanCompleted(scan) => Ok(self.scan_completed(scan, dry_run).await),
            Route::Backfill(request) => self.backfill(request, dry_run).await,
            Route::WorkBatches(messages) => Ok(self.work(messages, dry_run).await),
        }
    }

    async fn govern_repository(&self, origin: Origin, repository: String, call: Call, dry_run: bool) -> Handled {
        let Call { because, created, tags_set, by } = call;
        info!(%repository, %because, "governing");
        let options = GovernOptions { dry_run, ..Default::default() };
        let report = govern(self.registry, self.baseline, &repository, options).await;
        let registry = match created {
            true => govern_new_repository(self.registry, self.baseline, &repository, dry_run).await,
            false => None,
        };
        let mut findings = governance_findings(&report);
        findings.extend(exempt_tag_set(&self.baseline.exemptions, &report, &tags_set, by.as_deref()));
        let alert = Alert::governance(&origin, &repository, None, findings);
        let alerts = self.deliver(alert, dry_run).await;
        let security_hub = self.export(hub_findings(&origin, &report), dry_run).await;
        let registry = registry.into_iter().collect();
        Handled::Repository { because, report, registry, alerts, security_hub }
    }

    async fn govern_registry(
        &self,
        part: RegistryPart,
        because: String,
        dry_run: bool,
    ) -> Result<Handled, HandleError> {
        info!(?part, %because, "governing the registry");
        let id = match part {
            RegistryPart::Scanning => {
                let report = govern_registry_scanning(self.registry, self.baseline, dry_run).await;
                return Ok(Handled::Registry { because, report });
            }
            RegistryPart::Control(id) => id,
        };
        // Replication is judged over every repository; the other registry-level controls don't read them.
        let names: Vec<String> = match id {
            ControlId::Replication => {
                self.registry.list_repositories().await?.into_iter().map(|facts| facts.name).collect()
            }
            _ => Vec::new(),
        };
        let Some(report) = govern_one(id, self.registry, self.baseline, &names, dry_run).await else {
            return Ok(ignored(format!("{because}: the baseline doesn't govern {id}")));
        };
        Ok(Handled::Registry { because, report })
    }

    async fn image_pushed(&self, push: ImagePush, dry_run: bool) -> Handled {
        info!(repository = %push.repository, digest = %push.digest, tag = ?push.tag, "image pushed");
        let options = GovernOptions { dry_run, ..Default::default() };
        let report = image_pushed(self.registry, self.baseline, &push, options).await;
        let image = Some(report.image.clone());
        let alert = Alert::governance(&push.origin, &push.repository, image, report.alert_findings.clone());
        let alerts = self.deliver(alert, dry_run).await;
        let security_hub = self.export(hub_findings(&push.origin, &report.governance), dry_run).await;
        Handled::Image { report: Box::new(report), alerts, security_hub }
    }

    async fn scan_completed(&self, scan: ScanResult, dry_run: bool) -> Handled {
        info!(repository = %scan.repository, digest = %scan.digest, source = ?scan.source, "scan result");
        let report = scan_completed(self.registry, self.baseline, &scan, Date::today()).await;
        let alerts = self.deliver(report.alert.clone(), dry_run).await;
        // Security Hub gets the image's state only when it was assessed: a finding event that couldn't read the
        // image's findings must not pass (and so resolve) the image.
        let security_hub = match report.assessment {
            Some(_) => {
                let finding =
                    vulnerability_finding(&scan.origin, &scan.repository, &scan.digest, report.state.as_ref());
                self.export(vec![finding], dry_run).await
            }
            None => None,
        };
        Handled::Scan { report: Box::new(report), alerts, security_hub }
    }

    async fn backfill(&self, mut request: BackfillRequest, dry_run: bool) -> Result<Handled, HandleError> {
        request.dry_run |= dry_run;
        if request.accounts != Accounts::Own {
            let organization = self.organization.ok_or(HandleError::NotOrganizationMode)?;
            let queue = self.work_queue.ok_or(HandleError::NoWorkQueue)?;
            let home = self.registry.home().await.map_err(HandleError::Home)?;
            let home = home.ok_or_else(|| HandleError::Member("the function's own account is unknown".into()))?;
            info!(dry_run = request.dry_run, queue = queue.name(), "fanning out across accounts");
            let fan_out = AccountsFanOut {
                organization,
                own: self.registry,
                home: &home,
                baseline: self.baseline,
                accounts: self.accounts,
                queue,
            };
            let report = fan_out.send(&request).await?;
            for failed in report.registries.iter().filter(|r| r.error.is_some()) {
                error!(account = %failed.account, region = %failed.region, error = ?failed.error, "not sent");
            }
            return Ok(Handled::FannedOut { report });
        }
        if request.fan_out {
            let queue = self.work_queue.ok_or(HandleError::NoWorkQueue)?;
            info!(dry_run = request.dry_run, queue = queue.name(), "fanning out");
            let report = fan_out(self.registry, self.baseline, &request, queue).await?;
            return Ok(Handled::FannedOut { report });
        }
        info!(dry_run = request.dry_run, "backfilling");
        let report = backfill(self.registry, self.baseline, &request).await?;
        // The nightly audit (a dry-run backfill) reports to Security Hub and alerts (vulnerabilities past their
        // deadline, images in use a lifecycle policy would expire) too: only `--dry-run` doesn't.
        let findings = report.hub_findings();
        let security_hub = self.export(findings, dry_run).await;
        let alerts = self.deliver_all(report.audit_alerts(Date::today()), dry_run).await;
        Ok(Handled::Backfill { report, alerts, security_hub })
    }

    /// Governs work messages, each in the registry it names: in organization mode, messages of several accounts
    /// and regions are governed side by side, each registry's at the usual concurrency.
    async fn work(&self, messages: Vec<QueueMessage>, dry_run: bool) -> Handled {
        info!(messages = messages.len(), "governing work batches");
        let groups = by_registry(messages.clone());
        let parts =
            futures::future::join_all(groups.into_iter().map(|(origin, group)| self.work_in(origin, group, dry_run)))
                .await;
        Handled::Work(WorkReport::merged(&messages, parts))
    }

    /// Governs messages naming one registry (`None`: those that name none, and unreadable ones).
    async fn work_in(&self, origin: Option<Origin>, messages: Vec<QueueMessage>, dry_run: bool) -> WorkReport {
        match self.place(origin.as_ref()).await {
            Ok(Placed::Elsewhere(reason)) => WorkReport::refusing(&messages, &reason),
            // Their account is left alone: taken and ignored, not delivered again.
            Ok(Placed::Excluded(reason)) => WorkReport::ignoring(&messages, &reason),
            Ok(Placed::Governed { member, baseline }) => {
                self.governing(member.as_deref(), baseline.as_deref()).work_here(&messages, dry_run).await
            }
            Err(error) => WorkReport::refusing(&messages, &error.to_string()),
        }
    }

    /// Governs messages in this handler's registry and sends their findings to its Security Hub.
    async fn work_here(&self, messages: &[QueueMessage], dry_run: bool) -> WorkReport {
        let mut report = work(self.registry, self.baseline, messages, dry_run, DEFAULT_CONCURRENCY).await;
        let findings = std::mem::take(&mut report.findings);
        report.alerts_sent = self.deliver_all(std::mem::take(&mut report.alerts), dry_run).await;
        if let Some(error) = self.export(findings, dry_run).await.and_then(|e| e.error) {
            // Governing again is harmless: every message is delivered again, so the export is retried.
            error!(%error, "findings not sent: every message will be delivered again");
            report.batch_item_failures =
                messages.iter().map(|m| BatchItemFailure { item_identifier: m.id.clone() }).collect();
        }
        report
    }

    /// Where the registry of `origin` is, seen from this handler's. Without organization mode, only the one the
    /// credentials reach: an event naming another account or region is ignored before any call is made with it
    /// (finding out the account costs one STS call per process, none in Lambda). In organization mode, any
    /// active account of the organization, through its member role, in any region.
    async fn target_of(&self, origin: &Origin) -> Result<Target, HandleError> {
        let Some(home) = self.registry.home().await.map_err(HandleError::Home)? else { return Ok(Target::Here) };
        if home == *origin {
            return Ok(Target::Here);
        }
        if let Some(organization) = self.organization {
            return match organization.admit(origin, &home).await.map_err(HandleError::Member)? {
                None => Ok(Target::Member),
                Some(reason) => Ok(Target::Elsewhere(reason)),
            };
        }
        Ok(Target::Elsewhere(format!(
            "the event concerns the registry of account {} in {}; these credentials reach account {} in {}, \
             and ecr-warden acts only on that one",
            origin.account, origin.region, home.account, home.region
        )))
    }

    /// Sends findings to Security Hub when the baseline asks and this isn't a dry run.
    async fn export(&self, findings: Vec<HubFinding>, dry_run: bool) -> Option<Exported> {
        let hub = self.findings_hub.filter(|_| self.baseline.alerts.security_hub && !dry_run)?;
        Some(export(hub, findings).await)
    }

    async fn deliver(&self, alert: Option<Alert>, dry_run: bool) -> Vec<Delivery> {
        self.deliver_all(alert.into_iter().collect(), dry_run).await
    }

    /// Delivers each of `alerts`, a few at a time.
    async fn deliver_all(&self, alerts: Vec<Alert>, dry_run: bool) -> Vec<Delivery> {
        futures::stream::iter(alerts)
            .map(|alert| self.alerts.deliver(alert, dry_run))
            .buffered(ALERTS_AT_ONCE)
            .collect()
            .await
    }
}
