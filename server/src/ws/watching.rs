//! The polls one socket watches, each with the highest tally version it was sent.
//!
//! A socket's versions never go down: a frame made from the room before a newer
//! snapshot was read (the read saw commits whose bus events had not reached this node
//! yet) can still be waiting in the outbox when the snapshot goes out, and must then be
//! dropped, not sent after it.

use votewire_proto::PollId;

/// A poll this socket watches.
struct Watched {
    poll: PollId,
    /// The highest tally version sent on this socket.
    shown: u64,
}

/// The polls watched: a handful at most (`--ws-max-subscriptions`), so a list costs an
/// idle socket less memory than a hash map and is as quick to search.
#[derive(Default)]
pub(super) struct Watching {
    polls: Vec<Watched>,
}

impl Watching {
    pub(super) fn contains(&self, poll: &PollId) -> bool {
        self.polls.iter().any(|w| w.poll == *poll)
    }

    pub(super) fn len(&self) -> usize {
        self.polls.len()
    }

    /// Starts watching `poll` (nothing sent yet); no-op when it is watched already.
    pub(super) fn add(&mut self, poll: &PollId) {
        if !self.contains(poll) {
            // One at a time: a first push would make room for four, and most sockets
            // watch one poll.
            self.polls.reserve_exact(1);
            self.polls.push(Watched {
                poll: poll.clone(),
                shown: 0,
            });
        }
    }

    /// Stops watching `poll`; false when it was not watched.
    pub(super) fn remove(&mut self, poll: &PollId) -> bool {
        let index = self.polls.iter().position(|w| w.poll == *poll);
        if let Some(index) = index {
            self.polls.swap_remove(index);
        }
        index.is_some()
    }

    /// Notes that the client shows `poll` at `version` (a snapshot sent, or the client
    /// up to date at the version it resubscribed from).
    pub(super) fn shown(&mut self, poll: &PollId, version: u64) {
        if let Some(watched) = self.polls.iter_mut().find(|w| w.poll == *poll) {
            watched.shown = watched.shown.max(version);
        }
    }

    /// Whether a frame of `poll` at `version` may go out (and notes it as shown): not
    /// for a poll no longer watched, nor older than what was sent.
    pub(super) fn admit(&mut self, poll: &PollId, version: u64) -> bool {
        match self.polls.iter_mut().find(|w| w.poll == *poll) {
            Some(watched) if version >= watched.shown => {
                watched.shown = version;
                true
            }
            _ => false,
        }
    }

    /// Every poll watched, emptying the list.
    pub(super) fn drain(&mut self) -> Vec<PollId> {
        self.polls.drain(..).map(|w| w.poll).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(id: &str) -> PollId {
        PollId::parse(id).unwrap()
    }

    #[test]
    fn a_frame_older_than_the_snapshot_is_dropped_and_an_equal_one_sent() {
        let mut watching = Watching::default();
        watching.add(&poll("a"));
        watching.shown(&poll("a"), 17);
        assert!(!watching.admit(&poll("a"), 13));
        // A `closed` frame keeps the version of the last update.
        assert!(watching.admit(&poll("a"), 17));
        assert!(watching.admit(&poll("a"), 18));
        assert!(!watching.admit(&poll("a"), 17));
    }

    #[test]
    fn frames_of_polls_not_watched_are_dropped() {
        let mut watching = Watching::default();
        assert!(!watching.admit(&poll("a"), 1));
        watching.add(&poll("a"));
        watching.add(&poll("a"));
        assert_eq!(watching.len(), 1);
        assert!(watching.remove(&poll("a")));
        assert!(!watching.remove(&poll("a")));
        assert!(!watching.admit(&poll("a"), 2));
    }

    #[test]
    fn a_resubscribe_from_an_older_version_does_not_lower_what_was_shown() {
        let mut watching = Watching::default();
        watching.add(&poll("a"));
        watching.shown(&poll("a"), 9);
        watching.shown(&poll("a"), 4);
        assert!(!watching.admit(&poll("a"), 8));
        assert_eq!(watching.drain(), vec![poll("a")]);
        assert!(!watching.contains(&poll("a")));
    }
}
