//! Scanning: images must be scanned on push or continuously, either by the repository's own
//! scan-on-push setting (honoured under basic scanning only) or by a registry scanning rule whose
//! wildcard filter matches the repository's name.

use super::{Control, ControlId, Judgement};
use crate::action::Action;
use crate::baseline::{Mode, Resolved, ScanVia};
use crate::observed::{Observed, Part, ScanFrequency, ScanType};

/// The scanning control.
pub struct Scanning;

impl Control for Scanning {
    fn id(&self) -> ControlId {
        ControlId::Scanning
    }

    fn mode(&self, want: &Resolved) -> Mode {
        want.scanning.mode
    }

    fn permissions(&self) -> &'static [&'static str] {
        &[
            "ecr:DescribeRepositories",
            "ecr:GetRegistryScanningConfiguration",
            "ecr:PutImageScanningConfiguration",
            "ecr:PutRegistryScanningConfiguration",
        ]
    }

    fn reads(&self) -> &'static [Part] {
        &[Part::Facts, Part::RegistryScanning]
    }

    fn judge(&self, want: &Resolved, have: &Observed) -> Judgement {
        let name = &have.facts.name;
        let registry = have.registry_scanning.as_ref();
        let enhanced = registry.is_some_and(|r| r.scan_type == ScanType::Enhanced);
        let by_rule = registry.and_then(|r| r.frequency_for(name)).filter(|f| *f != ScanFrequency::Manual);
        // Under enhanced scanning ECR ignores the repository's own scan-on-push flag.
        let by_repository = have.facts.scan_on_push && !enhanced;
        if by_rule.is_some() || by_repository {
            return Judgement::Compliant;
        }
        let finding = if enhanced && have.facts.scan_on_push {
            "scan on push is set on the repository, but enhanced scanning ignores it and no registry rule covers it"
                .to_string()
        } else {
            "images are not scanned on push".to_string()
        };
        let action = if want.scanning.via == ScanVia::Registry || enhanced {
            let frequency = match (want.scanning.frequency, enhanced) {
                // Continuous scanning exists only with enhanced scanning.
                (ScanFrequency::ContinuousScan, false) => ScanFrequency::ScanOnPush,
                (frequency, _) => frequency,
            };
            Action::AddRegistryScanFilter { frequency, filter: name.clone() }
        } else {
            Action::EnableScanOnPush
        };
        Judgement::Drift { finding, actions: vec![action] }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::controls::testing::{builtin, fresh_repository, settings};
    use crate::observed::{RegistryScanning, ScanRule};

    fn registry(scan_type: ScanType, frequency: ScanFrequency, filter: &str) -> RegistryScanning {
        RegistryScanning { scan_type, rules: vec![ScanRule { frequency, filters: vec![filter.into()] }] }
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
    fn fix_uses_the_repository_setting_by_default() {
        let judgement = Scanning.judge(&builtin(), &fresh_repository());
        assert!(matches!(judgement, Judgement::Drift { ref actions, .. } if actions == &[Action::EnableScanOnPush]));
    }

    #[test]
    fn fix_adds_a_registry_filter_when_asked_or_when_enhanced() {
        let via_registry = settings("[defaults.scanning]\nvia = \"registry\"\nfrequency = \"CONTINUOUS_SCAN\"\n");
        let want = Action::AddRegistryScanFilter { frequency: ScanFrequency::ScanOnPush, filter: "repo".into() };
        let judgement = Scanning.judge(&via_registry, &fresh_repository());
        assert!(matches!(judgement, Judgement::Drift { ref actions, .. } if actions == &[want]), "basic: on push");

        let mut repo = fresh_repository();
        repo.facts.scan_on_push = true;
        repo.registry_scanning = Some(registry(ScanType::Enhanced, ScanFrequency::ContinuousScan, "prod/*"));
        let want = Action::AddRegistryScanFilter { frequency: ScanFrequency::ScanOnPush, filter: "repo".into() };
        match Scanning.judge(&builtin(), &repo) {
            Judgement::Drift { finding, actions } => {
                assert!(finding.contains("enhanced scanning ignores it"), "{finding}");
                assert_eq!(actions, vec![want]);
            }
            other => panic!("expected drift, got {other:?}"),
        }
    }
}
