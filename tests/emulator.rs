//! A function binary under cargo-lambda's Runtime API emulator (`cargo lambda watch --only-lambda-apis`),
//! invoked with `cargo lambda invoke --data-file`, against moto: proof that the function's `main`, its init
//! and the runtime protocol work end to end. `CARGO_LAMBDA` must name the cargo-lambda executable (the
//! Makefile's venv provides it); the test fails, never skips, without it.

use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_ecr::types::ImageTagMutability;
use integration_tests::{fixture, free_port, start_function, watch_output, Moto, Running};
use serde_json::Value;

fn cargo_lambda() -> String {
    std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA must name the cargo-lambda executable: run `make test`")
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
    let ready = watch_output(&mut watch, "starting Runtime server");
    let _watch = Running(watch);
    ready.recv_timeout(Duration::from_secs(60)).expect("the emulator starts");

    let runtime_api = format!("http://127.0.0.1:{port}/.rt/repository-events");
    let _function = start_function("repository-events", &runtime_api, &moto);

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
