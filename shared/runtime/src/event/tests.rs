//! Routing tests: every kind of event, malformed ones, and the loop guard.

use std::collections::BTreeMap;

use crate::backfill::Accounts;
use serde_json::json;
use warden_core::vulnerabilities::Severity;

use super::*;

const OWN_ROLE: &str = "arn:aws:iam::123456789012:role/service/ecr-warden";

fn api_call(event_name: &str, parameters: Value, issuer: &str) -> Value {
    json!({
        "version": "0", "id": "1", "detail-type": "AWS API Call via CloudTrail", "source": "aws.ecr",
        "account": "123456789012", "time": "2026-01-01T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {
            "eventSource": "ecr.amazonaws.com", "eventName": event_name, "requestParameters": parameters,
            "userIdentity": {"type": "AssumedRole", "arn": "arn:aws:sts::123456789012:assumed-role/x/s",
                             "sessionContext": {"sessionIssuer": {"arn": issuer}}}
        }
    })
}

fn guard() -> LoopGuard {
    LoopGuard::new(Some(OWN_ROLE.into()))
}

#[test]
fn governed_calls_route_to_their_repository() {
    let event = api_call("PutImageTagMutability", json!({"repositoryName": "team/app"}), "arn:aws:iam::1:role/Admin");
    match route(&event, &guard()) {
        Ok(Route::Govern { repository, because, .. }) => {
            assert_eq!(repository, "team/app");
            assert!(because.starts_with("PutImageTagMutability by "), "{because}");
        }
        other => panic!("unexpected {other:?}"),
    }
    let tag = api_call(
        "UntagResource",
        json!({"resourceArn": "arn:aws:ecr:us-east-1:123456789012:repository/team/app", "tagKeys": ["a"]}),
        "arn:aws:iam::1:role/Admin",
    );
    assert!(matches!(route(&tag, &guard()), Ok(Route::Govern { repository, .. }) if repository == "team/app"));
}

#[test]
fn failed_calls_and_other_calls_are_ignored_with_a_reason() {
    let mut failed = api_call("CreateRepository", json!({"repositoryName": "app"}), "arn:aws:iam::1:role/Admin");
    failed["detail"]["errorCode"] = json!("RepositoryAlreadyExistsException");
    assert!(
        matches!(route(&failed, &guard()), Ok(Route::Ignore { reason }) if reason.contains("RepositoryAlreadyExists"))
    );
    let read = api_call("DescribeImages", json!({"repositoryName": "app"}), "arn:aws:iam::1:role/Admin");
    assert!(matches!(route(&read, &guard()), Ok(Route::Ignore { .. })));
}

#[test]
fn the_loop_guard_ignores_only_our_own_role() {
    let own = api_call("PutLifecyclePolicy", json!({"repositoryName": "app"}), OWN_ROLE);
    assert!(matches!(route(&own, &guard()), Ok(Route::Ignore { reason }) if reason.contains("ecr-warden itself")));
    let mut by_session = api_call("PutLifecyclePolicy", json!({"repositoryName": "app"}), "");
    by_session["detail"]["userIdentity"] =
        json!({"arn": "arn:aws:sts::123456789012:assumed-role/ecr-warden/lambda-session"});
    assert!(matches!(route(&by_session, &guard()), Ok(Route::Ignore { .. })), "assumed-role ARN recognised");
    let other =
        api_call("PutLifecyclePolicy", json!({"repositoryName": "app"}), "arn:aws:iam::123456789012:role/ecr-warden-2");
    assert!(matches!(route(&other, &guard()), Ok(Route::Govern { .. })));
    assert!(matches!(route(&own, &LoopGuard::new(None)), Ok(Route::Govern { .. })), "no guard configured");
    let both = LoopGuard::new(Some(format!("arn:aws:iam::123456789012:role/backfill, {OWN_ROLE}")));
    assert!(matches!(route(&own, &both), Ok(Route::Ignore { .. })), "any of several roles");
}

