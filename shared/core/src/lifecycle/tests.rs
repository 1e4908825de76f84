use serde_json::{json, Value};

use super::*;

const DAY: i64 = 24 * 60 * 60 * 1000;
const NOW: i64 = 1_800_000_000_000;

fn policy(rules: Value) -> LifecyclePolicy {
    let text = json!({ "rules": rules }).to_string();
    LifecyclePolicy::parse(&text).unwrap_or_else(|p| panic!("invalid policy: {p:?}"))
}

fn problems(rules: Value) -> Vec<String> {
    check(&json!({ "rules": rules }).to_string())
}

fn rule(priority: u64, selection: Value, action: Value) -> Value {
    json!({"rulePriority": priority, "selection": selection, "action": action})
}

fn expire() -> Value {
    json!({"type": "expire"})
}

fn prefixes_keep(priority: u64, prefixes: &[&str], n: u64) -> Value {
    rule(
        priority,
        json!({"tagStatus": "tagged", "tagPrefixList": prefixes, "countType": "imageCountMoreThan", "countNumber": n}),
        expire(),
    )
}

fn image(name: &str, tags: &[&str], days_ago: i64) -> Image {
    Image {
        digest: format!("sha256:{name}"),
        tags: tags.iter().map(|t| t.to_string()).collect(),
        pushed_at_ms: NOW - days_ago * DAY,
        last_pulled_ms: None,
        archived_at_ms: None,
        storage_class: StorageClass::Standard,
    }
}

/// The names of the images acted on, oldest first.
fn acted(policy: &LifecyclePolicy, images: &[Image]) -> Vec<String> {
    preview(policy, images, NOW)
        .acted
        .iter()
        .map(|a| images[a.image].digest.trim_start_matches("sha256:").to_string())
        .collect()
}

fn seed_repository() -> Vec<Image> {
    vec![image("A", &["beta-1", "prod-1"], 10), image("B", &["beta-2", "prod-2"], 9), image("C", &["beta-3"], 8)]
}

// ---- The seed's worked examples (pulumi-crosswalk-ecr.txt) ----

#[test]
fn example_b_a_higher_rule_shields_its_images() {
    let p = policy(json!([prefixes_keep(1, &["prod"], 1), prefixes_keep(2, &["beta"], 1)]));
    assert_eq!(acted(&p, &seed_repository()), ["A"]);
}

#[test]
fn example_c_reversed_priorities() {
    let p = policy(json!([prefixes_keep(1, &["beta"], 1), prefixes_keep(2, &["prod"], 1)]));
    assert_eq!(acted(&p, &seed_repository()), ["A", "B"]);
}

