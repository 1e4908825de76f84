//! Working through many repositories of one registry at the pace a [`Pace`] allows. Whenever a call is
//! throttled, and whenever a piece of work finishes, the driver tells the pace every piece's new throttled calls,
//! not only the finished one's: a throttled piece waits out the SDK's back-off, and the pieces started meanwhile
//! should start at the slower pace. A piece waiting out a back-off, or pausing on purpose (before reading back a
//! registry-level write), makes no call, so it doesn't hold a place: another piece may start at once.

use std::future::Future;
use std::sync::Arc;

use futures::stream::{FuturesUnordered, StreamExt};
use tokio::sync::Notify;
use warden_aws::api_calls::WorkCalls;
use warden_core::pace::{Pace, Ticket};

/// A piece in flight: its ticket, what its calls met, and how many of its throttled calls the pace was told.
struct Running {
    ticket: Ticket,
    calls: Arc<WorkCalls>,
    told: u64,
}

impl Running {
    /// Tells `pace` the throttled calls met since it was last told; whether the piece met any at all.
    fn tell(&mut self, pace: &mut Pace) -> bool {
        let met = self.calls.throttled();
        if met > self.told {
            pace.throttled(self.ticket, met - self.told);
            self.told = met;
        }
        met > 0
    }
}

/// Runs `work` on every item, as many at once as `pace` allows at each moment, and returns the outputs in the
/// order they finished; `finished` sees each output as it comes (progress). `work` gets a [`WorkCalls`] for the
/// piece to have its calls followed ([`warden_aws::api_calls::following_calls`]).
pub async fn paced<I, T, W, F>(items: I, pace: &mut Pace, mut work: W, mut finished: impl FnMut(&T)) -> Vec<T>
where
    I: IntoIterator,
    W: FnMut(I::Item, Arc<WorkCalls>) -> F,
    F: Future<Output = T>,
{
    let mut waiting = items.into_iter();
    let mut running: Vec<Running> = Vec::new();
    let mut pieces = FuturesUnordered::new();
    let mut outputs = Vec::new();
    // Told when a piece's call is throttled or a piece pauses.
    let wake = Arc::new(Notify::new());
    loop {
        while pace.has_room_besides(running.iter().filter(|r| r.calls.waiting()).count()) {
            let Some(item) = waiting.next() else { break };
            let ticket = pace.start();
            let calls = Arc::new(WorkCalls::waking(Arc::clone(&wake)));
            let piece = work(item, Arc::clone(&calls));
            running.push(Running { ticket, calls, told: 0 });
            pieces.push(async move { (ticket, piece.await) });
        }
        let allowed = pace.allowed();
        tokio::select! {
            biased;
            next = pieces.next() => {
                let Some((ticket, output)) = next else { break };
                tell_every(&mut running, pace);
                if let Some(index) = running.iter().position(|r| r.ticket == ticket) {
                    let mut done = running.swap_remove(index);
                    let met_any = done.tell(pace);
                    pace.finished(ticket, met_any);
                }
                finished(&output);
                outputs.push(output);
            }
            // A call was throttled, or a piece paused: the pace hears of a throttle now, and the waiting piece may
            // leave its place to another (else a pace of one would leave the registry idle until it goes on).
            () = wake.notified() => tell_every(&mut running, pace),
        }
        if pace.allowed() != allowed {
            tracing::debug!(from = allowed, to = pace.allowed(), "repositories allowed at once");
        }
    }
    outputs
}

/// Tells `pace` the throttled calls every running piece met since it was last told (which piece is told first
/// doesn't matter: one cut is made for them all).
fn tell_every(running: &mut [Running], pace: &mut Pace) {
    for piece in running {
        piece.tell(pace);
    }
}

#[cfg(test)]
mod tests {
    use std::ops::Range;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use warden_aws::api_calls::{following_calls, pause};
    use warden_core::pace::PROBE_ROUNDS;

    use super::*;

    /// A call of the piece is sent and throttled: the piece waits out a back-off.
    fn throttle(calls: &WorkCalls) {
        calls.attempt_started(false);
        calls.attempt_answered(true);
    }

    /// The throttled call's retry is sent and answered.
    fn retry(calls: &WorkCalls) {
        calls.attempt_started(true);
        calls.attempt_answered(false);
    }

