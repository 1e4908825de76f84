//! The command's own help for people: `explain` (what a control checks, fixes, needs and matches) and
//! `completions` (shell completion scripts). No AWS call is made.

use std::process::{Command, Output};

use integration_tests::ecr_warden_binary;
use serde_json::Value;

fn run(args: &[&str]) -> Output {
    Command::new(ecr_warden_binary()).args(args).env_clear().output().expect("run ecr-warden")
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn explain_lists_every_control_and_explains_each_one() {
    let list = stdout(&run(&["explain"]));
    let names: Vec<&str> = list.lines().filter_map(|l| l.split_whitespace().next()).take(11).collect();
    assert_eq!(
        names,
        [
            "tag-mutability",
            "scanning",
            "encryption",
            "lifecycle-policy",
            "repository-policy",
            "tags",
            "replication",
            "registry-policy",
            "creation-templates",
            "pull-through-cache",
            "signing"
        ]
    );

    let one = stdout(&run(&["explain", "tag-mutability"]));
    assert!(one.contains("Fixes: PutImageTagMutability"), "{one}");
    assert!(one.contains("IAM actions: ecr:DescribeRepositories, ecr:PutImageTagMutability"), "{one}");
    assert!(one.contains("Security Hub: ECR.2 (AWS Config rule ecr-private-tag-immutability-enabled)"), "{one}");

    let json: Value =
        serde_json::from_str(&stdout(&run(&["explain", "encryption", "--output", "json"]))).expect("JSON");
    assert_eq!(json["security_hub"], "ECR.5");
    assert!(json["fixes"].as_str().is_some_and(|f| f.starts_with("None")), "encryption is reported, not fixed");
    let all: Value = serde_json::from_str(&stdout(&run(&["explain", "--output", "json"]))).expect("JSON");
    assert_eq!(all.as_array().map(Vec::len), Some(11));
    let replication = stdout(&run(&["explain", "replication"]));
    assert!(
        replication.contains("IAM actions: ecr:DescribeRegistry, ecr:PutReplicationConfiguration"),
        "{replication}"
    );
    let registry_policy = stdout(&run(&["explain", "registry-policy"]));
    assert!(
        registry_policy.contains("IAM actions: ecr:DeleteRegistryPolicy, ecr:GetRegistryPolicy, ecr:PutRegistryPolicy"),
        "{registry_policy}"
    );

    let unknown = run(&["explain", "nope"]);
    assert_eq!(unknown.status.code(), Some(64), "a usage mistake has its own exit code");
    assert!(String::from_utf8_lossy(&unknown.stderr).contains("possible values: tag-mutability"));
}

#[test]
fn completions_are_printed_for_each_shell() {
    for (shell, marker) in [("bash", "complete -F"), ("zsh", "#compdef ecr-warden"), ("fish", "complete -c ecr-warden")]
    {
        let script = stdout(&run(&["completions", shell]));
        assert!(script.contains(marker), "{shell}: {}", &script[..script.len().min(300)]);
        assert!(script.contains("explain") && script.contains("lifecycle"), "{shell} completes the subcommands");
    }
}

#[test]
fn output_piped_into_a_reader_that_stops_early_ends_quietly() {
    let mut child = Command::new(ecr_warden_binary())
        .args(["completions", "zsh"])
        .env_clear()
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run ecr-warden");
    // The reader goes away at once, like `| head -c 0`; the command starts up long after this returns.
    drop(child.stdout.take());
    let output = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// A usage mistake exits 64, never 2 (which `plan` uses for "changes pending"), and says what is wrong in a
/// few lines; help and version succeed. No AWS call is made: there is no endpoint to make it to.
#[test]
fn usage_mistakes_exit_64_and_never_look_like_pending_changes() {
    for args in [
        &["plan", "--bogus"][..],
        &["plan", "--output"],
        &["plan", "--output", "xml"],
        &["plan", "--concurrency", "0"],
        &["apply", "--concurrency", "lots"],
        &["plan", "--repository", "team-[a"],
        &["handle"],
        &["explain", "nope"],
        &["permissions", "nope"],
        &["no-such-command"],
        &[],
    ] {
        let output = run(args);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(64), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: ") || stderr.contains("Usage:"), "{args:?}: {stderr}");
        assert!(stderr.lines().count() < 25, "{args:?}: {stderr}");
    }
    for args in [&["--help"][..], &["plan", "--help"], &["--version"]] {
        assert!(run(args).status.success(), "{args:?}");
    }
}

/// Errors a person reads are one line saying what failed, where and what to do: never the SDK's debug dump.
#[test]
fn errors_are_one_line_with_what_failed_and_what_to_do() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("address");
    let endpoint = format!("http://{closed}");
    let cases: [(Vec<(&str, &str)>, &str); 2] = [
        // Nothing listens there.
        (
            vec![("AWS_ACCESS_KEY_ID", "x"), ("AWS_SECRET_ACCESS_KEY", "y"), ("AWS_MAX_ATTEMPTS", "1")],
            "DescribeRepositories failed: can't reach ECR at",
        ),
        // No credentials anywhere (instance metadata off, as on a laptop).
        (
            vec![("AWS_EC2_METADATA_DISABLED", "true"), ("AWS_MAX_ATTEMPTS", "1")],
            "no AWS credentials were found: set AWS_PROFILE",
        ),
    ];
    for (env, expected) in cases {
        let mut command = Command::new(ecr_warden_binary());
        command.arg("plan").env_clear().env("AWS_REGION", "us-east-1").env("AWS_ENDPOINT_URL", &endpoint);
        command.env("HOME", std::env::temp_dir());
        let output = command.envs(env).output().expect("run ecr-warden");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?}: {stderr}");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.len() < 400, "short: {stderr}");
        for dump in ["DispatchFailure", "ConnectorError", "ProviderError", "Os {", "raw: Response"] {
            assert!(!stderr.contains(dump), "no debug dump ({dump}): {stderr}");
        }
    }
}
