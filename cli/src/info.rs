//! The commands that print what ecr-warden knows without calling AWS: `explain`, `permissions` and
//! `baseline default|schema|validate`.

use std::process::ExitCode;

use anyhow::Context;
use warden_runtime::core::baseline::{self, Baseline, BUILTIN};
use warden_runtime::core::controls::{self, ControlId, Explanation};
use warden_runtime::permissions;

use crate::args::{BaselineCommand, Grantee, OutputFormat, PolicyArgs};
use crate::output;

/// `explain [CONTROL]`: one control, or every control, in words.
pub(crate) fn explain(control: Option<ControlId>, format: OutputFormat) -> anyhow::Result<ExitCode> {
    let explanations: Vec<Explanation> = match control {
        Some(id) => vec![controls::explain(id)],
        None => controls::ids().map(controls::explain).collect(),
    };
    match (format, control) {
        (OutputFormat::Json, Some(_)) => println!("{}", serde_json::to_string_pretty(&explanations[0])?),
        (OutputFormat::Json, None) => println!("{}", serde_json::to_string_pretty(&explanations)?),
        (OutputFormat::Table, Some(_)) => print!("{}", output::explanation_text(&explanations[0])),
        (OutputFormat::Table, None) => print!("{}", output::controls_list(&explanations)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `permissions FUNCTION|member`: the IAM actions the function (or the member role) calls; with `--policy
/// --account --region`, the policy document its role needs, scoped to the deployment's resources.
pub(crate) fn permissions(grantee: Grantee, policy: PolicyArgs) -> anyhow::Result<ExitCode> {
    let printed = match (policy.policy, policy.account, policy.region) {
        (true, Some(account), Some(region)) => {
            let scope = permissions::PolicyScope {
                partition: policy.partition,
                region,
                account,
                baseline_parameter: policy.baseline_parameter,
                alert_topic_arn: policy.alert_topic_arn,
                alert_bus_arn: policy.alert_bus_arn,
                work_queue_arn: policy.work_queue_arn,
                registry_scanning: !policy.no_registry_scanning,
                enhanced_scanning: policy.enhanced_scanning,
                replication: policy.replication,
                registry_policy: policy.registry_policy,
                creation_templates: policy.creation_templates,
                creation_template_role: policy.creation_template_role.clone(),
                signing: policy.signing,
                images_in_use: policy.images_in_use,
                security_hub: policy.security_hub,
                tagging_api: policy.tagging_api,
                baseline_key_arn: policy.baseline_key_arn,
                member_role: policy.member_role,
            };
            match grantee {
                Grantee::Function(function) => permissions::policy_document(function, &scope)?,
                Grantee::Member => permissions::member_policy_document(&scope)?,
                Grantee::Doctor => permissions::doctor_policy_document(&scope)?,
            }
        }
        _ => actions(match grantee {
            Grantee::Function(function) => permissions::for_purpose(function),
            Grantee::Member => permissions::for_member(),
            Grantee::Doctor => permissions::DOCTOR.iter().copied().chain(["ssm:GetParameter"]).collect(),
        }),
    };
    println!("{}", serde_json::to_string_pretty(&printed)?);
    Ok(ExitCode::SUCCESS)
}

/// The `actions` a role grants, those of them that need `Resource: "*"`, and those each optional feature adds.
fn actions(actions: Vec<&'static str>) -> serde_json::Value {
    let optional: serde_json::Map<String, serde_json::Value> = permissions::OPTIONAL
        .iter()
        .map(|(feature, wanted)| {
            let these: Vec<&str> = wanted.iter().copied().filter(|a| actions.contains(a)).collect();
            (feature.to_string(), serde_json::json!(these))
        })
        .collect();
    serde_json::json!({
        "actions": actions,
        "registry_wide": permissions::REGISTRY_WIDE.iter().chain(permissions::IMAGES_IN_USE).collect::<Vec<_>>(),
        "optional": optional,
    })
}

/// `baseline default|schema|validate`.
pub(crate) fn baseline(command: BaselineCommand) -> anyhow::Result<ExitCode> {
    match command {
        BaselineCommand::Default => print!("{BUILTIN}"),
        BaselineCommand::Schema => println!("{}", serde_json::to_string_pretty(&baseline::schema())?),
        BaselineCommand::Validate { file } => {
            let text = std::fs::read_to_string(&file).with_context(|| format!("can't read {}", file.display()))?;
            Baseline::parse(&file.display().to_string(), &text)?;
            println!("{}: valid", file.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}
