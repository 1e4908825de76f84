//! Baseline shorthands for the lifecycle rules people use most (Pulumi Crosswalk's and the AWS CDK's),
//! expanded into policy JSON. Presets keep their order as rule priorities, except that presets selecting
//! every image run last, as ECR requires.

use serde::Deserialize;
use serde_json::{json, Value};

use crate::section::Problem;

/// One preset; exactly one of `keep_newest_untagged`, `expire_untagged_after_days`, `keep_newest` or
/// `expire_older_than_days`, the last two optionally narrowed by `tag_prefixes` or `tag_patterns`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    /// Keep the newest N untagged images (Pulumi Crosswalk's default is 1).
    pub keep_newest_untagged: Option<u64>,
    /// Expire untagged images N days after they were pushed.
    pub expire_untagged_after_days: Option<u64>,
    /// Keep the newest N images (with the tags below, or any image).
    pub keep_newest: Option<u64>,
    /// Expire images pushed more than N days ago (with the tags below, or any image).
    pub expire_older_than_days: Option<u64>,
    /// Narrow `keep_newest` / `expire_older_than_days` to images with all these tag prefixes.
    pub tag_prefixes: Option<Vec<String>>,
    /// Narrow `keep_newest` / `expire_older_than_days` to images matching all these tag patterns.
    pub tag_patterns: Option<Vec<String>>,
}

/// Expands presets into a policy text, or explains what is wrong with them (by position).
pub fn expand(presets: &[Preset]) -> Result<String, Vec<Problem>> {
    let mut problems = Vec::new();
    let mut selections = Vec::new();
    for (index, preset) in presets.iter().enumerate() {
        match selection(preset) {
            Ok(found) => selections.push(found),
            Err(problem) => problems.push(Problem::new(format!("presets[{index}]"), problem)),
        }
    }
    if presets.is_empty() {
        problems.push(Problem::new("presets", "give at least one"));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    // ECR evaluates `any` last and requires it to have the highest priority.
    selections.sort_by_key(|(selection, _)| selection["tagStatus"] == "any");
    let rules: Vec<Value> = selections
        .into_iter()
        .enumerate()
        .map(|(i, (selection, description))| {
            json!({"rulePriority": i + 1, "description": description, "selection": selection, "action": {"type": "expire"}})
        })
        .collect();
    Ok(json!({ "rules": rules }).to_string())
}

fn selection(preset: &Preset) -> Result<(Value, String), String> {
    let kinds = [
        preset.keep_newest_untagged.is_some(),
        preset.expire_untagged_after_days.is_some(),
        preset.keep_newest.is_some(),
        preset.expire_older_than_days.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() != 1 {
        return Err("give exactly one of keep_newest_untagged, expire_untagged_after_days, keep_newest, \
                    expire_older_than_days"
            .to_string());
    }
    let narrowed = preset.tag_prefixes.is_some() || preset.tag_patterns.is_some();
    let keep = |n: u64| json!({"countType": "imageCountMoreThan", "countNumber": n});
    let age = |n: u64| json!({"countType": "sinceImagePushed", "countUnit": "days", "countNumber": n});
    let (mut selection, description) = match preset {
        Preset { keep_newest_untagged: Some(n), .. } => (keep(*n), format!("keep the newest {n} untagged images")),
        Preset { expire_untagged_after_days: Some(n), .. } => {
            (age(*n), format!("expire untagged images {n} days after push"))
        }
        Preset { keep_newest: Some(n), .. } => (keep(*n), format!("keep the newest {n} images")),
        Preset { expire_older_than_days: Some(n), .. } => (age(*n), format!("expire images {n} days after push")),
        _ => return Err("no preset given".to_string()),
    };
    let untagged = preset.keep_newest_untagged.is_some() || preset.expire_untagged_after_days.is_some();
    selection["tagStatus"] = json!(if untagged {
        "untagged"
    } else if narrowed {
        "tagged"
    } else {
        "any"
    });
    if untagged && narrowed {
        return Err("tag_prefixes and tag_patterns don't apply to untagged presets".to_string());
    }
    match (&preset.tag_prefixes, &preset.tag_patterns) {
        (Some(_), Some(_)) => return Err("give tag_prefixes or tag_patterns, not both".to_string()),
        (Some(prefixes), None) => selection["tagPrefixList"] = json!(prefixes),
        (None, Some(patterns)) => selection["tagPatternList"] = json!(patterns),
        (None, None) => {}
    }
    let narrowing = match (&preset.tag_prefixes, &preset.tag_patterns) {
        (Some(p), _) => format!(" tagged {}*", p.join("*, ")),
        (_, Some(p)) => format!(" tagged {}", p.join(", ")),
        _ => String::new(),
    };
    Ok((selection, format!("{description}{narrowing} (ecr-warden preset)")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lifecycle::validate;

    #[test]
    fn presets_expand_to_a_valid_policy_with_any_last() {
        let presets = [
            Preset { expire_older_than_days: Some(365), ..Default::default() },
            Preset { keep_newest_untagged: Some(1), ..Default::default() },
            Preset { keep_newest: Some(10), tag_prefixes: Some(vec!["release-".into()]), ..Default::default() },
        ];
        let text = expand(&presets).expect("valid presets");
        assert_eq!(validate(&text), vec![]);
        let value: Value = serde_json::from_str(&text).expect("json");
        let statuses: Vec<&str> = value["rules"]
            .as_array()
            .expect("rules")
            .iter()
            .map(|r| r["selection"]["tagStatus"].as_str().unwrap_or(""))
            .collect();
        assert_eq!(statuses, ["untagged", "tagged", "any"]);
        assert_eq!(
            value["rules"][0]["selection"],
            json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1})
        );
        assert_eq!(value["rules"][2]["selection"]["countUnit"], "days");
        assert_eq!(value["rules"][1]["selection"]["tagPrefixList"], json!(["release-"]));
    }

    #[test]
    fn unclear_presets_are_rejected_by_position() {
        let both = Preset { keep_newest: Some(1), expire_older_than_days: Some(2), ..Default::default() };
        let untagged_narrowed =
            Preset { keep_newest_untagged: Some(1), tag_prefixes: Some(vec!["x".into()]), ..Default::default() };
        let problems = expand(&[Preset::default(), both, untagged_narrowed]).expect_err("invalid");
        assert!(problems[0].to_string().starts_with("presets[0]: give exactly one"), "{problems:?}");
        assert!(problems[1].to_string().starts_with("presets[1]: give exactly one"), "{problems:?}");
        assert!(
            problems[2].to_string().starts_with("presets[2]: tag_prefixes and tag_patterns don't apply"),
            "{problems:?}"
        );
    }
}
