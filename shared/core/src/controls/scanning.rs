//! Scanning: images must be scanned on push or continuously, either by a registry scanning rule whose
//! filter covers the repository's name (as ECR matches filters: see [`crate::scan_filter`]) or by the
//! repository's own scan-on-push setting (honoured under basic scanning only). A fix through the registry
//! adds the filter derived from the baseline glob that governs the repository (`*` for the defaults), so
//! one filter serves every repository the glob covers; ECR's limits are checked before anything is written.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Control, ControlId, Description, Judgement, Resolved};
use crate::action::Action;
use crate::mode::Mode;
use crate::observed::{Observed, Part, RegistryScanning, ScanFrequency, ScanType};
use crate::section::{set, At, Problem, Section};
use crate::vulnerabilities::Severity;

/// The scanning control.
pub struct Scanning;

/// `scanning` keys.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScanningOverride {
    /// Mode.
    pub mode: Option<Mode>,
    /// Fix with the repository setting or a registry rule.
    pub via: Option<ScanVia>,
    /// The registry rule frequency, with `via = "registry"`.
    pub frequency: Option<ScanFrequency>,
    /// The registry's scan type the baseline requires (`ENHANCED`: Amazon Inspector); registry-wide, so only in
    /// `[defaults.scanning]`. Not set: either.
    pub scan_type: Option<ScanType>,
    /// Whether ecr-warden may switch the registry's scan type to `scan_type` (default false: enhanced scanning is
    /// Amazon Inspector, billed per image scanned, so the switch is an explicit choice).
    pub allow_scan_type_change: Option<bool>,
}

/// How the scanning control fixes a repository.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ScanVia {
    /// The repository's own scan-on-push setting.
    #[default]
    Repository,
    /// A registry scanning rule covering the repository.
    Registry,
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
    /// The registry scan type required, if any.
    pub scan_type: Option<ScanType>,
    /// Whether ecr-warden may switch the registry's scan type.
    pub allow_scan_type_change: bool,
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

impl Section for ScanningSettings {
    type Layer = ScanningOverride;

    fn nothing() -> Self {
        Self {
            mode: Mode::Off,
            via: ScanVia::Repository,
            frequency: ScanFrequency::ScanOnPush,
            scope: ScanScope::of("**"),
            scan_type: None,
            allow_scan_type_change: false,
        }
    }

    fn mode_mut(&mut self) -> &mut Mode {
        &mut self.mode
    }

    fn merge(&mut self, layer: &ScanningOverride, at: At<'_>) -> Vec<Problem> {
        set(&mut self.mode, &layer.mode);
        set(&mut self.via, &layer.via);
        set(&mut self.frequency, &layer.frequency);
        set(&mut self.allow_scan_type_change, &layer.allow_scan_type_change);
        if layer.scan_type.is_some() {
            self.scan_type = layer.scan_type;
        }
        let registry_wide = ["scan_type", "allow_scan_type_change"];
        let set_here = [layer.scan_type.is_some(), layer.allow_scan_type_change.is_some()];
        match at.layer.ends_with("defaults") {
            true => Vec::new(),
            false => registry_wide
                .iter()
                .zip(set_here)
                .filter(|(_, set)| *set)
                .map(|(key, _)| {
                    at.problem(key, "the registry's scan type is registry-wide: set it in [defaults.scanning]")
                })
                .collect(),
        }
    }

    fn value_problems(&self, at: At<'_>) -> Vec<Problem> {
        match self.frequency {
            ScanFrequency::Manual => {
                vec![at.problem("frequency", "must be SCAN_ON_PUSH or CONTINUOUS_SCAN, not MANUAL")]
            }
            _ => Vec::new(),
        }
    }
}

