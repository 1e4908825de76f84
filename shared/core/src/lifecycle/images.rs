//! Images as `aws ecr describe-images --output json` prints them, reduced to what a preview needs.

use std::borrow::Cow;
use std::fmt;
use std::io::{Read, Seek};

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

use super::entries::{self, Cut};
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

/// Reads the JSON `aws ecr describe-images` prints (an object with `imageDetails`). Timestamps are ISO 8601
/// strings with an offset (`2026-01-02T03:04:05.123000+00:00`) or epoch seconds.
///
/// One pass, typed: each entry becomes an [`Image`] as soon as it is read, and the fields a preview doesn't use
/// are skipped unread.
pub fn parse_describe_images(text: &str) -> Result<Vec<Image>, String> {
    let parsed: DescribeImages = serde_json::from_str(text).map_err(said)?;
    Ok(parsed.image_details.0)
}

/// [`parse_describe_images`] from a reader (a file), streamed: the text is never held whole, only the images made
/// of it (docs/benchmarks.md, "The lifecycle preview as users run it"). Entries are cut from the text a chunk at a
/// time and parsed from slices; text in any other shape, or with a wrong entry, is read again the general way,
/// which words the error.
pub fn read_describe_images(mut reader: impl Read + Seek) -> Result<Vec<Image>, String> {
    let mut images = Vec::new();
    let cut = entries::each_entry(&mut reader, |entry| {
        let made = serde_json::from_slice::<Detail>(entry).ok().and_then(|detail| image(images.len(), detail).ok());
        let Some(image) = made else { return false };
        images.push(image);
        true
    });
    if cut.map_err(|error| said(serde_json::Error::io(error)))? == Cut::Done {
        return Ok(images);
    }
    drop(images);
    reader.rewind().map_err(|error| said(serde_json::Error::io(error)))?;
    read_generally(reader)
}

/// Reads describe-images output through serde_json's reader, whatever its shape.
fn read_generally(reader: impl Read) -> Result<Vec<Image>, String> {
    let reader = std::io::BufReader::with_capacity(64 * 1024, reader);
    let parsed: DescribeImages = serde_json::from_reader(reader).map_err(said)?;
    Ok(parsed.image_details.0)
}

/// A reading error on one line: an entry's own problem as it is, anything else as not describe-images output.
fn said(error: serde_json::Error) -> String {
    let error = error.to_string();
    match error.starts_with("imageDetails[") {
        true => error,
        false => format!("not describe-images output: {error}"),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct DescribeImages {
    image_details: Details,
}

/// The images of `imageDetails`, made one entry at a time.
struct Details(Vec<Image>);

impl<'de> Deserialize<'de> for Details {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_seq(DetailsVisitor)
    }
}

struct DetailsVisitor;

impl<'de> Visitor<'de> for DetailsVisitor {
    type Value = Details;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a list of image details")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Details, A::Error> {
        let mut images = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(detail) = seq.next_element::<Detail<'de>>()? {
            images.push(image(images.len(), detail).map_err(de::Error::custom)?);
        }
        Ok(Details(images))
    }
}

/// One `imageDetails` entry as read: only what a preview needs.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Detail<'a> {
    #[serde(borrow)]
    image_digest: Option<Cow<'a, str>>,
    #[serde(borrow)]
    image_tags: Option<Vec<Cow<'a, str>>>,
    #[serde(borrow)]
    image_pushed_at: Option<Time<'a>>,
    #[serde(borrow)]
    last_recorded_pull_time: Option<Time<'a>>,
    #[serde(borrow)]
    last_archived_at: Option<Time<'a>>,
    #[serde(borrow)]
    image_status: Option<Cow<'a, str>>,
}

/// A timestamp as given: epoch seconds, or text (checked when the image is made).
enum Time<'a> {
    Seconds(f64),
    Text(Cow<'a, str>),
}

impl<'de: 'a, 'a> Deserialize<'de> for Time<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(TimeVisitor(std::marker::PhantomData))
    }
}

struct TimeVisitor<'a>(std::marker::PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for TimeVisitor<'a> {
    type Value = Time<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a timestamp (ISO 8601 text or epoch seconds)")
    }

    fn visit_f64<E: de::Error>(self, seconds: f64) -> Result<Time<'a>, E> {
        Ok(Time::Seconds(seconds))
    }

    fn visit_i64<E: de::Error>(self, seconds: i64) -> Result<Time<'a>, E> {
        Ok(Time::Seconds(seconds as f64))
    }

    fn visit_u64<E: de::Error>(self, seconds: u64) -> Result<Time<'a>, E> {
        Ok(Time::Seconds(seconds as f64))
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Time<'a>, E> {
        Ok(Time::Text(Cow::Borrowed(text)))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Time<'a>, E> {
        Ok(Time::Text(Cow::Owned(text.to_string())))
    }
}

impl Time<'_> {
    fn ms(&self) -> Result<i64, String> {
        match self {
            Time::Seconds(seconds) => Ok((seconds * 1000.0).round() as i64),
            Time::Text(text) => parse_rfc3339_ms(text),
        }
    }
}

