//! Concrete settings for one repository: the built-in default, then the file's defaults, then every
//! matching rule, applied in order and checked.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::choices::{PublicAccess, Require, ScanVia, TagMutabilityTarget};
use super::limits;
use super::model::{Mode, Overrides, RequiredTag};
use crate::image_tags::ImageTagSettings;
use crate::observed::{EncryptionType, ScanFrequency};
use crate::vulnerabilities::{Severity, VulnerabilitySettings};
use crate::{lifecycle, policy};

/// Sid of the statement generated from `cross_account_pull`.
pub const CROSS_ACCOUNT_PULL_SID: &str = "EcrWardenCrossAccountPull";

/// Tag mutability settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagMutabilitySettings {
    /// Mode.
    pub mode: Mode,
    /// Target setting.
    pub target: TagMutabilityTarget,
    /// Allowed exclusion filters.
    pub exclusions: Vec<String>,
}

/// Scanning settings.
#[derive(Debug, Clone, PartialEq)]
pub struct ScanningSettings {
    /// Mode.
    pub mode: Mode,
    /// How to fix.
    pub via: ScanVia,
    /// Registry rule frequency.
    pub frequency: ScanFrequency,
    /// The registry scanning filter that stands for this repository: the one derived from the baseline glob
    /// that gives it its scanning settings.
    pub scope: ScanScope,
}

/// The registry scanning filter for the repositories one baseline glob gives their scanning settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScanScope {
    /// The glob (`**` for the defaults).
    pub glob: String,
    /// Its ECR filter, or why it has none.
    pub filter: Result<String, String>,
    /// Names the filter also covers that the baseline leaves unscanned (exempt, or scanning off), each as
    /// the glob that says so and an example name.
    pub also_covers: Vec<String>,
}

impl ScanScope {
    /// The scope of `glob`, with nothing known about what else it covers.
    pub fn of(glob: &str) -> Self {
        Self { glob: glob.to_string(), filter: crate::scan_filter::from_glob(glob), also_covers: Vec::new() }
    }
}

/// Encryption settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EncryptionSettings {
    /// Mode.
    pub mode: Mode,
    /// Expected type.
    pub kind: EncryptionType,
    /// Allowed key ARNs (empty: any).
    pub kms_keys: Vec<String>,
    /// The key must be customer managed (Security Hub ECR.5).
    pub customer_managed_key: bool,
}

/// Lifecycle policy settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LifecyclePolicySettings {
    /// Mode.
    pub mode: Mode,
    /// Present or exact.
    pub require: Require,
    /// The baseline's policy as compact JSON text (empty when none was given).
    pub policy: String,
}

/// Repository policy settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RepositoryPolicySettings {
    /// Mode.
    pub mode: Mode,
    /// What to do with public statements.
    pub public_access: PublicAccess,
    /// Accounts allowed to pull.
    pub cross_account_pull: Vec<String>,
    /// Required statements by Sid.
    pub statements: BTreeMap<String, Value>,
}

/// Tags settings.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TagsSettings {
    /// Mode.
    pub mode: Mode,
    /// Required tags by key.
    pub required: BTreeMap<String, RequiredTag>,
}

/// Everything the controls want of one repository.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// Tag mutability.
    pub tag_mutability: TagMutabilitySettings,
    /// Scanning.
    pub scanning: ScanningSettings,
    /// Encryption.
    pub encryption: EncryptionSettings,
    /// Lifecycle policy.
    pub lifecycle_policy: LifecyclePolicySettings,
    /// Repository policy.
    pub repository_policy: RepositoryPolicySettings,
    /// Tags.
    pub tags: TagsSettings,
    /// Rules for the tags of pushed images.
    pub image_tags: ImageTagSettings,
    /// When scan findings become alerts.
    pub vulnerabilities: VulnerabilitySettings,
}

