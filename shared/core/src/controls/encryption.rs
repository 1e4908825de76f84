//! Encryption at rest: AES256, KMS or KMS_DSSE, optionally with one of the allowed keys, optionally a customer
//! managed key (not the AWS managed `aws/ecr`, told apart by `kms:DescribeKey`'s `KeyManager`). It is fixed when
//! a repository is created, so a mismatch is a violation with a remedy, never an attempted fix. A
//! stronger type than the baseline's is compliant. The judgement matches Security Hub ECR.5 (and the AWS
//! Config rule `ecr-repository-cmk-encryption-enabled`) only when the baseline asks for a customer managed key,
//! as they do: they fail AES256 and the AWS managed key alike.

use schemars::JsonSchema;
use serde::Deserialize;

use super::{Control, ControlId, Description, Judgement, Resolved};
use crate::mode::Mode;
use crate::observed::{EncryptionType, KeyManager, Observed, Part};
use crate::section::{set, At, Problem, Section};
use crate::vulnerabilities::Severity;

/// The encryption control.
pub struct Encryption;

/// `encryption` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EncryptionOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// The expected encryption type.
    #[serde(rename = "type")]
    pub kind: Option<EncryptionType>,
    /// Allowed KMS key ARNs; empty allows any key.
    pub kms_keys: Option<Vec<String>>,
    /// Whether the key must be customer managed, not the AWS managed `aws/ecr` (what Security Hub ECR.5 and the
    /// AWS Config rule `ecr-repository-cmk-encryption-enabled` ask).
    pub customer_managed_key: Option<bool>,
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

impl Section for EncryptionSettings {
    type Layer = EncryptionOverride;

    fn nothing() -> Self {
        Self { mode: Mode::Off, kind: EncryptionType::Aes256, kms_keys: Vec::new(), customer_managed_key: false }
    }

    fn mode_mut(&mut self) -> &mut Mode {
        &mut self.mode
    }

    fn merge(&mut self, layer: &EncryptionOverride, _at: At<'_>) -> Vec<Problem> {
        set(&mut self.mode, &layer.mode);
        set(&mut self.kind, &layer.kind);
        set(&mut self.kms_keys, &layer.kms_keys);
        set(&mut self.customer_managed_key, &layer.customer_managed_key);
        Vec::new()
    }

    fn value_problems(&self, at: At<'_>) -> Vec<Problem> {
        let problems = self.kms_keys.iter().filter_map(|key| crate::limits::kms_key_problem(key));
        problems.map(|problem| at.problem("kms_keys", problem)).collect()
    }

    fn combination_problems(&self, at: At<'_>) -> Vec<Problem> {
        let mut problems = Vec::new();
        if self.kind == EncryptionType::Aes256 && !self.kms_keys.is_empty() {
            problems.push(at.problem("kms_keys", "keys only apply to KMS and KMS_DSSE encryption"));
        }
        if self.kind == EncryptionType::Aes256 && self.customer_managed_key {
            problems.push(at.problem("customer_managed_key", "a customer managed key needs type KMS or KMS_DSSE"));
        }
        problems
    }
}

const DESCRIPTION: Description = Description {
    id: ControlId::Encryption,
    section: "encryption",
    checks: "The repository is encrypted at least as strongly as the baseline's type (AES256 < KMS < KMS_DSSE), \
             where the baseline lists KMS keys with one of them, and with customer_managed_key = true with a \
             customer managed key (kms:DescribeKey), not the AWS managed aws/ecr: only then does it match \
             Security Hub ECR.5.",
    fixes: "None: ECR sets encryption only when a repository is created. A mismatch is reported with a remedy \
            (recreate the repository while it is empty, or copy its images to a new one).",
    permissions: &["ecr:DescribeRepositories", "kms:DescribeKey"],
    reads: &[Part::Facts],
    severity: Severity::Medium,
    security_hub: Some("ECR.5"),
    config_rule: Some("ecr-repository-cmk-encryption-enabled"),
    changed_by: &[],
};

