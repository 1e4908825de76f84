//! Test support: a real moto server per test, SDK clients pointed at it, the `ecr-warden` binary run
//! against it, and moto's request recorder to see exactly which API calls were made.
//!
//! `MOTO_SERVER` must name the `moto_server` executable (the Makefile's venv provides it); tests fail,
//! never skip, without it.

pub mod faults;
pub mod http;
pub mod templates;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_ecr::config::Credentials;
use aws_sdk_ecr::config::SharedCredentialsProvider;

/// The region every test works in.
pub const REGION: &str = "us-east-1";

/// A moto server on a free loopback port, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    recording: PathBuf,
    dir: PathBuf,
}

impl Moto {
    /// Starts moto and waits until it says it is listening.
    pub fn start() -> Moto {
        let server = std::env::var("MOTO_SERVER")
            .expect("MOTO_SERVER must name the moto_server executable: run the tests with `make test`");
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ecr-warden-test-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the test's temporary folder");
        let recording = dir.join("recording.jsonl");
        let mut child = Command::new(&server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .env("MOTO_ENABLE_RECORDING", "true")
            // AWS managed policies (e.g. AWSLambdaBasicExecutionRole) exist, as in an account.
            .env("MOTO_IAM_LOAD_MANAGED_POLICIES", "true")
            .env("MOTO_RECORDER_FILEPATH", &recording)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("can't start {server}: {e}"));
        let ready = watch_output(&mut child, "Running on");
        if ready.recv_timeout(Duration::from_secs(60)).is_err() {
            let _ = child.kill();
            panic!("moto did not start listening on port {port} within 60 s");
        }
        Moto { child, endpoint: format!("http://127.0.0.1:{port}"), recording, dir }
    }

    /// A folder for the test's files, removed with the server.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes `text` to a file in the test's folder and returns its path.
    pub fn write_file(&self, name: &str, text: &str) -> PathBuf {
        let path = self.dir.join(name);
        std::fs::write(&path, text).expect("write a test file");
        path
    }

