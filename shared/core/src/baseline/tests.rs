use super::*;
use crate::observed::{EncryptionType, ScanFrequency};
use serde_json::json;

fn parse(text: &str) -> Baseline {
    match Baseline::parse("test.toml", text) {
        Ok(b) => b,
        Err(e) => panic!("{e}"),
    }
}

fn problems(name: &str, text: &str) -> Vec<String> {
    let error = Baseline::parse(name, text).expect_err("baseline should be rejected");
    error.problems.iter().map(ToString::to_string).collect()
}

#[test]
fn builtin_default_is_secure_and_valid() {
    let r = Baseline::builtin().expect("built-in parses").resolve("any/repo").expect("resolves");
    assert_eq!((r.tag_mutability.mode, r.tag_mutability.target), (Mode::Enforce, TagMutabilityTarget::Immutable));
    // Registry level: AWS is deprecating the repository-level setting (PutImageScanningConfiguration).
    assert_eq!((r.scanning.mode, r.scanning.via), (Mode::Enforce, ScanVia::Registry));
    assert_eq!(r.scanning.scope.filter.as_deref(), Ok("*"), "one filter for every repository");
    assert_eq!((r.encryption.mode, r.encryption.kind), (Mode::Audit, EncryptionType::Kms));
    assert_eq!((r.lifecycle_policy.mode, r.lifecycle_policy.require), (Mode::Enforce, Require::Present));
    assert!(r.lifecycle_policy.policy.contains(r#""countNumber":14"#), "{}", r.lifecycle_policy.policy);
    assert!(r.lifecycle_policy.policy.contains(r#""tagStatus":"untagged""#));
    assert_eq!((r.repository_policy.mode, r.repository_policy.public_access), (Mode::Enforce, PublicAccess::Deny));
    assert_eq!(r.tags.mode, Mode::Enforce);
    assert_eq!(r.tags.required["managed-by"].default.as_deref(), Some("ecr-warden"));
}

#[test]
fn an_empty_file_is_the_builtin_default() {
    let empty = parse("").resolve("x").expect("resolves");
    let builtin = Baseline::builtin().expect("parses").resolve("x").expect("resolves");
    assert_eq!(empty, builtin);
}

#[test]
fn rules_apply_in_order_over_the_defaults() {
    let b = parse(
        r#"
        [defaults.scanning]
        mode = "audit"

        [[rules]]
        match = "team-a/*"
        scanning = { mode = "off" }
        tags = { required = { team = { default = "a" } } }

        [[rules]]
        match = ["team-a/special", "prod/**"]
        scanning = { mode = "enforce", via = "registry", frequency = "CONTINUOUS_SCAN" }
        "#,
    );
    assert_eq!(b.resolve("other").expect("ok").scanning.mode, Mode::Audit);
    assert_eq!(b.resolve("team-a/api").expect("ok").scanning.mode, Mode::Off);
    assert_eq!(b.resolve("team-a/x/api").expect("ok").scanning.mode, Mode::Audit, "* stays in one segment");
    let special = b.resolve("team-a/special").expect("ok");
    assert_eq!((special.scanning.mode, special.scanning.frequency), (Mode::Enforce, ScanFrequency::ContinuousScan));
    let tags: Vec<&String> = special.tags.required.keys().collect();
    assert_eq!(tags, ["managed-by", "team"], "required tags merge key by key");
    assert_eq!(b.resolve("prod/eu/api").expect("ok").scanning.via, ScanVia::Registry);
}

#[test]
fn exemptions_by_tag_and_by_name() {
    let b = parse("[exemptions]\nrepositories = [\"legacy/**\"]\n");
    let (none, today) = (BTreeMap::new(), Date::today());
    assert!(b.exemption("legacy/old/app", &none, today).is_some());
    assert!(b.exemption("app", &none, today).is_none());
    let tagged = BTreeMap::from([("ecr-warden:exempt".to_string(), "true".to_string())]);
    let by_tag = b.exemption("app", &tagged, today).expect("exempt by tag");
    assert_eq!(by_tag.state, ExemptionState::Unlisted, "{}", by_tag.text);
    let not_true = BTreeMap::from([("ecr-warden:exempt".to_string(), "no".to_string())]);
    assert!(b.exemption("app", &not_true, today).is_none());
}

#[test]
fn granted_exemptions_are_read_and_checked() {
    let b = parse(
        r#"
        [[exemptions.granted]]
        repositories = ["legacy/**"]
        owner = "team-legacy"
        reason = "PLAT-123"
        expires = 2027-03-31
        "#,
    );
    let day = |text| Date::parse(text).expect("date");
    assert!(b.exemption_by_name("legacy/app", day("2027-03-31")).is_some());
    assert!(b.exemption_by_name("legacy/app", day("2027-04-01")).is_none());
    let error = Baseline::parse(
        "b.toml",
        "[[exemptions.granted]]
repositories = [\"x\"]
owner = \"\"
reason = \"r\"
expires = 2027-01-01
",
    )
    .expect_err("no owner");
    assert!(error.to_string().contains("exemptions.granted[0].owner: must be 1 to 256 characters"), "{error}");
    let missing = Baseline::parse(
        "b.toml",
        "[[exemptions.granted]]
repositories = [\"x\"]
owner = \"o\"
reason = \"r\"
",
    );
    assert!(missing.expect_err("no expiry").to_string().contains("expires"));
}

#[test]
fn json_baselines_are_accepted() {
    let b = Baseline::parse("b.json", r#"{"defaults":{"tags":{"mode":"off"}}}"#).expect("valid JSON baseline");
    assert_eq!(b.resolve("x").expect("ok").tags.mode, Mode::Off);
}

#[test]
fn lifecycle_policy_may_be_json_text() {
    let b = parse(
        r#"
        [defaults.lifecycle_policy]
        require = "exact"
        policy = '{"rules":[{"rulePriority":1,"selection":{"tagStatus":"any","countType":"imageCountMoreThan","countNumber":100},"action":{"type":"expire"}}]}'
        "#,
    );
    let r = b.resolve("x").expect("ok");
    assert_eq!(r.lifecycle_policy.require, Require::Exact);
    assert!(r.lifecycle_policy.policy.contains("imageCountMoreThan"));
}

#[test]
fn unknown_keys_are_rejected_with_their_name_and_line() {
    let p = problems("b.toml", "[defaults.tag_mutability]\nmode = \"enforce\"\ntarjet = \"IMMUTABLE\"\n");
    assert!(p[0].contains("tarjet") && p[0].contains("line 3"), "{p:?}");
    let p = problems("b.json", r#"{"defaults": {"scaning": {}}}"#);
    assert!(p[0].contains("scaning"), "{p:?}");
}

#[test]
fn bad_values_are_rejected_with_the_key() {
    let p = problems("b.toml", "[defaults.tag_mutability]\nmode = \"sometimes\"\n");
    assert!(p[0].contains("sometimes") && p[0].contains("mode"), "{p:?}");
    let p = problems("b.toml", "[[rules]]\nmatch = \"team-[a\"\n");
    assert!(p[0].contains("team-[a"), "{p:?}");
}

#[test]
fn inconsistent_settings_are_all_reported() {
    let p = problems(
        "b.toml",
        r#"
        [defaults.tag_mutability]
        target = "IMMUTABLE_WITH_EXCLUSION"

        [defaults.encryption]
        type = "AES256"
        kms_keys = ["arn:aws:kms:us-east-1:123456789012:key/abc"]

        [defaults.repository_policy]
        cross_account_pull = ["12345"]
        statements = [{ Sid = "Open", Effect = "Allow", Principal = "*", Action = "ecr:*" }, { Effect = "Deny" }]

        [defaults.tags.required]
        team = { overwrite = true }

        [[rules]]
        match = "x"
        lifecycle_policy = { policy = { rules = [] } }
        "#,
    );
    let expect = [
        "defaults.tag_mutability.exclusions",
        "defaults.encryption.kms_keys",
        "defaults.repository_policy.cross_account_pull",
        "`Open` grants public access",
        "defaults.repository_policy.statements[1]",
        "defaults.tags.required.team.overwrite",
        "rules[0].lifecycle_policy.policy",
    ];
    for needle in expect {
        assert!(p.iter().any(|problem| problem.contains(needle)), "missing {needle:?} in {p:#?}");
    }
}

#[test]
fn exclusion_filters_follow_ecr_rules() {
    let p = problems(
        "b.toml",
        "[defaults.tag_mutability]\ntarget = \"IMMUTABLE_WITH_EXCLUSION\"\nexclusions = [\"ok-*\", \"not ok\", \"a\", \"b\", \"c\", \"d\"]\n",
    );
    assert!(p.iter().any(|x| x.contains("at most 5")), "{p:?}");
    assert!(p.iter().any(|x| x.contains("`not ok`")), "{p:?}");
}

#[test]
fn audit_only_lowers_every_enforce() {
    let mut b = parse("[[rules]]\nmatch = \"x\"\ntags = { mode = \"enforce\" }\n");
    b.audit_only();
    let r = b.resolve("x").expect("ok");
    assert_eq!(r.tags.mode, Mode::Audit);
    assert_eq!(r.tag_mutability.mode, Mode::Audit);
    assert_eq!(r.encryption.mode, Mode::Audit);
}

#[test]
fn cross_account_pull_becomes_a_statement() {
    let r = parse("[defaults.repository_policy]\ncross_account_pull = [\"111122223333\"]\n").resolve("x").expect("ok");
    let statements = r.repository_policy.required_statements("aws", "us-east-1");
    assert_eq!(statements.len(), 1);
    assert_eq!(statements[0]["Sid"], CROSS_ACCOUNT_PULL_SID);
    assert_eq!(statements[0]["Principal"]["AWS"][0], "arn:aws:iam::111122223333:root");
    // IAM ARNs carry the partition: a repository in China or GovCloud gets principals that exist there.
    let china = r.repository_policy.required_statements("aws-cn", "cn-north-1");
    assert_eq!(china[0]["Principal"]["AWS"][0], "arn:aws-cn:iam::111122223333:root");
}

#[test]
fn lifecycle_presets_expand_into_the_policy() {
    let r = parse(
        "[defaults.lifecycle_policy]\nrequire = \"exact\"\npresets = [{ keep_newest_untagged = 1 }, { keep_newest = 10, tag_patterns = [\"v*\"] }]\n",
    )
    .resolve("x")
    .expect("ok");
    assert!(r.lifecycle_policy.policy.contains(r#""tagPatternList":["v*"]"#), "{}", r.lifecycle_policy.policy);
    let p = problems("b.toml", "[defaults.lifecycle_policy]\npresets = [{ keep_newest = 1 }]\npolicy = '{}'\n");
    assert!(p[0].contains("give `policy` or `presets`, not both"), "{p:?}");
    let p = problems("b.toml", "[defaults.lifecycle_policy]\npresets = [{ keep_newest = 0 }]\n");
    assert!(p.iter().any(|x| x.contains("countNumber")), "{p:?}");
}

#[test]
fn tag_rules_and_vulnerability_settings_are_per_repository() {
    use crate::vulnerabilities::Severity;
    let b = parse(
        r#"
        [alerts]
        sns_topic_arn = "arn:aws:sns:us-east-1:123456789012:alerts"

        [defaults.vulnerabilities]
        threshold = { MEDIUM = 20 }
        suppressions = [{ id = "CVE-2023-1", reason = "not reachable", expires = 2027-01-31 }]

        [[rules]]
        match = "prod/**"
        image_tags = { forbidden = ["latest"], allow_untagged = false }
        vulnerabilities = { threshold = { HIGH = 0 }, list_min_severity = "MEDIUM" }
        "#,
    );
    assert_eq!(b.alerts.sns_topic_arn.as_deref(), Some("arn:aws:sns:us-east-1:123456789012:alerts"));
    assert_eq!(b.alerts.event_bus, None);
    let dev = b.resolve("dev/app").expect("resolves");
    assert_eq!(dev.vulnerabilities.threshold.get(&Severity::High), Some(&5), "built-in HIGH kept");
    assert_eq!(dev.vulnerabilities.threshold.get(&Severity::Medium), Some(&20), "merged key by key");
    assert_eq!(dev.vulnerabilities.suppressions[0].expires.to_string(), "2027-01-31");
    assert!(dev.image_tags.forbidden.is_empty() && dev.image_tags.allow_untagged);
    let prod = b.resolve("prod/api/web").expect("resolves");
    assert_eq!(prod.vulnerabilities.threshold.get(&Severity::High), Some(&0));
    assert_eq!(prod.vulnerabilities.threshold.get(&Severity::Critical), Some(&0));
    assert_eq!(prod.vulnerabilities.list_min_severity, Severity::Medium);
    assert_eq!(prod.image_tags.forbidden, ["latest"]);
    assert!(!prod.image_tags.allow_untagged);
}

#[test]
fn bad_tag_rules_suppressions_and_alert_targets_are_rejected_with_their_key() {
    let found = problems(
        "b.toml",
        r#"
        [alerts]
        sns_topic_arn = "my-topic"
        [defaults.image_tags]
        allowed = ["v[0-9"]
        [defaults.vulnerabilities]
        max_listed = 0
        suppressions = [{ id = "CVE-1", reason = " ", expires = "2027-01-01" }]
        "#,
    );
    let all = found.join("\n");
    for expected in [
        "alerts.sns_topic_arn: `my-topic` is not an SNS topic ARN",
        "defaults.image_tags.allowed: `v[0-9` is not a valid regular expression",
        "defaults.vulnerabilities.max_listed: must be 1 to 50",
        "defaults.vulnerabilities.suppressions[0].reason",
    ] {
        assert!(all.contains(expected), "{expected} not in\n{all}");
    }
    let no_expiry =
        problems("b.toml", "[defaults.vulnerabilities]\nsuppressions = [{ id = \"CVE-1\", reason = \"r\" }]");
    assert!(no_expiry.join("\n").contains("expires"), "{no_expiry:?}");
    let bad_date = problems(
        "b.toml",
        "[defaults.vulnerabilities]\nsuppressions = [{ id = \"C\", reason = \"r\", expires = \"soon\" }]",
    );
    assert!(bad_date.join("\n").contains("not a date"), "{bad_date:?}");
    let bad_severity = problems("b.toml", "[defaults.vulnerabilities]\nthreshold = { SEVERE = 1 }");
    assert!(bad_severity.join("\n").contains("SEVERE"), "{bad_severity:?}");
}

#[test]
fn replication_is_off_unless_asked_and_targets_are_read() {
    assert_eq!(parse("").replication.mode, Mode::Off);
    let baseline = parse(
        r#"
[replication]
mode = "enforce"

[[replication.targets]]
repositories = "prod/**"
regions = ["eu-west-1", "us-gov-west-1"]
registries = ["222222222222"]
"#,
    );
    assert_eq!(baseline.replication.mode, Mode::Enforce);
    let target = &baseline.replication.targets[0];
    assert_eq!(target.repositories[0].as_str(), "prod/**");
    assert_eq!(target.regions, ["eu-west-1", "us-gov-west-1"]);
    assert_eq!(target.registries, ["222222222222"]);
    let mut audited = baseline.clone();
    audited.audit_only();
    assert_eq!(audited.replication.mode, Mode::Audit);
}

#[test]
fn bad_replication_targets_are_rejected_with_the_key() {
    let found = problems(
        "bad.toml",
        r#"
[replication]
mode = "enforce"

[[replication.targets]]
repositories = ["prod/*"]
regions = ["EU-West-1", "eu-west"]
registries = ["12345"]

[[replication.targets]]
repositories = ["dev/*"]
regions = []
"#,
    );
    assert_eq!(found.len(), 4, "{found:?}");
    assert!(found[0].starts_with("line 7, column 1: replication.targets[0].regions: `EU-West-1`"), "{found:?}");
    assert!(found[1].contains("`eu-west` is not an AWS region"), "{found:?}");
    assert!(found[2].starts_with("line 8, column 1: replication.targets[0].registries: `12345`"), "{found:?}");
    assert!(found[3].starts_with("line 12, column 1: replication.targets[1].regions: at least one"), "{found:?}");
    let none = problems("none.toml", "[replication]\nmode = \"audit\"\n");
    assert!(none[0].contains("at least one target"), "{none:?}");
    let unknown =
        problems("unknown.toml", "[[replication.targets]]\nrepositories = \"a*\"\nregion = [\"eu-west-1\"]\n");
    assert!(unknown[0].contains("unknown field `region`"), "{unknown:?}");
}

#[test]
fn more_than_25_destinations_are_rejected() {
    let regions: Vec<String> = (1..=9).map(|n| format!("\"eu-west-{n}\"")).collect();
    let text = format!(
        "[[replication.targets]]\nrepositories = \"a*\"\nregions = [{}]\nregistries = [\"111111111111\", \"222222222222\", \"333333333333\"]\n",
        regions.join(", ")
    );
    let found = problems("many.toml", &text);
    assert!(found[0].contains("27 destinations"), "{found:?}");
}

#[test]
fn a_json_baseline_may_name_its_schema_and_the_schema_is_strict() {
    let baseline = Baseline::parse("b.json", r#"{"$schema": "./ecr-warden-baseline.schema.json"}"#);
    assert!(baseline.is_ok(), "{baseline:?}");
    let schema = schema();
    assert_eq!(schema["title"], "ecr-warden baseline");
    assert_eq!(schema["additionalProperties"], false, "unknown keys are errors, as when loading");
    let mut sections: Vec<&String> = schema["properties"].as_object().expect("properties").keys().collect();
    sections.sort();
    assert_eq!(
        sections,
        [
            "$schema",
            "alerts",
            "creation_templates",
            "defaults",
            "exemptions",
            "in_use",
            "organization",
            "pull_through_cache",
            "registry_policy",
            "replication",
            "rules",
            "signing"
        ]
    );
}

#[test]
fn required_statements_are_checked_like_a_policy() {
    let found = problems(
        "b.toml",
        r#"
        [[defaults.repository_policy.statements]]
        Sid = "Pull"
        Effect = "Allow"
        Principal = { AWS = "arn:aws:iam::111122223333:root" }
        Action = "ecr:BatchGetImage"

        [[defaults.repository_policy.statements]]
        Sid = "Pull"
        Effect = "Deny"
        Principal = "*"
        Action = "ecr:*"

        [[defaults.repository_policy.statements]]
        Sid = "Lowercase"
        Effect = "allow"
        Principal = { AWS = "alice" }
        Action = "BatchGetImage"

        [[defaults.repository_policy.statements]]
        Sid = "LooksNarrow"
        Effect = "Allow"
        Principal = "*"
        Action = "ecr:BatchGetImage"
        Condition = { StringEqualsIfExists = { "aws:PrincipalOrgID" = "o-abc123" } }
        "#,
    );
    let expect = |text: &str| assert!(found.iter().any(|p| p.contains(text)), "expected {text:?} in {found:#?}");
    expect("statements[1]: the Sid `Pull` is used by an earlier statement");
    expect("`Lowercase`: `Effect` must be \"Allow\" or \"Deny\"");
    expect("`Lowercase`: `alice` is not a valid AWS principal");
    expect("`Lowercase`: `BatchGetImage` is not an action");
    expect("`LooksNarrow` grants public access");
}

#[test]
fn a_required_deny_that_would_lock_ecr_warden_out_is_rejected_unless_it_excepts_its_roles() {
    let deny = r#"
        [[defaults.repository_policy.statements]]
        Sid = "NoWrites"
        Effect = "Deny"
        Principal = "*"
        Action = ["ecr:Put*", "ecr:SetRepositoryPolicy"]
        "#;
    let found = problems("b.toml", deny);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert!(
        found[0].contains("`NoWrites` denies ecr-warden's own roles ecr:PutImageScanningConfiguration and 3 more")
            && found[0].contains("ecr:SetRepositoryPolicy")
            && found[0].contains("except_ecr_warden = true"),
        "{}",
        found[0]
    );
    // The setting adds the exception, for the roles the baseline names.
    let settings =
        "[defaults.repository_policy]\nexcept_ecr_warden = true\necr_warden_roles = [\"arn:aws:iam::*:role/gov-*\"]\n";
    let want = parse(&format!("{settings}{deny}")).resolve("x").expect("resolves");
    let required = want.repository_policy.required_statements("aws", "us-east-1");
    assert_eq!(required[0]["Condition"], json!({"ArnNotLike": {"aws:PrincipalArn": ["arn:aws:iam::*:role/gov-*"]}}));
    // A role pattern must be a role ARN.
    let bad = problems("b.toml", "[defaults.repository_policy]\necr_warden_roles = [\"gov-*\"]\n");
    assert!(bad[0].contains("ecr_warden_roles: `gov-*` is not a role ARN pattern"), "{bad:#?}");
}

#[test]
fn values_aws_would_refuse_are_rejected_at_validation() {
    let found = problems(
        "b.toml",
        r#"
        [exemptions]
        tag_key = "aws:exempt"

        [alerts]
        event_bus = "alerts bus"

        [defaults.encryption]
        type = "KMS"
        kms_keys = ["alias/ecr", "1234abcd-12ab-34cd-56ef-1234567890ab"]

        [defaults.tags]
        required = { "AWS:team" = { default = "a" }, "cost;center" = { default = "x" }, owner = { default = "a|b" } }

        [defaults.tag_mutability]
        target = "IMMUTABLE"
        exclusions = ["latest"]

        [defaults.image_tags]
        allowed = ['latest)|(.*']

        [[rules]]
        match = []
        "#,
    );
    for text in [
        "exemptions.tag_key: the tag key `aws:exempt` starts with `aws:`",
        "alerts.event_bus: `alerts bus` is not an event bus name",
        "defaults.encryption.kms_keys: `alias/ecr` is not a KMS key ARN",
        "defaults.encryption.kms_keys: `1234abcd-12ab-34cd-56ef-1234567890ab` is not a KMS key ARN",
        "defaults.tags.required: the tag key `AWS:team` starts with `aws:`",
        "defaults.tags.required: the tag key `cost;center` holds ';'",
        "defaults.tags.required.owner: the tag value `a|b` holds '|'",
        "defaults.tag_mutability.exclusions: exclusions only apply to IMMUTABLE_WITH_EXCLUSION",
        "defaults.image_tags.allowed: `latest)|(.*` is not a valid regular expression",
        "rules[0].match: name at least one repository glob",
    ] {
        assert!(found.iter().any(|p| p.contains(text)), "expected {text:?} in {found:#?}");
    }
}

/// Two rules that are fine alone but impossible together, for the repositories both match, are reported per
/// pair; rules that can't match the same repository are not.
#[test]
fn contradictory_rules_are_reported_per_pair() {
    let found = problems(
        "b.toml",
        r#"
        [[rules]]
        match = "team-a/*"
        encryption = { type = "KMS", kms_keys = ["arn:aws:kms:us-east-1:111122223333:key/k1"] }

        [[rules]]
        match = "*/api"
        encryption = { type = "AES256" }

        [[rules]]
        match = "team-b/*"
        tag_mutability = { target = "IMMUTABLE_WITH_EXCLUSION", exclusions = ["latest"] }

        [[rules]]
        match = ["team-b/web", "team-c/*"]
        tag_mutability = { target = "IMMUTABLE" }

        [[rules]]
        match = "team-c/*"
        encryption = { type = "AES256" }
        "#,
    );
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(found[0].contains("rules[1].encryption.kms_keys") && found[0].contains("with rules[0]"), "{found:#?}");
    assert!(found[0].contains("`team-a/api`"), "{found:#?}");
    assert!(found[1].contains("rules[3].tag_mutability.exclusions") && found[1].contains("`team-b/web`"), "{found:#?}");
    let apart = "[[rules]]\nmatch = \"team-a/*\"\nencryption = { type = \"KMS\", kms_keys = [\"arn:aws:kms:us-east-1:111122223333:key/k1\"] }\n[[rules]]\nmatch = \"team-b/*\"\nencryption = { type = \"AES256\" }\n";
    parse(apart);
}

#[test]
fn each_glob_that_sets_scanning_gets_its_own_filter() {
    let baseline = parse(
        r#"
        [exemptions]
        repositories = ["legacy/**"]
        [[rules]]
        match = "prod/**"
        scanning = { frequency = "CONTINUOUS_SCAN" }
        [[rules]]
        match = ["sandbox-*", "scratch"]
        scanning = { mode = "off" }
        [[rules]]
        match = "team-?/**"
        tags = { mode = "audit" }
        "#,
    );
    let scope = |name: &str| baseline.resolve(name).expect("resolves").scanning.scope;
    assert_eq!(scope("prod/api").filter.as_deref(), Ok("prod/*"));
    assert_eq!(scope("prod/api").also_covers, Vec::<String>::new(), "nothing under prod/ is left unscanned");
    assert_eq!(scope("team-a/api").filter.as_deref(), Ok("*"), "a rule that doesn't set scanning keeps the scope");
    let everything = scope("app").also_covers;
    assert_eq!(
        everything,
        vec![
            "`legacy/**` (exempt), e.g. `legacy/a`".to_string(),
            "`sandbox-*` (scanning off), e.g. `sandbox-a`".to_string(),
            "`scratch` (scanning off), e.g. `scratch`".to_string(),
        ]
    );
}

#[test]
fn a_glob_ecr_cannot_express_as_a_scanning_filter_is_refused_where_it_would_be_used() {
    let long = "a".repeat(260);
    let text = format!("[[rules]]\nmatch = \"{long}/**\"\nscanning = {{ mode = \"enforce\" }}\n");
    let err = Baseline::parse("t.toml", &text).expect_err("too long a filter");
    assert!(err.to_string().contains("rules[0].match: glob"), "{err}");
    let via_repository = text.replace("mode = \"enforce\"", "via = \"repository\"");
    assert!(Baseline::parse("t.toml", &via_repository).is_ok(), "not used: not a problem");
}

fn placed(account: &str, units: &[&str]) -> Placement {
    let organizational_units = units.iter().map(|u| u.to_string()).collect();
    Placement { account: account.into(), organizational_units, organization_id: None }
}

/// Rules naming accounts or organizational units apply only there; the others everywhere. Governing without
/// knowing the account is refused rather than quietly dropping the rule.
#[test]
fn rules_may_be_limited_to_accounts_and_organizational_units() {
    let b = parse(
        r#"
[[rules]]
match = "**"
accounts = ["111111111111"]
tag_mutability = { mode = "audit" }

[[rules]]
match = "team/**"
organizational_units = ["ou-ab12-cd34ef56"]
tags = { mode = "off" }
"#,
    );
    assert!(b.names_accounts() && b.names_organizational_units());
    let first = b.in_account(placed("111111111111", &["r-ab12"])).resolve("team/api").expect("resolves");
    assert_eq!((first.tag_mutability.mode, first.tags.mode), (Mode::Audit, Mode::Enforce));
    let under_unit = b.in_account(placed("222222222222", &["ou-ab12-cd34ef56", "r-ab12"]));
    let second = under_unit.resolve("team/api").expect("resolves");
    assert_eq!((second.tag_mutability.mode, second.tags.mode), (Mode::Enforce, Mode::Off));
    assert_eq!(under_unit.resolve("other/api").expect("resolves").tags.mode, Mode::Enforce, "glob still matters");
    let unknown = b.resolve("team/api").expect_err("the account is needed");
    assert!(
        unknown[0].to_string().contains("names accounts, and the account of `team/api` isn't known"),
        "{unknown:?}"
    );
    assert!(!parse("").names_accounts(), "the built-in baseline is the same everywhere");
}

#[test]
fn accounts_can_be_exempt_or_outside_the_baseline() {
    let b = parse(
        "[organization]\naccounts = [\"111111111111\"]\norganizational_units = [\"ou-ab12-cd34ef56\"]\n\n\
         [exemptions]\naccounts = [\"333333333333\"]\n",
    );
    assert_eq!(b.account_exclusion(&placed("111111111111", &[])), None);
    assert_eq!(b.account_exclusion(&placed("222222222222", &["ou-ab12-cd34ef56"])), None, "under the unit");
    let outside = b.account_exclusion(&placed("444444444444", &["r-ab12"])).expect("not governed");
    assert!(outside.contains("444444444444 is not among the baseline's accounts"), "{outside}");
    let exempt = b.account_exclusion(&placed("333333333333", &["ou-ab12-cd34ef56"])).expect("exempt");
    assert!(exempt.contains("333333333333 is exempt"), "{exempt}");
    let everyone = parse("[exemptions]\naccounts = [\"333333333333\"]\n");
    assert_eq!(everyone.account_exclusion(&placed("444444444444", &[])), None, "no [organization]: every account");
}

#[test]
fn account_and_unit_ids_are_checked() {
    let found = problems(
        "b.toml",
        "[organization]\naccounts = [\"12345\"]\n\n[exemptions]\naccounts = [\"abc\"]\n\n\
         [[rules]]\nmatch = \"**\"\norganizational_units = [\"ou-1\"]\n",
    );
    assert!(found.iter().any(|p| p.contains("organization.accounts") && p.contains("`12345`")), "{found:?}");
    assert!(found.iter().any(|p| p.contains("exemptions.accounts") && p.contains("`abc`")), "{found:?}");
    assert!(found.iter().any(|p| p.contains("rules[0].organizational_units") && p.contains("`ou-1`")), "{found:?}");
}

/// Two rules for different accounts may set what would contradict in one account (a key for one, AES256 for
/// the other): they never meet.
#[test]
fn rules_for_different_accounts_never_contradict_each_other() {
    let text = r#"
[[rules]]
match = "**"
accounts = ["111111111111"]
encryption = { type = "AES256" }

[[rules]]
match = "**"
accounts = ["222222222222"]
encryption = { type = "KMS", kms_keys = ["arn:aws:kms:us-east-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"] }
"#;
    let b = parse(text);
    let second = b.in_account(placed("222222222222", &[])).resolve("app").expect("resolves");
    assert_eq!(second.encryption.kind, EncryptionType::Kms);
}
