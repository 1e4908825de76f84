//! Organization mode (`ECR_WARDEN_MEMBER_ROLE` set): one hub governs the registry each event names, in any
//! account of the organization and any region.
//!
//! An event of the hub's own account and region is handled with the function's own registry. Every other registry
//! is reached through the member role, assumed once per account and process and renewed before it expires
//! ([`Members`]): the hub account's other regions too (the member stack is deployed there as in every account), so
//! the functions' own roles stay scoped to their own region. An account other than the hub's must be an active
//! member of the organization (asked of AWS Organizations, remembered for a while). Registries (and their
//! Security Hub clients) are kept per account and region for the life of the process.

use std::collections::HashMap;
use std::sync::Arc;

use tokio::sync::Mutex;
use warden_aws::member::{check_role_name, Members};
use warden_aws::organization::{Membership, Organization};
use warden_aws::securityhub::SecurityHub;
use warden_aws::{EcrRegistry, SdkConfig};
use warden_core::alert::Origin;
use warden_core::arn::{is_account_id, is_region_name};
use warden_core::text::shown;

use crate::backfill::checked;

/// The environment variable that names the member role and turns organization mode on.
pub const MEMBER_ROLE_ENV: &str = "ECR_WARDEN_MEMBER_ROLE";

/// The environment variable holding the external ID the member roles require, if they do.
pub const EXTERNAL_ID_ENV: &str = "ECR_WARDEN_MEMBER_EXTERNAL_ID";

/// The environment variable listing (comma-separated) the regions an organization-wide backfill covers unless
/// its request names them; unset or empty, the hub's own region.
pub const REGIONS_ENV: &str = "ECR_WARDEN_REGIONS";

/// One account and region's registry, as the hub reaches it.
pub struct MemberRegistry {
    /// The registry.
    pub registry: EcrRegistry,
    /// Its Security Hub (findings belong to the member account), when the baseline sends findings there.
    pub security_hub: Option<SecurityHub>,
}

/// Every registry of the organization, reached on demand.
pub struct OrganizationMode {
    members: Members,
    organization: Organization,
    regions: Vec<String>,
    tags_in_bulk: bool,
    security_hub: bool,
    reached: Mutex<HashMap<Origin, Arc<MemberRegistry>>>,
}

impl OrganizationMode {
    /// Organization mode when [`MEMBER_ROLE_ENV`] names a role (`None` when unset or empty); an error names a
    /// value that isn't a role name. Registries read tags in bulk when `tags_in_bulk`, and get a Security Hub
    /// client when `security_hub`.
    pub fn from_env(base: &SdkConfig, tags_in_bulk: bool, security_hub: bool) -> Result<Option<Self>, String> {
        let Some(role) = std::env::var(MEMBER_ROLE_ENV).ok().filter(|r| !r.is_empty()) else { return Ok(None) };
        check_role_name(&role).map_err(|problem| format!("{MEMBER_ROLE_ENV}: {problem}"))?;
        let regions = regions_of(&std::env::var(REGIONS_ENV).unwrap_or_default())?;
        Ok(Some(Self {
            members: Members::new(base, &role).with_external_id(std::env::var(EXTERNAL_ID_ENV).ok()),
            organization: Organization::new(base),
            regions,
            tags_in_bulk,
            security_hub,
            reached: Mutex::new(HashMap::new()),
        }))
    }

    /// The member role's name.
    pub fn role_name(&self) -> &str {
        self.members.role_name()
    }

    /// The regions an organization-wide backfill covers unless asked otherwise ([`REGIONS_ENV`]); empty: the hub's.
    pub fn regions(&self) -> &[String] {
        &self.regions
    }

    /// The organization's active accounts (for an organization-wide backfill).
    pub async fn active_accounts(&self) -> Result<Vec<String>, String> {
        self.organization.active_accounts().await
    }

    /// Whether the registry `origin` names may be governed from `home` (the function's own account and region,
    /// which the caller handles itself): `Some(reason)` when it may not. An account other than `home`'s must be an
    /// active member of the organization. An error is a failed question: the event should be tried again.
    pub async fn admit(&self, origin: &Origin, home: &Origin) -> Result<Option<String>, String> {
        // What an event names becomes a role ARN and an endpoint's host name: only well-formed IDs and regions.
        if !is_account_id(&origin.account) || !is_region_name(&origin.region) {
            let (account, region) = (shown(&origin.account, 40), shown(&origin.region, 40));
            return Ok(Some(format!(
                "the event names account {account:?} in region {region:?}, which are not an account ID and a region"
            )));
        }
        if origin.account == home.account || self.reached.lock().await.contains_key(origin) {
            return Ok(None);
        }
        Ok(match self.organization.membership(&origin.account).await? {
            Membership::Member => None,
            Membership::Outside(reason) => Some(format!(
                "the event concerns account {} in {}: {reason}; only the organization's accounts are governed",
                origin.account, origin.region
            )),
        })
    }

    /// The registry `origin` names (admitted by [`OrganizationMode::admit`]), through the member role there. An
    /// error is a refused role: the event should be tried again.
    pub async fn reach(&self, origin: &Origin) -> Result<Arc<MemberRegistry>, String> {
        if let Some(member) = self.reached.lock().await.get(origin) {
            return Ok(member.clone());
        }
        let config = self.members.config(&origin.account, &origin.region).await.map_err(|error| error.to_string())?;
        let registry = match self.tags_in_bulk {
            true => EcrRegistry::new(&config).with_tags_in_bulk(&config),
            false => EcrRegistry::new(&config),
        };
        registry.set_home(origin.clone());
        let security_hub = self.security_hub.then(|| SecurityHub::new(&config));
        let member = Arc::new(MemberRegistry { registry, security_hub });
        self.reached.lock().await.insert(origin.clone(), member.clone());
        Ok(member)
    }
}

/// The regions in a comma-separated list (spaces around names allowed, none repeated); an error names the first
/// that isn't a region name.
fn regions_of(list: &str) -> Result<Vec<String>, String> {
    let names = list.split(',').map(str::trim).filter(|r| !r.is_empty()).map(str::to_string).collect();
    checked(REGIONS_ENV, names, is_region_name, "a region name")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_regions_are_a_checked_comma_separated_list() {
        assert_eq!(regions_of(""), Ok(vec![]));
        assert_eq!(regions_of("us-east-1, eu-west-1,us-east-1"), Ok(vec!["us-east-1".into(), "eu-west-1".into()]));
        let error = regions_of("us-east-1,evil.example.com").expect_err("not a region");
        assert!(error.contains("ECR_WARDEN_REGIONS") && error.contains("evil.example.com"), "{error}");
    }
}