    /// Pieces that yield a few times (so others run beside them), noting how many run at once; the pieces in
    /// `throttled` meet one throttled call.
    async fn run(pace: &mut Pace, items: usize, throttled: &[usize]) -> (Vec<usize>, usize) {
        let (now, most) = (AtomicUsize::new(0), AtomicUsize::new(0));
        let outputs = paced(
            0..items,
            pace,
            |item, calls: Arc<WorkCalls>| {
                let (now, most) = (&now, &most);
                let throttled = throttled.contains(&item);
                async move {
                    most.fetch_max(now.fetch_add(1, Ordering::SeqCst) + 1, Ordering::SeqCst);
                    for _ in 0..3 {
                        tokio::task::yield_now().await;
                    }
                    if throttled {
                        throttle(&calls);
                        retry(&calls);
                    }
                    now.fetch_sub(1, Ordering::SeqCst);
                    item
                }
            },
            |_| {},
        )
        .await;
        (outputs, most.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn every_item_is_worked_on_once_and_no_more_run_than_the_pace_allows() {
        let mut pace = Pace::fixed(5);
        let (mut outputs, most) = run(&mut pace, 40, &[]).await;
        outputs.sort_unstable();
        assert_eq!(outputs, (0..40).collect::<Vec<_>>());
        assert_eq!(most, 5);
    }

    #[tokio::test]
    async fn throttled_pieces_slow_the_run_down_and_are_counted() {
        let mut pace = Pace::adaptive(32);
        let (outputs, most) = run(&mut pace, 60, &[0, 1, 2, 20, 40]).await;
        assert_eq!(outputs.len(), 60);
        assert_eq!(most, 8, "it starts at 8");
        let report = pace.report();
        assert_eq!(report.throttled_calls, 5);
        assert!(report.cuts >= 2 && report.ended_at < 8, "{report:?}");
    }

    /// Piece 0 meets a throttled call at once, then waits out its "back-off" until every other piece finished;
    /// the others yield 1 to 5 times (so they finish one after another). Returns the outputs and the most other
    /// pieces running at once when one of the `watched` pieces started (a timeout guards the run: if piece 0
    /// held the last place, nothing would).
    async fn throttled_first(pace: &mut Pace, items: usize, watched: Range<usize>) -> (Vec<usize>, usize) {
        let release = tokio::sync::Notify::new();
        let (finished, now, most) = (AtomicUsize::new(0), AtomicUsize::new(0), AtomicUsize::new(0));
        let run = paced(
            0..items,
            pace,
            |item, calls: Arc<WorkCalls>| {
                let (release, finished, now, most, watched) = (&release, &finished, &now, &most, &watched);
                async move {
                    if item == 0 {
                        throttle(&calls);
                        release.notified().await;
                        retry(&calls);
                        return item;
                    }
                    let running = now.fetch_add(1, Ordering::SeqCst) + 1;
                    if watched.contains(&item) {
                        most.fetch_max(running, Ordering::SeqCst);
                    }
                    for _ in 0..=item % 5 {
                        tokio::task::yield_now().await;
                    }
                    now.fetch_sub(1, Ordering::SeqCst);
                    if finished.fetch_add(1, Ordering::SeqCst) + 1 == items - 1 {
                        release.notify_one();
                    }
                    item
                }
            },
            |_| {},
        );
        let outputs = tokio::time::timeout(Duration::from_secs(10), run).await.expect("the others ran");
        (outputs, most.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn a_throttle_is_told_before_the_throttled_piece_finishes() {
        // The pace is cut as soon as piece 0's call is throttled, so the next pieces start at the slower pace (the
        // first 4 of them before any could grow it again).
        let mut pace = Pace::adaptive(8);
        let (outputs, most_later) = throttled_first(&mut pace, 20, 8..12).await;
        assert_eq!(outputs.last(), Some(&0), "the throttled piece finished last");
        assert_eq!((pace.report().cuts, pace.report().throttled_calls), (1, 1));
        assert!(most_later <= 4, "the first pieces started after the cut ran at most 4 at once, not 8: {most_later}");
    }

    #[tokio::test]
    async fn a_piece_waiting_out_a_back_off_does_not_hold_a_place() {
        // At most 2, cut to 1 when piece 0 is throttled; the others still run, one at a time (as many as the rounds
        // the step back up to 2 waits, so none runs beside another).
        let mut pace = Pace::adaptive(2);
        let items = PROBE_ROUNDS + 1;
        let (outputs, most) = throttled_first(&mut pace, items, 1..items).await;
        assert_eq!(outputs.len(), items);
        assert_eq!(most, 1, "one at a time beside the waiting piece");
    }

    /// Two pieces at a pace of one: piece 0 runs `first`, which waits (a back-off, a pause) until the `Notify` it
    /// is given says piece 1 started, so piece 1 must start while piece 0 waits (were it started only when a piece
    /// finished, nothing would run: a timeout guards the run). Returns the outputs in the order they finished.
    async fn second_starts_while_first_waits<F, W>(pace: &mut Pace, first: F) -> Vec<usize>
    where
        F: Fn(Arc<WorkCalls>, Arc<Notify>) -> W,
        W: Future<Output = ()>,
    {
        let second_started = Arc::new(Notify::new());
        let run = paced(
            0..2,
            pace,
            |item, calls: Arc<WorkCalls>| {
                let second_started = Arc::clone(&second_started);
                let waits = (item == 0).then(|| first(Arc::clone(&calls), Arc::clone(&second_started)));
                following_calls(calls, async move {
                    match waits {
                        Some(waits) => waits.await,
                        None => second_started.notify_one(),
                    }
                    item
                })
            },
            |_| {},
        );
        tokio::time::timeout(Duration::from_secs(10), run).await.expect("piece 1 started while piece 0 waited")
    }

    #[tokio::test]
    async fn a_throttled_call_lets_another_piece_start_before_any_piece_finishes() {
        let mut pace = Pace::adaptive(1);
        let outputs = second_starts_while_first_waits(&mut pace, |calls, second_started| async move {
            throttle(&calls);
            second_started.notified().await;
            retry(&calls);
        })
        .await;
        assert_eq!(outputs, [1, 0]);
        assert_eq!(pace.report().throttled_calls, 1);
    }

    #[tokio::test]
    async fn a_paused_piece_lets_another_start_in_its_place() {
        // As before reading back a registry-level write: the pause makes no call.
        let outputs = second_starts_while_first_waits(&mut Pace::adaptive(1), |_, second_started| async move {
            tokio::select! {
                () = pause(Duration::from_secs(3_600)) => {}
                () = second_started.notified() => {}
            }
        })
        .await;
        assert_eq!(outputs, [1, 0]);
    }

    #[tokio::test]
    async fn an_empty_list_is_no_work() {
        let (outputs, most) = run(&mut Pace::adaptive(8), 0, &[]).await;
        assert!(outputs.is_empty() && most == 0);
    }
}
