//! Governing the registry's scanning rules as a whole, after someone changed them by hand
//! (`PutRegistryScanningConfiguration` in CloudTrail): every governed repository the rules no longer cover gets
//! back the filter of the glob that governs it, as governing each repository would, but with one put per missing
//! filter rather than per repository. It costs one `DescribeRepositories` page per 1,000 repositories and one
//! read of the rules; tags are read only for repositories left uncovered, to honour tag exemptions. Each put is
//! read back after a pause (see [`crate::converge`]) and made again, at most three times, if another
//! writer undid it.

use std::collections::BTreeSet;

use tracing::info;
use warden_aws::api_calls::pause;
use warden_core::action::Action;
use warden_core::baseline::{Baseline, Mode};
use warden_core::controls::{Control, ControlId, Judgement, Scanning};
use warden_core::observed::{Observed, RegistryScanning, RepositoryFacts};
use warden_core::registry::{Applied, Registry, RegistryError};
use warden_core::report::{RegistryReport, Status};
use warden_core::vulnerabilities::Date;

use crate::converge::{jittered, SETTLE};

/// Times the missing filters are put (and read back) before the run reports an error.
const ATTEMPTS: usize = 3;

/// What the rules lack, judged over every governed repository.
#[derive(Default)]
struct Gaps<'a> {
    /// Fixes to make (a registry filter once; a repository setting per repository), with the repository each
    /// is made for, only where the repository's scanning is enforced.
    fixes: Vec<(&'a RepositoryFacts, Action)>,
    /// Every repository the rules don't cover (enforced or audited).
    uncovered: Vec<String>,
    /// Repositories no rule can cover, with why.
    violations: Vec<String>,
}

/// Governs the registry's scanning rules over every repository.
pub(crate) async fn govern_registry_scanning(
    registry: &dyn Registry,
    baseline: &Baseline,
    dry_run: bool,
) -> RegistryReport {
    let repositories = match registry.list_repositories().await {
        Ok(all) => all,
        Err(error) => return failed(None, error),
    };
    let mut fixed: Option<RegistryReport> = None;
    for attempt in 0..=ATTEMPTS {
        let rules = match registry.registry_scanning().await {
            Ok(rules) => rules,
            Err(error) => return failed(fixed, error),
        };
        let gaps = match gaps(registry, baseline, &repositories, &rules).await {
            Ok(gaps) => gaps,
            Err(error) => return failed(fixed, error),
        };
        if gaps.uncovered.is_empty() && gaps.violations.is_empty() {
            return fixed.unwrap_or_else(|| RegistryReport::new(ControlId::Scanning, Status::Compliant));
        }
        if !gaps.violations.is_empty() {
            let mut report = RegistryReport::new(ControlId::Scanning, Status::Violation);
            report.finding = Some(format!("no scanning rule can cover {}", gaps.violations.join("; ")));
            report.remedy = Some("see docs/concepts.md, \"Registry scanning\"".to_string());
            return report;
        }
        let status = match (gaps.fixes.is_empty(), dry_run) {
            (true, _) => Status::Drift,
            (false, true) => Status::Pending,
            (false, false) => Status::Fixed,
        };
        let mut report = RegistryReport::new(ControlId::Scanning, status);
        report.finding = Some(format!("the scanning rules no longer cover {}", listed(gaps.uncovered)));
        report.changes =
            gaps.fixes.iter().map(|(facts, action)| describe(facts, action, baseline, &repositories)).collect();
        if status != Status::Fixed {
            return report;
        }
        if attempt == ATTEMPTS {
            break;
        }
        let mut written = false;
        for (facts, action) in &gaps.fixes {
            info!(repository = %facts.name, action = %action.describe(), "restoring scanning");
            match registry.apply(facts, action).await {
                Ok(applied) => written |= applied == Applied::Written,
                Err(error) => return failed(Some(report), error),
            }
        }
        if !written {
            // Another writer made every fix since the rules were read: judge them again (compliant, or not).
            continue;
        }
        // Read back once a put another writer started before these has landed (see `converge`).
        pause(jittered(SETTLE)).await;
        fixed = Some(report);
    }
    let cause = format!("still not covered after {ATTEMPTS} attempts: another writer keeps changing the rules");
    failed(fixed, RegistryError::Failed { operation: "PutRegistryScanningConfiguration".into(), message: cause })
}

