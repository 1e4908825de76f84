//! The README's examples work: every TOML baseline in it validates, and `baseline default` prints a
//! baseline that validates too.

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
