use std::collections::BTreeMap;

use super::*;
use crate::baseline::{Mode, VulnerabilitySettings};

fn settings(threshold: &[(Severity, u32)], suppressions: Vec<Suppression>) -> VulnerabilitySettings {
    VulnerabilitySettings {
        mode: Mode::Audit,
        threshold: threshold.iter().copied().collect(),
        list_min_severity: Severity::High,
        max_listed: 3,
        suppressions,
        deadlines: BTreeMap::new(),
    }
}

fn finding(id: &str, severity: Severity, score: Option<f64>) -> Finding {
    Finding { score, package: Some("openssl".into()), ..Finding::new(id, severity) }
}

fn date(text: &str) -> Date {
    Date::parse(text).expect("a date")
}

fn suppression(id: &str, expires: &str) -> Suppression {
    Suppression { id: id.into(), reason: "not reachable".into(), expires: date(expires) }
}

const TODAY: &str = "2026-11-23";

#[test]
fn the_threshold_alerts_only_when_a_count_is_over_its_limit() {
    let s = settings(&[(Severity::Critical, 0), (Severity::High, 5)], vec![]);
    let five_high: Vec<Finding> = (0..5).map(|i| finding(&format!("CVE-{i}"), Severity::High, None)).collect();
    let a = assess(&s, Some(&five_high), &BTreeMap::new(), date(TODAY));
    assert!(!a.alerts(), "5 high is at the limit, not over it");
    let mut six_high = five_high.clone();
    six_high.push(finding("CVE-6", Severity::High, None));
    let a = assess(&s, Some(&six_high), &BTreeMap::new(), date(TODAY));
    assert_eq!(a.exceeded, vec![Exceeded { severity: Severity::High, count: 6, limit: 5 }]);
    let one_critical = [finding("CVE-C", Severity::Critical, None)];
    let a = assess(&s, Some(&one_critical), &BTreeMap::new(), date(TODAY));
    assert_eq!(a.severity(), Some(Severity::Critical));
    let many_medium: Vec<Finding> = (0..50).map(|i| finding(&format!("M-{i}"), Severity::Medium, None)).collect();
    assert!(!assess(&s, Some(&many_medium), &BTreeMap::new(), date(TODAY)).alerts(), "MEDIUM has no limit");
}

#[test]
fn event_counts_are_used_when_the_findings_are_unknown() {
    let s = settings(&[(Severity::Critical, 0)], vec![suppression("CVE-1", "2099-01-01")]);
    let counts = BTreeMap::from([(Severity::Critical, 10), (Severity::Medium, 9)]);
    let a = assess(&s, None, &counts, date(TODAY));
    assert!(a.alerts() && !a.from_findings);
    assert_eq!(a.counts, counts);
    assert!(!assess(&s, None, &BTreeMap::new(), date(TODAY)).alerts(), "empty counts ({{}}) mean no findings");
}

#[test]
fn suppressions_take_findings_out_until_they_expire() {
    let findings = [finding("CVE-1", Severity::Critical, None), finding("CVE-1", Severity::Critical, None)];
    let live = settings(&[(Severity::Critical, 0)], vec![suppression("CVE-1", TODAY)]);
    let a = assess(&live, Some(&findings), &BTreeMap::new(), date(TODAY));
    assert!(!a.alerts(), "suppressed through its last day");
    assert_eq!(a.suppressed.len(), 1);
    assert_eq!(a.suppressed[0].findings, 2);
    let a = assess(&live, Some(&findings), &BTreeMap::new(), date("2026-11-24"));
    assert!(a.alerts(), "expired the day after");
    assert_eq!(a.expired, vec![suppression("CVE-1", TODAY)]);
    assert_eq!(a.counts[&Severity::Critical], 2);
}

#[test]
fn listed_findings_are_the_most_severe_then_highest_scored() {
    let findings = [
        finding("CVE-LOW", Severity::Low, Some(9.9)),
        finding("CVE-H1", Severity::High, Some(7.0)),
        finding("CVE-C2", Severity::Critical, None),
        finding("CVE-H2", Severity::High, Some(8.8)),
        finding("CVE-C1", Severity::Critical, Some(9.8)),
        finding("CVE-U", Severity::Untriaged, None),
    ];
    let s = settings(&[(Severity::Critical, 0)], vec![]);
    let a = assess(&s, Some(&findings), &BTreeMap::new(), date(TODAY));
    let ids: Vec<&str> = a.listed.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids, ["CVE-C1", "CVE-C2", "CVE-H2"], "max_listed 3, LOW and UNTRIAGED below HIGH");
    assert_eq!(a.not_listed, 1, "CVE-H1 didn't fit");
    assert_eq!(a.counts.values().sum::<u32>(), 6, "every finding counts, listed or not");
}

#[test]
fn severities_parse_as_ecr_and_inspector_write_them() {
    assert_eq!(Severity::parse("CRITICAL"), Severity::Critical);
    assert_eq!(Severity::parse("Untriaged"), Severity::Untriaged);
    assert_eq!(Severity::parse("TOTAL"), Severity::Undefined);
    assert!(Severity::Critical < Severity::High && Severity::Informational < Severity::Untriaged);
}

#[test]
fn dates_are_read_from_toml_dates_and_strings() {
    #[derive(serde::Deserialize)]
    struct Holder {
        expires: Date,
    }
    let from_toml: Holder = toml::from_str("expires = 2027-01-31").expect("a TOML date");
    let from_text: Holder = toml::from_str("expires = \"2027-01-31\"").expect("a string");
    assert_eq!(from_toml.expires, from_text.expires);
    assert_eq!(from_toml.expires.to_string(), "2027-01-31");
    assert!(toml::from_str::<Holder>("expires = 2027-01-31T10:00:00Z").is_err(), "a date, not a time");
    assert!(toml::from_str::<Holder>("expires = \"31/01/2027\"").is_err());
    assert_eq!(Date::from_unix_seconds(0).to_string(), "1970-01-01");
}
