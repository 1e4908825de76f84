//! The baseline: what every repository must look like, with per-repository rules and exemptions.
//!
//! A baseline file (TOML or JSON) is layered over the built-in default ([`BUILTIN`]): a key the file
//! leaves out keeps its built-in value. For one repository the settings are the file's `defaults`, then
//! every `[[rules]]` entry whose `match` glob matches the name, in order. Everything is checked when the
//! file is loaded, and every problem is reported with the key it concerns.

mod accounts;
mod exemptions;
mod locate;
mod model;
mod scan_scopes;

use std::collections::BTreeMap;
use std::fmt;

pub use crate::controls::{
    EncryptionSettings, LifecyclePolicySettings, Overrides, PublicAccess, RepositoryPolicySettings, Require,
    RequiredTag, Resolved, Rule, ScanScope, ScanVia, ScanningSettings, TagMutabilitySettings, TagMutabilityTarget,
    TagsSettings, CROSS_ACCOUNT_PULL_SID, CROSS_ACCOUNT_PUSH_SID, LAMBDA_PULL_SID, ORGANIZATION_PULL_SID,
};
pub use crate::glob::OneOrMany;
pub use crate::image_tags::ImageTagSettings;
pub use crate::mode::Mode;
pub use crate::section::{Position, Problem};
pub use crate::vulnerabilities::{VulnerabilitySettings, MAX_LISTED};
pub use accounts::{is_unit_id, AccountSet, Placement};
pub use exemptions::{ExemptionNote, ExemptionState, Exemptions, Grant};
pub use model::{AlertsFile, BaselineFile, OrganizationFile, ReplicationFile, ReplicationTargetFile};

use crate::controls::creation_templates::{self, CreationTemplatesSettings};
use crate::controls::pull_through_cache::PullThroughCacheSettings;
use crate::controls::registry_policy::RegistryPolicySettings;
use crate::controls::signing::SigningSettings;
use crate::glob::NameGlob;
use crate::lifecycle::in_use::InUseSettings;
use crate::limits;
use crate::replication::{ReplicationSettings, ReplicationTarget, MAX_DESTINATIONS};
use crate::vulnerabilities::Date;

/// The built-in baseline, as TOML with comments (printed by `ecr-warden baseline default`).
pub const BUILTIN: &str = include_str!("builtin.toml");

/// The JSON Schema of a baseline file, generated from the types it is read into (so it can't drift from
/// what ecr-warden accepts). Values the schema can't express (a glob that compiles, a valid lifecycle policy,
/// a KMS key ARN) are still checked when the baseline is loaded.
pub fn schema() -> serde_json::Value {
    let mut schema = schemars::schema_for!(BaselineFile).to_value();
    schema["title"] = serde_json::Value::from("ecr-warden baseline");
    schema
}

/// The syntax of a baseline text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// TOML.
    Toml,
    /// JSON.
    Json,
}

impl Format {
    /// JSON when the file name ends in `.json` or the text starts with `{`, TOML otherwise.
    pub fn detect(name: &str, text: &str) -> Self {
        if name.ends_with(".json") || text.trim_start().starts_with('{') {
            Format::Json
        } else {
            Format::Toml
        }
    }
}

/// A baseline that failed to load: every problem found, each naming its key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct BaselineError {
    /// Where the baseline came from (a file name, an SSM parameter, `built-in`).
    pub source_name: String,
    /// The problems.
    pub problems: Vec<Problem>,
}

impl fmt::Display for BaselineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid baseline {}:", self.source_name)?;
        for problem in &self.problems {
            write!(f, "\n  - {}", problem.to_string().trim_end().replace('\n', "\n    "))?;
        }
        Ok(())
    }
}

/// Where alerts go, as the baseline says (the environment may override each).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertTargets {
    /// SNS topic ARN.
    pub sns_topic_arn: Option<String>,
    /// EventBridge bus name or ARN.
    pub event_bus: Option<String>,
    /// Whether findings also go to AWS Security Hub.
    pub security_hub: bool,
}

