//! Images as `aws ecr describe-images --output json` prints them, reduced to what a preview needs.

use serde::Deserialize;
use serde_json::Value;

use super::model::StorageClass;

/// One image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// `imageDigest`.
    pub digest: String,
    /// `imageTags` (empty for untagged images).
    pub tags: Vec<String>,
    /// `imagePushedAt`, in milliseconds since the epoch.
    pub pushed_at_ms: i64,
    /// `lastRecordedPullTime`, where ECR has recorded one.
    pub last_pulled_ms: Option<i64>,
    /// `lastArchivedAt`, for archived images.
    pub archived_at_ms: Option<i64>,
    /// Standard, or archive (`imageStatus: ARCHIVED`).
    pub storage_class: StorageClass,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeImages {
    image_details: Vec<Value>,
}

/// Reads the JSON `aws ecr describe-images` prints (an object with `imageDetails`). Timestamps are ISO 8601
/// strings with an offset (`2026-01-02T03:04:05.123000+00:00`) or epoch seconds.
pub fn parse_describe_images(text: &str) -> Result<Vec<Image>, String> {
    let parsed: DescribeImages = serde_json::from_str(text).map_err(|e| format!("not describe-images output: {e}"))?;
    parsed.image_details.iter().enumerate().map(|(index, detail)| image(index, detail)).collect()
}

/// One `imageDetails` entry.
pub fn image(index: usize, detail: &Value) -> Result<Image, String> {
    let at = |field: &str| format!("imageDetails[{index}].{field}");
    let digest = detail["imageDigest"].as_str().ok_or_else(|| format!("{} is missing", at("imageDigest")))?;
    let tags = match detail.get("imageTags") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(tags)) => tags
            .iter()
            .map(|t| t.as_str().map(str::to_string).ok_or_else(|| format!("{} must hold strings", at("imageTags"))))
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("{} must be a list", at("imageTags"))),
    };
    let time = |field: &str| -> Result<Option<i64>, String> {
        match detail.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(value) => timestamp_ms(value).map(Some).map_err(|e| format!("{}: {e}", at(field))),
        }
    };
    Ok(Image {
        digest: digest.to_string(),
        tags,
        pushed_at_ms: time("imagePushedAt")?.ok_or_else(|| format!("{} is missing", at("imagePushedAt")))?,
        last_pulled_ms: time("lastRecordedPullTime")?,
        archived_at_ms: time("lastArchivedAt")?,
        storage_class: match detail["imageStatus"].as_str() {
            Some("ARCHIVED") => StorageClass::Archive,
            _ => StorageClass::Standard,
        },
    })
}

/// A timestamp given as an RFC 3339 string or as (possibly fractional) epoch seconds, in milliseconds.
pub fn timestamp_ms(value: &Value) -> Result<i64, String> {
    match value {
        Value::Number(n) => n.as_f64().map(|s| (s * 1000.0).round() as i64).ok_or_else(|| format!("bad number {n}")),
        Value::String(s) => parse_rfc3339_ms(s),
        other => Err(format!("expected a timestamp, found {other}")),
    }
}

/// Parses an RFC 3339 / ISO 8601 date-time with an offset, in milliseconds since the epoch.
pub fn parse_rfc3339_ms(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("`{text}` is not an ISO 8601 time with offset: {e}"))
}

/// Formats milliseconds since the epoch as the AWS CLI prints times (`2026-01-02T03:04:05.123000+00:00`).
pub fn format_ms(ms: i64) -> String {
    match chrono::DateTime::from_timestamp_millis(ms) {
        Some(t) => t.format("%Y-%m-%dT%H:%M:%S%.6f+00:00").to_string(),
        None => ms.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn describe_images_output_is_read() {
        let text = r#"{"imageDetails": [
            {"registryId": "1", "repositoryName": "r", "imageDigest": "sha256:a", "imageTags": ["v1", "latest"],
             "imageSizeInBytes": 1, "imagePushedAt": "2026-01-02T03:04:05.123000+00:00",
             "lastRecordedPullTime": "2026-02-01T00:00:00+01:00"},
            {"imageDigest": "sha256:b", "imagePushedAt": 1767323045.5, "imageStatus": "ARCHIVED",
             "lastArchivedAt": 1767400000}
        ]}"#;
        let images = parse_describe_images(text).expect("valid");
        assert_eq!(images[0].tags, ["v1", "latest"]);
        assert_eq!(images[0].pushed_at_ms, 1_767_323_045_123);
        assert_eq!(images[0].last_pulled_ms, Some(1_769_900_400_000));
        assert_eq!(images[1].tags, Vec::<String>::new());
        assert_eq!(images[1].pushed_at_ms, 1_767_323_045_500);
        assert_eq!(images[1].storage_class, StorageClass::Archive);
        assert_eq!(format_ms(images[0].pushed_at_ms), "2026-01-02T03:04:05.123000+00:00");
    }

    #[test]
    fn bad_images_name_the_entry_and_field() {
        let err = parse_describe_images(r#"{"imageDetails": [{"imageDigest": "d", "imagePushedAt": "yesterday"}]}"#)
            .expect_err("bad time");
        assert!(err.starts_with("imageDetails[0].imagePushedAt"), "{err}");
        let err = parse_describe_images(r#"{"imageDetails": [{"imagePushedAt": 1}]}"#).expect_err("no digest");
        assert!(err.contains("imageDigest"), "{err}");
        assert!(parse_describe_images(r#"{"images": []}"#).is_err());
    }
}
