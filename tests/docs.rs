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