/// Organization mode: the hub changes member registries as `assumed-role/ecr-warden-member/ecr-warden` in each
/// member account; those calls are its own in every account. Another role of the same account is not.
#[test]
fn the_loop_guard_knows_the_member_role_in_every_account() {
    let member = guard().with_member_role("ecr-warden-member");
    let mut by_hub = api_call("PutLifecyclePolicy", json!({"repositoryName": "app"}), "");
    by_hub["account"] = json!("222222222222");
    by_hub["detail"]["userIdentity"] = json!({
        "arn": "arn:aws:sts::222222222222:assumed-role/ecr-warden-member/ecr-warden",
        "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::222222222222:role/ecr-warden-member"}}
    });
    assert!(matches!(route(&by_hub, &member), Ok(Route::Ignore { reason }) if reason.contains("ecr-warden itself")));
    assert!(matches!(route(&by_hub, &guard()), Ok(Route::Govern { .. })), "outside organization mode it's anyone's");
    let mut issuer_only = by_hub.clone();
    issuer_only["detail"]["userIdentity"]["arn"] = json!(null);
    assert!(matches!(route(&issuer_only, &member), Ok(Route::Ignore { .. })), "the session issuer suffices");
    let mut team = by_hub;
    team["detail"]["userIdentity"] = json!({
        "arn": "arn:aws:sts::222222222222:assumed-role/ecr-warden-member-2/ecr-warden",
        "sessionContext": {"sessionIssuer": {"arn": "arn:aws:iam::222222222222:role/team/ecr-warden-members"}}
    });
    assert!(matches!(route(&team, &member), Ok(Route::Govern { .. })), "a team's role is governed");
    assert!(matches!(route(&own_call(), &member), Ok(Route::Ignore { .. })), "the function's own role still is");
}

fn own_call() -> Value {
    api_call("PutLifecyclePolicy", json!({"repositoryName": "app"}), OWN_ROLE)
}

#[test]
fn a_replication_action_governs_the_destination_repository() {
    let event = json!({
        "version": "0", "id": "r1", "detail-type": "ECR Replication Action", "source": "aws.ecr",
        "account": "222222222222", "region": "eu-west-1",
        "resources": ["arn:aws:ecr:eu-west-1:222222222222:repository/prod/api"],
        "detail": {"result": "SUCCESS", "repository-name": "prod/api", "image-digest": "sha256:ab",
                   "source-account": "111111111111", "source-region": "us-east-1", "action-type": "REPLICATE"}
    });
    match route(&event, &guard()) {
        Ok(Route::Govern { origin, repository, because, created, .. }) => {
            assert_eq!((repository.as_str(), origin.region.as_str(), created), ("prod/api", "eu-west-1", false));
            assert_eq!(because, "ECR Replication Action from 111111111111/us-east-1 (SUCCESS)");
        }
        other => panic!("unexpected {other:?}"),
    }
    let mut by_arn = event.clone();
    by_arn["detail"]["repository-name"] = json!("arn:aws:ecr:eu-west-1:222222222222:repository/prod/api");
    assert!(matches!(route(&by_arn, &guard()), Ok(Route::Govern { repository, .. }) if repository == "prod/api"));
    let mut nameless = event.clone();
    nameless["detail"].as_object_mut().expect("object").remove("repository-name");
    assert!(matches!(route(&nameless, &guard()), Err(MalformedEvent(m)) if m.contains("repository-name")));
    let mut bad = event;
    bad["detail"]["repository-name"] = json!("../../etc");
    assert!(route(&bad, &guard()).is_err(), "names ECR can't hold are refused");
}

/// The ECR user guide's sample replication event has `"result": "SUCCESS"` ("Amazon ECR events and
/// EventBridge"); any other result replicated nothing.
#[test]
fn a_failed_replication_is_ignored() {
    let event = json!({
        "version": "0", "id": "r2", "detail-type": "ECR Replication Action", "source": "aws.ecr",
        "account": "222222222222", "region": "eu-west-1", "resources": [],
        "detail": {"result": "FAILURE", "repository-name": "prod/api", "action-type": "REPLICATE"}
    });
    assert!(matches!(route(&event, &guard()), Ok(Route::Ignore { reason }) if reason.contains("FAILURE")));
}