    /// An ECR client for seeding and checking, with retries off.
    pub async fn ecr(&self) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(&self.sdk_config().await)
    }

    /// An ECR client in `account`, through the member role there (moto keeps accounts apart by the credentials
    /// `AssumeRole` returns, and lets any role be assumed).
    pub async fn ecr_in(&self, account: &str) -> aws_sdk_ecr::Client {
        aws_sdk_ecr::Client::new(&self.config_in(account).await)
    }

    /// An ECR client in `account` (the tests' own, or through the member role) and `region`.
    pub async fn ecr_of(&self, account: &str, region: &str) -> aws_sdk_ecr::Client {
        let config = match account == ACCOUNT {
            true => self.sdk_config().await,
            false => self.config_in(account).await,
        };
        aws_sdk_ecr::Client::from_conf(
            aws_sdk_ecr::config::Builder::from(&config).region(Region::new(region.to_string())).build(),
        )
    }

    /// The SDK configuration of `account`, through the member role there.
    pub async fn config_in(&self, account: &str) -> aws_config::SdkConfig {
        let sts = aws_sdk_sts::Client::new(&self.sdk_config().await);
        let assumed = sts
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/ecr-warden-member"))
            .role_session_name("tests")
            .send()
            .await
            .expect("moto assumes the role");
        let c = assumed.credentials().expect("credentials");
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_string()),
            None,
            "member",
        );
        self.sdk_config().await.to_builder().credentials_provider(SharedCredentialsProvider::new(credentials)).build()
    }

    /// An ECR client of the tests' own account in `region`.
    pub async fn ecr_at(&self, region: &str) -> aws_sdk_ecr::Client {
        let config =
            aws_sdk_ecr::config::Builder::from(&self.sdk_config().await).region(Region::new(region.to_string()));
        aws_sdk_ecr::Client::from_conf(config.build())
    }

    /// An organization whose management account is the tests' own, with `members` more accounts (moto makes
    /// up their IDs): the member account IDs, in order.
    pub async fn organization(&self, members: usize) -> Vec<String> {
        let names: Vec<String> = (0..members).map(|n| format!("member{n}")).collect();
        self.organization_of(&names.iter().map(String::as_str).collect::<Vec<_>>()).await
    }

    /// An organization whose management account is the tests' own, with one more account per name: their IDs,
    /// in order.
    pub async fn organization_of(&self, names: &[&str]) -> Vec<String> {
        let organizations = self.organizations().await;
        organizations.create_organization().send().await.expect("create the organization");
        let mut accounts = Vec::new();
        for name in names {
            let created = organizations
                .create_account()
                .email(format!("{name}@example.com"))
                .account_name(*name)
                .send()
                .await
                .expect("create an account");
            let status = created.create_account_status().expect("a status");
            accounts.push(status.account_id().expect("moto creates accounts at once").to_string());
        }
        accounts
    }

    /// An AWS Organizations client of the tests' account (the organization's management account).
    pub async fn organizations(&self) -> aws_sdk_organizations::Client {
        aws_sdk_organizations::Client::new(&self.sdk_config().await)
    }

    /// A new organizational unit named `name` under the organization's root, holding `accounts` (moved there from
    /// the root): its ID.
    pub async fn organizational_unit(&self, name: &str, accounts: &[&str]) -> String {
        let organizations = self.organizations().await;
        let roots = organizations.list_roots().send().await.expect("roots");
        let root = roots.roots()[0].id().expect("a root ID").to_string();
        let unit = organizations.create_organizational_unit().parent_id(&root).name(name).send().await.expect("an OU");
        let unit = unit.organizational_unit().and_then(|u| u.id()).expect("its ID").to_string();
        for account in accounts {
            let moved = organizations.move_account().account_id(*account).source_parent_id(&root);
            moved.destination_parent_id(&unit).send().await.expect("move the account");
        }
        unit
    }

    /// An IAM client.
    pub async fn iam(&self) -> aws_sdk_iam::Client {
        aws_sdk_iam::Client::new(&self.sdk_config().await)
    }

    /// A KMS client.
    pub async fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.sdk_config().await)
    }

    /// An SSM client, with retries off.
    pub async fn ssm(&self) -> aws_sdk_ssm::Client {
        aws_sdk_ssm::Client::new(&self.sdk_config().await)
    }

    /// An SNS client, with retries off.
    pub async fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.sdk_config().await)
    }

    /// An SQS client, with retries off.
    pub async fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.sdk_config().await)
    }

    /// A Security Hub client.
    pub async fn securityhub(&self) -> aws_sdk_securityhub::Client {
        aws_sdk_securityhub::Client::new(&self.sdk_config().await)
    }

    /// An EventBridge client, with retries off.
    pub async fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.sdk_config().await)
    }

    /// POSTs `body` as it is to moto's own API at `path` and returns the HTTP status.
    pub fn moto_raw(&self, path: &str, body: &str) -> u16 {
        self.post(path, "", body)
    }

    /// POSTs `body` as JSON to moto's own API at `path` (e.g. `/moto-api/static/ecr/scan-finding-results`)
    /// and returns the HTTP status.
    pub fn moto_api(&self, path: &str, body: &serde_json::Value) -> u16 {
        self.post(path, "Content-Type: application/json\r\n", &body.to_string())
    }

    /// Starts an EC2 instance in moto and returns its ID: what an ECS container instance is registered with (the
    /// tests build no EC2 client; this is EC2's query protocol, its `RunInstances` answer read for the ID).
    pub fn ec2_instance(&self) -> String {
        let scope = format!("testing/20260101/{REGION}/ec2/aws4_request");
        let headers = format!(
            "Content-Type: application/x-www-form-urlencoded\r\nAuthorization: AWS4-HMAC-SHA256 Credential={scope}, \
             SignedHeaders=host, Signature=0\r\n"
        );
        let body = "Action=RunInstances&ImageId=ami-12c6146b&MinCount=1&MaxCount=1&Version=2016-11-15";
        let (status, answer) = self.exchange("POST", "/", &headers, body);
        assert_eq!(status, 200, "RunInstances: {answer}");
        let start = answer.find("<instanceId>").map(|at| at + "<instanceId>".len()).expect("an instance ID");
        answer[start..].split('<').next().unwrap_or_default().to_string()
    }

    /// Creates an S3 bucket in moto (what a trail delivers to; the tests build no S3 client: S3's REST API,
    /// path-style).
    pub fn s3_bucket(&self, name: &str) {
        let scope = format!("testing/20260101/{REGION}/s3/aws4_request");
        let headers =
            format!("Authorization: AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=0\r\n");
        let (status, answer) = self.exchange("PUT", &format!("/{name}"), &headers, "");
        assert_eq!(status, 200, "CreateBucket: {answer}");
    }

    /// POSTs `body` with the `headers` lines given (each ending in CRLF) and returns the HTTP status.
    fn post(&self, path: &str, headers: &str, body: &str) -> u16 {
        self.exchange("POST", path, headers, body).0
    }

    /// Sends `body` with `method` and the `headers` lines given; returns the HTTP status and the whole answer.
    fn exchange(&self, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
        use std::io::Write;
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(address).expect("connect to moto");
        let request = format!(
            "{method} {path} HTTP/1.1\r\nHost: {address}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send to moto");
        let mut answer = String::new();
        stream.read_to_string(&mut answer).expect("read moto's answer");
        let status = answer.split_whitespace().nth(1).and_then(|s| s.parse().ok());
        let status = status.unwrap_or_else(|| panic!("moto's answer has no status: {answer}"));
        (status, answer)
    }

    /// The SDK configuration reaching moto in the tests' account and region (for clients the helpers don't build).
    pub async fn sdk_config(&self) -> aws_config::SdkConfig {
        aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(&self.endpoint)
            .credentials_provider(Credentials::new("testing", "testing", None, None, "tests"))
            .retry_config(RetryConfig::disabled())
            .load()
            .await
    }

    /// The environment that points the AWS SDK in a child process at this server.
    pub fn aws_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint.clone()),
            ("AWS_REGION", REGION.to_string()),
            // The AWS CLI v1 reads only this one.
            ("AWS_DEFAULT_REGION", REGION.to_string()),
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_MAX_ATTEMPTS", "2".to_string()),
        ]
    }

    /// Runs `ecr-warden` with `args` against this server.
    pub fn ecr_warden(&self, args: &[&str]) -> Run {
        self.ecr_warden_with(args, &[])
    }

    /// Runs `ecr-warden` with `args` and extra environment variables.
    pub fn ecr_warden_with(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        let mut command = Command::new(ecr_warden_binary());
        command.args(args).env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
        for (key, value) in self.aws_env() {
            command.env(key, value);
        }
        for (key, value) in env {
            command.env(key, value);
        }
        Run(command.output().expect("run ecr-warden"))
    }

    /// Writes `event` to a file in the test's folder and returns its path as text (for `handle --event`).
    pub fn event_file(&self, name: &str, event: &serde_json::Value) -> String {
        self.write_file(name, &event.to_string()).to_str().expect("a UTF-8 path").to_string()
    }

    /// The event fixture `name` set in the tests' account and region ([`event_fixture`]), written to a file;
    /// its path as text.
    pub fn fixture_event_file(&self, name: &str) -> String {
        self.event_file(name, &event_fixture(name))
    }

    /// Forgets the requests recorded so far (for [`Moto::operations`]; the contract check still sees them).
    pub fn reset_recording(&self) {
        self.keep_recording();
        std::fs::write(&self.recording, "").expect("truncate moto's recording");
    }

    /// Adds the requests a stand-in on `proxy` answered (calls moto doesn't implement, which moto never records)
    /// to the test's request log, in moto's recording form, so that the contract check validates them too.
    pub fn keep_stood_in(&self, proxy: &faults::FaultProxy) {
        let Some(folder) = std::env::var_os("ECR_WARDEN_REQUEST_LOG") else { return };
        let lines: String = proxy
            .stood_in()
            .iter()
            .map(|request| {
                let entry = serde_json::json!({"headers": request.headers, "method": request.method,
                    "url": format!("http://stand-in{}", request.path), "body": request.body, "body_encoded": false});
                format!("{entry}\n")
            })
            .collect();
        let _ = std::fs::create_dir_all(&folder);
        let name = self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let log = PathBuf::from(folder).join(format!("{name}-stood-in.jsonl"));
        std::fs::write(&log, lines).expect("write the request log");
    }

    /// Adds what moto recorded so far to the test's request log, which the contract check reads when
    /// `ECR_WARDEN_REQUEST_LOG` names a folder (`make test`: `scripts/check_requests.py`).
    fn keep_recording(&self) {
        let Some(folder) = std::env::var_os("ECR_WARDEN_REQUEST_LOG") else { return };
        let recorded = std::fs::read(&self.recording).unwrap_or_default();
        if recorded.is_empty() {
            return;
        }
        let _ = std::fs::create_dir_all(&folder);
        let name = self.dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let log = PathBuf::from(folder).join(format!("{name}.jsonl"));
        use std::io::Write;
        let mut file = std::fs::OpenOptions::new().create(true).append(true).open(&log).expect("open the request log");
        file.write_all(&recorded).expect("write the request log");
    }

    /// The API operations moto received since the last reset, in order (`X-Amz-Target` without the
    /// service prefix, e.g. `PutLifecyclePolicy`, or a query-protocol call's `Action`, e.g. `GetCallerIdentity`).
    pub fn operations(&self) -> Vec<String> {
        let text = std::fs::read_to_string(&self.recording).unwrap_or_default();
        text.lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| {
                let entry: serde_json::Value = serde_json::from_str(line).expect("moto writes JSON lines");
                if let Some(target) = entry["headers"]["X-Amz-Target"].as_str() {
                    return target.rsplit('.').next().unwrap_or(target).to_string();
                }
                // Query-protocol services (STS, SNS) name the call in the form body, which moto records in base64.
                let body = entry["body"].as_str().unwrap_or_default();
                let body = match entry["body_encoded"].as_bool() {
                    Some(true) => String::from_utf8_lossy(&base64_decode(body)).into_owned(),
                    _ => body.to_string(),
                };
                let action = body.split('&').find_map(|pair| pair.strip_prefix("Action="));
                action.unwrap_or("(no X-Amz-Target)").to_string()
            })
            .collect()
    }

    /// How many times each operation was called since the last reset.
    pub fn operation_counts(&self) -> BTreeMap<String, usize> {
        let mut counts = BTreeMap::new();
        for op in self.operations() {
            *counts.entry(op).or_default() += 1;
        }
        counts
    }

    /// The write operations (anything but Describe/Get/List/BatchGet) since the last reset.
    pub fn writes(&self) -> Vec<String> {
        self.operations().into_iter().filter(|op| !is_read(op)).collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        self.keep_recording();
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Reads a child's piped stdout and stderr until a line contains `needle` (the receiver then gets one
/// message), and keeps draining both so the child never blocks on a full pipe.
pub fn watch_output(child: &mut Child, needle: &'static str) -> Receiver<()> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let stdout = child.stdout.take().map(|s| Box::new(s) as Box<dyn Read + Send>);
    let stderr = child.stderr.take().map(|s| Box::new(s) as Box<dyn Read + Send>);
    for stream in [stdout, stderr].into_iter().flatten() {
        let mut ready = Some(ready_tx.clone());
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if line.contains(needle) {
                    if let Some(tx) = ready.take() {
                        let _ = tx.send(());
                    }
                }
            }
        });
    }
    ready_rx
}

