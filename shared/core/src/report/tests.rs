use super::*;
use crate::controls::testing::{builtin, fresh_repository};

#[test]
fn a_fresh_repository_plans_a_fix_for_every_enforced_control() {
    let plan = plan(&builtin(), &fresh_repository());
    let statuses: Vec<(ControlId, Status)> = plan.iter().map(|c| (c.control, c.status)).collect();
    assert_eq!(
        statuses,
        [
            (ControlId::TagMutability, Status::Pending),
            (ControlId::Scanning, Status::Pending),
            (ControlId::Encryption, Status::Violation),
            (ControlId::LifecyclePolicy, Status::Pending),
            (ControlId::RepositoryPolicy, Status::Compliant),
            (ControlId::Tags, Status::Pending),
        ]
    );
}

#[test]
fn audit_mode_reports_drift_without_pending_changes() {
    let mut want = builtin();
    want.audit_only();
    let plan = plan(&want, &fresh_repository());
    assert!(plan.iter().all(|c| c.status != Status::Pending));
    assert_eq!(plan[0].status, Status::Drift);
    assert!(!plan[0].actions.is_empty(), "the would-be fix is still shown");
}

#[test]
fn verdicts_rank_failures_then_pending_then_unfixable() {
    let report = |status| RepositoryReport {
        repository: "r".into(),
        outcome: Outcome::Governed,
        reason: None,
        exemption: None,
        vulnerabilities: None,
        controls: vec![ControlReport {
            control: ControlId::Tags,
            status,
            finding: None,
            remedy: None,
            actions: vec![],
            error: None,
            lifecycle_impact: None,
            security_hub_control: None,
            in_use: Vec::new(),
        }],
    };
    let verdict = |statuses: &[Status]| Summary::of(&statuses.iter().map(|s| report(*s)).collect::<Vec<_>>()).verdict();
    assert_eq!(verdict(&[Status::Compliant, Status::Fixed, Status::Off]), Verdict::Clean);
    assert_eq!(verdict(&[Status::Violation, Status::Pending]), Verdict::Pending);
    assert_eq!(verdict(&[Status::Violation, Status::Drift]), Verdict::Unfixable);
    assert_eq!(verdict(&[Status::Pending, Status::Error]), Verdict::Failed);
    let gone = RepositoryReport::without_controls("g", Outcome::Gone, "deleted");
    assert_eq!(Summary::of(&[gone]).verdict(), Verdict::Clean);
}
