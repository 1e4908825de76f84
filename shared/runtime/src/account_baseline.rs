//! The baseline as it applies in one account: a baseline that names accounts (`[organization]`, exempt accounts,
//! rules for some accounts or organizational units) is narrowed to each account before anything there is governed,
//! once per account for [`KEPT_FOR`] (an account moved to another unit is seen within that time). A baseline that
//! names none is used as it is, at no cost.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::Mutex;
use warden_aws::organization::{Organization, KEPT_FOR};
use warden_aws::SdkConfig;
use warden_core::baseline::{Baseline, Placement};

/// What the baseline says about one account.
#[derive(Clone)]
pub enum InAccount {
    /// The baseline names no account: use it as it is.
    AsIs,
    /// The baseline as it applies in the account.
    Narrowed(Arc<Baseline>),
    /// The account is not governed, and why.
    Excluded(String),
}

/// Narrowed baselines, per account; asks AWS Organizations which units an account is in when the baseline names
/// organizational units.
pub struct AccountBaselines {
    organization: Organization,
    kept: Mutex<HashMap<String, (InAccount, Instant)>>,
}

impl AccountBaselines {
    /// Asks AWS Organizations with the credentials in `config` (only when the baseline names organizational units).
    pub fn new(config: &SdkConfig) -> Self {
        Self { organization: Organization::new(config), kept: Mutex::new(HashMap::new()) }
    }

    /// `baseline` as it applies in `account` (the same baseline every time: the answer is kept per account for
    /// [`KEPT_FOR`]). An error is a failed question to AWS Organizations, and isn't kept.
    pub async fn in_account(&self, baseline: &Baseline, account: &str) -> Result<InAccount, String> {
        if !baseline.names_accounts() {
            return Ok(InAccount::AsIs);
        }
        if let Some((known, at)) = self.kept.lock().await.get(account) {
            if at.elapsed() < KEPT_FOR {
                return Ok(known.clone());
            }
        }
        let organizational_units = match baseline.names_organizational_units() {
            true => self.organization.units_above(account).await?,
            false => Vec::new(),
        };
        let organization_id = match baseline.needs_organization_id() {
            true => Some(self.organization.organization_id().await?),
            false => None,
        };
        let placement = Placement { account: account.to_string(), organizational_units, organization_id };
        let answer = placed(baseline, placement);
        self.kept.lock().await.insert(account.to_string(), (answer.clone(), Instant::now()));
        Ok(answer)
    }
}

/// `baseline` in `account`, through `accounts` when there is one; without, an account is placed by its ID alone, so
/// a baseline naming organizational units can't be applied (an error, rather than rules quietly left out).
pub async fn narrow(
    accounts: Option<&AccountBaselines>,
    baseline: &Baseline,
    account: &str,
) -> Result<InAccount, String> {
    match accounts {
        Some(accounts) => accounts.in_account(baseline, account).await,
        None if !baseline.names_accounts() => Ok(InAccount::AsIs),
        None if baseline.names_organizational_units() || baseline.needs_organization_id() => Err(format!(
            "the baseline names organizational units or allows the organization, and nothing here can ask AWS \
             Organizations about account {account}"
        )),
        None => {
            let placement =
                Placement { account: account.to_string(), organizational_units: Vec::new(), organization_id: None };
            Ok(placed(baseline, placement))
        }
    }
}

/// `baseline` in the account `placement` describes: left alone, or narrowed to it.
fn placed(baseline: &Baseline, placement: Placement) -> InAccount {
    match baseline.account_exclusion(&placement) {
        Some(reason) => InAccount::Excluded(reason),
        None => InAccount::Narrowed(Arc::new(baseline.in_account(placement))),
    }
}
