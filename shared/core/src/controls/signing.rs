//! Image signing, a registry-level control (`[signing]`): ECR's managed signing signs every image pushed to a
//! repository its signing configuration's rules match, with an AWS Signer profile ("a list of signing rules. Each
//! rule defines a signing profile and optional repository filters", API reference, `SigningConfiguration`). The
//! baseline names the profile and the repositories (globs, as elsewhere); every glob becomes a `WILDCARD_MATCH`
//! filter (`**` and `*` both become `*`, which "matches any sequence of characters": a `team/*` glob's filter
//! also matches deeper names, so it may sign more than the glob names, never less).
//!
//! The fix adds what is missing to the rule of that profile (or a new rule), keeping every other rule and filter,
//! within ECR's limits (10 rules, 100 filters a rule).

use std::collections::BTreeSet;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{ControlId, Description, RegistryJudgement};
use crate::glob::NameGlob;
use crate::mode::Mode;
use crate::section::Problem;
use crate::vulnerabilities::Severity;

/// What observing and fixing signing calls.
pub const PERMISSIONS: &[&str] = &["ecr:GetSigningConfiguration", "ecr:PutSigningConfiguration"];

/// ECR's limits (API reference, `SigningRuleList`, `SigningRepositoryFilterList`).
const MAX_RULES: usize = 10;
const MAX_FILTERS: usize = 100;

/// The signing control's description.
pub(super) const SIGNING: Description = Description {
    id: ControlId::Signing,
    section: "signing (top level, registry-wide)",
    checks: "The registry's signing configuration signs the images pushed to every repository `repositories` \
             names, with `profile_arn` (a rule of that profile whose filters, or lack of them, cover each glob's \
             filter).",
    fixes: "PutSigningConfiguration with the configuration that is there plus the missing filters on the profile's \
            rule (or a new rule), every other rule and filter kept; ECR's limits (10 rules, 100 filters) checked \
            first.",
    permissions: PERMISSIONS,
    reads: &[],
    severity: Severity::Medium,
    security_hub: None,
    config_rule: None,
    changed_by: &["PutSigningConfiguration", "DeleteSigningConfiguration"],
};

/// The `[signing]` section as written.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SigningFile {
    /// Mode (default `off`).
    pub mode: Option<Mode>,
    /// The AWS Signer signing profile ARN (`arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME`).
    pub profile_arn: Option<String>,
    /// The repositories whose images must be signed (globs; default every repository).
    pub repositories: Option<Vec<NameGlob>>,
}

/// The signing settings, checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SigningSettings {
    /// Mode.
    pub mode: Mode,
    /// The signing profile.
    pub profile_arn: String,
    /// The `WILDCARD_MATCH` filters the repositories' globs become.
    pub filters: BTreeSet<String>,
}

impl SigningSettings {
    /// Reads and checks the section; problems are named `signing.<key>`.
    pub fn from_file(file: Option<&SigningFile>, problems: &mut Vec<Problem>) -> Self {
        let Some(file) = file else { return Self::default() };
        let mode = file.mode.unwrap_or(Mode::Off);
        let profile_arn = file.profile_arn.clone().unwrap_or_default();
        if mode != Mode::Off && !is_profile_arn(&profile_arn) {
            problems.push(Problem::new(
                "signing.profile_arn",
                format!("`{profile_arn}` is not a signing profile ARN (arn:aws:signer:REGION:ACCOUNT:/signing-profiles/NAME)"),
            ));
        }
        let globs: Vec<String> = match &file.repositories {
            Some(globs) => globs.iter().map(|g| g.as_str().to_string()).collect(),
            None => vec!["**".to_string()],
        };
        let mut filters = BTreeSet::new();
        for glob in &globs {
            match filter_of(glob) {
                Ok(filter) => {
                    filters.insert(filter);
                }
                Err(problem) => problems.push(Problem::new("signing.repositories", problem)),
            }
        }
        Self { mode, profile_arn, filters }
    }
}

/// The `WILDCARD_MATCH` filter of a glob: `**` and `*` become `*`; other wildcards have no filter.
fn filter_of(glob: &str) -> Result<String, String> {
    if glob.contains(['?', '[', '{', '\\']) {
        return Err(format!("`{glob}`: a signing filter has only `*`; name the repositories with `*` and `**`"));
    }
    let filter = glob.replace("**", "*");
    let mut collapsed = String::with_capacity(filter.len());
    for c in filter.chars() {
        if !(c == '*' && collapsed.ends_with('*')) {
            collapsed.push(c);
        }
    }
    if !is_filter(&collapsed) {
        return Err(format!("`{glob}` makes the signing filter `{collapsed}`, which ECR doesn't accept"));
    }
    Ok(collapsed)
}

/// ECR's `SigningRepositoryFilterValue`: path segments of lowercase letters, digits and `*`, joined by `. _ -`.
fn is_filter(filter: &str) -> bool {
    let word = |w: &str| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'*');
    let segment = |s: &str| s.split(['.', '_', '-']).all(word);
    !filter.is_empty() && filter.len() <= 256 && filter.split('/').all(segment)
}

/// ECR's `SigningProfileArn` pattern.
fn is_profile_arn(arn: &str) -> bool {
    let Some(rest) = arn.strip_prefix("arn:") else { return false };
    let parts: Vec<&str> = rest.splitn(5, ':').collect();
    let name = parts.get(4).and_then(|r| r.strip_prefix("/signing-profiles/"));
    matches!(parts.as_slice(), [partition, "signer", region, account, _]
        if partition.starts_with("aws") && !region.is_empty() && crate::arn::is_account_id(account))
        && name.is_some_and(|n| n.len() >= 2 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'))
}

/// One signing rule, as ECR holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningRule {
    /// The signing profile.
    pub signing_profile_arn: String,
    /// `WILDCARD_MATCH` filters; none: every repository.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub repository_filters: Vec<String>,
}

