//! Exemptions that expire and can't be taken quietly (issue 19, part 3): a grant in the baseline exempts its
//! repositories through its expiry date and governs them again after, saying so; the exempt tag alone still
//! exempts but is reported in every run as unlisted (exit 3); setting the tag by hand (a `TagResource` call seen
//! through CloudTrail) raises an alert naming the caller.

use integration_tests::{event_fixture, Moto, ACCOUNT, REGION};
use serde_json::{json, Value};

const BASELINE: &str = r#"
[defaults.tags]
mode = "off"

[[exemptions.granted]]
repositories = ["legacy/**"]
owner = "team-legacy"
reason = "PLAT-123: being retired"
expires = 2099-12-31

[[exemptions.granted]]
repositories = ["old/**"]
owner = "team-old"
reason = "PLAT-7"
expires = 2020-01-31
"#;

const EXEMPT: (&str, &str) = ("ecr-warden:exempt", "true");

async fn create(ecr: &aws_sdk_ecr::Client, name: &str, tags: &[(&str, &str)]) {
    let mut create = ecr.create_repository().repository_name(name);
    for (key, value) in tags {
        create = create.tags(aws_sdk_ecr::types::Tag::builder().key(*key).value(*value).build().expect("tag"));
    }
    create.send().await.expect("create");
}

fn repository<'a>(report: &'a Value, name: &str) -> &'a Value {
    let all = report["repositories"].as_array().expect("repositories");
    all.iter().find(|r| r["repository"] == name).unwrap_or_else(|| panic!("{name} is reported: {report:#}"))
}

#[tokio::test]
async fn grants_expire_and_a_tag_nobody_listed_is_reported_in_every_run() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, "legacy/app", &[]).await;
    create(&ecr, "old/app", &[EXEMPT]).await;
    create(&ecr, "team/opted-out", &[EXEMPT]).await;
    let baseline = moto.write_file("baseline.toml", BASELINE);
    let baseline = baseline.to_str().expect("utf-8 path");

    moto.reset_recording();
    let plan = moto.ecr_warden(&["plan", "--baseline", baseline, "--output", "json"]);
    assert_eq!(plan.code(), 2, "old/app is governed again and drifts: {plan:?}");
    let report = plan.json();

    let listed = repository(&report, "legacy/app");
    assert_eq!((listed["outcome"].as_str(), listed["exemption"]["state"].as_str()), (Some("exempt"), Some("listed")));
    assert_eq!(
        listed["exemption"]["grant"],
        json!({"repositories": ["legacy/**"], "owner": "team-legacy", "reason": "PLAT-123: being retired", "expires": "2099-12-31"})
    );

    let expired = repository(&report, "old/app");
    assert_eq!(
        (expired["outcome"].as_str(), expired["exemption"]["state"].as_str()),
        (Some("governed"), Some("expired"))
    );
    assert_eq!(
        expired["reason"],
        "the exemption for `old/**` (owner team-old: PLAT-7) expired on 2020-01-31: governed again; its \
         ecr-warden:exempt=true tag no longer exempts it"
    );
    assert!(!expired["controls"].as_array().expect("controls").is_empty(), "judged again");

    let unlisted = repository(&report, "team/opted-out");
    assert_eq!(
        (unlisted["outcome"].as_str(), unlisted["exemption"]["state"].as_str()),
        (Some("exempt"), Some("unlisted"))
    );
    assert_eq!(report["summary"]["exemptions"], json!({"listed": 1, "unlisted": 1, "expired": 1}));
    assert_eq!(moto.writes(), Vec::<String>::new(), "plan changes nothing");

    let table = moto.ecr_warden(&["plan", "--baseline", baseline]).stdout();
    assert!(
        table.contains("old/app: the exemption for `old/**` (owner team-old: PLAT-7) expired on 2020-01-31"),
        "{table}"
    );
    assert!(table.contains("team/opted-out: exempt (tagged ecr-warden:exempt=true but not listed"), "{table}");
    assert!(
        table.contains("; 1 exempt by a tag the baseline doesn't list; 1 governed again as their exemption expired"),
        "{table}"
    );

    // Fixed, old/app is compliant: what remains is the unlisted tag, a finding apply can't settle (exit 3).
    let apply = moto.ecr_warden(&["apply", "--baseline", baseline, "--output", "json"]);
    assert_eq!(apply.code(), 3, "{apply:?}");
    let again = moto.ecr_warden(&["plan", "--baseline", baseline, "--output", "json"]);
    assert_eq!(again.code(), 3, "reported again in the next run: {again:?}");
    assert_eq!(again.json()["summary"]["exemptions"]["unlisted"], 1);

    let bad = moto
        .write_file("bad.toml", "[[exemptions.granted]]\nrepositories = [\"x/**\"]\nowner = \"o\"\nreason = \"r\"\n");
    let refused = moto.ecr_warden(&["baseline", "validate", bad.to_str().expect("utf-8")]);
    assert_eq!(refused.code(), 1, "a grant without an expiry date: {refused:?}");
    assert!(refused.stderr().contains("expires"), "{refused:?}");
}

