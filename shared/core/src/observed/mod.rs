//! What one repository (and the registry around it) looks like now: everything the controls judge,
//! read once per evaluation.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::arn::{is_account_id, Arn};

/// ECR's image tag mutability settings, from loosest to strictest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum TagMutability {
    /// Any tag can be overwritten.
    Mutable,
    /// Tags can be overwritten, except those matching the exclusion filters.
    MutableWithExclusion,
    /// No tag can be overwritten, except those matching the exclusion filters.
    ImmutableWithExclusion,
    /// No tag can be overwritten.
    Immutable,
}

impl TagMutability {
    /// The name ECR uses for this setting.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mutable => "MUTABLE",
            Self::MutableWithExclusion => "MUTABLE_WITH_EXCLUSION",
            Self::ImmutableWithExclusion => "IMMUTABLE_WITH_EXCLUSION",
            Self::Immutable => "IMMUTABLE",
        }
    }

    /// Parses ECR's name for the setting.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Mutable, Self::MutableWithExclusion, Self::ImmutableWithExclusion, Self::Immutable]
            .into_iter()
            .find(|m| m.as_str() == text)
    }
}

/// How a repository's images are encrypted at rest (fixed when the repository is created).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub enum EncryptionType {
    /// Amazon S3-managed keys.
    #[serde(rename = "AES256")]
    Aes256,
    /// AWS KMS, with a customer-managed key or the AWS-managed `aws/ecr` key.
    #[serde(rename = "KMS")]
    Kms,
    /// Dual-layer server-side encryption with AWS KMS.
    #[serde(rename = "KMS_DSSE")]
    KmsDsse,
}

impl EncryptionType {
    /// The name ECR uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Aes256 => "AES256",
            Self::Kms => "KMS",
            Self::KmsDsse => "KMS_DSSE",
        }
    }

    /// Parses ECR's name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::Aes256, Self::Kms, Self::KmsDsse].into_iter().find(|e| e.as_str() == text)
    }

    /// How strong the setting is: AES256 < KMS < KMS_DSSE.
    pub fn strength(self) -> u8 {
        match self {
            Self::Aes256 => 0,
            Self::Kms => 1,
            Self::KmsDsse => 2,
        }
    }
}

/// The settings `DescribeRepositories` returns for one repository.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RepositoryFacts {
    /// Repository name, e.g. `team-a/api`.
    pub name: String,
    /// Repository ARN.
    pub arn: String,
    /// Tag mutability setting.
    pub tag_mutability: TagMutability,
    /// Exclusion filters of a `*_WITH_EXCLUSION` mutability setting.
    pub mutability_exclusions: Vec<String>,
    /// The repository's own (deprecated, still honoured under basic scanning) scan-on-push flag.
    pub scan_on_push: bool,
    /// Encryption type.
    pub encryption: EncryptionType,
    /// KMS key ARN, where the encryption type uses one and ECR reports it.
    pub kms_key: Option<String>,
}

/// One repository as observed now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observed {
    /// The settings from `DescribeRepositories`.
    pub facts: RepositoryFacts,
    /// The lifecycle policy text, if there is one.
    pub lifecycle_policy: Option<String>,
    /// The repository policy text, if there is one.
    pub repository_policy: Option<String>,
    /// The repository's tags.
    pub tags: BTreeMap<String, String>,
    /// The registry's scanning configuration, where the scanning control needed it.
    pub registry_scanning: Option<RegistryScanning>,
    /// Who manages the repository's KMS key, where the encryption control needed it (`kms:DescribeKey`).
    pub key_manager: Option<KeyManager>,
}

/// Who manages a KMS key (`KeyMetadata.KeyManager` in `kms:DescribeKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeyManager {
    /// An AWS managed key, such as `aws/ecr`.
    Aws,
    /// A customer managed key.
    Customer,
}

/// How a repository's pushed images get scanned without anyone asking.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AutomaticScan {
    /// A registry scanning rule covers the repository.
    Rule {
        /// How often.
        frequency: ScanFrequency,
        /// Under enhanced scanning (Amazon Inspector).
        enhanced: bool,
    },
    /// The repository's own scan-on-push setting (honoured under basic scanning only).
    RepositorySetting,
}

