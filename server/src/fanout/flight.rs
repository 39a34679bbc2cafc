//! A flush's frames on their way to the sockets, and when they got there.
//!
//! Each frame a flush puts in an outbox carries a [`Ticket`] of the flush's
//! [`Flight`]. The ticket is dropped when the socket's writer has handed the frame to
//! the kernel, or when a newer frame replaced it or the socket stopped watching: either
//! way the flush is done with that socket.
//!
//! Handed to the kernel is not read by the client: between them are socket buffers, a
//! proxy and the client's own queue, which on a busy machine hold seconds of frames.
//! So a few frames of each flight also carry a [`Probe`]: the socket's writer sends a
//! ping right after the frame and drops the probe when the pong comes back, which the
//! client sends only once it has read the frame before it.
//!
//! The flight lands when nearly all its tickets and all its probes are gone. How long
//! that took is what the room's pacing follows ([`super::pace`]): every wait the frames
//! met on the way (this node's runtime, other rooms' flushes, the votes' work, the
//! proxy, the clients), the capacity of the whole path as it is now, measured rather
//! than assumed.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// One flush's frames in flight.
#[derive(Debug)]
pub(crate) struct Flight {
    /// Tickets not dropped yet.
    left: AtomicUsize,
    /// The flight lands when `left` falls to this: a few stragglers (a socket whose
    /// reader stalls, one busy writing an earlier frame) do not hold the whole room,
    /// however small: one laptop asleep in a room of thirty must not slow the others
    /// to the longest tick.
    landed_at: usize,
    /// Probes whose pong has not come back yet.
    probes: AtomicUsize,
    /// The flight lands when `probes` falls to this: half the probes taken are back,
    /// so one slow client among them does not hold the whole room.
    probes_landed_at: AtomicUsize,
    landed: Notify,
    started: Instant,
}

/// One frame's share of a flight; dropping it says the frame is done with.
#[derive(Debug)]
pub(crate) struct Ticket(Arc<Flight>);

/// A frame of the flight whose reading by the client is awaited; dropping it says the
/// client has read the frame (or never will: its socket closed).
#[derive(Debug)]
pub(crate) struct Probe(Arc<Flight>);

/// Of a flight's frames, one in this many (and at least one) may still be on their
/// way when it lands.
const STRAGGLERS: usize = 64;

/// Frames of each flight that carry a probe.
pub(crate) const PROBES: usize = 4;

impl Flight {
    /// A flight of `frames` frames, taking off now.
    pub(crate) fn new(frames: usize) -> Arc<Self> {
        Arc::new(Self {
            left: AtomicUsize::new(frames),
            landed_at: frames.div_ceil(STRAGGLERS),
            probes: AtomicUsize::new(0),
            probes_landed_at: AtomicUsize::new(0),
            landed: Notify::new(),
            started: Instant::now(),
        })
    }

    /// A ticket for one of the flight's frames; exactly `frames` are taken.
    pub(crate) fn ticket(self: &Arc<Self>) -> Ticket {
        Ticket(self.clone())
    }

    /// Tickets not dropped yet.
    #[cfg(test)]
    pub(crate) fn left(&self) -> usize {
        self.left.load(Ordering::Acquire)
    }

    /// A probe for one of the flight's frames (at most [`PROBES`] are taken).
    pub(crate) fn probe(self: &Arc<Self>) -> Probe {
        let taken = self.probes.fetch_add(1, Ordering::AcqRel) + 1;
        self.probes_landed_at.store(taken / 2, Ordering::Release);
        Probe(self.clone())
    }

    fn has_landed(&self) -> bool {
        self.left.load(Ordering::Acquire) <= self.landed_at
            && self.probes.load(Ordering::Acquire) <= self.probes_landed_at.load(Ordering::Acquire)
    }

    /// Waits until the flight lands or `limit` has passed since it took off, and says
    /// how long it flew (at most `limit`).
    pub(crate) async fn landing(&self, limit: Duration) -> Duration {
        let deadline = self.started + limit;
        loop {
            let landed = self.landed.notified();
            if self.has_landed() {
                return self.started.elapsed().min(limit);
            }
            if tokio::time::timeout_at(deadline, landed).await.is_err() {
                return limit;
            }
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let flight = &self.0;
        if flight.left.fetch_sub(1, Ordering::AcqRel) - 1 <= flight.landed_at {
            flight.landed.notify_one();
        }
    }
}

impl Drop for Probe {
    fn drop(&mut self) {
        let flight = &self.0;
        let left = flight.probes.fetch_sub(1, Ordering::AcqRel) - 1;
        if left <= flight.probes_landed_at.load(Ordering::Acquire) {
            flight.landed.notify_one();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn a_flight_lands_when_its_tickets_are_dropped_bar_the_stragglers() {
        let flight = Flight::new(128);
        let mut tickets: Vec<Ticket> = (0..128).map(|_| flight.ticket()).collect();
        tokio::time::advance(Duration::from_millis(7)).await;
        tickets.truncate(3);
        assert!(!flight.has_landed(), "3 of 128 still on their way");
        // 126 frames delivered, 2 stragglers (128 / 64) still on their way.
        tickets.truncate(2);
        let limit = Duration::from_secs(1);
        assert_eq!(flight.landing(limit).await, Duration::from_millis(7));
        drop(tickets);
    }

    #[tokio::test(start_paused = true)]
    async fn a_small_flight_lands_with_one_straggler_but_not_two() {
        let flight = Flight::new(3);
        let mut tickets: Vec<Ticket> = (0..3).map(|_| flight.ticket()).collect();
        let limit = Duration::from_millis(200);
        let landing = tokio::spawn({
            let flight = flight.clone();
            async move { flight.landing(limit).await }
        });
        tokio::time::advance(Duration::from_millis(5)).await;
        tickets.pop();
        tokio::time::advance(Duration::from_millis(5)).await;
        assert!(!landing.is_finished(), "two of three on their way");
        tickets.pop(); // the last one is a straggler: one laptop asleep in a small room
        assert_eq!(landing.await.unwrap(), Duration::from_millis(10));
        drop(tickets);
    }

    #[tokio::test(start_paused = true)]
    async fn probes_hold_a_flight_until_half_of_them_are_back_up_to_the_limit() {
        let limit = Duration::from_millis(200);
        let probed = Flight::new(128);
        let (probe, _slow) = (probed.probe(), probed.probe());
        drop((0..128).map(|_| probed.ticket()).collect::<Vec<_>>());
        let landing = tokio::spawn({
            let flight = probed.clone();
            async move { flight.landing(limit).await }
        });
        tokio::time::advance(Duration::from_millis(30)).await;
        assert!(
            !landing.is_finished(),
            "every frame handed over, none read yet"
        );
        drop(probe);
        assert_eq!(landing.await.unwrap(), Duration::from_millis(30));

        // A socket alone that never reads: its probe never comes back.
        let stuck = Flight::new(1);
        let (_ticket, _probe) = (stuck.ticket(), stuck.probe());
        assert_eq!(stuck.landing(limit).await, limit);
    }
}