#[test]
fn registry_wide_changes_by_hand_govern_the_registry_and_ours_are_ignored() {
    let admin = "arn:aws:iam::123456789012:role/Admin";
    let scanning = api_call("PutRegistryScanningConfiguration", json!({"scanType": "BASIC", "rules": []}), admin);
    match route(&scanning, &guard()) {
        Ok(Route::GovernRegistry { part, because, origin }) => {
            assert_eq!(part, RegistryPart::Scanning);
            assert!(because.starts_with("PutRegistryScanningConfiguration by "), "{because}");
            assert_eq!(origin.account, "123456789012");
        }
        other => panic!("unexpected {other:?}"),
    }
    // Each registry-level control's calls, as its description names them.
    for (call, control) in [
        ("PutReplicationConfiguration", ControlId::Replication),
        ("DeleteRegistryPolicy", ControlId::RegistryPolicy),
        ("UpdateRepositoryCreationTemplate", ControlId::CreationTemplates),
        ("CreatePullThroughCacheRule", ControlId::PullThroughCache),
        ("PutSigningConfiguration", ControlId::Signing),
    ] {
        let event = api_call(call, json!({}), admin);
        let part = RegistryPart::Control(control);
        assert!(matches!(route(&event, &guard()), Ok(Route::GovernRegistry { part: p, .. }) if p == part), "{call}");
    }
    let own = api_call("PutRegistryScanningConfiguration", json!({}), OWN_ROLE);
    assert!(matches!(route(&own, &guard()), Ok(Route::Ignore { reason }) if reason.contains("ecr-warden itself")));
    let mut nowhere = scanning;
    nowhere["account"] = json!("");
    assert!(route(&nowhere, &guard()).is_err(), "a registry event must say which registry");
}

/// A resource ARN in an event names the repository in full: another account's or region's repository, or
/// something that is not an ECR repository, is not this event's to govern.
#[test]
fn repositories_of_another_registry_or_not_ecr_are_ignored() {
    let tag = |arn: &str| api_call("TagResource", json!({"resourceArn": arn, "tags": []}), "arn:aws:iam::1:role/Admin");
    for arn in [
        "arn:aws:ecr:us-east-1:210987654321:repository/team-a/api",
        "arn:aws:ecr:eu-west-1:123456789012:repository/team-a/api",
        "arn:aws:s3:::bucket:repository/team-a/api",
        "team-a/api",
    ] {
        match route(&tag(arn), &guard()) {
            Ok(Route::Ignore { reason }) => assert!(reason.contains(arn), "{reason}"),
            other => panic!("{arn}: unexpected {other:?}"),
        }
    }
    let scan = json!({"detail-type": "Inspector2 Scan", "source": "aws.inspector2", "account": "123456789012",
        "region": "us-east-1", "detail": {"scan-status": "INITIAL_SCAN_COMPLETE",
        "repository-name": "arn:aws:ecr:us-east-1:210987654321:repository/app", "image-digest": "sha256:1"}});
    assert!(matches!(route(&scan, &guard()), Ok(Route::Ignore { reason }) if reason.contains("210987654321")));
    let mut nowhere = api_call("CreateRepository", json!({"repositoryName": "app"}), "arn:aws:iam::1:role/Admin");
    nowhere.as_object_mut().expect("object").remove("account");
    assert!(route(&nowhere, &guard()).expect_err("no account").0.contains("`account` and `region`"));
}

#[test]
fn scheduled_events_audit_the_whole_registry() {
    let event = json!({"version":"0","id":"1","detail-type":"Scheduled Event","source":"aws.events","detail":{}});
    assert_eq!(route(&event, &guard()), Ok(Route::Backfill(BackfillRequest::default())));
}

#[test]
fn manual_backfill_requests_are_checked() {
    let request = route(&json!({"dryRun": true, "repositories": ["team-a/*"], "concurrency": 4}), &guard());
    match request {
        Ok(Route::Backfill(r)) => assert_eq!((r.dry_run, r.repositories.len(), r.concurrency), (true, 1, 4)),
        other => panic!("unexpected {other:?}"),
    }
    // Writes only when the payload says so.
    let dry_run = |payload: Value| match route(&payload, &guard()) {
        Ok(Route::Backfill(request)) => Ok(request.dry_run),
        Ok(other) => panic!("{payload}: unexpected {other:?}"),
        Err(error) => Err(error.0),
    };
    for plans in [json!({}), json!({"mode": "plan"}), json!({"dryRun": true}), json!({"fanOut": true})] {
        assert_eq!(dry_run(plans.clone()), Ok(true), "{plans}");
    }
    for applies in [json!({"dryRun": false}), json!({"mode": "apply"}), json!({"dryRun": false, "mode": "apply"})] {
        assert_eq!(dry_run(applies.clone()), Ok(false), "{applies}");
    }
    for contradicts in [json!({"dryRun": true, "mode": "apply"}), json!({"dryRun": false, "mode": "plan"})] {
        assert!(dry_run(contradicts.clone()).is_err_and(|e| e.contains("disagree")), "{contradicts}");
    }
    assert!(dry_run(json!({"mode": "yes"})).is_err());
    assert_eq!(route(&json!({}), &guard()), Ok(Route::Backfill(BackfillRequest::default())));
    let err = route(&json!({"dryrun": true}), &guard()).expect_err("unknown key");
    assert!(err.0.contains("dryrun"), "{err}");
    assert!(route(&json!({"concurrency": 0}), &guard()).is_err());
    assert!(route(&json!({"repositories": ["[bad"]}), &guard()).is_err());
}

