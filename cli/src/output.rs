//! The table output: one row per repository, one column per control, then what is wrong and what was
//! (or would be) done about it, then the totals. Statuses are coloured; [`print_colored`] keeps the colours
//! only on a terminal and without `NO_COLOR`.

use std::fmt::Write;

use anstyle::{AnsiColor, Style};
use clap::ValueEnum;

use warden_runtime::core::baseline::ExemptionState;
use warden_runtime::core::controls::{Explanation, ALL};
use warden_runtime::core::pace::PaceReport;
use warden_runtime::core::report::{Outcome, RegistryReport, Report, RepositoryReport, Status, Summary};
use warden_runtime::core::vulnerabilities::deadlines::VulnerabilityReview;
use warden_runtime::handle::Handled;

/// How results are printed.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// A table for people.
    Table,
    /// Stable JSON for machines.
    Json,
}

/// A report as a table: the registry section (when the run covered the registry), then the repositories.
pub(crate) fn report_table(report: &Report) -> String {
    let mut out = String::new();
    if !report.registry.is_empty() {
        out.push_str("REGISTRY\n");
        for control in &report.registry {
            for line in registry_lines(control) {
                let _ = writeln!(out, "{line}");
            }
        }
        out.push('\n');
    }
    let name_width = report.repositories.iter().map(|r| r.repository.len()).max().unwrap_or(0).max("REPOSITORY".len());
    let bold = Style::new().bold();
    let _ = write!(out, "{bold}{:<name_width$}", "REPOSITORY");
    for control in ALL {
        let _ = write!(out, "  {:<17}", control.id().as_str());
    }
    let _ = writeln!(out, "{bold:#}");
    for repository in &report.repositories {
        let _ = write!(out, "{:<name_width$}", repository.repository);
        for control in ALL {
            let cell = match repository.outcome {
                Outcome::Governed => repository.status(control.id()).map_or("-", Status::as_str),
                Outcome::Exempt => "exempt",
                Outcome::Gone => "gone",
                Outcome::Error => "error",
            };
            let style = style_of(cell);
            let _ = write!(out, "  {style}{cell:<17}{style:#}");
        }
        out.push('\n');
    }
    let details: Vec<String> = report.repositories.iter().flat_map(details).collect();
    if !details.is_empty() {
        out.push('\n');
        for line in details {
            let _ = writeln!(out, "{line}");
        }
    }
    let _ = writeln!(
        out,
        "\n{}; {}",
        summary_counts(&report.summary),
        if report.dry_run { "plan only, nothing changed" } else { "changes applied" }
    );
    if let Some(line) = report.pace.as_ref().and_then(pace_line) {
        let _ = writeln!(out, "{line}");
    }
    out
}

/// `pace: 5 repositories at once at the end (8 at the start, 12 at most; maximum 32); 14 calls throttled, halved 3
/// times`, when the pace moved or met throttling.
fn pace_line(pace: &PaceReport) -> Option<String> {
    if pace.throttled_calls == 0 && pace.reached == pace.started_at {
        return None;
    }
    let mut line = format!(
        "pace: {} repositories at once at the end ({} at the start, {} at most; maximum {})",
        pace.ended_at, pace.started_at, pace.reached, pace.maximum
    );
    if pace.throttled_calls > 0 {
        let _ = write!(line, "; {} calls throttled", pace.throttled_calls);
    }
    if pace.cuts > 0 {
        let _ = write!(line, ", halved {} times", pace.cuts);
    }
    Some(line)
}

/// `3 repositories (2 compliant, 1 fixed)`.
pub(crate) fn summary_counts(summary: &Summary) -> String {
    let counts: Vec<String> = summary.outcomes.iter().map(|(o, n)| format!("{n} {}", outcome_name(*o))).collect();
    let noun = if summary.repositories == 1 { "repository" } else { "repositories" };
    let mut line = match counts.is_empty() {
        true => format!("{} {noun}", summary.repositories),
        false => format!("{} {noun} ({})", summary.repositories, counts.join(", ")),
    };
    let unlisted = summary.unlisted_exemptions();
    if unlisted > 0 {
        let _ = write!(line, "; {unlisted} exempt by a tag the baseline doesn't list");
    }
    if let Some(expired) = summary.exemptions.get(&ExemptionState::Expired) {
        let _ = write!(line, "; {expired} governed again as their exemption expired");
    }
    if summary.overdue_findings > 0 {
        let _ = write!(line, "; {} vulnerability findings past their deadline", summary.overdue_findings);
    }
    if summary.unmonitored_images > 0 {
        let _ = write!(line, "; {} images no longer rescanned", summary.unmonitored_images);
    }
    line
}