#[test]
fn example_d_every_prefix_must_match_some_tag() {
    let p = policy(json!([rule(
        1,
        json!({"tagStatus": "tagged", "tagPrefixList": ["alpha", "beta"],
        "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 5}),
        expire()
    )]));
    let images = vec![
        image("A", &["alpha-1"], 12),
        image("B", &["beta-1"], 11),
        image("C", &["alpha-2", "beta-2"], 10),
        image("D", &["alpha-3"], 4),
        image("E", &["beta-3"], 3),
        image("F", &["alpha-4", "beta-4"], 2),
    ];
    assert_eq!(acted(&p, &images), ["C"]);
}

#[test]
fn example_e_as_stated_keeps_everything_and_with_a_count_of_one_keeps_the_newest() {
    let images =
        vec![image("A", &["alpha-1"], 4), image("B", &["beta-1"], 3), image("C", &[], 2), image("D", &["alpha-2"], 1)];
    let any = |n: u64| {
        policy(json!([rule(
            1,
            json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": n}),
            expire()
        )]))
    };
    assert_eq!(acted(&any(5), &images), Vec::<String>::new(), "4 images, keep 5: nothing expires");
    assert_eq!(acted(&any(1), &images), ["A", "B", "C"], "the outcome the seed describes");
}

// ---- Evaluation details ----

#[test]
fn patterns_and_untagged_rules() {
    let p = policy(json!([
        rule(
            1,
            json!({"tagStatus": "tagged", "tagPatternList": ["v*-rc*"], "countType": "imageCountMoreThan", "countNumber": 1}),
            expire()
        ),
        rule(
            2,
            json!({"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 7}),
            expire()
        ),
    ]));
    let images = vec![
        image("rc1", &["v1-rc1"], 20),
        image("rc2", &["v1-rc2"], 10),
        image("release", &["v1"], 30),
        image("old-untagged", &[], 8),
        image("new-untagged", &[], 6),
    ];
    assert_eq!(acted(&p, &images), ["rc1", "old-untagged"]);
    let summary = preview(&p, &images, NOW).rules;
    assert_eq!(summary[0], RuleSummary { rule_priority: 1, matched: 2, acted_on: 1 });
    assert_eq!(summary[1], RuleSummary { rule_priority: 2, matched: 2, acted_on: 1 });
}

#[test]
fn since_pulled_falls_back_to_the_push_time_and_transitions_are_reported() {
    let p = policy(json!([rule(
        1,
        json!({"tagStatus": "any", "countType": "sinceImagePulled", "countUnit": "days", "countNumber": 30}),
        json!({"type": "transition", "targetStorageClass": "archive"})
    )]));
    let mut pulled_recently = image("recent", &["a"], 90);
    pulled_recently.last_pulled_ms = Some(NOW - 2 * DAY);
    let never_pulled = image("never", &["b"], 40);
    let mut archived = image("archived", &["c"], 100);
    archived.storage_class = StorageClass::Archive;
    let images = vec![pulled_recently, never_pulled, archived];
    let preview = preview(&p, &images, NOW);
    assert_eq!(preview.acted.len(), 1);
    assert_eq!(images[preview.acted[0].image].digest, "sha256:never");
    let output = preview.output(&images);
    assert_eq!(output.summary.expiring_image_total_count, 0);
    assert_eq!(output.summary.transitioning_image_total_count, 1);
    assert_eq!(
        serde_json::to_value(&output.preview_results[0].action).expect("json"),
        json!({"type": "TRANSITION", "targetStorageClass": "ARCHIVE"})
    );
}

#[test]
fn archived_images_are_selected_only_by_archive_rules() {
    let p = policy(json!([rule(
        1,
        json!({"tagStatus": "any", "storageClass": "archive", "countType": "sinceImageTransitioned",
        "countUnit": "days", "countNumber": 10}),
        expire()
    )]));
    let mut long_ago = image("long-ago", &["a"], 100);
    long_ago.storage_class = StorageClass::Archive;
    long_ago.archived_at_ms = Some(NOW - 20 * DAY);
    let mut lately = image("lately", &["b"], 100);
    lately.storage_class = StorageClass::Archive;
    lately.archived_at_ms = Some(NOW - 5 * DAY);
    let standard = image("standard", &["c"], 100);
    assert_eq!(acted(&p, &[long_ago, lately, standard]), ["long-ago"]);
}

#[test]
fn output_has_the_shape_of_get_lifecycle_policy_preview() {
    let p = policy(json!([prefixes_keep(1, &["prod"], 1)]));
    let images = seed_repository();
    let output = preview(&p, &images, NOW).output(&images);
    let value = serde_json::to_value(&output).expect("json");
    assert_eq!(value["summary"], json!({"expiringImageTotalCount": 1}));
    assert_eq!(value["previewResults"][0]["imageDigest"], "sha256:A");
    assert_eq!(value["previewResults"][0]["imageTags"], json!(["beta-1", "prod-1"]));
    assert_eq!(value["previewResults"][0]["action"], json!({"type": "EXPIRE"}));
    assert_eq!(value["previewResults"][0]["appliedRulePriority"], 1);
    assert!(value["previewResults"][0]["imagePushedAt"].as_str().is_some_and(|t| t.ends_with("+00:00")));
}

// ---- Validation ----

fn has(problems: &[String], needle: &str) -> bool {
    problems.iter().any(|p| p.contains(needle))
}

#[test]
fn a_valid_policy_has_no_problems() {
    assert_eq!(
        problems(json!([
            prefixes_keep(1, &["prod"], 3),
            rule(2, json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 100}), expire())
        ])),
        Vec::<String>::new()
    );
}

#[test]
fn priorities_must_be_unique_positive_and_any_last() {
    let p = problems(json!([
        rule(1, json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1}), expire()),
        prefixes_keep(2, &["a"], 1),
        prefixes_keep(2, &["b"], 1),
        prefixes_keep(0, &["c"], 1),
    ]));
    assert!(has(&p, "rule 2: `rulePriority` 2 is used by more than one rule"), "{p:#?}");
    assert!(has(&p, "rule #4: `rulePriority` must be a whole number"), "{p:#?}");
    assert!(has(&p, "rule 1: `selection.tagStatus` any must be on the rule with the highest rulePriority"), "{p:#?}");
}