const DESCRIPTION: Description = Description {
    id: ControlId::Scanning,
    section: "scanning",
    checks: "Images are scanned on push or continuously: by a registry scanning rule whose filter covers the \
             repository (a filter without `*` covers every name containing it), or by the repository's own \
             scan-on-push setting (honoured under basic scanning only).",
    fixes: "A registry scan type other than `scan_type` requires: PutRegistryScanningConfiguration with the same rules \
            and the new type, only with allow_scan_type_change = true (otherwise reported). via = \"registry\" (the default): the filter derived from the baseline glob that governs the repository \
            (`*` for the defaults) is added to the registry scanning rule of the wanted frequency \
            (PutRegistryScanningConfiguration), every existing rule and filter kept, ECR's limits (2 rules, 100 \
            filters) checked first. via = \"repository\": PutImageScanningConfiguration (scanOnPush), an API AWS \
            is deprecating.",
    permissions: &[
        "ecr:DescribeRepositories",
        "ecr:GetRegistryScanningConfiguration",
        "ecr:PutImageScanningConfiguration",
        "ecr:PutRegistryScanningConfiguration",
    ],
    reads: &[Part::Facts, Part::RegistryScanning],
    severity: Severity::High,
    security_hub: Some("ECR.1"),
    config_rule: Some("ecr-private-image-scanning-enabled"),
    changed_by: &["PutRegistryScanningConfiguration"],
};

impl Control for Scanning {
    fn description(&self) -> &'static Description {
        &DESCRIPTION
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.scanning.mode
    }

    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement {
        let name = &have.facts.name;
        if let Some(judgement) = scan_type_judgement(&want.scanning, have.registry_scanning.as_ref()) {
            return judgement;
        }
        if have.automatic_scan().is_some() {
            return Judgement::Compliant;
        }
        let registry = have.registry_scanning.as_ref();
        let enhanced = registry.is_some_and(|r| r.scan_type == ScanType::Enhanced);
        let finding = if enhanced && have.facts.scan_on_push {
            "scan on push is set on the repository, but enhanced scanning ignores it and no registry rule covers it"
                .to_string()
        } else {
            "images are not scanned on push".to_string()
        };
        if want.scanning.via == ScanVia::Repository && !enhanced {
            return Judgement::Drift { finding, actions: vec![Action::EnableScanOnPush] };
        }
        let frequency = match (want.scanning.frequency, enhanced) {
            // Continuous scanning exists only with enhanced scanning: BASIC registries take scan-on-push rules.
            (ScanFrequency::ContinuousScan, false) => ScanFrequency::ScanOnPush,
            (frequency, _) => frequency,
        };
        let scope = &want.scanning.scope;
        let filter = match &scope.filter {
            Ok(filter) if crate::scan_filter::matches(filter, name) => filter.clone(),
            Ok(filter) => {
                return violation(finding, format!("the filter `{filter}` of glob `{}` does not cover it", scope.glob))
            }
            Err(problem) => return violation(finding, problem.clone()),
        };
        let empty = RegistryScanning { scan_type: ScanType::Basic, rules: Vec::new() };
        if let Err(limit) = registry.unwrap_or(&empty).with_filter(frequency, &filter) {
            return violation(finding, limit);
        }
        let action = Action::AddRegistryScanFilter { frequency, filter, also_covers: scope.also_covers.clone() };
        Judgement::Drift { finding, actions: vec![action] }
    }
}

/// What the registry's scan type comes to, when the baseline requires one the registry doesn't have: a switch
/// (with `allow_scan_type_change`) or a violation. `None`: the type is as required (or not required, or unknown).
fn scan_type_judgement(want: &ScanningSettings, registry: Option<&RegistryScanning>) -> Option<Judgement> {
    let wanted = want.scan_type?;
    let have = registry?.scan_type;
    if have == wanted {
        return None;
    }
    let finding = format!("the registry uses {} scanning; the baseline requires {}", have.as_str(), wanted.as_str());
    Some(match want.allow_scan_type_change {
        true => Judgement::Drift { finding, actions: vec![Action::SetRegistryScanType { scan_type: wanted }] },
        false => Judgement::Violation {
            finding,
            remedy: format!(
                "switch the registry to {} scanning by hand, or set scanning.allow_scan_type_change = true to let \
                 ecr-warden switch it (enhanced scanning is Amazon Inspector, billed per image scanned)",
                wanted.as_str()
            ),
        },
    })
}

