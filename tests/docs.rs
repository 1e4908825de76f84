//! The README's examples work: every TOML baseline in it validates, `baseline default` prints a
//! baseline that validates too, and the cargo-lambda deploy walk-through runs against moto.

use std::path::Path;
use std::process::Command;

use integration_tests::ecr_warden_binary;

fn toml_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```toml") => current = Some(String::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), _) => {
                block.push_str(line);
                block.push('\n');
            }
            (None, _) => {}
        }
    }
    blocks
}

fn validate(dir: &Path, name: &str, text: &str) -> std::process::Output {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write baseline");
    Command::new(ecr_warden_binary()).args(["baseline", "validate"]).arg(&path).output().expect("run ecr-warden")
}

#[test]
fn every_baseline_in_the_readme_is_valid() {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).expect("README");
    let blocks = toml_blocks(&readme);
    assert!(!blocks.is_empty(), "the README shows a baseline");
    let dir = std::env::temp_dir().join(format!("ecr-warden-docs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (index, block) in blocks.iter().enumerate() {
        let out = validate(&dir, &format!("readme-{index}.toml"), block);
        assert!(out.status.success(), "README baseline #{index} is invalid:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let default = Command::new(ecr_warden_binary()).args(["baseline", "default"]).output().expect("run ecr-warden");
    let out = validate(&dir, "default.toml", &String::from_utf8_lossy(&default.stdout));
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let _ = std::fs::remove_dir_all(&dir);
}

/// A TOML baseline as JSON, read by the same TOML reader ecr-warden uses (dates become `YYYY-MM-DD`
/// strings, as a JSON baseline writes them).
fn toml_as_json(text: &str) -> serde_json::Value {
    fn dates_as_text(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::Object(map) => {
                if let Some(date) = map.get("$__toml_private_datetime").cloned().filter(|_| map.len() == 1) {
                    *value = date;
                } else {
                    map.values_mut().for_each(dates_as_text);
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(dates_as_text),
            _ => {}
        }
    }
    let mut value: serde_json::Value = toml::from_str(text).expect("valid TOML");
    dates_as_text(&mut value);
    value
}

#[test]
fn the_baseline_schema_accepts_every_valid_baseline_and_rejects_bad_ones() {
    let schema = Command::new(ecr_warden_binary()).args(["baseline", "schema"]).output().expect("run ecr-warden");
    assert!(schema.status.success(), "{}", String::from_utf8_lossy(&schema.stderr));
    let dir = std::env::temp_dir().join(format!("ecr-warden-schema-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("schema.json"), &schema.stdout).expect("write schema");
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).expect("README");
    let default = Command::new(ecr_warden_binary()).args(["baseline", "default"]).output().expect("run ecr-warden");
    let mut good: Vec<String> = toml_blocks(&readme);
    good.push(String::from_utf8_lossy(&default.stdout).into_owned());
    good.push(
        "[[defaults.vulnerabilities.suppressions]]\nid = \"CVE-1\"\nreason = \"r\"\nexpires = 2027-01-31\n".into(),
    );
    let bad = [
        ("misspelt", "[defaults.tag_mutabilty]\nmode = \"enforce\"\n"),
        ("mode", "[defaults.tags]\nmode = \"enforced\"\n"),
        ("type", "[[rules]]\nmatch = 3\n"),
        ("replication", "[[replication.targets]]\nrepositories = \"a*\"\nregion = [\"eu-west-1\"]\n"),
    ];
    let python = std::path::PathBuf::from(std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA: run `make test`"))
        .with_file_name("python");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/check_schema.py");
    let check = |name: &str, text: &str| {
        let path = dir.join(format!("{name}.json"));
        std::fs::write(&path, toml_as_json(text).to_string()).expect("write baseline");
        let schema_ok =
            Command::new(&python).arg(&script).arg(dir.join("schema.json")).arg(&path).output().expect("python");
        (schema_ok, validate(&dir, &format!("{name}-check.toml"), text).status.success())
    };
    for (index, text) in good.iter().enumerate() {
        let (schema, ecr_warden) = check(&format!("good-{index}"), text);
        assert!(
            schema.status.success(),
            "the schema rejects a valid baseline:\n{}",
            String::from_utf8_lossy(&schema.stdout)
        );
        assert!(ecr_warden, "ecr-warden rejects good-{index}");
    }
    for (name, text) in bad {
        let (schema, ecr_warden) = check(name, text);
        assert!(!schema.status.success(), "the schema accepts the {name} mistake");
        assert!(!ecr_warden, "ecr-warden accepts the {name} mistake");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// The README's sh block that holds `needle`, its continuation lines joined.
fn sh_block_with(markdown: &str, needle: &str) -> Vec<String> {
    let mut blocks: Vec<Vec<String>> = Vec::new();
    let mut current: Option<Vec<String>> = None;
    for line in markdown.lines() {
        match (&mut current, line.trim_start()) {
            (None, "```sh") => current = Some(Vec::new()),
            (Some(_), "```") => blocks.extend(current.take()),
            (Some(block), text) => match block.last_mut().filter(|last| last.ends_with('\\')) {
                Some(last) => {
                    last.pop();
                    last.push_str(text);
                }
                None => block.push(text.to_string()),
            },
            (None, _) => {}
        }
    }
    let mut found = blocks.into_iter().filter(|b| b.iter().any(|line| line.contains(needle)));
    let block = found.next().unwrap_or_else(|| panic!("the README has a sh block with `{needle}`"));
    assert!(found.next().is_none(), "one sh block in the README has `{needle}`");
    block
}

