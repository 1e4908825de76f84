//! Reading image events: `ECR Image Action` (push, delete, archive), `ECR Image Scan` (basic scan done),
//! `Inspector2 Scan` (enhanced scan done; its `repository-name` is an ARN) and `Inspector2 Finding` (one
//! finding). Pure, like the rest of routing; `image-tag` may be `""` and `image-tags` `[]`.

use std::collections::BTreeMap;

use serde_json::Value;
use warden_core::alert::Origin;
use warden_core::vulnerabilities::{Finding, Severity};

use super::kinds::{ImagePush, MalformedEvent, Route, ScanResult, ScanSource};

fn text<'a>(detail: &'a Value, key: &str) -> Option<&'a str> {
    detail.get(key).and_then(Value::as_str)
}

fn required<'a>(detail: &'a Value, key: &str, what: &str) -> Result<&'a str, MalformedEvent> {
    text(detail, key)
        .filter(|v| !v.is_empty())
        .ok_or_else(|| MalformedEvent(format!("{what}: detail.{key} is missing or not a non-empty string")))
}

/// Routes an `ECR Image Action` event.
pub(crate) fn route_image_action(origin: Origin, detail: &Value) -> Result<Route, MalformedEvent> {
    const WHAT: &str = "ECR Image Action";
    let action = required(detail, "action-type", WHAT)?;
    let repository = required(detail, "repository-name", WHAT)?;
    let result = text(detail, "result").unwrap_or("");
    if action != "PUSH" {
        return Ok(Route::Ignore { reason: format!("{action} in `{repository}` ({result}): nothing to do") });
    }
    if result != "SUCCESS" {
        return Ok(Route::Ignore { reason: format!("a push to `{repository}` ended {result:?}: no image to check") });
    }
    let digest = required(detail, "image-digest", WHAT)?;
    let tag = text(detail, "image-tag").filter(|t| !t.is_empty()).map(str::to_string);
    Ok(Route::ImagePushed(ImagePush { origin, repository: repository.to_string(), digest: digest.to_string(), tag }))
}

/// Routes an `ECR Image Scan` or `Inspector2 Scan` event.
pub(crate) fn route_scan(origin: Origin, source: ScanSource, detail: &Value) -> Result<Route, MalformedEvent> {
    let what = match source {
        ScanSource::BasicScan => "ECR Image Scan",
        _ => "Inspector2 Scan",
    };
    let status = required(detail, "scan-status", what)?;
    // Inspector writes the repository as an ARN, ECR as a name.
    let name_or_arn = required(detail, "repository-name", what)?;
    let repository = match name_or_arn.starts_with("arn:") {
        true => match origin.repository_in(name_or_arn) {
            Ok(name) => name.to_string(),
            Err(reason) => return Ok(Route::Ignore { reason: format!("{what}: {reason}") }),
        },
        false => name_or_arn.to_string(),
    };
    if !status.ends_with("COMPLETE") {
        return Ok(Route::Ignore {
            reason: format!("the scan of an image in `{repository}` is {status}, not complete"),
        });
    }
    let digest = required(detail, "image-digest", what)?.to_string();
    let tags = match detail.get("image-tags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(tags)) => {
            tags.iter().filter_map(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string).collect()
        }
        Some(_) => return Err(MalformedEvent(format!("{what}: detail.image-tags must be a list"))),
    };
    let counts = severity_counts(detail.get("finding-severity-counts"), what)?;
    Ok(Route::ScanCompleted(ScanResult { origin, source, repository, digest, tags, counts, finding: None }))
}

fn severity_counts(counts: Option<&Value>, what: &str) -> Result<BTreeMap<Severity, u32>, MalformedEvent> {
    let mut found = BTreeMap::new();
    let Some(counts) = counts.filter(|c| !c.is_null()) else { return Ok(found) };
    let Some(counts) = counts.as_object() else {
        return Err(MalformedEvent(format!("{what}: detail.finding-severity-counts must be an object")));
    };
    for (key, count) in counts {
        if key == "TOTAL" {
            continue;
        }
        // Counts past u32::MAX, and sums of keys naming one severity (`CRITICAL` and `critical`), saturate: a
        // count that wrapped to a small number would hide findings.
        let count = count
            .as_u64()
            .map(|n| u32::try_from(n).unwrap_or(u32::MAX))
            .ok_or_else(|| MalformedEvent(format!("{what}: finding-severity-counts.{key} must be a whole number")))?;
        let total = found.entry(Severity::parse(key)).or_insert(0u32);
        *total = total.saturating_add(count);
    }
    Ok(found)
}

/// Routes an `Inspector2 Finding` event: an active package vulnerability in an ECR image.
pub(crate) fn route_inspector_finding(origin: Origin, detail: &Value) -> Result<Route, MalformedEvent> {
    const WHAT: &str = "Inspector2 Finding";
    let status = text(detail, "status").unwrap_or("ACTIVE");
    let resources = detail.get("resources").and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
    let Some(image) = resources.iter().find_map(|r| r.pointer("/details/awsEcrContainerImage")) else {
        return Ok(Route::Ignore { reason: "the Inspector finding is not about an ECR image".to_string() });
    };
    let repository = required(image, "repositoryName", WHAT)?.to_string();
    let accounts = [text(detail, "awsAccountId"), text(image, "registry")];
    if let Some(other) = accounts.into_iter().flatten().find(|account| *account != origin.account) {
        let reason =
            format!("{WHAT}: the image is in account {other}'s registry, not the event's ({})", origin.account);
        return Ok(Route::Ignore { reason });
    }
    let digest = required(image, "imageHash", WHAT)?.to_string();
    let tags = image
        .get("imageTags")
        .and_then(Value::as_array)
        .map(|tags| tags.iter().filter_map(Value::as_str).filter(|t| !t.is_empty()).map(str::to_string).collect())
        .unwrap_or_default();
    let details = detail.get("packageVulnerabilityDetails");
    let id = details
        .and_then(|d| text(d, "vulnerabilityId"))
        .or_else(|| text(detail, "title"))
        .ok_or_else(|| MalformedEvent(format!("{WHAT}: no packageVulnerabilityDetails.vulnerabilityId nor title")))?;
    let severity = Severity::parse(required(detail, "severity", WHAT)?);
    let package = details.and_then(|d| d.pointer("/vulnerablePackages/0"));
    let owned = |v: Option<&str>| v.filter(|s| !s.is_empty()).map(str::to_string);
    let finding = Finding {
        id: id.to_string(),
        severity,
        score: detail.get("inspectorScore").and_then(Value::as_f64),
        package: owned(package.and_then(|p| text(p, "name"))),
        version: owned(package.and_then(|p| text(p, "version"))),
        fixed_in: owned(package.and_then(|p| text(p, "fixedInVersion")).filter(|v| *v != "NotAvailable")),
        uri: owned(details.and_then(|d| text(d, "sourceUrl"))),
        // The image's findings are read in full before anything is judged; their times come from that read.
        first_observed_ms: None,
    };
    Ok(Route::ScanCompleted(ScanResult {
        origin,
        source: ScanSource::InspectorFinding,
        repository,
        digest,
        tags,
        counts: BTreeMap::from([(severity, 1)]),
        finding: Some((finding, status == "ACTIVE")),
    }))
}