#[test]
fn tag_lists_follow_the_tag_status() {
    let p = problems(json!([
        rule(1, json!({"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 1}), expire()),
        rule(
            2,
            json!({"tagStatus": "tagged", "tagPrefixList": ["a"], "tagPatternList": ["a*"], "countType": "imageCountMoreThan", "countNumber": 1}),
            expire()
        ),
        rule(
            3,
            json!({"tagStatus": "untagged", "tagPrefixList": ["a"], "countType": "imageCountMoreThan", "countNumber": 1}),
            expire()
        ),
        rule(
            4,
            json!({"tagStatus": "tagged", "tagPatternList": ["a*b*c*d*e*"], "countType": "imageCountMoreThan", "countNumber": 1}),
            expire()
        ),
        rule(
            5,
            json!({"tagStatus": "tagged", "tagPrefixList": [], "countType": "imageCountMoreThan", "countNumber": 1}),
            expire()
        ),
    ]));
    assert!(has(&p, "rule 1: `selection.tagPrefixList` or tagPatternList is required"), "{p:#?}");
    assert!(has(&p, "rule 2: `selection.tagPatternList` can't be combined"), "{p:#?}");
    assert!(has(&p, "rule 3: `selection.tagPrefixList` is only allowed when tagStatus is tagged"), "{p:#?}");
    assert!(has(&p, "rule 4: `selection.tagPatternList` `a*b*c*d*e*` has 5 wildcards"), "{p:#?}");
    assert!(has(&p, "rule 5: `selection.tagPrefixList` must be a non-empty list"), "{p:#?}");
}

#[test]
fn one_untagged_rule_and_unique_prefix_sets() {
    let untagged = |priority| {
        rule(priority, json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}), expire())
    };
    let p =
        problems(json!([untagged(1), untagged(2), prefixes_keep(3, &["x", "y"], 1), prefixes_keep(4, &["y", "x"], 2)]));
    assert!(has(&p, "rule 2: `selection.tagStatus` untagged: only one rule"), "{p:#?}");
    assert!(has(&p, "rule 4: `selection.tagPrefixList` has the same prefixes as rule 3"), "{p:#?}");
}

#[test]
fn counts_and_units() {
    let p = problems(json!([
        rule(1, json!({"tagStatus": "any", "countType": "sinceImagePushed", "countNumber": 3}), expire()),
        rule(
            2,
            json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countUnit": "days", "countNumber": 0}),
            expire()
        ),
        rule(
            3,
            json!({"tagStatus": "tagged", "tagPrefixList": ["a"], "countType": "sinceImagePulled", "countUnit": "hours", "countNumber": 2.5}),
            expire()
        ),
    ]));
    assert!(has(&p, "rule 1: `selection.countUnit` is required with sinceImagePushed"), "{p:#?}");
    assert!(has(&p, "rule 2: `selection.countUnit` is only allowed with the since"), "{p:#?}");
    assert!(has(&p, "rule 2: `selection.countNumber` must be a whole number of at least 1"), "{p:#?}");
    assert!(has(&p, "rule 3: `selection.countUnit` must be \"days\""), "{p:#?}");
    assert!(has(&p, "rule 3: `selection.countNumber`"), "{p:#?}");
}

#[test]
fn actions_and_storage_classes() {
    let any = json!({"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 1});
    let p = problems(json!([
        rule(
            1,
            json!({"tagStatus": "untagged", "countType": "imageCountMoreThan", "countNumber": 1}),
            json!({"type": "transition"})
        ),
        rule(
            2,
            json!({"tagStatus": "tagged", "tagPrefixList": ["a"], "storageClass": "glacier", "countType": "imageCountMoreThan", "countNumber": 1}),
            json!({"type": "delete"})
        ),
        rule(3, any, json!({"type": "expire", "targetStorageClass": "archive"})),
    ]));
    assert!(has(&p, "rule 1: `action.targetStorageClass` is required by transition"), "{p:#?}");
    assert!(has(&p, "rule 2: `selection.storageClass` must be one of standard, archive"), "{p:#?}");
    assert!(has(&p, "rule 2: `action.type` must be one of expire, transition"), "{p:#?}");
    assert!(has(&p, "rule 3: `action.targetStorageClass` is only allowed with transition"), "{p:#?}");
}

#[test]
fn unknown_fields_are_errors_at_every_level() {
    let text = json!({"rules": [{"rulePriority": 1, "priority": 2, "selection": {"tagStatus": "any", "countType": "imageCountMoreThan",
        "countNumber": 1, "tagStatuss": "x"}, "action": {"type": "expire", "when": "now"}}], "version": 1})
    .to_string();
    let p = check(&text);
    for field in ["`version`", "rule 1: `priority`", "rule 1: `selection.tagStatuss`", "rule 1: `action.when`"] {
        assert!(has(&p, field), "missing {field} in {p:#?}");
    }
}

#[test]
fn broken_json_missing_rules_and_length() {
    assert!(has(&check("{"), "is not valid JSON"));
    assert_eq!(check("{}"), ["`rules` is missing"]);
    assert_eq!(check(r#"{"rules": []}"#), ["`rules` must hold at least one rule"]);
    let long = format!(
        r#"{{"rules": [{{"rulePriority": 1, "description": "{}", "selection": {{"tagStatus": "any",
        "countType": "imageCountMoreThan", "countNumber": 1}}, "action": {{"type": "expire"}}}}]}}"#,
        "x".repeat(MAX_POLICY_CHARS)
    );
    assert!(has(&check(&long), "ECR allows 30720"), "{:?}", check(&long));
}

#[test]
fn policies_compare_as_json_not_as_text() {
    let a = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":14},"action":{"type":"expire"}}]}"#;
    let reordered = r#"{"rules":[{"action":{"type":"expire"},"rulePriority":1,
        "selection":{"countNumber":14,"countUnit":"days","countType":"sinceImagePushed","tagStatus":"untagged"}}]}"#;
    assert!(same_policy(a, reordered));
    assert!(!same_policy(a, &a.replace("14", "15")));
    assert!(!same_policy(a, "not json"));
}
