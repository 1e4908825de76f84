//! A fault-injecting loopback proxy between the AWS SDK and moto. A share of requests gets a fault instead
//! of (or as well as) moto's answer: a throttling error, HTTP 500, HTTP 503, a connection dropped before the
//! request reaches moto, a connection dropped *after* moto applied it (the answer is lost), or a slow answer.
//!
//! Which request gets which fault is decided by a hash of the seed, the request (method, path, target,
//! body) and how many times that same request was seen before: a retry of a request can get another
//! outcome, and one seed gives the same faults to the same requests whatever order concurrency sends them in.
//!
//! For races, the proxy can also hold one request of an operation until the test lets it go ([`FaultProxy::hold`]:
//! before moto sees it, or after moto applied it and before its answer goes back), so that a test can change
//! the registry at exactly that moment; and it can leave requests unanswered for good ([`FaultProxy::hang`]).
//!
//! Like a service with a request quota, it can also throttle every call that arrives while too many others are
//! being answered ([`FaultProxy::throttle_above`]): a ceiling without a clock, so a test's outcome doesn't
//! depend on how fast the machine is.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io::{BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::http::{read_request, Request};

/// The faults the proxy injects, each equally likely once a request is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Fault {
    /// HTTP 400 with the service's throttling error code.
    Throttling,
    /// HTTP 500, a server error.
    InternalError,
    /// HTTP 503, service unavailable.
    Unavailable,
    /// The connection is closed before the request reaches moto.
    DroppedBefore,
    /// moto applies the request, then the connection is closed without its answer.
    DroppedAfter,
    /// The answer comes, 150 ms late.
    Slow,
}

impl Fault {
    /// Every fault the proxy injects.
    pub const ALL: [Fault; 6] = [
        Fault::Throttling,
        Fault::InternalError,
        Fault::Unavailable,
        Fault::DroppedBefore,
        Fault::DroppedAfter,
        Fault::Slow,
    ];
}

/// How a request body is rewritten before moto sees it.
type Rewrite = fn(&str) -> String;

/// Answers a request body itself (`Some`: the JSON answer), or lets it through to moto (`None`).
type Answer = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// When a held request is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Before moto sees it.
    BeforeForward,
    /// After moto applied it, before its answer goes back.
    AfterForward,
}

/// One request held by the proxy until the test lets it go.
pub struct Hold {
    reached: Receiver<()>,
    release: Sender<()>,
}

impl Hold {
    /// Waits until the request arrived and is held; panics after 60 s.
    pub fn wait(&self) {
        self.reached.recv_timeout(Duration::from_secs(60)).expect("the held request never came");
    }

    /// Lets the request go on.
    pub fn release(&self) {
        let _ = self.release.send(());
    }
}

/// A hold not yet used: the operation, when, and the channels to tell the test and to hear from it.
struct HoldRule {
    target: String,
    stage: Stage,
    channels: Option<(Sender<()>, Receiver<()>)>,
}

/// A running proxy.
pub struct FaultProxy {
    /// `http://127.0.0.1:PORT`: point `AWS_ENDPOINT_URL` here.
    pub endpoint: String,
    state: Arc<State>,
}

struct State {
    upstream: String,
    percent: u64,
    seed: u64,
    /// The faults to choose from.
    kinds: Vec<Fault>,
    /// How many requests arrived.
    received: AtomicUsize,
    /// Calls being answered now.
    in_flight: AtomicUsize,
    /// Calls throttled when more than this many would be in flight (0: never).
    in_flight_ceiling: AtomicUsize,
    seen: Mutex<HashMap<u64, u64>>,
    injected: Mutex<BTreeMap<Fault, usize>>,
    /// Calls moto doesn't have, answered here: (method, path, JSON answer).
    stand_ins: Mutex<Vec<(String, String, String)>>,
    /// The requests answered by a stand-in.
    stood_in: Mutex<Vec<Request>>,
    /// Requests to hold until released.
    holds: Mutex<Vec<HoldRule>>,
    /// Operations (and a text their body holds) never answered.
    hangs: Mutex<Vec<(String, String)>>,
    refusals: Mutex<Vec<Refusal>>,
    /// Operations whose request body is rewritten before moto sees it, and how.
    rewrites: Mutex<Vec<(String, Rewrite)>>,
    /// Operations the proxy may answer itself, by request body.
    answers: Mutex<Vec<(String, Answer)>>,
}