/// What the signing configuration comes to: the fix is the whole configuration to put.
pub type Judgement = RegistryJudgement<Vec<SigningRule>>;

/// Judges the registry's signing `rules`.
pub fn judge(settings: &SigningSettings, rules: &[SigningRule]) -> Judgement {
    let profile = &settings.profile_arn;
    let ours = |rule: &&SigningRule| rule.signing_profile_arn == *profile;
    let covered = |filter: &str| {
        rules
            .iter()
            .filter(ours)
            .any(|r| r.repository_filters.is_empty() || r.repository_filters.iter().any(|f| f == filter))
    };
    let missing: Vec<String> = settings.filters.iter().filter(|f| !covered(f)).cloned().collect();
    if missing.is_empty() {
        return Judgement::Compliant;
    }
    let finding =
        format!("images pushed to repositories matching {} are not signed with {profile}", missing.join(", "));
    let mut next = rules.to_vec();
    let changes = match next.iter_mut().find(|r| r.signing_profile_arn == *profile) {
        Some(rule) => {
            rule.repository_filters.extend(missing.iter().cloned());
            vec![format!("add {} to the rule of {profile}", missing.join(", "))]
        }
        None => {
            next.push(SigningRule { signing_profile_arn: profile.clone(), repository_filters: missing.clone() });
            vec![format!("add a rule signing {} with {profile}", missing.join(", "))]
        }
    };
    let too_many = next.iter().any(|r| r.repository_filters.len() > MAX_FILTERS);
    if next.len() > MAX_RULES || too_many {
        return Judgement::Violation {
            finding: format!(
                "{finding}; adding them would pass ECR's limits ({MAX_RULES} rules, {MAX_FILTERS} filters a rule)"
            ),
            remedy: "name the repositories with fewer, wider globs, or make room in the registry's signing rules"
                .into(),
        };
    }
    Judgement::Drift { finding, changes, fix: next, removed: Vec::new() }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROFILE: &str = "arn:aws:signer:us-east-1:123456789012:/signing-profiles/ecr_images";

    fn settings(globs: &[&str]) -> SigningSettings {
        let file = SigningFile {
            mode: Some(Mode::Enforce),
            profile_arn: Some(PROFILE.into()),
            repositories: Some(globs.iter().map(|g| NameGlob::new(g).expect("glob")).collect()),
        };
        let mut problems = Vec::new();
        let settings = SigningSettings::from_file(Some(&file), &mut problems);
        assert!(problems.is_empty(), "{problems:#?}");
        settings
    }

    fn rule(profile: &str, filters: &[&str]) -> SigningRule {
        SigningRule {
            signing_profile_arn: profile.into(),
            repository_filters: filters.iter().map(|f| f.to_string()).collect(),
        }
    }

    #[test]
    fn globs_become_wildcard_filters() {
        assert_eq!(
            settings(&["prod/**", "team/*", "api"]).filters,
            BTreeSet::from(["api".into(), "prod/*".into(), "team/*".into()])
        );
        assert_eq!(settings(&["**"]).filters, BTreeSet::from(["*".to_string()]));
        assert!(filter_of("team/?").is_err() && filter_of("Team/*").is_err());
    }

    #[test]
    fn missing_filters_join_the_profiles_rule_and_other_rules_stay() {
        let other = rule("arn:aws:signer:us-east-1:123456789012:/signing-profiles/other", &["legacy/*"]);
        let have = [other.clone(), rule(PROFILE, &["prod/*"])];
        let want = settings(&["prod/**", "team/**"]);
        let Judgement::Drift { fix, changes, .. } = judge(&want, &have) else { panic!("drift expected") };
        assert_eq!(fix, [other.clone(), rule(PROFILE, &["prod/*", "team/*"])]);
        assert_eq!(changes, [format!("add team/* to the rule of {PROFILE}")]);
        assert_eq!(judge(&want, &fix), Judgement::Compliant);
        // A rule of the profile without filters signs every repository.
        assert_eq!(judge(&want, &[rule(PROFILE, &[])]), Judgement::Compliant);
        let Judgement::Drift { fix, .. } = judge(&want, std::slice::from_ref(&other)) else { panic!("drift expected") };
        assert_eq!(fix, [other, rule(PROFILE, &["prod/*", "team/*"])]);
    }

    #[test]
    fn ecr_s_limits_are_checked_before_any_put() {
        let full: Vec<SigningRule> = (0..10)
            .map(|i| rule(&format!("arn:aws:signer:us-east-1:123456789012:/signing-profiles/p{i}"), &[]))
            .collect();
        assert!(matches!(judge(&settings(&["prod/**"]), &full), Judgement::Violation { .. }));
    }

    #[test]
    fn a_profile_arn_is_required_and_checked() {
        let file = SigningFile {
            mode: Some(Mode::Enforce),
            profile_arn: Some("arn:aws:iam::1:role/x".into()),
            repositories: None,
        };
        let mut problems = Vec::new();
        SigningSettings::from_file(Some(&file), &mut problems);
        assert!(problems[0].to_string().contains("signing.profile_arn"), "{problems:#?}");
        assert!(is_profile_arn(PROFILE));
    }
}
