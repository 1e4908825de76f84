//! Which accounts belong to the organization, for organization mode: an event that names an account outside it
//! is not governed, whatever the event says.
//!
//! `organizations:DescribeAccount` answers for one account, and only to the organization's management account or
//! a delegated administrator (Organizations API reference, `DescribeAccount`): the hub runs in one of them. Each
//! answer is kept for [`KEPT_FOR`], so a warm function asks once per account, and an account that joins or
//! leaves is seen within that time. `organizations:ListAccounts` lists them all for an organization-wide backfill
//! (same callers), and what it says is remembered the same way.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use aws_sdk_organizations::error::ProvideErrorMetadata;
use aws_sdk_organizations::types::{AccountState, AccountStatus, ParentType};
use aws_sdk_organizations::Client;
use tokio::sync::Mutex;

use crate::api_calls::counted_client;
use crate::SdkConfig;

/// How long an answer about an account is kept.
pub const KEPT_FOR: Duration = Duration::from_secs(15 * 60);

/// The most parents followed up from an account: well past the depth Organizations lets OUs nest to.
const MAX_DEPTH: usize = 16;

/// Accounts asked for per ListAccounts page: the most the API allows.
const LIST_PAGE_SIZE: i32 = 20;

/// Whether an account is one ecr-warden governs in organization mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Membership {
    /// An active account of the organization.
    Member,
    /// Not governed: outside the organization, or not active in it (the reason says which).
    Outside(String),
}

/// The organization's accounts, asked about one at a time and remembered.
pub struct Organization {
    client: Client,
    known: Mutex<HashMap<String, (Membership, Instant)>>,
    placed: Mutex<HashMap<String, (Vec<String>, Instant)>>,
    id: Mutex<Option<String>>,
}

impl Organization {
    /// Asks AWS Organizations with the caller's credentials in `config`.
    pub fn new(config: &SdkConfig) -> Self {
        Self {
            client: counted_client!(aws_sdk_organizations, config),
            known: Mutex::new(HashMap::new()),
            placed: Mutex::new(HashMap::new()),
            id: Mutex::new(None),
        }
    }

    /// Whether `account` is an active member of the caller's organization. An error is a failed question (no
    /// permission, throttled after retries), not an answer: it isn't kept.
    pub async fn membership(&self, account: &str) -> Result<Membership, String> {
        if let Some((membership, at)) = self.known.lock().await.get(account) {
            if at.elapsed() < KEPT_FOR {
                return Ok(membership.clone());
            }
        }
        let membership = self.ask(account).await?;
        self.known.lock().await.insert(account.to_string(), (membership.clone(), Instant::now()));
        Ok(membership)
    }

