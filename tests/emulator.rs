//! Function binaries under cargo-lambda's Runtime API emulator (`cargo lambda watch --only-lambda-apis`),
//! invoked with `cargo lambda invoke`, against moto: proof that each function's `main`, its init and the
//! runtime protocol work end to end. `CARGO_LAMBDA` must name the cargo-lambda executable (the Makefile's
//! venv provides it); the tests fail, never skip, without it.

use std::process::{Command, Stdio};
use std::time::Duration;

use aws_sdk_ecr::types::ImageTagMutability;
use integration_tests::{free_port, start_function, watch_output, Moto, Running};
use serde_json::Value;

fn cargo_lambda() -> String {
    std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA must name the cargo-lambda executable: run `make test`")
}

/// `cargo lambda watch` serving the Runtime API for one function binary, both stopped when dropped.
struct Emulator<'a> {
    port: String,
    function: &'static str,
    moto: &'a Moto,
    _watch: Running,
    _function: Running,
}

impl<'a> Emulator<'a> {
    fn start(function: &'static str, moto: &'a Moto) -> Self {
        let port = free_port().to_string();
        let mut watch = Command::new(cargo_lambda())
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port", &port])
            .env("XDG_CACHE_HOME", moto.dir())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start cargo lambda watch");
        let ready = watch_output(&mut watch, "starting Runtime server");
        let watch = Running(watch);
        ready.recv_timeout(Duration::from_secs(60)).expect("the emulator starts");
        // The emulator routes by path: each function polls its own `/.rt/<name>` Runtime API.
        let runtime_api = format!("http://127.0.0.1:{port}/.rt/{function}");
        let running = start_function(function, &runtime_api, moto);
        Emulator { port, function, moto, _watch: watch, _function: running }
    }

    /// `cargo lambda invoke` with `data` (`--data-file PATH` or `--data-ascii JSON`); the function's JSON answer.
    fn invoke(&self, data: &[&str]) -> Value {
        let invoke = Command::new(cargo_lambda())
            .args(["lambda", "invoke", self.function, "--invoke-address", "127.0.0.1", "--invoke-port", &self.port])
            .args(["--output-format", "json"])
            .args(data)
            .env("XDG_CACHE_HOME", self.moto.dir())
            .output()
            .expect("run cargo lambda invoke");
        assert!(invoke.status.success(), "{}", String::from_utf8_lossy(&invoke.stderr));
        serde_json::from_slice(&invoke.stdout).expect("the function answers JSON")
    }
}

#[tokio::test]
async fn repository_events_function_answers_an_invoke_through_the_cargo_lambda_emulator() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    ecr.create_repository().repository_name("testrepo").send().await.expect("create");
    let emulator = Emulator::start("repository-events", &moto);

    let event = moto.fixture_event_file("cloudtrail-create-repository.json");
    let handled = emulator.invoke(&["--data-file", &event]);
    assert_eq!(handled["handled"], "repository");
    assert_eq!(handled["report"]["repository"], "testrepo");
    assert_eq!(handled["report"]["controls"][0]["status"], "fixed");

    let described = ecr.describe_repositories().repository_names("testrepo").send().await.expect("describe");
    assert_eq!(described.repositories()[0].image_tag_mutability(), Some(&ImageTagMutability::Immutable));
}

/// The backfill function invoked by hand with the README's payloads: a dry run reports both repositories and
/// changes nothing, so does `{}`, and `"dryRun": false` with globs fixes only the repositories they name.
#[tokio::test]
async fn backfill_function_answers_the_documented_payload_through_the_cargo_lambda_emulator() {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for name in ["team-a/api", "team-b/api"] {
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let emulator = Emulator::start("backfill", &moto);
    let mutability = |name: &'static str| {
        let ecr = ecr.clone();
        async move {
            let described = ecr.describe_repositories().repository_names(name).send().await.expect("describe");
            described.repositories()[0].image_tag_mutability().cloned()
        }
    };

    let planned = emulator.invoke(&["--data-ascii", r#"{"dryRun": true}"#]);
    assert_eq!(planned["handled"], "backfill");
    assert_eq!(planned["report"]["repositories"].as_array().map(Vec::len), Some(2), "{planned:#}");
    assert_eq!(mutability("team-a/api").await, Some(ImageTagMutability::Mutable), "a dry run changes nothing");

    // `{}` plans: a payload writes only when it says so.
    let defaulted = emulator.invoke(&["--data-ascii", "{}"]);
    assert_eq!(defaulted["report"]["dry_run"], true, "{defaulted:#}");
    assert_eq!(mutability("team-a/api").await, Some(ImageTagMutability::Mutable), "`{{}}` changes nothing");

    let payload = r#"{"dryRun": false, "repositories": ["team-a/**"], "concurrency": 2}"#;
    let applied = emulator.invoke(&["--data-ascii", payload]);
    let repositories = applied["report"]["repositories"].as_array().expect("the report lists repositories");
    assert_eq!(repositories.len(), 1, "{applied:#}");
    assert_eq!(repositories[0]["repository"], "team-a/api");
    assert_eq!(mutability("team-a/api").await, Some(ImageTagMutability::Immutable));
    assert_eq!(mutability("team-b/api").await, Some(ImageTagMutability::Mutable), "outside the globs");
}
