//! An organization-wide backfill (organization mode): every account and region asked for is reached as an
//! event's registry is (the hub's own with the function's role, any other through the member role, other accounts
//! only while active members), and each one's repositories are sent to the hub's work queue with that registry's
//! account and region, so the workers govern them there. A registry that can't be reached or listed is that
//! registry's error; the others are sent.

use futures::stream::{self, StreamExt};
use serde::Serialize;
use warden_core::alert::Origin;
use warden_core::baseline::Baseline;
use warden_core::registry::Registry;
use warden_core::report::RegistryReport;
use warden_core::work::WorkQueue;

use super::{fan_out, FanOut, FanOutError};
use crate::account_baseline::{narrow, AccountBaselines, InAccount};
use crate::backfill::{Accounts, BackfillRequest};
use crate::organization::OrganizationMode;

/// Registries listed at once: each account and region has its own API rates, so listing them side by side costs
/// none of them more.
pub const REGISTRIES_AT_ONCE: usize = 8;

/// What one registry of an organization-wide fan-out sent, or why it sent nothing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegistryFanOut {
    /// The account.
    pub account: String,
    /// The region.
    pub region: String,
    /// Repositories sent.
    pub repositories: usize,
    /// Messages sent.
    pub messages: usize,
    /// Its registry-level controls (replication), governed here when the fan-out covers its whole registry.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub registry: Vec<RegistryReport>,
    /// Why nothing (or not everything) was sent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why nothing was sent on purpose: the baseline leaves the account alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
}

/// Everything an organization-wide fan-out needs.
pub struct AccountsFanOut<'a> {
    /// Reaches the other registries.
    pub organization: &'a OrganizationMode,
    /// The function's own registry.
    pub own: &'a dyn Registry,
    /// Its account and region.
    pub home: &'a Origin,
    /// The baseline (for the registry-level controls governed while fanning out).
    pub baseline: &'a Baseline,
    /// The baseline as it applies in each account.
    pub accounts: Option<&'a AccountBaselines>,
    /// The work queue.
    pub queue: &'a dyn WorkQueue,
}

impl AccountsFanOut<'_> {
    /// Sends the repositories of every account and region `request` names (its regions, or the organization
    /// mode's, or the home region) to the queue. An error means the organization's accounts couldn't be listed:
    /// nothing was sent.
    pub async fn send(&self, request: &BackfillRequest) -> Result<FanOut, FanOutError> {
        let accounts = match &request.accounts {
            Accounts::Own => vec![self.home.account.clone()],
            Accounts::Listed(accounts) => accounts.clone(),
            Accounts::Organization => self.organization.active_accounts().await.map_err(FanOutError::Accounts)?,
        };
        let regions = match (request.regions.is_empty(), self.organization.regions().is_empty()) {
            (false, _) => request.regions.clone(),
            (true, false) => self.organization.regions().to_vec(),
            (true, true) => vec![self.home.region.clone()],
        };
        let origins: Vec<Origin> = accounts
            .iter()
            .flat_map(|account| {
                regions.iter().map(|region| Origin { account: account.clone(), region: region.clone() })
            })
            .collect();
        let registries: Vec<RegistryFanOut> =
            stream::iter(origins).map(|origin| self.one(request, origin)).buffered(REGISTRIES_AT_ONCE).collect().await;
        Ok(FanOut {
            queue: self.queue.name().to_string(),
            repositories: registries.iter().map(|r| r.repositories).sum(),
            messages: registries.iter().map(|r| r.messages).sum(),
            dry_run: request.dry_run,
            registry: Vec::new(),
            registries,
        })
    }

    /// One registry's fan-out: nothing for an account outside the organization or one the baseline leaves alone
    /// (neither is reached).
    async fn one(&self, request: &BackfillRequest, origin: Origin) -> RegistryFanOut {
        let mut sent = RegistryFanOut {
            account: origin.account.clone(),
            region: origin.region.clone(),
            repositories: 0,
            messages: 0,
            registry: Vec::new(),
            error: None,
            skipped: None,
        };
        if &origin != self.home {
            match self.organization.admit(&origin, self.home).await {
                Ok(None) => {}
                Ok(Some(reason)) | Err(reason) => {
                    sent.error = Some(reason);
                    return sent;
                }
            }
        }
        let narrowed = match narrow(self.accounts, self.baseline, &origin.account).await {
            Ok(InAccount::AsIs) => None,
            Ok(InAccount::Narrowed(baseline)) => Some(baseline),
            Ok(InAccount::Excluded(reason)) => {
                sent.skipped = Some(reason);
                return sent;
            }
            Err(error) => {
                sent.error = Some(error);
                return sent;
            }
        };
        let baseline = narrowed.as_deref().unwrap_or(self.baseline);
        let outcome = match &origin == self.home {
            true => fan_out(self.own, baseline, request, self.queue).await,
            false => match self.organization.reach(&origin).await {
                Ok(member) => fan_out(&member.registry, baseline, request, self.queue).await,
                Err(reason) => Err(FanOutError::Accounts(reason)),
            },
        };
        match outcome {
            Ok(one) => {
                (sent.repositories, sent.messages, sent.registry) = (one.repositories, one.messages, one.registry)
            }
            Err(error) => sent.error = Some(error.to_string()),
        }
        sent
    }
}