impl Resolved {
    /// Every control off, every value empty: what the built-in baseline is applied onto.
    pub(crate) fn nothing() -> Self {
        Self {
            tag_mutability: TagMutabilitySettings::default(),
            scanning: ScanningSettings {
                mode: Mode::Off,
                via: ScanVia::Repository,
                frequency: ScanFrequency::ScanOnPush,
                scope: ScanScope::of("**"),
            },
            encryption: EncryptionSettings {
                mode: Mode::Off,
                kind: EncryptionType::Aes256,
                kms_keys: Vec::new(),
                customer_managed_key: false,
            },
            lifecycle_policy: LifecyclePolicySettings::default(),
            repository_policy: RepositoryPolicySettings::default(),
            tags: TagsSettings::default(),
            image_tags: ImageTagSettings {
                mode: Mode::Off,
                allowed: Vec::new(),
                forbidden: Vec::new(),
                allow_untagged: true,
            },
            vulnerabilities: VulnerabilitySettings {
                mode: Mode::Off,
                threshold: BTreeMap::new(),
                list_min_severity: Severity::High,
                max_listed: 10,
                suppressions: Vec::new(),
            },
        }
    }

    /// Applies one layer of overrides. `at` names the layer in error messages (e.g. `rules[2]`).
    pub(crate) fn apply(&mut self, layer: &Overrides, at: &str) -> Result<(), Vec<String>> {
        let mut problems = Vec::new();
        if let Some(o) = &layer.tag_mutability {
            set(&mut self.tag_mutability.mode, &o.mode);
            set(&mut self.tag_mutability.target, &o.target);
            set(&mut self.tag_mutability.exclusions, &o.exclusions);
        }
        if let Some(o) = &layer.scanning {
            set(&mut self.scanning.mode, &o.mode);
            set(&mut self.scanning.via, &o.via);
            set(&mut self.scanning.frequency, &o.frequency);
        }
        if let Some(o) = &layer.encryption {
            set(&mut self.encryption.mode, &o.mode);
            set(&mut self.encryption.kind, &o.kind);
            set(&mut self.encryption.kms_keys, &o.kms_keys);
            set(&mut self.encryption.customer_managed_key, &o.customer_managed_key);
        }
        if let Some(o) = &layer.lifecycle_policy {
            set(&mut self.lifecycle_policy.mode, &o.mode);
            set(&mut self.lifecycle_policy.require, &o.require);
            match (&o.policy, &o.presets) {
                (Some(_), Some(_)) => {
                    problems.push(format!("{at}.lifecycle_policy: give `policy` or `presets`, not both"))
                }
                (Some(policy), None) => match policy_text(policy) {
                    Ok(text) => self.lifecycle_policy.policy = text,
                    Err(problem) => problems.push(format!("{at}.lifecycle_policy.policy: {problem}")),
                },
                (None, Some(presets)) => match lifecycle::expand_presets(presets) {
                    Ok(text) => self.lifecycle_policy.policy = text,
                    Err(found) => problems.extend(found.into_iter().map(|p| format!("{at}.lifecycle_policy.{p}"))),
                },
                (None, None) => {}
            }
        }
        if let Some(o) = &layer.repository_policy {
            set(&mut self.repository_policy.mode, &o.mode);
            set(&mut self.repository_policy.public_access, &o.public_access);
            set(&mut self.repository_policy.cross_account_pull, &o.cross_account_pull);
            let mut seen = Vec::new();
            for (index, statement) in o.statements.iter().flatten().enumerate() {
                let at = format!("{at}.repository_policy.statements[{index}]");
                match policy::sid(statement) {
                    Some(sid) if seen.contains(&sid) => {
                        problems.push(format!("{at}: the Sid `{sid}` is used by an earlier statement of this list"))
                    }
                    Some(sid) => {
                        seen.push(sid);
                        self.repository_policy.statements.insert(sid.to_string(), statement.clone());
                    }
                    None => problems.push(format!("{at}: every required statement needs a string `Sid`")),
                }
            }
        }
        if let Some(o) = &layer.tags {
            set(&mut self.tags.mode, &o.mode);
            for (key, tag) in o.required.iter().flatten() {
                self.tags.required.insert(key.clone(), tag.clone());
            }
        }
        if let Some(o) = &layer.image_tags {
            set(&mut self.image_tags.mode, &o.mode);
            set(&mut self.image_tags.allowed, &o.allowed);
            set(&mut self.image_tags.forbidden, &o.forbidden);
            set(&mut self.image_tags.allow_untagged, &o.allow_untagged);
        }
        if let Some(o) = &layer.vulnerabilities {
            set(&mut self.vulnerabilities.mode, &o.mode);
            for (severity, limit) in o.threshold.iter().flatten() {
                self.vulnerabilities.threshold.insert(*severity, *limit);
            }
            set(&mut self.vulnerabilities.list_min_severity, &o.list_min_severity);
            set(&mut self.vulnerabilities.max_listed, &o.max_listed);
            set(&mut self.vulnerabilities.suppressions, &o.suppressions);
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }

    /// Checks the settings; `at` names where they came from: every value as AWS would take it
    /// ([`Resolved::check_values`]), and the settings together ([`Resolved::check_together`]).
    pub(crate) fn check(&self, at: &str) -> Vec<String> {
        let mut problems = self.check_together(at);
        problems.extend(self.check_values(at));
        problems
    }

    /// What only settings from different layers can get wrong together (a key from one layer, the key it needs or
    /// contradicts from another). Values were each checked in the layer that set them, so this is all a
    /// repository's resolved settings and a pair of rules need checking: cheap, with no pattern compiled.
    pub(crate) fn check_together(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let m = &self.tag_mutability;
        if m.mode != Mode::Off && m.target == TagMutabilityTarget::ImmutableWithExclusion && m.exclusions.is_empty() {
            problems.push(format!(
                "{at}.tag_mutability.exclusions: IMMUTABLE_WITH_EXCLUSION needs 1 to 5 exclusion filters"
            ));
        }
        if m.mode != Mode::Off && m.target == TagMutabilityTarget::Immutable && !m.exclusions.is_empty() {
            problems.push(format!(
                "{at}.tag_mutability.exclusions: exclusions only apply to IMMUTABLE_WITH_EXCLUSION, the target is IMMUTABLE"
            ));
        }
        let e = &self.encryption;
        if e.kind == EncryptionType::Aes256 && !e.kms_keys.is_empty() {
            problems.push(format!("{at}.encryption.kms_keys: keys only apply to KMS and KMS_DSSE encryption"));
        }
        if e.kind == EncryptionType::Aes256 && e.customer_managed_key {
            problems.push(format!(
                "{at}.encryption.customer_managed_key: a customer managed key needs type KMS or KMS_DSSE"
            ));
        }
        let l = &self.lifecycle_policy;
        if l.mode != Mode::Off && l.policy.is_empty() {
            problems.push(format!("{at}.lifecycle_policy.policy: a policy is required"));
        }
        let r = &self.repository_policy;
        let required = r.statements.len() + usize::from(!r.cross_account_pull.is_empty());
        if required > policy::MAX_OWNED_STATEMENTS {
            problems.push(format!(
                "{at}.repository_policy.statements: at most {} required statements (ecr-warden records the ones it wrote in one tag), found {required}",
                policy::MAX_OWNED_STATEMENTS
            ));
        }
        problems
    }

    /// Every value as AWS would take it (and as ecr-warden can use it), whatever else is set.
    fn check_values(&self, at: &str) -> Vec<String> {
        let mut problems = Vec::new();
        let m = &self.tag_mutability;
        if m.exclusions.len() > 5 {
            problems.push(format!("{at}.tag_mutability.exclusions: at most 5 filters, found {}", m.exclusions.len()));
        }
        for filter in &m.exclusions {
            if !valid_exclusion_filter(filter) {
                problems.push(format!(
                    "{at}.tag_mutability.exclusions: `{filter}` must be 1-128 characters of letters, digits, `._*-`"
                ));
            }
        }
        if self.scanning.frequency == ScanFrequency::Manual {
            problems.push(format!("{at}.scanning.frequency: must be SCAN_ON_PUSH or CONTINUOUS_SCAN, not MANUAL"));
        }
        for key in &self.encryption.kms_keys {
            if let Some(problem) = limits::kms_key_problem(key) {
                problems.push(format!("{at}.encryption.kms_keys: {problem}"));
            }
        }
        let l = &self.lifecycle_policy;
        if l.mode != Mode::Off && !l.policy.is_empty() {
            for problem in lifecycle::check(&l.policy) {
                problems.push(format!("{at}.lifecycle_policy.policy: {problem}"));
            }
        }
        let r = &self.repository_policy;
        for account in &r.cross_account_pull {
            if !crate::arn::is_account_id(account) {
                problems.push(format!(
                    "{at}.repository_policy.cross_account_pull: `{account}` is not a 12-digit account ID"
                ));
            }
        }
        for (sid, statement) in &r.statements {
            for problem in policy::shape::problems(statement) {
                problems.push(format!("{at}.repository_policy.statements: `{sid}`: {problem}"));
            }
            if policy::grants_public_access(statement) {
                problems.push(format!(
                    "{at}.repository_policy.statements: `{sid}` grants public access (no condition narrows who can use it)"
                ));
            }
            if sid == CROSS_ACCOUNT_PULL_SID {
                problems.push(format!(
                    "{at}.repository_policy.statements: the Sid `{sid}` is reserved for cross_account_pull"
                ));
            }
        }
        for (key, tag) in &self.tags.required {
            if let Some(problem) = limits::tag_key_problem(key) {
                problems.push(format!("{at}.tags.required: {problem}"));
            }
            for value in tag.default.iter().chain(&tag.allowed) {
                if let Some(problem) = limits::tag_value_problem(value) {
                    problems.push(format!("{at}.tags.required.{key}: {problem}"));
                }
            }
            if let Some(default) = &tag.default {
                if !tag.allowed.is_empty() && !tag.allowed.contains(default) {
                    problems.push(format!("{at}.tags.required.{key}.default: `{default}` is not one of `allowed`"));
                }
            } else if tag.overwrite {
                problems.push(format!("{at}.tags.required.{key}.overwrite: needs a `default` to overwrite with"));
            }
        }
        problems.extend(self.image_tags.problems(&format!("{at}.image_tags")));
        problems.extend(self.vulnerabilities.problems(&format!("{at}.vulnerabilities")));
        problems
    }

    /// The statements the repository policy must hold: the configured ones and the cross-account pull one, whose
    /// account principals are written in `partition` (`aws`, `aws-cn`, `aws-us-gov`: the repository's).
    pub fn required_statements(&self, partition: &str) -> Vec<Value> {
        let r = &self.repository_policy;
        let mut statements: Vec<Value> = r.statements.values().cloned().collect();
        if !r.cross_account_pull.is_empty() {
            let principals: Vec<String> =
                r.cross_account_pull.iter().map(|id| format!("arn:{partition}:iam::{id}:root")).collect();
            statements.push(json!({
                "Sid": CROSS_ACCOUNT_PULL_SID,
                "Effect": "Allow",
                "Principal": {"AWS": principals},
                "Action": ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
            }));
        }
        statements
    }

    /// Lowers every `enforce` to `audit` (a global audit-only switch).
    pub fn audit_only(&mut self) {
        for mode in [
            &mut self.tag_mutability.mode,
            &mut self.scanning.mode,
            &mut self.encryption.mode,
            &mut self.lifecycle_policy.mode,
            &mut self.repository_policy.mode,
            &mut self.tags.mode,
        ] {
            if *mode == Mode::Enforce {
                *mode = Mode::Audit;
            }
        }
    }
}

fn set<T: Clone>(target: &mut T, value: &Option<T>) {
    if let Some(value) = value {
        *target = value.clone();
    }
}

/// A lifecycle policy given as JSON text or as a table, as compact JSON text.
fn policy_text(value: &Value) -> Result<String, String> {
    match value {
        Value::String(text) => {
            serde_json::from_str::<Value>(text).map(|v| v.to_string()).map_err(|e| format!("not valid JSON: {e}"))
        }
        Value::Object(_) => Ok(value.to_string()),
        _ => Err("must be a table or a JSON string".to_string()),
    }
}

/// ECR's rule for tag mutability exclusion filters: `^[0-9a-zA-Z._*-]{1,128}$`.
fn valid_exclusion_filter(filter: &str) -> bool {
    (1..=128).contains(&filter.len())
        && filter.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'*' | b'-'))
}
