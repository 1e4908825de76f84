//! A minimal HTTP/1.1 server on a free loopback port for protocol-level fakes (a paged ECR answer, the
//! Lambda Runtime API, a CloudWatch answer in CBOR). Each request is sent to the test through a channel; the handler's answer is
//! written back, or the connection is held open with no answer (`None`), as a long poll would be.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;

/// One request as received.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The path, e.g. `/2018-06-01/runtime/invocation/next`.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: BTreeMap<String, String>,
    /// The body as text.
    pub body: String,
}

/// An answer: status, headers and body.
pub struct Response {
    /// HTTP status.
    pub status: u16,
    /// Extra headers.
    pub headers: Vec<(String, String)>,
    /// Body (text, or a binary protocol's bytes).
    pub body: Vec<u8>,
}

/// A running server.
pub struct Server {
    /// `127.0.0.1:PORT`.
    pub address: String,
    /// Every request received, in order.
    pub requests: Receiver<Request>,
}

type Handler = dyn Fn(&Request) -> Option<Response> + Send + Sync;

/// Starts a server answering with `handler`.
pub fn serve(handler: impl Fn(&Request) -> Option<Response> + Send + Sync + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    let address = listener.local_addr().expect("bound address").to_string();
    let (tx, rx) = mpsc::channel();
    let handler: Arc<Handler> = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(Result::ok) {
            let (handler, tx) = (Arc::clone(&handler), tx.clone());
            std::thread::spawn(move || connection(stream, &*handler, &tx));
        }
    });
    Server { address, requests: rx }
}

fn connection(stream: TcpStream, handler: &Handler, tx: &Sender<Request>) {
    let Ok(mut writer) = stream.try_clone() else { return };
    let mut reader = BufReader::new(stream);
    while let Some(request) = read_request(&mut reader) {
        let response = handler(&request);
        if tx.send(request).is_err() {
            return;
        }
        let Some(response) = response else { return };
        let mut head = format!("HTTP/1.1 {} X\r\ncontent-length: {}\r\n", response.status, response.body.len());
        for (name, value) in &response.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        if writer.write_all(head.as_bytes()).and_then(|()| writer.write_all(&response.body)).is_err() {
            return;
        }
    }
}

pub(crate) fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Request> {
    let mut line = String::new();
    reader.read_line(&mut line).ok().filter(|n| *n > 0)?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut headers = BTreeMap::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            headers.insert(name.trim().to_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers.get("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    Some(Request { method, path, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

/// A CBOR value (RFC 8949) for answering the services the SDK speaks Smithy RPC v2 CBOR with (CloudWatch), which
/// moto doesn't: maps, arrays, text and doubles are all such an answer needs.
pub enum Cbor {
    /// A map of text keys, in order.
    Map(Vec<(&'static str, Cbor)>),
    /// An array.
    Array(Vec<Cbor>),
    /// Text.
    Text(String),
    /// A 64-bit float.
    Double(f64),
}

impl Cbor {
    /// Its encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        self.write(&mut out);
        out
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Cbor::Map(entries) => {
                head(out, 5, entries.len());
                for (key, value) in entries {
                    Cbor::Text((*key).to_string()).write(out);
                    value.write(out);
                }
            }
            Cbor::Array(items) => {
                head(out, 4, items.len());
                items.iter().for_each(|item| item.write(out));
            }
            Cbor::Text(text) => {
                head(out, 3, text.len());
                out.extend_from_slice(text.as_bytes());
            }
            Cbor::Double(value) => {
                out.push(0xfb);
                out.extend_from_slice(&value.to_be_bytes());
            }
        }
    }
}

/// A major type's head with its length argument.
fn head(out: &mut Vec<u8>, major: u8, len: usize) {
    let major = major << 5;
    match len {
        0..=23 => out.push(major | len as u8),
        24..=0xff => out.extend_from_slice(&[major | 24, len as u8]),
        _ => {
            out.push(major | 25);
            out.extend_from_slice(&(len.min(0xffff) as u16).to_be_bytes());
        }
    }
}
