//! `doctor --stack`: a deployed ecr-warden stack judged from what its resources say: the stack's own state, its
//! rules and queue triggers, its dead-letter queues and its functions' recent failures. Pure: the reads are the
//! `warden-aws` crate's.

use super::{Check, Health};

/// Whether `name` can name a CloudFormation stack: a stack name (a letter, then letters, digits and hyphens, at
/// most 128 characters: CloudFormation API reference, `CreateStack`'s `StackName`) or a stack ID (its ARN).
pub fn is_stack_name(name: &str) -> bool {
    let plain = name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-');
    plain || (name.starts_with("arn:") && name.contains(":cloudformation:") && name.contains(":stack/"))
}

/// The stack as CloudFormation tells it: `status` is `None` when no such stack exists.
pub fn stack_check(name: &str, status: Option<&str>, region: &str) -> Check {
    let Some(status) = status else {
        return Check::found(
            "stack",
            Health::Problem,
            format!("no stack {name} exists in {region}"),
            "name the stack ecr-warden was deployed as (--stack), in its region (AWS_REGION)",
        );
    };
    let (health, what) = match status {
        "UPDATE_ROLLBACK_COMPLETE" => {
            (Health::Warning, "its last update rolled back: the functions run the template from before it")
        }
        "ROLLBACK_COMPLETE" | "DELETE_COMPLETE" => (Health::Problem, "it isn't deployed: nothing runs"),
        s if s.ends_with("_FAILED") => (Health::Problem, "its last operation failed: it may be half deployed"),
        s if s.ends_with("_IN_PROGRESS") => (Health::Warning, "an operation on it is under way: check again after"),
        _ => (Health::Ok, "deployed"),
    };
    match health {
        Health::Ok => Check::ok("stack", format!("stack {name} is {status}: {what}")),
        _ => Check::found(
            "stack",
            health,
            format!("stack {name} is {status}: {what}"),
            format!("read its events (aws cloudformation describe-stack-events --stack-name {name}) and deploy again"),
        ),
    }
}

/// What brings work to a function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerKind {
    /// An EventBridge rule matching events.
    EventRule,
    /// An EventBridge rule on a schedule (the nightly audit).
    Schedule,
    /// An SQS queue a function reads (the backfill's work queue).
    Queue,
}

/// Whether a rule or queue trigger of the stack works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerState {
    /// Enabled.
    Enabled,
    /// Disabled.
    Disabled,
    /// Deleted outside CloudFormation: the stack still lists it, the service doesn't have it.
    Gone,
}

/// One rule or queue trigger of the stack, and its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Trigger {
    /// The rule's name, or the event source mapping's UUID.
    pub name: String,
    /// What it is.
    pub kind: TriggerKind,
    /// Enabled, disabled or gone.
    pub state: TriggerState,
}

/// Every rule and queue trigger is enabled. One deleted outside CloudFormation is a problem, and a deploy
/// doesn't bring it back (CloudFormation acts on template changes; its drift detection reports the resource
/// `DELETED`); a disabled event rule or queue is a problem (its events never reach the function); a disabled
/// schedule is a warning (the stack's `EnableNightlyAudit=false` does it on purpose).
pub fn rules_check(triggers: &[Trigger]) -> Check {
    if triggers.is_empty() {
        return Check::found(
            "rules",
            Health::Warning,
            "the stack has no EventBridge rule or queue trigger: no event reaches a function",
            "name the hub stack (deployed from template.yaml), not a member stack",
        );
    }
    let gone: Vec<&str> = triggers.iter().filter(|t| t.state == TriggerState::Gone).map(|t| t.name.as_str()).collect();
    if !gone.is_empty() {
        return Check::found(
            "rules",
            Health::Problem,
            format!(
                "{} of the stack deleted outside CloudFormation: what it carried never reaches ecr-warden",
                gone.join(", ")
            ),
            "`aws cloudformation detect-stack-drift` reports it DELETED and a deploy without template changes \
             doesn't recreate it: delete the stack and deploy it again",
        );
    }
    let disabled = |kind: TriggerKind| -> Vec<&Trigger> {
        triggers.iter().filter(|t| t.kind == kind && t.state == TriggerState::Disabled).collect()
    };
    let (rules, queues, schedules) =
        (disabled(TriggerKind::EventRule), disabled(TriggerKind::Queue), disabled(TriggerKind::Schedule));
    let mut fixes: Vec<String> = rules.iter().map(|r| format!("aws events enable-rule --name {}", r.name)).collect();
    fixes.extend(queues.iter().map(|q| format!("aws lambda update-event-source-mapping --uuid {} --enabled", q.name)));
    if !rules.is_empty() || !queues.is_empty() {
        let mut what = Vec::new();
        if !rules.is_empty() {
            let names: Vec<&str> = rules.iter().map(|r| r.name.as_str()).collect();
            what.push(format!("rule {} disabled: the events it routes never reach ecr-warden", names.join(", ")));
        }
        if !queues.is_empty() {
            let names: Vec<&str> = queues.iter().map(|q| q.name.as_str()).collect();
            what.push(format!("queue trigger {} disabled: backfill work waits unread", names.join(", ")));
        }
        fixes.extend(schedules.iter().map(|s| format!("aws events enable-rule --name {}", s.name)));
        return Check::found("rules", Health::Problem, what.join("; "), fixes.join("; "));
    }
    if !schedules.is_empty() {
        let names: Vec<&str> = schedules.iter().map(|s| s.name.as_str()).collect();
        return Check::found(
            "rules",
            Health::Warning,
            format!(
                "the nightly audit's schedule {} is disabled: drift an unheard event leaves is found only by hand",
                names.join(", ")
            ),
            format!("deploy with EnableNightlyAudit=true, or aws events enable-rule --name {}", names.join(" ")),
        );
    }
    let rules = triggers.iter().filter(|t| t.kind != TriggerKind::Queue).count();
    let queues = triggers.len() - rules;
    Check::ok("rules", format!("{rules} rules and {queues} queue triggers are enabled"))
}

