use serde_json::json;

use super::*;
use crate::baseline::{Mode, VulnerabilitySettings};
use crate::controls::ControlId;
use crate::report::ControlReport;
use crate::vulnerabilities::{assess, Date};

fn origin() -> Origin {
    Origin { account: "123456789012".into(), region: "us-east-1".into() }
}

fn image(tags: &[&str]) -> ImageRef {
    ImageRef { digest: format!("sha256:{}", "ab".repeat(32)), tags: tags.iter().map(|t| t.to_string()).collect() }
}

fn assessed(findings: &[Finding]) -> Assessment {
    let settings = VulnerabilitySettings {
        mode: Mode::Audit,
        threshold: [(Severity::Critical, 0), (Severity::High, 5)].into(),
        list_min_severity: Severity::High,
        max_listed: 10,
        suppressions: vec![],
        deadlines: BTreeMap::new(),
    };
    assess(&settings, Some(findings), &BTreeMap::new(), Date::parse("2026-11-23").expect("date"))
}

fn critical(id: &str) -> Finding {
    Finding {
        package: Some("openssl".into()),
        version: Some("1.0.2".into()),
        fixed_in: Some("1.0.2u".into()),
        uri: Some(format!("https://nvd.nist.gov/vuln/detail/{id}")),
        ..Finding::new(id, Severity::Critical)
    }
}

#[test]
fn no_alert_below_the_threshold() {
    let below = assessed(&[Finding::new("CVE-1", Severity::High)]);
    assert!(Alert::vulnerability(&origin(), "app", image(&["v1"]), &below).is_none());
    assert!(Alert::governance(&origin(), "app", None, vec![]).is_none());
}

#[test]
fn vulnerability_alerts_say_what_matters() {
    let alert = Alert::vulnerability(&origin(), "team/app", image(&["v1.2.3"]), &assessed(&[critical("CVE-2024-1")]))
        .expect("an alert");
    assert_eq!(alert.severity, Severity::Critical);
    assert_eq!(alert.subject(), "ecr-warden: CRITICAL vulnerabilities in team/app:v1.2.3: CRITICAL 1");
    let body = alert.body();
    for expected in [
        "1 CRITICAL finding(s), more than the 0 accepted",
        "- CRITICAL CVE-2024-1 openssl 1.0.2 (fixed in 1.0.2u)",
        "https://nvd.nist.gov/vuln/detail/CVE-2024-1",
        "https://us-east-1.console.aws.amazon.com/ecr/repositories/private/123456789012/team/app/_/image/sha256:",
        &alert.id,
    ] {
        assert!(body.contains(expected), "{expected} not in\n{body}");
    }
    assert_eq!(alert.repository_arn, "arn:aws:ecr:us-east-1:123456789012:repository/team/app");
    let attributes = alert.attributes();
    assert_eq!(attributes[0], ("severity", "CRITICAL".to_string()));
    assert_eq!(attributes[2], ("kind", "vulnerability".to_string()));
}

#[test]
fn ids_are_deterministic_and_change_with_the_finding_set() {
    let one = assessed(&[critical("CVE-1")]);
    let a = Alert::vulnerability(&origin(), "app", image(&[]), &one).expect("alert");
    let b = Alert::vulnerability(&origin(), "app", image(&[]), &one).expect("alert");
    assert_eq!(a, b);
    assert_eq!(a.id.len(), 32);
    let two = assessed(&[critical("CVE-1"), critical("CVE-2")]);
    let c = Alert::vulnerability(&origin(), "app", image(&[]), &two).expect("alert");
    assert_ne!(a.id, c.id);
    let elsewhere = Origin { region: "eu-west-1".into(), ..origin() };
    assert_ne!(a.id, Alert::vulnerability(&elsewhere, "app", image(&[]), &one).expect("alert").id);
    let mut other_image = image(&[]);
    other_image.digest = format!("sha256:{}", "cd".repeat(32));
    assert_ne!(a.id, Alert::vulnerability(&origin(), "app", other_image, &one).expect("alert").id);
    let retagged = Alert::vulnerability(&origin(), "app", image(&["v2"]), &one).expect("alert");
    assert_eq!(a.id, retagged.id, "the same image and findings, whatever its tags");
}