fn violation(finding: String, why: String) -> Judgement {
    Judgement::Violation {
        finding: format!("{finding}, and no registry scanning rule can be added: {why}"),
        remedy: "change the baseline's globs or the registry's scanning rules so that fewer, wider filters cover \
                 the repositories (see docs/concepts.md, \"Registry scanning\")"
            .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::baseline::Baseline;
    use crate::controls::testing::{builtin, fresh_repository, settings};
    use crate::observed::{RegistryScanning, ScanRule};

    fn registry(scan_type: ScanType, frequency: ScanFrequency, filter: &str) -> RegistryScanning {
        RegistryScanning { scan_type, rules: vec![ScanRule { frequency, filters: vec![filter.into()] }] }
    }

    /// Enhanced scanning is Amazon Inspector, billed per image scanned: the baseline may require it, but the switch
    /// is made only with `allow_scan_type_change`.
    #[test]
    fn a_required_scan_type_is_switched_only_when_allowed() {
        let mut repo = fresh_repository();
        repo.registry_scanning = Some(registry(ScanType::Basic, ScanFrequency::ScanOnPush, "*"));
        let required = settings("[defaults.scanning]\nscan_type = \"ENHANCED\"\n");
        let Judgement::Violation { finding, remedy } = Scanning.judge(&required, &repo) else {
            panic!("violation expected")
        };
        assert_eq!(finding, "the registry uses BASIC scanning; the baseline requires ENHANCED");
        assert!(remedy.contains("allow_scan_type_change = true"), "{remedy}");
        let allowed = settings("[defaults.scanning]\nscan_type = \"ENHANCED\"\nallow_scan_type_change = true\n");
        assert_eq!(
            actions(Scanning.judge(&allowed, &repo)),
            [Action::SetRegistryScanType { scan_type: ScanType::Enhanced }]
        );
        repo.registry_scanning = Some(registry(ScanType::Enhanced, ScanFrequency::ScanOnPush, "*"));
        assert_eq!(Scanning.judge(&allowed, &repo), Judgement::Compliant);
    }

    #[test]
    fn the_scan_type_is_set_in_the_defaults_only() {
        let error = Baseline::parse("b.toml", "[[rules]]\nmatch = \"x\"\nscanning = { scan_type = \"ENHANCED\" }\n")
            .expect_err("refused");
        assert!(
            error.to_string().contains("rules[0].scanning.scan_type: the registry's scan type is registry-wide"),
            "{error}"
        );
    }

    #[test]
    fn repository_scan_on_push_is_compliant_under_basic_scanning() {
        let mut repo = fresh_repository();
        repo.facts.scan_on_push = true;
        assert_eq!(Scanning.judge(&builtin(), &repo), Judgement::Compliant);
        repo.registry_scanning = Some(RegistryScanning { scan_type: ScanType::Basic, rules: vec![] });
        assert_eq!(Scanning.judge(&builtin(), &repo), Judgement::Compliant);
    }

    #[test]
    fn a_matching_registry_rule_is_compliant() {
        let mut repo = fresh_repository();
        repo.registry_scanning = Some(registry(ScanType::Basic, ScanFrequency::ScanOnPush, "re*"));
        assert_eq!(Scanning.judge(&builtin(), &repo), Judgement::Compliant);
        repo.registry_scanning = Some(registry(ScanType::Basic, ScanFrequency::ScanOnPush, "other*"));
        assert!(matches!(Scanning.judge(&builtin(), &repo), Judgement::Drift { .. }));
        repo.registry_scanning = Some(registry(ScanType::Basic, ScanFrequency::Manual, "*"));
        assert!(matches!(Scanning.judge(&builtin(), &repo), Judgement::Drift { .. }), "manual is not scanning");
    }

    #[test]
    fn a_filter_without_a_wildcard_covers_every_name_containing_it() {
        // ECR user guide, "Filters to choose which repositories are scanned": no wildcard means "contains".
        let mut repo = fresh_repository();
        repo.facts.name = "payments-repo-v2".into();
        repo.registry_scanning = Some(registry(ScanType::Basic, ScanFrequency::ScanOnPush, "repo"));
        assert_eq!(Scanning.judge(&builtin(), &repo), Judgement::Compliant);
    }

    fn add(filter: &str, frequency: ScanFrequency) -> Action {
        Action::AddRegistryScanFilter { frequency, filter: filter.into(), also_covers: vec![] }
    }

    fn actions(judgement: Judgement) -> Vec<Action> {
        match judgement {
            Judgement::Drift { actions, .. } => actions,
            other => panic!("expected drift, got {other:?}"),
        }
    }

    #[test]
    fn the_default_fix_is_one_registry_filter_for_every_repository() {
        assert_eq!(actions(Scanning.judge(&builtin(), &fresh_repository())), vec![add("*", ScanFrequency::ScanOnPush)]);
    }

    #[test]
    fn the_repository_setting_is_used_only_when_asked_and_only_under_basic_scanning() {
        let via_repository = settings("[defaults.scanning]\nvia = \"repository\"\n");
        assert_eq!(actions(Scanning.judge(&via_repository, &fresh_repository())), vec![Action::EnableScanOnPush]);
        assert!(Action::EnableScanOnPush.describe().contains("deprecating"), "the report says the API is deprecated");

        let mut repo = fresh_repository();
        repo.facts.scan_on_push = true;
        repo.registry_scanning = Some(registry(ScanType::Enhanced, ScanFrequency::ContinuousScan, "prod/*"));
        match Scanning.judge(&via_repository, &repo) {
            Judgement::Drift { finding, actions } => {
                assert!(finding.contains("enhanced scanning ignores it"), "{finding}");
                assert_eq!(actions, vec![add("*", ScanFrequency::ScanOnPush)]);
            }
            other => panic!("expected drift, got {other:?}"),
        }
    }

    #[test]
    fn basic_registries_take_scan_on_push_rules_only() {
        let continuous = settings("[defaults.scanning]\nfrequency = \"CONTINUOUS_SCAN\"\n");
        assert_eq!(
            actions(Scanning.judge(&continuous, &fresh_repository())),
            vec![add("*", ScanFrequency::ScanOnPush)]
        );
        let mut repo = fresh_repository();
        repo.registry_scanning = Some(RegistryScanning { scan_type: ScanType::Enhanced, rules: vec![] });
        assert_eq!(actions(Scanning.judge(&continuous, &repo)), vec![add("*", ScanFrequency::ContinuousScan)]);
    }

    #[test]
    fn the_filter_comes_from_the_glob_that_governs_the_repository() {
        let baseline = Baseline::parse(
            "t.toml",
            r#"
            [exemptions]
            repositories = ["team/legacy-*"]
            [defaults.scanning]
            mode = "off"
            [[rules]]
            match = "team/**"
            scanning = { mode = "enforce" }
            "#,
        )
        .expect("valid");
        let mut repo = fresh_repository();
        repo.facts.name = "team/api".into();
        let want = baseline.resolve("team/api").expect("resolves");
        let want_action = Action::AddRegistryScanFilter {
            frequency: ScanFrequency::ScanOnPush,
            filter: "team/*".into(),
            also_covers: vec!["`team/legacy-*` (exempt), e.g. `team/legacy-a`".into()],
        };
        let actions = actions(Scanning.judge(&want, &repo));
        assert_eq!(actions, vec![want_action]);
        assert!(actions[0].describe().contains("also covers `team/legacy-*` (exempt)"), "{}", actions[0].describe());
    }

    /// API reference, `ScanningRepositoryFilterList`: at most 100 filters in a rule; `RegistryScanningRuleList`:
    /// at most 2 rules. Checked before writing, as a violation that says what to do.
    #[test]
    fn ecr_limits_are_violations_before_any_write() {
        let mut repo = fresh_repository();
        let filters: Vec<String> = (0..100).map(|i| format!("name-{i}")).collect();
        repo.registry_scanning = Some(RegistryScanning {
            scan_type: ScanType::Basic,
            rules: vec![ScanRule { frequency: ScanFrequency::ScanOnPush, filters }],
        });
        match Scanning.judge(&builtin(), &repo) {
            Judgement::Violation { finding, .. } => assert!(finding.contains("100 filters"), "{finding}"),
            other => panic!("expected a violation, got {other:?}"),
        }
        let mut repo = fresh_repository();
        repo.registry_scanning = Some(RegistryScanning {
            scan_type: ScanType::Enhanced,
            rules: vec![
                ScanRule { frequency: ScanFrequency::ContinuousScan, filters: vec!["x*".into()] },
                ScanRule { frequency: ScanFrequency::Manual, filters: vec!["y*".into()] },
            ],
        });
        match Scanning.judge(&builtin(), &repo) {
            Judgement::Violation { finding, .. } => assert!(finding.contains("2 scanning rules"), "{finding}"),
            other => panic!("expected a violation, got {other:?}"),
        }
    }
}