/// A dead-letter queue of the stack and how many messages wait in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadLetters {
    /// What it holds: `failed events` or `work dead letters`.
    pub holds: &'static str,
    /// Its URL.
    pub url: String,
    /// Messages waiting (`ApproximateNumberOfMessages`).
    pub messages: u64,
}

/// The dead-letter queues are empty: a message there is an event or a work batch that failed every retry.
pub fn dead_letters_check(queues: &[DeadLetters]) -> Check {
    if queues.is_empty() {
        return Check::ok("dead-letters", "the stack has no dead-letter queue");
    }
    let waiting: Vec<String> = queues
        .iter()
        .filter(|q| q.messages > 0)
        .map(|q| format!("{} in {} ({})", q.messages, q.holds, q.url))
        .collect();
    if waiting.is_empty() {
        let names: Vec<&str> = queues.iter().map(|q| q.holds).collect();
        return Check::ok("dead-letters", format!("no message waits in {}", names.join(" or ")));
    }
    Check::found(
        "dead-letters",
        Health::Problem,
        format!("messages wait: {}: events or work that failed every retry, never governed", waiting.join("; ")),
        "follow docs/operate.md, \"Runbook: messages in a dead-letter queue\"",
    )
}

/// A function's failures over the hours looked at, from CloudWatch: Lambda's own `Invocations` and `Errors`
/// (timeouts and crashes included) and the function's EMF metrics `RepositoriesFailed` and `AlertSinkFailures`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct FunctionHealth {
    /// The function's name.
    pub name: String,
    /// Invocations.
    pub invocations: f64,
    /// Failed invocations (Lambda retries those of asynchronous events).
    pub failed: f64,
    /// Repositories that couldn't be governed.
    pub repositories_failed: f64,
    /// Alerts a sink didn't take.
    pub alerts_lost: f64,
}

