//! Other accounts' registries, reached through a role in each (the member role of organization mode).
//!
//! Credentials come from `sts:AssumeRole` into `arn:PARTITION:iam::ACCOUNT:role/ROLE`, once per account, and are
//! kept until five minutes before they expire: a long run over one account assumes the role again only when it
//! must, never per call; every region of an account shares them. The caller's own account is governed with the
//! caller's own credentials.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_config::sts::AssumeRoleProvider;
use aws_credential_types::provider::{self, future, ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sdk_ecr::config::Region;
use tokio::sync::{Mutex, OnceCell};

use crate::SdkConfig;

/// The role ecr-warden assumes in a member account unless told otherwise.
pub const DEFAULT_MEMBER_ROLE: &str = "ecr-warden-member";

/// The session name of every member-role session: CloudTrail shows `assumed-role/ROLE/ecr-warden`.
pub const SESSION_NAME: &str = "ecr-warden";

/// How long before they expire credentials are renewed.
const RENEW_BEFORE: Duration = Duration::from_secs(300);

/// Why another account's registry can't be reached.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("can't assume {role_arn}: {reason}")]
pub struct MemberError {
    /// The role asked for.
    pub role_arn: String,
    /// Why it was refused, in one line.
    pub reason: String,
}

/// The account the caller's credentials belong to (`GetCallerIdentity`, which needs no permission).
pub async fn caller_account(base: &SdkConfig) -> Result<String, String> {
    let sts = aws_sdk_sts::Client::new(base);
    let identity =
        sts.get_caller_identity().send().await.map_err(|e| format!("STS: {}", crate::errors::message("STS", &e)))?;
    identity.account().map(str::to_string).ok_or_else(|| "STS: GetCallerIdentity named no account".to_string())
}

/// Checks an IAM role name: 1 to 64 of letters, digits and `+=,.@_-` (IAM API reference, `CreateRole`).
pub fn check_role_name(name: &str) -> Result<(), String> {
    let allowed = |c: char| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c);
    match (1..=64).contains(&name.len()) && name.chars().all(allowed) {
        true => Ok(()),
        false => Err(format!("`{name}` is not an IAM role name (1 to 64 letters, digits and +=,.@_-)")),
    }
}

/// Member accounts' credentials, each assumed once and held until shortly before it expires, whichever region
/// and however many clients it is used for: one `AssumeRole` per account for the life of the process.
pub struct Members {
    base: SdkConfig,
    role_name: String,
    external_id: Option<String>,
    assumed: Mutex<HashMap<String, Arc<OnceCell<SharedCredentialsProvider>>>>,
}

impl Members {
    /// Members reached through `role_name` in each account, from the caller's credentials in `base`.
    pub fn new(base: &SdkConfig, role_name: &str) -> Self {
        let role_name = role_name.to_string();
        Self { base: base.clone(), role_name, external_id: None, assumed: Mutex::new(HashMap::new()) }
    }

    /// Presents `external_id` when assuming the role (the member template's optional `ExternalId`).
    pub fn with_external_id(mut self, external_id: Option<String>) -> Self {
        self.external_id = external_id.filter(|id| !id.is_empty());
        self
    }

    /// The role assumed in every member account.
    pub fn role_name(&self) -> &str {
        &self.role_name
    }

    /// The SDK configuration for `account`'s registry in `region`. The role is assumed on the account's first
    /// use, so a missing or refusing role is this call's error, before any registry call; a refusal isn't kept
    /// (the next call asks again).
    pub async fn config(&self, account: &str, region: &str) -> Result<SdkConfig, MemberError> {
        let cell = self.assumed.lock().await.entry(account.to_string()).or_default().clone();
        let credentials = cell.get_or_try_init(|| self.assume(account, region)).await?;
        Ok(self
            .base
            .to_builder()
            .region(Region::new(region.to_string()))
            .credentials_provider(credentials.clone())
            .build())
    }