/// Judges the scanning control for every governed repository under `rules`; a filter several repositories
/// need is one fix.
async fn gaps<'a>(
    registry: &dyn Registry,
    baseline: &Baseline,
    repositories: &'a [RepositoryFacts],
    rules: &RegistryScanning,
) -> Result<Gaps<'a>, RegistryError> {
    let mut gaps = Gaps::default();
    let mut filters = BTreeSet::new();
    for facts in repositories {
        let Ok(want) = baseline.resolve(&facts.name) else { continue };
        let mode = want.scanning.mode;
        if mode == Mode::Off || baseline.exemption_by_name(&facts.name, Date::today()).is_some() {
            continue;
        }
        let have = Observed {
            facts: facts.clone(),
            lifecycle_policy: None,
            repository_policy: None,
            tags: Default::default(),
            registry_scanning: Some(rules.clone()),
            key_manager: None,
        };
        let judgement = Scanning.judge(&want, &have);
        if judgement == Judgement::Compliant
            || baseline.exemption_by_tags(&facts.name, &registry.tags(&facts.arn).await?, Date::today()).is_some()
        {
            continue;
        }
        match judgement {
            Judgement::Compliant => {}
            Judgement::Violation { finding, .. } => gaps.violations.push(format!("{}: {finding}", facts.name)),
            Judgement::Drift { .. } if mode == Mode::Audit => gaps.uncovered.push(facts.name.clone()),
            Judgement::Drift { actions, .. } => {
                gaps.uncovered.push(facts.name.clone());
                for action in actions {
                    let first = match &action {
                        Action::AddRegistryScanFilter { frequency, filter, .. } => {
                            filters.insert((frequency.as_str(), filter.clone()))
                        }
                        // One switch for the registry, whichever repository asked first.
                        Action::SetRegistryScanType { scan_type } => {
                            filters.insert(("scan type", scan_type.as_str().to_string()))
                        }
                        _ => true,
                    };
                    if first {
                        gaps.fixes.push((facts, action));
                    }
                }
            }
        }
    }
    Ok(gaps)
}

/// One line for a fix; a registry filter also names the repositories there now that it covers and the baseline
/// leaves unscanned (exempt by name, or scanning off).
fn describe(facts: &RepositoryFacts, action: &Action, baseline: &Baseline, repositories: &[RepositoryFacts]) -> String {
    let Action::AddRegistryScanFilter { filter, .. } = action else {
        return format!("{}: {}", facts.name, action.describe());
    };
    let unwanted = |name: &str| {
        baseline.exemption_by_name(name, Date::today()).is_some()
            || baseline.resolve(name).is_ok_and(|want| want.scanning.mode == Mode::Off)
    };
    let also: Vec<String> = repositories
        .iter()
        .map(|r| r.name.clone())
        .filter(|name| warden_core::scan_filter::matches(filter, name) && unwanted(name))
        .collect();
    match also.is_empty() {
        true => action.describe(),
        false => format!(
            "{}; repositories there now it covers the baseline leaves unscanned: {}",
            action.describe(),
            listed(also)
        ),
    }
}

/// Up to five names, then how many more.
fn listed(mut names: Vec<String>) -> String {
    let more = names.len().saturating_sub(5);
    names.truncate(5);
    match more {
        0 => names.join(", "),
        more => format!("{} and {more} more", names.join(", ")),
    }
}

fn failed(report: Option<RegistryReport>, error: RegistryError) -> RegistryReport {
    let mut report = report.unwrap_or_else(|| RegistryReport::new(ControlId::Scanning, Status::Error));
    report.status = Status::Error;
    report.error = Some(error.to_string());
    report
}

#[cfg(test)]
mod tests {
    use crate::converge::tests::{finished_at_once, Tags};

    use super::*;

    /// Governs the registry's scanning (no rule covers its one repository at first); the report, and whether it
    /// finished on its first poll, that is without pausing.
    async fn govern(registry: &Tags) -> (RegistryReport, bool) {
        let baseline = Baseline::builtin().expect("built-in");
        finished_at_once(govern_registry_scanning(registry, &baseline, false)).await
    }

    #[tokio::test]
    async fn a_rule_this_run_put_is_read_back_after_a_pause_and_reported_fixed() {
        let (report, at_once) = govern(&Tags::answering(Applied::Written)).await;
        assert_eq!(report.status, Status::Fixed, "{report:?}");
        assert!(!at_once, "a registry-wide put must settle before it is read back");
    }

    #[tokio::test]
    async fn a_rule_another_writer_put_first_is_compliant_and_not_waited_for() {
        let (report, at_once) = govern(&Tags::answering(Applied::AlreadySo)).await;
        assert_eq!(report.status, Status::Compliant, "{report:?}");
        assert!(at_once, "it paused before reading back a rule it didn't put");
    }
}