/// The functions' recent failures: an alert lost is a problem, a failed invocation or repository a warning.
pub fn functions_check(functions: &[FunctionHealth], hours: u32) -> Check {
    let invocations: f64 = functions.iter().map(|f| f.invocations).sum();
    let troubled: Vec<&FunctionHealth> =
        functions.iter().filter(|f| f.failed > 0.0 || f.repositories_failed > 0.0 || f.alerts_lost > 0.0).collect();
    if troubled.is_empty() {
        return Check::ok(
            "functions",
            format!("{} functions, {invocations} invocations in the last {hours} hours, none failed", functions.len()),
        );
    }
    let said: Vec<String> = troubled
        .iter()
        .map(|f| {
            let mut parts = Vec::new();
            if f.failed > 0.0 {
                parts.push(format!("{} of {} invocations failed", f.failed, f.invocations));
            }
            if f.repositories_failed > 0.0 {
                parts.push(format!("{} repositories failed", f.repositories_failed));
            }
            if f.alerts_lost > 0.0 {
                parts.push(format!("{} alerts not delivered", f.alerts_lost));
            }
            format!("{}: {}", f.name, parts.join(", "))
        })
        .collect();
    let health = match troubled.iter().any(|f| f.alerts_lost > 0.0) {
        true => Health::Problem,
        false => Health::Warning,
    };
    let first = troubled[0].name.as_str();
    Check::found(
        "functions",
        health,
        format!("in the last {hours} hours: {}", said.join("; ")),
        format!(
            "read their errors (aws logs tail /aws/lambda/{first} --since {hours}h --filter-pattern ERROR; \
             docs/operate.md, \"Reading logs\")"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stack_names_and_ids_are_told_from_anything_else() {
        assert!(is_stack_name("ecr-warden"));
        assert!(is_stack_name("arn:aws:cloudformation:eu-west-1:123456789012:stack/ecr-warden/1a2b"));
        for bad in ["", "1stack", "ecr_warden", "a b", &"a".repeat(129)] {
            assert!(!is_stack_name(bad), "{bad}");
        }
    }

    #[test]
    fn a_stack_is_judged_by_its_status() {
        let status = |s| stack_check("ew", s, "eu-west-1").status;
        assert_eq!(status(None), Health::Problem);
        assert_eq!(status(Some("CREATE_COMPLETE")), Health::Ok);
        assert_eq!(status(Some("UPDATE_COMPLETE")), Health::Ok);
        assert_eq!(status(Some("UPDATE_ROLLBACK_COMPLETE")), Health::Warning);
        assert_eq!(status(Some("UPDATE_IN_PROGRESS")), Health::Warning);
        assert_eq!(status(Some("UPDATE_ROLLBACK_FAILED")), Health::Problem);
        assert_eq!(status(Some("ROLLBACK_COMPLETE")), Health::Problem);
    }

    #[test]
    fn a_disabled_event_rule_is_a_problem_and_a_disabled_schedule_a_warning() {
        let trigger = |name: &str, kind| Trigger { name: name.into(), kind, state: TriggerState::Enabled };
        let all = [
            trigger("pushes", TriggerKind::EventRule),
            trigger("nightly", TriggerKind::Schedule),
            trigger("1234-abcd", TriggerKind::Queue),
        ];
        let ok = rules_check(&all);
        assert_eq!((ok.status, ok.what.as_str()), (Health::Ok, "2 rules and 1 queue triggers are enabled"));
        let mut schedule_off = all.clone();
        schedule_off[1].state = TriggerState::Disabled;
        assert_eq!(rules_check(&schedule_off).status, Health::Warning);
        let mut rule_off = schedule_off.clone();
        rule_off[0].state = TriggerState::Disabled;
        let problem = rules_check(&rule_off);
        assert_eq!(problem.status, Health::Problem);
        assert_eq!(
            problem.fix.as_deref(),
            Some("aws events enable-rule --name pushes; aws events enable-rule --name nightly")
        );
        assert_eq!(rules_check(&[]).status, Health::Warning);
        let mut rule_gone = rule_off.clone();
        rule_gone[2].state = TriggerState::Gone;
        let gone = rules_check(&rule_gone);
        assert_eq!(gone.status, Health::Problem);
        assert!(gone.what.starts_with("1234-abcd of the stack deleted outside CloudFormation"), "{}", gone.what);
        assert!(gone.fix.as_deref().is_some_and(|fix| fix.contains("detect-stack-drift")), "{gone:?}");
    }

    #[test]
    fn waiting_dead_letters_are_a_problem() {
        let queue = |holds, messages| DeadLetters { holds, url: format!("https://q/{messages}"), messages };
        assert_eq!(dead_letters_check(&[queue("failed events", 0), queue("work dead letters", 0)]).status, Health::Ok);
        let waiting = dead_letters_check(&[queue("failed events", 3), queue("work dead letters", 0)]);
        assert_eq!(waiting.status, Health::Problem);
        assert!(waiting.what.starts_with("messages wait: 3 in failed events (https://q/3)"), "{}", waiting.what);
    }

    #[test]
    fn a_lost_alert_is_a_problem_and_a_failed_invocation_a_warning() {
        let quiet = FunctionHealth { name: "a".into(), invocations: 10.0, ..Default::default() };
        assert_eq!(functions_check(std::slice::from_ref(&quiet), 24).status, Health::Ok);
        let failing = FunctionHealth { name: "b".into(), invocations: 4.0, failed: 1.0, ..Default::default() };
        let warning = functions_check(&[quiet.clone(), failing.clone()], 24);
        assert_eq!(warning.status, Health::Warning);
        assert_eq!(warning.what, "in the last 24 hours: b: 1 of 4 invocations failed");
        let losing = FunctionHealth { alerts_lost: 2.0, ..failing };
        assert_eq!(functions_check(&[quiet, losing], 24).status, Health::Problem);
    }
}