    /// Assumes the role in `account` through STS in the caller's region (or `region`, when none is configured).
    async fn assume(&self, account: &str, region: &str) -> Result<SharedCredentialsProvider, MemberError> {
        let region = self.base.region().map(ToString::to_string).unwrap_or_else(|| region.to_string());
        let role_arn = format!("arn:{}:iam::{account}:role/{}", partition(&region), self.role_name);
        let mut assume = AssumeRoleProvider::builder(&role_arn).session_name(SESSION_NAME).region(Region::new(region));
        if let Some(external_id) = &self.external_id {
            assume = assume.external_id(external_id);
        }
        let assume = assume.configure(&self.base).build().await;
        let credentials = Renewed { assume: Arc::new(assume), held: Arc::new(Mutex::new(None)) };
        match credentials.current().await {
            Ok(_) => Ok(SharedCredentialsProvider::new(credentials)),
            Err(error) => Err(MemberError { role_arn, reason: crate::errors::credentials_reason(&error) }),
        }
    }
}

/// The caller's own configuration, in `region`.
pub fn own_config(base: &SdkConfig, region: &str) -> SdkConfig {
    base.to_builder().region(Region::new(region.to_string())).build()
}

/// The partition a region belongs to (`cn-north-1`: `aws-cn`; `us-gov-west-1`: `aws-us-gov`).
fn partition(region: &str) -> &'static str {
    match region {
        r if r.starts_with("cn-") => "aws-cn",
        r if r.starts_with("us-gov-") => "aws-us-gov",
        _ => "aws",
    }
}

/// Credentials from `assume` (an AssumeRole), held until shortly before they expire.
#[derive(Debug, Clone)]
struct Renewed<P> {
    assume: Arc<P>,
    held: Arc<Mutex<Option<Credentials>>>,
}

impl<P: ProvideCredentials> Renewed<P> {
    async fn current(&self) -> provider::Result {
        let mut held = self.held.lock().await;
        let fresh = |c: &Credentials| c.expiry().is_none_or(|at| at > SystemTime::now() + RENEW_BEFORE);
        if let Some(credentials) = held.as_ref().filter(|c| fresh(c)) {
            return Ok(credentials.clone());
        }
        let credentials = self.assume.provide_credentials().await?;
        *held = Some(credentials.clone());
        Ok(credentials)
    }
}

impl<P: ProvideCredentials + std::fmt::Debug + 'static> ProvideCredentials for Renewed<P> {
    fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
    where
        Self: 'a,
    {
        future::ProvideCredentials::new(self.current())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A provider that counts how often it is asked, and hands out credentials valid for `lifetime`.
    #[derive(Debug)]
    struct Counting {
        asked: std::sync::atomic::AtomicUsize,
        lifetime: Duration,
    }

    impl ProvideCredentials for Counting {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            self.asked.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let expiry = SystemTime::now() + self.lifetime;
            future::ProvideCredentials::ready(Ok(Credentials::new("id", "secret", None, Some(expiry), "test")))
        }
    }

    fn renewed(lifetime: Duration) -> Renewed<Counting> {
        let assume = Arc::new(Counting { asked: Default::default(), lifetime });
        Renewed { assume, held: Arc::new(Mutex::new(None)) }
    }

    #[tokio::test]
    async fn credentials_are_assumed_once_and_renewed_only_near_their_expiry() {
        let hour = renewed(Duration::from_secs(3600));
        for _ in 0..3 {
            hour.provide_credentials().await.expect("credentials");
        }
        assert_eq!(hour.assume.asked.load(std::sync::atomic::Ordering::SeqCst), 1, "held for an hour");
        let expiring = renewed(Duration::from_secs(120));
        for _ in 0..3 {
            expiring.provide_credentials().await.expect("credentials");
        }
        assert_eq!(expiring.assume.asked.load(std::sync::atomic::Ordering::SeqCst), 3, "under 5 minutes left");
    }

    #[test]
    fn roles_are_named_in_their_regions_partition() {
        assert_eq!(partition("eu-west-1"), "aws");
        assert_eq!(partition("cn-northwest-1"), "aws-cn");
        assert_eq!(partition("us-gov-east-1"), "aws-us-gov");
    }
}
