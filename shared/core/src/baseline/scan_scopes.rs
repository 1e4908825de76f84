//! The registry scanning filter for each baseline glob that sets scanning, chosen once when the baseline
//! is loaded: the defaults stand for every repository (`*`), a rule for the names its `match` globs cover.
//! A filter may cover names the baseline leaves unscanned (an exemption, a rule turning scanning off):
//! each is found here, with an example name, so that the report says so before anything is written.

use std::collections::BTreeMap;

use crate::controls::{Resolved, Rule, ScanScope, ScanVia};
use crate::glob::{common_match, NameGlob};
use crate::mode::Mode;
use crate::scan_filter;
use crate::section::Problem;

/// The glob standing for the defaults' scope: every repository.
pub(super) const EVERY_REPOSITORY: &str = "**";

/// Every scope's filter, keyed by glob; a problem for each glob whose filter ECR would refuse when the
/// baseline fixes scanning through the registry there.
pub(super) fn scan_scopes(
    defaults: &Resolved,
    rules: &[Rule],
    exempt: &[NameGlob],
) -> (BTreeMap<String, ScanScope>, Vec<Problem>) {
    let mut avoid: Vec<(&NameGlob, &str)> = exempt.iter().map(|glob| (glob, "exempt")).collect();
    for rule in rules.iter().filter(|rule| turns_scanning_off(rule)) {
        avoid.extend(rule.matches.as_slice().iter().map(|glob| (glob, "scanning off")));
    }
    let mut scopes = BTreeMap::new();
    let mut problems = Vec::new();
    if defaults.scanning.mode != Mode::Off {
        scopes.insert(EVERY_REPOSITORY.to_string(), scope(EVERY_REPOSITORY, &avoid));
    }
    for (index, rule) in rules.iter().enumerate() {
        if rule.scanning.is_none() || turns_scanning_off(rule) {
            continue;
        }
        let mut resolved = defaults.clone();
        let by_registry = resolved.apply(&rule.overrides(), "").is_ok()
            && resolved.scanning.mode != Mode::Off
            && resolved.scanning.via == ScanVia::Registry;
        for glob in rule.matches.as_slice() {
            let scope = scope(glob.as_str(), &avoid);
            if let (Err(problem), true) = (&scope.filter, by_registry) {
                problems.push(Problem::new(format!("rules[{index}].match"), problem));
            }
            scopes.insert(glob.as_str().to_string(), scope);
        }
    }
    (scopes, problems)
}

fn turns_scanning_off(rule: &Rule) -> bool {
    rule.scanning.as_ref().is_some_and(|s| s.mode == Some(Mode::Off))
}

fn scope(glob: &str, avoid: &[(&NameGlob, &str)]) -> ScanScope {
    let mut scope = ScanScope::of(glob);
    if let Ok(filter) = &scope.filter {
        let regex = scan_filter::regex(filter);
        scope.also_covers = avoid
            .iter()
            .filter(|(other, _)| other.as_str() != glob)
            .filter_map(|(other, why)| {
                let name = common_match(&regex, other.regex())?;
                Some(format!("`{}` ({why}), e.g. `{name}`", other.as_str()))
            })
            .collect();
    }
    scope
}