/// Organization-wide requests: `organization` or `accounts` (never both), `regions` only with one of them; every
/// account and region well formed (they become role ARNs and endpoint host names); always fanned out.
#[test]
fn organization_backfill_requests_are_checked() {
    let request = |payload: Value| match route(&payload, &guard()) {
        Ok(Route::Backfill(request)) => Ok(request),
        Ok(other) => panic!("{payload}: unexpected {other:?}"),
        Err(error) => Err(error.0),
    };
    let whole = request(json!({"organization": true})).expect("valid");
    assert_eq!((whole.accounts, whole.regions.len(), whole.fan_out), (Accounts::Organization, 0, true));
    let listed = request(json!({"accounts": ["111111111111", "222222222222", "111111111111"],
                                "regions": ["eu-west-1", "us-east-1"]}))
    .expect("valid");
    assert_eq!(listed.accounts, Accounts::Listed(vec!["111111111111".into(), "222222222222".into()]), "no repeats");
    assert_eq!(
        (listed.regions, listed.fan_out, listed.dry_run),
        (vec!["eu-west-1".into(), "us-east-1".into()], true, true)
    );
    let refused = [
        (json!({"organization": true, "accounts": ["111111111111"]}), "not both"),
        (json!({"accounts": ["1111"]}), "`accounts`: \"1111\" is not an account ID"),
        (json!({"organization": true, "regions": ["us-east-1.evil.example"]}), "is not a region name"),
        (json!({"regions": ["eu-west-1"]}), "`regions` goes with `accounts` or `organization`"),
        (json!({"accounts": "111111111111"}), "invalid type"),
    ];
    for (payload, expected) in refused {
        let error = request(payload.clone()).expect_err("refused");
        assert!(error.contains(expected), "{payload}: {error}");
    }
}

#[test]
fn malformed_events_say_what_is_wrong() {
    assert!(route(&json!([1, 2]), &guard()).is_err());
    let no_detail = json!({"detail-type": "AWS API Call via CloudTrail", "source": "aws.ecr"});
    assert!(route(&no_detail, &guard()).expect_err("no detail").0.contains("detail"));
    let no_name = api_call("CreateRepository", json!({}), "arn:aws:iam::1:role/Admin");
    assert!(route(&no_name, &guard()).expect_err("no name").0.contains("repositoryName"));
    let mut no_event_name = api_call("CreateRepository", json!({"repositoryName": "app"}), "");
    no_event_name["detail"].as_object_mut().map(|d| d.remove("eventName"));
    assert!(route(&no_event_name, &guard()).expect_err("no eventName").0.contains("eventName"));
}

#[test]
fn other_event_types_are_ignored() {
    let change = json!({"detail-type": "ECR Scan Resource Change", "source": "aws.ecr", "detail": {}});
    assert!(
        matches!(route(&change, &guard()), Ok(Route::Ignore { reason }) if reason.contains("ECR Scan Resource Change"))
    );
    let spoofed = json!({"detail-type": "ECR Image Scan", "source": "aws.inspector2", "detail": {}});
    assert!(matches!(route(&spoofed, &guard()), Ok(Route::Ignore { .. })), "detail-type and source must agree");
}

fn image_action(action: &str, result: &str, tag: &str) -> Value {
    json!({"detail-type": "ECR Image Action", "source": "aws.ecr", "account": "123456789012",
           "region": "us-west-2", "resources": [],
           "detail": {"action-type": action, "result": result, "repository-name": "team/app",
                      "image-digest": "sha256:abc", "image-tag": tag}})
}

