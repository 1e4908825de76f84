//! How many AWS API calls ecr-warden made and how many of them were throttled, for the functions' metrics.
//!
//! Every client this crate builds carries `CountCalls`, an SDK interceptor that sees each attempt (a retry
//! is another call: it costs another request against the service's rate quota). An attempt counts as
//! throttled when the service answered HTTP 429 or with one of the error codes the SDK's own retry classifier
//! treats as throttling (`ThrottlingException`, `TooManyRequestsException`, ...). [`take`] reads the counts
//! and starts again from zero; a Lambda process handles one invocation at a time, so what it reads after an
//! invocation is that invocation's calls.
//!
//! [`following_calls`] also follows, for one piece of work (one repository's governing), what that work's own
//! calls meet, as they meet it, however many pieces run at once in the task ([`WorkCalls`]): what the pace of a
//! run ([`warden_core::pace`]) adapts to. A piece that [`pause`]s on purpose (before reading back a registry-level
//! write) makes no call meanwhile, as one waiting out a back-off doesn't: the pace hears of that too.

use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aws_runtime::retries::classifiers::THROTTLING_ERRORS;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};
use tokio::sync::Notify;

static ATTEMPTS: AtomicU64 = AtomicU64::new(0);
static THROTTLED: AtomicU64 = AtomicU64::new(0);

tokio::task_local! {
    /// The calls of the work being polled, when it is followed by [`following_calls`].
    static WORK_CALLS: Arc<WorkCalls>;
}

/// What one piece of work's calls met so far.
#[derive(Debug, Default)]
pub struct WorkCalls {
    throttled: AtomicU64,
    /// Attempts sent and not yet answered.
    in_flight: AtomicUsize,
    /// Calls whose latest attempt was throttled and whose retry hasn't started: waiting out the SDK's back-off.
    backing_off: AtomicUsize,
    /// Pauses the work is in (see [`pause`]).
    pausing: AtomicUsize,
    /// Told of each throttled call as it is answered, and of each pause as it begins (see [`WorkCalls::waking`]).
    wake: Option<Arc<Notify>>,
}

impl WorkCalls {
    /// Calls that notify `wake` when one is throttled, or the work pauses: whoever paces the work hears of it at
    /// once, not when the work ends.
    pub fn waking(wake: Arc<Notify>) -> Self {
        Self { wake: Some(wake), ..Self::default() }
    }

    /// An attempt is sent: a call's first, or its retry (`retrying_a_throttle` when its last attempt was
    /// throttled, so it no longer waits).
    pub fn attempt_started(&self, retrying_a_throttle: bool) {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        if retrying_a_throttle {
            one_less(&self.backing_off);
        }
    }

    /// An attempt is answered, `throttled` or not; a throttled call waits out a back-off until
    /// [`WorkCalls::attempt_started`] for its retry, or [`WorkCalls::gave_up`].
    pub fn attempt_answered(&self, throttled: bool) {
        one_less(&self.in_flight);
        if throttled {
            self.throttled.fetch_add(1, Ordering::Relaxed);
            self.backing_off.fetch_add(1, Ordering::Relaxed);
            self.notify();
        }
    }

    /// The work begins a pause (see [`pause`]).
    fn pause_began(&self) {
        self.pausing.fetch_add(1, Ordering::Relaxed);
        self.notify();
    }

    /// The work's pause is over.
    fn pause_ended(&self) {
        one_less(&self.pausing);
    }

    /// Wakes whoever paces the work, if anyone does.
    fn notify(&self) {
        if let Some(wake) = &self.wake {
            wake.notify_one();
        }
    }

    /// A call whose last attempt was throttled ended without a retry (its attempts used up).
    pub fn gave_up(&self) {
        one_less(&self.backing_off);
    }

    /// The throttled calls so far.
    pub fn throttled(&self) -> u64 {
        self.throttled.load(Ordering::Relaxed)
    }

    /// Whether the work is only waiting: a call of it waits out the SDK's back-off after a throttle, or the work
    /// pauses, and no other call of it is being answered (a repository's calls may run side by side).
    pub fn waiting(&self) -> bool {
        let idle = self.backing_off.load(Ordering::Relaxed) > 0 || self.pausing.load(Ordering::Relaxed) > 0;
        idle && self.in_flight.load(Ordering::Relaxed) == 0
    }
}

