use super::*;

#[test]
fn repository_names_follow_ecr_rules() {
    for good in ["ab", "team-a/api", "a.b_c-d/e9", "x/y/z0", &"a".repeat(MAX_REPOSITORY_NAME)] {
        assert_eq!(repository_name_problem(good), None, "{good}");
    }
    let too_long = "a".repeat(MAX_REPOSITORY_NAME + 1);
    for bad in
        ["", "a", "A", "a b", "../etc", "a//b", "/ab", "ab/", "a--b", "a.-b", "-ab", "ab-", "a\u{0}b", "é1", &too_long]
    {
        assert!(repository_name_problem(bad).is_some(), "{bad:?}");
    }
    let escaped = repository_name_problem("app\u{1b}[2J").unwrap();
    assert!(escaped.contains("app\\u{1b}[2J") && !escaped.contains('\u{1b}'), "{escaped}");
    let shown = repository_name_problem(&too_long).unwrap();
    assert!(shown.len() < 200, "long names are shortened in the message: {shown}");
}

#[test]
fn repository_arns_are_read_in_full() {
    let arn = RepositoryArn::parse("arn:aws-cn:ecr:cn-north-1:123456789012:repository/team/api").expect("valid");
    assert_eq!(
        (arn.partition, arn.region, arn.account, arn.name),
        ("aws-cn", "cn-north-1", "123456789012", "team/api")
    );
    for not_one in [
        "arn:aws:s3:::bucket:repository/team-a/api",
        "arn:aws:ecr:us-east-1:123456789012:repository/",
        "arn:aws:ecr::123456789012:repository/app",
        "arn:aws:ecr:us-east-1:1234:repository/app",
        "arn:aws:ecr:us-east-1:123456789012:registry/app",
        "xarn:aws:ecr:us-east-1:123456789012:repository/app",
        "team-a/api",
    ] {
        assert_eq!(RepositoryArn::parse(not_one), None, "{not_one}");
    }
}

fn basic(rules: Vec<ScanRule>) -> RegistryScanning {
    RegistryScanning { scan_type: ScanType::Basic, rules }
}

#[test]
fn frequency_is_the_most_frequent_matching_rule() {
    let registry = basic(vec![
        ScanRule { frequency: ScanFrequency::Manual, filters: vec!["*".into()] },
        ScanRule { frequency: ScanFrequency::ScanOnPush, filters: vec!["prod/*".into()] },
    ]);
    assert_eq!(registry.frequency_for("prod/api"), Some(ScanFrequency::ScanOnPush));
    assert_eq!(registry.frequency_for("dev/api"), Some(ScanFrequency::Manual));
    assert_eq!(basic(vec![]).frequency_for("x"), None);
}

#[test]
fn adding_a_filter_keeps_every_other_rule() {
    let manual = ScanRule { frequency: ScanFrequency::Manual, filters: vec!["*".into()] };
    let registry = basic(vec![manual.clone()]);
    let next = registry.with_filter(ScanFrequency::ScanOnPush, "app").expect("ok").expect("changed");
    assert_eq!(next.rules[0], manual);
    assert_eq!(next.rules[1], ScanRule { frequency: ScanFrequency::ScanOnPush, filters: vec!["app".into()] });
    assert_eq!(next.with_filter(ScanFrequency::ScanOnPush, "app"), Ok(None), "idempotent");
    let more = next.with_filter(ScanFrequency::ScanOnPush, "web").expect("ok").expect("changed");
    assert_eq!(more.rules[1].filters, ["app", "web"]);
    assert!(more.with_filter(ScanFrequency::ContinuousScan, "x").is_err(), "a third rule is refused");
}
