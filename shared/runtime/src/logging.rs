//! Logging through `tracing`, always to standard error (standard output carries results and metrics).
//! The level comes from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else the caller's default.
//!
//! In JSON (the Lambda functions) every line is one flat object: `level`, `message`, the event's own fields,
//! and the fields of every span it happened in, so a line about a fix carries the invocation's `request_id`
//! and `event_id`, the `repository` and the `control` as top-level keys that CloudWatch Logs Insights can
//! filter on. Strings longer than `MAX_FIELD_CHARS` are cut, so no customer document fills the logs.

use std::fmt;

use serde_json::{Map, Value};
use tracing::field::{Field, Visit};
use tracing::{Event, Subscriber};
use tracing_subscriber::fmt::format::{JsonFields, Writer};
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields, FormattedFields, MakeWriter};
use tracing_subscriber::registry::LookupSpan;
use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One flat JSON object a line (Lambda, CloudWatch Logs Insights).
    Json,
    /// Plain text for a terminal.
    Text,
}

/// The longest string a JSON log line keeps in one field.
pub(crate) const MAX_FIELD_CHARS: usize = 1_000;

/// Installs the global subscriber; a second call does nothing.
pub fn init(format: LogFormat, default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().map(|l| l.to_lowercase()))
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        // The SDK's credential chain warns about every source it tried, with its debug dump; the error a
        // failed call returns says what is missing in one line.
        .unwrap_or_else(|| EnvFilter::new(format!("{default_level},aws_config=error")));
    let _already_set = match format {
        LogFormat::Json => tracing::subscriber::set_global_default(json_subscriber(filter, std::io::stderr)),
        LogFormat::Text => {
            let text =
                tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
            tracing::subscriber::set_global_default(text.finish())
        }
    };
}

/// A subscriber writing flat JSON lines to `writer`.
pub(crate) fn json_subscriber<W>(filter: EnvFilter, writer: W) -> impl Subscriber + Send + Sync
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .fmt_fields(JsonFields::new())
        .event_format(FlatJson)
        .finish()
}

/// The event formatter: span fields (outermost first, so inner spans win), then the event's fields.
struct FlatJson;

impl<S, N> FormatEvent<S, N> for FlatJson
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(&self, ctx: &FmtContext<'_, S, N>, mut writer: Writer<'_>, event: &Event<'_>) -> fmt::Result {
        let mut line = Map::new();
        line.insert("level".into(), Value::from(event.metadata().level().as_str()));
        if let Some(scope) = ctx.event_scope() {
            for span in scope.from_root() {
                let extensions = span.extensions();
                let Some(fields) = extensions.get::<FormattedFields<N>>() else { continue };
                if let Ok(Value::Object(fields)) = serde_json::from_str::<Value>(fields) {
                    line.extend(fields);
                }
            }
        }
        event.record(&mut Fields(&mut line));
        for value in line.values_mut() {
            shorten(value);
        }
        writeln!(writer, "{}", Value::Object(line))
    }
}

/// Collects an event's fields into a JSON object.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0.insert(field.name().into(), Value::from(format!("{value:?}")));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().into(), Value::from(value));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.0.insert(field.name().into(), Value::from(value.to_string()));
    }
}

/// Cuts a string value past [`MAX_FIELD_CHARS`], saying how much was left out.
fn shorten(value: &mut Value) {
    let Value::String(text) = value else { return };
    if let Some((cut, _)) = text.char_indices().nth(MAX_FIELD_CHARS) {
        let left_out = text[cut..].chars().count();
        *text = format!("{}… ({left_out} more characters)", &text[..cut]);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use tracing::{info, info_span, warn};

    use super::*;

    /// A writer into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().map_err(|_| std::io::Error::other("poisoned"))?.extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn lines(level: &str, log: impl FnOnce()) -> Vec<Value> {
        let buffer = Buffer::default();
        let writer = buffer.clone();
        let subscriber = json_subscriber(EnvFilter::new(level), move || writer.clone());
        tracing::subscriber::with_default(subscriber, log);
        let text = String::from_utf8(buffer.0.lock().expect("buffer").clone()).expect("UTF-8");
        text.lines().map(|l| serde_json::from_str(l).expect("one JSON object a line")).collect()
    }

    #[test]
    fn span_fields_are_on_every_line_inside_them() {
        let lines = lines("info", || {
            let invocation = info_span!("invocation", request_id = "r-1", event_id = tracing::field::Empty);
            invocation.record("event_id", "e-1");
            let _invocation = invocation.enter();
            info!("governing");
            let _repository = info_span!("repository", repository = "team/api").entered();
            let _control = info_span!("control", control = "tag-mutability").entered();
            warn!(error = "AccessDenied", attempts = 3_u64, "fix failed");
        });
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert_eq!(lines[0]["message"], "governing");
        assert_eq!((lines[0]["request_id"].as_str(), lines[0]["event_id"].as_str()), (Some("r-1"), Some("e-1")));
        assert!(lines[0].get("repository").is_none());
        let fix = &lines[1];
        assert_eq!(fix["level"], "WARN");
        assert_eq!((fix["request_id"].as_str(), fix["repository"].as_str()), (Some("r-1"), Some("team/api")));
        assert_eq!((fix["control"].as_str(), fix["error"].as_str()), (Some("tag-mutability"), Some("AccessDenied")));
        assert_eq!(fix["attempts"], 3);
    }

    #[test]
    fn long_strings_are_cut_and_levels_filtered() {
        let document = "x".repeat(MAX_FIELD_CHARS + 500);
        let lines = lines("warn", || {
            info!("not at this level");
            warn!(%document, "something big");
        });
        assert_eq!(lines.len(), 1, "{lines:?}");
        let kept = lines[0]["document"].as_str().expect("document");
        assert!(kept.starts_with(&"x".repeat(MAX_FIELD_CHARS)), "{kept}");
        assert!(kept.ends_with("… (500 more characters)"), "{kept}");
    }
}