/// The image of entry `index`, or what is wrong with it.
fn image(index: usize, detail: Detail) -> Result<Image, String> {
    let at = |field: &str| format!("imageDetails[{index}].{field}");
    let time = |field: &str, value: &Option<Time>| -> Result<Option<i64>, String> {
        value.as_ref().map(|t| t.ms().map_err(|e| format!("{}: {e}", at(field)))).transpose()
    };
    let pushed_at_ms = time("imagePushedAt", &detail.image_pushed_at)?;
    Ok(Image {
        digest: detail.image_digest.ok_or_else(|| format!("{} is missing", at("imageDigest")))?.into_owned(),
        tags: detail.image_tags.unwrap_or_default().into_iter().map(Cow::into_owned).collect(),
        pushed_at_ms: pushed_at_ms.ok_or_else(|| format!("{} is missing", at("imagePushedAt")))?,
        last_pulled_ms: time("lastRecordedPullTime", &detail.last_recorded_pull_time)?,
        archived_at_ms: time("lastArchivedAt", &detail.last_archived_at)?,
        storage_class: match detail.image_status.as_deref() {
            Some("ARCHIVED") => StorageClass::Archive,
            _ => StorageClass::Standard,
        },
    })
}

/// Parses an RFC 3339 / ISO 8601 date-time with an offset, in milliseconds since the epoch.
pub fn parse_rfc3339_ms(text: &str) -> Result<i64, String> {
    chrono::DateTime::parse_from_rfc3339(text)
        .map(|t| t.timestamp_millis())
        .map_err(|e| format!("`{text}` is not an ISO 8601 time with offset: {e}"))
}

/// Formats milliseconds since the epoch as the AWS CLI prints times (`2026-01-02T03:04:05.123000+00:00`).
pub fn format_ms(ms: i64) -> String {
    Timestamp(ms).to_string()
}

/// Milliseconds since the epoch, displayed and serialized as the AWS CLI prints times, without a string of its
/// own (a preview writes one for each image).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// The text, made without `fmt` for the years 0 to 9999 (a preview writes one for each image).
    pub(crate) fn text(self) -> TimeText {
        use chrono::{Datelike, Timelike};
        let Some(t) = chrono::DateTime::from_timestamp_millis(self.0) else {
            return TimeText::Other(self.0.to_string());
        };
        let (date, millis) = (t.date_naive(), t.timestamp_subsec_millis());
        let year = match u32::try_from(date.year()) {
            Ok(year) if year <= 9999 => year,
            _ => return TimeText::Other(Self::formatted(&t)),
        };
        let mut text = *b"0000-00-00T00:00:00.000000+00:00";
        for (at, width, value) in [
            (0, 4, year),
            (5, 2, date.month()),
            (8, 2, date.day()),
            (11, 2, t.hour()),
            (14, 2, t.minute()),
            (17, 2, t.second()),
            (20, 3, millis),
        ] {
            let mut value = value;
            for digit in text[at..at + width].iter_mut().rev() {
                *digit = b'0' + (value % 10) as u8;
                value /= 10;
            }
        }
        TimeText::Common(text)
    }

    /// The text through `fmt`, for years a fixed width doesn't hold.
    fn formatted(t: &chrono::DateTime<chrono::Utc>) -> String {
        use chrono::{Datelike, Timelike};
        let (date, millis) = (t.date_naive(), t.timestamp_subsec_millis());
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{millis:03}000+00:00",
            date.year(),
            date.month(),
            date.day(),
            t.hour(),
            t.minute(),
            t.second()
        )
    }
}

/// A [`Timestamp`]'s text: the common fixed-width form without an allocation, or any other.
pub(crate) enum TimeText {
    /// `YYYY-MM-DDThh:mm:ss.mmm000+00:00`.
    Common([u8; 32]),
    /// A year outside 0-9999, or milliseconds no date holds (written as the number).
    Other(String),
}