impl FaultProxy {
    /// Proxies to `upstream` (`http://HOST:PORT`), injecting a fault into `percent`% of requests.
    pub fn start(upstream: &str, percent: u64, seed: u64) -> FaultProxy {
        FaultProxy::start_with(upstream, percent, seed, &Fault::ALL)
    }

    /// [`FaultProxy::start`], injecting only the faults in `kinds`.
    pub fn start_with(upstream: &str, percent: u64, seed: u64, kinds: &[Fault]) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
        let endpoint = format!("http://{}", listener.local_addr().expect("bound address"));
        let state = Arc::new(State {
            upstream: upstream.trim_start_matches("http://").to_string(),
            percent,
            seed,
            kinds: kinds.to_vec(),
            received: AtomicUsize::new(0),
            in_flight: AtomicUsize::new(0),
            in_flight_ceiling: AtomicUsize::new(0),
            seen: Mutex::default(),
            injected: Mutex::default(),
            stand_ins: Mutex::default(),
            stood_in: Mutex::default(),
            holds: Mutex::default(),
            hangs: Mutex::default(),
            refusals: Mutex::default(),
            rewrites: Mutex::default(),
            answers: Mutex::default(),
        });
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let state = Arc::clone(&shared);
                std::thread::spawn(move || state.connection(stream));
            }
        });
        FaultProxy { endpoint, state }
    }

    /// Answers `method path` itself with HTTP 200 and `answer` (JSON) instead of forwarding it: for a call
    /// moto doesn't implement. The requests are kept for [`FaultProxy::stood_in`].
    pub fn stand_in(&self, method: &str, path: &str, answer: &str) {
        let entry = (method.to_string(), path.to_string(), answer.to_string());
        self.state.stand_ins.lock().expect("stand-ins").push(entry);
    }

    /// Holds the next request of the operation `target` (`GetRepositoryPolicy`, the `X-Amz-Target`'s name) at
    /// `stage` until the returned [`Hold`] is released; later requests of the operation go through.
    pub fn hold(&self, target: &str, stage: Stage) -> Hold {
        let (reached_tx, reached) = mpsc::channel();
        let (release, release_rx) = mpsc::channel();
        let rule = HoldRule { target: target.to_string(), stage, channels: Some((reached_tx, release_rx)) };
        self.state.holds.lock().expect("holds").push(rule);
        Hold { reached, release }
    }

    /// Never answers requests of the operation `target` whose body holds `body_contains`: the connection stays
    /// open until the client gives up, as with an endpoint that accepted the call and hangs.
    pub fn hang(&self, target: &str, body_contains: &str) {
        self.state.hangs.lock().expect("hangs").push((target.to_string(), body_contains.to_string()));
    }

    /// Refuses every request whose body holds `body_contains` (a query-protocol call such as STS's names its
    /// operation and arguments in the body: `Action=AssumeRole`, the role ARN) with HTTP `status` and the error
    /// `code`, as the service would.
    pub fn refuse(&self, body_contains: &str, status: u16, code: &str) {
        let refusal = Refusal { body_contains: body_contains.to_string(), status, code: code.to_string() };
        self.state.refusals.lock().expect("refusals").push(refusal);
    }

    /// Rewrites the body of every request of the operation `target` with `rewrite` before moto sees it: for a
    /// service that stores what it is sent in its own form (ECR rewrites policies), which moto doesn't.
    pub fn rewrite(&self, target: &str, rewrite: Rewrite) {
        self.state.rewrites.lock().expect("rewrites").push((target.to_string(), rewrite));
    }

    /// Answers requests of the operation `target` itself with what `answer` returns for their body, where it
    /// returns something; other requests go to moto. For an answer AWS gives and moto can't (an AWS managed key).
    pub fn answer(&self, target: &str, answer: impl Fn(&str) -> Option<String> + Send + Sync + 'static) {
        self.state.answers.lock().expect("answers").push((target.to_string(), Box::new(answer)));
    }

    /// Throttles (`ThrottlingException`, counted in [`FaultProxy::injected`]) every JSON call (ECR's, with an
    /// `X-Amz-Target`) that arrives while `calls` others are being answered.
    pub fn throttle_above(&self, calls: usize) {
        self.state.in_flight_ceiling.store(calls, Ordering::SeqCst);
    }

    /// The requests a stand-in answered, in order.
    pub fn stood_in(&self) -> Vec<Request> {
        self.state.stood_in.lock().expect("stood-in requests").clone()
    }

    /// How many requests arrived so far (each attempt of the SDK is one).
    pub fn received(&self) -> usize {
        self.state.received.load(Ordering::SeqCst)
    }

    /// How many faults of each kind were injected so far.
    pub fn injected(&self) -> BTreeMap<Fault, usize> {
        self.state.injected.lock().expect("fault counts").clone()
    }
}