impl Control for Encryption {
    fn description(&self) -> &'static Description {
        &DESCRIPTION
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.encryption.mode
    }

    fn security_hub_control(&self, want: &Resolved) -> Option<&'static str> {
        want.encryption.customer_managed_key.then_some("ECR.5")
    }

    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement {
        let (want_kind, keys) = (want.encryption.kind, &want.encryption.kms_keys);
        let (have_kind, have_key) = (have.facts.encryption, have.facts.kms_key.as_deref());
        let remedy = format!(
            "encryption can't be changed after creation: recreate the repository (while it is empty) with \
             encryptionType={}{}, or exempt it",
            want_kind.as_str(),
            keys.first().map(|k| format!(" and kmsKey={k}")).unwrap_or_default()
        );
        if have_kind.strength() < want_kind.strength() {
            let finding = format!("encrypted with {}, the baseline expects {}", have_kind.as_str(), want_kind.as_str());
            return Judgement::Violation { finding, remedy };
        }
        if !keys.is_empty() && !have_key.is_some_and(|k| keys.iter().any(|allowed| allowed == k)) {
            let finding =
                format!("encrypted with key {}, not one of the allowed keys", have_key.unwrap_or("(unknown)"));
            return Judgement::Violation { finding, remedy };
        }
        if want.encryption.customer_managed_key && have.key_manager != Some(KeyManager::Customer) {
            let finding = match (have_key, have.key_manager) {
                (Some(key), Some(KeyManager::Aws)) => {
                    format!("encrypted with the AWS managed key {key}, the baseline expects a customer managed key")
                }
                (Some(key), _) => format!("the key {key} could not be confirmed as customer managed"),
                (None, _) => "encrypted without a key ECR reports, the baseline expects a customer managed key".into(),
            };
            let remedy = format!(
                "encryption can't be changed after creation: recreate the repository (while it is empty) with \
                 encryptionType={} and kmsKey set to a customer managed key{}, or exempt it",
                want_kind.as_str(),
                keys.first().map(|k| format!(" (e.g. {k})")).unwrap_or_default()
            );
            return Judgement::Violation { finding, remedy };
        }
        Judgement::Compliant
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{builtin, fresh_repository, settings};
    use crate::observed::{EncryptionType, KeyManager};

    const KEY: &str = "arn:aws:kms:us-east-1:123456789012:key/1111";

    #[test]
    fn aes256_is_a_violation_when_kms_is_expected() {
        match Encryption.judge(&builtin(), &fresh_repository()) {
            Judgement::Violation { finding, remedy } => {
                assert!(finding.contains("AES256") && finding.contains("KMS"), "{finding}");
                assert!(remedy.contains("recreate"), "{remedy}");
            }
            other => panic!("expected a violation, got {other:?}"),
        }
    }

    #[test]
    fn kms_and_stronger_are_compliant() {
        let mut repo = fresh_repository();
        repo.facts.encryption = EncryptionType::Kms;
        assert_eq!(Encryption.judge(&builtin(), &repo), Judgement::Compliant);
        repo.facts.encryption = EncryptionType::KmsDsse;
        assert_eq!(Encryption.judge(&builtin(), &repo), Judgement::Compliant);
        let aes = settings("[defaults.encryption]\ntype = \"AES256\"\n");
        assert_eq!(Encryption.judge(&aes, &repo), Judgement::Compliant, "stronger than asked");
    }

    #[test]
    fn allowed_keys_are_checked() {
        let want = settings(&format!("[defaults.encryption]\nkms_keys = [\"{KEY}\"]\n"));
        let mut repo = fresh_repository();
        repo.facts.encryption = EncryptionType::Kms;
        repo.facts.kms_key = Some("arn:aws:kms:us-east-1:123456789012:key/other".into());
        assert!(matches!(Encryption.judge(&want, &repo), Judgement::Violation { .. }));
        repo.facts.kms_key = Some(KEY.into());
        assert_eq!(Encryption.judge(&want, &repo), Judgement::Compliant);
    }

    /// Security Hub ECR.5 (AWS Config `ecr-repository-cmk-encryption-enabled`) fails the AWS managed key as it
    /// fails AES256: with `customer_managed_key`, so does ecr-warden, and only then does it claim ECR.5.
    #[test]
    fn the_aws_managed_key_fails_only_a_customer_managed_key_requirement() {
        let cmk = settings("[defaults.encryption]\ncustomer_managed_key = true\n");
        let mut repo = fresh_repository();
        repo.facts.encryption = EncryptionType::Kms;
        repo.facts.kms_key = Some(KEY.into());
        repo.key_manager = Some(KeyManager::Aws);
        match Encryption.judge(&cmk, &repo) {
            Judgement::Violation { finding, remedy } => {
                assert!(finding.contains("AWS managed key"), "{finding}");
                assert!(remedy.contains("customer managed"), "{remedy}");
            }
            other => panic!("expected a violation, got {other:?}"),
        }
        assert_eq!(Encryption.judge(&builtin(), &repo), Judgement::Compliant, "KMS alone doesn't ask who manages it");
        repo.key_manager = Some(KeyManager::Customer);
        assert_eq!(Encryption.judge(&cmk, &repo), Judgement::Compliant);
        repo.key_manager = None;
        assert!(matches!(Encryption.judge(&cmk, &repo), Judgement::Violation { .. }), "unknown is not compliant");
        assert_eq!(Encryption.security_hub_control(&cmk), Some("ECR.5"));
        assert_eq!(Encryption.security_hub_control(&builtin()), None);
    }

    #[test]
    fn a_customer_managed_key_needs_kms_encryption() {
        let err = crate::baseline::Baseline::parse(
            "t.toml",
            "[defaults.encryption]\ntype = \"AES256\"\ncustomer_managed_key = true\n",
        )
        .expect_err("AES256 has no key");
        assert!(err.to_string().contains("customer_managed_key"), "{err}");
    }
}