    /// The organization's active accounts, sorted; the others' memberships are remembered too, so governing the
    /// accounts listed asks nothing more. ListAccounts pages hold at most 20 accounts and "can occasionally return
    /// an empty set of results even when there are more results available": pages are followed until `NextToken`
    /// is absent (Organizations API reference, `ListAccounts`).
    pub async fn active_accounts(&self) -> Result<Vec<String>, String> {
        let mut pages = self.client.list_accounts().max_results(LIST_PAGE_SIZE).into_paginator().send();
        let mut listed = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|error| {
                format!(
                    "can't list the organization's accounts: {} (the hub must run in the management account or a \
                     delegated administrator, with organizations:ListAccounts)",
                    crate::errors::message("Organizations", &error)
                )
            })?;
            for account in page.accounts() {
                let Some(id) = account.id() else { continue };
                listed.push((id.to_string(), membership_of(account.state(), account.status())));
            }
        }
        let now = Instant::now();
        let mut known = self.known.lock().await;
        let mut active = Vec::new();
        for (id, membership) in listed {
            if membership == Membership::Member {
                active.push(id.clone());
            }
            known.insert(id, (membership, now));
        }
        active.sort_unstable();
        active.dedup();
        Ok(active)
    }

    /// Every organizational unit above `account` and its root, nearest first: its parent (`ListParents`, which
    /// names one parent, of type `ORGANIZATIONAL_UNIT` or `ROOT`), the parent's parent, up to the root
    /// (Organizations API reference, `ListParents`, `Parent`). Remembered like memberships.
    pub async fn units_above(&self, account: &str) -> Result<Vec<String>, String> {
        if let Some((units, at)) = self.placed.lock().await.get(account) {
            if at.elapsed() < KEPT_FOR {
                return Ok(units.clone());
            }
        }
        let mut units = Vec::new();
        let mut child = account.to_string();
        // Organizations limits how deep OUs nest; the bound only guards against an answer that loops.
        for _ in 0..MAX_DEPTH {
            let answer = self.client.list_parents().child_id(&child).send().await.map_err(|error| {
                format!(
                    "can't tell which organizational units account {account} is in: {} (the caller must be the \
                     management account or a delegated administrator, with organizations:ListParents)",
                    crate::errors::message("Organizations", &error)
                )
            })?;
            let Some(parent) = answer.parents().first() else { break };
            let Some(id) = parent.id() else { break };
            units.push(id.to_string());
            if parent.r#type() == Some(&ParentType::Root) {
                break;
            }
            child = id.to_string();
        }
        self.placed.lock().await.insert(account.to_string(), (units.clone(), Instant::now()));
        Ok(units)
    }

    /// The ID of the caller's organization (`DescribeOrganization`, which any account of the organization may
    /// call: Organizations API reference), asked once.
    pub async fn organization_id(&self) -> Result<String, String> {
        let mut known = self.id.lock().await;
        if let Some(id) = known.as_ref() {
            return Ok(id.clone());
        }
        let answer = self.client.describe_organization().send().await.map_err(|error| {
            format!(
                "can't tell which organization these credentials belong to: {} (allow_organization needs \
                 organizations:DescribeOrganization)",
                crate::errors::message("Organizations", &error)
            )
        })?;
        let id = answer.organization().and_then(|o| o.id()).ok_or("AWS Organizations described no organization")?;
        *known = Some(id.to_string());
        Ok(id.to_string())
    }

    async fn ask(&self, account: &str) -> Result<Membership, String> {
        match self.client.describe_account().account_id(account).send().await {
            Ok(answer) => Ok(match answer.account() {
                Some(found) => membership_of(found.state(), found.status()),
                None => Membership::Outside(format!("AWS Organizations described no account {account}")),
            }),
            Err(error) if error.code() == Some("AccountNotFoundException") => {
                Ok(Membership::Outside(format!("account {account} is not in the organization")))
            }
            Err(error) => Err(format!(
                "can't tell whether account {account} is in the organization: {} (the hub must run in the \
                 management account or a delegated administrator, with organizations:DescribeAccount)",
                crate::errors::message("Organizations", &error)
            )),
        }
    }
}

/// An account is governed while it is active: `State` (or the older `Status`, when `State` is absent) is
/// `ACTIVE` (Organizations API reference, `Account`).
fn membership_of(state: Option<&AccountState>, status: Option<&AccountStatus>) -> Membership {
    let active = match (state, status) {
        (Some(state), _) => (*state == AccountState::Active).then_some(()).ok_or(state.as_str()),
        (None, Some(status)) => (*status == AccountStatus::Active).then_some(()).ok_or(status.as_str()),
        (None, None) => Err("unknown"),
    };
    match active {
        Ok(()) => Membership::Member,
        Err(state) => Membership::Outside(format!("the account is {state} in the organization, not ACTIVE")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_active_accounts_are_governed() {
        assert_eq!(membership_of(Some(&AccountState::Active), Some(&AccountStatus::Suspended)), Membership::Member);
        assert_eq!(membership_of(None, Some(&AccountStatus::Active)), Membership::Member);
        for state in [AccountState::Suspended, AccountState::PendingClosure, AccountState::Closed] {
            let outside = membership_of(Some(&state), None);
            assert!(matches!(&outside, Membership::Outside(why) if why.contains(state.as_str())), "{outside:?}");
        }
        assert!(matches!(membership_of(None, None), Membership::Outside(_)));
    }
}
