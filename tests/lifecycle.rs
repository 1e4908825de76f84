//! `ecr-warden lifecycle validate|preview` on files as the AWS CLI writes them, and on a live repository.

use integration_tests::{ecr_warden_binary, fixture, Moto};
use serde_json::{json, Value};

fn run(args: &[&str]) -> std::process::Output {
    std::process::Command::new(ecr_warden_binary()).args(args).output().expect("run ecr-warden")
}

fn path(relative: &str) -> String {
    fixture(relative).to_str().expect("utf-8 path").to_string()
}

#[test]
fn validate_says_valid_or_lists_every_problem() {
    let ok = run(&["lifecycle", "validate", "--policy", &path("lifecycle/seed-example-c.policy.json")]);
    assert_eq!(ok.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&ok.stdout).ends_with(": valid\n"));

    let dir = std::env::temp_dir().join(format!("ecr-warden-lifecycle-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let bad = dir.join("bad.json");
    let policy = json!({"rules": [
        {"rulePriority": 1, "selection": {"tagStatus": "any", "countType": "sinceImagePushed", "countNumber": 0}, "action": {"type": "expire"}},
        {"rulePriority": 1, "selection": {"tagStatus": "tagged", "countType": "imageCountMoreThan", "countNumber": 1}, "action": {"type": "expire"}}
    ]});
    std::fs::write(&bad, policy.to_string()).expect("write");
    let out = run(&["lifecycle", "validate", "--policy", bad.to_str().expect("utf-8")]);
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for needle in [
        "5 problem(s)",
        "rule 1: `selection.countUnit` is required with sinceImagePushed",
        "rule 1: `selection.countNumber` must be a whole number of at least 1",
        "rule 1: `rulePriority` 1 is used by more than one rule",
        "rule 1: `selection.tagPrefixList` or tagPatternList is required",
        "rule 1: `selection.tagStatus` any must be on the rule with the highest rulePriority",
    ] {
        assert!(stderr.contains(needle), "missing {needle:?} in:\n{stderr}");
    }
}

#[test]
fn preview_of_describe_images_output_matches_the_seed_example() {
    let args = [
        "lifecycle",
        "preview",
        "--policy",
        &path("lifecycle/seed-example-c.policy.json"),
        "--images",
        &path("lifecycle/seed-example.images.json"),
        "--now",
        "2026-02-01T00:00:00Z",
    ];
    let mut json_args = args.to_vec();
    json_args.extend(["--output", "json"]);
    let out = run(&json_args);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let output: Value = serde_json::from_slice(&out.stdout).expect("JSON output");
    let expected_results = json!([
        {"imageDigest": "sha256:aaaa000000000000000000000000000000000000000000000000000000000001",
         "imageTags": ["beta-1", "prod-1"], "imagePushedAt": "2026-01-01T10:00:00.000000+00:00",
         "action": {"type": "EXPIRE"}, "appliedRulePriority": 1},
        {"imageDigest": "sha256:bbbb000000000000000000000000000000000000000000000000000000000002",
         "imageTags": ["beta-2", "prod-2"], "imagePushedAt": "2026-01-02T10:00:00.000000+00:00",
         "action": {"type": "EXPIRE"}, "appliedRulePriority": 1}
    ]);
    assert_eq!(output["previewResults"], expected_results);
    assert_eq!(output["summary"], json!({"expiringImageTotalCount": 2}));
    assert_eq!(
        output["rules"],
        json!([
            {"rulePriority": 1, "matched": 3, "actedOn": 2},
            {"rulePriority": 2, "matched": 2, "actedOn": 0}
        ])
    );

    let table = run(&args);
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(text.contains("rule 1: matches 3, acts on 2"), "{text}");
    assert!(text.contains("rule 2: matches 2, acts on 0"), "{text}");
    assert!(text.contains("2 image(s) would expire"), "{text}");
}

/// Pushes one small image per tag into `repository`.
async fn push_images(ecr: &aws_sdk_ecr::Client, repository: &str, tags: &[&str]) {
    for (index, tag) in tags.iter().enumerate() {
        let manifest = json!({"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": format!("sha256:{index:064}")},
            "layers": []});
        let put = ecr.put_image().repository_name(repository).image_manifest(manifest.to_string()).image_tag(*tag);
        put.send().await.expect("put image");
    }
}

#[tokio::test]
async fn plan_shows_what_the_baseline_policy_would_expire() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("app").send().await.expect("create");
    push_images(&ecr, "app", &["v1", "v2", "v3"]).await;
    let baseline = moto.write_file("baseline.toml", "[defaults.lifecycle_policy]\npresets = [{ keep_newest = 1 }]\n");
    let baseline = baseline.to_str().expect("utf-8");
    moto.reset_recording();
    let plan = moto.ecr_warden(&["plan", "--baseline", baseline, "--lifecycle-impact", "--output", "json"]);
    assert_eq!(plan.code(), 2, "{plan:?}");
    let report = plan.json();
    let lifecycle = &report["repositories"][0]["controls"][3];
    assert_eq!(lifecycle["control"], "lifecycle-policy");
    assert_eq!(lifecycle["lifecycle_impact"], json!({"images": 3, "expiring": 2, "transitioning": 0}));
    assert_eq!(moto.writes(), Vec::<String>::new());
    assert_eq!(moto.operation_counts().get("DescribeImages"), Some(&1));

    let table = moto.ecr_warden(&["plan", "--baseline", baseline, "--lifecycle-impact"]);
    assert!(table.stdout().contains("impact: would expire 2 of 3 images once applied"), "{table:?}");
}