/// A loaded, checked baseline.
#[derive(Debug, Clone)]
pub struct Baseline {
    /// Which repositories are left alone.
    pub exemptions: Exemptions,
    /// Where alerts go.
    pub alerts: AlertTargets,
    /// Which repositories the registry replicates, and where.
    pub replication: ReplicationSettings,
    /// The accounts governed (`[organization]`); empty: every account.
    pub governed: AccountSet,
    /// The registry permissions policy (`[registry_policy]`).
    pub registry_policy: RegistryPolicySettings,
    /// The repository creation templates (`[creation_templates]`).
    pub creation_templates: CreationTemplatesSettings,
    /// The pull through cache rules (`[pull_through_cache]`).
    pub pull_through_cache: PullThroughCacheSettings,
    /// Where images in use are found (`[in_use]`), which lifecycle policies must never expire.
    pub in_use: InUseSettings,
    /// Managed image signing (`[signing]`).
    pub signing: SigningSettings,
    defaults: Resolved,
    rules: Vec<Rule>,
    /// The account this baseline was narrowed to ([`Baseline::in_account`]), whose rules apply.
    placement: Option<Placement>,
    /// The registry scanning filter of each glob that sets scanning (`**` for the defaults).
    scan_scopes: BTreeMap<String, ScanScope>,
    /// Whether every `enforce` is lowered to `audit` ([`Baseline::audit_only`]).
    audit_only: bool,
}

impl Baseline {
    /// The built-in baseline.
    pub fn builtin() -> Result<Self, BaselineError> {
        Self::parse("built-in", BUILTIN)
    }

    /// Parses and checks a baseline text, in the syntax [`Format::detect`] finds for `name` and `text`.
    pub fn parse(name: &str, text: &str) -> Result<Self, BaselineError> {
        let fail = |problems: Vec<Problem>| BaselineError { source_name: name.to_string(), problems };
        let format = Format::detect(name, text);
        let file: BaselineFile = match format {
            Format::Toml => toml::from_str(text).map_err(|e| fail(vec![Problem::new("", e.to_string())]))?,
            Format::Json => serde_json::from_str(text).map_err(|e| fail(vec![Problem::new("", e.to_string())]))?,
        };
        let builtin: BaselineFile =
            toml::from_str(BUILTIN).map_err(|e| fail(vec![Problem::new("built-in", e.to_string())]))?;
        Self::from_layers(&builtin, &file).map_err(|problems| match format {
            Format::Toml => fail(locate::with_positions(text, problems)),
            Format::Json => fail(problems),
        })
    }