#[test]
fn subjects_stay_under_100_printable_ascii_characters() {
    let long_name = format!("{}/service", "very-long-team-name".repeat(12));
    let alert = Alert::vulnerability(&origin(), &long_name, image(&["ünïcode"]), &assessed(&[critical("CVE-1")]))
        .expect("alert");
    let subject = alert.subject();
    assert!(subject.len() < 100, "{}", subject.len());
    assert!(subject.ends_with("..."));
    assert!(subject.chars().all(|c| c.is_ascii_graphic() || c == ' '), "{subject}");
}

#[test]
fn untagged_images_are_named_by_their_digest() {
    let alert = Alert::vulnerability(&origin(), "app", image(&[]), &assessed(&[critical("CVE-1")])).expect("alert");
    assert!(alert.title.contains("app@sha256:abababababab:"), "{}", alert.title);
    assert!(alert.body().contains("(untagged)"));
}

#[test]
fn expired_suppressions_are_noted() {
    let settings = VulnerabilitySettings {
        mode: Mode::Audit,
        threshold: [(Severity::Critical, 0)].into(),
        list_min_severity: Severity::High,
        max_listed: 10,
        suppressions: vec![crate::vulnerabilities::Suppression {
            id: "CVE-1".into(),
            reason: "behind a firewall".into(),
            expires: Date::parse("2026-01-01").expect("date"),
        }],
        deadlines: BTreeMap::new(),
    };
    let today = Date::parse("2026-11-23").expect("date");
    let a = assess(&settings, Some(&[critical("CVE-1")]), &BTreeMap::new(), today);
    let alert = Alert::vulnerability(&origin(), "app", image(&[]), &a).expect("alert");
    assert!(alert.body().contains("The suppression of CVE-1 (\"behind a firewall\") expired on 2026-01-01"));
}

#[test]
fn governance_findings_come_from_violations_and_removed_public_statements() {
    let public = json!({"Sid": "Everyone", "Effect": "Allow", "Principal": "*", "Action": "ecr:*"});
    let report = RepositoryReport {
        repository: "app".into(),
        outcome: crate::report::Outcome::Governed,
        reason: None,
        exemption: None,
        vulnerabilities: None,
        controls: vec![
            ControlReport {
                control: ControlId::Encryption,
                status: Status::Violation,
                finding: Some("encrypted with AES256, the baseline wants KMS".into()),
                remedy: None,
                actions: vec![],
                error: None,
                lifecycle_impact: None,
                security_hub_control: None,
                in_use: Vec::new(),
            },
            ControlReport {
                control: ControlId::RepositoryPolicy,
                status: Status::Fixed,
                finding: None,
                remedy: None,
                actions: vec![Action::DeleteRepositoryPolicy { removed: vec![public] }],
                error: None,
                lifecycle_impact: None,
                security_hub_control: None,
                in_use: Vec::new(),
            },
        ],
    };
    let found = governance_findings(&report);
    assert_eq!(found.len(), 2);
    assert!(found.iter().any(|f| f.severity == Severity::High && f.text.contains("removed: Everyone")));
    let alert = Alert::governance(&origin(), "app", None, found.clone()).expect("alert");
    assert_eq!(alert.kind.detail_type(), "ECR Governance Finding");
    assert_eq!(alert.severity, Severity::High);
    assert!(alert.subject().contains("2 findings"), "{}", alert.subject());
    let mut reversed = found;
    reversed.reverse();
    assert_eq!(alert.id, Alert::governance(&origin(), "app", None, reversed).expect("alert").id, "order-free");
}

#[test]
fn a_function_arn_names_its_account_and_region() {
    let home = Origin::of_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:ecr-warden-events:live");
    assert_eq!(home, Some(Origin { account: "123456789012".into(), region: "eu-west-1".into() }));
    assert!(Origin::of_function_arn("arn:aws:lambda:eu-west-1:123456789012:function:f").is_some());
    for not_one in ["arn:aws:ecr:eu-west-1:123456789012:repository/x", "arn:aws:lambda:eu-west-1:1:function:f", "f"] {
        assert_eq!(Origin::of_function_arn(not_one), None, "{not_one}");
    }
}
