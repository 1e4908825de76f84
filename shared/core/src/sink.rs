//! Why something ecr-warden sends to (an alert sink, Security Hub, the work queue) didn't take it all.

/// A failed send to an alert sink, Security Hub or the work queue: what a person reads (one line), and whether
/// the service was only asking to slow down.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SinkError {
    /// The call failed: refused, unreachable, timed out, or made without credentials.
    #[error("{message}")]
    Call {
        /// The service called (`SNS`, `Security Hub`, ...).
        service: &'static str,
        /// Whether the service was throttling (a later retry may succeed).
        throttled: bool,
        /// What failed, in one line.
        message: String,
    },
    /// The call went through, but the service turned down part of what was sent (some findings or messages).
    #[error("{0}")]
    PartlyRefused(String),
    /// What was to be sent couldn't be made into a request.
    #[error("the request couldn't be built: {0}")]
    Request(String),
}
