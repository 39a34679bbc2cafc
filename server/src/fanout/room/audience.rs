//! A room's audience: how many sockets watch its poll over every node.
//!
//! Each node counts its own watchers and tells the others on the poll's channel (a
//! [`PollEventKind::Watching`] event) when its count changed, and every
//! [`REFRESH`] as a beat; it adds up what it heard lately. No per-socket rows
//! anywhere: a node costs the room one number, forgotten after [`FORGET`] without a
//! beat (a node that died). The shown count moves on the presence beat only, so a
//! crowd connecting at once costs each socket one frame per beat, not one per arrival.

use std::collections::HashMap;
use std::time::Duration;

use tokio::time::Instant;
use votewire_proto::NodeId;

use super::{PollNow, Room};

/// How often a node repeats an unchanged count.
const REFRESH: Duration = Duration::from_secs(10);
/// How long a node's count stands without a beat.
const FORGET: Duration = Duration::from_secs(30);

/// What a room knows of its watchers elsewhere, and what it showed and told.
#[derive(Default)]
pub(super) struct Audience {
    /// The other nodes' counts, with when each was heard.
    others: HashMap<NodeId, (u64, Instant)>,
    /// The total the watchers were last told (this node's and the others').
    pub(super) shown: u64,
    /// The count this node last told the others, and when.
    told: Option<(u64, Instant)>,
}

impl Audience {
    /// Notes `count` watchers on `node`. A node not heard lately has just come to the
    /// poll and missed this node's count: it is told at the next beat, not at the next
    /// refresh (up to [`REFRESH`] later, while its watchers show too few).
    pub(super) fn heard(&mut self, node: &NodeId, count: u64, now: Instant) {
        if self.others.insert(node.clone(), (count, now)).is_none() {
            self.told = None;
        }
    }

    /// Adds `local` to the counts heard lately (forgetting the stale ones); true when
    /// the total changed.
    fn recount(&mut self, local: u64, now: Instant) -> bool {
        self.others
            .retain(|_, (_, at)| now.duration_since(*at) < FORGET);
        let total = local + self.others.values().map(|(count, _)| count).sum::<u64>();
        let changed = total != self.shown;
        self.shown = total;
        changed
    }

    /// The count to tell the others now: `local` when it changed or a beat is due.
    fn count_to_tell(&mut self, local: u64, now: Instant) -> Option<u64> {
        let due = match self.told {
            Some((told, at)) => told != local || now.duration_since(at) >= REFRESH,
            None => true,
        };
        due.then(|| {
            self.told = Some((local, now));
            local
        })
    }
}

impl Room {
    /// The presence beat: brings the shown total up to date (the watchers get it with
    /// their next frame) and says what this node should tell the others, with the
    /// room's status and tally for the event. Nothing to tell before the room has a
    /// tally.
    pub(in crate::fanout) fn audience_beat(&self) -> Option<(u64, PollNow)> {
        let now = Instant::now();
        let told = {
            let mut state = self.lock();
            let local = state.watchers as u64;
            if state.audience.recount(local, now) {
                state.mark_pending();
            }
            let held = state.now()?;
            state
                .audience
                .count_to_tell(local, now)
                .map(|count| (count, held))
        };
        self.wake.notify_one();
        told
    }

    /// How many sockets watch the poll over every node, as last counted.
    pub(in crate::fanout) fn audience(&self) -> u64 {
        self.lock().audience.shown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(id: &str) -> NodeId {
        NodeId::parse(id).unwrap()
    }

    #[test]
    fn the_total_adds_the_nodes_heard_lately_and_forgets_the_silent() {
        let start = Instant::now();
        let mut audience = Audience::default();
        audience.heard(&node("b"), 3, start);
        audience.heard(&node("c"), 4, start + Duration::from_secs(20));
        assert!(audience.recount(2, start + Duration::from_secs(21)));
        assert_eq!(audience.shown, 9);
        assert!(
            !audience.recount(2, start + Duration::from_secs(22)),
            "no change"
        );
        // b's count is older than FORGET: b is gone.
        assert!(audience.recount(2, start + FORGET + Duration::from_secs(1)));
        assert_eq!(audience.shown, 6);
        audience.heard(&node("c"), 1, start + Duration::from_secs(40));
        assert!(audience.recount(2, start + Duration::from_secs(41)));
        assert_eq!(audience.shown, 3);
    }

    #[test]
    fn a_node_new_to_the_poll_is_told_this_nodes_count_at_the_next_beat() {
        let start = Instant::now();
        let mut audience = Audience::default();
        assert_eq!(audience.count_to_tell(1, start), Some(1));
        assert_eq!(
            audience.count_to_tell(1, start + Duration::from_secs(2)),
            None
        );
        // b joins the poll after this node's first beat: it never heard the count.
        audience.heard(&node("b"), 1, start + Duration::from_secs(3));
        assert_eq!(
            audience.count_to_tell(1, start + Duration::from_secs(4)),
            Some(1),
            "told again at once, not after REFRESH"
        );
        // b's next beats change nothing: it is known now.
        audience.heard(&node("b"), 1, start + Duration::from_secs(5));
        assert_eq!(
            audience.count_to_tell(1, start + Duration::from_secs(6)),
            None
        );
    }

    #[test]
    fn a_node_tells_a_changed_count_at_once_and_an_unchanged_one_every_refresh() {
        let start = Instant::now();
        let mut audience = Audience::default();
        assert_eq!(audience.count_to_tell(5, start), Some(5));
        assert_eq!(
            audience.count_to_tell(5, start + Duration::from_secs(2)),
            None
        );
        assert_eq!(
            audience.count_to_tell(6, start + Duration::from_secs(4)),
            Some(6)
        );
        assert_eq!(
            audience.count_to_tell(6, start + Duration::from_secs(6)),
            None
        );
        assert_eq!(
            audience.count_to_tell(6, start + REFRESH + Duration::from_secs(4)),
            Some(6)
        );
    }
}