/// Takes one from `count`, never below zero (an attempt started outside [`following_calls`] and answered inside
/// it must not wrap the count around).
fn one_less(count: &AtomicUsize) {
    let _ = count.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
}

/// In a call's config bag while its latest attempt was throttled and its retry hasn't started.
#[derive(Debug, Clone)]
struct BackingOff;

impl Storable for BackingOff {
    type Storer = StoreReplace<Self>;
}

/// Runs `work`, telling `calls` about each call (attempt) its own calls make, as it is answered: an SDK call
/// runs its interceptors while its caller's future is polled, so what `calls` hears is the work's own even when
/// other work runs beside it in the same task.
pub async fn following_calls<F: Future>(calls: Arc<WorkCalls>, work: F) -> F::Output {
    WORK_CALLS.scope(calls, work).await
}

/// Sleeps for `duration` on purpose (before reading back a write, or before a put sent once is sent again);
/// the work followed by [`following_calls`], if any, counts as waiting meanwhile, since it makes no call: whoever
/// paces it may start other work in its place.
pub async fn pause(duration: Duration) {
    let calls = WORK_CALLS.try_with(Arc::clone).ok();
    let _pausing = calls.map(Pausing::began);
    tokio::time::sleep(duration).await;
}

/// A pause under way: over when dropped, so a pause cut short (its work cancelled) ends too.
struct Pausing(Arc<WorkCalls>);

impl Pausing {
    fn began(calls: Arc<WorkCalls>) -> Self {
        calls.pause_began();
        Self(calls)
    }
}

impl Drop for Pausing {
    fn drop(&mut self) {
        self.0.pause_ended();
    }
}

/// A client of the SDK crate `$sdk` (e.g. `aws_sdk_ecr`) built from an [`SdkConfig`](crate::SdkConfig), with
/// [`CountCalls`] on it.
macro_rules! counted_client {
    ($sdk:ident, $config:expr) => {
        $sdk::Client::from_conf($sdk::config::Builder::from($config).interceptor($crate::api_calls::CountCalls).build())
    };
}
pub(crate) use counted_client;

/// API calls since the last [`take`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ApiCalls {
    /// Requests sent, retries included.
    pub attempts: u64,
    /// Of those, the ones the service throttled.
    pub throttled: u64,
}

/// The calls counted since the last call to `take`, and the counts back to zero.
pub fn take() -> ApiCalls {
    ApiCalls { attempts: ATTEMPTS.swap(0, Ordering::Relaxed), throttled: THROTTLED.swap(0, Ordering::Relaxed) }
}

/// The interceptor that counts: add it to a client's configuration.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CountCalls;

impl Intercept for CountCalls {
    fn name(&self) -> &'static str {
        "CountCalls"
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        ATTEMPTS.fetch_add(1, Ordering::Relaxed);
        let throttled = context.response().is_some_and(is_throttling);
        if throttled {
            THROTTLED.fetch_add(1, Ordering::Relaxed);
            cfg.interceptor_state().store_put(BackingOff);
        }
        let _ = WORK_CALLS.try_with(|calls| calls.attempt_answered(throttled));
        Ok(())
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let retrying_a_throttle = cfg.load::<BackingOff>().is_some();
        cfg.interceptor_state().unset::<BackingOff>();
        let _ = WORK_CALLS.try_with(|calls| calls.attempt_started(retrying_a_throttle));
        Ok(())
    }

    fn read_after_execution(
        &self,
        _context: &FinalizerInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if cfg.load::<BackingOff>().is_some() {
            cfg.interceptor_state().unset::<BackingOff>();
            let _ = WORK_CALLS.try_with(|calls| calls.gave_up());
        }
        Ok(())
    }
}

/// Whether an answer says the call was throttled.
fn is_throttling(response: &HttpResponse) -> bool {
    let status = response.status().as_u16();
    if status == 429 {
        return true;
    }
    if status < 400 {
        return false;
    }
    let code = response
        .headers()
        .get("x-amzn-errortype")
        .map(str::to_string)
        .or_else(|| response.body().bytes().and_then(error_code_in_body));
    code.is_some_and(|code| is_throttling_code(&code))
}