impl Observed {
    /// How pushed images get scanned here, if they do: the one answer the scanning control and the push handler
    /// share. A registry rule of `MANUAL` frequency scans nothing; under enhanced scanning ECR ignores the
    /// repository's own setting. With the registry's configuration unread, only the repository setting counts.
    pub fn automatic_scan(&self) -> Option<AutomaticScan> {
        let registry = self.registry_scanning.as_ref();
        let enhanced = registry.is_some_and(|r| r.scan_type == ScanType::Enhanced);
        let by_rule = registry.and_then(|r| r.frequency_for(&self.facts.name)).filter(|f| *f != ScanFrequency::Manual);
        match by_rule {
            Some(frequency) => Some(AutomaticScan::Rule { frequency, enhanced }),
            None if self.facts.scan_on_push && !enhanced => Some(AutomaticScan::RepositorySetting),
            None => None,
        }
    }
}

/// One part of what [`Observed`] holds, as read from the registry: what a control judges, and so what is read
/// again just before its fix is written and again after (another writer may have changed it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part {
    /// The repository's settings (`DescribeRepositories`).
    Facts,
    /// The repository's tags.
    Tags,
    /// The lifecycle policy.
    LifecyclePolicy,
    /// The repository policy.
    RepositoryPolicy,
    /// The registry's scanning configuration.
    RegistryScanning,
}

/// How often images are scanned under a registry scanning rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanFrequency {
    /// Scanned when pushed.
    ScanOnPush,
    /// Scanned when pushed and whenever new vulnerabilities are published (enhanced scanning).
    ContinuousScan,
    /// Only scanned on demand.
    Manual,
}

impl ScanFrequency {
    /// The name ECR uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ScanOnPush => "SCAN_ON_PUSH",
            Self::ContinuousScan => "CONTINUOUS_SCAN",
            Self::Manual => "MANUAL",
        }
    }

    /// Parses ECR's name.
    pub fn parse(text: &str) -> Option<Self> {
        [Self::ScanOnPush, Self::ContinuousScan, Self::Manual].into_iter().find(|f| f.as_str() == text)
    }
}

/// Basic (Clair-based, per image) or enhanced (Amazon Inspector) scanning for the whole registry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ScanType {
    /// Basic scanning: repository-level `scanOnPush` is honoured.
    Basic,
    /// Enhanced scanning: only registry rules decide; repository-level `scanOnPush` is ignored.
    Enhanced,
}

impl ScanType {
    /// The name ECR uses.
    pub fn as_str(self) -> &'static str {
        match self {
            ScanType::Basic => "BASIC",
            ScanType::Enhanced => "ENHANCED",
        }
    }
}

/// One registry scanning rule: a frequency for the repositories matching any of its wildcard filters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanRule {
    /// The frequency this rule sets.
    pub frequency: ScanFrequency,
    /// ECR wildcard filters on repository names.
    pub filters: Vec<String>,
}

/// The registry's scanning configuration (`GetRegistryScanningConfiguration`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RegistryScanning {
    /// Basic or enhanced.
    pub scan_type: ScanType,
    /// At most two rules.
    pub rules: Vec<ScanRule>,
}

impl RegistryScanning {
    /// The most frequent scanning a registry rule gives the repository `name`, if any rule matches it.
    pub fn frequency_for(&self, name: &str) -> Option<ScanFrequency> {
        let matching = self
            .rules
            .iter()
            .filter(|rule| rule.filters.iter().any(|f| crate::scan_filter::matches(f, name)))
            .map(|rule| rule.frequency);
        matching.max_by_key(|f| match f {
            ScanFrequency::Manual => 0,
            ScanFrequency::ScanOnPush => 1,
            ScanFrequency::ContinuousScan => 2,
        })
    }
}

use crate::scan_filter::MAX_FILTERS_PER_RULE;

/// ECR's limit on rules in a registry scanning configuration.
pub(crate) const MAX_SCAN_RULES: usize = 2;