/// Prints `text` on standard output, without its colours when that isn't a terminal or `NO_COLOR` is set.
/// Control characters other than line breaks, tabs and the colours themselves are escaped: names and
/// reasons quoted from events can't move the cursor or clear the screen.
pub(crate) fn print_colored(text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut stdout = anstream::stdout();
    stdout.write_all(without_stray_controls(text).as_bytes())?;
    stdout.flush()
}

/// `text` with every control character escaped but `\n`, `\t` and colour sequences (`ESC [ digits ; m`).
fn without_stray_controls(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        let colour = rest.strip_prefix("\u{1b}[").and_then(|after| {
            let end = after.find(|c: char| !(c.is_ascii_digit() || c == ';'))?;
            after[end..].starts_with('m').then_some(2 + end + 1)
        });
        let taken = match colour {
            Some(length) => {
                out.push_str(&rest[..length]);
                length
            }
            None if c.is_control() && c != '\n' && c != '\t' => {
                out.extend(c.escape_debug());
                c.len_utf8()
            }
            None => {
                out.push(c);
                c.len_utf8()
            }
        };
        rest = &rest[taken..];
    }
    out
}

/// The colour of a status cell: green holds, cyan was fixed, yellow would change, red needs a person.
fn style_of(cell: &str) -> Style {
    let color = match cell {
        "compliant" => AnsiColor::Green,
        "fixed" => AnsiColor::Cyan,
        "pending" | "drift" => AnsiColor::Yellow,
        "violation" | "error" => AnsiColor::Red,
        _ => return Style::new().dimmed(),
    };
    color.on_default()
}

/// The lines for one registry-level control: its status, then what is wrong and what was (or would be) done.
fn registry_lines(report: &RegistryReport) -> Vec<String> {
    let mut lines = vec![format!("{}: {}", report.control, report.status.as_str())];
    if let Some(finding) = &report.finding {
        lines.push(format!("    finding: {finding}"));
    }
    let verb = match report.status {
        Status::Fixed => "did",
        Status::Error => "tried",
        _ => "would",
    };
    lines.extend(report.changes.iter().map(|change| format!("    {verb}: {change}")));
    lines.extend(report.removed.iter().map(|statement| format!("    taken out: {statement}")));
    if let Some(remedy) = &report.remedy {
        lines.push(format!("    remedy: {remedy}"));
    }
    if let Some(error) = &report.error {
        lines.push(format!("    error: {error}"));
    }
    lines
}

/// The lines explaining one repository's findings.
fn details(report: &RepositoryReport) -> Vec<String> {
    let name = &report.repository;
    if report.outcome != Outcome::Governed {
        let reason = report.reason.as_deref().unwrap_or("");
        return vec![format!("{name}: {} ({reason})", outcome_name(report.outcome))];
    }
    let mut lines: Vec<String> = report.reason.iter().map(|reason| format!("{name}: {reason}")).collect();
    if let Some(review) = &report.vulnerabilities {
        lines.extend(review_lines(name, review));
    }
    for control in report.controls.iter().filter(|c| !matches!(c.status, Status::Compliant | Status::Off)) {
        let finding = control.finding.as_deref().unwrap_or("");
        lines.push(format!("{name} {}: {} - {finding}", control.control, control.status.as_str()));
        let verb = match control.status {
            Status::Fixed => "did",
            Status::Error => "tried",
            _ => "would",
        };
        for action in &control.actions {
            lines.push(format!("    {verb}: {}", action.describe()));
        }
        if let Some(impact) = &control.lifecycle_impact {
            lines.push(format!(
                "    impact: would expire {} of {} images once applied{}",
                impact.expiring,
                impact.images,
                if impact.transitioning > 0 { format!(", archive {}", impact.transitioning) } else { String::new() }
            ));
        }
        if let Some(remedy) = &control.remedy {
            lines.push(format!("    remedy: {remedy}"));
        }
        if let Some(error) = &control.error {
            lines.push(format!("    error: {error}"));
        }
    }
    lines
}