/// The `TagResource` call CloudTrail records when `by` sets `tags` on `repository` (ECR's `Tag` shape: `Key`,
/// `Value`).
fn tag_resource(repository: &str, tags: &[(&str, &str)], by: &str) -> Value {
    let mut event = event_fixture("cloudtrail-create-repository.json");
    let detail = &mut event["detail"];
    detail["eventName"] = json!("TagResource");
    detail["userIdentity"]["arn"] = json!(by);
    let tags: Vec<Value> = tags.iter().map(|(key, value)| json!({"Key": key, "Value": value})).collect();
    let arn = format!("arn:aws:ecr:{REGION}:{ACCOUNT}:repository/{repository}");
    detail["requestParameters"] = json!({"resourceArn": arn, "tags": tags});
    event
}

#[tokio::test]
async fn setting_the_exempt_tag_by_hand_raises_an_alert_naming_who() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    create(&ecr, "team/api", &[EXEMPT]).await;
    create(&ecr, "legacy/app", &[EXEMPT]).await;
    create(&ecr, "team/web", &[("owner", "web")]).await;
    let baseline = moto.write_file("baseline.toml", BASELINE);
    let baseline = baseline.to_str().expect("utf-8 path");
    let alice = format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice");
    let handle = |name: &str, event: Value| {
        let file = moto.event_file(name, &event);
        moto.ecr_warden(&["handle", "--event", &file, "--baseline", baseline, "--dry-run", "--output", "json"])
    };

    let run = handle("unlisted.json", tag_resource("team/api", &[EXEMPT], &alice));
    assert_eq!(run.code(), 0, "{run:?}");
    let handled = run.json();
    let alert = &handled["alerts"][0]["alert"];
    assert_eq!(
        alert["problems"],
        json!([format!(
            "exemption: tagged ecr-warden:exempt=true by {alice}: exempt now, and not listed in the baseline's exemptions"
        )]),
        "{handled:#}"
    );
    assert_eq!(alert["severity"], "MEDIUM");

    let listed = handle("listed.json", tag_resource("legacy/app", &[EXEMPT], &alice)).json();
    assert_eq!(listed["alerts"][0]["alert"]["severity"], "LOW", "{listed:#}");
    assert!(listed["alerts"][0]["alert"]["problems"][0]
        .as_str()
        .unwrap_or("")
        .ends_with("already listed in the baseline's exemptions"));

    let other_tag = handle("other.json", tag_resource("team/web", &[("owner", "web")], &alice)).json();
    let problems = other_tag["alerts"][0]["alert"]["problems"].as_array().cloned().unwrap_or_default();
    assert!(
        problems.iter().all(|p| !p.as_str().unwrap_or("").starts_with("exemption:")),
        "another tag is no exemption finding: {other_tag:#}"
    );
}