/// Where [`start_function`] writes the function's standard output.
pub fn function_output(name: &str, moto: &Moto) -> PathBuf {
    moto.dir().join(format!("{name}.stdout"))
}

/// A child process, killed and reaped when dropped (also when an assertion fails first).
pub struct Running(pub Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Where [`start_function`] writes what a function printed on standard error (its logs).
pub fn function_log(name: &str, moto: &Moto) -> PathBuf {
    moto.dir().join(format!("{name}.stderr"))
}

/// Starts the Lambda function binary `name` against the Runtime API at `runtime_api`, with the SDK
/// pointed at `moto`. Its standard output (the metrics it prints) goes to [`function_output`], its standard
/// error (logs) to [`function_log`].
pub fn start_function(name: &str, runtime_api: &str, moto: &Moto) -> Running {
    start_function_with(name, runtime_api, moto, &[])
}

/// [`start_function`] with extra environment variables.
pub fn start_function_with(name: &str, runtime_api: &str, moto: &Moto, env: &[(&str, &str)]) -> Running {
    let stdout = std::fs::File::create(function_output(name, moto)).expect("create the function's output file");
    let stderr = std::fs::File::create(function_log(name, moto)).expect("create the function's log file");
    let mut command = Command::new(workspace_binary(name));
    command
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(stdout)
        .stderr(stderr);
    for (key, value) in moto.aws_env() {
        command.env(key, value);
    }
    for (key, value) in env {
        command.env(key, value);
    }
    Running(command.spawn().expect("start the function"))
}

/// Standard base64 (with or without padding) to bytes; characters outside the alphabet are skipped.
fn base64_decode(text: &str) -> Vec<u8> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let sextets: Vec<u32> =
        text.bytes().filter_map(|b| ALPHABET.iter().position(|a| *a == b).map(|p| p as u32)).collect();
    let mut out = Vec::with_capacity(sextets.len() * 3 / 4);
    for chunk in sextets.chunks(4) {
        let bits = chunk.iter().enumerate().fold(0u32, |acc, (i, s)| acc | (s << (18 - 6 * i)));
        out.extend(bits.to_be_bytes()[1..].iter().take(chunk.len().saturating_sub(1)));
    }
    out
}