impl TimeText {
    /// The text's bytes (ASCII: never anything JSON escapes).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        match self {
            TimeText::Common(text) => text,
            TimeText::Other(text) => text.as_bytes(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        let text = self.text();
        f.pad(std::str::from_utf8(text.as_bytes()).map_err(|_| fmt::Error)?)
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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
        assert_eq!(format_ms(0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(format_ms(-1), "1969-12-31T23:59:59.999000+00:00");
    }

    #[test]
    fn times_written_without_fmt_read_as_through_fmt() {
        let samples = [0, -1, 999, 1_767_323_045_123, 951_782_400_000, 253_402_300_799_999, 253_402_300_800_000];
        let more = [-62_167_219_200_000, -62_167_219_200_001, 8_210_298_412_799_999, i64::MAX, i64::MIN];
        for ms in samples.into_iter().chain(more).chain((0..2000).map(|i| i * 7_919_000_003_117 - 7_000_000_000_000)) {
            let through_fmt = match chrono::DateTime::from_timestamp_millis(ms) {
                Some(t) => Timestamp::formatted(&t),
                None => ms.to_string(),
            };
            assert_eq!(format_ms(ms), through_fmt, "{ms}");
        }
        assert_eq!(format_ms(951_782_400_000), "2000-02-29T00:00:00.000000+00:00");
        assert_eq!(format_ms(253_402_300_800_000), "10000-01-01T00:00:00.000000+00:00");
        assert_eq!(format!("[{:>34}]", Timestamp(0)), "[  1970-01-01T00:00:00.000000+00:00]");
    }

    #[test]
    fn bad_images_name_the_entry_and_field() {
        let err = parse_describe_images(r#"{"imageDetails": [{"imageDigest": "d", "imagePushedAt": "yesterday"}]}"#)
            .expect_err("bad time");
        assert!(err.starts_with("imageDetails[0].imagePushedAt"), "{err}");
        let err = parse_describe_images(r#"{"imageDetails": [{"imagePushedAt": 1}]}"#).expect_err("no digest");
        assert!(err.contains("imageDigest"), "{err}");
        assert!(parse_describe_images(r#"{"images": []}"#).is_err());
        let err = parse_describe_images(r#"{"imageDetails": [{"imageDigest": "d", "imageTags": [1]}]}"#)
            .expect_err("a tag that isn't text");
        assert!(err.starts_with("not describe-images output: invalid type: integer `1`"), "{err}");
    }

    #[test]
    fn escaped_text_and_unused_fields_are_read_as_they_are() {
        let text = r#"{"nextToken": null, "imageDetails": [{"imageDigest": "sha256:\u0061", "imageTags": ["v\u0031"],
            "imagePushedAt": "2026-01-02T03:04:05\u002B00:00", "imageScanFindingsSummary": {"findingSeverityCounts":
            {"HIGH": 1}}, "imageSizeInBytes": 12, "lastRecordedPullTime": null}]}"#;
        let images = parse_describe_images(text).expect("valid");
        assert_eq!(read_describe_images(std::io::Cursor::new(text)), Ok(images.clone()), "streamed, the same");
        assert_eq!((images[0].digest.as_str(), images[0].tags.as_slice()), ("sha256:a", &["v1".to_string()][..]));
        assert_eq!(images[0].pushed_at_ms, 1_767_323_045_000);
        assert_eq!(images[0].last_pulled_ms, None);
    }

    /// `describe-images` output of a few entries, with the fields a preview reads, one it doesn't, and spacing of
    /// its own; then, sometimes, cut short or with a stray character put in.
    fn describe_images_texts() -> impl Strategy<Value = String> {
        let entry = (
            "[a-z0-9:\\\\\"{}\\[\\]]{1,12}",
            prop::collection::vec("[a-z0-9\\]\"{]{0,6}", 0..3),
            prop_oneof![Just("1767323045.5".to_string()), Just("\"2026-01-02T03:04:05.123+00:00\"".to_string())],
            any::<bool>(),
        )
            .prop_map(|(digest, tags, pushed, archived)| {
                let status = if archived { r#", "imageStatus": "ARCHIVED""# } else { "" };
                format!(
                    r#"{{"imageDigest": {}, "imageTags": {}, "imagePushedAt": {pushed}, "x": {{"y": [1, "]"]}}{status}}}"#,
                    serde_json::to_string(&digest).expect("text"),
                    serde_json::to_string(&tags).expect("text"),
                )
            });
        let spacing = prop::sample::select(vec!["", " ", "\n  ", "\r\n\t"]);
        let text =
            (prop::collection::vec(entry, 0..5), spacing, any::<bool>()).prop_map(|(entries, space, token_first)| {
                let details =
                    format!(r#""imageDetails":{space}[{space}{}{space}]"#, entries.join(&format!(",{space}")));
                let token = r#""nextToken": null"#;
                match token_first {
                    true => format!("{{{space}{token},{space}{details}{space}}}"),
                    false => format!("{{{details},{token}}}{space}"),
                }
            });
        let damage = prop_oneof![
            Just(None),
            (
                any::<prop::sample::Index>(),
                prop::sample::select(vec!["", "}", "]", ",", "\"", "\\", "x", "1", "{", ":"])
            )
                .prop_map(Some),
        ];
        (text, damage).prop_map(|(text, damage)| match damage {
            None => text,
            Some((at, put)) => {
                let at = at.index(text.len() + 1);
                let cut = text.char_indices().map(|(i, _)| i).chain([text.len()]).find(|&i| i >= at).unwrap_or(0);
                format!("{}{put}{}", &text[..cut], &text[(cut + 1).min(text.len())..])
            }
        })
    }

    proptest! {
        /// Reading entry by entry gives what serde_json's reader gives, images or error, whatever the text; and
        /// whatever that reader reads is cut into entries, not declined.
        #[test]
        fn images_read_entry_by_entry_are_those_read_generally(text in describe_images_texts()) {
            let generally = read_generally(text.as_bytes());
            if generally.is_ok() {
                let cut = entries::each_entry(text.as_bytes(), |_| true).expect("read from memory");
                prop_assert_eq!(cut, Cut::Done);
            }
            prop_assert_eq!(read_describe_images(std::io::Cursor::new(text.as_bytes())), generally);
        }
    }
}