impl RegistryScanning {
    /// The configuration with `filter` added to the rule of `frequency` (created if missing), every other
    /// rule and filter kept. `Ok(None)` when the filter is already there; an error past ECR's limits (two rules,
    /// 100 filters in a rule), which says what to do instead.
    pub fn with_filter(&self, frequency: ScanFrequency, filter: &str) -> Result<Option<Self>, String> {
        let mut next = self.clone();
        let rule_count = next.rules.len();
        match next.rules.iter_mut().find(|rule| rule.frequency == frequency) {
            Some(rule) if rule.filters.iter().any(|f| f == filter) => return Ok(None),
            Some(rule) if rule.filters.len() >= MAX_FILTERS_PER_RULE => {
                return Err(format!(
                    "the registry's {} scanning rule already has {MAX_FILTERS_PER_RULE} filters, ECR's limit: \
                     cover these repositories with fewer, wider baseline globs (e.g. `team/**`), whose filters \
                     cover many repositories each",
                    frequency.as_str()
                ))
            }
            Some(rule) => rule.filters.push(filter.to_string()),
            None if rule_count >= MAX_SCAN_RULES => {
                return Err(format!(
                    "the registry already has {MAX_SCAN_RULES} scanning rules and none for {}",
                    frequency.as_str()
                ))
            }
            None => next.rules.push(ScanRule { frequency, filters: vec![filter.to_string()] }),
        }
        Ok(Some(next))
    }
}

/// A repository ARN read in full: `arn:PARTITION:ecr:REGION:ACCOUNT:repository/NAME`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepositoryArn<'a> {
    /// `aws`, `aws-cn`, `aws-us-gov`, ...
    pub partition: &'a str,
    /// The region.
    pub region: &'a str,
    /// The account ID (12 digits).
    pub account: &'a str,
    /// The repository name.
    pub name: &'a str,
}

impl<'a> RepositoryArn<'a> {
    /// Reads `arn`; `None` unless every part is there: the `arn` prefix, a partition, the `ecr` service, a region,
    /// a 12-digit account and a `repository/` resource with a name.
    pub fn parse(arn: &'a str) -> Option<Self> {
        let Arn { partition, service, region, account, resource } = Arn::parse(arn)?;
        let name = resource.strip_prefix("repository/")?;
        let fits = partition.starts_with("aws")
            && service == "ecr"
            && !region.is_empty()
            && is_account_id(account)
            && !name.is_empty();
        fits.then_some(Self { partition, region, account, name })
    }
}

/// The repository name in a repository ARN (`arn:aws:ecr:REGION:ACCOUNT:repository/NAME`), if it is one.
pub fn repository_name_in_arn(arn: &str) -> Option<&str> {
    RepositoryArn::parse(arn).map(|arn| arn.name)
}

/// The longest repository name ECR accepts.
pub const MAX_REPOSITORY_NAME: usize = 256;

/// Why `name` can't be an ECR repository name, if it can't: ECR takes 2 to 256 characters, path segments
/// separated by `/`, each made of lowercase letters and digits joined by single `.`, `_` or `-`.
pub fn repository_name_problem(name: &str) -> Option<String> {
    let shown = crate::text::shown(name, 80);
    if !(2..=MAX_REPOSITORY_NAME).contains(&name.len()) {
        return Some(format!("`{shown}` is not a repository name: it must be 2 to {MAX_REPOSITORY_NAME} characters"));
    }
    let segment_ok = |segment: &str| {
        let bytes = segment.as_bytes();
        let alnum = |b: &u8| b.is_ascii_lowercase() || b.is_ascii_digit();
        let separator = |b: &u8| matches!(b, b'.' | b'_' | b'-');
        bytes.first().is_some_and(alnum)
            && bytes.last().is_some_and(alnum)
            && bytes.iter().all(|b| alnum(b) || separator(b))
            && !bytes.windows(2).any(|w| separator(&w[0]) && separator(&w[1]))
    };
    if name.split('/').all(segment_ok) {
        None
    } else {
        Some(format!(
            "`{shown}` is not a repository name: segments of lowercase letters and digits joined by single . _ or -, separated by /"
        ))
    }
}

#[cfg(test)]
mod tests;