/// A vulnerability review, for people: each image with findings past their deadline (its worst three), the
/// images no longer rescanned, the newest scan's age, what couldn't be read.
fn review_lines(name: &str, review: &VulnerabilityReview) -> Vec<String> {
    let mut lines = Vec::new();
    for image in &review.overdue {
        let label = image.tags.first().map_or_else(|| image.digest.clone(), |tag| format!("{name}:{tag}"));
        lines.push(format!("{name} vulnerabilities: {} past their deadline in {label}", image.findings.len()));
        for finding in image.findings.iter().take(3) {
            lines.push(format!(
                "    {} {}: due by {}, {} days overdue",
                finding.severity, finding.id, finding.due, finding.days_overdue
            ));
        }
        if image.findings.len() > 3 {
            lines.push(format!("    ...and {} more", image.findings.len() - 3));
        }
    }
    if !review.unmonitored.is_empty() {
        lines.push(format!(
            "{name} vulnerabilities: {} images no longer rescanned by Inspector (SCAN_ELIGIBILITY_EXPIRED)",
            review.unmonitored.len()
        ));
    }
    if !review.overdue.is_empty() || !review.unmonitored.is_empty() {
        let newest =
            review.newest_scan_days.map_or("no scan known".to_string(), |days| format!("newest scan {days} days ago"));
        lines.push(format!("    {newest}; {} images reviewed", review.images_reviewed));
    }
    lines.extend(review.errors.iter().map(|error| format!("{name} vulnerabilities: can't read: {error}")));
    lines
}

fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Governed => "governed",
        Outcome::Exempt => "exempt",
        Outcome::Gone => "gone",
        Outcome::Error => "error",
    }
}

/// One control explained, for people.
pub(crate) fn explanation_text(explanation: &Explanation) -> String {
    let mut out = format!("{}\n\nChecks: {}\nFixes: {}\n", explanation.control, explanation.checks, explanation.fixes);
    out.push_str(&format!(
        "Baseline: [defaults.{}] (or a rule's {})\n",
        explanation.baseline_section, explanation.baseline_section
    ));
    out.push_str(&format!("IAM actions: {}\n", explanation.permissions.join(", ")));
    match (explanation.security_hub, explanation.config_rule) {
        (Some(hub), Some(rule)) => out.push_str(&format!("Security Hub: {hub} (AWS Config rule {rule})\n")),
        _ => out.push_str("Security Hub: no matching control\n"),
    }
    out
}

/// Every control, a line each, for people.
pub(crate) fn controls_list(explanations: &[Explanation]) -> String {
    let mut out = String::new();
    for explanation in explanations {
        let hub = explanation.security_hub.unwrap_or("-");
        out.push_str(&format!("{:<18} {:<6} {}\n", explanation.control.as_str(), hub, explanation.checks));
    }
    out.push_str("\n`ecr-warden explain CONTROL` says more.\n");
    out
}