#[tokio::test]
async fn preview_reads_a_live_repository_and_its_policy() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("app").send().await.expect("create");
    push_images(&ecr, "app", &["dev-1", "dev-2", "prod-1"]).await;
    let policy = json!({"rules": [{"rulePriority": 1, "selection": {"tagStatus": "tagged", "tagPrefixList": ["dev"],
        "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 1}, "action": {"type": "expire"}}]});
    ecr.put_lifecycle_policy()
        .repository_name("app")
        .lifecycle_policy_text(policy.to_string())
        .send()
        .await
        .expect("put policy");

    let in_three_days = "2099-01-01T00:00:00Z";
    let out =
        moto.ecr_warden(&["lifecycle", "preview", "--repository", "app", "--now", in_three_days, "--output", "json"]);
    assert_eq!(out.code(), 0, "{out:?}");
    let output = out.json();
    let mut tags: Vec<String> = output["previewResults"]
        .as_array()
        .expect("results")
        .iter()
        .map(|r| r["imageTags"][0].as_str().unwrap_or_default().to_string())
        .collect();
    tags.sort();
    assert_eq!(tags, ["dev-1", "dev-2"], "the repository's own policy was used");

    let none = moto.ecr_warden(&["lifecycle", "preview", "--repository", "missing"]);
    assert_eq!(none.code(), 1, "{none:?}");
    assert!(none.stderr().contains("does not exist"), "{none:?}");
}

/// `require = "at_least"`: a team's policy that keeps what the baseline's expires gets the baseline's rule merged
/// in at a free priority (its own rule kept, first), the replaced policy in the report; a stricter policy of its
/// own is compliant whatever its text; the merged policy is compliant on the next run (reads only).
#[tokio::test]
async fn at_least_merges_the_baselines_rules_into_a_weaker_policy_once() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    let releases = r#"{"rules":[{"rulePriority":1,"description":"the team's","selection":{"tagStatus":"tagged","tagPrefixList":["release"],"countType":"imageCountMoreThan","countNumber":50},"action":{"type":"expire"}}]}"#;
    let stricter = r#"{"rules":[{"rulePriority":1,"selection":{"tagStatus":"untagged","countType":"sinceImagePushed","countUnit":"days","countNumber":3},"action":{"type":"expire"}}]}"#;
    for (name, policy) in [("weaker", releases), ("stricter", stricter)] {
        ecr.create_repository().repository_name(name).send().await.expect("create");
        ecr.put_lifecycle_policy().repository_name(name).lifecycle_policy_text(policy).send().await.expect("put");
    }
    let text = "[defaults]\ntag_mutability.mode = \"off\"\nscanning.mode = \"off\"\nencryption.mode = \"off\"\n\
                repository_policy.mode = \"off\"\ntags.mode = \"off\"\n[defaults.lifecycle_policy]\nrequire = \"at_least\"\n";
    let baseline = moto.write_file("baseline.toml", text);
    let args = ["apply", "--baseline", baseline.to_str().expect("utf-8"), "--output", "json"];
    moto.reset_recording();
    let run = moto.ecr_warden(&args);
    assert_eq!(run.code(), 0, "{run:?}");
    let report = run.json();
    let control = |name: &str| {
        let repositories = report["repositories"].as_array().cloned().unwrap_or_default();
        let repository = repositories.into_iter().find(|r| r["repository"] == name).expect("reported");
        repository["controls"][3].clone()
    };
    assert_eq!(control("stricter")["status"], "compliant", "judged by what it does: {report:#}");
    let weaker = control("weaker");
    assert_eq!(weaker["status"], "fixed", "{weaker:#}");
    assert!(weaker["finding"].as_str().is_some_and(|f| f.contains("it expires 0")), "{weaker:#}");
    assert_eq!(weaker["actions"][0]["replaces"], releases, "the replaced policy, in full");
    let now = ecr.get_lifecycle_policy().repository_name("weaker").send().await.expect("policy");
    let now: Value = serde_json::from_str(now.lifecycle_policy_text().expect("text")).expect("JSON");
    assert_eq!(now["rules"][0]["description"], "the team's", "the team's rule kept, first");
    assert_eq!(now["rules"][1]["rulePriority"], 2);
    assert_eq!(now["rules"][1]["selection"]["tagStatus"], "untagged");
    assert_eq!(moto.writes(), ["PutLifecyclePolicy"], "one put, for the weaker repository");

    moto.reset_recording();
    let again = moto.ecr_warden(&args);
    assert_eq!(again.code(), 0, "{again:?}");
    assert!(moto.writes().is_empty(), "compliant: reads only, {:?}", moto.writes());
}
