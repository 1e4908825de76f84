//! How many repositories are worked on at once against one registry (one account and region).
//!
//! AWS doesn't publish the request rates of ECR's control plane, and they differ by account and region, so an
//! adaptive [`Pace`] finds the registry's pace as it goes, as TCP finds a network's:
//!
//! - it starts at [`START`] repositories in flight;
//! - each round of repositories finished without a throttled call adds one (*additive increase*);
//! - a throttled call halves the number (*multiplicative decrease*) as soon as the run sees it (when any
//!   repository finishes), not only when its own repository finishes (that one is waiting out the SDK's
//!   back-off), and the number it was cut from is remembered as the registry's ceiling, if that pace held: a
//!   cut that comes before any repository started since the last cut finished unthrottled is the same
//!   congestion still draining (the registry's bucket is still empty), and says nothing new about its rate;
//! - every step up to that ceiling and past it waits [`PROBE_ROUNDS`] rounds: the registry just said that pace
//!   was too much, and asking again soon costs throttled calls. AWS documents the API limits of EC2 and ECS as
//!   token buckets, a sustained rate with a burst after a quiet moment ("Request throttling for the Amazon EC2
//!   API", "Request throttling for the Amazon ECS API"; ECR publishes none), so a pace that holds for one round
//!   above the registry's rate proves little; a later cut sets the ceiling again, higher or lower.
//!
//! A repository waiting out the SDK's back-off after a throttled call, or pausing before it reads back a
//! registry-level write, makes no call meanwhile, so it doesn't hold a place ([`Pace::has_room_besides`]):
//! otherwise a pace cut to one would leave the registry idle until the retry. Never above the maximum the user
//! set, never below one. A cut is made once per round: throttles met by repositories started before the last cut
//! don't cut again (they reflect the old pace), and only repositories started since, finished without
//! throttling, count toward growth. The SDK's retry still retries each throttled call with back-off; the pace
//! keeps the next calls from causing more.

use serde::{Deserialize, Serialize};

/// Repositories in flight at the start of an adaptive run.
pub const START: usize = 8;

/// Rounds without throttling before each step up to, or past, where the pace was last cut from. Measured against
/// 4, 5, 6 and 10 behind a throttling proxy (docs/benchmarks.md, "The pace"): fewer probe the registry's rate more
/// often, each probe costing throttled calls; more leave a registry cut to one repository idle long enough for its
/// token bucket to overflow, where one repository's calls fall well short of the rate.
pub const PROBE_ROUNDS: usize = 8;

/// Whether the pace adapts to the registry or stays where the user set it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PaceMode {
    /// Grow while calls succeed, halve on throttling, up to the maximum.
    #[default]
    Adaptive,
    /// Always the maximum.
    Fixed,
}

/// A ticket for one repository's work: when it was started relative to the pace's cuts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ticket(u64);

/// The pace of one run against one registry. Pure bookkeeping: the caller starts work while
/// [`Pace::has_room`] says so, tells [`Pace::throttled`] each piece's throttled calls as it learns of them and
/// [`Pace::finished`] when a piece ends.
#[derive(Debug, Clone, PartialEq)]
pub struct Pace {
    mode: PaceMode,
    maximum: usize,
    /// Repositories allowed in flight.
    limit: usize,
    /// Repositories finished without throttling at this limit: at `limit` of them, the limit grows by one.
    unthrottled: usize,
    /// The limit the last cut was made from (`None` before the first cut).
    ceiling: Option<usize>,
    /// Whether a repository started since the last cut finished without throttling.
    held: bool,
    in_flight: usize,
    started: u64,
    /// Work started before this ticket can't cut the pace again, nor grow it.
    current_from: u64,
    /// What the pace did so far (`ended_at` aside: the limit is it).
    report: PaceReport,
}

/// What a run's pace did, for the report: where it started and ended, the most repositories it had in flight,
/// and the throttled calls it met.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaceReport {
    /// Adaptive or fixed.
    pub mode: PaceMode,
    /// The most repositories allowed in flight (`--concurrency`).
    pub maximum: usize,
    /// Repositories allowed in flight at the start.
    pub started_at: usize,
    /// The most repositories allowed in flight at any moment.
    pub reached: usize,
    /// Repositories allowed in flight at the end.
    pub ended_at: usize,
    /// Calls the registry throttled (each retried by the SDK with back-off).
    pub throttled_calls: u64,
    /// How many times the pace was halved.
    pub cuts: u64,
}

impl Pace {
    /// An adaptive pace starting at [`START`] (or `maximum`, if lower), never above `maximum` (at least 1).
    pub fn adaptive(maximum: usize) -> Self {
        Self::new(PaceMode::Adaptive, maximum, START.min(maximum.max(1)))
    }

    /// A fixed pace of `concurrency` (at least 1) repositories in flight.
    pub fn fixed(concurrency: usize) -> Self {
        Self::new(PaceMode::Fixed, concurrency, concurrency.max(1))
    }