/// Whether an error code means the call was throttled: one of the codes the SDK's own retry classifier treats
/// as throttling (`ThrottlingException`, `TooManyRequestsException`, `ThrottledException`, ...), whatever
/// namespace or suffix it came with. Errors and metrics both ask here.
pub(crate) fn is_throttling_code(code: &str) -> bool {
    THROTTLING_ERRORS.contains(&bare_code(code))
}

/// The error code in an error answer's body: `__type` or `code` in JSON, `<Code>` in XML.
fn error_code_in_body(body: &[u8]) -> Option<String> {
    if let Ok(serde_json::Value::Object(fields)) = serde_json::from_slice(body) {
        return ["__type", "code", "Code"].iter().find_map(|key| fields.get(*key)?.as_str().map(str::to_string));
    }
    let text = std::str::from_utf8(body).ok()?;
    let start = text.find("<Code>")? + "<Code>".len();
    let end = start + text[start..].find("</Code>")?;
    Some(text[start..end].to_string())
}

/// `ThrottlingException` from `aws.protocol#ThrottlingException` or `ThrottlingException:http://...`.
fn bare_code(code: &str) -> &str {
    let code = code.rsplit('#').next().unwrap_or(code);
    code.split(':').next().unwrap_or(code).trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_waits_only_while_a_throttled_call_backs_off_and_nothing_else_is_being_answered() {
        let calls = WorkCalls::default();
        calls.attempt_started(false);
        calls.attempt_started(false);
        calls.attempt_answered(true);
        assert!(!calls.waiting(), "the other call is still being answered");
        calls.attempt_answered(false);
        assert!(calls.waiting(), "a call answered since doesn't end the back-off");
        calls.attempt_started(true);
        assert!(!calls.waiting(), "the retry is sent");
        calls.attempt_answered(true);
        assert!(calls.waiting());
        calls.gave_up();
        assert!(!calls.waiting(), "no retry comes");
        assert_eq!(calls.throttled(), 2);
        calls.gave_up();
        calls.attempt_answered(true);
        assert!(calls.waiting(), "counts never wrap below zero");
    }

    #[tokio::test]
    async fn a_pause_is_waiting_and_wakes_whoever_paces_the_work() {
        let wake = Arc::new(Notify::new());
        let calls = Arc::new(WorkCalls::waking(Arc::clone(&wake)));
        let paused = tokio::spawn(following_calls(Arc::clone(&calls), pause(Duration::from_secs(3_600))));
        wake.notified().await;
        assert!(calls.waiting(), "no call is made during a pause");
        calls.attempt_started(false);
        assert!(!calls.waiting(), "a call of the same work is being answered");
        calls.attempt_answered(false);
        paused.abort();
        assert!(paused.await.is_err_and(|e| e.is_cancelled()));
        assert!(!calls.waiting(), "a pause cut short is over");
        pause(Duration::ZERO).await; // outside any followed work: only a sleep
    }
    use aws_smithy_types::body::SdkBody;

    fn answer(status: u16, header: Option<&str>, body: &str) -> HttpResponse {
        let mut response = HttpResponse::new(status.try_into().expect("status"), SdkBody::from(body));
        if let Some(code) = header {
            response.headers_mut().insert("x-amzn-errortype", code.to_string());
        }
        response
    }

    #[test]
    fn throttling_is_told_by_status_header_or_body() {
        assert!(is_throttling(&answer(429, None, "")));
        assert!(is_throttling(&answer(400, Some("ThrottlingException:http://internal.amazon.com/"), "")));
        assert!(is_throttling(&answer(400, None, r#"{"__type":"com.amazonaws.ecr#ThrottlingException"}"#)));
        assert!(is_throttling(&answer(400, None, "<ErrorResponse><Error><Code>Throttling</Code></Error>")));
        assert!(is_throttling(&answer(400, None, r#"{"code":"TooManyRequestsException"}"#)));
    }

    #[test]
    fn other_answers_are_not_throttling() {
        assert!(!is_throttling(&answer(200, None, r#"{"__type":"ThrottlingException"}"#)));
        assert!(!is_throttling(&answer(400, Some("RepositoryNotFoundException"), "")));
        assert!(!is_throttling(&answer(400, None, r#"{"__type":"InvalidParameterException"}"#)));
        assert!(!is_throttling(&answer(500, None, "not an error document")));
        assert!(!is_throttling(&answer(503, None, "")));
    }
}