/// Whether an ECR operation only reads.
pub fn is_read(operation: &str) -> bool {
    ["Describe", "Get", "List", "BatchGet", "BatchCheck"].iter().any(|p| operation.starts_with(p))
}

/// The result of one `ecr-warden` run.
pub struct Run(pub Output);

impl Run {
    /// The exit code.
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }
    /// Standard output.
    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }
    /// Standard error.
    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }
    /// Standard output parsed as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}\nstderr:\n{}", self.stdout(), self.stderr()))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "exit {}\n--- stdout\n{}\n--- stderr\n{}", self.code(), self.stdout(), self.stderr())
    }
}

/// The `ecr-warden` binary: `ECR_WARDEN_BIN`, else the one built beside this test.
pub fn ecr_warden_binary() -> PathBuf {
    match std::env::var("ECR_WARDEN_BIN") {
        Ok(path) => PathBuf::from(path),
        Err(_) => workspace_binary("ecr-warden"),
    }
}

/// A binary of the workspace, built beside this test (`cargo build --workspace`, done by `make test`).
pub fn workspace_binary(name: &str) -> PathBuf {
    let exe = std::env::current_exe().expect("the test knows its own path");
    let profile_dir = exe.parent().and_then(Path::parent).expect("tests run from target/<profile>/deps");
    let binary = profile_dir.join(name);
    assert!(
        binary.exists(),
        "{} is missing: build it first (`cargo build --workspace`, done by `make test`)",
        binary.display()
    );
    binary
}