/// The README's "One function with cargo-lambda" walk-through, run line by line against moto's IAM and
/// Lambda with the real `aws` CLI, `ecr-warden` and `cargo lambda`. Two lines can't run here and are
/// replaced, each on purpose: the release arm64 build (the debug build of the same function is deployed
/// instead) and `invoke --remote` (moto runs functions in Docker, which this machine doesn't have).
#[test]
fn the_readme_cargo_lambda_deploy_walk_through_works() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let readme = std::fs::read_to_string(workspace.join("README.md")).expect("README");
    let block = sh_block_with(&readme, "cargo lambda deploy");
    let cargo_lambda = std::path::PathBuf::from(
        std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA must name the cargo-lambda executable: run `make test`"),
    );
    let venv_bin = cargo_lambda.parent().expect("cargo-lambda lives in the venv's bin").to_path_buf();
    let moto = integration_tests::Moto::start();
    let binaries = ecr_warden_binary().parent().expect("binary dir").to_path_buf();
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let path = std::env::join_paths([venv_bin.clone(), binaries].into_iter().chain(std::env::split_paths(&inherited)))
        .expect("PATH");

    let mut replaced = 0;
    for line in &block {
        let command = if line.starts_with("cargo lambda build") || line.starts_with("cargo lambda invoke --remote") {
            replaced += 1;
            continue;
        } else if line.starts_with("cargo lambda deploy") {
            let binary = integration_tests::workspace_binary("backfill");
            format!("{line} --binary-path {}", binary.display())
        } else {
            line.clone()
        };
        let mut run = Command::new("bash");
        run.args(["-euo", "pipefail", "-c", &command]).current_dir(moto.dir()).env("PATH", &path);
        run.env("XDG_CACHE_HOME", moto.dir()).env("AWS_PAGER", "");
        for (key, value) in moto.aws_env() {
            run.env(key, value);
        }
        if line.starts_with("cargo lambda deploy") {
            // cargo-lambda reads the workspace's metadata.
            run.current_dir(&workspace).env("CARGO_TARGET_DIR", moto.dir().join("target"));
            let policy = moto.dir().join("backfill-policy.json");
            assert!(policy.exists(), "the walk-through wrote the role's policy before deploying");
        }
        let out = run.output().expect("run bash");
        assert!(out.status.success(), "`{command}` failed:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    assert_eq!(replaced, 2, "the build and the remote invoke are the lines replaced here");

    let aws = |args: &[&str]| -> serde_json::Value {
        let mut run = Command::new(venv_bin.join("aws"));
        run.args(args).args(["--output", "json"]);
        for (key, value) in moto.aws_env() {
            run.env(key, value);
        }
        let out = run.output().expect("run aws");
        assert!(out.status.success(), "aws {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).expect("aws answers JSON")
    };
    let function = aws(&["lambda", "get-function-configuration", "--function-name", "backfill"]);
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Role"], "arn:aws:iam::123456789012:role/ecr-warden-backfill");
    assert_eq!(function["MemorySize"], 128);
    assert_eq!(function["Timeout"], 900);
    assert_eq!(function["Environment"]["Variables"]["ECR_WARDEN_MODE"], "audit");

    let policy = aws(&["iam", "get-role-policy", "--role-name", "ecr-warden-backfill", "--policy-name", "ecr-warden"]);
    let statements = policy["PolicyDocument"]["Statement"].as_array().expect("statements").clone();
    let granted: Vec<&str> = statements
        .iter()
        .flat_map(|s| s["Action"].as_array().into_iter().flatten())
        .filter_map(|a| a.as_str())
        .collect();
    assert!(granted.contains(&"ecr:PutImageTagMutability") && granted.contains(&"ecr:DescribeRepositories"));
    assert!(!granted.iter().any(|a| a.starts_with("sns:") || a.starts_with("ssm:")), "{granted:?}");
    let scoped = statements.iter().find(|s| s["Sid"] == "Repositories").expect("a repository statement");
    assert_eq!(scoped["Resource"], "arn:aws:ecr:eu-west-1:123456789012:repository/*");
}

/// A fenced block of a Markdown page: its language, the file a `<!-- file: NAME -->` line right above it
/// names, and its text.
struct Fenced {
    language: String,
    file: Option<String>,
    text: String,
}

fn fenced_blocks(markdown: &str) -> Vec<Fenced> {
    let mut blocks = Vec::new();
    let mut open: Option<Fenced> = None;
    let mut file_for_next: Option<String> = None;
    for line in markdown.lines() {
        let trimmed = line.trim();
        match &mut open {
            Some(_) if trimmed == "```" => blocks.extend(open.take()),
            Some(block) => {
                block.text.push_str(line);
                block.text.push('\n');
            }
            None if trimmed.starts_with("```") => {
                let language = trimmed.trim_start_matches('`').to_string();
                open = Some(Fenced { language, file: file_for_next.take(), text: String::new() });
            }
            None if trimmed.starts_with("<!-- file:") => {
                file_for_next =
                    Some(trimmed.trim_start_matches("<!-- file:").trim_end_matches("-->").trim().to_string());
            }
            None if !trimmed.is_empty() => file_for_next = None,
            None => {}
        }
    }
    assert!(open.is_none(), "a fenced block is never closed");
    blocks
}

/// The commands of a `sh` block, continuation lines joined, blank and comment lines left out, each with the
/// exit code its `# exit N` comment states (0 without one).
fn commands(block: &str) -> Vec<(String, i32)> {
    let mut lines: Vec<String> = Vec::new();
    for line in block.lines() {
        match lines.last_mut().filter(|last| last.ends_with('\\')) {
            Some(last) => {
                last.pop();
                last.push_str(line.trim_start());
            }
            None => lines.push(line.to_string()),
        }
    }
    lines
        .into_iter()
        .filter(|line| !line.trim().is_empty() && !line.trim_start().starts_with('#'))
        .map(|line| {
            let expected = line
                .split_once("# exit ")
                .and_then(|(_, rest)| rest.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok())
                .unwrap_or(0);
            (line, expected)
        })
        .collect()
}

/// The local registry the docs' commands run against: three repositories, a failed-events queue holding the
/// record of an invocation that failed every retry, and a work dead-letter queue holding a batch; for the
/// organization page, an organization too (see [`organization_world`]).
async fn docs_world(page: &str) -> (integration_tests::Moto, Vec<(&'static str, String)>) {
    let moto = integration_tests::Moto::start();
    if page == "organization.md" {
        organization_world(&moto).await;
    }
    let ecr = moto.ecr().await;
    for name in ["team-a/api", "team-a/web", "legacy/tool"] {
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let mut event = integration_tests::create_repository_event("team-a/api");
    event["detail"]["responseElements"]["repository"]["repositoryName"] = "team-a/api".into();
    let record = serde_json::json!({
        "version": "1.0",
        "timestamp": "2026-11-20T06:00:02.000Z",
        "requestContext": {
            "requestId": "c0b2e5a4-1d2f-4b8e-9a37-2f0c3d4e5f60",
            "functionArn": "arn:aws:lambda:us-east-1:123456789012:function:ecr-warden-repository-events:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": 3
        },
        "requestPayload": event,
        "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
        "responsePayload": {"errorType": "Incomplete", "errorMessage": "AccessDeniedException"}
    });
    let sqs = moto.sqs().await;
    let mut urls = Vec::new();
    for (variable, name, body) in [
        ("FAILED_EVENTS_QUEUE_URL", "failed-events", record.to_string()),
        ("WORK_DLQ_URL", "work-dlq", r#"{"repositories": ["team-a/api", "team-a/web"]}"#.to_string()),
    ] {
        let url =
            sqs.create_queue().queue_name(name).send().await.expect("queue").queue_url().expect("url").to_string();
        sqs.send_message().queue_url(&url).message_body(body).send().await.expect("send");
        urls.push((variable, url));
    }
    (moto, urls)
}

/// The organization page's world: the tests' account is the management account and the hub (SAM can't deploy in
/// moto, so a stand-in stack named `ecr-warden` holds the hub's work queue and the `MemberStackParameters` output,
/// its value made from `template.yaml`'s own); accounts `team-a` and `team-b` in an OU `workloads`, with
/// repositories in two regions; `member.yaml` beside the page's files. moto runs StackSets, and unlike AWS also
/// deploys them to the management account (CloudFormation user guide, "Create CloudFormation StackSets with
/// service-managed permissions": "CloudFormation doesn't deploy stacks to the management account").
async fn organization_world(moto: &integration_tests::Moto) {
    let accounts = moto.organization_of(&["team-a", "team-b"]).await;
    moto.organizational_unit("workloads", &[accounts[0].as_str(), accounts[1].as_str()]).await;
    for (account, region, name) in
        [(0, "us-east-1", "team-a/api"), (0, "eu-west-1", "team-a/web"), (1, "us-east-1", "team-b/api")]
    {
        let ecr = moto.ecr_of(&accounts[account], region).await;
        ecr.create_repository().repository_name(name).send().await.expect("create");
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::copy(workspace.join("member.yaml"), moto.dir().join("member.yaml")).expect("copy member.yaml");
    let template = std::fs::read_to_string(workspace.join("template.yaml")).expect("template.yaml");
    let output = template.split("  MemberStackParameters:").nth(1).expect("the hub's MemberStackParameters output");
    let value = output.lines().find_map(|l| l.trim().strip_prefix("Value: !Sub ")).expect("its value");
    let organization = moto.organizations().await.describe_organization().send().await.expect("organization");
    let organization_id = organization.organization().and_then(|o| o.id()).expect("an ID").to_string();
    let mut filled = value.trim_matches('\'').to_string();
    while let Some(start) = filled.find("${") {
        let end = start + filled[start..].find('}').expect("a closed ${...}");
        let name = &filled[start + 2..end];
        let account = integration_tests::ACCOUNT;
        let replacement = match name {
            "AWS::AccountId" => account.to_string(),
            "AWS::Region" => integration_tests::REGION.to_string(),
            "OrganizationId" => organization_id.clone(),
            "MemberRoleName" => "ecr-warden-member".to_string(),
            role => format!("arn:aws:iam::{account}:role/ecr-warden-{}", role.trim_end_matches(".Arn")),
        };
        filled.replace_range(start..=end, &replacement);
    }
    let stand_in = serde_json::json!({
        "Resources": {"WorkQueue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "ecr-warden-work"}}},
        "Outputs": {
            "WorkQueueUrl": {"Value": {"Ref": "WorkQueue"}},
            "MemberStackParameters": {"Value": filled},
        },
    });
    let venv_aws = std::path::PathBuf::from(std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA"))
        .parent()
        .expect("the venv's bin")
        .join("aws");
    let created = Command::new(venv_aws)
        .args(["cloudformation", "create-stack", "--stack-name", "ecr-warden", "--template-body"])
        .arg(stand_in.to_string())
        .args(["--endpoint-url", &moto.endpoint])
        .envs(moto.aws_env())
        .output()
        .expect("run the AWS CLI");
    assert!(created.status.success(), "the hub's stand-in stack: {}", String::from_utf8_lossy(&created.stderr));
}

/// Every command in a `sh` block of the pages in `docs/` runs against a local registry (one per page, the
/// page's blocks in order) and exits as the page says; files a page shows (`<!-- file: NAME -->`) are written
/// first. Commands can't hide elsewhere: blocks are `sh`, `toml`, `json`, `yaml` or `text`, and `text` blocks
/// hold no command lines.
#[tokio::test]
async fn every_command_in_the_docs_runs_as_the_page_says() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let venv_bin = std::path::PathBuf::from(
        std::env::var("CARGO_LAMBDA").expect("CARGO_LAMBDA must name the venv's cargo-lambda: run `make test`"),
    )
    .parent()
    .expect("the venv's bin")
    .to_path_buf();
    let binaries = ecr_warden_binary().parent().expect("binary dir").to_path_buf();
    // The venv's AWS CLI (v1) sends SQS calls in us-east-1 to the legacy queue.amazonaws.com whatever
    // AWS_ENDPOINT_URL says: a shim first in PATH passes the endpoint as --endpoint-url.
    let shim = std::env::temp_dir().join(format!("ecr-warden-docs-aws-{}", std::process::id()));
    std::fs::create_dir_all(&shim).expect("shim dir");
    let aws =
        format!("#!/bin/sh\nexec {} --endpoint-url \"$AWS_ENDPOINT_URL\" \"$@\"\n", venv_bin.join("aws").display());
    std::fs::write(shim.join("aws"), aws).expect("write the shim");
    let mut permissions = std::fs::metadata(shim.join("aws")).expect("shim").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(shim.join("aws"), permissions).expect("make the shim executable");
    let inherited = std::env::var_os("PATH").unwrap_or_default();
    let dirs = [shim.clone(), venv_bin, binaries].into_iter().chain(std::env::split_paths(&inherited));
    let path = std::env::join_paths(dirs).expect("PATH");
    let mut pages: Vec<_> = std::fs::read_dir(workspace.join("docs"))
        .expect("docs/")
        .map(|entry| entry.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    let mut ran = 0;
    for page in &pages {
        let name = page.file_name().expect("name").to_string_lossy().into_owned();
        let blocks = fenced_blocks(&std::fs::read_to_string(page).expect("read page"));
        for block in &blocks {
            assert!(
                ["sh", "toml", "json", "yaml", "text"].contains(&block.language.as_str()),
                "{name}: ```{}",
                block.language
            );
            if block.language == "text" {
                let command =
                    block.text.lines().find(|l| ["$ ", "ecr-warden ", "aws "].iter().any(|c| l.starts_with(c)));
                assert!(command.is_none(), "{name}: a command outside a sh block: {command:?}");
            }
        }
        if !blocks.iter().any(|b| b.language == "sh") {
            continue;
        }
        let (moto, urls) = docs_world(&name).await;
        for block in &blocks {
            if let Some(file) = &block.file {
                std::fs::write(moto.dir().join(file), &block.text).expect("write the page's file");
            }
        }
        for block in blocks.iter().filter(|b| b.language == "sh") {
            let commands = commands(&block.text);
            let mut script = String::from("set -u -o pipefail\n");
            for (index, (command, expected)) in commands.iter().enumerate() {
                script.push_str(&format!(
                    "{command}\ncode=$?; if [ $code -ne {expected} ]; then echo \"command {index} exited $code\" >&2; exit 100; fi\n"
                ));
            }
            let mut run = Command::new("bash");
            run.args(["-c", &script]).current_dir(moto.dir()).env_clear();
            run.env("PATH", &path).env("HOME", moto.dir()).env("AWS_PAGER", "");
            for (key, value) in moto.aws_env().into_iter().chain(urls.iter().map(|(k, v)| (*k, v.clone()))) {
                run.env(key, value);
            }
            let out = run.output().expect("run bash");
            let stderr = String::from_utf8_lossy(&out.stderr);
            let failed = stderr
                .lines()
                .find_map(|l| l.strip_prefix("command ")?.split(' ').next()?.parse::<usize>().ok())
                .map(|i| commands[i].0.clone());
            assert!(
                out.status.success(),
                "{name}: `{}` didn't exit as the page says:\n{stderr}\n{}",
                failed.unwrap_or_default(),
                String::from_utf8_lossy(&out.stdout)
            );
            ran += commands.len();
        }
    }
    let _ = std::fs::remove_dir_all(&shim);
    assert!(ran >= 20, "the docs' commands ran: {ran}");
}

/// The baseline reference lists exactly the keys of the baseline schema: settings once (the keys of
/// `[defaults]` and of a `[[rules]]` entry are the same), every other key by its full path.
#[test]
fn the_baseline_reference_lists_every_key_of_the_schema() {
    fn resolve<'a>(schema: &'a serde_json::Value, node: &'a serde_json::Value) -> &'a serde_json::Value {
        if let Some(reference) = node.get("$ref").and_then(|r| r.as_str()) {
            let name = reference.rsplit('/').next().unwrap_or_default();
            return resolve(schema, &schema["$defs"][name]);
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            for option in node.get(key).and_then(|o| o.as_array()).into_iter().flatten() {
                let resolved = resolve(schema, option);
                if resolved.get("properties").is_some() || resolved.get("items").is_some() {
                    return resolved;
                }
            }
        }
        node
    }
    fn walk(schema: &serde_json::Value, node: &serde_json::Value, path: &str, keys: &mut BTreeSet<String>) {
        let node = resolve(schema, node);
        for (key, value) in node.get("properties").and_then(|p| p.as_object()).into_iter().flatten() {
            let inner = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            keys.insert(inner.clone());
            walk(schema, value, &inner, keys);
        }
        if let Some(items) = node.get("items").filter(|i| i.is_object()) {
            walk(schema, items, &format!("{path}[]"), keys);
        }
        if let Some(values) = node.get("additionalProperties").filter(|v| v.is_object()) {
            walk(schema, values, &format!("{path}.<key>"), keys);
        }
    }
    use std::collections::BTreeSet;
    let out = Command::new(ecr_warden_binary()).args(["baseline", "schema"]).output().expect("run ecr-warden");
    let schema: serde_json::Value = serde_json::from_slice(&out.stdout).expect("schema JSON");
    let mut paths = BTreeSet::new();
    walk(&schema, &schema, "", &mut paths);
    let in_schema: BTreeSet<String> = paths
        .into_iter()
        .map(|p| match (p.strip_prefix("defaults."), p.strip_prefix("rules[].")) {
            (Some(setting), _) => setting.to_string(),
            // A rule's own keys (which repositories and accounts it applies to) are not settings.
            (_, Some(setting)) if !["match", "accounts", "organizational_units"].contains(&setting) => {
                setting.to_string()
            }
            _ => p,
        })
        .collect();
    let page = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/baseline-reference.md"))
        .expect("the reference");
    let documented: BTreeSet<String> =
        page.lines().filter_map(|l| l.strip_prefix("| `")?.split('`').next().map(str::to_string)).collect();
    let missing: Vec<_> = in_schema.difference(&documented).collect();
    let unknown: Vec<_> = documented.difference(&in_schema).collect();
    assert!(
        missing.is_empty() && unknown.is_empty(),
        "not in the reference: {missing:?}; not in the schema: {unknown:?}"
    );
}
