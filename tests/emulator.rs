//! A function binary under cargo-lambda's Runtime API emulator (`cargo lambda watch --only-lambda-apis`),
//! invoked with `cargo lambda invoke --data-file`, against moto: proof that the function's `main`, its init
//! and the runtime protocol work end to end. `CARGO_LAMBDA` must name the cargo-lambda executable (the
//! Makefile's venv provides it); the test fails, never skips, without it.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use aws_sdk_ecr::types::ImageTagMutability;
use integration_tests::{fixture, workspace_binary, Moto};
use serde_json::Value;

/// A child process stopped when dropped.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn cargo_lambda() -> String {
    std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA must name the cargo-lambda executable: run `make test`")
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
}

#[tokio::test]
async fn repository_events_function_answers_an_invoke_through_the_cargo_lambda_emulator() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("testrepo").send().await.expect("create");
    let port = free_port().to_string();

    let mut watch = Command::new(cargo_lambda())
        .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port", &port])
        .env("XDG_CACHE_HOME", moto.dir())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cargo lambda watch");
    let (ready_tx, ready_rx) = mpsc::channel();
    for stream in [
        watch.stdout.take().map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
        watch.stderr.take().map(|s| Box::new(s) as _),
    ]
    .into_iter()
    .flatten()
    {
        let tx = ready_tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stream).lines().map_while(Result::ok) {
                if line.contains("starting Runtime server") {
                    let _ = tx.send(());
                }
            }
        });
    }
    let _watch = Running(watch);
    ready_rx.recv_timeout(Duration::from_secs(60)).expect("the emulator starts");

    let mut function = Command::new(workspace_binary("repository-events"));
    function
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", format!("http://127.0.0.1:{port}/.rt/repository-events"))
        .env("AWS_LAMBDA_FUNCTION_NAME", "repository-events")
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (key, value) in moto.aws_env() {
        function.env(key, value);
    }
    let _function = Running(function.spawn().expect("start the function"));

    let event = fixture("events/cloudtrail-create-repository.json");
    let invoke = Command::new(cargo_lambda())
        .args(["lambda", "invoke", "repository-events", "--invoke-address", "127.0.0.1", "--invoke-port", &port])
        .args(["--output-format", "json", "--data-file"])
        .arg(&event)
        .env("XDG_CACHE_HOME", moto.dir())
        .output()
        .expect("run cargo lambda invoke");
    assert!(invoke.status.success(), "{}", String::from_utf8_lossy(&invoke.stderr));
    let handled: Value = serde_json::from_slice(&invoke.stdout).expect("the function answers JSON");
    assert_eq!(handled["handled"], "repository");
    assert_eq!(handled["report"]["repository"], "testrepo");
    assert_eq!(handled["report"]["controls"][0]["status"], "fixed");

    let described = ecr.describe_repositories().repository_names("testrepo").send().await.expect("describe");
    assert_eq!(described.repositories()[0].image_tag_mutability(), Some(&ImageTagMutability::Immutable));
}