    /// A pace of `mode` with at most `maximum` repositories in flight.
    pub fn of(mode: PaceMode, maximum: usize) -> Self {
        match mode {
            PaceMode::Adaptive => Self::adaptive(maximum),
            PaceMode::Fixed => Self::fixed(maximum),
        }
    }

    fn new(mode: PaceMode, maximum: usize, start: usize) -> Self {
        let maximum = maximum.max(1);
        // `ended_at` is the limit, filled in by `report`.
        let report = PaceReport { mode, maximum, started_at: start, reached: start, ..Default::default() };
        Self {
            mode,
            maximum,
            limit: start,
            unthrottled: 0,
            ceiling: None,
            held: false,
            in_flight: 0,
            started: 0,
            current_from: 0,
            report,
        }
    }

    /// Repositories allowed in flight now.
    pub fn allowed(&self) -> usize {
        self.limit
    }

    /// Whether one more repository may start now.
    pub fn has_room(&self) -> bool {
        self.has_room_besides(0)
    }

    /// Whether one more repository may start now, `waiting` of those in flight making no call (waiting out a
    /// back-off after a throttled call, or pausing): in an adaptive pace they don't hold a place (a fixed pace is the
    /// repositories in flight, whatever they do).
    pub fn has_room_besides(&self, waiting: usize) -> bool {
        let holding = match self.mode {
            PaceMode::Adaptive => self.in_flight.saturating_sub(waiting),
            PaceMode::Fixed => self.in_flight,
        };
        holding < self.allowed()
    }

    /// One more repository started.
    pub fn start(&mut self) -> Ticket {
        self.in_flight += 1;
        self.started += 1;
        Ticket(self.started - 1)
    }

    /// The repository `ticket` met `calls` more throttled calls (it may still be running): the pace is halved,
    /// unless the piece started before the last cut.
    pub fn throttled(&mut self, ticket: Ticket, calls: u64) {
        self.report.throttled_calls += calls;
        if self.mode == PaceMode::Fixed || ticket.0 < self.current_from || calls == 0 {
            return;
        }
        if self.held || self.ceiling.is_none() {
            self.ceiling = Some(self.limit);
        }
        self.held = false;
        self.limit = (self.limit / 2).max(1);
        self.unthrottled = 0;
        self.current_from = self.started;
        self.report.cuts += 1;
    }

    /// The repository `ticket` finished; `met_throttling` if any of its calls was throttled (told to
    /// [`Pace::throttled`]). A piece started since the last cut that met none counts toward growth.
    pub fn finished(&mut self, ticket: Ticket, met_throttling: bool) {
        self.in_flight = self.in_flight.saturating_sub(1);
        if self.mode == PaceMode::Fixed || ticket.0 < self.current_from || met_throttling {
            return;
        }
        self.unthrottled += 1;
        self.held = true;
        let needed = match self.ceiling.is_some_and(|ceiling| self.limit + 1 >= ceiling) {
            true => PROBE_ROUNDS * self.limit,
            false => self.limit,
        };
        if self.unthrottled >= needed {
            self.limit = (self.limit + 1).min(self.maximum);
            self.unthrottled = 0;
        }
        self.report.reached = self.report.reached.max(self.limit);
    }