    fn from_layers(builtin: &BaselineFile, file: &BaselineFile) -> Result<Self, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut defaults = Resolved::nothing();
        for (layer, at) in [(&builtin.defaults, "built-in.defaults"), (&file.defaults, "defaults")] {
            if let Some(layer) = layer {
                if let Err(mut p) = defaults.apply(layer, at) {
                    problems.append(&mut p);
                }
            }
        }
        problems.extend(defaults.check("defaults"));
        for (index, rule) in file.rules.iter().enumerate() {
            let at = format!("rules[{index}]");
            if rule.matches.as_slice().is_empty() {
                problems.push(Problem::new(format!("{at}.match"), "name at least one repository glob"));
            }
            let mut resolved = defaults.clone();
            match resolved.apply(&rule.overrides(), &at) {
                Ok(()) => problems.extend(resolved.check(&at)),
                Err(mut p) => problems.append(&mut p),
            }
        }
        if problems.is_empty() {
            problems.extend(rule_pair_problems(&defaults, &file.rules));
        }
        let section = |f: &BaselineFile| f.exemptions.clone().unwrap_or_default();
        let (base, mine) = (section(builtin), section(file));
        let exemptions = Exemptions {
            tag_key: mine.tag_key.or(base.tag_key).unwrap_or_default(),
            tag_value: mine.tag_value.or(base.tag_value).unwrap_or_default(),
            repositories: mine.repositories.or(base.repositories).unwrap_or_default(),
            granted: mine.granted.or(base.granted).unwrap_or_default(),
            accounts: mine.accounts.or(base.accounts).unwrap_or_default(),
        };
        for (index, grant) in exemptions.granted.iter().enumerate() {
            problems.extend(grant.problems(&format!("exemptions.granted[{index}]")));
        }
        let exempt_accounts = AccountSet { accounts: exemptions.accounts.clone(), ..AccountSet::default() };
        problems.extend(exempt_accounts.problems("exemptions"));
        let organization = file.organization.clone().unwrap_or_default();
        let governed =
            AccountSet { accounts: organization.accounts, organizational_units: organization.organizational_units };
        problems.extend(governed.problems("organization"));
        for (index, rule) in file.rules.iter().enumerate() {
            problems.extend(AccountSet::from(rule).problems(&format!("rules[{index}]")));
        }
        if let Some(problem) = limits::tag_key_problem(&exemptions.tag_key) {
            problems.push(Problem::new("exemptions.tag_key", problem));
        }
        if let Some(problem) = limits::tag_value_problem(&exemptions.tag_value) {
            problems.push(Problem::new("exemptions.tag_value", problem));
        }
        let alerts = file.alerts.clone().unwrap_or_default();
        let alerts = AlertTargets {
            sns_topic_arn: alerts.sns_topic_arn.filter(|a| !a.is_empty()),
            event_bus: alerts.event_bus.filter(|b| !b.is_empty()),
            security_hub: alerts.security_hub.unwrap_or(false),
        };
        if let Some(arn) = &alerts.sns_topic_arn {
            if !arn.starts_with("arn:") || !arn.contains(":sns:") {
                problems.push(Problem::new("alerts.sns_topic_arn", format!("`{arn}` is not an SNS topic ARN")));
            }
        }
        if let Some(problem) = alerts.event_bus.as_deref().and_then(limits::event_bus_problem) {
            problems.push(Problem::new("alerts.event_bus", problem));
        }
        let replication = replication_settings(file.replication.as_ref(), &mut problems);
        let registry_policy = RegistryPolicySettings::from_file(file.registry_policy.as_ref(), &mut problems);
        let creation_templates = CreationTemplatesSettings::from_file(file.creation_templates.as_ref(), &mut problems);
        let pull_through_cache = PullThroughCacheSettings::from_file(file.pull_through_cache.as_ref(), &mut problems);
        let in_use = InUseSettings::from_file(file.in_use.as_ref(), &mut problems);
        let signing = SigningSettings::from_file(file.signing.as_ref(), &mut problems);
        let (scan_scopes, scope_problems) = scan_scopes::scan_scopes(&defaults, &file.rules, &exemptions.name_globs());
        problems.extend(scope_problems);
        if !problems.is_empty() {
            return Err(problems);
        }
        let baseline = Self {
            exemptions,
            alerts,
            replication,
            governed,
            registry_policy,
            creation_templates,
            pull_through_cache,
            in_use,
            signing,
            defaults,
            rules: file.rules.clone(),
            placement: None,
            scan_scopes,
            audit_only: false,
        };
        // What the templates derived from the whole baseline get wrong.
        let problems = creation_templates::problems(&baseline);
        if problems.is_empty() {
            Ok(baseline)
        } else {
            Err(problems)
        }
    }

    /// Whether anything in the baseline depends on the account (`[organization]`, exempt accounts, rules naming
    /// accounts or organizational units): then repositories are governed through [`Baseline::in_account`].
    pub fn names_accounts(&self) -> bool {
        !self.governed.is_empty()
            || !self.exemptions.accounts.is_empty()
            || self.rules.iter().any(|rule| !AccountSet::from(rule).is_empty())
            || self.needs_organization_id()
    }

    /// Whether some repository's policy may let in the caller's organization (`allow_organization = true`): its
    /// ID must then be known where the baseline is applied ([`Placement::organization_id`]).
    pub fn needs_organization_id(&self) -> bool {
        self.defaults.repository_policy.allow_organization
            || self
                .rules
                .iter()
                .any(|rule| rule.repository_policy.as_ref().and_then(|policy| policy.allow_organization) == Some(true))
    }

    /// Whether the baseline names organizational units: an account's [`Placement`] must then list those above it.
    pub fn names_organizational_units(&self) -> bool {
        !self.governed.organizational_units.is_empty() || self.rules.iter().any(|r| !r.organizational_units.is_empty())
    }

    /// Why the account `placement` describes is not governed, if it isn't: exempt, or not among `[organization]`'s.
    pub fn account_exclusion(&self, placement: &Placement) -> Option<String> {
        let account = &placement.account;
        if self.exemptions.accounts.contains(account) {
            return Some(format!("account {account} is exempt (the baseline's exemptions.accounts)"));
        }
        if !self.governed.is_empty() && !self.governed.contains(placement) {
            return Some(format!("account {account} is not among the baseline's accounts ([organization])"));
        }
        None
    }

    /// This baseline as it applies in the account `placement` describes: its rules naming other accounts or
    /// organizational units left out (their scanning scopes too).
    pub fn in_account(&self, placement: Placement) -> Baseline {
        let rules: Vec<Rule> =
            self.rules.iter().filter(|rule| accounts::applies_in(rule, &placement)).cloned().collect();
        let (scan_scopes, _) = scan_scopes::scan_scopes(&self.defaults, &rules, &self.exemptions.name_globs());
        Baseline { scan_scopes, placement: Some(placement), ..self.clone() }
    }

    /// Why the repository is exempt on `today`, if it is (by name, else by tag).
    pub fn exemption(&self, name: &str, tags: &BTreeMap<String, String>, today: Date) -> Option<ExemptionNote> {
        self.exemption_by_name(name, today).or_else(|| self.exemption_by_tags(name, tags, today))
    }

    /// Why the repository is exempt by name on `today`, if it is: known before anything is read.
    pub fn exemption_by_name(&self, name: &str, today: Date) -> Option<ExemptionNote> {
        self.exemptions.by_name(name, today)
    }

    /// Why the repository is exempt by its tags alone on `today`, if it is (unlisted: a finding).
    pub fn exemption_by_tags(&self, name: &str, tags: &BTreeMap<String, String>, today: Date) -> Option<ExemptionNote> {
        self.exemptions.by_tags(name, tags, today)
    }

    /// The settings for the repository `name`: the defaults, then every matching rule in order.
    pub fn resolve(&self, name: &str) -> Result<Resolved, Vec<Problem>> {
        self.layered(name, |rule| rule.matches.as_slice().iter().find(|glob| glob.matches(name)))
    }

    /// The settings every repository in the namespace `prefix` gets whatever its name (`team-a` for the
    /// repositories under `team-a/`; `""` for every repository): the defaults, then, in order, every rule with a
    /// glob covering the whole namespace (`**`, or `q/**` for `q` at or above `prefix`). What a repository
    /// creation template for the namespace carries.
    pub fn resolve_namespace(&self, prefix: &str) -> Result<Resolved, Vec<Problem>> {
        let covers = |glob: &&NameGlob| {
            crate::replication::prefixes::exact_prefix(glob.as_str())
                .is_some_and(|start| start.is_empty() || format!("{prefix}/").starts_with(start))
        };
        self.layered(&format!("{prefix}/..."), |rule| rule.matches.as_slice().iter().find(covers))
    }

    /// The rules' globs, in order.
    pub fn rule_globs(&self) -> impl Iterator<Item = &NameGlob> {
        self.rules.iter().flat_map(|rule| rule.matches.as_slice().iter())
    }

    /// The defaults, then every rule in order for which `picks` finds the glob that makes it apply (named `name`
    /// in problems); a rule for another account never applies.
    fn layered<'a>(
        &'a self,
        name: &str,
        picks: impl Fn(&'a Rule) -> Option<&'a NameGlob>,
    ) -> Result<Resolved, Vec<Problem>> {
        let mut resolved = self.defaults.clone();
        let mut problems = Vec::new();
        let mut scope = scan_scopes::EVERY_REPOSITORY;
        for (index, rule) in self.rules.iter().enumerate() {
            let applies = match &self.placement {
                Some(placement) => accounts::applies_in(rule, placement),
                None if AccountSet::from(rule).is_empty() => true,
                None => {
                    // Governing without knowing the account would quietly drop the rule: refuse instead.
                    problems.push(Problem::new(
                        format!("rules[{index}]"),
                        format!("the rule names accounts, and the account of `{name}` isn't known"),
                    ));
                    continue;
                }
            };
            if !applies {
                continue;
            }
            if let Some(glob) = picks(rule) {
                if let Err(mut p) = resolved.apply(&rule.overrides(), &format!("rules[{index}]")) {
                    problems.append(&mut p);
                }
                if rule.scanning.is_some() {
                    scope = glob.as_str();
                }
            }
        }
        resolved.scanning.scope = self.scan_scopes.get(scope).cloned().unwrap_or_else(|| ScanScope::of(scope));
        resolved.repository_policy.organization_id =
            self.placement.as_ref().and_then(|placement| placement.organization_id.clone());
        if resolved.repository_policy.needs_organization_id() && resolved.repository_policy.organization_id.is_none() {
            problems.push(Problem::new(
                "repository_policy",
                format!(
                    "allow_organization and organization_pull need the organization of `{name}`'s account, which \
                     isn't known (AWS Organizations DescribeOrganization)"
                ),
            ));
        }
        if self.audit_only {
            resolved.audit_only();
        }
        // Every value was checked when the baseline was loaded; what a combination of rules could get wrong is left.
        problems.extend(resolved.check_together(&format!("settings for `{name}`")));
        if problems.is_empty() {
            Ok(resolved)
        } else {
            Err(problems)
        }
    }

    /// Lowers every control in `enforce` mode to `audit`, everywhere.
    pub fn audit_only(&mut self) {
        self.audit_only = true;
        if self.replication.mode == Mode::Enforce {
            self.replication.mode = Mode::Audit;
        }
    }
}

