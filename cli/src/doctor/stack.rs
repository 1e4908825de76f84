//! `doctor --stack NAME`: the deployed stack's own checks (its state, rules and queue triggers, dead-letter
//! queues, functions' recent failures), and what its outputs tell the other checks (the baseline parameter, the
//! alert topic and bus the functions use).

use warden_runtime::aws::doctor::stack::{deployed_stack, function_health, queue_messages, triggers, DeployedStack};
use warden_runtime::aws::SdkConfig;
use warden_runtime::core::baseline::AlertTargets;
use warden_runtime::core::doctor::stack::{dead_letters_check, functions_check, rules_check, stack_check, DeadLetters};
use warden_runtime::core::doctor::{Check, Health};

/// How far back the functions' failures are read.
pub(super) const HOURS: u32 = 24;

/// The stack's dead-letter queues by logical ID, and what each holds.
const DEAD_LETTER_QUEUES: [(&str, &str); 2] =
    [("FailedEventsQueue", "the failed-events queue"), ("WorkDeadLetterQueue", "the work dead-letter queue")];

/// The stack `name`'s checks, and the stack when it exists.
pub(super) async fn checks(config: &SdkConfig, name: &str, region: &str) -> (Vec<Check>, Option<DeployedStack>) {
    let stack = match deployed_stack(config, name).await {
        Ok(stack) => stack,
        Err(error) => return (vec![unreadable("stack", "the stack", &error)], None),
    };
    let Some(stack) = stack else { return (vec![stack_check(name, None, region)], None) };
    let mut checks = vec![stack_check(name, Some(&stack.status), region)];
    checks.push(match triggers(config, &stack).await {
        Ok(triggers) => rules_check(&triggers),
        Err(error) => unreadable("rules", "the stack's rules", &error),
    });
    checks.push(dead_letters(config, &stack).await);
    let functions: Vec<String> = stack.of_kind("AWS::Lambda::Function").map(|f| f.physical_id.clone()).collect();
    checks.push(match function_health(config, &functions, HOURS).await {
        Ok(health) => functions_check(&health, HOURS),
        Err(error) => unreadable("functions", "the functions' metrics", &error),
    });
    (checks, Some(stack))
}

async fn dead_letters(config: &SdkConfig, stack: &DeployedStack) -> Check {
    let mut queues = Vec::new();
    for queue in stack.of_kind("AWS::SQS::Queue") {
        let Some((_, holds)) = DEAD_LETTER_QUEUES.iter().find(|(id, _)| *id == queue.logical_id) else { continue };
        match queue_messages(config, &queue.physical_id).await {
            Ok(messages) => queues.push(DeadLetters { holds, url: queue.physical_id.clone(), messages }),
            Err(error) => return unreadable("dead-letters", holds, &error),
        }
    }
    dead_letters_check(&queues)
}

/// A check whose reads failed: a problem naming the policy that grants them.
fn unreadable(check: &'static str, what: &str, error: &str) -> Check {
    Check::unreadable(check, Health::Problem, format!("can't read {what}: {error}"))
}

/// The baseline source the stack's functions read (its `BaselineParameter` output), as `ssm:NAME`.
pub(super) fn baseline_parameter(stack: Option<&DeployedStack>) -> Option<String> {
    let name = stack?.outputs.get("BaselineParameter")?;
    Some(format!("ssm:{name}"))
}

/// The alert targets the stack's functions use: its `AlertTopicArn` and `AlertBusName` outputs (which the
/// functions' environment sets) over the baseline's.
pub(super) fn alert_targets(stack: Option<&DeployedStack>, baseline: &AlertTargets) -> AlertTargets {
    let mut targets = baseline.clone();
    let output = |key: &str| stack.and_then(|s| s.outputs.get(key)).filter(|v| !v.is_empty()).cloned();
    if let Some(topic) = output("AlertTopicArn") {
        targets.sns_topic_arn = Some(topic);
    }
    if let Some(bus) = output("AlertBusName") {
        targets.event_bus = Some(bus);
    }
    targets
}