impl State {
    fn connection(&self, stream: TcpStream) {
        let Ok(mut client) = stream.try_clone() else { return };
        let mut reader = BufReader::new(stream);
        // One request per connection: every answer says `connection: close`.
        let Some(request) = read_request(&mut reader) else { return };
        self.received.fetch_add(1, Ordering::SeqCst);
        let target = request.headers.get("x-amz-target").and_then(|t| t.rsplit('.').next()).unwrap_or("").to_string();
        let stand_in = self.stand_ins.lock().expect("stand-ins").iter().find_map(|(method, path, answer)| {
            (request.method == *method && request.path == *path).then(|| answer.clone())
        });
        let stand_in = stand_in.or_else(|| {
            let answers = self.answers.lock().expect("answers");
            answers.iter().filter(|(t, _)| *t == target).find_map(|(_, answer)| answer(&request.body))
        });
        if let Some(answer) = stand_in {
            let head = format!(
                "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                answer.len()
            );
            self.stood_in.lock().expect("stood-in requests").push(request);
            let _ = client.write_all(format!("{head}{answer}").as_bytes());
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        let rewrite = self.rewrites.lock().expect("rewrites").iter().find(|(t, _)| *t == target).map(|(_, f)| *f);
        let request = match rewrite {
            Some(rewrite) => Request { body: rewrite(&request.body), ..request },
            None => request,
        };
        let refusal = self.refusals.lock().expect("refusals").iter().find_map(|r| {
            request
                .body
                .contains(&r.body_contains)
                .then(|| error_answer(&request, r.status, &r.code, "refused by the test"))
        });
        if let Some(answer) = refusal {
            let _ = client.write_all(&answer);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        let hangs =
            self.hangs.lock().expect("hangs").iter().any(|(t, body)| *t == target && request.body.contains(body));
        if hangs {
            // Read until the client gives up; never answer.
            let _ = std::io::copy(&mut reader, &mut std::io::sink());
            return;
        }
        let held = self.holds.lock().expect("holds").iter_mut().find_map(|rule| {
            let matches = rule.target == target && rule.channels.is_some();
            matches.then(|| (rule.stage, rule.channels.take()))
        });
        if let Some((stage, Some((reached, release)))) = held {
            if stage == Stage::BeforeForward {
                let _ = reached.send(());
                let _ = release.recv();
            }
            let answer = self.forward(&request).unwrap_or_default();
            if stage == Stage::AfterForward {
                let _ = reached.send(());
                let _ = release.recv();
            }
            let _ = client.write_all(&answer);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        let ceiling = self.in_flight_ceiling.load(Ordering::SeqCst);
        let counted = ceiling > 0 && !target.is_empty();
        let crowded = counted && self.in_flight.fetch_add(1, Ordering::SeqCst) >= ceiling;
        let fault = if crowded { Some(Fault::Throttling) } else { self.choose(&request) };
        if let Some(fault) = fault {
            *self.injected.lock().expect("fault counts").entry(fault).or_default() += 1;
        }
        let answer = match fault {
            Some(Fault::Throttling) => error_answer(&request, 400, "ThrottlingException", "Rate exceeded"),
            Some(Fault::InternalError) => error_answer(&request, 500, "ServerException", "injected server error"),
            Some(Fault::Unavailable) => {
                b"HTTP/1.1 503 Service Unavailable\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec()
            }
            Some(Fault::DroppedBefore) => Vec::new(),
            Some(Fault::DroppedAfter) => {
                let _ = self.forward(&request);
                Vec::new()
            }
            Some(Fault::Slow) => {
                std::thread::sleep(Duration::from_millis(150));
                self.forward(&request).unwrap_or_default()
            }
            None => self.forward(&request).unwrap_or_default(),
        };
        if counted {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        let _ = client.write_all(&answer);
        let _ = client.shutdown(Shutdown::Both);
    }

    fn choose(&self, request: &Request) -> Option<Fault> {
        let mut hasher = DefaultHasher::new();
        (&request.method, &request.path, request.headers.get("x-amz-target"), &request.body).hash(&mut hasher);
        let key = hasher.finish();
        let attempt = {
            let mut seen = self.seen.lock().expect("seen requests");
            let count = seen.entry(key).or_default();
            *count += 1;
            *count
        };
        let roll = splitmix64(self.seed ^ key ^ attempt.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        (roll % 100 < self.percent && !self.kinds.is_empty())
            .then(|| self.kinds[((roll >> 32) % self.kinds.len() as u64) as usize])
    }

    /// Sends the request to moto and returns its whole answer, marked `connection: close`.
    fn forward(&self, request: &Request) -> Option<Vec<u8>> {
        let mut upstream = TcpStream::connect(&self.upstream).ok()?;
        let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.path);
        for (name, value) in &request.headers {
            if name != "connection" && name != "content-length" {
                head.push_str(&format!("{name}: {value}\r\n"));
            }
        }
        head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", request.body.len()));
        upstream.write_all(head.as_bytes()).ok()?;
        upstream.write_all(request.body.as_bytes()).ok()?;
        let mut answer = Vec::new();
        upstream.read_to_end(&mut answer).ok()?;
        Some(mark_close(answer))
    }
}

/// Requests refused with an error, by what their body holds.
struct Refusal {
    body_contains: String,
    status: u16,
    code: String,
}

/// The answer a service gives for `code`: JSON for JSON protocols (`x-amz-target`), XML for query ones.
fn error_answer(request: &Request, status: u16, code: &str, message: &str) -> Vec<u8> {
    let (content_type, body) = if request.headers.contains_key("x-amz-target") {
        ("application/x-amz-json-1.1", format!(r#"{{"__type":"{code}","message":"{message}"}}"#))
    } else {
        let code = if code == "ThrottlingException" { "Throttling" } else { code };
        let body = format!(
            "<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault</RequestId></ErrorResponse>"
        );
        ("text/xml", body)
    };
    format!(
        "HTTP/1.1 {status} Fault\r\ncontent-type: {content_type}\r\nx-amzn-errortype: {code}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

/// Replaces any `connection` header of a raw HTTP answer with `connection: close`.
fn mark_close(answer: Vec<u8>) -> Vec<u8> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else { return answer };
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut lines: Vec<&str> =
        head.split("\r\n").filter(|l| !l.to_ascii_lowercase().starts_with("connection:")).collect();
    lines.push("connection: close");
    let mut marked = lines.join("\r\n").into_bytes();
    marked.extend_from_slice(&answer[end..]);
    marked
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}