/// Settings that no rule makes impossible alone but two rules make together, for the repositories both
/// match (`kms_keys` from one, `type = "AES256"` from the other, say): each problem names the later rule's key
/// and a repository name both rules match.
fn rule_pair_problems(defaults: &Resolved, rules: &[Rule]) -> Vec<Problem> {
    let mut problems = Vec::new();
    // Each rule over the defaults alone: what the pair adds is what matters.
    let alone: Vec<(Resolved, Vec<Problem>)> = rules
        .iter()
        .enumerate()
        .filter_map(|(j, rule)| {
            let mut resolved = defaults.clone();
            resolved.apply(&rule.overrides(), &format!("rules[{j}]")).ok()?;
            let problems = resolved.check_together(&format!("rules[{j}]"));
            Some((resolved, problems))
        })
        .collect();
    if alone.len() != rules.len() {
        return problems;
    }
    for (i, first) in rules.iter().enumerate() {
        for (j, second) in rules.iter().enumerate().skip(i + 1) {
            if in_different_accounts(first, second) {
                continue;
            }
            let at = format!("rules[{j}]");
            let mut both = alone[i].0.clone();
            if both.apply(&second.overrides(), &at).is_err() {
                continue;
            }
            let added: Vec<Problem> =
                both.check_together(&at).into_iter().filter(|p| !alone[j].1.contains(p)).collect();
            if added.is_empty() {
                continue;
            }
            // Only rules that can match one repository together make a real contradiction.
            let globs = |rule: &Rule| rule.matches.as_slice().to_vec();
            let common = globs(first).iter().find_map(|a| globs(second).iter().find_map(|b| a.common_name(b)));
            let Some(name) = common else { continue };
            for problem in added {
                let message =
                    format!("{} (with rules[{i}], for repositories both match, e.g. `{name}`)", problem.message);
                problems.push(Problem { message, ..problem });
            }
        }
    }
    problems
}