/// The account moto gives the tests' credentials.
pub const ACCOUNT: &str = "123456789012";

/// A baseline's `[defaults]` with every repository control off: what a test of a registry-level control starts
/// from, so that the runs' writes are that control's alone.
pub const REPOSITORY_CONTROLS_OFF: &str = r#"
[defaults]
tag_mutability = { mode = "off" }
scanning = { mode = "off" }
encryption = { mode = "off" }
lifecycle_policy = { mode = "off" }
repository_policy = { mode = "off" }
tags = { mode = "off" }
"#;

/// The registry's scanning rules as moto holds them: (frequency, sorted filters) per rule.
pub async fn scanning_rules(ecr: &aws_sdk_ecr::Client) -> Vec<(String, Vec<String>)> {
    let config = ecr.get_registry_scanning_configuration().send().await.expect("get rules");
    let rules = config.scanning_configuration().map(|c| c.rules().to_vec()).unwrap_or_default();
    let rule = |r: &aws_sdk_ecr::types::RegistryScanningRule| {
        let mut filters: Vec<String> = r.repository_filters().iter().map(|f| f.filter().to_string()).collect();
        filters.sort();
        (r.scan_frequency().as_str().to_string(), filters)
    };
    rules.iter().map(rule).collect()
}

/// An event fixture (`tests/fixtures/events/NAME`) as JSON, set in the tests' account and region (events
/// for another registry are ignored).
pub fn event_fixture(name: &str) -> serde_json::Value {
    let text = std::fs::read_to_string(fixture(&format!("events/{name}"))).expect("read the fixture");
    let event: serde_json::Value = serde_json::from_str(&text).expect("the fixture is JSON");
    // The sample's own account and region, wherever they appear (the envelope, ARNs in the detail).
    let mut text = text.clone();
    for (key, ours) in [("account", ACCOUNT), ("region", REGION)] {
        if let Some(theirs) = event[key].as_str().filter(|theirs| !theirs.is_empty()) {
            text = text.replace(theirs, ours);
        }
    }
    serde_json::from_str(&text).expect("the fixture is still JSON")
}

/// `event` as if it came from `account` in `region`: the envelope and every ARN in it.
pub fn event_from(event: &serde_json::Value, account: &str, region: &str) -> serde_json::Value {
    let text = event.to_string().replace(ACCOUNT, account).replace(&format!("\"{REGION}\""), &format!("\"{region}\""));
    serde_json::from_str(&text).expect("still JSON")
}

/// A repository's tag mutability, as ECR names it (`MUTABLE`, `IMMUTABLE`, ...).
pub async fn tag_mutability(ecr: &aws_sdk_ecr::Client, name: &str) -> String {
    let found = ecr.describe_repositories().repository_names(name).send().await.expect("describe");
    found.repositories()[0].image_tag_mutability().map(|m| m.as_str().to_string()).unwrap_or_default()
}

/// The CloudTrail `CreateRepository` event of `repository`, in the tests' account and region.
pub fn create_repository_event(repository: &str) -> serde_json::Value {
    let mut event = event_fixture("cloudtrail-create-repository.json");
    event["detail"]["requestParameters"] = serde_json::json!({ "repositoryName": repository });
    event
}

/// A fixture file under `tests/fixtures/`.
pub fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures").join(path)
}

/// A free port on the loopback interface.
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free loopback port");
    listener.local_addr().expect("bound address").port()
}
