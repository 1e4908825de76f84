//! A calendar date (`YYYY-MM-DD`), written in a baseline as a TOML date or as a string.

use std::fmt;

use chrono::NaiveDate;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A calendar date in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(NaiveDate);

impl Date {
    /// Parses `YYYY-MM-DD`.
    pub fn parse(text: &str) -> Result<Self, String> {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .map(Date)
            .map_err(|e| format!("`{text}` is not a date like 2027-01-31: {e}"))
    }

    /// The UTC date of a Unix time in seconds.
    pub fn from_unix_seconds(seconds: i64) -> Self {
        Date(chrono::DateTime::from_timestamp(seconds, 0).unwrap_or_default().date_naive())
    }

    /// Today, in UTC.
    pub fn today() -> Self {
        Self::from_unix_seconds(crate::clock::now_secs())
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl Serialize for Date {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl schemars::JsonSchema for Date {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Date".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "format": "date",
            "description": "A calendar date, YYYY-MM-DD (a TOML date literal is accepted too)."
        })
    }
}

impl<'de> Deserialize<'de> for Date {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        /// A TOML date literal (`expires = 2027-01-31`) or a string (`"2027-01-31"`, and in JSON).
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Text(String),
            Toml(toml::value::Datetime),
        }
        let text = match Written::deserialize(deserializer)? {
            Written::Text(text) => text,
            Written::Toml(datetime) => match (datetime.date, datetime.time) {
                (Some(date), None) => date.to_string(),
                _ => return Err(serde::de::Error::custom(format!("`{datetime}` is not a date like 2027-01-31"))),
            },
        };
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}
