//! What `plan` and `apply` show on standard error while they govern: on a terminal, a bar with the counts so
//! far and an ETA; otherwise (a pipe, a CI log, or `--output json`) one plain line at every tenth of the way.

use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use warden_runtime::backfill::Progress;
use warden_runtime::core::report::{Outcome, RepositoryReport, Status};

/// How progress is shown.
pub(crate) enum Shown {
    /// A bar redrawn in place.
    Bar(ProgressBar),
    /// Plain lines.
    Lines,
}

/// The progress of one `plan` or `apply`.
pub(crate) struct Watch {
    shown: Shown,
    started: Instant,
    state: Mutex<Tally>,
}

/// The counts so far.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Tally {
    total: usize,
    done: usize,
    compliant: usize,
    changed: usize,
    findings: usize,
    errors: usize,
}

impl Watch {
    /// A bar when standard error is a terminal and `lines_only` is false, else plain lines.
    pub(crate) fn new(lines_only: bool) -> Self {
        let shown = match !lines_only && std::io::stderr().is_terminal() {
            true => Shown::Bar(bar()),
            false => Shown::Lines,
        };
        Self { shown, started: Instant::now(), state: Mutex::default() }
    }

    /// Takes the bar off the screen (the report follows).
    pub(crate) fn finish(&self) {
        if let Shown::Bar(bar) = &self.shown {
            bar.finish_and_clear();
        }
    }
}

fn bar() -> ProgressBar {
    let style = ProgressStyle::with_template("{bar:30} {pos}/{len} repositories  {msg}  ETA {eta}")
        .unwrap_or_else(|_| ProgressStyle::default_bar());
    let bar = ProgressBar::new(0).with_style(style.progress_chars("=> "));
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

impl Progress for Watch {
    fn started(&self, repositories: usize) {
        let Ok(mut tally) = self.state.lock() else { return };
        tally.total = repositories;
        match &self.shown {
            Shown::Bar(bar) => bar.set_length(repositories as u64),
            Shown::Lines => eprintln!("governing {repositories} repositories"),
        }
    }

    fn governed(&self, report: &RepositoryReport) {
        let Ok(mut tally) = self.state.lock() else { return };
        tally.count(report);
        match &self.shown {
            Shown::Bar(bar) => {
                bar.set_message(tally.counts());
                bar.inc(1);
            }
            Shown::Lines if tally.crossed_a_tenth() => eprintln!("{}", tally.line(self.started.elapsed())),
            Shown::Lines => {}
        }
    }
}

impl Tally {
    fn count(&mut self, report: &RepositoryReport) {
        self.done += 1;
        let has = |status: Status| report.controls.iter().any(|c| c.status == status);
        if report.outcome == Outcome::Error || has(Status::Error) {
            self.errors += 1;
        } else if has(Status::Violation) || has(Status::Drift) {
            self.findings += 1;
        } else if has(Status::Fixed) || has(Status::Pending) {
            self.changed += 1;
        } else {
            self.compliant += 1;
        }
    }

    /// Whether the repository just counted took the run past another tenth of the total (or to the end).
    fn crossed_a_tenth(&self) -> bool {
        self.total > 0 && (self.done * 10 / self.total > (self.done - 1) * 10 / self.total)
    }

    /// The non-zero counts, e.g. `12 compliant · 3 changed · 1 with findings`.
    fn counts(&self) -> String {
        let counts = [
            (self.compliant, "compliant"),
            (self.changed, "changed"),
            (self.findings, "with findings"),
            (self.errors, "failed"),
        ];
        let shown: Vec<String> = counts.iter().filter(|(n, _)| *n > 0).map(|(n, what)| format!("{n} {what}")).collect();
        shown.join(" · ")
    }

    /// A plain progress line, e.g. `[ 40%] 8/20 repositories · 8 compliant · ETA 3s`.
    fn line(&self, elapsed: Duration) -> String {
        let percent = self.done * 100 / self.total.max(1);
        let time = match self.done < self.total {
            true => format!("ETA {}", human(elapsed.mul_f64((self.total - self.done) as f64 / self.done as f64))),
            false => format!("done in {}", human(elapsed)),
        };
        format!("[{percent:>3}%] {}/{} repositories · {} · {time}", self.done, self.total, self.counts())
    }
}

/// `4s`, `2m05s`, `1h02m`.
fn human(duration: Duration) -> String {
    let seconds = duration.as_secs();
    match seconds {
        0..60 => format!("{seconds}s"),
        60..3600 => format!("{}m{:02}s", seconds / 60, seconds % 60),
        _ => format!("{}h{:02}m", seconds / 3600, seconds % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use warden_runtime::core::controls::ControlId;
    use warden_runtime::core::report::ControlReport;

    use super::*;

    fn report(statuses: &[Status]) -> RepositoryReport {
        let mut report = RepositoryReport::without_controls("r", Outcome::Governed, "");
        report.reason = None;
        report.controls = statuses.iter().map(|status| ControlReport::new(ControlId::Tags, *status)).collect();
        report
    }

    #[test]
    fn a_line_at_every_tenth_with_counts_and_eta() {
        let mut tally = Tally { total: 20, ..Tally::default() };
        let mut lines = Vec::new();
        for index in 0..20 {
            let statuses = match index % 4 {
                0 => vec![Status::Compliant, Status::Fixed],
                1 => vec![Status::Violation],
                _ => vec![Status::Compliant],
            };
            tally.count(&report(&statuses));
            if tally.crossed_a_tenth() {
                lines.push(tally.line(Duration::from_secs(tally.done as u64)));
            }
        }
        assert_eq!(lines.len(), 10, "{lines:#?}");
        assert_eq!(lines[0], "[ 10%] 2/20 repositories · 1 changed · 1 with findings · ETA 18s");
        assert_eq!(lines[9], "[100%] 20/20 repositories · 10 compliant · 5 changed · 5 with findings · done in 20s");
    }

    #[test]
    fn errors_count_before_anything_else() {
        let mut tally = Tally { total: 3, ..Tally::default() };
        tally.count(&report(&[Status::Violation, Status::Error]));
        tally.count(&RepositoryReport::without_controls("gone", Outcome::Error, "AccessDenied"));
        tally.count(&report(&[Status::Pending]));
        assert_eq!((tally.errors, tally.changed, tally.findings), (2, 1, 0));
        assert_eq!(tally.counts(), "1 changed · 2 failed");
    }

    #[test]
    fn durations_read_like_a_person_wrote_them() {
        assert_eq!(human(Duration::from_secs(4)), "4s");
        assert_eq!(human(Duration::from_secs(125)), "2m05s");
        assert_eq!(human(Duration::from_secs(3720)), "1h02m");
    }
}
