//! `plan` and `apply` as a person sees them: progress while they run and a coloured table on a terminal (a
//! pseudo-terminal from `script`), plain progress lines and no colour codes in a pipe or with `NO_COLOR`.

use std::process::Command;

use integration_tests::{ecr_warden_binary, Moto};

const REPOSITORIES: usize = 20;
/// Green, as the table colours a compliant control.
const GREEN: &str = "\u{1b}[32m";

async fn registry() -> Moto {
    let moto = Moto::start();
    let ecr = moto.ecr().await;
    for index in 0..REPOSITORIES {
        ecr.create_repository().repository_name(format!("svc-{index:02}")).send().await.expect("create");
    }
    moto
}

/// Runs `ecr-warden args` on a pseudo-terminal; what the terminal showed (standard output and error).
fn on_a_terminal(moto: &Moto, args: &str, env: &[(&str, &str)]) -> String {
    let command = format!("{} {args}", ecr_warden_binary().display());
    let mut script = Command::new("script");
    script.args(["--quiet", "--return", "--command", &command, "/dev/null"]).env_clear();
    script.env("PATH", std::env::var("PATH").unwrap_or_default()).env("TERM", "xterm");
    for (key, value) in moto.aws_env().into_iter().chain(env.iter().map(|(k, v)| (*k, v.to_string()))) {
        script.env(key, value);
    }
    let output = script.output().expect("run script (util-linux)");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[tokio::test]
async fn off_a_terminal_progress_is_plain_lines_and_the_table_has_no_colour() {
    let moto = registry().await;
    let plan = moto.ecr_warden(&["plan"]);
    assert_eq!(plan.code(), 2, "{plan:?}");
    let stderr = plan.stderr();
    let progress: Vec<&str> = stderr.lines().filter(|l| l.starts_with('[')).collect();
    assert!(stderr.starts_with("governing 20 repositories\n"), "{stderr}");
    assert_eq!(progress.len(), 10, "a line at each tenth: {stderr}");
    assert!(progress[0].starts_with("[ 10%] 2/20 repositories · 2 with findings · ETA "), "{stderr}");
    assert!(progress[9].starts_with("[100%] 20/20 repositories · 20 with findings · done in "), "{stderr}");
    assert!(!plan.stdout().contains('\u{1b}'), "no escape codes in a pipe: {}", plan.stdout());
    assert!(plan.stdout().contains("svc-19"), "{}", plan.stdout());

    let json = moto.ecr_warden(&["plan", "--output", "json"]);
    assert_eq!(json.json()["summary"]["repositories"], REPOSITORIES, "standard output stays one JSON document");
    assert!(json.stderr().contains("[100%] 20/20 repositories"), "{}", json.stderr());
}

#[tokio::test]
async fn on_a_terminal_a_bar_runs_and_statuses_are_coloured_unless_no_color() {
    let moto = registry().await;
    let applied = on_a_terminal(&moto, "apply", &[]);
    assert!(applied.contains("repositories") && applied.contains("ETA"), "the bar was drawn: {applied:?}");
    assert!(!applied.contains("[100%]"), "no plain lines on a terminal: {applied:?}");

    let coloured = on_a_terminal(&moto, "plan", &[]);
    assert!(coloured.contains(&format!("{GREEN}compliant")), "{coloured:?}");
    let plain = on_a_terminal(&moto, "plan", &[("NO_COLOR", "1")]);
    assert!(plain.contains("compliant"), "{plain:?}");
    assert!(!plain.contains(GREEN), "NO_COLOR is respected: {plain:?}");
}