/// The outcome of `handle` for people; `dry_run`: `handle --dry-run`, nothing was changed.
pub(crate) fn handled_text(handled: &Handled, dry_run: bool) -> String {
    let mut out = match handled {
        Handled::Ignored { reason } => format!("ignored: {reason}\n"),
        Handled::Backfill { report, .. } => report_table(report),
        Handled::FannedOut { report } => {
            let plan = if report.dry_run { " (workers plan only)" } else { "" };
            let mut out = format!(
                "sent {} repositories in {} messages to {}{plan}\n",
                report.repositories, report.messages, report.queue
            );
            out.extend(report.registry.iter().flat_map(registry_lines).map(|line| line + "\n"));
            for sent in &report.registries {
                let (account, region) = (&sent.account, &sent.region);
                match &sent.error {
                    Some(error) => out.push_str(&format!("  {account} {region}: error: {error}\n")),
                    None => out.push_str(&format!(
                        "  {account} {region}: {} repositories in {} messages\n",
                        sent.repositories, sent.messages
                    )),
                }
                out.extend(sent.registry.iter().flat_map(registry_lines).map(|line| format!("    {line}\n")));
            }
            out
        }
        Handled::Work(report) => {
            let mut out =
                format!("governed {} repositories from {} messages\n", report.summary.repositories, report.messages);
            if !report.failed.is_empty() {
                out.push_str(&report_table(&Report::new(dry_run, report.failed.clone())));
            }
            for refused in &report.refused {
                out.push_str(&format!("refused message {refused}\n"));
            }
            for retry in &report.batch_item_failures {
                out.push_str(&format!("to deliver again: {}\n", retry.item_identifier));
            }
            out
        }
        Handled::Repository { because, report, registry, .. } => {
            let mut out = format!("{because}: governed {}\n", report.repository);
            out.push_str(&report_table(&Report::new(dry_run, vec![report.clone()]).with_registry(registry.clone())));
            out
        }
        Handled::Registry { because, report } => {
            let mut out = format!("{because}: governed the registry\n");
            out.extend(registry_lines(report).into_iter().map(|line| line + "\n"));
            out
        }
        Handled::Image { report, .. } => {
            let tag = report.image.tags.first().map_or("(untagged)", String::as_str);
            let mut out = format!("push of {}:{tag} ({})\n", report.governance.repository, report.image.digest);
            out.push_str(&report_table(&Report::new(dry_run, vec![report.governance.clone()])));
            for finding in &report.tag_findings {
                out.push_str(&format!("tag rule: {finding}\n"));
            }
            out.push_str(&format!("scan: {}\n", serde_json::to_value(&report.scan).unwrap_or_default()));
            out
        }
        Handled::Scan { report, .. } => {
            let mut out = format!("scan of {}@{}\n", report.repository, report.image.digest);
            if let Some(reason) = &report.no_alert {
                out.push_str(&format!("no alert: {reason}\n"));
            }
            out
        }
    };
    for delivery in handled.alerts() {
        let alert = &delivery.alert;
        let sent = if delivery.dry_run {
            "not sent (dry run)".to_string()
        } else if delivery.sent_to.is_empty() && delivery.failed.is_empty() {
            "no sink configured".to_string()
        } else {
            format!("sent to {}", delivery.sent_to.join(", "))
        };
        out.push_str(&format!("\nalert {} ({sent}):\n{}", alert.id, alert.body()));
        for failure in &delivery.failed {
            out.push_str(&format!("FAILED {}: {}\n", failure.sink, failure.error));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_stay_and_other_control_characters_are_escaped() {
        let green = "\u{1b}[32mcompliant\u{1b}[0m";
        assert_eq!(without_stray_controls(green), green);
        assert_eq!(without_stray_controls("a\u{1b}]0;title\u{7}b\r\n"), "a\\u{1b}]0;title\\u{7}b\\r\n");
        assert_eq!(without_stray_controls("x\u{1b}[2Jy"), "x\\u{1b}[2Jy", "a screen clear is not a colour");
    }

    #[test]
    fn the_pace_is_printed_when_it_moved_or_met_throttling() {
        use warden_runtime::core::pace::PaceMode;
        let still = PaceReport {
            mode: PaceMode::Adaptive,
            maximum: 32,
            started_at: 8,
            reached: 8,
            ended_at: 8,
            ..Default::default()
        };
        assert_eq!(pace_line(&still), None);
        let grown = PaceReport { reached: 12, ended_at: 12, ..still };
        assert_eq!(
            pace_line(&grown).as_deref(),
            Some("pace: 12 repositories at once at the end (8 at the start, 12 at most; maximum 32)")
        );
        let cut = PaceReport { reached: 9, ended_at: 2, throttled_calls: 14, cuts: 3, ..still };
        assert_eq!(
            pace_line(&cut).as_deref(),
            Some("pace: 2 repositories at once at the end (8 at the start, 9 at most; maximum 32); 14 calls throttled, halved 3 times")
        );
    }
}