#[test]
fn successful_pushes_route_with_their_origin_and_tag() {
    match route(&image_action("PUSH", "SUCCESS", "v1"), &guard()) {
        Ok(Route::ImagePushed(push)) => {
            assert_eq!((push.repository.as_str(), push.digest.as_str()), ("team/app", "sha256:abc"));
            assert_eq!(push.tag.as_deref(), Some("v1"));
            assert_eq!(
                push.origin.repository_arn("team/app"),
                "arn:aws:ecr:us-west-2:123456789012:repository/team/app"
            );
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(
        matches!(route(&image_action("PUSH", "SUCCESS", ""), &guard()), Ok(Route::ImagePushed(p)) if p.tag.is_none()),
        "a digest-only push has no tag"
    );
}

#[test]
fn deletes_archives_and_failed_pushes_are_acknowledged() {
    for (action, result) in [("DELETE", "SUCCESS"), ("UPDATE_STORAGE_CLASS", "SUCCESS"), ("PUSH", "FAILED")] {
        match route(&image_action(action, result, "v1"), &guard()) {
            Ok(Route::Ignore { reason }) => assert!(reason.contains("team/app"), "{reason}"),
            other => panic!("{action} {result}: unexpected {other:?}"),
        }
    }
    let mut no_digest = image_action("PUSH", "SUCCESS", "v1");
    no_digest["detail"].as_object_mut().map(|d| d.remove("image-digest"));
    assert!(route(&no_digest, &guard()).expect_err("no digest").0.contains("image-digest"));
    let mut no_action = image_action("PUSH", "SUCCESS", "v1");
    no_action["detail"]["action-type"] = json!(7);
    assert!(route(&no_action, &guard()).is_err());
}

#[test]
fn enhanced_scans_name_the_repository_by_arn_and_drop_total() {
    let event = json!({"detail-type": "Inspector2 Scan", "source": "aws.inspector2", "account": "123456789012",
        "region": "us-east-2",
        "detail": {"scan-status": "INITIAL_SCAN_COMPLETE",
                   "repository-name": "arn:aws:ecr:us-east-2:123456789012:repository/amazon/sample",
                   "finding-severity-counts": {"CRITICAL": 7, "HIGH": 61, "TOTAL": 68},
                   "image-digest": "sha256:36c7", "image-tags": ["latest"]}});
    match route(&event, &guard()) {
        Ok(Route::ScanCompleted(scan)) => {
            assert_eq!(scan.repository, "amazon/sample");
            assert_eq!(scan.source, ScanSource::EnhancedScan);
            assert_eq!(scan.counts.values().sum::<u32>(), 68);
            assert_eq!(scan.tags, ["latest"]);
        }
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn basic_scans_may_have_empty_counts_and_no_tags() {
    let event = json!({"detail-type": "ECR Image Scan", "source": "aws.ecr", "account": "1", "region": "r",
        "detail": {"scan-status": "COMPLETE", "repository-name": "app", "finding-severity-counts": {},
                   "image-digest": "sha256:1", "image-tags": []}});
    assert!(matches!(route(&event, &guard()), Ok(Route::ScanCompleted(s)) if s.counts.is_empty() && s.tags.is_empty()));
    let mut failed = event.clone();
    failed["detail"]["scan-status"] = json!("FAILED");
    assert!(matches!(route(&failed, &guard()), Ok(Route::Ignore { .. })));
    let mut bad_counts = event.clone();
    bad_counts["detail"]["finding-severity-counts"] = json!({"HIGH": "many"});
    assert!(route(&bad_counts, &guard()).expect_err("bad count").0.contains("HIGH"));
}

#[test]
fn huge_severity_counts_saturate_instead_of_wrapping() {
    let event = |counts: Value| {
        json!({"detail-type": "ECR Image Scan", "source": "aws.ecr", "account": "1", "region": "r",
            "detail": {"scan-status": "COMPLETE", "repository-name": "app", "finding-severity-counts": counts,
                       "image-digest": "sha256:1", "image-tags": []}})
    };
    for counts in [
        json!({"CRITICAL": 4_294_967_295u64, "critical": 1}),
        json!({"CRITICAL": 4_294_967_296u64}),
        json!({"CRITICAL": u64::MAX}),
    ] {
        match route(&event(counts.clone()), &guard()) {
            Ok(Route::ScanCompleted(scan)) => assert_eq!(scan.counts[&Severity::Critical], u32::MAX, "{counts}"),
            other => panic!("{counts}: unexpected {other:?}"),
        }
    }
}

#[test]
fn inspector_findings_carry_their_one_finding_whatever_its_status() {
    let event = json!({"detail-type": "Inspector2 Finding", "source": "aws.inspector2", "account": "1",
        "region": "r", "detail": {"severity": "UNTRIAGED", "status": "ACTIVE", "inspectorScore": 6.5,
            "packageVulnerabilityDetails": {"vulnerabilityId": "CVE-1", "sourceUrl": "https://x",
                "vulnerablePackages": [{"name": "libssh2", "version": "1.4.3", "fixedInVersion": "1.4.4"}]},
            "resources": [{"details": {"awsEcrContainerImage": {"repositoryName": "a/b", "imageHash": "sha256:9",
                                                                "imageTags": []}}}]}});
    match route(&event, &guard()) {
        Ok(Route::ScanCompleted(scan)) => {
            let (finding, active) = scan.finding.expect("one finding");
            assert_eq!((finding.id.as_str(), finding.severity, active), ("CVE-1", Severity::Untriaged, true));
            assert_eq!(finding.fixed_in.as_deref(), Some("1.4.4"));
            assert_eq!(scan.counts, BTreeMap::from([(Severity::Untriaged, 1)]));
        }
        other => panic!("unexpected {other:?}"),
    }
    // A closed finding changes the image's state too: it is routed, to be judged with the image's findings.
    let mut closed = event.clone();
    closed["detail"]["status"] = json!("CLOSED");
    assert!(
        matches!(route(&closed, &guard()), Ok(Route::ScanCompleted(s)) if s.finding.as_ref().is_some_and(|(_, a)| !a))
    );
    let mut not_ecr = event.clone();
    not_ecr["detail"]["resources"] = json!([{"details": {"awsLambdaFunction": {}}}]);
    assert!(matches!(route(&not_ecr, &guard()), Ok(Route::Ignore { .. })));
}

/// `ECR Pull Through Cache Action` (ECR user guide, "Amazon ECR events and EventBridge": `sync-status`,
/// `repository-name`, `upstream-registry-url`): a successful sync governs the cached repository at once.
#[test]
fn a_pull_through_cache_sync_governs_the_cached_repository() {
    let event = |status: &str| {
        json!({"version": "0", "id": "p1", "detail-type": "ECR Pull Through Cache Action", "source": "aws.ecr",
               "account": "123456789012", "region": "us-west-2",
               "resources": ["arn:aws:ecr:us-west-2:123456789012:repository/docker-hub/library/alpine"],
               "detail": {"rule-version": "1", "sync-status": status, "ecr-repository-prefix": "docker-hub",
                          "repository-name": "docker-hub/library/alpine",
                          "upstream-registry-url": "registry-1.docker.io", "image-tag": "3.20"}})
    };
    match route(&event("SUCCESS"), &guard()) {
        Ok(Route::Govern { repository, because, created, .. }) => {
            assert_eq!(repository, "docker-hub/library/alpine");
            assert_eq!(because, "ECR Pull Through Cache Action from registry-1.docker.io");
            assert!(!created);
        }
        other => panic!("expected Govern, got {other:?}"),
    }
    assert!(matches!(route(&event("FAILED"), &guard()), Ok(Route::Ignore { reason }) if reason.contains("FAILED")));
    let mut nameless = event("SUCCESS");
    nameless["detail"].as_object_mut().map(|d| d.remove("repository-name"));
    assert!(route(&nameless, &guard()).expect_err("no name").0.contains("repository-name"));
}

#[test]
fn the_tags_a_call_sets_are_read_with_who_set_them() {
    let tags = json!({"resourceArn": "arn:aws:ecr:us-east-1:123456789012:repository/app",
        "tags": [{"Key": "ecr-warden:exempt", "Value": "true"}, {"key": "owner", "value": "a"}, {"Key": 1}, "x"]});
    match route(&api_call("TagResource", tags, "arn:aws:iam::1:user/alice"), &guard()) {
        Ok(Route::Govern { tags_set, by, .. }) => {
            let expected =
                [("ecr-warden:exempt".to_string(), "true".to_string()), ("owner".to_string(), "a".to_string())];
            assert_eq!(tags_set, expected, "well-formed tags only");
            assert_eq!(by.as_deref(), Some("arn:aws:sts::123456789012:assumed-role/x/s"), "the identity's ARN");
        }
        other => panic!("unexpected {other:?}"),
    }
}
