//! Logging through `tracing`, always to standard error (standard output carries results).
//! The level comes from `RUST_LOG`, else `AWS_LAMBDA_LOG_LEVEL`, else the caller's default.

use tracing_subscriber::EnvFilter;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// One JSON object a line (Lambda, CloudWatch Logs Insights).
    Json,
    /// Plain text for a terminal.
    Text,
}

/// Installs the global subscriber; a second call does nothing.
pub fn init(format: LogFormat, default_level: &str) {
    let filter = std::env::var("RUST_LOG")
        .ok()
        .or_else(|| std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().map(|l| l.to_lowercase()))
        .and_then(|directives| EnvFilter::try_new(directives).ok())
        .unwrap_or_else(|| EnvFilter::new(default_level));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _already_set = match format {
        LogFormat::Json => builder.json().with_current_span(false).without_time().try_init(),
        LogFormat::Text => builder.with_target(false).try_init(),
    };
}