/// Whether two rules can never apply in one account: both name only accounts, and none in common (organizational
/// units may hold any account, so a rule naming one may meet any other).
fn in_different_accounts(first: &Rule, second: &Rule) -> bool {
    let only_accounts = |rule: &Rule| !rule.accounts.is_empty() && rule.organizational_units.is_empty();
    only_accounts(first) && only_accounts(second) && !first.accounts.iter().any(|a| second.accounts.contains(a))
}

/// The `[replication]` section, checked; problems are added to `problems`.
fn replication_settings(file: Option<&ReplicationFile>, problems: &mut Vec<Problem>) -> ReplicationSettings {
    let Some(file) = file else { return ReplicationSettings::default() };
    let mode = file.mode.unwrap_or_default();
    if mode != Mode::Off && file.targets.is_empty() {
        problems.push(Problem::new("replication.targets", "at least one target is needed unless mode is off"));
    }
    let mut destinations = std::collections::BTreeSet::new();
    let targets = file
        .targets
        .iter()
        .enumerate()
        .map(|(index, target)| {
            let at = format!("replication.targets[{index}]");
            if target.regions.is_empty() {
                problems.push(Problem::new(format!("{at}.regions"), "at least one region is needed"));
            }
            for region in target.regions.iter().filter(|r| !is_region(r)) {
                problems.push(Problem::new(
                    format!("{at}.regions"),
                    format!("`{region}` is not an AWS region name (e.g. eu-west-1)"),
                ));
            }
            for id in target.registries.iter().filter(|id| !crate::arn::is_account_id(id)) {
                problems.push(Problem::new(format!("{at}.registries"), format!("`{id}` is not a 12-digit account ID")));
            }
            let registries: Vec<&str> = match target.registries.is_empty() {
                true => vec!["this account"],
                false => target.registries.iter().map(String::as_str).collect(),
            };
            for region in &target.regions {
                destinations.extend(registries.iter().map(|id| (region.clone(), id.to_string())));
            }
            ReplicationTarget {
                repositories: target.repositories.as_slice().to_vec(),
                regions: target.regions.clone(),
                registries: target.registries.clone(),
            }
        })
        .collect();
    if destinations.len() > MAX_DESTINATIONS {
        problems.push(Problem::new(
            "replication.targets",
            format!("{} destinations (regions x registries), ECR allows {MAX_DESTINATIONS}", destinations.len()),
        ));
    }
    ReplicationSettings { mode, targets }
}

/// Whether `name` looks like an AWS region (`eu-west-1`, `us-gov-west-1`).
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    let Some((number, words)) = parts.split_last() else { return false };
    parts.len() >= 3
        && words[0].len() == 2
        && words.iter().all(|w| !w.is_empty() && w.bytes().all(|b| b.is_ascii_lowercase()))
        && (1..=2).contains(&number.len())
        && number.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