    /// What the pace did so far.
    pub fn report(&self) -> PaceReport {
        PaceReport { ended_at: self.limit, ..self.report }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One round: starts as many repositories as the pace allows, then finishes them in order, the ones at the
    /// positions in `throttled_at` having met one throttled call. Returns how many it started.
    fn round(pace: &mut Pace, throttled_at: &[usize]) -> usize {
        let mut tickets = Vec::new();
        while pace.has_room() {
            tickets.push(pace.start());
        }
        let started = tickets.len();
        for (index, ticket) in tickets.into_iter().enumerate() {
            let throttled = throttled_at.contains(&index);
            if throttled {
                pace.throttled(ticket, 1);
            }
            pace.finished(ticket, throttled);
        }
        started
    }

    fn rounds(pace: &mut Pace, count: usize) -> Vec<usize> {
        (0..count).map(|_| round(pace, &[])).collect()
    }

    #[test]
    fn an_adaptive_pace_grows_by_one_a_round_while_nothing_is_throttled() {
        let mut pace = Pace::adaptive(32);
        assert_eq!(rounds(&mut pace, 5), [8, 9, 10, 11, 12]);
        assert_eq!((pace.report().reached, pace.report().throttled_calls), (13, 0));
    }

    #[test]
    fn it_never_exceeds_the_maximum_and_starts_there_when_the_maximum_is_lower() {
        assert_eq!(rounds(&mut Pace::adaptive(10), 5), [8, 9, 10, 10, 10]);
        assert_eq!(round(&mut Pace::adaptive(3), &[]), 3);
        assert_eq!(round(&mut Pace::adaptive(0), &[]), 1, "at least one");
    }

    #[test]
    fn a_throttled_round_halves_the_pace_once_however_many_were_throttled() {
        let mut pace = Pace::adaptive(32);
        assert_eq!(round(&mut pace, &[0, 3, 7]), 8);
        assert_eq!(pace.allowed(), 4, "one cut for the round, not three");
        assert_eq!((pace.report().cuts, pace.report().throttled_calls), (1, 3));
        assert_eq!(round(&mut pace, &[1]), 4);
        assert_eq!(round(&mut pace, &[0]), 2);
        assert_eq!(round(&mut pace, &[0]), 1);
        assert_eq!(round(&mut pace, &[0]), 1, "never below one");
        assert_eq!((pace.report().ended_at, pace.report().reached), (1, 8));
    }

    #[test]
    fn every_step_up_to_and_past_where_it_was_cut_waits() {
        let mut pace = Pace::adaptive(64);
        assert_eq!(round(&mut pace, &[0]), 8);
        assert_eq!(pace.allowed(), 4, "halved; 8 is the ceiling");
        assert_eq!(rounds(&mut pace, 3), [4, 5, 6], "a step a round below it");
        assert_eq!(rounds(&mut pace, PROBE_ROUNDS), vec![7; PROBE_ROUNDS], "the step up to 8 waits");
        assert_eq!(rounds(&mut pace, PROBE_ROUNDS), vec![8; PROBE_ROUNDS], "and so does the step past it");
        assert_eq!(round(&mut pace, &[]), 9);
        // A cut from 9 sets the ceiling there: below it, a step a round again.
        assert_eq!(round(&mut pace, &[0]), 9);
        assert_eq!(rounds(&mut pace, 4), [4, 5, 6, 7]);
        assert_eq!(rounds(&mut pace, PROBE_ROUNDS), vec![8; PROBE_ROUNDS]);
    }

    #[test]
    fn a_cut_before_the_pace_held_keeps_the_ceiling() {
        let mut pace = Pace::adaptive(32);
        assert_eq!(round(&mut pace, &[0]), 8);
        // 4 and then 2 are cut before any repository started at them finished unthrottled: the registry is still
        // draining 8's burst, so 8 stays the ceiling, and the steps below it take a round each.
        assert_eq!(round(&mut pace, &[0]), 4);
        assert_eq!(round(&mut pace, &[0]), 2);
        assert_eq!(pace.allowed(), 1);
        assert_eq!(rounds(&mut pace, 6), [1, 2, 3, 4, 5, 6]);
        assert_eq!(rounds(&mut pace, PROBE_ROUNDS), vec![7; PROBE_ROUNDS], "the step up to 8 waits");
        // 8 held for those rounds: a cut from it sets the ceiling again.
        assert_eq!(round(&mut pace, &[]), 8);
        assert_eq!(round(&mut pace, &[2]), 8);
        assert_eq!(rounds(&mut pace, 3), [4, 5, 6]);
        assert_eq!(rounds(&mut pace, PROBE_ROUNDS), vec![7; PROBE_ROUNDS]);
    }

    #[test]
    fn a_throttle_cuts_while_its_repository_still_runs_and_older_work_does_not_cut_again() {
        let mut pace = Pace::adaptive(32);
        let early: Vec<Ticket> = (0..8).map(|_| pace.start()).collect();
        pace.throttled(early[0], 2);
        assert_eq!(pace.allowed(), 4, "cut before the throttled repository finished");
        for ticket in &early[1..4] {
            pace.throttled(*ticket, 1);
        }
        for (index, ticket) in early.iter().enumerate() {
            pace.finished(*ticket, index < 4);
        }
        assert_eq!(pace.allowed(), 4, "the old round's throttles and successes don't count");
        assert_eq!(pace.report().throttled_calls, 5);
        let late = pace.start();
        pace.throttled(late, 1);
        assert_eq!(pace.allowed(), 2, "work started after the cut does");
        let _another = pace.start();
        assert!(!pace.has_room(), "2 in flight");
        assert!(pace.has_room_besides(1), "a repository waiting out a back-off doesn't hold a place");
    }

    #[test]
    fn a_fixed_pace_stays_put_and_still_counts_throttles() {
        let mut pace = Pace::fixed(8);
        assert_eq!(round(&mut pace, &[0, 1]), 8);
        assert_eq!(round(&mut pace, &[]), 8);
        let eight: Vec<Ticket> = (0..8).map(|_| pace.start()).collect();
        assert!(!pace.has_room_besides(3), "a fixed pace counts every repository in flight");
        for ticket in eight {
            pace.finished(ticket, false);
        }
        let report = pace.report();
        assert_eq!(
            (report.mode, report.reached, report.ended_at, report.throttled_calls, report.cuts),
            (PaceMode::Fixed, 8, 8, 2, 0)
        );
    }
}
